//! Payment of an accepted contract (资金支付, R-PAY-1): the supplier requests payment once
//! the contract passed acceptance, the purchasing unit approves or rejects each request
//! and records the payment made (amount, day, the bank's reference); requests never exceed
//! the contract with its supplements. An SME is paid within the contract's term from
//! acceptance (30 days, 60 at most): the alerts tell the purchasing unit before and at the
//! due date and finance after it. docs/fulfilment.md.
//!
//! A stage after acceptance (`acceptance`).

pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod types;
