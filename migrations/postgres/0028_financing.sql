-- Contract financing (政采贷): a supplier's application to a bank against a signed
-- contract and the bank's decision with the financing account; in src/financing.

CREATE TABLE financing_applications (
    id               TEXT PRIMARY KEY,
    tender_id        TEXT NOT NULL REFERENCES tenders(id),
    contract_id      TEXT NOT NULL REFERENCES contracts(id),
    supplier_org_id  TEXT NOT NULL REFERENCES organisations(id),
    bank_org_id      TEXT NOT NULL REFERENCES organisations(id),
    amount_fen       BIGINT NOT NULL,
    note             TEXT NOT NULL,
    -- applied | approved | declined
    status           TEXT NOT NULL,
    applied_by       TEXT NOT NULL REFERENCES users(id),
    applied_at       BIGINT NOT NULL,
    decided_by       TEXT REFERENCES users(id),
    decided_at       BIGINT,
    approved_fen     BIGINT,
    -- The account the contract is paid into once approved.
    account_name     TEXT,
    account_no       TEXT,
    reason           TEXT
);
CREATE INDEX financing_contract ON financing_applications(contract_id);
CREATE INDEX financing_bank ON financing_applications(bank_org_id, applied_at);
