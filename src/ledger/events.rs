//! The body of every ledger event, typed: one struct per [`Kind`](super::Kind), named as
//! the kind's variant, held by that variant of [`LedgerEvent`](super::LedgerEvent). The
//! producers build these; readers that need a field parse the body back into its struct
//! ([`Event::body_as`](super::Event::body_as) for one kind,
//! [`LedgerEvent::parse`](super::LedgerEvent::parse) for any).
//!
//! The JSON is frozen: the hash of every event is over its body's canonical JSON, so a
//! struct here must serialize to exactly what the platform wrote before it existed — the
//! same field names, integers as integers, `null` where a value is missing (an `Option`
//! without `skip_serializing_if`), and no field that was never written (a legacy field is
//! an `Option` skipped when `None`). Fields added after a kind's first version carry
//! `#[serde(default)]` so that older ledgers still parse. The tests below check every body
//! of the fixture ledger written at d365dad, and the kinds it lacks.
//!
//! Field types are plain: where an area's enum is written (a phase, a status, a kind of
//! objection), the body holds its string form. Two bodies embed a document whose shape
//! belongs to the area that made it and is specified there, held as `serde_json::Value`:
//! the opening sheet of a bid read out (`bid::package::OpeningSheet`, docs/bid-format.md)
//! and the draw record and its requirement (`draw::DrawRecord`, `draw::Requirement`,
//! docs/draw.md); the ledger sits below both areas and cannot name their types.

use serde::{Deserialize, Serialize};
use serde_json::Value;

// ---- the tender ----

/// A draft's fields as the agency entered them (`tender_updated`, and with the code and
/// agency `tender_created`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenderDraft {
    pub title: String,
    pub region_code: String,
    pub purchaser_org_id: String,
    /// goods | works | services
    pub category: String,
    pub method: String,
    pub lots: Vec<LotDraft>,
    pub clarify_deadline: i64,
    pub bid_deadline: i64,
    pub decrypt_window_mins: i64,
    pub custodian_ids: Vec<String>,
    pub custodian_threshold: i64,
    /// The procurement plan it is made from (since plans; absent for a tender without).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// The bid deposit asked (since deposits; absent for a tender that asks none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposit_fen: Option<i64>,
}

/// A lot as entered (no number yet).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LotDraft {
    pub name: String,
    pub budget_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenderCreated {
    #[serde(flatten)]
    pub draft: TenderDraft,
    pub code: String,
    pub agency_org_id: String,
}

/// A draft edited: its fields as they now are.
pub type TenderUpdated = TenderDraft;

/// The announcement as published, so that the ledger alone shows what was announced (the
/// description by its SHA-256).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenderPublished {
    pub code: String,
    pub title: String,
    pub region_code: String,
    pub purchaser_org_id: String,
    pub agency_org_id: String,
    pub category: String,
    pub method: String,
    pub description_sha256: String,
    pub lots: Vec<Lot>,
    pub clarify_deadline: i64,
    pub bid_deadline: i64,
    pub decrypt_window_mins: i64,
    pub custodian_ids: Vec<String>,
    pub custodian_threshold: i64,
    #[serde(default)]
    pub opening_key: OpeningKey,
    /// SHA-256 of the tender documents as the template rendered them at publication
    /// (`tender::template`); absent in tenders published before the templates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents_sha256: Option<String>,
    /// The bid deposit asked (since deposits; absent for a tender that asks none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposit_fen: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lot {
    pub lot_no: i64,
    pub name: String,
    pub budget_fen: i64,
}

/// The tender's opening key as published: the public key, its share commitments, and
/// which custodian holds which sealed share (by the sealed share's SHA-256).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OpeningKey {
    /// SEC1 uncompressed, base64url.
    pub public_key: String,
    pub key_id: String,
    pub threshold: i64,
    pub commitments: Vec<String>,
    pub shares: Vec<SealedShare>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SealedShare {
    pub index: u32,
    pub custodian: String,
    /// The custodian's encryption key the share is sealed to.
    pub custodian_key: String,
    pub sealed_sha256: String,
}

/// 更正公告: its number, reason and each field changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenderAmended {
    pub amendment: i64,
    pub reason: String,
    pub changes: AmendmentChanges,
    /// Whether the agency declared that it may affect bid preparation (R-DOC-2); absent
    /// in amendments recorded before the declaration existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affects_bids: Option<bool>,
}

/// The fields an amendment changed, each from → to; a field it left alone is absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AmendmentChanges {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Change<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clarify_deadline: Option<Change<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid_deadline: Option<Change<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decrypt_window_mins: Option<Change<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lots: Option<Change<Vec<LotDraft>>>,
}

impl AmendmentChanges {
    pub fn is_empty(&self) -> bool {
        *self == AmendmentChanges::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change<T> {
    pub from: T,
    pub to: T,
}

impl<T: PartialEq> Change<T> {
    /// The change from `from` to `to`, if they differ.
    pub fn of(from: T, to: T) -> Option<Change<T>> {
        (from != to).then_some(Change { from, to })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenderCancelled {
    pub reason: String,
    /// The tender's status it was cancelled from (draft | published).
    pub from: String,
}

// ---- the bid register ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidSubmitted {
    pub bid_id: String,
    pub ciphertext_sha256: String,
    pub size: u64,
    /// The bid of the same bidder and lot this one replaces (`null` if none).
    pub replaces: Option<String>,
    /// SHA-256 of the signed receipt's canonical JSON (docs/bid-format.md "Submission").
    pub receipt_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidWithdrawn {
    pub bid_id: String,
}

/// A supplier obtained the tender's documents (in the bid register: who and how many stay
/// secret until the deadline, R-DOC-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentsObtained {
    pub org_id: String,
}

/// A supplier recorded its bid deposit (in the bid register: who paid and how many stay
/// secret until the deadline, R-DOC-3, R-DEP-1): a `payment` with its account by the
/// SHA-256 of the digits (R-COL-6 compares them; the number itself is not in the ledger),
/// or a `guarantee` as declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepositRecorded {
    pub org_id: String,
    /// payment | guarantee
    pub kind: String,
    pub amount_fen: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<i64>,
}

/// The agency refunded a deposit (or released a guarantee), against its due date: in the
/// tender's chain once the register is sealed, in the register of a tender cancelled
/// before its deadline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepositRefunded {
    pub org_id: String,
    pub refund_due_at: i64,
}

/// A supplier asked about the documents (in the bid register, for the same reason); the
/// text by its digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionAsked {
    pub question_id: String,
    pub text_sha256: String,
    pub reply_due_at: i64,
}

/// The agency's answer, published to every holder of the documents with the question and
/// never the asker (in the tender's ledger).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionAnswered {
    pub question_id: String,
    pub question: String,
    pub answer: String,
}

// ---- the opening ----

/// At the deadline: each submitted bid's ciphertext hash, the uploads refused as late, and
/// the head of the bid register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidsSealed {
    pub bid_deadline: i64,
    pub count: usize,
    pub bids: Vec<SealedBid>,
    pub late_uploads: usize,
    /// Absent in ledgers written before the bid register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bid_register: Option<RegisterHead>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SealedBid {
    pub bid_id: String,
    pub lot_no: i64,
    pub ciphertext_sha256: Option<String>,
    pub size: i64,
}

