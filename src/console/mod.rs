//! The supervisors' console (监管台, finance, oversight and the administrator): every live
//! room of the city — openings, evaluation rooms, negotiation rounds — with its phase and
//! who is present now (the hub's rooms, as supervisors see them), joinable read-only in its
//! own page; the alerts escalated to supervisors, the collusion warnings still undecided
//! and the challenges and complaints still open, each leading to its tender; filtered by
//! region, purchasing unit, agency, method, category and period. The page asks again
//! every few seconds. docs/console.md.
//!
//! Above every stage: it reads them all (opening, committee, rounds, alerts, collusion,
//! challenge) and none reads it.

pub mod repo;
pub mod routes;
pub mod service;
pub mod types;
