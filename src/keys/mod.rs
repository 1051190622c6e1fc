//! Users' device keys over the API (docs/keys.md): registration with a proof of
//! possession, certificates, revocation, the platform's certificates for offline checks.
//! The authority and the checks of certified keys are `pki`.

pub mod routes;
pub mod service;
#[cfg(test)]
mod vectors;
