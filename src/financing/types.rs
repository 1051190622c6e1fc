//! Financing's commands, refusals and views (docs/financing.md).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One command, `POST /api/tenders/{id}/financing`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// The contract's supplier asks a bank.
    Apply {
        contract_id: String,
        bank_org_id: String,
        amount_fen: i64,
        #[serde(default)]
        note: String,
    },
    /// The bank asked: grants at most the amount asked, into its financing account.
    Approve {
        application_id: String,
        amount_fen: i64,
        account_name: String,
        account_no: String,
    },
    Decline {
        application_id: String,
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Ack {
    pub application_id: String,
    pub status: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FinancingError {
    #[error("contract not signed")]
    NotSigned,
    #[error("an application is open or approved")]
    Pending,
    #[error("over the contract")]
    OverContract,
}

impl crate::error::AreaError for FinancingError {
    fn code(&self) -> &'static str {
        match self {
            FinancingError::NotSigned => "CONTRACT_NOT_SIGNED",
            FinancingError::Pending => "FINANCING_PENDING",
            FinancingError::OverContract => "FINANCING_OVER_CONTRACT",
        }
    }
    fn status(&self) -> StatusCode {
        match self {
            FinancingError::OverContract => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        }
    }
    fn messages(&self) -> (String, String) {
        let (zh, en) = match self {
            FinancingError::NotSigned => (
                "合同尚未由双方签署，不能申请融资",
                "The contract is not signed by both parties: no financing yet",
            ),
            FinancingError::Pending => (
                "该合同已有待处理或已批准的融资申请",
                "This contract has a financing application open or approved",
            ),
            FinancingError::OverContract => (
                "融资金额须大于 0 且不超过合同（含补充合同）金额与所申请金额",
                "The amount is positive and within the contract and the amount asked",
            ),
        };
        (zh.into(), en.into())
    }
}

impl From<FinancingError> for crate::error::AppError {
    fn from(e: FinancingError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

/// Where the contract is paid once financed.
#[derive(Debug, Clone, Serialize)]
pub struct PayTo {
    pub application_id: String,
    pub bank_org_id: String,
    pub bank_name: String,
    pub account_name: String,
    pub account_no: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplicationView {
    pub id: String,
    pub tender_id: String,
    pub contract_id: String,
    pub supplier_org_id: String,
    pub supplier_name: String,
    pub bank_org_id: String,
    pub bank_name: String,
    pub amount_fen: i64,
    pub note: String,
    /// applied | approved | declined
    pub status: String,
    pub applied_at: i64,
    pub decided_at: Option<i64>,
    pub approved_fen: Option<i64>,
    pub account_name: Option<String>,
    pub account_no: Option<String>,
    pub reason: Option<String>,
}

/// The supplier's standing as its bank reads it: the credit records in force and its
/// ratings in aggregate.
#[derive(Debug, Clone, Serialize)]
pub struct CreditSummary {
    pub records_in_force: Vec<Value>,
    pub ratings: Option<crate::rating::types::Summary>,
}

/// One application as the bank reads it: with the contract and the credit summary.
#[derive(Debug, Clone, Serialize)]
pub struct BankCase {
    pub application: ApplicationView,
    pub contract: Value,
    pub contract_sha256: String,
    pub payable_fen: i64,
    pub credit: CreditSummary,
}

/// `GET /api/tenders/{id}/financing`: the applications of the tender's contracts, to the
/// contract's parties and the supervisors; `may_apply` the supplier's contracts it may
/// finance now.
#[derive(Debug, Clone, Serialize)]
pub struct TenderFinancing {
    pub tender_id: String,
    pub applications: Vec<ApplicationView>,
    pub may_apply: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bank {
    pub id: String,
    pub name: String,
}
