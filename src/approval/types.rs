//! Approval requests, objections, decisions and their views; the stage's errors.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

/// What finance is asked to approve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    /// 采购方式变更: a method other than open tendering.
    Method,
    /// 进口产品: imported products.
    Import,
}

impl ApprovalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalKind::Method => "method",
            ApprovalKind::Import => "import",
        }
    }

    pub fn parse(s: &str) -> Option<ApprovalKind> {
        [ApprovalKind::Method, ApprovalKind::Import]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One attachment, sent inline (a scanned letter, an expert opinion).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentInput {
    pub name: String,
    #[serde(default)]
    pub media_type: String,
    pub content_base64: String,
}

/// Body of `POST /api/plans/{id}/approvals`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalInput {
    pub kind: ApprovalKind,
    pub reasons: String,
    /// Single source: the one supplier, by name and 统一社会信用代码.
    #[serde(default)]
    pub sole_supplier_name: Option<String>,
    #[serde(default)]
    pub sole_supplier_credit_code: Option<String>,
    #[serde(default)]
    pub attachments: Vec<AttachmentInput>,
}

/// Body of `POST /api/approvals/{id}/decision`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub approve: bool,
    #[serde(default)]
    pub reason: String,
}

/// Body of `POST /api/approvals/{id}/objections`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectionInput {
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttachmentView {
    pub seq: i64,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectionView {
    pub id: String,
    /// The objecting supplier's name: shown to the unit and finance, never to the public.
    pub supplier_name: Option<String>,
    pub text: String,
    pub at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApprovalView {
    pub id: String,
    pub plan_id: String,
    pub plan_code: String,
    pub plan_title: String,
    pub org_name: String,
    pub region_code: String,
    pub amount_fen: i64,
    pub kind: String,
    pub method: String,
    pub reasons: String,
    pub sole_supplier_name: Option<String>,
    pub sole_supplier_code: Option<String>,
    /// `publicising` (a single-source request before its publicity ends), `pending`,
    /// `approved`, `refused`.
    pub status: String,
    pub requested_at: i64,
    pub publicity_ends_at: Option<i64>,
    pub decided_at: Option<i64>,
    pub decision_reason: Option<String>,
    pub attachments: Vec<AttachmentView>,
    pub objections: Vec<ObjectionView>,
}

/// The approval stage's refusals, with stable codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    /// R-METH-1: a tender whose plan needs finance's approval, published without it.
    #[error("approval required: {0}")]
    ApprovalRequired(&'static str),
    /// The plan needs no approval of this kind (open tendering, below the threshold, or
    /// no imported products).
    #[error("no approval needed")]
    NotNeeded,
    /// A request of this kind is already pending or approved.
    #[error("already requested")]
    AlreadyRequested,
    /// R-METH-1: finance decides a single-source request only after its publicity.
    #[error("publicity not over")]
    PublicityNotOver { ends_at: i64 },
    /// Objections are taken during the publicity only.
    #[error("publicity over")]
    PublicityOver,
    #[error("already decided")]
    AlreadyDecided,
}

impl ApprovalError {
    pub fn code(&self) -> &'static str {
        match self {
            ApprovalError::ApprovalRequired(_) => "APPROVAL_REQUIRED",
            ApprovalError::NotNeeded => "APPROVAL_NOT_NEEDED",
            ApprovalError::AlreadyRequested => "APPROVAL_ALREADY_REQUESTED",
            ApprovalError::PublicityNotOver { .. } => "PUBLICITY_NOT_OVER",
            ApprovalError::PublicityOver => "PUBLICITY_OVER",
            ApprovalError::AlreadyDecided => "ALREADY_DECIDED",
        }
    }
}

impl crate::error::AreaError for ApprovalError {
    fn code(&self) -> &'static str {
        ApprovalError::code(self)
    }
    fn status(&self) -> StatusCode {
        StatusCode::CONFLICT
    }
    fn messages(&self) -> (String, String) {
        match self {
            ApprovalError::ApprovalRequired(what) => (
                format!("{what}须经财政部门批准后方可发布采购公告(R-METH-1)"),
                format!("{what}: finance must approve before the tender is published (R-METH-1)"),
            ),
            ApprovalError::NotNeeded => (
                "该计划无需此项审批(公开招标、未达公开招标数额标准或不采购进口产品)".into(),
                "the plan needs no such approval (open tendering, below the threshold, or no imported products)".into(),
            ),
            ApprovalError::AlreadyRequested => (
                "已有同类申请在审或已获批准".into(),
                "a request of this kind is pending or approved".into(),
            ),
            ApprovalError::PublicityNotOver { ends_at } => (
                format!("单一来源公示期未满,{} 后方可审批(R-METH-1)", crate::clock::format_cst(*ends_at)),
                format!("the single-source publicity runs until {}; decide after it (R-METH-1)", crate::clock::format_cst(*ends_at)),
            ),
            ApprovalError::PublicityOver => (
                "公示期已结束,不再受理异议".into(),
                "the publicity is over; objections are closed".into(),
            ),
            ApprovalError::AlreadyDecided => (
                "该申请已审批".into(),
                "this request is already decided".into(),
            ),
        }
    }
}

impl From<ApprovalError> for crate::error::AppError {
    fn from(e: ApprovalError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}
