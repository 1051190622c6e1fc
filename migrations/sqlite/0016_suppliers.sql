-- Supplier self-registration, the signed credit commitment (信用承诺书) and the credit
-- records that bar a supplier from bidding (src/supplier, R-CRED-1, R-CHAL-4).

-- 'admin' (made by the platform's administrator) or 'self' (registered online).
ALTER TABLE organisations ADD COLUMN registered_via TEXT NOT NULL DEFAULT 'admin';

CREATE TABLE supplier_commitments (
    org_id          TEXT PRIMARY KEY REFERENCES organisations(id),
    user_id         TEXT NOT NULL REFERENCES users(id),
    key_id          TEXT NOT NULL,
    version         TEXT NOT NULL,
    payload         TEXT NOT NULL,
    signature       TEXT NOT NULL,
    signed_at       INTEGER NOT NULL
);

CREATE TABLE credit_records (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organisations(id),
    list         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    from_at      INTEGER NOT NULL,
    until_at     INTEGER,
    recorded_by  TEXT NOT NULL REFERENCES users(id),
    recorded_at  INTEGER NOT NULL
);
CREATE INDEX credit_records_org ON credit_records(org_id);

-- Every check of a supplier's standing when it starts a bid, with its result.
CREATE TABLE credit_checks (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organisations(id),
    tender_id  TEXT NOT NULL,
    at         INTEGER NOT NULL,
    result     TEXT NOT NULL,
    lists      TEXT NOT NULL
);
CREATE INDEX credit_checks_org ON credit_checks(org_id, at);
