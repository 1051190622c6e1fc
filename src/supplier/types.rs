//! Registration, the commitment, credit records; the stage's errors.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::org::types::{EnterpriseSize, SpecialStatus};

/// Body of `POST /api/suppliers/register` (public).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub name: String,
    pub credit_code: String,
    pub region_code: String,
    pub enterprise_size: EnterpriseSize,
    #[serde(default)]
    pub special_status: Option<SpecialStatus>,
    pub username: String,
    pub display_name: String,
    pub password: String,
    /// The legal representative and controller (R-COL-7), if declared now.
    #[serde(default)]
    pub identity: Option<super::identity::IdentityInput>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegisteredView {
    pub org_id: String,
    pub user_id: String,
    pub username: String,
}

/// What the supplier signs, and whether it has.
#[derive(Debug, Clone, Serialize)]
pub struct CommitmentView {
    /// Whether this supplier must sign before it bids (it registered itself).
    pub required: bool,
    pub version: &'static str,
    /// The declaration, in Chinese, as shown to the signer.
    pub text: String,
    /// The exact bytes to sign (canonical JSON naming the organisation and the text).
    pub payload: String,
    pub signed_at: Option<i64>,
    pub key_id: Option<String>,
}

/// Body of `POST /api/suppliers/me/commitment`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignRequest {
    pub key_id: String,
    pub signature: String,
}

/// The lists that bar a supplier (R-CRED-1; R-CHAL-4 is the platform's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditList {
    /// 失信被执行人
    DishonestJudgmentDebtor,
    /// 重大税收违法失信主体
    MajorTaxViolation,
    /// 政府采购严重违法失信行为记录
    ProcurementMisconduct,
    /// 本平台不良行为记录 (R-CHAL-4: three groundless complaints in 12 months, and others)
    BadConduct,
}

impl CreditList {
    pub fn as_str(self) -> &'static str {
        match self {
            CreditList::DishonestJudgmentDebtor => "dishonest_judgment_debtor",
            CreditList::MajorTaxViolation => "major_tax_violation",
            CreditList::ProcurementMisconduct => "procurement_misconduct",
            CreditList::BadConduct => "bad_conduct",
        }
    }
}

/// Body of `POST /api/credit-records` (finance).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditRecordInput {
    pub org_id: String,
    pub list: CreditList,
    pub reason: String,
    /// When the listing starts; now when absent.
    #[serde(default)]
    pub from_at: Option<i64>,
    /// When it ends; open-ended when absent.
    #[serde(default)]
    pub until_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CreditRecordView {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub list: String,
    pub reason: String,
    pub from_at: i64,
    pub until_at: Option<i64>,
    pub recorded_at: i64,
}

/// A check of a supplier's standing at the start of a bid.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CreditCheckView {
    pub org_id: String,
    pub tender_id: String,
    pub at: i64,
    /// clear | barred | no_commitment
    pub result: String,
    /// The lists that barred it, comma-separated.
    pub lists: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SupplierError {
    /// R-CRED-1: the supplier is on a list that bars it.
    #[error("supplier barred")]
    Barred,
    /// A supplier that registered itself has not signed its commitment yet.
    #[error("commitment missing")]
    CommitmentMissing,
    #[error("already signed")]
    AlreadySigned,
}

impl SupplierError {
    pub fn code(&self) -> &'static str {
        match self {
            SupplierError::Barred => "SUPPLIER_BARRED",
            SupplierError::CommitmentMissing => "COMMITMENT_MISSING",
            SupplierError::AlreadySigned => "ALREADY_SIGNED",
        }
    }
}

impl crate::error::AreaError for SupplierError {
    fn code(&self) -> &'static str {
        SupplierError::code(self)
    }
    fn status(&self) -> StatusCode {
        match self {
            SupplierError::Barred | SupplierError::CommitmentMissing => StatusCode::FORBIDDEN,
            SupplierError::AlreadySigned => StatusCode::CONFLICT,
        }
    }
    fn messages(&self) -> (String, String) {
        match self {
            SupplierError::Barred => (
                "贵单位被列入失信或不良行为名单,不得参加政府采购活动(R-CRED-1)".into(),
                "your organisation is on a dishonesty or bad-conduct list and may not take part (R-CRED-1)".into(),
            ),
            SupplierError::CommitmentMissing => (
                "请先用本设备的签名密钥签署信用承诺书".into(),
                "sign the credit commitment with this device's signing key first".into(),
            ),
            SupplierError::AlreadySigned => (
                "信用承诺书已签署".into(),
                "the commitment is already signed".into(),
            ),
        }
    }
}

impl From<SupplierError> for crate::error::AppError {
    fn from(e: SupplierError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}
