-- After the contract: acceptance (履约验收) in rounds with their remedies, and payment
-- requests with their decisions and payments (R-PAY-1); in src/acceptance and src/payment.

CREATE TABLE acceptances (
    id               TEXT PRIMARY KEY,
    contract_id      TEXT NOT NULL REFERENCES contracts(id),
    tender_id        TEXT NOT NULL REFERENCES tenders(id),
    round            BIGINT NOT NULL,
    -- The report as the purchaser signs it (JSON, its evidence by SHA-256) and its digest.
    document         TEXT NOT NULL,
    document_sha256  TEXT NOT NULL,
    -- draft | passed | failed
    status           TEXT NOT NULL,
    recorded_by      TEXT NOT NULL REFERENCES users(id),
    recorded_at      BIGINT NOT NULL,
    signed_by        TEXT REFERENCES users(id),
    key_id           TEXT,
    signature        TEXT,
    signed_at        BIGINT,
    UNIQUE (contract_id, round)
);
CREATE INDEX acceptances_passed ON acceptances(status, signed_at);

-- Opened by a failed round; the supplier's answer; closed by the next passed round.
CREATE TABLE acceptance_remedies (
    acceptance_id  TEXT PRIMARY KEY REFERENCES acceptances(id),
    contract_id    TEXT NOT NULL REFERENCES contracts(id),
    opened_at      BIGINT NOT NULL,
    reply          TEXT,
    replied_by     TEXT REFERENCES users(id),
    replied_at     BIGINT,
    closed_at      BIGINT
);

CREATE TABLE payment_requests (
    id            TEXT PRIMARY KEY,
    contract_id   TEXT NOT NULL REFERENCES contracts(id),
    tender_id     TEXT NOT NULL REFERENCES tenders(id),
    amount_fen    BIGINT NOT NULL,
    note          TEXT NOT NULL,
    -- requested | approved | rejected | paid
    status        TEXT NOT NULL,
    requested_by  TEXT NOT NULL REFERENCES users(id),
    requested_at  BIGINT NOT NULL,
    decided_by    TEXT REFERENCES users(id),
    decided_at    BIGINT,
    reason        TEXT,
    paid_by       TEXT REFERENCES users(id),
    paid_at       BIGINT,
    -- The day the money left (YYYY-MM-DD) and the bank's reference.
    paid_on       TEXT,
    reference     TEXT
);
CREATE INDEX payment_requests_contract ON payment_requests(contract_id);
