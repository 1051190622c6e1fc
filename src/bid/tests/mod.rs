//! Tests of the bid format across crypto and the package: the committed KB1 vectors (which
//! the browser's implementation reads too), KB1 round trips and edge cases, and property
//! tests that feed garbage and mutated containers to the parsers.

mod fuzz;
mod kb1_roundtrip;
mod kb1_vectors;
mod throughput;

use crate::crypto::CryptoError;

/// The codes of docs/bid-format.md "Errors when opening".
pub(crate) const OPENING_CODES: [&str; 11] = [
    "CONTAINER_MAGIC",
    "CONTAINER_HEADER",
    "CONTAINER_SUITE",
    "CONTAINER_TRUNCATED",
    "HEADER_MISMATCH",
    "KB_UNSEAL_FAILED",
    "KB_HASH_MISMATCH",
    "KT_UNSEAL_FAILED",
    "SEGMENT_AUTH_FAILED",
    "PACKAGE_MALFORMED",
    "PLAINTEXT_HASH_MISMATCH",
];

pub(crate) fn assert_opening_code(e: &CryptoError) {
    assert!(
        OPENING_CODES.contains(&e.code()),
        "{e:?} has a code outside the table"
    );
}

/// SHA-256 of a label: deterministic "random" bytes for keys and vectors.
pub(crate) fn det(label: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(format!("kaibiao KB1 test vectors/{label}").as_bytes()).into()
}

pub(crate) fn det_key(label: &str) -> p256::SecretKey {
    p256::SecretKey::from_slice(&det(label)).expect("a SHA-256 output is a valid scalar")
}

pub(crate) fn public_of(sk: &p256::SecretKey) -> Vec<u8> {
    crate::crypto::keys::public_sec1(&sk.public_key())
}
