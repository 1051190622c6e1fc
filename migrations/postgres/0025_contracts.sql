-- Government procurement contracts (R-CON-1..4): one per awarded lot, its document as
-- drafted and adjusted, each party's signature, publication, filing, and the
-- supplementary contracts; in src/contract.

CREATE TABLE contracts (
    id               TEXT PRIMARY KEY,
    tender_id        TEXT NOT NULL REFERENCES tenders(id),
    lot_no           BIGINT NOT NULL,
    purchaser_org_id TEXT NOT NULL REFERENCES organisations(id),
    supplier_org_id  TEXT NOT NULL REFERENCES organisations(id),
    amount_fen       BIGINT NOT NULL,
    -- The document as the parties sign it (JSON) and its canonical digest.
    document         TEXT NOT NULL,
    document_sha256  TEXT NOT NULL,
    -- draft | signed
    status           TEXT NOT NULL,
    award_letter_at  BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    signed_at        BIGINT,
    published_at     BIGINT,
    filed_at         BIGINT,
    UNIQUE (tender_id, lot_no)
);
CREATE INDEX contracts_supplier ON contracts(supplier_org_id);

CREATE TABLE contract_signatures (
    contract_id  TEXT NOT NULL REFERENCES contracts(id),
    -- purchaser | supplier
    party        TEXT NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    key_id       TEXT NOT NULL,
    signature    TEXT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (contract_id, party)
);

CREATE TABLE contract_supplements (
    id           TEXT PRIMARY KEY,
    contract_id  TEXT NOT NULL REFERENCES contracts(id),
    amount_fen   BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    recorded_by  TEXT NOT NULL REFERENCES users(id),
    recorded_at  BIGINT NOT NULL
);
CREATE INDEX contract_supplements_contract ON contract_supplements(contract_id);
