//! The remote evaluation session (评标), docs/evaluation.md: the verifiable expert draw
//! with the finance supervisor's nonce, seats accepted or declined and topped up, the
//! qualification and compliance reviews, blind scoring with objective agreement and
//! outlier reasons, clarifications to bidders, the report signed by every expert, and the
//! purchaser's confirmation. Every step is a ledger event written with its rows; events
//! carry ids, seats and hashes only.

pub mod access;
pub mod chair;
pub mod reader;
pub mod repo;
pub mod report;
pub mod room;
pub mod routes;
pub mod rules;
pub mod scores;
pub mod service;
pub mod types;
pub mod view;

use futures_util::FutureExt;

/// The evaluation's due work: a confirmation window that ends.
pub fn jobs() -> Vec<crate::jobs::Job> {
    vec![crate::jobs::Job {
        name: "advance evaluations",
        run: |state| service::advance_due(state).boxed(),
    }]
}
