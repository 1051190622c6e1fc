//! Collusion warnings (围标串标预警, R-COL): after a tender's opening, the groups of
//! bidders that share what the platform recorded first-hand when each bid was sealed (a
//! device, a network address, a document author, a key; R-COL-1), the people their sealed
//! declarations name (R-COL-2/3), what stands behind them (R-COL-7), documents alike
//! (R-COL-4/5), the same errors in quoting the tender (R-COL-4) and price series with a regular pattern (R-COL-4), with the lot's price screens; the supervisors confirm or
//! dismiss each with a reason, kept in a chain of the tender's own that only they read.
//! Nothing is computed or shown before the opening, and never to suppliers or the
//! public. docs/collusion.md.
//!
//! A stage after the opening (`opening`, `bid`).

pub mod errors;
pub mod market;
pub mod minhash;
pub mod numbers;
pub mod ocds;
pub mod office;
pub mod pdftext;
pub mod personnel;
pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod similarity;
pub mod types;

use futures_util::FutureExt;

/// The warnings' due work: opened tenders' texts read for the signatures across tenders.
pub fn jobs() -> Vec<crate::jobs::Job> {
    vec![crate::jobs::Job {
        name: "read opened tenders' texts",
        run: |state| service::index_due(state).boxed(),
    }]
}
