-- Alerts (预警提示, src/alerts, docs/alerts.md): one row per deadline and stage, made once
-- (the UNIQUE key keeps two nodes or a restart from making it twice), whom it is for, and
-- who has read it. Times are Unix milliseconds.

CREATE TABLE alerts (
    id             TEXT PRIMARY KEY,
    deadline_key   TEXT NOT NULL,      -- "evaluation:<tender id>:confirmation"
    stage          TEXT NOT NULL,      -- upcoming | due | overdue
    rule_code      TEXT NOT NULL,      -- "R-EVAL-10"
    rule_name      TEXT NOT NULL,      -- "confirmation", the rule's name under its code
    subject_kind   TEXT NOT NULL,      -- tender | approval | plan
    subject_id     TEXT NOT NULL,
    subject_title  TEXT NOT NULL,
    link           TEXT NOT NULL,      -- the page where it is acted on
    due_at         BIGINT NOT NULL,
    title_zh       TEXT NOT NULL,
    title_en       TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (deadline_key, stage)
);
CREATE INDEX alerts_created ON alerts(created_at);

-- Exactly one of: a user; an organisation (any of its users, or those of one role); a
-- role (every user of it: escalations to finance or oversight).
CREATE TABLE alert_recipients (
    alert_id  TEXT NOT NULL REFERENCES alerts(id),
    user_id   TEXT NOT NULL DEFAULT '',
    org_id    TEXT NOT NULL DEFAULT '',
    role      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (alert_id, user_id, org_id, role),
    CHECK (user_id <> '' OR org_id <> '' OR role <> '')
);
CREATE INDEX alert_recipients_user ON alert_recipients(user_id);
CREATE INDEX alert_recipients_org ON alert_recipients(org_id, role);
CREATE INDEX alert_recipients_role ON alert_recipients(role, org_id);

CREATE TABLE alert_reads (
    alert_id  TEXT NOT NULL REFERENCES alerts(id),
    user_id   TEXT NOT NULL REFERENCES users(id),
    read_at   BIGINT NOT NULL,
    PRIMARY KEY (alert_id, user_id)
);

-- What the alerts' sources look for (src/alerts/sources.rs).
CREATE INDEX approvals_status_publicity ON approvals(status, publicity_ends_at);
CREATE INDEX evaluations_phase_due ON evaluations(phase, confirm_due_at);
