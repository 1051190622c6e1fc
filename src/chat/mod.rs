//! The moderated text channel of a live room (互动区, docs/chat.md): in the opening hall
//! bidders ask the host, who answers publicly or privately; in the evaluation room the
//! experts talk among themselves. Supervisors read everything. The room's stage decides
//! who may write what and who reads (`Post`, `Reader`), and serves the list under its own
//! routes; this module keeps the archive, the rate limit, and a digest of every message
//! in the tender's ledger.

pub mod repo;
pub mod service;
pub mod types;
