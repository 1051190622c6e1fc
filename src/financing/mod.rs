//! Contract financing (政府采购合同融资, 政采贷): a supplier with a signed contract asks a
//! bank on the platform for a loan against it; the bank's officers read that contract and
//! the supplier's credit summary — nothing else of the tender or of other suppliers — and
//! approve with an amount and the financing account, or decline; once approved the
//! contract is paid into that account (the payments' `pay_to`). docs/financing.md.
//!
//! A stage after the contract (`contract`), read by payment.

pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod types;
