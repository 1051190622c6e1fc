-- The compliance checklist (符合性审查表, docs/evaluation.md "Compliance checklists"): an
-- expert's verdict per criterion of the tender's checklist, as JSON {name: {pass, reason}};
-- NULL when the tender has no checklist. Written and read by src/committee.
ALTER TABLE evaluation_reviews ADD COLUMN checks TEXT;
