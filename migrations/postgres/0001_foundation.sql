-- Foundation: regions, organisations, users, sessions, audit log, expert pool,
-- tenders with lots, custodians and amendments, and the hash-chained ledger.
-- Times are Unix milliseconds (UTC); flags are 0/1; money is integer fen.

CREATE TABLE regions (
    code     TEXT PRIMARY KEY,
    name_zh  TEXT NOT NULL,
    name_en  TEXT NOT NULL,
    sort     BIGINT  NOT NULL
);

CREATE TABLE organisations (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    credit_code      TEXT NOT NULL UNIQUE,
    region_code      TEXT NOT NULL REFERENCES regions(code),
    enterprise_size  TEXT,
    special_status   TEXT,
    created_at       BIGINT  NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    role           TEXT NOT NULL,
    org_id         TEXT REFERENCES organisations(id),
    password_hash  TEXT NOT NULL,
    disabled       BIGINT  NOT NULL DEFAULT 0,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX users_role ON users(role);

CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,          -- SHA-256 of the token, hex
    user_id       TEXT NOT NULL REFERENCES users(id),
    kind          TEXT NOT NULL,             -- cookie | bearer
    label         TEXT,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    revoked       BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT  NOT NULL,
    user_id     TEXT,
    username    TEXT NOT NULL,
    action      TEXT NOT NULL,
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_username_at ON audit_log(username, at);
CREATE INDEX audit_ip_at ON audit_log(ip, at);

CREATE TABLE experts (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    user_id      TEXT REFERENCES users(id),
    region_code  TEXT NOT NULL REFERENCES regions(code),
    employer     TEXT NOT NULL,
    title        TEXT NOT NULL,
    specialties  TEXT NOT NULL,             -- JSON array of specialty codes
    active       BIGINT  NOT NULL DEFAULT 1,
    created_at   BIGINT  NOT NULL
);

CREATE TABLE tenders (
    id                   TEXT PRIMARY KEY,
    code                 TEXT NOT NULL UNIQUE,
    title                TEXT NOT NULL,
    region_code          TEXT NOT NULL REFERENCES regions(code),
    purchaser_org_id     TEXT NOT NULL REFERENCES organisations(id),
    agency_org_id        TEXT NOT NULL REFERENCES organisations(id),
    category             TEXT NOT NULL,
    method               TEXT NOT NULL,
    status               TEXT NOT NULL,
    description          TEXT NOT NULL,
    clarify_deadline     BIGINT  NOT NULL,
    bid_deadline         BIGINT  NOT NULL,
    decrypt_window_mins  BIGINT  NOT NULL,
    custodian_threshold  BIGINT  NOT NULL,
    created_by           TEXT NOT NULL REFERENCES users(id),
    created_at           BIGINT  NOT NULL,
    updated_at           BIGINT  NOT NULL,
    published_at         BIGINT,
    version              BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX tenders_status ON tenders(status, published_at);

CREATE TABLE tender_lots (
    tender_id    TEXT NOT NULL REFERENCES tenders(id),
    lot_no       BIGINT  NOT NULL,
    name         TEXT NOT NULL,
    budget_fen   BIGINT  NOT NULL,
    PRIMARY KEY (tender_id, lot_no)
);

CREATE TABLE tender_custodians (
    tender_id  TEXT NOT NULL REFERENCES tenders(id),
    position   BIGINT  NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (tender_id, position)
);

CREATE TABLE tender_amendments (
    tender_id  TEXT NOT NULL REFERENCES tenders(id),
    seq        BIGINT  NOT NULL,
    at         BIGINT  NOT NULL,
    actor      TEXT NOT NULL REFERENCES users(id),
    reason     TEXT NOT NULL,
    changes    TEXT NOT NULL,              -- JSON {field: {from, to}}
    PRIMARY KEY (tender_id, seq)
);

CREATE TABLE ledger_events (
    tender_id  TEXT NOT NULL REFERENCES tenders(id),
    seq        BIGINT  NOT NULL,
    at         BIGINT  NOT NULL,
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    body       TEXT NOT NULL,              -- canonical JSON
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (tender_id, seq)
);
