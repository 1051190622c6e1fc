//! User keys and their certificates.

use serde::{Deserialize, Serialize};

/// What a key is for: signing (records, receipts, objections) or encryption (HPKE
/// recipient for the bidder's half-key and custodians' shares).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPurpose {
    Signing,
    Encryption,
}

impl KeyPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Signing => "signing",
            KeyPurpose::Encryption => "encryption",
        }
    }
}

/// `POST /api/keys`. `proof` is an ECDSA P-256/SHA-256 signature (64 bytes r‖s, base64url)
/// over [`registration_statement`]: made by the key itself for a signing key, and by the
/// user's active signing key for an encryption key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterKeyRequest {
    pub purpose: KeyPurpose,
    /// SEC1 uncompressed P-256 point, base64url.
    pub public_key: String,
    pub proof: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeKeyRequest {
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    pub key_id: String,
    pub purpose: String,
    pub public_key: String,
    pub status: String,
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
    pub certificate_pem: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub revoke_reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RevokedKey {
    pub key_id: String,
    pub serial: String,
    pub revoked_at: i64,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct PlatformCerts {
    pub ca_pem: String,
    pub signer_pem: String,
    /// The receipt-signing key, SEC1, base64url.
    pub signer_public_key: String,
}

/// The text a user signs to show they hold a key being registered.
pub fn registration_statement(user_id: &str, purpose: KeyPurpose, public_key_b64: &str) -> String {
    format!(
        "kaibiao key registration v1\nuser:{user_id}\npurpose:{}\nkey:{public_key_b64}",
        purpose.as_str()
    )
}
