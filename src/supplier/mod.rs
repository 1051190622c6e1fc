//! Suppliers on the platform (供应商注册与信用, R-CRED-1, R-CHAL-4): a supplier registers
//! itself online — its organisation with the 统一社会信用代码 checked and its declared size
//! and special status, and its first account — and signs the credit commitment (信用承诺书)
//! with its device key in place of paper certificates. Finance records the credit lists
//! that bar a supplier (serious dishonesty, tax, government-procurement misconduct, the
//! platform's bad-conduct list); every start of a bid checks the supplier's standing and
//! the check is recorded.
//!
//! Below the bid: `bid` asks `service::check_eligible` when a bid starts.

pub mod identity;
pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod types;

pub use types::SupplierError;
