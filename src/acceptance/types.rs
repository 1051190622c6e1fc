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
        /// The acceptance panel (验收小组), by username: experts, the tender's agency
        /// staff or the purchasing unit's colleagues; at least the contract's
        /// `acceptance_experts` experts. Each signs the report with the purchaser.
        #[serde(default)]
        members: Vec<String>,
    },
    /// The purchasing unit, and each member of the panel, sign the draft
    /// (`rules::payload`); with the last signature it is passed or failed.
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
    #[error("panel short of experts")]
    PanelShort,
}

impl crate::error::AreaError for AcceptanceError {
    fn code(&self) -> &'static str {
        match self {
            AcceptanceError::NotSigned => "CONTRACT_NOT_SIGNED",
            AcceptanceError::RemedyPending => "REMEDY_PENDING",
            AcceptanceError::PanelShort => "ACCEPTANCE_PANEL_SHORT",
        }
    }
    fn status(&self) -> StatusCode {
        match self {
            AcceptanceError::PanelShort => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        }
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
            AcceptanceError::PanelShort => (
                "合同约定验收须有专家参加：验收小组的专家人数不足",
                "The contract requires experts on the acceptance panel: too few are named",
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
    /// Who signs it — the purchaser, then the panel in its order — and who has.
    pub signers: Vec<SignerView>,
    /// The payload to sign, to the purchaser and each member while a draft they have not
    /// signed.
    pub my_payload: Option<String>,
}

/// One signer of a report.
#[derive(Debug, Clone, Serialize)]
pub struct SignerView {
    pub user_id: String,
    pub name: String,
    /// purchaser | member
    pub kind: String,
    pub signed_at: Option<i64>,
}

/// A report waiting for this user's signature as a member of its panel (the dashboard).
#[derive(Debug, Clone, Serialize)]
pub struct ToSign {
    pub tender_id: String,
    pub acceptance_id: String,
    pub contract_no: Value,
    pub round: i64,
    pub recorded_at: i64,
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
    /// The experts the contract asks for on the acceptance panel.
    pub acceptance_experts: i64,
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
