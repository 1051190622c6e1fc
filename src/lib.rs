//! kaibiao (开标): online government procurement with sealed bids, live remote opening and
//! remote evaluation. The control plane: HTTP API, storage, domain rules.

pub mod approval;
pub mod auth;
pub mod bid;
pub mod blob;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod committee;
pub mod config;
pub mod credit_code;
pub mod crypto;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod download;
pub mod draw;
pub mod error;
pub mod evaluation;
pub mod hub;
pub mod jobs;
pub mod keys;
pub mod ledger;
pub mod load;
pub mod money;
pub mod opening;
pub mod org;
pub mod pki;
pub mod plan;
pub mod serve;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tender;
pub mod tls;
pub mod web;
