-- Login attempts under way (docs/nodes.md, "Login attempts"): an attempt that passed the
-- throttle is counted as a failure from the moment it passes until its outcome is in the
-- audit log, so that guesses sent to several nodes at once cannot all pass the same count.
-- Written and read by src/auth only; rows live for the length of a password check (a row
-- older than a minute is a killed node's and is not counted); not a record, so unlogged.
CREATE UNLOGGED TABLE login_attempts (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    ip TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username, at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);
