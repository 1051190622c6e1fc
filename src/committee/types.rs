//! The evaluation session's phases, commands and their acknowledgements, terms, errors,
//! and the views of it (docs/evaluation.md).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

pub use crate::evaluation::terms::{EvaluationTerms, TermItem};

/// Where an evaluation is. The tender is `evaluating` until `awarded` or `failed`.
/// Declared in order: later phases compare greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The agency asked for a panel; the finance supervisor's nonce draws it.
    Drawing,
    /// Drawn experts accept or decline; declines are topped up from the same order.
    Seating,
    /// 资格审查 by the agency or purchaser, one verdict per bid read out.
    Qualification,
    /// 符合性审查 by every expert, per bid, majority decides.
    Compliance,
    /// Blind scoring, objective agreement, outlier reasons, clarifications.
    Scoring,
    /// Every expert signs the report (or signs with dissent).
    Signing,
    /// The purchaser confirms the winner within 5 working days (R-EVAL-10).
    Reported,
    Awarded,
    /// R-EVAL-3 or no panel could be formed.
    Failed,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::Drawing,
        Phase::Seating,
        Phase::Qualification,
        Phase::Compliance,
        Phase::Scoring,
        Phase::Signing,
        Phase::Reported,
        Phase::Awarded,
        Phase::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Drawing => "drawing",
            Phase::Seating => "seating",
            Phase::Qualification => "qualification",
            Phase::Compliance => "compliance",
            Phase::Scoring => "scoring",
            Phase::Signing => "signing",
            Phase::Reported => "reported",
            Phase::Awarded => "awarded",
            Phase::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// R-EVAL-9: the only reasons a submitted score may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Arithmetic,
    OutOfRange,
    ObjectiveMismatch,
    WrongFacts,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Arithmetic => "arithmetic",
            ChangeKind::OutOfRange => "out_of_range",
            ChangeKind::ObjectiveMismatch => "objective_mismatch",
            ChangeKind::WrongFacts => "wrong_facts",
        }
    }
}

/// A command of the evaluation, from the hub (`evaluation:<tender>`) or
/// `POST /api/tenders/{id}/evaluation`. Commands without fields are written `{}` so that
/// an unknown field is refused for them too. Written `{"type": "<name>", <fields>}` and
/// read by [`crate::error::from_tagged`] (so the enum itself is externally tagged).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Agency: ask for a panel.
    RequestDraw {
        specialty: String,
        #[serde(default)]
        region: Option<String>,
        #[serde(default)]
        complex: bool,
        #[serde(default)]
        committee_size: Option<u32>,
    },
    /// Finance supervisor: the nonce that, with the ledger head, seeds the draw.
    Draw { nonce: String },
    /// A drawn expert takes the seat, with the declaration of no conflict (回避承诺)
    /// signed by their signing key (`rules::declaration_payload`).
    Accept {
        #[serde(default)]
        declaration: Option<Declaration>,
    },
    /// A drawn expert declines (R-EVAL-2: a top-up follows).
    Decline { reason: String },
    /// Agency or purchaser: 资格审查 of one bid.
    Qualify {
        bid_id: String,
        pass: bool,
        #[serde(default)]
        reason: String,
    },
    /// Expert: 符合性审查 of one bid. With the tender's checklist, a verdict per criterion
    /// (all of them; none at all when the bid passes every one): `pass` is then whether
    /// every criterion passed.
    Review {
        bid_id: String,
        pass: bool,
        #[serde(default)]
        reason: String,
        #[serde(default)]
        checks: BTreeMap<String, Check>,
    },
    /// Expert: scores for every item of one bid, each "0.00"–"100.00".
    Score {
        bid_id: String,
        items: std::collections::BTreeMap<String, String>,
        /// The band picked per item with a rubric (评分细则): the score must lie in it.
        #[serde(default)]
        bands: std::collections::BTreeMap<String, String>,
    },
    /// Expert: a change after submission, only for R-EVAL-9's reasons.
    Revise {
        bid_id: String,
        item: String,
        score: String,
        kind: ChangeKind,
        reason: String,
        /// The band picked, for an item with a rubric.
        #[serde(default)]
        band: Option<String>,
    },
    /// Expert: the written reason for a score far from the panel's mean.
    Explain {
        bid_id: String,
        item: String,
        reason: String,
    },
    /// Agency or expert: a clarification request to a bidder (R-EVAL-8 and others).
    Clarify { bid_id: String, question: String },
    /// Bidder: the answer to a clarification request about its own bid.
    AnswerClarification {
        clarification_id: String,
        text: String,
    },
    /// Agency: close scoring once complete; prices, scores and ranking are computed.
    FinishScoring {},
    /// Expert: sign the report with their certified key; `dissent` records disagreement.
    Sign {
        key_id: String,
        signature: String,
        #[serde(default)]
        dissent: String,
    },
    /// Purchaser: confirm the first-ranked candidate of every lot (R-EVAL-10).
    ConfirmWinner {},
    /// A seated expert speaks to the panel (互动区; supervisors read it).
    Say { text: String },
    /// A seated expert's vote for the chair (评标组长); a majority of the panel chooses.
    ElectChair { seat: i64 },
    /// Agency: draw the chair when the panel has not chosen one.
    DrawChair {},
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::RequestDraw { .. } => "request_draw",
            Command::Draw { .. } => "draw",
            Command::Accept { .. } => "accept",
            Command::Decline { .. } => "decline",
            Command::Qualify { .. } => "qualify",
            Command::Review { .. } => "review",
            Command::Score { .. } => "score",
            Command::Revise { .. } => "revise",
            Command::Explain { .. } => "explain",
            Command::Clarify { .. } => "clarify",
            Command::AnswerClarification { .. } => "answer_clarification",
            Command::FinishScoring {} => "finish_scoring",
            Command::Sign { .. } => "sign",
            Command::ConfirmWinner {} => "confirm_winner",
            Command::Say { .. } => "say",
            Command::ElectChair { .. } => "elect_chair",
            Command::DrawChair {} => "draw_chair",
        }
    }
}