/// The bid register as it stands at the seal: its head and its number of events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterHead {
    pub head: String,
    pub events: usize,
}

/// A lot's quorum, at the start and again after revealing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LotQuorum {
    pub lot_no: i64,
    /// Distinct bidders with a sealed bid in the lot.
    pub bidders: i64,
    pub min_bidders: i64,
    /// After revealing: bids read out, those naming the same brand counted once.
    pub counted: Option<i64>,
    /// open | failed
    pub status: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpeningStarted {
    /// The host's user id.
    pub host: String,
    pub decrypt_ends_at: i64,
    pub lots: Vec<LotQuorum>,
    /// The bids to decrypt (those of lots still standing), in the opening's order.
    pub bids: Vec<String>,
    /// `draw` when the tender reads out in a drawn order (absent: by receipt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reading_order: Option<String>,
    /// The hash of the `bids_sealed` event the order was drawn from
    /// (`opening::rules::drawn_order`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drawn_from: Option<String>,
}

/// 流标 at the start: no lot reached its quorum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpeningFailed {
    /// quorum
    pub reason: String,
    pub lots: Vec<LotQuorum>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidderDecrypted {
    pub bid_id: String,
    pub bidder_org_id: String,
    pub lot_no: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecryptionClosed {
    /// all_decrypted | window_ended
    pub reason: String,
    pub decrypted: i64,
    pub not_decrypted: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareSubmitted {
    pub index: u32,
    /// The custodian's user id.
    pub custodian: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustodiansOverdue {
    /// The share indices not yet brought.
    pub missing: Vec<i64>,
    pub waiting_since: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenderKeyRebuilt {
    pub key_id: String,
    pub indices: Vec<u32>,
}

/// A bid read out (唱标): its opening sheet and the documents opened with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidReadOut {
    pub bid_id: String,
    pub bidder_org_id: String,
    pub bidder_name: String,
    pub lot_no: i64,
    /// The opening sheet as the bid package holds it (`bid::package::OpeningSheet`).
    pub sheet: Value,
    #[serde(default)]
    pub documents: Vec<Document>,
}

/// A document of a bid, kept as a blob named by its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub name: String,
    pub size: u64,
    pub media_type: String,
    pub sha256: String,
}

/// A bid that does not open or whose sheet is not usable, and why (R-OPEN-4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidInvalid {
    pub bid_id: String,
    pub bidder_org_id: String,
    pub bidder_name: String,
    pub lot_no: i64,
    pub cause: InvalidCause,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvalidCause {
    pub code: String,
    pub message: String,
    /// revoked (撤销, the bidder's doing) | withdrawn (撤回, someone else's)
    pub deemed: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevealingDone {
    pub lots: Vec<LotQuorum>,
    pub confirm_ends_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectionRaised {
    pub objection_id: String,
    pub bidder_org_id: String,
    pub bidder_name: String,
    /// question | recusal
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectionAnswered {
    pub objection_id: String,
    pub text: String,
    /// The host's user id.
    pub by: String,
}

/// Someone signed in to the opening hall (签到) with their signing key: a bidder (before
/// the deadline in the bid register, as secret as the bids; after it in the tender's
/// chain), or the host or a supervisor present (到场). The signature is over `statement`,
/// which names the tender, the organisation and the person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedIn {
    /// `bidder`, `host`, or the supervisor's role.
    pub role: String,
    /// The bidder's organisation (a host's or supervisor's own).
    pub org_id: Option<String>,
    /// The bidder's organisation's name; a host's or supervisor's own name.
    pub name: String,
    pub statement: String,
    pub key_id: String,
    pub signature: String,
}

/// A message in a room's channel (互动区), by its digest: the text is in the archive,
/// read by its audience only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagePosted {
    pub room: String,
    pub message_id: String,
    /// public | host | private | panel
    pub audience: String,
    pub text_sha256: String,
}

/// The panel's chair (评标组长): the seat a majority of the panel voted for (`votes`), or
/// drawn from the ledger's head at the agency's request (`drawn`, `votes` 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChairChosen {
    pub seat: i64,
    pub votes: i64,
    pub drawn: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordConfirmed {
    pub bidder_org_id: String,
    pub bidder_name: String,
}

/// The opening record signed: its SHA-256 and signature, the ledger head it closes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpeningClosed {
    pub record_sha256: String,
    pub ledger_head: String,
    pub signature: String,
    pub deemed_confirmed: Vec<String>,
    /// evaluation | failed
    pub outcome: String,
}

/// A recording of the room's media, stored as a blob named by its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingStored {
    pub room: String,
    pub participant: String,
    pub track_id: String,
    /// audio | video
    pub kind: String,
    pub content_type: String,
    pub sha256: String,
    pub bytes: u64,
    pub packets: u64,
    pub dropped: u64,
    /// Left unfinished by a server that stopped mid-session (killed) and kept at its next
    /// start as it was written: `participant` is then the file's name, `packets` unknown (0).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub salvaged: bool,
}

// ---- the evaluation ----

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationRequested {
    /// The draw's requirement (`draw::Requirement`).
    pub requirement: Value,
    pub committee_size: u32,
    pub experts_needed: u32,
    /// Since the experts' pseudonyms (513bf9d).
    #[serde(default)]
    pub pseudonym_key_sha256: String,
}

/// A replayable expert draw: the whole `draw::DrawRecord` (docs/draw.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExpertsDrawn(pub Value);

/// An expert takes a seat, with the digest of their signed declaration of no conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpertAccepted {
    pub seat: i64,
    /// The expert's pseudonym (before 513bf9d the body had `expert_id`).
    #[serde(default)]
    pub expert: String,
    /// Since the declaration of no conflict (f91ca41).
    #[serde(default)]
    pub declaration_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpertDeclined {
    pub seat: i64,
    /// The expert's pseudonym (before 513bf9d the body had `expert_id`).
    #[serde(default)]
    pub expert: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelSeated {
    pub seats: usize,
}

/// The draw order is used up by declines: a new panel is drawn (R-EVAL-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelDissolved {
    /// The draw's error code.
    pub reason: String,
    pub declined: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BidReviewed {
    pub seat: i64,
    pub bid_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualificationDone {
    pub passed: Vec<String>,
    pub failed: Vec<String>,
    pub failed_lots: Vec<FailedLot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplianceDone {
    pub passed: Vec<String>,
    pub failed: Vec<String>,
    /// Bids whose price is flagged abnormally low (R-EVAL-8).
    pub abnormally_low: Vec<String>,
    pub failed_lots: Vec<FailedLot>,
}

/// A lot that falls below its minimum of bids at a review (R-EVAL-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedLot {
    pub lot_no: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClarificationRequested {
    pub clarification_id: String,
    pub bid_id: String,
    pub question_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClarificationAnswered {
    pub clarification_id: String,
    pub bid_id: String,
    pub answer_sha256: String,
}

/// An expert's sheet for one bid, by its digest only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoresSubmitted {
    pub seat: i64,
    pub bid_id: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRevised {
    pub seat: i64,
    pub bid_id: String,
    pub item: String,
    /// arithmetic | out_of_range | objective_mismatch | wrong_facts (R-EVAL-9)
    pub kind: String,
    pub reason_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutlierExplained {
    pub seat: i64,
    pub bid_id: String,
    pub item: String,
    pub reason_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringClosed {
    pub report_sha256: String,
}

/// A seated expert signed the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSigned {
    pub seat: i64,
    pub dissent: bool,
    /// SHA-256 of the signature (since 513bf9d).
    #[serde(default)]
    pub signature_sha256: String,
    /// Written instead of `signature_sha256` before 513bf9d; never now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportCompleted {
    pub report_sha256: String,
    pub signatures: i64,
    pub confirm_due_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WinnerConfirmed {
    /// purchaser | deadline
    pub by: String,
    pub winners: Vec<Winner>,
    /// The experts' pseudonym key, told at the award (since 513bf9d; `null` for an
    /// evaluation begun before).
    #[serde(default)]
    pub pseudonym_key: Option<String>,
}

/// The first-ranked bid of a lot that stands (R-EVAL-10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Winner {
    pub lot_no: i64,
    pub bid_id: String,
    pub bidder_name: String,
    pub unresolved_tie: bool,
}

/// The result notice published and the letters issued, each by the digest of the document
/// the platform signed (R-AWARD-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultPublished {
    pub notice_sha256: String,
    pub publicity_ends_at: i64,
    pub letters: Vec<LetterRef>,
}

/// A letter to one bidder: `award` (中标/成交通知书) or `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LetterRef {
    pub org_id: String,
    pub kind: String,
    pub letter_sha256: String,
}

/// A bidder's challenge (质疑) of the result: its grounds and signature by digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengeFiled {
    pub challenge_id: String,
    pub org_id: String,
    pub grounds_sha256: String,
    pub signature_sha256: String,
    pub reply_due_at: i64,
    /// The evidence files' SHA-256, signed with the grounds (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_sha256: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengeAnswered {
    pub challenge_id: String,
    pub upheld: bool,
    pub reply_sha256: String,
}

/// The challenger's complaint (投诉) to finance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplaintFiled {
    pub complaint_id: String,
    pub challenge_id: String,
    pub org_id: String,
    pub grounds_sha256: String,
    pub signature_sha256: String,
    pub examine_due_at: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_sha256: Vec<String>,
}

/// Finance accepted the complaint (with the decision's deadline) or did not (不予受理,
/// the reason by digest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplaintExamined {
    pub complaint_id: String,
    pub accepted: bool,
    pub decision_due_at: Option<i64>,
    pub reason_sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcurementSuspended {
    pub complaint_id: String,
    pub until: i64,
}

/// Finance's decision: `upheld` or `groundless`; `bad_conduct` when it put the
/// complainant on the bad-conduct list (R-CHAL-4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplaintDecided {
    pub complaint_id: String,
    pub outcome: String,
    pub decision_sha256: String,
    pub bad_conduct: bool,
}

/// A contract drafted for an awarded lot from its award letter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractDrafted {
    pub contract_id: String,
    pub lot_no: i64,
    pub supplier_org_id: String,
    pub amount_fen: i64,
    pub document_sha256: String,
}

