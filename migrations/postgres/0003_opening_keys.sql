-- Each published tender's opening key: the public key and Feldman commitments, and the
-- private scalar's shares, each HPKE-sealed to its custodian. The private key itself is
-- never stored.
CREATE TABLE tender_opening_keys (
    tender_id    TEXT PRIMARY KEY REFERENCES tenders(id),
    public_key   TEXT NOT NULL,             -- SEC1 uncompressed, base64url
    key_id       TEXT NOT NULL,             -- hex SHA-256 of the SEC1 key
    threshold    BIGINT NOT NULL,
    commitments  TEXT NOT NULL,             -- JSON array of base64url SEC1 points
    created_at   BIGINT NOT NULL
);

CREATE TABLE tender_key_shares (
    tender_id          TEXT NOT NULL REFERENCES tenders(id),
    share_index        BIGINT NOT NULL,
    custodian_user_id  TEXT NOT NULL REFERENCES users(id),
    custodian_key_id   TEXT NOT NULL,
    sealed             TEXT NOT NULL,        -- JSON {enc, ct}, base64url
    PRIMARY KEY (tender_id, share_index)
);