/// What a command's acknowledgement carries: the phase the evaluation is in after it and
/// what the command did, by command (and where one has several outcomes, by outcome).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Ack {
    /// `request_draw`: the panel's size, and how many experts it needs drawn.
    DrawRequested {
        phase: Phase,
        committee_size: u32,
        experts_needed: u32,
    },
    /// `say`: the message's id.
    Posted {
        message_id: String,
    },
    /// `elect_chair` / `draw_chair`: the seat, its votes, and whether it is now the chair.
    ChairVote {
        seat: i64,
        votes: i64,
        chosen: bool,
    },
    /// `draw`: the seed and how many experts were invited.
    Drawn {
        phase: Phase,
        seed: String,
        panel: usize,
    },
    /// `accept` while seats are still open: the seat taken.
    Seated {
        phase: Phase,
        seat: i64,
    },
    /// `decline`: how many were invited in the decliner's place.
    ToppedUp {
        phase: Phase,
        topped_up: usize,
    },
    /// `decline` with the draw's order used up: the panel is dissolved (the draw error's
    /// code) and drawn again.
    Dissolved {
        phase: Phase,
        code: &'static str,
    },
    /// `qualify` and `review` before the last verdict: verdicts given of those due.
    Progress {
        phase: Phase,
        done: usize,
        total: usize,
    },
    /// The phase the command moved the evaluation to (the last seat taken, the last
    /// verdict given).
    Moved {
        phase: Phase,
    },
    Scored {
        bid_id: String,
        sha256: String,
    },
    Revised {
        bid_id: String,
        item: String,
        from: String,
        to: String,
    },
    Explained {
        bid_id: String,
        item: String,
    },
    /// `clarify` and `answer_clarification`.
    Clarification {
        clarification_id: String,
    },
    /// `finish_scoring`: the report to sign.
    ScoringClosed {
        phase: Phase,
        report_sha256: String,
    },
    /// `sign` before the last signature: signatures so far.
    Signed {
        phase: Phase,
        signed: i64,
    },
    /// `sign`, the last signature: the purchaser confirms the winner by `confirm_due_at`.
    Reported {
        phase: Phase,
        confirm_due_at: i64,
    },
    /// `confirm_winner`.
    Awarded {
        phase: Phase,
        winners: Vec<crate::ledger::Winner>,
    },
}

