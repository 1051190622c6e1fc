-- Which node runs each room's media (its SFU), when several nodes share one PostgreSQL
-- (docs/nodes.md, "Media rooms"): the first node a participant joins at claims the room;
-- a participant connected to another node has its signalling relayed there over a link
-- between the nodes. The owner refreshes seen_at every few seconds while the room has
-- people and removes its row when the room empties; a row not seen for 15 s is a stopped
-- node's and the next joiner takes it. Written and read by src/hub/relay.rs only; not a
-- record, so unlogged, as room_presence.
CREATE UNLOGGED TABLE media_owner (
    room TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    -- Where the other nodes reach the owner (its --node-url).
    url TEXT NOT NULL,
    seen_at BIGINT NOT NULL
);
