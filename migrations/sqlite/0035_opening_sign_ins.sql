-- Sign-ins to the opening hall (签到, docs/opening.md): each bidder once (any one of its
-- people), and the host and supervisors present (到场), each with the statement signed
-- by the person's device key and the server's time. Written and read by src/opening.
CREATE TABLE opening_sign_ins (
    tender_id      TEXT NOT NULL REFERENCES tenders(id),
    user_id        TEXT NOT NULL REFERENCES users(id),
    -- bidder | host | finance | oversight | admin
    role           TEXT NOT NULL,
    -- The bidder's organisation; a host's or supervisor's own (NULL if none).
    org_id         TEXT REFERENCES organisations(id),
    key_id         TEXT NOT NULL,
    statement      TEXT NOT NULL,
    signature      TEXT NOT NULL,
    signed_in_at   INTEGER NOT NULL,
    PRIMARY KEY (tender_id, user_id)
);
CREATE UNIQUE INDEX opening_sign_ins_bidder ON opening_sign_ins (tender_id, org_id)
    WHERE role = 'bidder';
