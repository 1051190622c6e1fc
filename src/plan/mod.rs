//! Budgets, procurement plans and procurement intentions (预算与计划管理, 采购意向公开): the
//! stage before a tender. Finance records each purchasing unit's budget lines for a year;
//! the unit files procurement plans drawn against a line (R-PLAN-2), publishes each plan's
//! intention at least 30 days before the procurement starts (R-PLAN-1), and the agency
//! creates the tender from the plan, its budget within what is left of the plan (R-PLAN-2).
//!
//! The plan sits below the tender: the tender asks the plan (`service::commit_budget`,
//! `service::check_publication`), the plan never reads the tender's tables. What a plan
//! has committed to tenders is kept in the plan's own `plan_commitments`.

pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod types;

pub use types::{PlanError, ProcurementMethod};
