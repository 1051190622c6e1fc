-- Budgets, procurement plans and procurement intentions (src/plan, R-PLAN-1, R-PLAN-2).
-- Money is integer fen; times are Unix milliseconds; flags are 0/1.

CREATE TABLE budget_lines (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organisations(id),
    year            BIGINT NOT NULL,
    code            TEXT NOT NULL,
    title           TEXT NOT NULL,
    category        TEXT NOT NULL,
    funding_source  TEXT NOT NULL,
    amount_fen      BIGINT NOT NULL,
    created_by      TEXT NOT NULL REFERENCES users(id),
    created_at      BIGINT NOT NULL,
    UNIQUE (org_id, year, code)
);

CREATE TABLE procurement_plans (
    id                   TEXT PRIMARY KEY,
    code                 TEXT NOT NULL UNIQUE,
    budget_line_id       TEXT NOT NULL REFERENCES budget_lines(id),
    org_id               TEXT NOT NULL REFERENCES organisations(id),
    title                TEXT NOT NULL,
    method               TEXT NOT NULL,
    amount_fen           BIGINT NOT NULL,
    imported             BIGINT NOT NULL DEFAULT 0,
    expected_month       TEXT NOT NULL,
    intention_exception  TEXT,
    exception_reason     TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL,
    created_by           TEXT NOT NULL REFERENCES users(id),
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX procurement_plans_line ON procurement_plans(budget_line_id);

-- What each tender created from a plan draws from it (kept by the plan, told by the tender).
CREATE TABLE plan_commitments (
    plan_id     TEXT NOT NULL REFERENCES procurement_plans(id),
    tender_id   TEXT NOT NULL,
    amount_fen  BIGINT NOT NULL,
    PRIMARY KEY (plan_id, tender_id)
);

CREATE TABLE procurement_intentions (
    id            TEXT PRIMARY KEY,
    plan_id       TEXT NOT NULL UNIQUE REFERENCES procurement_plans(id),
    description   TEXT NOT NULL,
    published_by  TEXT NOT NULL REFERENCES users(id),
    published_at  BIGINT NOT NULL
);
CREATE INDEX procurement_intentions_published ON procurement_intentions(published_at);

ALTER TABLE tenders ADD COLUMN plan_id TEXT REFERENCES procurement_plans(id);
