//! The opening's phases, commands, errors and rule settings (docs/opening.md).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

/// Where an opening is. The tender's status is `opening` through all but the last two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Bidders send `kb` until the window ends or all have.
    Decrypting,
    /// Waiting for t custodians' shares of the tender key.
    Unsealing,
    /// Bids are being opened and read out (唱标).
    Revealing,
    /// Bidders confirm the record or object; the host answers.
    Confirming,
    Closed,
    /// 流标: no lot reached its quorum at the start.
    Failed,
}

impl Phase {
    pub const ALL: [Phase; 6] = [
        Phase::Decrypting,
        Phase::Unsealing,
        Phase::Revealing,
        Phase::Confirming,
        Phase::Closed,
        Phase::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Decrypting => "decrypting",
            Phase::Unsealing => "unsealing",
            Phase::Revealing => "revealing",
            Phase::Confirming => "confirming",
            Phase::Closed => "closed",
            Phase::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A command of the opening, from the hub or `POST /api/tenders/{id}/opening`. Commands
/// without fields are written `{}` so that an unknown field is refused for them too. Written `{"type": "<name>", <fields>}`
/// and read by [`crate::error::from_tagged`] (so the enum itself is externally tagged).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    Start {},
    Decrypt { bid_id: String, kb: String },
    Share { index: u32, value: String },
    Confirm {},
    Object { kind: ObjectionKind, text: String },
    Answer { objection_id: String, text: String },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Start {} => "start",
            Command::Decrypt { .. } => "decrypt",
            Command::Share { .. } => "share",
            Command::Confirm {} => "confirm",
            Command::Object { .. } => "object",
            Command::Answer { .. } => "answer",
        }
    }
}

/// 异议 (a question about the record) or 回避 (a request that staff step aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionKind {
    Question,
    Recusal,
}

impl ObjectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectionKind::Question => "question",
            ObjectionKind::Recusal => "recusal",
        }
    }
}

/// Refusals particular to the opening; each leaves everything unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpeningError {
    #[error("decryption window closed")]
    DecryptWindowClosed,
    #[error("already decrypted")]
    AlreadyDecrypted,
    #[error("share does not match the commitments")]
    ShareCommitmentMismatch,
    #[error("share already submitted")]
    ShareAlreadySubmitted,
    #[error("already confirmed")]
    AlreadyConfirmed,
    #[error("objection already answered")]
    AlreadyAnswered,
}

impl crate::error::AreaError for OpeningError {
    fn code(&self) -> &'static str {
        OpeningError::code(*self)
    }
    fn status(&self) -> StatusCode {
        OpeningError::status(*self)
    }
    fn messages(&self) -> (String, String) {
        let (zh, en) = OpeningError::messages(*self);
        (zh.into(), en.into())
    }
}

impl From<OpeningError> for crate::error::AppError {
    fn from(e: OpeningError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

impl OpeningError {
    pub fn code(self) -> &'static str {
        match self {
            OpeningError::DecryptWindowClosed => "DECRYPT_WINDOW_CLOSED",
            OpeningError::AlreadyDecrypted => "ALREADY_DECRYPTED",
            OpeningError::ShareCommitmentMismatch => "SHARE_COMMITMENT_MISMATCH",
            OpeningError::ShareAlreadySubmitted => "SHARE_ALREADY_SUBMITTED",
            OpeningError::AlreadyConfirmed => "ALREADY_CONFIRMED",
            OpeningError::AlreadyAnswered => "ALREADY_ANSWERED",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            OpeningError::ShareCommitmentMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        }
    }

    pub fn messages(self) -> (&'static str, &'static str) {
        match self {
            OpeningError::DecryptWindowClosed => (
                "解密时间已截止(以服务器时间为准)",
                "The decryption window has closed (server time)",
            ),
            OpeningError::AlreadyDecrypted => ("该投标文件已解密", "This bid is decrypted already"),
            OpeningError::ShareCommitmentMismatch => (
                "密钥分片与公告中的承诺值不符",
                "The share does not match the published commitments",
            ),
            OpeningError::ShareAlreadySubmitted => {
                ("该密钥分片已提交", "This share was submitted already")
            }
            OpeningError::AlreadyConfirmed => (
                "您已确认开标记录",
                "You have confirmed the opening record already",
            ),
            OpeningError::AlreadyAnswered => {
                ("该异议已答复", "This objection has been answered already")
            }
        }
    }
}

pub use crate::config::OpeningRules;

/// A lot's quorum, at the start and again after revealing: the shape the ledger's
/// `opening_started`, `opening_failed` and `revealing_done` record.
pub use crate::ledger::LotQuorum;

/// A bid read out at the opening: what the stages after it (the evaluation) work on.
#[derive(Debug, Clone)]
pub struct ReadOutBid {
    pub bid_id: String,
    pub position: i64,
    pub lot_no: i64,
    pub bidder_name: String,
    pub sheet: crate::bid::package::OpeningSheet,
    pub enterprise_size: Option<String>,
    pub special_status: Option<String>,
}
