//! The platform's PKI: a certificate authority that certifies users' public keys (in place
//! of the plan's free mobile CA certificate), revocation, and the platform's own signing
//! key for receipts and records. Private keys of users never reach the server: it sees
//! public keys and signatures only.

pub mod authority;
pub mod keyfile;
pub mod repo;
pub mod routes;
pub mod service;
pub mod types;
#[cfg(test)]
mod vectors;

pub use authority::Authority;
