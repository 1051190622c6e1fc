//! Challenges and complaints against a tender's result (质疑投诉, R-CHAL-2..4): a bidder
//! challenges the agency within 7 working days of the result notice, signed with its
//! device key; the agency answers within 7; a dissatisfied challenger complains to
//! finance within 15 working days after the reply deadline; finance accepts or rejects
//! within 5, may suspend the procurement (30 days at most) and decides within 30; the
//! decision is public, and a third groundless complaint in 12 months puts the supplier on
//! the bad-conduct list. While a challenge or complaint is open the contract may not be
//! signed ([`repo::blocks_contract`]). docs/challenges.md.
//!
//! A stage after the result (`award`): the notice's publication opens the window.

pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod types;
