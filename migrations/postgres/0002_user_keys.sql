-- Users' public keys with the certificates the platform CA issued for them.
CREATE TABLE user_keys (
    key_id         TEXT PRIMARY KEY,        -- hex SHA-256 of the SEC1 public key
    user_id        TEXT NOT NULL REFERENCES users(id),
    purpose        TEXT NOT NULL,           -- signing | encryption
    public_key     TEXT NOT NULL,           -- SEC1 uncompressed, base64url
    status         TEXT NOT NULL,           -- active | superseded | revoked
    serial         TEXT NOT NULL,
    not_before     BIGINT NOT NULL,
    not_after      BIGINT NOT NULL,
    cert_pem       TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoke_reason  TEXT
);
CREATE INDEX user_keys_user ON user_keys(user_id, purpose, status);
