//! The opening (开标), docs/opening.md: sealing at the deadline (R-OPEN-1, R-TIME-2) by a
//! job that survives restarts, then the host's start and quorum, the decryption
//! window, the custodians' unsealing, the reading-out, confirmation and the signed record.
//! Every step is a ledger event written with its change, so a restart resumes from the
//! database.

pub mod access;
pub mod record;
pub mod repo;
pub mod reveal;
pub mod room;
pub mod routes;
pub mod rules;
pub mod sealing;
pub mod service;
pub mod signin;
pub mod talk;
pub mod types;
pub mod view;

use futures_util::FutureExt;

/// The opening's due work: sealing the bids of tenders whose deadline has passed, then
/// the steps whose time has come (a decryption window that ends, revealing to resume).
pub fn jobs() -> Vec<crate::jobs::Job> {
    vec![
        crate::jobs::Job {
            name: "seal bids at the deadline",
            run: |state| async { sealing::seal_due(state).await.map(drop) }.boxed(),
        },
        crate::jobs::Job {
            name: "advance openings",
            run: |state| service::advance_due(state).boxed(),
        },
    ]
}
