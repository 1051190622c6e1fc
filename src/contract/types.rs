//! The contracts' commands, acknowledgements, refusals and views (docs/contracts.md).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rules::{Adjustable, PartySignature};

/// One command, `POST /api/tenders/{id}/contracts`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// The purchaser: drafts a contract for every awarded lot from the award letters.
    Draft {},
    /// The purchaser, before any signature: what the tender leaves open.
    Adjust {
        contract_id: String,
        terms: Adjustable,
    },
    /// The purchaser's or the supplier's user: its party's signature of the document
    /// (`rules::payload`).
    Sign {
        contract_id: String,
        key_id: String,
        signature: String,
    },
    /// The purchaser: published (R-CON-2) or filed with finance (R-CON-3).
    Publish {
        contract_id: String,
    },
    File {
        contract_id: String,
    },
    /// The purchaser: a supplementary contract (R-CON-4).
    Supplement {
        contract_id: String,
        amount_fen: i64,
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Ack {
    pub contract_id: String,
    pub status: String,
    pub document_sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error("no award letter")]
    NoAward,
    #[error("blocked by a challenge or complaint")]
    Blocked,
    #[error("already signed")]
    Signed,
    #[error("not signed")]
    NotSigned,
    #[error("supplement over the limit")]
    SupplementOverLimit,
}

impl crate::error::AreaError for ContractError {
    fn code(&self) -> &'static str {
        match self {
            ContractError::NoAward => "RESULT_NOT_PUBLISHED",
            ContractError::Blocked => "CONTRACT_BLOCKED",
            ContractError::Signed => "CONTRACT_SIGNED",
            ContractError::NotSigned => "CONTRACT_NOT_SIGNED",
            ContractError::SupplementOverLimit => "SUPPLEMENT_OVER_LIMIT",
        }
    }
    fn status(&self) -> StatusCode {
        match self {
            ContractError::SupplementOverLimit => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        }
    }
    fn messages(&self) -> (String, String) {
        let (zh, en) = match self {
            ContractError::NoAward => (
                "中标（成交）通知书尚未发出",
                "The award letter has not been issued",
            ),
            ContractError::Blocked => (
                "质疑或投诉尚未处理完毕，暂停签订合同（R-CHAL-2）",
                "A challenge or complaint is open: signing waits (R-CHAL-2)",
            ),
            ContractError::Signed => (
                "合同已签署，不能再修改",
                "The contract is signed and can no longer change",
            ),
            ContractError::NotSigned => (
                "合同尚未由双方签署",
                "The contract is not signed by both parties",
            ),
            ContractError::SupplementOverLimit => (
                "补充合同累计金额不得超过原合同金额的 10%（R-CON-4）",
                "Supplementary contracts total at most 10 % of the original amount (R-CON-4)",
            ),
        };
        (zh.into(), en.into())
    }
}

impl From<ContractError> for crate::error::AppError {
    fn from(e: ContractError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SupplementView {
    pub amount_fen: i64,
    pub reason: String,
    pub recorded_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContractView {
    pub id: String,
    pub lot_no: i64,
    pub supplier_org_id: String,
    pub amount_fen: i64,
    pub status: String,
    pub document: Value,
    pub document_sha256: String,
    pub signatures: Vec<PartySignature>,
    /// R-CON-1: signed within 30 days of the award letter; R-CON-2 published within 2
    /// working days and R-CON-3 filed within 7 of signing.
    pub sign_due_at: i64,
    pub signed_at: Option<i64>,
    pub publish_due_at: Option<i64>,
    pub published_at: Option<i64>,
    pub file_due_at: Option<i64>,
    pub filed_at: Option<i64>,
    pub supplements: Vec<SupplementView>,
    /// The payload this user's party signs, when it may sign now.
    pub my_payload: Option<String>,
}

/// `GET /api/tenders/{id}/contracts`: the parties, the agency and the supervisors see
/// every contract; anyone else the published ones.
#[derive(Debug, Clone, Serialize)]
pub struct ContractsView {
    pub tender_id: String,
    pub contracts: Vec<ContractView>,
    pub blocked: bool,
    pub may_draft: bool,
    pub purchaser: bool,
}
