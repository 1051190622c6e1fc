-- Collusion warnings (R-COL): the supervisors' decisions on the findings computed after
-- the opening, and their own chain (warning_events, as the bid register's), read by
-- supervisors only; in src/collusion.

CREATE TABLE collusion_decisions (
    tender_id    TEXT NOT NULL REFERENCES tenders(id),
    warning_key  TEXT NOT NULL,
    rule         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    -- The bids it concerns (JSON array of bid ids).
    bids         TEXT NOT NULL,
    -- confirmed | dismissed
    status       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    decided_by   TEXT NOT NULL REFERENCES users(id),
    decided_at   INTEGER NOT NULL,
    PRIMARY KEY (tender_id, warning_key)
);

CREATE TABLE warning_events (
    tender_id  TEXT NOT NULL REFERENCES tenders(id),
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    body       TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (tender_id, seq)
);
