-- Bidders' sign-ins to the opening hall (签到, docs/opening.md): one per bidder per
-- tender, the statement the bidder signed with its device key and the server's time.
-- Written and read by src/opening.
CREATE TABLE opening_sign_ins (
    tender_id      TEXT NOT NULL REFERENCES tenders(id),
    bidder_org_id  TEXT NOT NULL REFERENCES organisations(id),
    user_id        TEXT NOT NULL REFERENCES users(id),
    key_id         TEXT NOT NULL,
    statement      TEXT NOT NULL,
    signature      TEXT NOT NULL,
    signed_in_at   INTEGER NOT NULL,
    PRIMARY KEY (tender_id, bidder_org_id)
);
