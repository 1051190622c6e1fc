//! Four-party credit ratings (四方信用评价): once a contract passed acceptance, the
//! purchasing unit, the agency, the supplier and the tender's seated experts rate each
//! other on the criteria listed per pair (`rules::CRITERIA`), 1 to 5 each with a comment,
//! once per pair and contract. The rated see only their aggregates, never who rated;
//! finance and oversight see every rating and the aggregates per organisation and expert.
//! docs/ratings.md.
//!
//! A stage after acceptance (`acceptance`).

pub mod repo;
pub mod routes;
pub mod rules;
pub mod service;
pub mod types;
