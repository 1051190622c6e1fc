-- Bid deposits (投标保证金, R-DEP-1): the amount a tender asks (at most 2% of its budget),
-- each supplier's deposit — a payment or an electronic guarantee (电子保函) — and its
-- refund; in src/deposit (the rules) and src/deposits (recording and refunds).

ALTER TABLE tenders ADD COLUMN deposit_fen BIGINT;

CREATE TABLE bid_deposits (
    tender_id     TEXT NOT NULL REFERENCES tenders(id),
    org_id        TEXT NOT NULL REFERENCES organisations(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    -- payment | guarantee
    kind          TEXT NOT NULL,
    amount_fen    BIGINT NOT NULL,
    -- A payment: the paying account (its number digits only, for R-COL-6) and the
    -- transfer's reference.
    payer_name    TEXT,
    bank          TEXT,
    account_no    TEXT,
    transfer_ref  TEXT,
    -- A guarantee, as declared: its issuer, number and end of validity.
    issuer        TEXT,
    guarantee_no  TEXT,
    valid_until   BIGINT,
    recorded_at   BIGINT NOT NULL,
    refunded_at   BIGINT,
    refunded_by   TEXT REFERENCES users(id),
    refund_ref    TEXT,
    PRIMARY KEY (tender_id, org_id)
);
-- R-COL-6: deposits paid from the same account.
CREATE INDEX bid_deposits_account ON bid_deposits(account_no);
