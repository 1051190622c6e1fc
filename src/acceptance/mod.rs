//! Acceptance of a signed contract (履约验收): the purchasing unit records the delivery and
//! each item's acceptance, passed or failed with its reason, with evidence files (delivery
//! notes, test reports, photos), and signs the report with its device key; a failed report
//! opens a remedy (整改) that the supplier answers before the next round of acceptance. A
//! passed report starts the payment term (R-PAY-1, `payment`). docs/fulfilment.md.
//!
//! A stage after the contract (`contract`).

pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod types;
