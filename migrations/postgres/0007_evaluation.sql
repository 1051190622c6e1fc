-- The remote evaluation (评标), docs/evaluation.md. Each change is written in the same
-- transaction as its ledger event; ledger events carry ids, seats and hashes only, never
-- an expert's name or a score before the report.

-- The draw needs experts' employers as organisations and their declared ties.
ALTER TABLE experts ADD COLUMN employer_org_id TEXT REFERENCES organisations(id);
ALTER TABLE experts ADD COLUMN ties TEXT NOT NULL DEFAULT '[]';   -- JSON array of org ids

-- The tender's evaluation method and scored items (checked at publication, R-EVAL-4).
ALTER TABLE tenders ADD COLUMN eval_terms TEXT;                     -- JSON, see EvaluationTerms

CREATE TABLE evaluations (
    tender_id        TEXT PRIMARY KEY REFERENCES tenders(id),
    phase            TEXT NOT NULL,      -- drawing | seating | qualification | compliance | scoring | signing | reported | awarded | failed
    requested_by     TEXT NOT NULL REFERENCES users(id),
    requirement      TEXT NOT NULL,      -- JSON draw::Requirement
    draw             TEXT,               -- JSON draw::DrawRecord, the latest (after top-ups)
    prices           TEXT,               -- JSON per lot: evaluated prices and flags after compliance
    report           TEXT,               -- JSON, the report the experts sign
    report_sha256    TEXT,
    failed_reason    TEXT,
    created_at       BIGINT NOT NULL,
    scoring_closed_at BIGINT,
    reported_at      BIGINT,
    confirm_due_at   BIGINT,
    awarded_at       BIGINT
);

CREATE TABLE evaluation_panel (
    tender_id       TEXT NOT NULL REFERENCES tenders(id),
    expert_id       TEXT NOT NULL REFERENCES experts(id),
    seat            BIGINT NOT NULL,
    status          TEXT NOT NULL,       -- invited | accepted | declined
    invited_at      BIGINT NOT NULL,
    responded_at    BIGINT,
    decline_reason  TEXT,
    PRIMARY KEY (tender_id, expert_id)
);

CREATE TABLE evaluation_qualification (
    tender_id  TEXT NOT NULL REFERENCES tenders(id),
    bid_id     TEXT NOT NULL REFERENCES bids(id),
    pass       BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id),
    at         BIGINT NOT NULL,
    PRIMARY KEY (tender_id, bid_id)
);

CREATE TABLE evaluation_reviews (
    tender_id  TEXT NOT NULL REFERENCES tenders(id),
    bid_id     TEXT NOT NULL REFERENCES bids(id),
    expert_id  TEXT NOT NULL REFERENCES experts(id),
    pass       BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (tender_id, bid_id, expert_id)
);

-- One row per expert, bid and item; score in hundredths of a point out of 100.
CREATE TABLE evaluation_scores (
    tender_id       TEXT NOT NULL REFERENCES tenders(id),
    bid_id          TEXT NOT NULL REFERENCES bids(id),
    expert_id       TEXT NOT NULL REFERENCES experts(id),
    item            TEXT NOT NULL,
    score           BIGINT NOT NULL,
    outlier_reason  TEXT,
    at              BIGINT NOT NULL,
    PRIMARY KEY (tender_id, bid_id, expert_id, item)
);

-- R-EVAL-9: every change after submission, with its kind and reason.
CREATE TABLE evaluation_changes (
    tender_id  TEXT NOT NULL REFERENCES tenders(id),
    seq        BIGINT NOT NULL,
    bid_id     TEXT NOT NULL REFERENCES bids(id),
    expert_id  TEXT NOT NULL REFERENCES experts(id),
    item       TEXT NOT NULL,
    from_score BIGINT NOT NULL,
    to_score   BIGINT NOT NULL,
    kind       TEXT NOT NULL,            -- arithmetic | out_of_range | objective_mismatch | wrong_facts
    reason     TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (tender_id, seq)
);

-- R-EVAL-8 and clarifications (澄清): asked in the room, answered by the bidder.
CREATE TABLE clarifications (
    id           TEXT PRIMARY KEY,
    tender_id    TEXT NOT NULL REFERENCES tenders(id),
    bid_id       TEXT NOT NULL REFERENCES bids(id),
    question     TEXT NOT NULL,
    asked_by     TEXT NOT NULL REFERENCES users(id),
    asked_at     BIGINT NOT NULL,
    answer       TEXT,
    answered_by  TEXT REFERENCES users(id),
    answered_at  BIGINT
);
CREATE INDEX clarifications_tender ON clarifications(tender_id, asked_at);

CREATE TABLE evaluation_signatures (
    tender_id  TEXT NOT NULL REFERENCES tenders(id),
    expert_id  TEXT NOT NULL REFERENCES experts(id),
    key_id     TEXT NOT NULL,
    signature  TEXT NOT NULL,            -- base64url ECDSA P-256 r||s over the signing payload
    dissent    TEXT NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (tender_id, expert_id)
);
