//! Open data (docs/opendata.md): every published tender as an OCDS 1.1 release — its
//! planning budget, the tender, the parties with their unified social credit codes
//! (`CN-USCC`), the bids after the opening (the bid extension), the awards once the result
//! notice is out, the published contracts with their payments — at a public endpoint with
//! paging and a bulk download. Nothing appears before it is public on the platform itself:
//! a draft is not there, bids only after the opening closed, an award after its notice, a
//! contract after its publication.
//!
//! `repo` reads the stages' tables; `release` (pure) builds the release from what it read.
//! Above every stage: it reads them all and none reads it.

pub mod release;
pub mod repo;
pub mod routes;
