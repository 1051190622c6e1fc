//! Analytics for finance and oversight (a purchaser sees its own): budget execution,
//! savings, the SME share, competition, per region — over the published tenders a filter
//! selects (region, purchaser, period of publication). `repo` reads each tender's facts
//! from the stages' tables; `figures` (pure) adds them up in integers (fen, counts, basis
//! points), so a test can add the same rows up another way and compare; `routes` serves
//! them as JSON and CSV. Above every stage: it reads them all and none reads it.

pub mod figures;
pub mod repo;
pub mod routes;
