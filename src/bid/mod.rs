//! Sealed-bid submission: a resumable upload of a KB1 container (docs/bid-format.md), the
//! checks the server can make without reading anything, the signed receipt (回执),
//! replacement and withdrawal until the deadline, and opening a stored container with
//! keys (used by the opening).

pub mod open;
pub mod package;
mod partial;
pub mod personnel;
pub mod repo;
pub mod routes;
pub mod service;
pub mod types;

#[cfg(test)]
mod tests;
