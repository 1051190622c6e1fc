-- Documents alike across tenders (docs/collusion.md "Across tenders"): the MinHash
-- signature of each bidder's own text in an opened tender and its LSH band keys, and
-- which opened tenders were read for them. Written by src/collusion after the opening
-- (never before: the texts are those the opening decrypted), read by it only.
CREATE TABLE text_signatures (
    tender_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    bid_id TEXT NOT NULL,
    shingles BIGINT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (tender_id, org_id)
);
CREATE TABLE text_bands (
    band BIGINT NOT NULL,
    tender_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    PRIMARY KEY (band, tender_id, org_id)
);
CREATE INDEX text_bands_tender ON text_bands (tender_id);
CREATE TABLE text_indexed (
    tender_id TEXT PRIMARY KEY,
    indexed_at BIGINT NOT NULL
);
