-- The order bids are read out in (唱标顺序, docs/opening.md "Reading-out order"), as the
-- tender states it: 'receipt' or 'draw'. Written by src/tender, read by src/opening.
ALTER TABLE tenders ADD COLUMN reading_order TEXT NOT NULL DEFAULT 'receipt';
