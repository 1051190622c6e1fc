//! The opening's phases, commands and their acknowledgements, errors, rule settings, and
//! the view of it (docs/opening.md).

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
    Decrypt {
        bid_id: String,
        kb: String,
    },
    Share {
        index: u32,
        value: String,
    },
    /// 签到: the bidder's signature over its `me.sign_in.statement`.
    SignIn {
        key_id: String,
        signature: String,
    },
    /// 互动区: a bidder's question to the host (from the deadline).
    Ask {
        text: String,
    },
    /// 互动区: the host's answer to a question (`private`: for the asker alone), or a word
    /// to the hall.
    Reply {
        text: String,
        #[serde(default)]
        reply_to: Option<String>,
        #[serde(default)]
        private: bool,
    },
    Confirm {},
    Object {
        kind: ObjectionKind,
        text: String,
    },
    Answer {
        objection_id: String,
        text: String,
    },
}

/// What a command's acknowledgement carries, by command (and, for `start`, by outcome).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Ack {
    /// `start`: the window is open for the lots that reached their quorum.
    Started {
        phase: Phase,
        decrypt_ends_at: i64,
        lots: Vec<LotQuorum>,
    },
    /// `start`: no lot reached its quorum (流标).
    Failed {
        phase: Phase,
        lots: Vec<LotQuorum>,
    },
    Decrypted {
        bid_id: String,
        /// Always `decrypted`.
        decrypt_status: &'static str,
    },
    /// A custodian's share, checked against the commitments: how many are in of the
    /// threshold.
    Share {
        index: u32,
        accepted: bool,
        shares: usize,
        threshold: i64,
    },
    SignedIn {
        signed_in_at: i64,
    },
    Posted {
        message_id: String,
    },
    Confirmed {
        confirmed: bool,
    },
    Objected {
        objection_id: String,
    },
    Answered {
        objection_id: String,
        answered: bool,
    },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Start {} => "start",
            Command::Decrypt { .. } => "decrypt",
            Command::Share { .. } => "share",
            Command::SignIn { .. } => "sign_in",
            Command::Ask { .. } => "ask",
            Command::Reply { .. } => "reply",
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
    #[error("sign-in not open")]
    SignInNotOpen,
    #[error("already signed in")]
    AlreadySignedIn,
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
            OpeningError::SignInNotOpen => "SIGN_IN_NOT_OPEN",
            OpeningError::AlreadySignedIn => "ALREADY_SIGNED_IN",
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
            OpeningError::SignInNotOpen => (
                "现在不能签到：签到自投标截止前开放，主持人开始开标时结束(以服务器时间为准)",
                "Sign-in is not open: it opens before the bid deadline and ends when the host starts the opening (server time)",
            ),
            OpeningError::AlreadySignedIn => ("您已签到", "You have signed in already"),
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
    pub bidder_org_id: String,
    pub position: i64,
    pub lot_no: i64,
    pub bidder_name: String,
    pub sheet: crate::bid::package::OpeningSheet,
    pub enterprise_size: Option<String>,
    pub special_status: Option<String>,
}

// ---- what the opening's members see (`GET /api/tenders/{id}/opening`) ----

/// The opening as its members see it: the same for every member but `me`. Before the
/// start (no opening yet) `phase`, `host` and the times are `null` and the lists empty.
#[derive(Debug, Clone, Serialize)]
pub struct OpeningView {
    pub tender_id: String,
    pub tender_status: crate::tender::types::TenderStatus,
    pub bid_deadline: i64,
    pub phase: Option<Phase>,
    pub host: Option<HostRef>,
    pub started_at: Option<i64>,
    pub decrypt_ends_at: Option<i64>,
    pub unsealing_since: Option<i64>,
    pub custodians_overdue: bool,
    pub confirm_ends_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// The server's time, for the page's clock.
    pub now: i64,
    /// The reading-out's order as the tender states it: `receipt` or `draw` (drawn at the
    /// start; the `opening_started` event names the seal hash it was drawn from).
    pub reading_order: crate::tender::types::ReadingOrder,
    pub threshold: i64,
    pub shares: Vec<ShareView>,
    pub lots: Vec<LotQuorum>,
    pub bids: Vec<OpeningBidView>,
    pub objections: Vec<ObjectionView>,
    /// Who signed in: the host and supervisors to every member; bidders to supervisors,
    /// and to the other members from the deadline (as the bid register).
    pub sign_ins: Vec<SignInView>,
    pub me: OpeningMe,
}

/// The opening's host; `display_name` is `null` if the user is gone.
#[derive(Debug, Clone, Serialize)]
pub struct HostRef {
    pub id: String,
    pub display_name: Option<String>,
}

/// A share of the opening key: who holds it and when it was handed in.
#[derive(Debug, Clone, Serialize)]
pub struct ShareView {
    pub index: i64,
    pub custodian: CustodianRef,
    pub submitted_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustodianRef {
    pub id: String,
    pub display_name: String,
}

/// A bidder's organisation.
#[derive(Debug, Clone, Serialize)]
pub struct BidderRef {
    pub id: String,
    pub name: String,
}

/// A bid of the opening, in the opening's order.
#[derive(Debug, Clone, Serialize)]
pub struct OpeningBidView {
    pub bid_id: String,
    pub lot_no: i64,
    pub bidder: BidderRef,
    /// pending | decrypted | failed
    pub decrypt_status: String,
    pub decrypt_started_at: Option<i64>,
    pub decrypted_at: Option<i64>,
    pub result: Option<String>,
    /// Why the bid did not open, as revealing stored it (`null` if it opened or is not
    /// revealed yet).
    pub cause: serde_json::Value,
    /// The opening sheet read out, as revealing stored it (`null` until then).
    pub sheet: serde_json::Value,
    /// `confirmed` by the bidder, `deemed` once the record closed without it, else `null`.
    pub confirmation: Option<&'static str>,
}

/// A sign-in (签到), by the server's clock: a bidder's, or the host's or a supervisor's
/// (到场).
#[derive(Debug, Clone, Serialize)]
pub struct SignInView {
    /// `bidder`, `host`, or the supervisor's role.
    pub role: String,
    /// The bidder's organisation (`null` for staff).
    pub org_id: Option<String>,
    /// The bidder's organisation's name, or the person's for staff.
    pub name: String,
    pub signed_in_at: i64,
}

/// The viewer's own sign-in (a bidder's: its organisation's): the statement to sign, from
/// when, and when it was signed.
#[derive(Debug, Clone, Serialize)]
pub struct MySignIn {
    pub statement: String,
    pub opens_at: i64,
    pub signed_in_at: Option<i64>,
}

/// A bidder's objection to the record, and the host's answer.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectionView {
    pub id: String,
    pub bidder: BidderRef,
    /// question | recusal
    pub kind: String,
    pub text: String,
    pub raised_at: i64,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
}

/// The viewer's own part in the opening.
#[derive(Debug, Clone, Serialize)]
pub struct OpeningMe {
    pub role: &'static str,
    pub is_host: bool,
    pub is_supervisor: bool,
    /// The viewer's organisation's bids in the opening (before the start: its submitted
    /// bids).
    pub bid_ids: Vec<String>,
    pub share_index: Option<i64>,
    pub confirmed: bool,
    /// For a bidder, the host and supervisors: their sign-in.
    pub sign_in: Option<MySignIn>,
}

/// A bidder's own bid header (`GET /api/bids/{id}/header`): `kb_sealed` opens with the
/// bidder's key only.
#[derive(Debug, Clone, Serialize)]
pub struct BidHeader {
    pub bid_id: String,
    pub header: crate::crypto::kb1::Header,
}
