//! Rounds of offers (多轮报价) in competitive negotiation (竞争性谈判, 财政部令第74号) and
//! competitive consultation (竞争性磋商, 财库〔2014〕214号): after the panel's review it
//! negotiates with the suppliers still in, sends every one of them the same written
//! notices, and asks for offers in rounds, the last one the final offers (最后报价). Each
//! offer is sealed on the supplier's device like a bid (KB1, the same keys: its `kb` to
//! the supplier's key, its `kt` to the tender's opening key) and opened with the others
//! of its round only after the round has closed and its supplier released `kb`; no
//! supplier ever sees another's offer. docs/rounds.md.
//!
//! A stage after the committee: it asks the committee for the panel and its review, the
//! opening for the bids read out and the tender's key.

pub mod access;
pub mod repo;
pub mod room;
pub mod routes;
pub mod rules;
pub mod service;
pub mod types;

use futures_util::FutureExt;

/// Due work: rounds close at their deadline and are read when their keys are in.
pub fn jobs() -> Vec<crate::jobs::Job> {
    vec![crate::jobs::Job {
        name: "close and read rounds of offers",
        run: |state| service::advance_due(state).boxed(),
    }]
}
