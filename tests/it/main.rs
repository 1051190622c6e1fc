//! Integration tests: the real app on port 0 with real HTTP clients, a real browser, and
//! the real binary. Run on SQLite, or on PostgreSQL when KAIBIAO_TEST_DATABASE_URL is set.

mod common;

mod alerts;
mod approvals;
mod architecture;
mod auth;
mod bidpage;
mod bids;
mod browser;
mod ceremony;
mod cli;
mod committee_bench;
mod demo_opening;
mod depositpage;
mod deposits;
mod documents;
mod draw;
mod evalpage;
mod evaluation;
mod framework;
mod fulldisk;
mod hall;
mod hub;
mod i18n;
mod interop;
mod keys;
mod limits;
mod load;
mod matrix;
mod media;
mod mediapage;
mod newcomer;
mod opening;
mod planpage;
mod plans;
mod prewalk;
mod restart;
mod rounds;
mod roundspage;
mod roundsrestart;
mod secrecy;
mod suppliers;
mod tenders;
mod webcrypto;
mod zhscan;
