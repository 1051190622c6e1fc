//! What a supplier records, what its readers see, and the deposits' errors.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::money::Money;

/// Body of `POST /api/tenders/{id}/deposit`: a payment or an electronic guarantee.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DepositInput {
    /// 转账缴纳: from the supplier's account to the agency's deposit account.
    Payment {
        amount_fen: Money,
        /// The paying account's holder (付款户名).
        payer_name: String,
        bank: String,
        /// As the supplier writes it; kept as digits only.
        account_no: String,
        /// The bank's transfer reference (交易流水号).
        transfer_ref: String,
    },
    /// 电子保函, as declared by the supplier: the platform checks no issuer's signature.
    Guarantee {
        amount_fen: Money,
        issuer: String,
        guarantee_no: String,
        /// The end of its validity, in milliseconds.
        valid_until: i64,
    },
}

/// `payment` or `guarantee`, stored as text through [`DepositKind::as_str`] only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepositKind {
    Payment,
    Guarantee,
}

impl DepositKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DepositKind::Payment => "payment",
            DepositKind::Guarantee => "guarantee",
        }
    }

    pub fn parse(s: &str) -> Option<DepositKind> {
        [DepositKind::Payment, DepositKind::Guarantee]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Body of `POST /api/tenders/{id}/deposits/{org_id}/refund`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// The refund's transfer reference, or the guarantee's release note.
    #[serde(default)]
    pub reference: String,
}

/// A deposit as the supplier that made it, the supervisors, and (once bids are no longer
/// secret) the tender's agency and purchaser see it.
#[derive(Debug, Clone, Serialize)]
pub struct DepositView {
    pub tender_id: String,
    pub org_id: String,
    pub org_name: String,
    pub kind: DepositKind,
    pub amount_fen: Money,
    pub payer_name: Option<String>,
    pub bank: Option<String>,
    /// Digits only.
    pub account_no: Option<String>,
    pub transfer_ref: Option<String>,
    pub issuer: Option<String>,
    pub guarantee_no: Option<String>,
    pub valid_until: Option<i64>,
    pub recorded_at: i64,
    /// R-DEP-1: 24:00 of the 5th working day after the award, the failed opening or
    /// evaluation, or the cancellation; none while the tender runs.
    pub refund_due_at: Option<i64>,
    pub refunded_at: Option<i64>,
    pub refund_ref: Option<String>,
    /// Refunded after its due date, or still not refunded past it.
    pub overdue: bool,
    /// R-COL-6: another deposit on this tender was paid from the same account (shown to
    /// those who see the list).
    pub shared_account: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DepositError {
    /// R-DEP-1: the deposit asked is above 2% of the budget.
    #[error("deposit above 2% of the budget")]
    TooHigh { deposit: i64, ceiling: i64 },
    /// The tender asks a deposit and the supplier has recorded none (at a bid's start).
    #[error("deposit missing")]
    Missing,
    /// The tender asks no deposit.
    #[error("no deposit asked")]
    NotRequired,
    /// Less than the tender asks.
    #[error("deposit below the amount asked")]
    BelowRequired { required: i64 },
    /// A guarantee that ends before the bid deadline.
    #[error("guarantee expires before the bid deadline")]
    GuaranteeExpires,
    /// Refunds come after the award, a failed tender or a cancellation.
    #[error("tender still running")]
    NotRefundable,
}

fn yuan(fen: i64) -> String {
    Money(fen).to_string()
}

impl DepositError {
    pub fn code(&self) -> &'static str {
        match self {
            DepositError::TooHigh { .. } => "DEPOSIT_TOO_HIGH",
            DepositError::Missing => "DEPOSIT_MISSING",
            DepositError::NotRequired => "DEPOSIT_NOT_REQUIRED",
            DepositError::BelowRequired { .. } => "DEPOSIT_BELOW_REQUIRED",
            DepositError::GuaranteeExpires => "GUARANTEE_EXPIRES_BEFORE_DEADLINE",
            DepositError::NotRefundable => "DEPOSIT_NOT_REFUNDABLE",
        }
    }
}

impl crate::error::AreaError for DepositError {
    fn code(&self) -> &'static str {
        DepositError::code(self)
    }
    fn status(&self) -> StatusCode {
        match self {
            DepositError::TooHigh { .. }
            | DepositError::BelowRequired { .. }
            | DepositError::GuaranteeExpires => StatusCode::UNPROCESSABLE_ENTITY,
            DepositError::Missing => StatusCode::FORBIDDEN,
            DepositError::NotRequired | DepositError::NotRefundable => StatusCode::CONFLICT,
        }
    }
    fn messages(&self) -> (String, String) {
        match self {
            DepositError::TooHigh { deposit, ceiling } => (
                format!(
                    "投标保证金 {} 元超过采购预算的 2%(上限 {} 元,R-DEP-1)",
                    yuan(*deposit),
                    yuan(*ceiling)
                ),
                format!(
                    "the bid deposit of {} yuan is above 2% of the budget (at most {} yuan, R-DEP-1)",
                    yuan(*deposit),
                    yuan(*ceiling)
                ),
            ),
            DepositError::Missing => (
                "本项目须缴纳投标保证金,请先登记保证金再投标".into(),
                "this tender asks a bid deposit: record your deposit before bidding".into(),
            ),
            DepositError::NotRequired => (
                "本项目不收取投标保证金".into(),
                "this tender asks no bid deposit".into(),
            ),
            DepositError::BelowRequired { required } => (
                format!("保证金金额不足,本项目须缴纳 {} 元", yuan(*required)),
                format!(
                    "the amount is below the deposit asked: {} yuan",
                    yuan(*required)
                ),
            ),
            DepositError::GuaranteeExpires => (
                "保函有效期须至少到投标截止时间".into(),
                "the guarantee must be valid at least until the bid deadline".into(),
            ),
            DepositError::NotRefundable => (
                "项目定标、流标或终止后方可登记退还保证金".into(),
                "deposits are refunded after the award, a failed tender or a cancellation"
                    .into(),
            ),
        }
    }
}

impl From<DepositError> for crate::error::AppError {
    fn from(e: DepositError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deposit_body_is_a_payment_or_a_guarantee_with_its_own_fields_only() {
        let g: DepositInput = serde_json::from_str(
            r#"{"kind": "guarantee", "amount_fen": 5, "issuer": "i", "guarantee_no": "n",
                "valid_until": 7}"#,
        )
        .unwrap();
        assert!(matches!(g, DepositInput::Guarantee { valid_until: 7, .. }));
        // A guarantee with a payment's field, or an unknown kind, is refused.
        assert!(serde_json::from_str::<DepositInput>(
            r#"{"kind": "guarantee", "amount_fen": 5, "issuer": "i", "guarantee_no": "n",
                "valid_until": 7, "account_no": "123456"}"#,
        )
        .is_err());
        assert!(
            serde_json::from_str::<DepositInput>(r#"{"kind": "cash", "amount_fen": 5}"#).is_err()
        );
    }
}
