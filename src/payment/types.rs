//! Payment's commands, acknowledgements, refusals and views (docs/fulfilment.md).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One command, `POST /api/tenders/{id}/payments`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// The supplier, once the contract passed acceptance.
    Request {
        contract_id: String,
        amount_fen: i64,
        #[serde(default)]
        note: String,
    },
    /// The purchasing unit.
    Approve {
        request_id: String,
    },
    Reject {
        request_id: String,
        reason: String,
    },
    /// The purchasing unit records the payment of an approved request.
    Pay {
        request_id: String,
        paid_on: String,
        reference: String,
        /// The account paid into (8–32 digits, spaces dropped); once a bank financed
        /// the contract, required and the financing account.
        #[serde(default)]
        account_no: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Ack {
    pub request_id: String,
    pub status: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("not accepted")]
    BeforeAcceptance,
    #[error("over the contract")]
    OverContract,
    #[error("not the financing account")]
    NotFinancingAccount,
}

impl crate::error::AreaError for PaymentError {
    fn code(&self) -> &'static str {
        match self {
            PaymentError::BeforeAcceptance => "PAYMENT_BEFORE_ACCEPTANCE",
            PaymentError::OverContract => "PAYMENT_OVER_CONTRACT",
            PaymentError::NotFinancingAccount => "PAYMENT_NOT_TO_FINANCING_ACCOUNT",
        }
    }
    fn status(&self) -> StatusCode {
        match self {
            PaymentError::BeforeAcceptance => StatusCode::CONFLICT,
            PaymentError::OverContract => StatusCode::UNPROCESSABLE_ENTITY,
            PaymentError::NotFinancingAccount => StatusCode::CONFLICT,
        }
    }
    fn messages(&self) -> (String, String) {
        let (zh, en) = match self {
            PaymentError::BeforeAcceptance => (
                "合同尚未验收合格：验收前只能申请合同约定的预付款（及到货后的到货款）",
                "The contract has not passed acceptance: before it, only the advance the contract schedules (and, once delivered, the payment on delivery)",
            ),
            PaymentError::OverContract => (
                "申请金额须大于 0，且累计不超过合同（含补充合同）金额",
                "A request is positive and, with the others, within the contract and its supplements",
            ),
            PaymentError::NotFinancingAccount => (
                "该合同已获融资：款项须付入银行批准的融资账户",
                "The contract is financed: its payments go into the account the bank approved",
            ),
        };
        (zh.into(), en.into())
    }
}

impl From<PaymentError> for crate::error::AppError {
    fn from(e: PaymentError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub id: String,
    pub amount_fen: i64,
    pub note: String,
    /// requested | approved | rejected | paid
    pub status: String,
    pub requested_at: i64,
    pub decided_at: Option<i64>,
    pub reason: Option<String>,
    pub paid_at: Option<i64>,
    pub paid_on: Option<String>,
    pub reference: Option<String>,
    /// The account it was paid into, when recorded.
    pub paid_account: Option<String>,
}

/// An accepted (or signed, not yet accepted) contract with its payments.
#[derive(Debug, Clone, Serialize)]
pub struct ContractPayments {
    pub contract_id: String,
    pub contract_no: Value,
    pub lot_no: i64,
    pub supplier: Value,
    pub sme: bool,
    pub payment_days: i64,
    pub payable_fen: i64,
    pub paid_fen: i64,
    pub accepted_at: Option<i64>,
    /// The contract's term from acceptance (R-PAY-1 for an SME).
    pub due_at: Option<i64>,
    /// When the last payment completed what the contract owes.
    pub settled_at: Option<i64>,
    pub requests: Vec<RequestView>,
    /// The financing account the contract is paid into once a bank financed it
    /// (docs/financing.md); none, the supplier's own.
    pub pay_to: Option<crate::financing::types::PayTo>,
    /// What the supplier may still request now: before acceptance, what is left of the
    /// schedule's advance (and payment on delivery once delivered); after, of the whole.
    pub requestable_fen: i64,
    pub may_request: bool,
    pub purchaser: bool,
}

/// `GET /api/tenders/{id}/payments`: the parties and the supervisors see their signed
/// contracts' payments; anyone else nothing.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentsView {
    pub tender_id: String,
    pub contracts: Vec<ContractPayments>,
}
