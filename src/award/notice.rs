//! Documents the platform signs (the result notice, the letters) and their offline check:
//! the platform's signing certificate chains to the bundled CA and its signature covers
//! the document's canonical JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ledger::canonical_json;

/// A document with the platform's signature, as downloaded and as `kaibiao verify` reads
/// it. `document.type` says what it is (`result_notice`, `award_letter`, `result_letter`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedDocument {
    pub document: Value,
    /// SHA-256 (hex) of the document's canonical JSON: what the ledger records.
    pub document_sha256: String,
    /// ECDSA P-256 over the canonical JSON, base64url.
    pub signature: String,
    /// The platform's signing certificate.
    pub signer_pem: String,
    /// The platform's CA, to check the certificate against offline.
    pub ca_pem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    #[error("the document's digest does not match")]
    Digest,
    #[error("the signer's certificate: {0}")]
    Chain(String),
    #[error("the platform's signature does not match the document")]
    Signature,
    #[error("not a signed document of kaibiao")]
    NotSigned,
}

/// The digest the ledger records of `document`.
/// An awarded lot's winner as a result notice names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Winner {
    pub lot_no: i64,
    pub org_id: String,
    pub price_fen: i64,
}

/// The winners of a result notice's document (`SignedDocument::document`), lot by lot;
/// a failed lot has none.
pub fn winners(document: &Value) -> Vec<Winner> {
    document["lots"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|lot| {
            let w = &lot["winner"];
            Some(Winner {
                lot_no: lot["lot_no"].as_i64().unwrap_or(1),
                org_id: w["org_id"].as_str()?.to_string(),
                price_fen: w["price_fen"].as_i64().unwrap_or_default(),
            })
        })
        .collect()
}

pub fn digest(document: &Value) -> String {
    crate::crypto::sha256_hex(canonical_json(document).as_bytes())
}

/// Checks a signed document offline; returns its `type`. `at` is when it was signed
/// (the certificate must have been valid then).
pub fn verify(d: &SignedDocument) -> Result<String, NoticeError> {
    let kind = d.document["type"]
        .as_str()
        .ok_or(NoticeError::NotSigned)?
        .to_string();
    if digest(&d.document) != d.document_sha256 {
        return Err(NoticeError::Digest);
    }
    let at = d.document["signed_at"].as_i64().unwrap_or_default();
    let ca = crate::pki::authority::pem_to_der(&d.ca_pem)
        .map_err(|e| NoticeError::Chain(e.to_string()))?;
    let public = crate::pki::authority::check_chain(&d.signer_pem, &ca, at)
        .map_err(|e| NoticeError::Chain(e.to_string()))?;
    let sig = crate::crypto::b64url::decode(d.signature.trim()).ok_or(NoticeError::Signature)?;
    let message = canonical_json(&d.document);
    if !crate::pki::authority::verify_signature(&public, message.as_bytes(), &sig) {
        return Err(NoticeError::Signature);
    }
    Ok(kind)
}
