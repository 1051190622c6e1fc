-- The per-evaluation key of the pseudonyms that name experts and organisations in the
-- public draw record and the experts' ledger events (R-EVAL-2): made when the draw is
-- requested (its SHA-256 is in that event), revealed at the award. Hex, 64 characters.
ALTER TABLE evaluations ADD COLUMN pseudonym_key TEXT;
