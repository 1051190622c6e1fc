-- Challenges (质疑) to the agency and complaints (投诉) to finance against a tender's
-- result (R-CHAL-2..4): each signed by the supplier's device key; the answers, the
-- examination, a suspension and the decision; in src/challenge.

CREATE TABLE challenges (
    id              TEXT PRIMARY KEY,
    tender_id       TEXT NOT NULL REFERENCES tenders(id),
    org_id          TEXT NOT NULL REFERENCES organisations(id),
    filed_by        TEXT NOT NULL REFERENCES users(id),
    grounds         TEXT NOT NULL,
    grounds_sha256  TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    signature       TEXT NOT NULL,
    filed_at        INTEGER NOT NULL,
    reply_due_at    INTEGER NOT NULL,
    -- open | answered
    status          TEXT NOT NULL,
    reply           TEXT,
    upheld          INTEGER,
    replied_by      TEXT REFERENCES users(id),
    replied_at      INTEGER
);
CREATE INDEX challenges_tender ON challenges(tender_id, filed_at);
CREATE INDEX challenges_due ON challenges(status, reply_due_at);

CREATE TABLE complaints (
    id               TEXT PRIMARY KEY,
    challenge_id     TEXT NOT NULL UNIQUE REFERENCES challenges(id),
    tender_id        TEXT NOT NULL REFERENCES tenders(id),
    org_id           TEXT NOT NULL REFERENCES organisations(id),
    filed_by         TEXT NOT NULL REFERENCES users(id),
    grounds          TEXT NOT NULL,
    grounds_sha256   TEXT NOT NULL,
    key_id           TEXT NOT NULL,
    signature        TEXT NOT NULL,
    filed_at         INTEGER NOT NULL,
    examine_due_at   INTEGER NOT NULL,
    -- filed | accepted | rejected | decided
    status           TEXT NOT NULL,
    reason           TEXT,
    accepted_at      INTEGER,
    decision_due_at  INTEGER,
    suspended_until  INTEGER,
    -- upheld | groundless
    outcome          TEXT,
    decision         TEXT,
    decided_by       TEXT REFERENCES users(id),
    decided_at       INTEGER
);
CREATE INDEX complaints_tender ON complaints(tender_id, filed_at);
CREATE INDEX complaints_org ON complaints(org_id, outcome, decided_at);
CREATE INDEX complaints_due ON complaints(status, examine_due_at);
