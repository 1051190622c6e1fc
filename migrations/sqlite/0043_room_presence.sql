-- Who is connected to each live room at each node, when several nodes share one
-- PostgreSQL (docs/nodes.md, "Presence"): a node's room writes its own row when its people
-- come and go, the node refreshes seen_at of all its rows every few seconds, and the other
-- nodes' rooms read the rows of theirs that changed. A row not seen for a few heartbeats
-- is a stopped node's and is ignored, then removed. Written and read by src/hub only.
-- Presence, not a record: on PostgreSQL the table is unlogged (not in the write-ahead log
-- or a replica, emptied after a crash), as it should be.
CREATE TABLE room_presence (
    node_id TEXT NOT NULL,
    room TEXT NOT NULL,
    -- This node's room task (a room that ends and starts again is another instance): a
    -- room ending removes its own row, never its successor's.
    instance TEXT NOT NULL,
    -- JSON: [[user id, {entry, hidden}], …], as src/hub/presence.rs writes it.
    members TEXT NOT NULL,
    changed_at BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (node_id, room)
);
CREATE INDEX room_presence_room ON room_presence (room);