/// One party's signature (`purchaser` or `supplier`) of the document by its digest;
/// `complete` when both have signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractSigned {
    pub contract_id: String,
    pub party: String,
    pub document_sha256: String,
    pub signature_sha256: String,
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractPublished {
    pub contract_id: String,
    pub document_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractFiled {
    pub contract_id: String,
    pub document_sha256: String,
}

/// A supplementary contract: its amount and the supplements' total so far (R-CON-4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractSupplemented {
    pub contract_id: String,
    pub amount_fen: i64,
    pub total_fen: i64,
    pub reason_sha256: String,
}

/// A round of acceptance signed by the purchasing unit: passed, or failed (a remedy opens).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcceptanceSigned {
    pub acceptance_id: String,
    pub contract_id: String,
    pub round: i64,
    pub passed: bool,
    pub document_sha256: String,
    pub signature_sha256: String,
    /// The acceptance panel's signatures, by digest, in the report's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_signatures_sha256: Vec<String>,
}

/// The supplier's answer to a failed acceptance (its text by digest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemedyReplied {
    pub acceptance_id: String,
    pub contract_id: String,
    pub reply_sha256: String,
}

/// The supplier asks to be paid (R-PAY-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentRequested {
    pub request_id: String,
    pub contract_id: String,
    pub amount_fen: i64,
}

/// The purchasing unit approves a payment request, or rejects it with a reason (by digest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentDecided {
    pub request_id: String,
    pub approved: bool,
    pub reason_sha256: Option<String>,
}

/// A payment made: its amount, the day and the bank's reference, and the total paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentMade {
    pub request_id: String,
    pub contract_id: String,
    pub amount_fen: i64,
    pub paid_on: String,
    pub reference: String,
    pub total_paid_fen: i64,
    /// Paid into the account of this financing (its `financing_decided` names the
    /// account by digest); none, the supplier's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub financing_application_id: Option<String>,
}

/// A four-party rating given, by digest of the rating itself (rater, ratee, scores,
/// comment): the public ledger tells neither who rated whom nor how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingGiven {
    pub rating_id: String,
    pub contract_id: String,
    pub rating_sha256: String,
}

/// A supplier asked a bank to finance its contract (the application by digest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingApplied {
    pub application_id: String,
    pub contract_id: String,
    pub application_sha256: String,
}

/// The bank's decision by digest; approved, the contract is paid into its account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinancingDecided {
    pub application_id: String,
    pub contract_id: String,
    pub approved: bool,
    pub decision_sha256: String,
}

/// A supervisor's decision on a collusion warning (in the tender's warnings chain, which
/// only supervisors read): the warning, the bids, confirmed or dismissed, the reason's
/// digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningDecided {
    pub key: String,
    pub rule: String,
    pub kind: String,
    pub bids: Vec<String>,
    pub confirmed: bool,
    pub reason_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluationFailed {
    pub reason: String,
}

// ---- before the tender: a plan's chain (`plan:<id>`) ----

/// The purchasing unit filed a plan on a budget line (R-PLAN-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanFiled {
    pub code: String,
    pub budget_line_id: String,
    pub budget_line_code: String,
    pub title: String,
    pub category: String,
    pub method: String,
    pub amount_fen: i64,
    pub imported: bool,
    pub expected_month: String,
    /// The lawful exception to R-PLAN-1's 30 days, with its reason; `null` without.
    pub intention_exception: Option<String>,
    pub exception_reason: String,
}

/// The plan's procurement intention went public (R-PLAN-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentionPublished {
    pub intention_id: String,
    pub description: String,
}

/// The unit withdrew the plan; its amount went back to the budget line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCancelled {}

/// A tender drew `amount_fen` from the plan (0: it gave back what it drew).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanDrawn {
    pub tender_id: String,
    pub amount_fen: i64,
}

/// An attachment named by its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub name: String,
    pub size: i64,
    pub sha256: String,
}

