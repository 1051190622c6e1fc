-- The panel's talk with each supplier apart (分别谈判, 74号 art 31 and 214号 art 19):
-- one thread per supplier in the negotiation, read by that supplier, the panel, the host,
-- the purchaser and the supervisors only; in src/rounds.

CREATE TABLE negotiation_messages (
    id          TEXT PRIMARY KEY,
    tender_id   TEXT NOT NULL REFERENCES tenders(id),
    message_no  INTEGER NOT NULL,
    -- The supplier whose thread it is.
    org_id      TEXT NOT NULL REFERENCES organisations(id),
    -- 1 when the panel (host or seated expert) wrote it, 0 when the supplier did.
    from_panel  INTEGER NOT NULL,
    author      TEXT NOT NULL REFERENCES users(id),
    text        TEXT NOT NULL,
    sent_at     INTEGER NOT NULL,
    UNIQUE (tender_id, message_no)
);
