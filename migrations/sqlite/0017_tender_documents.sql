-- Who obtained a tender's documents (获取采购文件, secret before the opening: R-DOC-3) and
-- the suppliers' questions with the agency's answers (答疑澄清, R-CHAL-1), in src/documents.

CREATE TABLE document_holders (
    tender_id    TEXT NOT NULL REFERENCES tenders(id),
    org_id       TEXT NOT NULL REFERENCES organisations(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    obtained_at  INTEGER NOT NULL,
    PRIMARY KEY (tender_id, org_id)
);

CREATE TABLE tender_questions (
    id            TEXT PRIMARY KEY,
    tender_id     TEXT NOT NULL REFERENCES tenders(id),
    org_id        TEXT NOT NULL REFERENCES organisations(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    text          TEXT NOT NULL,
    asked_at      INTEGER NOT NULL,
    reply_due_at  INTEGER NOT NULL,
    answer        TEXT,
    answered_by   TEXT REFERENCES users(id),
    answered_at   INTEGER
);
CREATE INDEX tender_questions_tender ON tender_questions(tender_id, asked_at);
