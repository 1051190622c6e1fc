-- One row that /healthz writes, in a transaction like every change: a node whose disk is
-- full or whose database is read-only or locked answers 503 instead of ok.
CREATE TABLE health_probe (
    id  INTEGER PRIMARY KEY,
    at  INTEGER NOT NULL
);
INSERT INTO health_probe (id, at) VALUES (1, 0);
