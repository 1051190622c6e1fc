//! Bids and their upload: request and response shapes.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BidStatus {
    /// Bytes are arriving.
    Uploading,
    /// Complete and valid as far as the server can see; counts at the opening.
    Submitted,
    /// Superseded by a later submission of the same bidder and lot.
    Replaced,
    /// Withdrawn by the bidder before the deadline.
    Withdrawn,
    /// Refused on upload (the header named another tender, key, ...).
    Rejected,
    /// Not finished by the deadline (R-TIME-2).
    Late,
}

impl BidStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BidStatus::Uploading => "uploading",
            BidStatus::Submitted => "submitted",
            BidStatus::Replaced => "replaced",
            BidStatus::Withdrawn => "withdrawn",
            BidStatus::Rejected => "rejected",
            BidStatus::Late => "late",
        }
    }

    pub fn parse(s: &str) -> Option<BidStatus> {
        [
            BidStatus::Uploading,
            BidStatus::Submitted,
            BidStatus::Replaced,
            BidStatus::Withdrawn,
            BidStatus::Rejected,
            BidStatus::Late,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }
}

/// `POST /api/tenders/{id}/bids`: start a submission for a lot.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBidRequest {
    pub lot_no: u32,
    /// A fingerprint of the sealing device, as the supplier's side reports it (R-COL-1).
    #[serde(default)]
    pub device_fingerprint: String,
    /// Document metadata the supplier's side extracted (creator, creation id, tool), never
    /// content (R-COL-1, R-COL-5).
    #[serde(default)]
    pub documents_meta: serde_json::Value,
}

/// What the sealing side needs: the ids and keys to put in the header.
#[derive(Debug, Serialize)]
pub struct StartBidResponse {
    pub bid_id: String,
    pub tender_id: String,
    pub lot_no: u32,
    pub bidder_org_id: String,
    /// The tender opening key (SEC1, base64url) and its key id.
    pub tender_key: String,
    pub tender_key_id: String,
    /// The bidder's certified encryption key (SEC1, base64url) and its key id.
    pub bidder_key: String,
    pub bidder_key_id: String,
    pub segment_size: u32,
    pub bid_deadline: i64,
}

/// `POST /api/bids/{id}/complete`: the size and SHA-256 of the container the sealing side
/// sent, which the server checks against what it received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteBidRequest {
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Serialize)]
pub struct BidView {
    pub bid_id: String,
    pub tender_id: String,
    pub lot_no: i64,
    pub status: String,
    /// Final size once submitted (0 while uploading).
    pub size: i64,
    pub received: i64,
    pub ciphertext_sha256: Option<String>,
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    pub withdrawn_at: Option<i64>,
    pub receipt: Option<SignedReceipt>,
}

/// The receipt (回执): what the platform attests it received, and when by its clock.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Receipt {
    pub kind: String,
    pub bid_id: String,
    pub tender_id: String,
    pub tender_code: String,
    pub lot_no: u32,
    pub bidder_org_id: String,
    pub size: u64,
    pub ciphertext_sha256: String,
    pub header_sha256: String,
    pub kb_sha256: String,
    pub received_at: i64,
    /// `received_at` in China Standard Time, for people.
    pub received_at_cst: String,
    pub replaces: Option<String>,
}

/// A receipt with the platform's signature: ECDSA P-256/SHA-256 (64-byte r‖s, base64url)
/// over the receipt's canonical JSON, by the key certified in `signer_pem`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SignedReceipt {
    pub receipt: Receipt,
    pub signature: String,
    pub signer_pem: String,
}

#[derive(Debug, Deserialize)]
pub struct OffsetQuery {
    pub offset: u64,
}

/// A refused bid container is the bid area's answer: 422 with the container's code.
impl crate::error::AreaError for crate::crypto::CryptoError {
    fn code(&self) -> &'static str {
        crate::crypto::CryptoError::code(self)
    }
    fn status(&self) -> axum::http::StatusCode {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    }
    fn messages(&self) -> (String, String) {
        crate::crypto::CryptoError::messages(self)
    }
}

impl From<crate::crypto::CryptoError> for crate::error::AppError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}
