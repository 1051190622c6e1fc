//! The rounds' commands, acknowledgements, refusals and views (docs/rounds.md).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a tender's negotiation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The panel has not begun (or the method has no rounds).
    NotStarted,
    /// Begun; no round is open: the panel talks to each supplier, sends notices.
    Negotiating,
    /// A round is open: suppliers seal their offers until its deadline.
    RoundOpen,
    /// The round has closed: each supplier releases its offer's key (`kb`).
    Decrypting,
    /// The final round is read: the final offers stand.
    Finished,
}

/// A round's own state (`offer_rounds.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    Open,
    Decrypting,
    Revealed,
}

impl RoundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RoundStatus::Open => "open",
            RoundStatus::Decrypting => "decrypting",
            RoundStatus::Revealed => "revealed",
        }
    }

    pub fn parse(s: &str) -> Option<RoundStatus> {
        [
            RoundStatus::Open,
            RoundStatus::Decrypting,
            RoundStatus::Revealed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// An offer's state (`round_offers.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    /// The round is open and this supplier has sent nothing yet.
    Awaiting,
    /// Sealed and stored; its key is the supplier's until the round closes.
    Sealed,
    /// The round closed without an offer from this supplier.
    None,
    /// The supplier released `kb` after the close; read with the others.
    Decrypted,
    ReadOut,
    /// Not readable: `cause` says why.
    Invalid,
}

impl OfferStatus {
    pub const ALL: [OfferStatus; 6] = [
        OfferStatus::Awaiting,
        OfferStatus::Sealed,
        OfferStatus::None,
        OfferStatus::Decrypted,
        OfferStatus::ReadOut,
        OfferStatus::Invalid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Awaiting => "awaiting",
            OfferStatus::Sealed => "sealed",
            OfferStatus::None => "none",
            OfferStatus::Decrypted => "decrypted",
            OfferStatus::ReadOut => "read_out",
            OfferStatus::Invalid => "invalid",
        }
    }

    pub fn parse(s: &str) -> Option<OfferStatus> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// One command, over the hub (`rounds:<tender id>`) or `POST /api/tenders/{id}/rounds`.
/// Commands without fields are written `{}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// The host: the negotiation begins with the suppliers that passed the review.
    Begin {},
    /// The host or a seated expert: a change to the technical or commercial terms, or
    /// any written notice, sent to every supplier still in, the same text to each.
    Notify { text: String },
    /// The host or a seated expert: a round of offers until `closes_at`; `final` asks for
    /// the final offers (最后报价), after which there is no further round.
    OpenRound {
        closes_at: i64,
        #[serde(default)]
        r#final: bool,
    },
    /// The talk with one supplier apart (分别谈判): the host or a seated expert writes to
    /// the supplier `to` (its organisation), a supplier to the panel (no `to`). Read by
    /// that supplier and the tender's side only, never by another supplier.
    Talk {
        #[serde(default)]
        to: Option<String>,
        text: String,
    },
    /// A supplier: after the round has closed, the key of its own offer.
    Decrypt { offer_id: String, kb: String },
    /// A supplier: it leaves the negotiation before its final offer (214号 art 20).
    Withdraw {},
    /// The host or a seated expert: the record of the negotiation (谈判/协商情况记录) —
    /// what was negotiated, the price reasoning, the agreed price; replaced freely until
    /// the first signature.
    RecordMinutes {
        text: String,
        price_reasoning: String,
        agreed_price_fen: i64,
    },
    /// A seated expert: signs the record with their signing key (`rules::minutes_payload`).
    SignMinutes { key_id: String, signature: String },
}

/// What a command's acknowledgement carries.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Ack {
    Begun {
        phase: Phase,
        suppliers: usize,
    },
    Notice {
        notice_no: i64,
    },
    Said {
        message_no: i64,
    },
    Round {
        round_no: i64,
        closes_at: i64,
        r#final: bool,
    },
    Decrypted {
        offer_id: String,
        status: OfferStatus,
    },
    Withdrawn {
        status: &'static str,
    },
    Minutes {
        minutes_sha256: String,
    },
    MinutesSigned {
        signed: i64,
        of: i64,
    },
}

