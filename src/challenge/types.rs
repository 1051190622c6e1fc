//! The challenges' commands, acknowledgements, refusals and views (docs/challenges.md).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::approval::types::{AttachmentInput, AttachmentView};

/// One command, `POST /api/tenders/{id}/challenges`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// A bidder: a challenge (质疑) to the agency, signed (`rules::payload("challenge", …)`).
    Challenge {
        grounds: String,
        key_id: String,
        signature: String,
        /// Evidence files (5, 1 MB in all), their SHA-256 in the signed statement.
        #[serde(default)]
        evidence: Vec<AttachmentInput>,
    },
    /// The tender's agency or purchaser: the written reply; `upheld` when the challenge
    /// is well founded.
    Reply {
        challenge_id: String,
        reply: String,
        upheld: bool,
    },
    /// The challenger: a complaint (投诉) to finance, signed (`rules::payload("complaint", …)`).
    Complain {
        challenge_id: String,
        grounds: String,
        key_id: String,
        signature: String,
        #[serde(default)]
        evidence: Vec<AttachmentInput>,
    },
    /// Finance: the complaint is accepted for examination (受理).
    Accept { complaint_id: String },
    /// Finance: the complaint is not accepted (不予受理), with the reason.
    Reject {
        complaint_id: String,
        reason: String,
    },
    /// Finance: the procurement is suspended until `until` (30 days at most, O94 art 28).
    Suspend { complaint_id: String, until: i64 },
    /// Finance: the decision (`upheld` or `groundless`), published.
    Decide {
        complaint_id: String,
        outcome: Outcome,
        decision: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 投诉成立
    Upheld,
    /// 查无实据 / 缺乏事实依据: counts towards R-CHAL-4.
    Groundless,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Upheld => "upheld",
            Outcome::Groundless => "groundless",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Ack {
    pub id: String,
    pub status: &'static str,
    /// The instant the next act is due by, if any (a reply, an examination, a decision).
    pub due_at: Option<i64>,
}

/// Refusals particular to challenges; each leaves everything unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    #[error("the result is not published")]
    NoResult,
    #[error("not a bidder of this tender")]
    NotABidder,
    #[error("the challenge window has closed")]
    WindowClosed,
    #[error("too many challenges")]
    TooMany,
    #[error("the challenge is still awaiting its reply")]
    NotAnswered,
    #[error("the complaint window has closed")]
    ComplaintWindowClosed,
    #[error("suspension too long")]
    SuspensionTooLong,
}

impl crate::error::AreaError for ChallengeError {
    fn code(&self) -> &'static str {
        match self {
            ChallengeError::NoResult => "RESULT_NOT_PUBLISHED",
            ChallengeError::NotABidder => "NOT_A_BIDDER",
            ChallengeError::WindowClosed => "CHALLENGE_WINDOW_CLOSED",
            ChallengeError::TooMany => "TOO_MANY_CHALLENGES",
            ChallengeError::NotAnswered => "CHALLENGE_NOT_ANSWERED",
            ChallengeError::ComplaintWindowClosed => "COMPLAINT_WINDOW_CLOSED",
            ChallengeError::SuspensionTooLong => "SUSPENSION_TOO_LONG",
        }
    }
    fn status(&self) -> StatusCode {
        match self {
            ChallengeError::NotABidder => StatusCode::FORBIDDEN,
            ChallengeError::SuspensionTooLong => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        }
    }
    fn messages(&self) -> (String, String) {
        let (zh, en) = match self {
            ChallengeError::NoResult => ("结果公告尚未发布", "The result notice is not published yet"),
            ChallengeError::NotABidder => ("只有本项目的投标人可以质疑或投诉", "Only a bidder of this tender may challenge or complain"),
            ChallengeError::WindowClosed => (
                "质疑期已过：应在知道或应当知道权益受损之日起 7 个工作日内提出（R-CHAL-2）",
                "The challenge window has closed: 7 working days from knowing of the harm (R-CHAL-2)",
            ),
            ChallengeError::TooMany => ("质疑次数过多", "Too many challenges"),
            ChallengeError::NotAnswered => (
                "质疑尚在答复期内，答复或答复期满后方可投诉",
                "The challenge awaits its reply: complain after the reply or its deadline",
            ),
            ChallengeError::ComplaintWindowClosed => (
                "投诉期已过：应在答复期满后 15 个工作日内提出（R-CHAL-3）",
                "The complaint window has closed: 15 working days after the reply deadline (R-CHAL-3)",
            ),
            ChallengeError::SuspensionTooLong => (
                "暂停采购活动最长 30 日（R-CHAL-3）",
                "A suspension lasts 30 days at most (R-CHAL-3)",
            ),
        };
        (zh.into(), en.into())
    }
}

impl From<ChallengeError> for crate::error::AppError {
    fn from(e: ChallengeError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ChallengeView {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub grounds: String,
    pub filed_at: i64,
    pub reply_due_at: i64,
    pub status: String,
    pub reply: Option<String>,
    pub upheld: Option<i64>,
    pub replied_at: Option<i64>,
    /// The complaint may be filed until then (15 working days after the reply deadline).
    #[sqlx(skip)]
    pub complain_until: i64,
    #[sqlx(skip)]
    pub evidence: Vec<AttachmentView>,
    #[sqlx(rename = "evidence")]
    #[serde(skip)]
    pub evidence_json: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ComplaintView {
    pub id: String,
    pub challenge_id: String,
    pub org_id: String,
    pub org_name: String,
    /// `null` in the public's copy of a decision.
    pub grounds: Option<String>,
    pub filed_at: i64,
    pub examine_due_at: i64,
    pub status: String,
    pub reason: Option<String>,
    pub accepted_at: Option<i64>,
    pub decision_due_at: Option<i64>,
    pub suspended_until: Option<i64>,
    pub outcome: Option<String>,
    pub decision: Option<String>,
    pub decided_at: Option<i64>,
    /// Empty in the public's copy, as the grounds.
    #[sqlx(skip)]
    pub evidence: Vec<AttachmentView>,
    #[sqlx(rename = "evidence")]
    #[serde(skip)]
    pub evidence_json: String,
}

/// `GET /api/tenders/{id}/challenges`: a bidder its own; the tender's agency and
/// purchaser, finance and oversight all; anyone the decisions.
#[derive(Debug, Clone, Serialize)]
pub struct ChallengesView {
    pub tender_id: String,
    /// The result notice's publication, and the challenge window's end (R-CHAL-2).
    pub result_published_at: Option<i64>,
    pub challenge_until: Option<i64>,
    pub challenges: Vec<ChallengeView>,
    pub complaints: Vec<ComplaintView>,
    /// A challenge or complaint is open: the contract may not be signed (IR art 54).
    pub contract_blocked: bool,
    pub me: MeView,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeView {
    pub may_challenge: bool,
    pub answers: bool,
    pub handles_complaints: bool,
}
