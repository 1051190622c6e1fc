-- The archive of the rooms' channels (互动区, docs/chat.md): every message with its author
-- and audience; the tender's ledger has each by its digest. Written and read by src/chat.
CREATE TABLE room_messages (
    id             TEXT PRIMARY KEY,
    tender_id      TEXT NOT NULL REFERENCES tenders(id),
    room           TEXT NOT NULL,
    author_user_id TEXT NOT NULL REFERENCES users(id),
    author_role    TEXT NOT NULL,
    author_label   TEXT NOT NULL,
    -- The bidder's organisation of a question; for a private answer, the one answered.
    org_id         TEXT REFERENCES organisations(id),
    audience       TEXT NOT NULL,
    reply_to       TEXT REFERENCES room_messages(id),
    text           TEXT NOT NULL,
    text_sha256    TEXT NOT NULL,
    posted_at      INTEGER NOT NULL
);
CREATE INDEX room_messages_room ON room_messages (tender_id, room, posted_at);
CREATE INDEX room_messages_author ON room_messages (author_user_id, posted_at);
