-- The network address a supplier obtained the tender's documents from and the one its
-- bid was decrypted from at the opening (R-COL-1 compares them with the sealing's, docs/
-- collusion.md). Written by src/documents and src/opening, read by src/collusion only
-- after the opening; '' where not recorded (before this migration, or outside a request).
ALTER TABLE document_holders ADD COLUMN client_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE opening_bids ADD COLUMN decrypt_ip TEXT NOT NULL DEFAULT '';
