-- Who stands behind a supplier (R-COL-7): its legal representative and its controlling
-- shareholder or actual controller, as the supplier declares them. Identity numbers are
-- kept only as keyed digests (pki::Authority::identity_tag), a company controller by its
-- credit code. In src/supplier; read by src/collusion after the opening.
CREATE TABLE org_identities (
    org_id            TEXT PRIMARY KEY REFERENCES organisations(id),
    legal_rep_name    TEXT NOT NULL,
    legal_rep_tag     TEXT NOT NULL,
    -- none | org | person
    controller_kind   TEXT NOT NULL,
    controller_name   TEXT NOT NULL,
    -- org:<credit code> | person:<identity tag> | '' (none)
    controller_key    TEXT NOT NULL,
    updated_by        TEXT NOT NULL REFERENCES users(id),
    updated_at        BIGINT NOT NULL
);
