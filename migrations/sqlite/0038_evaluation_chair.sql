-- The panel's chair (评标组长, docs/evaluation.md): each seated expert's vote, and the
-- seat chosen (by a majority of the panel, or drawn at the agency's request). Written and
-- read by src/committee.
CREATE TABLE evaluation_chair_votes (
    tender_id   TEXT NOT NULL REFERENCES tenders(id),
    expert_id   TEXT NOT NULL,
    seat        INTEGER NOT NULL,
    voted_at    INTEGER NOT NULL,
    PRIMARY KEY (tender_id, expert_id)
);
ALTER TABLE evaluations ADD COLUMN chair_seat INTEGER;
ALTER TABLE evaluations ADD COLUMN chair_drawn INTEGER;
