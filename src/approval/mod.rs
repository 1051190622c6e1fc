//! Finance's approvals before a tender (方式变更审批, 进口产品审核; R-METH-1): a purchasing
//! unit asks finance to approve a plan's non-tendering method above the open-tendering
//! threshold, or the purchase of imported products, with its reasons and attachments;
//! a single-source request is first publicised for 5 working days, during which suppliers
//! may object; finance approves or refuses with its reason. A tender from a plan that needs
//! an approval is not published without it (`service::check_publication`).
//!
//! Below the tender, above the plan: it reads plans through `plan::repo`.

pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod types;

pub use types::ApprovalError;
