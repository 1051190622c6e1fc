-- Framework agreements (框架协议采购, 财政部令第110号): the suppliers admitted (入围) from
-- a framework tender's evaluation with their prices, and each call-off (第二阶段) placed
-- within the agreement; in src/framework.

CREATE TABLE framework_agreements (
    tender_id       TEXT PRIMARY KEY REFERENCES tenders(id),
    established_by  TEXT NOT NULL REFERENCES users(id),
    established_at  INTEGER NOT NULL,
    valid_until     INTEGER NOT NULL
);

CREATE TABLE framework_suppliers (
    tender_id  TEXT NOT NULL REFERENCES tenders(id),
    org_id     TEXT NOT NULL REFERENCES organisations(id),
    rank       INTEGER NOT NULL,
    price_fen  INTEGER NOT NULL,
    PRIMARY KEY (tender_id, org_id)
);

CREATE TABLE framework_call_offs (
    tender_id    TEXT NOT NULL REFERENCES tenders(id),
    call_off_no  INTEGER NOT NULL,
    -- direct | rotation | competition
    mode         TEXT NOT NULL,
    org_id       TEXT NOT NULL REFERENCES organisations(id),
    amount_fen   INTEGER NOT NULL,
    description  TEXT NOT NULL,
    -- competition: the quotes received (JSON [{org_id, price_fen}])
    quotes       TEXT,
    placed_by    TEXT NOT NULL REFERENCES users(id),
    placed_at    INTEGER NOT NULL,
    PRIMARY KEY (tender_id, call_off_no)
);
