-- The opening (开标), docs/opening.md. Each change here is written in the same transaction
-- as its ledger event; a restarted server resumes from these rows.
CREATE TABLE openings (
    tender_id        TEXT PRIMARY KEY REFERENCES tenders(id),
    phase            TEXT NOT NULL,      -- decrypting | unsealing | revealing | confirming | closed | failed
    host_user_id     TEXT NOT NULL REFERENCES users(id),
    started_at       INTEGER NOT NULL,
    decrypt_ends_at  INTEGER NOT NULL,
    unsealing_since  INTEGER,
    overdue_alerted  INTEGER NOT NULL DEFAULT 0,
    confirm_ends_at  INTEGER,
    closed_at        INTEGER,
    lots             TEXT NOT NULL,      -- JSON: each lot's quorum at the start, then after revealing
    record           TEXT                -- the signed record, JSON, once closed
);

-- One row per bid in the opening. `kb` (base64url) is kept from the bidder's decryption
-- until revealing; it opens nothing without `kt`, which needs t custodians' shares.
CREATE TABLE opening_bids (
    bid_id           TEXT PRIMARY KEY REFERENCES bids(id),
    tender_id        TEXT NOT NULL REFERENCES tenders(id),
    position         INTEGER NOT NULL,   -- reading-out order
    lot_no           INTEGER NOT NULL,
    bidder_org_id    TEXT NOT NULL REFERENCES organisations(id),
    decrypt_status   TEXT NOT NULL,      -- pending | decrypted | failed
    decrypted_at     INTEGER,
    kb               TEXT,
    result           TEXT,               -- read_out | invalid | lot_failed
    sheet            TEXT,               -- JSON opening sheet once read out
    cause            TEXT,               -- JSON {code, message, deemed} when invalid
    revealed_at      INTEGER
);
CREATE INDEX opening_bids_tender ON opening_bids(tender_id, position);

CREATE TABLE opening_shares (
    tender_id          TEXT NOT NULL REFERENCES tenders(id),
    share_index        INTEGER NOT NULL,
    custodian_user_id  TEXT NOT NULL REFERENCES users(id),
    value              TEXT NOT NULL,    -- hex scalar, checked against the commitments
    submitted_at       INTEGER NOT NULL,
    PRIMARY KEY (tender_id, share_index)
);

CREATE TABLE opening_confirmations (
    tender_id      TEXT NOT NULL REFERENCES tenders(id),
    bidder_org_id  TEXT NOT NULL REFERENCES organisations(id),
    user_id        TEXT NOT NULL REFERENCES users(id),
    confirmed_at   INTEGER NOT NULL,
    PRIMARY KEY (tender_id, bidder_org_id)
);

CREATE TABLE opening_objections (
    id             TEXT PRIMARY KEY,
    tender_id      TEXT NOT NULL REFERENCES tenders(id),
    bidder_org_id  TEXT NOT NULL REFERENCES organisations(id),
    user_id        TEXT NOT NULL REFERENCES users(id),
    kind           TEXT NOT NULL,        -- question | recusal
    text           TEXT NOT NULL,
    raised_at      INTEGER NOT NULL,
    answer         TEXT,
    answered_by    TEXT REFERENCES users(id),
    answered_at    INTEGER
);
CREATE INDEX opening_objections_tender ON opening_objections(tender_id, raised_at);
