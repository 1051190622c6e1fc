-- How many hub connections each user holds at each node, when several nodes share one
-- PostgreSQL (docs/nodes.md, "Caps"): a node writes a user's count when the user connects
-- (and, within a second, when a connection closes), refreshes seen_at of its rows every
-- few seconds, and admits one more connection only while the user's count here and at the
-- other live nodes is under the cap. A row not seen for a few heartbeats is a stopped
-- node's and is not counted, then removed. Written and read by src/hub/caps.rs only; not
-- a record, so unlogged, as room_presence.
CREATE UNLOGGED TABLE hub_connections (
    node_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (node_id, user_id)
);
CREATE INDEX hub_connections_user ON hub_connections (user_id);
