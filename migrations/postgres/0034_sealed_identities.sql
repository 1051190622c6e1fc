-- Who stood behind each bidder when a tender's bids were sealed (R-COL-7): the
-- declarations of org_identities copied at the deadline, one row per bidder (NULLs where
-- it had declared nothing), so that a declaration changed between the deadline and the
-- opening does not change the warnings. Written by src/opening (sealing) through
-- src/supplier; read by src/collusion.
CREATE TABLE sealed_identities (
    tender_id         TEXT NOT NULL REFERENCES tenders(id),
    org_id            TEXT NOT NULL REFERENCES organisations(id),
    legal_rep_name    TEXT,
    legal_rep_tag     TEXT,
    controller_name   TEXT,
    controller_key    TEXT,
    sealed_at         BIGINT NOT NULL,
    PRIMARY KEY (tender_id, org_id)
);
