-- The acceptance panel (验收小组): the experts, the agency's staff or the purchasing
-- unit's colleagues a report names, each of whom signs it with the purchaser; the report
-- takes effect (passed or failed) with the last signature. In src/acceptance.
CREATE TABLE acceptance_signers (
    acceptance_id  TEXT NOT NULL REFERENCES acceptances(id),
    user_id        TEXT NOT NULL REFERENCES users(id),
    -- purchaser | member
    kind           TEXT NOT NULL,
    -- The member's place in the report's list (the purchaser: 0).
    position       INTEGER NOT NULL,
    key_id         TEXT,
    signature      TEXT,
    signed_at      INTEGER,
    PRIMARY KEY (acceptance_id, user_id)
);
CREATE INDEX acceptance_signers_user ON acceptance_signers(user_id, signed_at);