/// The unit asked finance to approve the plan's method or imported products (R-METH-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRequested {
    pub approval_id: String,
    /// method | import
    pub kind: String,
    pub method: String,
    pub reasons: String,
    pub sole_supplier_name: Option<String>,
    pub sole_supplier_code: Option<String>,
    pub attachments: Vec<AttachmentRef>,
    /// The end of a single-source request's publicity; `null` for others.
    pub publicity_ends_at: Option<i64>,
}

/// A supplier objected to a single-source request during its publicity (the actor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalObjected {
    pub approval_id: String,
    pub objection_id: String,
    pub text: String,
}

/// Finance approved or refused, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalDecided {
    pub approval_id: String,
    pub approved: bool,
    pub reason: String,
}

// ---- Rounds of offers (docs/rounds.md): digests and ids only, never a price, since every
// member of the tender's rooms, suppliers too, receives these events ----

/// The negotiation begins with the suppliers that passed the review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NegotiationStarted {
    pub suppliers: Vec<String>,
    /// What a supplier without a final offer becomes: withdrawn | previous_stands.
    pub no_final_offer: String,
}

/// A written notice to every supplier still in (a changed term, a clarification): the
/// text by its digest; the suppliers read it on the rounds page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NegotiationNotice {
    pub notice_no: i64,
    pub text_sha256: String,
    pub suppliers: Vec<String>,
}

/// A message of the talk with one supplier apart: whose thread, who wrote it (`panel` or
/// `supplier`), the text by its digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NegotiationMessage {
    pub message_no: i64,
    pub supplier: String,
    pub from: String,
    pub text_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundOpened {
    pub round_no: i64,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub closes_at: i64,
}

/// One offer as its round closed: sealed, by whom and when, by its hashes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SealedOffer {
    pub offer_id: String,
    pub org_id: String,
    pub ciphertext_sha256: String,
    pub receipt_sha256: String,
    pub sealed_at: i64,
}

/// The round's deadline has passed: the offers sealed in it, committed to at once, and
/// the suppliers that sent none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundClosed {
    pub round_no: i64,
    pub offers: Vec<SealedOffer>,
    pub without_offer: Vec<String>,
    pub decrypt_ends_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfferDecrypted {
    pub offer_id: String,
    pub org_id: String,
}

/// One offer as its round was read: read out (its sheet by digest) or invalid (cause).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadOffer {
    pub offer_id: String,
    pub org_id: String,
    /// read_out | invalid
    pub result: String,
    pub sheet_sha256: Option<String>,
    pub cause: Option<String>,
}

/// Every offer of the round read together, after its close.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundRevealed {
    pub round_no: i64,
    pub offers: Vec<ReadOffer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplierWithdrew {
    pub org_id: String,
}

/// A supplier's final offer, by id: which offer stands and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalOfferRef {
    pub org_id: String,
    pub offer_id: Option<String>,
    /// final_offer | previous_stands | withdrawn | no_offer
    pub basis: String,
}

/// The record of a negotiation, by its digest (the text is the panel's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinutesRecorded {
    pub minutes_sha256: String,
}

/// A seat of the panel signed the record (its signature by digest; the key would follow
/// the expert, R-EVAL-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinutesSigned {
    pub seat: i64,
    pub minutes_sha256: String,
    pub signature_sha256: String,
}

/// One supplier admitted (入围) to a framework agreement at its price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Admitted {
    pub org_id: String,
    pub rank: i64,
    pub price_fen: i64,
}

/// A framework agreement established from the evaluation's ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkEstablished {
    pub admitted: Vec<Admitted>,
    pub valid_until: i64,
}

/// A call-off within a framework agreement: how the supplier was picked, who, how much.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallOffPlaced {
    pub call_off_no: i64,
    /// direct | rotation | competition
    pub mode: String,
    pub org_id: String,
    pub amount_fen: i64,
    pub description_sha256: String,
}

