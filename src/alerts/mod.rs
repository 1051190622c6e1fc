//! Alerts (预警提示) and each user's inbox, docs/alerts.md. The stages that have deadlines
//! hand them over as data (`sources`: a single-source request awaiting finance's decision
//! after its publicity, R-METH-1; the purchaser's confirmation of the winner, R-EVAL-10; a
//! plan's tender publishable 30 days after its intention, R-PLAN-1); the engine (`jobs`)
//! makes each alert once per deadline and stage — `upcoming` the working day before by the
//! official calendar (R-TIME-1), `due` at the deadline, `overdue` escalated to finance when
//! it passes with the act not done — and users read theirs over `/api/alerts`.
//!
//! Above the stages it reads (through their `repo`), below start-up; no stage knows it.

pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod sources;
pub mod types;

use futures_util::FutureExt;

pub use service::Engine;

/// The alerts' due work: the alerts whose time has come, made once each.
pub fn jobs() -> Vec<crate::jobs::Job> {
    vec![crate::jobs::Job {
        name: "make due alerts",
        run: |state| service::tick(state).boxed(),
    }]
}
