-- Four-party credit ratings (四方信用评价) after acceptance: who rated whom on a contract,
-- the scores per criterion and the comment; in src/rating.

CREATE TABLE ratings (
    id             TEXT PRIMARY KEY,
    tender_id      TEXT NOT NULL REFERENCES tenders(id),
    contract_id    TEXT NOT NULL REFERENCES contracts(id),
    -- purchaser | agency | supplier | expert; the organisation's id, or the expert's.
    rater_party    TEXT NOT NULL,
    rater          TEXT NOT NULL,
    rater_user_id  TEXT NOT NULL REFERENCES users(id),
    ratee_party    TEXT NOT NULL,
    ratee          TEXT NOT NULL,
    -- JSON {criterion: 1..5} and their mean in hundredths.
    scores         TEXT NOT NULL,
    mean_centi     BIGINT NOT NULL,
    comment        TEXT NOT NULL,
    rated_at       BIGINT NOT NULL,
    UNIQUE (contract_id, rater_party, rater, ratee_party, ratee)
);
CREATE INDEX ratings_tender ON ratings(tender_id);
CREATE INDEX ratings_ratee ON ratings(ratee);

CREATE TABLE rating_scores (
    rating_id    TEXT NOT NULL REFERENCES ratings(id),
    ratee_party  TEXT NOT NULL,
    ratee        TEXT NOT NULL,
    criterion    TEXT NOT NULL,
    score        BIGINT NOT NULL,
    PRIMARY KEY (rating_id, criterion)
);
CREATE INDEX rating_scores_ratee ON rating_scores(ratee);