/// Refusals particular to the rounds; each leaves everything unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoundsError {
    #[error("the method has no rounds of offers")]
    NoRounds,
    #[error("the panel has not finished its review")]
    ReviewNotDone,
    #[error("a round is open")]
    RoundInProgress,
    #[error("the round has closed")]
    RoundClosed,
    #[error("the round has not closed")]
    RoundNotClosed,
    #[error("an offer in this round already")]
    AlreadyOffered,
    #[error("not in the negotiation")]
    NotInNegotiation,
    #[error("the final round has been held")]
    FinalRoundHeld,
    #[error("closing time not allowed")]
    BadClosingTime,
    #[error("kb does not match")]
    KbMismatch,
    #[error("decryption window closed")]
    DecryptWindowClosed,
    #[error("already decrypted")]
    AlreadyDecrypted,
    #[error("offer too large")]
    OfferTooLarge,
    #[error("no minutes recorded")]
    MinutesNotRecorded,
    #[error("minutes signed already")]
    MinutesAlreadySigned,
    #[error("minutes frozen by a signature")]
    MinutesFrozen,
}

impl crate::error::AreaError for RoundsError {
    fn code(&self) -> &'static str {
        RoundsError::code(*self)
    }
    fn status(&self) -> StatusCode {
        RoundsError::status(*self)
    }
    fn messages(&self) -> (String, String) {
        let (zh, en) = RoundsError::messages(*self);
        (zh.into(), en.into())
    }
}

