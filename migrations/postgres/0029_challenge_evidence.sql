-- Evidence files of challenges and complaints (R-CHAL-2/3): a JSON list of
-- {seq, name, media_type, size, sha256}, the files in the blob store; their SHA-256 are in
-- the signed statement.
ALTER TABLE challenges ADD COLUMN evidence TEXT NOT NULL DEFAULT '[]';
ALTER TABLE complaints ADD COLUMN evidence TEXT NOT NULL DEFAULT '[]';
