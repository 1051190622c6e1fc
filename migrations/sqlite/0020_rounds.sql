-- Rounds of offers (多轮报价) in competitive negotiation and consultation (R-METH-2): the
-- suppliers still in, the panel's written notices to all of them, each round with its
-- deadline, and each supplier's offer in a round, sealed like a bid (KB1) and opened with
-- the others when the round has closed; in src/rounds.

CREATE TABLE negotiations (
    tender_id     TEXT PRIMARY KEY REFERENCES tenders(id),
    -- negotiating | finished
    status        TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    started_by    TEXT NOT NULL REFERENCES users(id),
    finished_at   INTEGER,
    -- The final offers and, for a lowest-price method, the ranking (JSON).
    result        TEXT
);

CREATE TABLE negotiation_suppliers (
    tender_id     TEXT NOT NULL REFERENCES tenders(id),
    org_id        TEXT NOT NULL REFERENCES organisations(id),
    bid_id        TEXT NOT NULL,
    lot_no        INTEGER NOT NULL,
    -- in | withdrawn
    status        TEXT NOT NULL,
    withdrawn_at  INTEGER,
    PRIMARY KEY (tender_id, org_id)
);

CREATE TABLE negotiation_notices (
    id            TEXT PRIMARY KEY,
    tender_id     TEXT NOT NULL REFERENCES tenders(id),
    notice_no     INTEGER NOT NULL,
    text          TEXT NOT NULL,
    issued_by     TEXT NOT NULL REFERENCES users(id),
    issued_at     INTEGER NOT NULL,
    UNIQUE (tender_id, notice_no)
);

CREATE TABLE offer_rounds (
    tender_id        TEXT NOT NULL REFERENCES tenders(id),
    round_no         INTEGER NOT NULL,
    is_final         INTEGER NOT NULL,
    -- open | decrypting | revealed
    status           TEXT NOT NULL,
    opened_by        TEXT NOT NULL REFERENCES users(id),
    opened_at        INTEGER NOT NULL,
    closes_at        INTEGER NOT NULL,
    decrypt_ends_at  INTEGER,
    revealed_at      INTEGER,
    PRIMARY KEY (tender_id, round_no)
);

CREATE TABLE round_offers (
    id                 TEXT PRIMARY KEY,
    tender_id          TEXT NOT NULL REFERENCES tenders(id),
    round_no           INTEGER NOT NULL,
    org_id             TEXT NOT NULL REFERENCES organisations(id),
    lot_no             INTEGER NOT NULL,
    -- awaiting | sealed | none | decrypted | read_out | invalid
    status             TEXT NOT NULL,
    bidder_key_id      TEXT,
    tender_key_id      TEXT NOT NULL,
    ciphertext_sha256  TEXT,
    size               INTEGER,
    kb_sha256          TEXT,
    receipt            TEXT,
    sealed_at          INTEGER,
    kb                 TEXT,
    decrypted_at       INTEGER,
    sheet              TEXT,
    sheet_sha256       TEXT,
    cause              TEXT,
    UNIQUE (tender_id, round_no, org_id)
);
CREATE INDEX round_offers_round ON round_offers(tender_id, round_no);

-- The final offers a negotiation fixed, by bid: the sheet that replaces the response's
-- for the evaluation, or null for a supplier that is out (JSON; src/committee/repo.rs).
ALTER TABLE evaluations ADD COLUMN final_offers TEXT;

-- The record of a negotiation (谈判/协商情况记录): for a single-source purchase above all,
-- the price reasoning and the agreed price, signed by every seated member of the panel.
CREATE TABLE negotiation_minutes (
    tender_id         TEXT PRIMARY KEY REFERENCES tenders(id),
    text              TEXT NOT NULL,
    price_reasoning   TEXT NOT NULL,
    agreed_price_fen  INTEGER NOT NULL,
    sha256            TEXT NOT NULL,
    recorded_by       TEXT NOT NULL REFERENCES users(id),
    recorded_at       INTEGER NOT NULL
);

CREATE TABLE negotiation_minutes_signatures (
    tender_id  TEXT NOT NULL REFERENCES tenders(id),
    expert_id  TEXT NOT NULL,
    seat       INTEGER NOT NULL,
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL,
    signed_at  INTEGER NOT NULL,
    PRIMARY KEY (tender_id, expert_id)
);