/// An expert's signature over the declaration of no conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    pub key_id: String,
    /// base64url of r‖s (ECDSA P-256 with SHA-256).
    pub signature: String,
}

/// An expert's verdict on one criterion of the compliance checklist; a failure gives its
/// reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub pass: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// Refusals particular to the evaluation; each leaves everything unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalRoomError {
    #[error("not drawn for this evaluation")]
    NotOnPanel,
    #[error("experts read documents in the room")]
    DownloadNotAllowed,
    #[error("the chair is chosen already")]
    ChairChosen,
    #[error("the chair finishes the scoring")]
    ChairFinishes,
    #[error("the panel has no chair yet")]
    ChairRequired,
    #[error("the chair signs first")]
    ChairSignsFirst,
    #[error("this document cannot be shown in the page")]
    NotViewable,
    #[error("already answered the invitation")]
    AlreadyResponded,
    #[error("the seat is taken with a signed declaration of no conflict")]
    DeclarationRequired,
    #[error("already reviewed")]
    AlreadyReviewed,
    #[error("the checklist is not complete")]
    ChecklistIncomplete { missing: String },
    #[error("no such criterion")]
    UnknownCriterion { name: String },
    #[error("the verdict disagrees with the checklist")]
    ChecklistMismatch,
    #[error("already scored; use revise")]
    AlreadyScored,
    #[error("score out of range")]
    ScoreOutOfRange { item: String },
    #[error("score outside the band")]
    ScoreOutOfBand { item: String, bands: String },
    #[error("unknown item")]
    UnknownItem { item: String },
    #[error("missing item")]
    MissingItem { item: String },
    #[error("others' scores are sealed until you submit yours")]
    ScoresSealed,
    #[error("bid not under evaluation")]
    BidNotEvaluated,
    #[error("scoring incomplete")]
    ScoringIncomplete { zh: String, en: String },
    #[error("no outlier to explain")]
    NotAnOutlier,
    #[error("already signed")]
    AlreadySigned,
    #[error("already answered")]
    AlreadyAnswered,
    #[error("the tender states no evaluation terms")]
    TermsMissing,
    #[error("the negotiation has not fixed the final offers")]
    NegotiationNotFinished,
    #[error("draw failed: {0}")]
    Draw(String, &'static str),
    #[error("terms refused: {en}")]
    Terms { zh: String, en: String },
}

impl crate::error::AreaError for EvalRoomError {
    fn code(&self) -> &'static str {
        EvalRoomError::code(self)
    }
    fn status(&self) -> StatusCode {
        EvalRoomError::status(self)
    }
    fn messages(&self) -> (String, String) {
        EvalRoomError::messages(self)
    }
}