impl From<RoundsError> for crate::error::AppError {
    fn from(e: RoundsError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

impl RoundsError {
    pub fn code(self) -> &'static str {
        match self {
            RoundsError::NoRounds => "METHOD_HAS_NO_ROUNDS",
            RoundsError::ReviewNotDone => "REVIEW_NOT_DONE",
            RoundsError::RoundInProgress => "ROUND_IN_PROGRESS",
            RoundsError::RoundClosed => "ROUND_CLOSED",
            RoundsError::RoundNotClosed => "ROUND_NOT_CLOSED",
            RoundsError::AlreadyOffered => "ALREADY_OFFERED",
            RoundsError::NotInNegotiation => "NOT_IN_NEGOTIATION",
            RoundsError::FinalRoundHeld => "FINAL_ROUND_HELD",
            RoundsError::BadClosingTime => "ROUND_CLOSING_TIME_INVALID",
            RoundsError::KbMismatch => "KB_HASH_MISMATCH",
            RoundsError::DecryptWindowClosed => "DECRYPT_WINDOW_CLOSED",
            RoundsError::AlreadyDecrypted => "ALREADY_DECRYPTED",
            RoundsError::OfferTooLarge => "OFFER_TOO_LARGE",
            RoundsError::MinutesNotRecorded => "MINUTES_NOT_RECORDED",
            RoundsError::MinutesAlreadySigned => "ALREADY_SIGNED",
            RoundsError::MinutesFrozen => "MINUTES_FROZEN",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            RoundsError::BadClosingTime | RoundsError::KbMismatch => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            RoundsError::OfferTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RoundsError::NotInNegotiation => StatusCode::FORBIDDEN,
            _ => StatusCode::CONFLICT,
        }
    }

    pub fn messages(self) -> (&'static str, &'static str) {
        match self {
            RoundsError::NoRounds => (
                "该采购方式没有多轮报价(仅竞争性谈判、竞争性磋商)",
                "This method has no rounds of offers (only competitive negotiation and consultation)",
            ),
            RoundsError::ReviewNotDone => (
                "小组尚未完成资格性和符合性审查",
                "The panel has not finished the qualification and compliance review",
            ),
            RoundsError::RoundInProgress => (
                "本轮报价尚未结束",
                "A round of offers is still in progress",
            ),
            RoundsError::RoundClosed => (
                "本轮报价已截止(以服务器时间为准)",
                "This round has closed (server time)",
            ),
            RoundsError::RoundNotClosed => (
                "本轮报价尚未截止,截止前任何人都不能解密报价",
                "The round has not closed; no offer is opened before it does",
            ),
            RoundsError::AlreadyOffered => (
                "本轮已提交报价,每轮只能报价一次",
                "An offer is in for this round already; one offer per round",
            ),
            RoundsError::NotInNegotiation => (
                "贵单位不在本项目的谈判/磋商中",
                "Your organisation is not in this negotiation",
            ),
            RoundsError::FinalRoundHeld => (
                "最后报价已进行,不能再开新一轮",
                "The final offers have been asked for; no further round",
            ),
            RoundsError::BadClosingTime => (
                "报价截止时间须不早于最短报价时长(默认 5 分钟)、不晚于 7 天",
                "A round closes no sooner than the shortest round (5 minutes by default) and within 7 days",
            ),
            RoundsError::KbMismatch => (
                "密钥与报价文件不符",
                "The key does not match the sealed offer",
            ),
            RoundsError::DecryptWindowClosed => (
                "解密时间已截止(以服务器时间为准)",
                "The decryption window has closed (server time)",
            ),
            RoundsError::AlreadyDecrypted => ("该报价已解密", "This offer is decrypted already"),
            RoundsError::OfferTooLarge => (
                "报价文件过大(不超过 4 MiB)",
                "The sealed offer is too large (at most 4 MiB)",
            ),
            RoundsError::MinutesNotRecorded => (
                "尚未记录谈判/协商情况",
                "No record of the negotiation yet",
            ),
            RoundsError::MinutesAlreadySigned => (
                "您已签署该记录",
                "You have signed this record already",
            ),
            RoundsError::MinutesFrozen => (
                "记录已有成员签署,不能再修改",
                "A member has signed the record: it can no longer change",
            ),
        }
    }
}

/// What a supplier needs to seal its offer in the open round: the same fields as a bid's
/// start (`bid_id` is the offer's id, bound into the container's AAD).
#[derive(Debug, Clone, Serialize)]
pub struct OfferSlot {
    pub bid_id: String,
    pub offer_id: String,
    pub round_no: i64,
    pub r#final: bool,
    pub closes_at: i64,
    pub tender_id: String,
    pub lot_no: u32,
    pub bidder_org_id: String,
    pub tender_key: String,
    pub tender_key_id: String,
    pub bidder_key: String,
    pub bidder_key_id: String,
    pub segment_size: u32,
}

/// One offer as a viewer may see it.
#[derive(Debug, Clone, Serialize)]
pub struct OfferView {
    pub offer_id: String,
    pub org_id: String,
    pub bidder_name: String,
    pub status: OfferStatus,
    pub sealed_at: Option<i64>,
    pub ciphertext_sha256: Option<String>,
    pub decrypted_at: Option<i64>,
    /// The opening sheet, once the round is read.
    pub sheet: Option<Value>,
    pub cause: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoundView {
    pub round_no: i64,
    pub r#final: bool,
    pub status: RoundStatus,
    pub opened_at: i64,
    pub closes_at: i64,
    pub decrypt_ends_at: Option<i64>,
    pub revealed_at: Option<i64>,
    /// What the viewer may see: before the close the supervisors see who has sealed, a
    /// supplier its own, no one else anything; after the reading the panel sees all, a
    /// supplier still its own only.
    pub offers: Vec<OfferView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    pub notice_no: i64,
    pub text: String,
    pub issued_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub message_no: i64,
    /// The supplier whose thread it is.
    pub org_id: String,
    /// `panel` or `supplier`: who wrote it.
    pub from: &'static str,
    pub text: String,
    pub sent_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SupplierView {
    pub org_id: String,
    pub name: String,
    /// in | withdrawn
    pub status: String,
}

/// A supplier's final offer as the rule makes it (R-METH-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalOffer {
    pub org_id: String,
    pub bidder_name: String,
    /// The offer that stands, and the round it came in.
    pub offer_id: Option<String>,
    pub round_no: i64,
    pub price_fen: Option<i64>,
    /// final_offer | previous_stands | withdrawn | no_offer
    pub basis: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Me {
    pub role: crate::auth::Role,
    pub is_host: bool,
    pub on_panel: bool,
    pub supplier: Option<String>,
    /// The viewer's offer slot in the open round, if it may seal one.
    pub offer_id: Option<String>,
}

/// The negotiation's record as the panel, the host and supervisors see it.
#[derive(Debug, Clone, Serialize)]
pub struct MinutesView {
    pub text: String,
    pub price_reasoning: String,
    pub agreed_price_fen: i64,
    pub sha256: String,
    pub recorded_at: i64,
    /// The seats that signed, and when.
    pub signatures: Vec<MinutesSignature>,
    /// Signed by every seated member.
    pub complete: bool,
    /// For a seated expert: what to sign (`rules::minutes_payload`), until signed.
    pub my_payload: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MinutesSignature {
    pub seat: i64,
    pub signed_at: i64,
}

/// `GET /api/tenders/{id}/rounds`.
#[derive(Debug, Clone, Serialize)]
pub struct RoundsView {
    pub tender_id: String,
    pub method: String,
    pub has_rounds: bool,
    pub phase: Phase,
    pub now: i64,
    /// What a supplier that sends no final offer becomes (R-METH-2).
    pub no_final_offer: &'static str,
    pub suppliers: Vec<SupplierView>,
    pub notices: Vec<NoticeView>,
    /// The talks apart: a supplier's own thread, every thread for the tender's side.
    pub messages: Vec<MessageView>,
    pub rounds: Vec<RoundView>,
    pub result: Option<Vec<FinalOffer>>,
    /// The record of the negotiation (not shown to suppliers).
    pub minutes: Option<MinutesView>,
    pub me: Me,
}
