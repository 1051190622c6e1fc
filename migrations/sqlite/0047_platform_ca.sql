-- The platform CA every node must hold (src/pki/repo.rs, `same_ca`): recorded by the
-- first node to start on the database; a node with another CA refuses to start.
CREATE TABLE platform_ca (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    ca_sha256 TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