impl From<EvalRoomError> for crate::error::AppError {
    fn from(e: EvalRoomError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

impl EvalRoomError {
    pub fn code(&self) -> &'static str {
        match self {
            EvalRoomError::NotOnPanel => "NOT_ON_PANEL",
            EvalRoomError::DownloadNotAllowed => "DOWNLOAD_NOT_ALLOWED",
            EvalRoomError::ChairChosen => "CHAIR_CHOSEN",
            EvalRoomError::ChairFinishes => "CHAIR_FINISHES",
            EvalRoomError::ChairRequired => "CHAIR_REQUIRED",
            EvalRoomError::ChairSignsFirst => "CHAIR_SIGNS_FIRST",
            EvalRoomError::NotViewable => "NOT_VIEWABLE",
            EvalRoomError::AlreadyResponded => "ALREADY_RESPONDED",
            EvalRoomError::DeclarationRequired => "DECLARATION_REQUIRED",
            EvalRoomError::AlreadyReviewed => "ALREADY_REVIEWED",
            EvalRoomError::ChecklistIncomplete { .. } => "CHECKLIST_INCOMPLETE",
            EvalRoomError::UnknownCriterion { .. } => "UNKNOWN_CRITERION",
            EvalRoomError::ChecklistMismatch => "CHECKLIST_MISMATCH",
            EvalRoomError::AlreadyScored => "ALREADY_SCORED",
            EvalRoomError::ScoreOutOfRange { .. } => "SCORE_OUT_OF_RANGE",
            EvalRoomError::ScoreOutOfBand { .. } => "SCORE_OUT_OF_BAND",
            EvalRoomError::UnknownItem { .. } => "UNKNOWN_ITEM",
            EvalRoomError::MissingItem { .. } => "MISSING_ITEM",
            EvalRoomError::ScoresSealed => "SCORES_SEALED",
            EvalRoomError::BidNotEvaluated => "BID_NOT_EVALUATED",
            EvalRoomError::ScoringIncomplete { .. } => "SCORING_INCOMPLETE",
            EvalRoomError::NotAnOutlier => "NOT_AN_OUTLIER",
            EvalRoomError::AlreadySigned => "ALREADY_SIGNED",
            EvalRoomError::AlreadyAnswered => "ALREADY_ANSWERED",
            EvalRoomError::TermsMissing => "EVAL_TERMS_MISSING",
            EvalRoomError::NegotiationNotFinished => "NEGOTIATION_NOT_FINISHED",
            EvalRoomError::Draw(_, code) => code,
            EvalRoomError::Terms { .. } => "EVAL_TERMS_INVALID",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            EvalRoomError::NotOnPanel
            | EvalRoomError::ScoresSealed
            | EvalRoomError::DownloadNotAllowed => StatusCode::FORBIDDEN,
            EvalRoomError::NotViewable => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            EvalRoomError::ScoreOutOfRange { .. }
            | EvalRoomError::ScoreOutOfBand { .. }
            | EvalRoomError::UnknownItem { .. }
            | EvalRoomError::MissingItem { .. }
            | EvalRoomError::ChecklistIncomplete { .. }
            | EvalRoomError::UnknownCriterion { .. }
            | EvalRoomError::ChecklistMismatch
            | EvalRoomError::Terms { .. }
            | EvalRoomError::DeclarationRequired => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        }
    }

    pub fn messages(&self) -> (String, String) {
        match self {
            EvalRoomError::ChairChosen => (
                "评标组长已经产生".into(),
                "The chair has been chosen already".into(),
            ),
            EvalRoomError::ChairFinishes => (
                "已产生评标组长：由评标组长代表评委会结束评分".into(),
                "The panel has a chair: the chair finishes the scoring for the panel".into(),
            ),
            EvalRoomError::ChairRequired => (
                "评标组长尚未产生：请评委推选评标组长，或由代理机构抽取；评分由评标组长结束".into(),
                "The panel has no chair yet: the experts choose one or the agency draws one; the chair finishes the scoring".into(),
            ),
            EvalRoomError::ChairSignsFirst => (
                "评标报告由评标组长先签署，其后其他评委签署".into(),
                "The chair signs the report first; the other experts after".into(),
            ),
            EvalRoomError::DownloadNotAllowed => (
                "评审专家在评标室内阅读投标文件，不能下载".into(),
                "Experts read the bid documents in the room; they are not downloaded".into(),
            ),
            EvalRoomError::NotViewable => (
                "该文件不能在页面中显示(可显示 PDF、图片和纯文本)".into(),
                "This document cannot be shown in the page (PDF, images and plain text can)".into(),
            ),
            EvalRoomError::NotOnPanel => (
                "您不是本项目评标委员会成员".into(),
                "You are not on this evaluation's panel".into(),
            ),
            EvalRoomError::AlreadyResponded => (
                "已答复过本次抽取邀请".into(),
                "You have answered this invitation already".into(),
            ),
            EvalRoomError::DeclarationRequired => (
                "接受邀请前须以签名密钥签署回避承诺".into(),
                "Taking the seat needs the declaration of no conflict, signed with your signing key".into(),
            ),
            EvalRoomError::AlreadyReviewed => (
                "您已审查过该投标".into(),
                "You have reviewed this bid already".into(),
            ),
            EvalRoomError::ChecklistIncomplete { missing } => (
                format!("请对每一审查项作出结论,缺少:{missing}"),
                format!("Give a verdict on every criterion; missing: {missing}"),
            ),
            EvalRoomError::UnknownCriterion { name } => (
                format!("招标文件没有审查项“{name}”"),
                format!("The tender has no criterion \"{name}\""),
            ),
            EvalRoomError::ChecklistMismatch => (
                "审查结论须与各审查项一致:全部符合为通过,任一不符合为不通过".into(),
                "The verdict must follow the checklist: pass when every criterion passes, fail when any fails".into(),
            ),
            EvalRoomError::AlreadyScored => (
                "您已提交该投标的评分;如需更正,请按规定说明理由修改".into(),
                "You have scored this bid; a change needs one of the allowed reasons".into(),
            ),
            EvalRoomError::ScoreOutOfRange { item } => (
                format!("评分项“{item}”的分值须在 0–100 之间,最多两位小数"),
                format!("Item \"{item}\" takes a score from 0 to 100 with at most two decimals"),
            ),
            EvalRoomError::ScoreOutOfBand { item, bands } => (
                format!("评分项“{item}”的分值须在所选档次的分值范围内({bands})"),
                format!("Item \"{item}\" takes a score within the band picked ({bands})"),
            ),
            EvalRoomError::UnknownItem { item } => (
                format!("招标文件没有评分项“{item}”"),
                format!("The tender has no item \"{item}\""),
            ),
            EvalRoomError::MissingItem { item } => (
                format!("缺少评分项“{item}”的分值"),
                format!("No score for item \"{item}\""),
            ),
            EvalRoomError::ScoresSealed => (
                "提交本人对该投标的评分后,才能查看其他专家的评分".into(),
                "Others' scores for this bid open only after you submit yours".into(),
            ),
            EvalRoomError::BidNotEvaluated => (
                "该投标不在本阶段的评审范围内".into(),
                "This bid is not under evaluation at this stage".into(),
            ),
            EvalRoomError::ScoringIncomplete { zh, en } => (
                format!("评分尚未完成：{zh}"),
                format!("Scoring is not complete: {en}"),
            ),
            EvalRoomError::NotAnOutlier => (
                "该评分未被标记为偏离,无需说明".into(),
                "This score is not flagged as far from the mean".into(),
            ),
            EvalRoomError::AlreadySigned => (
                "您已签署评标报告".into(),
                "You have signed the report already".into(),
            ),
            EvalRoomError::AlreadyAnswered => (
                "该澄清已答复".into(),
                "This clarification is answered already".into(),
            ),
            EvalRoomError::TermsMissing => (
                "招标文件未载明评标方法和评分项".into(),
                "The tender states no evaluation method and items".into(),
            ),
            EvalRoomError::NegotiationNotFinished => (
                "谈判/磋商尚未结束:最后报价确定后才能结束评分".into(),
                "The negotiation is not finished: scoring closes on the final offers".into(),
            ),
            EvalRoomError::Draw(msg, _) => {
                // Draw errors read "中文 / English".
                let (zh, en) = msg.split_once(" / ").unwrap_or((msg, msg));
                (
                    format!("专家抽取失败：{zh}"),
                    format!("The draw failed: {en}"),
                )
            }
            EvalRoomError::Terms { zh, en } => (
                format!("评标办法不符合规定：{zh}"),
                format!("The evaluation terms are not allowed: {en}"),
            ),
        }
    }
}

// ---- what each member sees (`GET /api/tenders/{id}/evaluation` and its neighbours) ----
//
// What is withheld from whom (docs/evaluation.md, R-EVAL-2) is decided in `view.rs`; the
// fields that carry it are `null` for those who may not see them, never absent.

/// The evaluation as one member sees it.
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationView {
    pub tender: TenderSummary,
    /// `null` until the agency asks for a panel.
    pub phase: Option<Phase>,
    pub me: Viewer,
    pub terms: Option<EvaluationTerms>,
    pub server_time: i64,
    /// The collusion warnings the supervisors confirmed (O87 art 37; docs/collusion.md):
    /// the committee is told of them.
    pub confirmed_warnings: Vec<crate::collusion::repo::Confirmed>,
    /// The session's fields, side by side with the above; absent until the agency asks
    /// for a panel.
    #[serde(flatten)]
    pub session: Option<SessionView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenderSummary {
    pub id: String,
    pub code: String,
    pub title: String,
    pub category: String,
    pub method: String,
    pub status: String,
}

/// The viewer's own standing.
#[derive(Debug, Clone, Serialize)]
pub struct Viewer {
    /// expert | host | purchaser | supervisor
    pub role: &'static str,
    pub finance: bool,
    /// A drawn expert's own id, seat and seat status (`null` for everyone else).
    pub expert_id: Option<String>,
    pub seat: Option<i64>,
    /// invited | accepted | declined
    pub status: Option<String>,
    /// What an invited expert signs to take the seat; absent for everyone else and before
    /// the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declaration: Option<DeclarationRequest>,
}

/// The declaration of no conflict (回避承诺) to sign, and the exact payload signed.
#[derive(Debug, Clone, Serialize)]
pub struct DeclarationRequest {
    /// `conflict_declaration`
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub statement: &'static str,
    pub statement_en: &'static str,
    pub statement_sha256: String,
    pub tender_id: String,
    /// The expert by this evaluation's pseudonym.
    pub expert_id: String,
    pub example_payload: String,
}

/// The session, once the agency asked for a panel.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub requirement: crate::draw::Requirement,
    /// `null` until the finance supervisor draws.
    pub draw: Option<DrawSummary>,
    pub panel: Vec<PanelSeatView>,
    pub bids: Vec<BidView>,
    pub progress: ProgressView,
    pub failed_reason: Option<String>,
    /// The lots that fell at compliance, as stored with the prices (`null` before).
    pub failed_lots: serde_json::Value,
    /// Per lot, as the stored report has it (`null` until scoring closes).
    pub result: serde_json::Value,
    /// `null` until scoring closes.
    pub report: Option<ReportView>,
    /// The chair (评标组长) once chosen, and the votes so far.
    pub chair: Option<ChairView>,
    pub chair_votes: Vec<ChairVotes>,
    pub confirm_due_at: Option<i64>,
    pub reported_at: Option<i64>,
    pub awarded_at: Option<i64>,
}

/// The panel's chair: the seat, and whether it was drawn rather than voted.
#[derive(Debug, Clone, Serialize)]
pub struct ChairView {
    pub seat: i64,
    pub drawn: bool,
}

/// Votes for a seat as chair.
#[derive(Debug, Clone, Serialize)]
pub struct ChairVotes {
    pub seat: i64,
    pub votes: i64,
}

/// The draw in figures: the public record has the rest.
#[derive(Debug, Clone, Serialize)]
pub struct DrawSummary {
    pub seed: String,
    pub nonce: String,
    pub ledger_head: String,
    pub committee_size: u32,
    pub experts_needed: u32,
    /// How many of the pool were not eligible.
    pub excluded: usize,
    /// Per reason (an expert with two reasons counts under both).
    pub excluded_by: BTreeMap<String, usize>,
    pub declined: usize,
}

/// A seat of the panel.
#[derive(Debug, Clone, Serialize)]
pub struct PanelSeatView {
    pub seat: i64,
    /// invited | accepted | declined
    pub status: String,
    /// For supervisors, drawn experts and, after the award, everyone; else `null`.
    pub expert_id: Option<String>,
    /// For supervisors, the expert themself and, after the award, everyone; else `null`.
    pub name: Option<String>,
    /// The expert's login, for supervisors only; else `null`.
    pub username: Option<String>,
    pub reviews_done: usize,
    pub scores_done: usize,
}

/// A bid read out at the opening, as the committee works on it.
#[derive(Debug, Clone, Serialize)]
pub struct BidView {
    pub bid_id: String,
    pub lot_no: i64,
    pub position: i64,
    pub bidder_name: String,
    pub price: crate::money::Money,
    pub price_words: String,
    pub brand: Option<String>,
    /// Empty for a drawn expert not (or no longer) seated.
    pub documents: Vec<crate::ledger::Document>,
    /// The qualification verdict (`null` until given).
    pub qualification: Option<Verdict>,
    pub reviews: ReviewTally,
    /// `null` until the compliance reviews are done.
    pub compliant: Option<bool>,
    /// The evaluated price and the abnormally-low flag, as stored with the prices
    /// (`null` before, or for a bid not priced).
    pub evaluated: serde_json::Value,
    pub abnormally_low: serde_json::Value,
    pub clarifications: Vec<super::repo::Clarification>,
    /// The viewer's own scores by item (`null` if the viewer has not scored this bid).
    pub my_scores: Option<BTreeMap<String, String>>,
    /// Every expert's scores by seat: for supervisors, for an expert who has scored this
    /// bid, and for everyone once signing begins; else `null`.
    pub scores: Option<Vec<SeatSheet>>,
    /// The panel's flags on this bid: all of them where `scores` is shown, else the
    /// viewer's own.
    pub flags: Vec<FlagView>,
    /// After a negotiation: `final_offer` (the price shown is the final offer, to be
    /// evaluated when scoring closes) or `out` (withdrew or sent no final offer); `null`
    /// without one.
    pub negotiated: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub pass: bool,
    pub reason: String,
}

/// The compliance reviews of a bid.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewTally {
    pub done: usize,
    pub pass: usize,
    pub fail: usize,
    /// The viewer's own review (`null` if none).
    pub mine: Option<Verdict>,
    /// The verdicts so far per criterion of the checklist, in its order (empty without one).
    pub criteria: Vec<CriterionTally>,
    /// The viewer's own verdict per criterion (empty until reviewed or without a checklist).
    pub my_checks: BTreeMap<String, Check>,
}

