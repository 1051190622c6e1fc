-- A plan's hash chain (src/ledger, chain id "plan:<plan id>"): its filing, intention,
-- approvals and what tenders drew from it, as a tender's ledger_events.
CREATE TABLE plan_events (
    plan_id    TEXT NOT NULL REFERENCES procurement_plans(id),
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    body       TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (plan_id, seq)
);
