//! The opening (开标), docs/opening.md: sealing at the deadline (R-OPEN-1, R-TIME-2) by a
//! scheduler that survives restarts, then the host's start and quorum, the decryption
//! window, the custodians' unsealing, the reading-out, confirmation and the signed record.
//! Every step is a ledger event written with its change, so a restart resumes from the
//! database.

pub mod access;
pub mod record;
pub mod repo;
pub mod reveal;
pub mod routes;
pub mod scheduler;
pub mod service;
pub mod types;
pub mod view;