/// The final round is read: each supplier's final offer, and the digest of the result
/// the panel sees (prices and, for a lowest-price method, the ranking).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NegotiationFinished {
    pub final_offers: Vec<FinalOfferRef>,
    pub result_sha256: String,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;
    use crate::ledger::{canonical_json, Kind, Ledger, LedgerEvent};

    /// The kinds the fixture ledger has no event of; `producer_shapes_round_trip` covers
    /// them.
    const NOT_IN_FIXTURE: &[Kind] = &[
        Kind::TenderUpdated,
        Kind::TenderAmended,
        Kind::TenderCancelled,
        Kind::BidWithdrawn,
        Kind::CustodiansOverdue,
        Kind::BidInvalid,
        Kind::ObjectionRaised,
        Kind::ObjectionAnswered,
        Kind::OpeningFailed,
        Kind::RecordingStored,
        Kind::PanelDissolved,
        Kind::EvaluationFailed,
        Kind::DocumentsObtained,
        Kind::QuestionAsked,
        Kind::QuestionAnswered,
        Kind::DepositRecorded,
        Kind::DepositRefunded,
        Kind::PlanFiled,
        Kind::IntentionPublished,
        Kind::PlanCancelled,
        Kind::PlanDrawn,
        Kind::ApprovalRequested,
        Kind::ApprovalObjected,
        Kind::ApprovalDecided,
        Kind::NegotiationStarted,
        Kind::NegotiationNotice,
        Kind::NegotiationMessage,
        Kind::ResultPublished,
        Kind::ChallengeFiled,
        Kind::ChallengeAnswered,
        Kind::ComplaintFiled,
        Kind::ComplaintExamined,
        Kind::ProcurementSuspended,
        Kind::ComplaintDecided,
        Kind::ContractDrafted,
        Kind::ContractSigned,
        Kind::ContractPublished,
        Kind::ContractFiled,
        Kind::ContractSupplemented,
        Kind::AcceptanceSigned,
        Kind::RemedyReplied,
        Kind::PaymentRequested,
        Kind::PaymentDecided,
        Kind::PaymentMade,
        Kind::RatingGiven,
        Kind::FinancingApplied,
        Kind::FinancingDecided,
        Kind::WarningDecided,
        Kind::RoundOpened,
        Kind::RoundClosed,
        Kind::OfferDecrypted,
        Kind::RoundRevealed,
        Kind::SupplierWithdrew,
        Kind::NegotiationFinished,
        Kind::MinutesRecorded,
        Kind::MinutesSigned,
        Kind::FrameworkEstablished,
        Kind::CallOffPlaced,
        Kind::SignedIn,
        Kind::MessagePosted,
        Kind::ChairChosen,
    ];

    /// Parses `body` as `kind` and serializes it again: the canonical JSON, and so the
    /// hash, must not change.
    fn round_trip(kind: Kind, body: &Value) -> LedgerEvent {
        let typed = LedgerEvent::parse(kind, body)
            .unwrap_or_else(|e| panic!("{kind} does not parse: {e}\n{body}"));
        assert_eq!(typed.kind(), kind);
        assert_eq!(
            canonical_json(&typed.body().unwrap()),
            canonical_json(body),
            "{kind}: the typed body writes other JSON"
        );
        typed
    }

    /// Every event of the ledger written at d365dad (tests/fixtures/d365dad), the bid
    /// register's too, reads into its typed body and writes back the same JSON.
    #[test]
    fn every_body_of_the_fixture_ledger_reads_and_writes_back_unchanged() {
        let ledger: Ledger =
            serde_json::from_str(include_str!("../../tests/fixtures/d365dad/ledger.json")).unwrap();
        let register = ledger
            .bid_register
            .as_ref()
            .expect("the fixture has a register");
        let mut seen = BTreeSet::new();
        for e in ledger.events.iter().chain(&register.events) {
            let kind = Kind::parse(&e.kind).unwrap_or_else(|| panic!("unknown kind {}", e.kind));
            round_trip(kind, &e.body);
            seen.insert(kind.as_str());
        }
        assert!(ledger.events.len() + register.events.len() >= 70);
        let missing: BTreeSet<&str> = Kind::ALL
            .iter()
            .map(|k| k.as_str())
            .filter(|k| !seen.contains(k))
            .collect();
        let expected: BTreeSet<&str> = NOT_IN_FIXTURE.iter().map(|k| k.as_str()).collect();
        assert_eq!(missing, expected, "the kinds the fixture lacks");
    }

    fn lot_quorum(status: &str, reason: Option<&str>) -> LotQuorum {
        LotQuorum {
            lot_no: 1,
            bidders: 2,
            min_bidders: 3,
            counted: None,
            status: status.into(),
            reason: reason.map(Into::into),
        }
    }

    /// The kinds the fixture lacks, built as their producers build them, against the JSON
    /// the producers wrote with `json!` before the bodies were typed.
    #[test]
    fn producer_shapes_round_trip() {
        let draft = TenderDraft {
            title: "办公设备采购".into(),
            region_code: "420200".into(),
            purchaser_org_id: "p1".into(),
            category: "goods".into(),
            method: "open_tendering".into(),
            lots: vec![LotDraft {
                name: "台式计算机".into(),
                budget_fen: 50_000_000,
            }],
            clarify_deadline: 1_796_086_950_000,
            bid_deadline: 1_796_087_100_000,
            decrypt_window_mins: 30,
            custodian_ids: vec!["c1".into(), "c2".into()],
            custodian_threshold: 2,
            plan_id: None,
            // A tender asking no deposit writes no field for it, as before deposits.
            deposit_fen: None,
        };
        let cases: Vec<(LedgerEvent, Value)> = vec![
            (
                LedgerEvent::TenderUpdated(draft),
                json!({
                    "title": "办公设备采购", "region_code": "420200", "purchaser_org_id": "p1",
                    "category": "goods", "method": "open_tendering",
                    "lots": [{"name": "台式计算机", "budget_fen": 50_000_000}],
                    "clarify_deadline": 1_796_086_950_000_i64,
                    "bid_deadline": 1_796_087_100_000_i64, "decrypt_window_mins": 30,
                    "custodian_ids": ["c1", "c2"], "custodian_threshold": 2,
                }),
            ),
            (
                LedgerEvent::TenderAmended(TenderAmended {
                    amendment: 2,
                    reason: "延长截止时间".into(),
                    changes: AmendmentChanges {
                        bid_deadline: Change::of(1_000, 2_000),
                        title: Change::of("同".to_string(), "同".to_string()),
                        lots: Change::of(
                            vec![LotDraft {
                                name: "甲".into(),
                                budget_fen: 100,
                            }],
                            vec![LotDraft {
                                name: "乙".into(),
                                budget_fen: 100,
                            }],
                        ),
                        ..AmendmentChanges::default()
                    },
                    affects_bids: None,
                }),
                json!({
                    "amendment": 2, "reason": "延长截止时间",
                    "changes": {
                        "bid_deadline": {"from": 1_000, "to": 2_000},
                        "lots": {
                            "from": [{"name": "甲", "budget_fen": 100}],
                            "to": [{"name": "乙", "budget_fen": 100}],
                        },
                    },
                }),
            ),
            (
                LedgerEvent::TenderCancelled(TenderCancelled {
                    reason: "预算取消".into(),
                    from: "published".into(),
                }),
                json!({"reason": "预算取消", "from": "published"}),
            ),
            (
                LedgerEvent::BidWithdrawn(BidWithdrawn {
                    bid_id: "b1".into(),
                }),
                json!({"bid_id": "b1"}),
            ),
            (
                LedgerEvent::CustodiansOverdue(CustodiansOverdue {
                    missing: vec![2, 3],
                    waiting_since: Some(1_000),
                }),
                json!({"missing": [2, 3], "waiting_since": 1_000}),
            ),
            (
                LedgerEvent::CustodiansOverdue(CustodiansOverdue {
                    missing: vec![],
                    waiting_since: None,
                }),
                json!({"missing": [], "waiting_since": null}),
            ),
            (
                LedgerEvent::BidInvalid(BidInvalid {
                    bid_id: "b1".into(),
                    bidder_org_id: "o1".into(),
                    bidder_name: "某公司".into(),
                    lot_no: 1,
                    cause: InvalidCause {
                        code: "NOT_DECRYPTED".into(),
                        message: "投标人未在解密时限内解密".into(),
                        deemed: "revoked".into(),
                    },
                }),
                json!({
                    "bid_id": "b1", "bidder_org_id": "o1", "bidder_name": "某公司", "lot_no": 1,
                    "cause": {
                        "code": "NOT_DECRYPTED", "message": "投标人未在解密时限内解密",
                        "deemed": "revoked",
                    },
                }),
            ),
            (
                LedgerEvent::SignedIn(SignedIn {
                    role: "bidder".into(),
                    org_id: Some("o1".into()),
                    name: "某公司".into(),
                    statement: "kaibiao-sign-in-v1\nt1\no1\nu1".into(),
                    key_id: "k1".into(),
                    signature: "c2ln".into(),
                }),
                json!({
                    "role": "bidder", "org_id": "o1", "name": "某公司",
                    "statement": "kaibiao-sign-in-v1\nt1\no1\nu1", "key_id": "k1", "signature": "c2ln",
                }),
            ),
            (
                LedgerEvent::MessagePosted(MessagePosted {
                    room: "opening".into(),
                    message_id: "m1".into(),
                    audience: "host".into(),
                    text_sha256: "ab".repeat(32),
                }),
                json!({
                    "room": "opening", "message_id": "m1", "audience": "host",
                    "text_sha256": "ab".repeat(32),
                }),
            ),
            (
                LedgerEvent::ChairChosen(ChairChosen {
                    seat: 2,
                    votes: 3,
                    drawn: false,
                }),
                json!({"seat": 2, "votes": 3, "drawn": false}),
            ),
            (
                LedgerEvent::ObjectionRaised(ObjectionRaised {
                    objection_id: "j1".into(),
                    bidder_org_id: "o1".into(),
                    bidder_name: "某公司".into(),
                    kind: "recusal".into(),
                    text: "请主持人回避".into(),
                }),
                json!({
                    "objection_id": "j1", "bidder_org_id": "o1", "bidder_name": "某公司",
                    "kind": "recusal", "text": "请主持人回避",
                }),
            ),
            (
                LedgerEvent::ObjectionAnswered(ObjectionAnswered {
                    objection_id: "j1".into(),
                    text: "已回避".into(),
                    by: "u1".into(),
                }),
                json!({"objection_id": "j1", "text": "已回避", "by": "u1"}),
            ),
            (
                LedgerEvent::OpeningFailed(OpeningFailed {
                    reason: "quorum".into(),
                    lots: vec![lot_quorum("failed", Some("投标人不足 3 家"))],
                }),
                json!({
                    "reason": "quorum",
                    "lots": [{
                        "lot_no": 1, "bidders": 2, "min_bidders": 3, "counted": null,
                        "status": "failed", "reason": "投标人不足 3 家",
                    }],
                }),
            ),
            (
                LedgerEvent::RecordingStored(RecordingStored {
                    room: "opening:t1".into(),
                    participant: "u1".into(),
                    track_id: "video0".into(),
                    kind: "video".into(),
                    content_type: "video/ivf".into(),
                    sha256: "ab".repeat(32),
                    bytes: 123_456,
                    packets: 789,
                    dropped: 0,
                    salvaged: false,
                }),
                json!({
                    "room": "opening:t1", "participant": "u1", "track_id": "video0",
                    "kind": "video", "content_type": "video/ivf", "sha256": "ab".repeat(32),
                    "bytes": 123_456_u64, "packets": 789_u64, "dropped": 0_u64,
                }),
            ),
            (
                LedgerEvent::PanelDissolved(PanelDissolved {
                    reason: "ORDER_EXHAUSTED".into(),
                    declined: vec!["expert-a".into(), "expert-b".into()],
                }),
                json!({"reason": "ORDER_EXHAUSTED", "declined": ["expert-a", "expert-b"]}),
            ),
            (
                LedgerEvent::EvaluationFailed(EvaluationFailed {
                    reason: "R-EVAL-3: 1 bid(s) pass the compliance review, fewer than 3".into(),
                }),
                json!({"reason": "R-EVAL-3: 1 bid(s) pass the compliance review, fewer than 3"}),
            ),
            // Kinds in the fixture, in a shape it does not show: nulls and legacy fields.
            (
                LedgerEvent::BidSubmitted(BidSubmitted {
                    bid_id: "b2".into(),
                    ciphertext_sha256: "cd".repeat(32),
                    size: 1_337,
                    replaces: Some("b1".into()),
                    receipt_sha256: "ef".repeat(32),
                }),
                json!({
                    "bid_id": "b2", "ciphertext_sha256": "cd".repeat(32), "size": 1_337,
                    "replaces": "b1", "receipt_sha256": "ef".repeat(32),
                }),
            ),
            (
                LedgerEvent::WinnerConfirmed(WinnerConfirmed {
                    by: "deadline".into(),
                    winners: vec![],
                    pseudonym_key: None,
                }),
                json!({"by": "deadline", "winners": [], "pseudonym_key": null}),
            ),
            (
                LedgerEvent::ReportSigned(ReportSigned {
                    seat: 1,
                    dissent: true,
                    signature_sha256: "01".repeat(32),
                    key_id: None,
                }),
                json!({"seat": 1, "dissent": true, "signature_sha256": "01".repeat(32)}),
            ),
            (
                LedgerEvent::PlanFiled(PlanFiled {
                    code: "JH-2026-1".into(),
                    budget_line_id: "l1".into(),
                    budget_line_code: "2050201-01".into(),
                    title: "书架".into(),
                    category: "goods".into(),
                    method: "open_tendering".into(),
                    amount_fen: 100,
                    imported: false,
                    expected_month: "2027-01".into(),
                    intention_exception: None,
                    exception_reason: String::new(),
                }),
                json!({"code": "JH-2026-1", "budget_line_id": "l1", "budget_line_code": "2050201-01",
                       "title": "书架", "category": "goods", "method": "open_tendering",
                       "amount_fen": 100, "imported": false, "expected_month": "2027-01",
                       "intention_exception": null, "exception_reason": ""}),
            ),
            (
                LedgerEvent::IntentionPublished(IntentionPublished {
                    intention_id: "i1".into(),
                    description: "书架 120 组".into(),
                }),
                json!({"intention_id": "i1", "description": "书架 120 组"}),
            ),
            (LedgerEvent::PlanCancelled(PlanCancelled {}), json!({})),
            (
                LedgerEvent::DocumentsObtained(DocumentsObtained {
                    org_id: "o1".into(),
                }),
                json!({"org_id": "o1"}),
            ),
            (
                LedgerEvent::QuestionAsked(QuestionAsked {
                    question_id: "q1".into(),
                    text_sha256: "00".repeat(32),
                    reply_due_at: 7,
                }),
                json!({"question_id": "q1", "text_sha256": "00".repeat(32), "reply_due_at": 7}),
            ),
            (
                LedgerEvent::QuestionAnswered(QuestionAnswered {
                    question_id: "q1".into(),
                    question: "问".into(),
                    answer: "答".into(),
                }),
                json!({"question_id": "q1", "question": "问", "answer": "答"}),
            ),
            (
                LedgerEvent::DepositRecorded(DepositRecorded {
                    org_id: "o1".into(),
                    kind: "payment".into(),
                    amount_fen: 100,
                    account_sha256: Some("00".repeat(32)),
                    valid_until: None,
                }),
                json!({"org_id": "o1", "kind": "payment", "amount_fen": 100,
                       "account_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::DepositRefunded(DepositRefunded {
                    org_id: "o1".into(),
                    refund_due_at: 7,
                }),
                json!({"org_id": "o1", "refund_due_at": 7}),
            ),
            (
                LedgerEvent::NegotiationStarted(NegotiationStarted {
                    suppliers: vec!["o1".into()],
                    no_final_offer: "withdrawn".into(),
                }),
                json!({"suppliers": ["o1"], "no_final_offer": "withdrawn"}),
            ),
            (
                LedgerEvent::NegotiationNotice(NegotiationNotice {
                    notice_no: 1,
                    text_sha256: "00".repeat(32),
                    suppliers: vec!["o1".into()],
                }),
                json!({"notice_no": 1, "text_sha256": "00".repeat(32), "suppliers": ["o1"]}),
            ),
            (
                LedgerEvent::ContractDrafted(ContractDrafted {
                    contract_id: "k1".into(),
                    lot_no: 1,
                    supplier_org_id: "o1".into(),
                    amount_fen: 100,
                    document_sha256: "00".repeat(32),
                }),
                json!({"contract_id": "k1", "lot_no": 1, "supplier_org_id": "o1",
                       "amount_fen": 100, "document_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::ContractSigned(ContractSigned {
                    contract_id: "k1".into(),
                    party: "supplier".into(),
                    document_sha256: "00".repeat(32),
                    signature_sha256: "11".repeat(32),
                    complete: true,
                }),
                json!({"contract_id": "k1", "party": "supplier", "document_sha256": "00".repeat(32),
                       "signature_sha256": "11".repeat(32), "complete": true}),
            ),
            (
                LedgerEvent::ContractPublished(ContractPublished {
                    contract_id: "k1".into(),
                    document_sha256: "00".repeat(32),
                }),
                json!({"contract_id": "k1", "document_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::ContractFiled(ContractFiled {
                    contract_id: "k1".into(),
                    document_sha256: "00".repeat(32),
                }),
                json!({"contract_id": "k1", "document_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::ContractSupplemented(ContractSupplemented {
                    contract_id: "k1".into(),
                    amount_fen: 10,
                    total_fen: 10,
                    reason_sha256: "00".repeat(32),
                }),
                json!({"contract_id": "k1", "amount_fen": 10, "total_fen": 10,
                       "reason_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::AcceptanceSigned(AcceptanceSigned {
                    acceptance_id: "a1".into(),
                    contract_id: "k1".into(),
                    round: 1,
                    passed: false,
                    document_sha256: "00".repeat(32),
                    signature_sha256: "11".repeat(32),
                    member_signatures_sha256: vec![],
                }),
                json!({"acceptance_id": "a1", "contract_id": "k1", "round": 1, "passed": false,
                       "document_sha256": "00".repeat(32), "signature_sha256": "11".repeat(32)}),
            ),
            (
                LedgerEvent::RemedyReplied(RemedyReplied {
                    acceptance_id: "a1".into(),
                    contract_id: "k1".into(),
                    reply_sha256: "00".repeat(32),
                }),
                json!({"acceptance_id": "a1", "contract_id": "k1", "reply_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::PaymentRequested(PaymentRequested {
                    request_id: "p1".into(),
                    contract_id: "k1".into(),
                    amount_fen: 10,
                }),
                json!({"request_id": "p1", "contract_id": "k1", "amount_fen": 10}),
            ),
            (
                LedgerEvent::PaymentDecided(PaymentDecided {
                    request_id: "p1".into(),
                    approved: true,
                    reason_sha256: None,
                }),
                json!({"request_id": "p1", "approved": true, "reason_sha256": null}),
            ),
            (
                LedgerEvent::PaymentMade(PaymentMade {
                    request_id: "p1".into(),
                    contract_id: "k1".into(),
                    amount_fen: 10,
                    paid_on: "2027-03-01".into(),
                    reference: "BANK-1".into(),
                    total_paid_fen: 10,
                    financing_application_id: None,
                }),
                json!({"request_id": "p1", "contract_id": "k1", "amount_fen": 10,
                       "paid_on": "2027-03-01", "reference": "BANK-1", "total_paid_fen": 10}),
            ),
            (
                LedgerEvent::PaymentMade(PaymentMade {
                    request_id: "p2".into(),
                    contract_id: "k1".into(),
                    amount_fen: 10,
                    paid_on: "2027-03-02".into(),
                    reference: "BANK-2".into(),
                    total_paid_fen: 20,
                    financing_application_id: Some("f1".into()),
                }),
                json!({"request_id": "p2", "contract_id": "k1", "amount_fen": 10,
                       "paid_on": "2027-03-02", "reference": "BANK-2", "total_paid_fen": 20,
                       "financing_application_id": "f1"}),
            ),
            (
                LedgerEvent::RatingGiven(RatingGiven {
                    rating_id: "r1".into(),
                    contract_id: "k1".into(),
                    rating_sha256: "00".repeat(32),
                }),
                json!({"rating_id": "r1", "contract_id": "k1", "rating_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::FinancingApplied(FinancingApplied {
                    application_id: "f1".into(),
                    contract_id: "k1".into(),
                    application_sha256: "00".repeat(32),
                }),
                json!({"application_id": "f1", "contract_id": "k1",
                       "application_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::FinancingDecided(FinancingDecided {
                    application_id: "f1".into(),
                    contract_id: "k1".into(),
                    approved: true,
                    decision_sha256: "00".repeat(32),
                }),
                json!({"application_id": "f1", "contract_id": "k1", "approved": true,
                       "decision_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::WarningDecided(WarningDecided {
                    key: "w1".into(),
                    rule: "R-COL-1".into(),
                    kind: "same_device".into(),
                    bids: vec!["b1".into(), "b2".into()],
                    confirmed: true,
                    reason_sha256: "00".repeat(32),
                }),
                json!({"key": "w1", "rule": "R-COL-1", "kind": "same_device",
                       "bids": ["b1", "b2"], "confirmed": true, "reason_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::ChallengeFiled(ChallengeFiled {
                    challenge_id: "c1".into(),
                    org_id: "o1".into(),
                    grounds_sha256: "00".repeat(32),
                    signature_sha256: "11".repeat(32),
                    reply_due_at: 5,
                    evidence_sha256: vec![],
                }),
                json!({"challenge_id": "c1", "org_id": "o1", "grounds_sha256": "00".repeat(32),
                       "signature_sha256": "11".repeat(32), "reply_due_at": 5}),
            ),
            (
                LedgerEvent::ChallengeFiled(ChallengeFiled {
                    challenge_id: "c2".into(),
                    org_id: "o1".into(),
                    grounds_sha256: "00".repeat(32),
                    signature_sha256: "11".repeat(32),
                    reply_due_at: 5,
                    evidence_sha256: vec!["22".repeat(32)],
                }),
                json!({"challenge_id": "c2", "org_id": "o1", "grounds_sha256": "00".repeat(32),
                       "signature_sha256": "11".repeat(32), "reply_due_at": 5,
                       "evidence_sha256": ["22".repeat(32)]}),
            ),
            (
                LedgerEvent::ChallengeAnswered(ChallengeAnswered {
                    challenge_id: "c1".into(),
                    upheld: false,
                    reply_sha256: "00".repeat(32),
                }),
                json!({"challenge_id": "c1", "upheld": false, "reply_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::ComplaintFiled(ComplaintFiled {
                    complaint_id: "p1".into(),
                    challenge_id: "c1".into(),
                    org_id: "o1".into(),
                    grounds_sha256: "00".repeat(32),
                    signature_sha256: "11".repeat(32),
                    examine_due_at: 6,
                    evidence_sha256: vec![],
                }),
                json!({"complaint_id": "p1", "challenge_id": "c1", "org_id": "o1",
                       "grounds_sha256": "00".repeat(32), "signature_sha256": "11".repeat(32),
                       "examine_due_at": 6}),
            ),
            (
                LedgerEvent::ComplaintExamined(ComplaintExamined {
                    complaint_id: "p1".into(),
                    accepted: true,
                    decision_due_at: Some(7),
                    reason_sha256: None,
                }),
                json!({"complaint_id": "p1", "accepted": true, "decision_due_at": 7,
                       "reason_sha256": null}),
            ),
            (
                LedgerEvent::ProcurementSuspended(ProcurementSuspended {
                    complaint_id: "p1".into(),
                    until: 8,
                }),
                json!({"complaint_id": "p1", "until": 8}),
            ),
            (
                LedgerEvent::ComplaintDecided(ComplaintDecided {
                    complaint_id: "p1".into(),
                    outcome: "groundless".into(),
                    decision_sha256: "00".repeat(32),
                    bad_conduct: true,
                }),
                json!({"complaint_id": "p1", "outcome": "groundless",
                       "decision_sha256": "00".repeat(32), "bad_conduct": true}),
            ),
            (
                LedgerEvent::ResultPublished(ResultPublished {
                    notice_sha256: "00".repeat(32),
                    publicity_ends_at: 9,
                    letters: vec![LetterRef {
                        org_id: "o1".into(),
                        kind: "award".into(),
                        letter_sha256: "11".repeat(32),
                    }],
                }),
                json!({"notice_sha256": "00".repeat(32), "publicity_ends_at": 9,
                       "letters": [{"org_id": "o1", "kind": "award",
                                    "letter_sha256": "11".repeat(32)}]}),
            ),
            (
                LedgerEvent::NegotiationMessage(NegotiationMessage {
                    message_no: 3,
                    supplier: "o1".into(),
                    from: "panel".into(),
                    text_sha256: "00".repeat(32),
                }),
                json!({"message_no": 3, "supplier": "o1", "from": "panel",
                       "text_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::RoundOpened(RoundOpened {
                    round_no: 2,
                    is_final: true,
                    closes_at: 7,
                }),
                json!({"round_no": 2, "final": true, "closes_at": 7}),
            ),
            (
                LedgerEvent::RoundClosed(RoundClosed {
                    round_no: 1,
                    offers: vec![SealedOffer {
                        offer_id: "f1".into(),
                        org_id: "o1".into(),
                        ciphertext_sha256: "00".repeat(32),
                        receipt_sha256: "11".repeat(32),
                        sealed_at: 5,
                    }],
                    without_offer: vec!["o2".into()],
                    decrypt_ends_at: Some(9),
                }),
                json!({"round_no": 1, "offers": [{"offer_id": "f1", "org_id": "o1",
                       "ciphertext_sha256": "00".repeat(32), "receipt_sha256": "11".repeat(32),
                       "sealed_at": 5}], "without_offer": ["o2"], "decrypt_ends_at": 9}),
            ),
            (
                LedgerEvent::OfferDecrypted(OfferDecrypted {
                    offer_id: "f1".into(),
                    org_id: "o1".into(),
                }),
                json!({"offer_id": "f1", "org_id": "o1"}),
            ),
            (
                LedgerEvent::RoundRevealed(RoundRevealed {
                    round_no: 1,
                    offers: vec![ReadOffer {
                        offer_id: "f1".into(),
                        org_id: "o1".into(),
                        result: "read_out".into(),
                        sheet_sha256: Some("00".repeat(32)),
                        cause: None,
                    }],
                }),
                json!({"round_no": 1, "offers": [{"offer_id": "f1", "org_id": "o1",
                       "result": "read_out", "sheet_sha256": "00".repeat(32), "cause": null}]}),
            ),
            (
                LedgerEvent::SupplierWithdrew(SupplierWithdrew {
                    org_id: "o1".into(),
                }),
                json!({"org_id": "o1"}),
            ),
            (
                LedgerEvent::NegotiationFinished(NegotiationFinished {
                    final_offers: vec![FinalOfferRef {
                        org_id: "o1".into(),
                        offer_id: None,
                        basis: "withdrawn".into(),
                    }],
                    result_sha256: "00".repeat(32),
                }),
                json!({"final_offers": [{"org_id": "o1", "offer_id": null, "basis": "withdrawn"}],
                       "result_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::MinutesRecorded(MinutesRecorded {
                    minutes_sha256: "00".repeat(32),
                }),
                json!({"minutes_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::MinutesSigned(MinutesSigned {
                    seat: 1,
                    minutes_sha256: "00".repeat(32),
                    signature_sha256: "11".repeat(32),
                }),
                json!({"seat": 1, "minutes_sha256": "00".repeat(32), "signature_sha256": "11".repeat(32)}),
            ),
            (
                LedgerEvent::FrameworkEstablished(FrameworkEstablished {
                    admitted: vec![Admitted {
                        org_id: "o1".into(),
                        rank: 1,
                        price_fen: 100,
                    }],
                    valid_until: 9,
                }),
                json!({"admitted": [{"org_id": "o1", "rank": 1, "price_fen": 100}], "valid_until": 9}),
            ),
            (
                LedgerEvent::CallOffPlaced(CallOffPlaced {
                    call_off_no: 1,
                    mode: "rotation".into(),
                    org_id: "o1".into(),
                    amount_fen: 100,
                    description_sha256: "00".repeat(32),
                }),
                json!({"call_off_no": 1, "mode": "rotation", "org_id": "o1", "amount_fen": 100,
                       "description_sha256": "00".repeat(32)}),
            ),
            (
                LedgerEvent::PlanDrawn(PlanDrawn {
                    tender_id: "t1".into(),
                    amount_fen: 0,
                }),
                json!({"tender_id": "t1", "amount_fen": 0}),
            ),
            (
                LedgerEvent::ApprovalRequested(ApprovalRequested {
                    approval_id: "a1".into(),
                    kind: "method".into(),
                    method: "single_source".into(),
                    reasons: "原厂".into(),
                    sole_supplier_name: Some("某公司".into()),
                    sole_supplier_code: None,
                    attachments: vec![AttachmentRef {
                        name: "a.txt".into(),
                        size: 3,
                        sha256: "00".repeat(32),
                    }],
                    publicity_ends_at: Some(5),
                }),
                json!({"approval_id": "a1", "kind": "method", "method": "single_source",
                       "reasons": "原厂", "sole_supplier_name": "某公司", "sole_supplier_code": null,
                       "attachments": [{"name": "a.txt", "size": 3, "sha256": "00".repeat(32)}],
                       "publicity_ends_at": 5}),
            ),
            (
                LedgerEvent::ApprovalObjected(ApprovalObjected {
                    approval_id: "a1".into(),
                    objection_id: "o1".into(),
                    text: "异议".into(),
                }),
                json!({"approval_id": "a1", "objection_id": "o1", "text": "异议"}),
            ),
            (
                LedgerEvent::ApprovalDecided(ApprovalDecided {
                    approval_id: "a1".into(),
                    approved: true,
                    reason: String::new(),
                }),
                json!({"approval_id": "a1", "approved": true, "reason": ""}),
            ),
        ];
        let mut covered = BTreeSet::new();
        for (event, written) in cases {
            let kind = event.kind();
            assert_eq!(
                canonical_json(&event.body().unwrap()),
                canonical_json(&written),
                "{kind}"
            );
            assert_eq!(round_trip(kind, &written), event, "{kind}");
            covered.insert(kind.as_str());
        }
        for kind in NOT_IN_FIXTURE {
            assert!(covered.contains(kind.as_str()), "{kind} is not covered");
        }
    }

    /// Bodies written before a field existed still read, for the readers that need them:
    /// the register head of `bids_sealed`, the documents of `bid_read_out`, the key id of
    /// `report_signed` before pseudonyms.
    #[test]
    fn older_bodies_still_read() {
        let sealed: BidsSealed = serde_json::from_value(json!({
            "bid_deadline": 1, "count": 0, "bids": [], "late_uploads": 0,
        }))
        .unwrap();
        assert_eq!(sealed.bid_register, None);
        let read: BidReadOut = serde_json::from_value(json!({
            "bid_id": "b1", "bidder_org_id": "o1", "bidder_name": "某公司", "lot_no": 1,
            "sheet": {"total_price_fen": 100},
        }))
        .unwrap();
        assert!(read.documents.is_empty());
        let signed: ReportSigned =
            serde_json::from_value(json!({"seat": 2, "key_id": "k1", "dissent": false})).unwrap();
        assert_eq!(signed.key_id.as_deref(), Some("k1"));
        assert_eq!(signed.signature_sha256, "");
    }
}
