-- Each opening of a bid's document in the evaluation room's reader (docs/evaluation.md):
-- who (an expert by seat), which document, when. Written and read by src/committee.
CREATE TABLE evaluation_document_reads (
    tender_id   TEXT NOT NULL REFERENCES tenders(id),
    user_id     TEXT NOT NULL REFERENCES users(id),
    seat        INTEGER,
    sha256      TEXT NOT NULL,
    read_at     INTEGER NOT NULL
);
CREATE INDEX evaluation_document_reads_tender ON evaluation_document_reads (tender_id, read_at);
