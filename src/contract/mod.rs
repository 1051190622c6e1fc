//! The government procurement contract (政府采购合同, R-CON-1..4, R-PAY-1): drafted from
//! the award letter, the winning bid and the tender's contract terms; the purchaser adjusts
//! what the tender leaves open (payment schedule and term, place of delivery, further
//! terms) — never the price, items, delivery or warranty; both parties sign with their
//! device keys (`kaibiao verify` checks a downloaded contract offline); the purchaser
//! publishes it and files it with finance; supplementary contracts stay within 10 % of the
//! original amount. Signing waits while a challenge or complaint is open
//! (`challenge::repo::blocks_contract`). docs/contracts.md.

pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod types;
