-- The bid register: receipts and withdrawals of bids, a hash chain of its own per tender
-- (hashed with "<tender id>/bids" in place of the tender id), so that the tender's ledger,
-- which members see before the deadline, holds nothing from which bids can be counted.
-- At the deadline the ledger's bids_sealed event names the register's head.
CREATE TABLE bid_register_events (
    tender_id  TEXT NOT NULL REFERENCES tenders(id),
    seq        BIGINT  NOT NULL,
    at         BIGINT  NOT NULL,
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    body       TEXT NOT NULL,              -- canonical JSON
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (tender_id, seq)
);
