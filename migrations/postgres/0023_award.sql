-- After the award (R-AWARD-1): the result notice and the letters to the bidders, each as
-- signed by the platform (JSON: document, digest, signature, certificates); in src/award.

CREATE TABLE result_notices (
    tender_id          TEXT PRIMARY KEY REFERENCES tenders(id),
    notice             TEXT NOT NULL,
    notice_sha256      TEXT NOT NULL,
    published_by       TEXT NOT NULL REFERENCES users(id),
    published_at       BIGINT NOT NULL,
    publicity_ends_at  BIGINT NOT NULL
);

CREATE TABLE result_letters (
    tender_id      TEXT NOT NULL REFERENCES tenders(id),
    org_id         TEXT NOT NULL REFERENCES organisations(id),
    -- award (中标/成交通知书) | result (结果通知书)
    kind           TEXT NOT NULL,
    letter         TEXT NOT NULL,
    letter_sha256  TEXT NOT NULL,
    PRIMARY KEY (tender_id, org_id)
);
