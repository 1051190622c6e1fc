-- Finance's approvals of a plan's non-tendering method or imported products, the
-- publicity of a single-source request and suppliers' objections (src/approval, R-METH-1).

CREATE TABLE approvals (
    id                    TEXT PRIMARY KEY,
    plan_id               TEXT NOT NULL REFERENCES procurement_plans(id),
    kind                  TEXT NOT NULL,
    method                TEXT NOT NULL,
    reasons               TEXT NOT NULL,
    sole_supplier_name    TEXT,
    sole_supplier_code    TEXT,
    status                TEXT NOT NULL,
    requested_by          TEXT NOT NULL REFERENCES users(id),
    requested_at          INTEGER NOT NULL,
    publicity_ends_at     INTEGER,
    decided_by            TEXT REFERENCES users(id),
    decided_at            INTEGER,
    decision_reason       TEXT
);
CREATE INDEX approvals_plan ON approvals(plan_id, kind);

CREATE TABLE approval_attachments (
    approval_id  TEXT NOT NULL REFERENCES approvals(id),
    seq          INTEGER NOT NULL,
    name         TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    PRIMARY KEY (approval_id, seq)
);

CREATE TABLE approval_objections (
    id               TEXT PRIMARY KEY,
    approval_id      TEXT NOT NULL REFERENCES approvals(id),
    supplier_org_id  TEXT NOT NULL REFERENCES organisations(id),
    text             TEXT NOT NULL,
    at               INTEGER NOT NULL
);
CREATE INDEX approval_objections_approval ON approval_objections(approval_id);