/// How many experts passed and failed a bid on one criterion of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriterionTally {
    pub name: String,
    pub pass: usize,
    pub fail: usize,
}

impl CriterionTally {
    pub fn of(tally: Vec<(String, usize, usize)>) -> Vec<CriterionTally> {
        tally
            .into_iter()
            .map(|(name, pass, fail)| CriterionTally { name, pass, fail })
            .collect()
    }
}

/// One seat's scores of a bid, with the reasons given for outliers.
#[derive(Debug, Clone, Serialize)]
pub struct SeatSheet {
    pub seat: i64,
    pub items: BTreeMap<String, String>,
    pub reasons: BTreeMap<String, String>,
}

/// A score the panel must look at again, by seat.
#[derive(Debug, Clone, Serialize)]
pub struct FlagView {
    /// objective_mismatch | outlier
    pub kind: &'static str,
    pub item: String,
    pub seat: Option<i64>,
    pub mine: bool,
    pub explained: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgressView {
    pub reviews_done: usize,
    pub reviews_total: usize,
    pub scores_done: usize,
    pub scores_total: usize,
}

/// The report once scoring closed: its digest, who signed, the winners it names.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub sha256: String,
    pub signed: Vec<SignatureView>,
    pub winners: Vec<crate::ledger::Winner>,
    /// What the viewer signs, for a drawn expert (`null` for everyone else).
    pub signing: Option<SigningRequest>,
}

/// A signature of the report, by seat.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureView {
    pub seat: Option<i64>,
    pub at: i64,
    pub dissent: String,
    pub mine: bool,
}

/// The report's signature to make, and the exact payload signed (without dissent).
#[derive(Debug, Clone, Serialize)]
pub struct SigningRequest {
    /// `evaluation_report_signature`
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub tender_id: String,
    pub report_sha256: String,
    /// The expert by this evaluation's pseudonym.
    pub expert_id: String,
    pub example_payload: String,
}

/// Every seat's scores of one bid (`GET …/evaluation/scores`).
#[derive(Debug, Clone, Serialize)]
pub struct BidScores {
    pub bid_id: String,
    pub scores: Vec<SeatScores>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeatScores {
    pub seat: i64,
    pub items: BTreeMap<String, String>,
}

/// A bidder's own clarifications (`GET /api/tenders/{id}/clarifications`).
#[derive(Debug, Clone, Serialize)]
pub struct OwnClarifications {
    pub clarifications: Vec<super::repo::Clarification>,
}
