//! Acceptance's commands, acknowledgements, refusals and views (docs/fulfilment.md).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rules::ItemCheck;
use crate::approval::types::{AttachmentInput, AttachmentView};

/// One command, `POST /api/tenders/{id}/acceptance`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// The purchasing unit: the report of a round of acceptance, a draft until signed
    /// (recording again replaces the draft).
    Record {
        contract_id: String,
        delivered_on: String,
        items: Vec<ItemCheck>,
        conclusion: String,
        #[serde(default)]
        evidence: Vec<AttachmentInput>,
    },
    /// The purchasing unit signs the draft (`rules::payload`): passed or failed.
    Sign {
        acceptance_id: String,
        key_id: String,
        signature: String,
    },
    /// The supplier answers a failed acceptance with what it remedied (整改).
    Remedy {
        acceptance_id: String,
        reply: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Ack {
    pub acceptance_id: String,
    pub status: String,
    pub document_sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AcceptanceError {
    #[error("contract not signed")]
    NotSigned,
    #[error("remedy not answered")]
    RemedyPending,
}

impl crate::error::AreaError for AcceptanceError {
    fn code(&self) -> &'static str {
        match self {
            AcceptanceError::NotSigned => "CONTRACT_NOT_SIGNED",
            AcceptanceError::RemedyPending => "REMEDY_PENDING",
        }
    }
    fn status(&self) -> StatusCode {
        StatusCode::CONFLICT
    }
    fn messages(&self) -> (String, String) {
        let (zh, en) = match self {
            AcceptanceError::NotSigned => (
                "合同尚未由双方签署，不能验收",
                "The contract is not signed by both parties: nothing to accept yet",
            ),
            AcceptanceError::RemedyPending => (
                "供应商尚未提交整改说明，不能再次验收",
                "The supplier has not answered the failed acceptance yet",
            ),
        };
        (zh.into(), en.into())
    }
}

impl From<AcceptanceError> for crate::error::AppError {
    fn from(e: AcceptanceError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

/// The remedy a failed acceptance opened.
#[derive(Debug, Clone, Serialize)]
pub struct RemedyView {
    pub opened_at: i64,
    pub reply: Option<String>,
    pub replied_at: Option<i64>,
    pub closed_at: Option<i64>,
}

/// One round's report.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptanceView {
    pub id: String,
    pub round: i64,
    /// draft | passed | failed
    pub status: String,
    pub document: Value,
    pub document_sha256: String,
    pub evidence: Vec<AttachmentView>,
    pub recorded_at: i64,
    pub signed_at: Option<i64>,
    pub remedy: Option<RemedyView>,
    /// The payload the purchaser signs, to the purchaser while a draft.
    pub my_payload: Option<String>,
}

/// A signed contract with its rounds of acceptance.
#[derive(Debug, Clone, Serialize)]
pub struct ContractAcceptance {
    pub contract_id: String,
    pub contract_no: Value,
    pub lot_no: i64,
    pub supplier: Value,
    pub items: Value,
    pub amount_fen: i64,
    pub accepted_at: Option<i64>,
    pub rounds: Vec<AcceptanceView>,
    /// The purchaser may record (no passed round, no remedy waiting for the supplier).
    pub may_record: bool,
    /// The supplier may answer the last round's remedy.
    pub may_reply: bool,
}

/// `GET /api/tenders/{id}/acceptance`: the parties and the supervisors see their signed
/// contracts' acceptance; anyone else nothing.
#[derive(Debug, Clone, Serialize)]
pub struct AcceptanceOverview {
    pub tender_id: String,
    pub contracts: Vec<ContractAcceptance>,
}
