-- Sealed bids. The server holds ciphertext only (a blob named by its SHA-256); these rows
-- hold hashes, sizes and the submission context, never content.
CREATE TABLE bids (
    id                  TEXT PRIMARY KEY,
    tender_id           TEXT NOT NULL REFERENCES tenders(id),
    lot_no              BIGINT NOT NULL,
    bidder_org_id       TEXT NOT NULL REFERENCES organisations(id),
    submitted_by        TEXT NOT NULL REFERENCES users(id),
    status              TEXT NOT NULL,     -- uploading | submitted | replaced | withdrawn | rejected | late
    expected_size       BIGINT NOT NULL,    -- final size, set on completion
    received            BIGINT NOT NULL,
    bidder_key_id       TEXT NOT NULL,
    tender_key_id       TEXT NOT NULL,
    ciphertext_sha256   TEXT,
    header_sha256       TEXT,
    kb_sha256           TEXT,
    receipt             TEXT,              -- the signed receipt, JSON
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    submitted_at        BIGINT,
    withdrawn_at        BIGINT,
    client_ip           TEXT NOT NULL,
    user_agent          TEXT NOT NULL,
    device_fingerprint  TEXT NOT NULL,
    documents_meta      TEXT NOT NULL      -- JSON, as the supplier's side extracted it
);
CREATE INDEX bids_tender ON bids(tender_id, lot_no, bidder_org_id, status);
