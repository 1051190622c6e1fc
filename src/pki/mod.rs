//! The platform's PKI: a certificate authority that certifies users' public keys (in place
//! of the plan's free mobile CA certificate), revocation, and the platform's own signing
//! key for receipts and records. Private keys of users never reach the server: it sees
//! public keys and signatures only. Registering and revoking keys over the API is the
//! `keys` area.

pub mod authority;
pub mod keyfile;
pub mod keyring;
pub mod repo;
pub mod types;

pub use authority::Authority;
pub use keyring::Keyring;
