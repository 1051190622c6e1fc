//! Budget lines, plans and intentions: requests, views and the stage's errors.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

pub use crate::evaluation::Category;

/// Procurement methods (采购方式) of the Government Procurement Law and MoF orders; the
/// plan fixes it and the tender inherits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcurementMethod {
    /// 公开招标
    OpenTendering,
    /// 邀请招标
    InvitedTendering,
    /// 竞争性谈判
    CompetitiveNegotiation,
    /// 竞争性磋商
    CompetitiveConsultation,
    /// 询价
    Inquiry,
    /// 单一来源
    SingleSource,
    /// 框架协议
    FrameworkAgreement,
}

impl ProcurementMethod {
    pub const ALL: [ProcurementMethod; 7] = [
        ProcurementMethod::OpenTendering,
        ProcurementMethod::InvitedTendering,
        ProcurementMethod::CompetitiveNegotiation,
        ProcurementMethod::CompetitiveConsultation,
        ProcurementMethod::Inquiry,
        ProcurementMethod::SingleSource,
        ProcurementMethod::FrameworkAgreement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProcurementMethod::OpenTendering => "open_tendering",
            ProcurementMethod::InvitedTendering => "invited_tendering",
            ProcurementMethod::CompetitiveNegotiation => "competitive_negotiation",
            ProcurementMethod::CompetitiveConsultation => "competitive_consultation",
            ProcurementMethod::Inquiry => "inquiry",
            ProcurementMethod::SingleSource => "single_source",
            ProcurementMethod::FrameworkAgreement => "framework_agreement",
        }
    }

    pub fn parse(s: &str) -> Option<ProcurementMethod> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// Where a budget line's money comes from (资金来源).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundingSource {
    /// 一般公共预算
    GeneralBudget,
    /// 政府性基金预算
    GovernmentFund,
    /// 国有资本经营预算
    StateCapital,
    /// 财政专户管理资金
    SpecialAccount,
    /// 单位自有资金
    OwnFunds,
}

impl FundingSource {
    pub const ALL: [FundingSource; 5] = [
        FundingSource::GeneralBudget,
        FundingSource::GovernmentFund,
        FundingSource::StateCapital,
        FundingSource::SpecialAccount,
        FundingSource::OwnFunds,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FundingSource::GeneralBudget => "general_budget",
            FundingSource::GovernmentFund => "government_fund",
            FundingSource::StateCapital => "state_capital",
            FundingSource::SpecialAccount => "special_account",
            FundingSource::OwnFunds => "own_funds",
        }
    }
}

/// The cases in which a procurement may start less than 30 days after its intention, or
/// without one (财库〔2020〕10号, S; configurable by being a closed list here and in
/// docs/plans.md, to be confirmed by the city's finance bureau).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentionException {
    /// 因预算单位不可预见的原因急需开展的采购项目
    Urgent,
    /// 涉密采购项目
    Classified,
    /// 以协议供货、定点采购方式实施的小额零星采购
    SmallScattered,
    /// 由集中采购机构统一组织的批量集中采购
    BatchCentralised,
}

impl IntentionException {
    pub fn as_str(self) -> &'static str {
        match self {
            IntentionException::Urgent => "urgent",
            IntentionException::Classified => "classified",
            IntentionException::SmallScattered => "small_scattered",
            IntentionException::BatchCentralised => "batch_centralised",
        }
    }

    pub fn parse(s: &str) -> Option<IntentionException> {
        [
            IntentionException::Urgent,
            IntentionException::Classified,
            IntentionException::SmallScattered,
            IntentionException::BatchCentralised,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }
}

/// Body of `POST /api/budget-lines` (finance records a unit's budget line).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetLineInput {
    pub org_id: String,
    pub year: i32,
    /// 预算项目编码, unique per unit and year.
    pub code: String,
    pub title: String,
    pub category: Category,
    pub funding_source: FundingSource,
    pub amount_fen: i64,
}

/// A budget line with what is drawn from it.
#[derive(Debug, Clone, Serialize)]
pub struct BudgetLineView {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub region_code: String,
    pub year: i32,
    pub code: String,
    pub title: String,
    pub category: String,
    pub funding_source: String,
    pub amount_fen: i64,
    /// The amounts of the plans filed against it (cancelled plans excluded).
    pub planned_fen: i64,
    pub left_fen: i64,
    pub created_at: i64,
}

/// Body of `POST /api/plans` (the purchasing unit files a plan).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    pub budget_line_id: String,
    pub title: String,
    pub method: ProcurementMethod,
    pub amount_fen: i64,
    /// Procurement of imported products (needs finance's approval, R-METH-1).
    #[serde(default)]
    pub imported: bool,
    /// The month the procurement is expected to start, `YYYY-MM`.
    pub expected_month: String,
    /// The lawful exception to R-PLAN-1's 30 days, with its reason.
    #[serde(default)]
    pub intention_exception: Option<IntentionException>,
    #[serde(default)]
    pub exception_reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub id: String,
    pub code: String,
    pub budget_line_id: String,
    pub budget_line_code: String,
    pub org_id: String,
    pub org_name: String,
    pub region_code: String,
    pub year: i32,
    pub title: String,
    pub category: String,
    pub method: String,
    pub amount_fen: i64,
    pub imported: bool,
    pub expected_month: String,
    pub intention_exception: Option<String>,
    pub exception_reason: String,
    pub status: String,
    /// The budgets of the tenders created from it.
    pub committed_fen: i64,
    pub left_fen: i64,
    pub intention: Option<IntentionView>,
    /// The earliest time a tender from this plan may be published (R-PLAN-1), once its
    /// intention is out or its exception recorded.
    pub publishable_from: Option<i64>,
    pub created_at: i64,
}

/// Body of `POST /api/plans/{id}/intention`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentionInput {
    /// 采购需求概况: what is to be bought, in a few lines.
    pub description: String,
}

/// A published procurement intention (public).
#[derive(Debug, Clone, Serialize)]
pub struct IntentionView {
    pub id: String,
    pub plan_id: String,
    pub org_name: String,
    pub region_code: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub budget_fen: i64,
    pub expected_month: String,
    pub published_at: i64,
    /// The announcements (采购公告) of the tenders created from its plan, once published:
    /// the public follows an intention to its tender.
    pub announcements: Vec<IntentionAnnouncement>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct IntentionAnnouncement {
    #[serde(skip)]
    pub plan_id: String,
    pub id: String,
    pub code: String,
    pub title: String,
}

/// One row of budget execution (finance): per unit, region or category.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
pub struct ExecutionRow {
    pub key: String,
    pub name: String,
    pub budget_fen: i64,
    pub planned_fen: i64,
    pub committed_fen: i64,
}

/// The plan stage's refusals, with stable codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// R-PLAN-2: the plan would exceed what is left of its budget line.
    #[error("plan over its budget line ({left_fen} fen left)")]
    OverBudgetLine { left_fen: i64 },
    /// R-PLAN-2: the tender's budget would exceed what is left of its plan.
    #[error("tender over its plan ({left_fen} fen left)")]
    OverPlan { left_fen: i64 },
    /// R-PLAN-1: the plan's intention has not been out for 30 days.
    #[error("intention published too recently (publishable from {publishable_from})")]
    IntentionTooRecent { publishable_from: i64 },
    /// R-PLAN-1: the plan has neither a published intention nor a recorded exception.
    #[error("no intention published")]
    NoIntention,
    /// The plan is cancelled, or belongs to another unit, category or method.
    #[error("plan does not fit the tender: {0}")]
    PlanMismatch(&'static str),
    /// A plan from which tenders were created cannot be cancelled.
    #[error("plan in use")]
    PlanInUse,
    #[error("intention already published")]
    IntentionAlreadyPublished,
    #[error("budget line already exists")]
    DuplicateBudgetLine,
}

impl PlanError {
    pub fn code(&self) -> &'static str {
        match self {
            PlanError::OverBudgetLine { .. } => "PLAN_OVER_BUDGET_LINE",
            PlanError::OverPlan { .. } => "TENDER_OVER_PLAN",
            PlanError::IntentionTooRecent { .. } => "INTENTION_TOO_RECENT",
            PlanError::NoIntention => "NO_INTENTION",
            PlanError::PlanMismatch(_) => "PLAN_MISMATCH",
            PlanError::PlanInUse => "PLAN_IN_USE",
            PlanError::IntentionAlreadyPublished => "INTENTION_ALREADY_PUBLISHED",
            PlanError::DuplicateBudgetLine => "DUPLICATE_BUDGET_LINE",
        }
    }
}

fn yuan(fen: i64) -> String {
    crate::money::Money(fen).to_string()
}

impl crate::error::AreaError for PlanError {
    fn code(&self) -> &'static str {
        PlanError::code(self)
    }
    fn status(&self) -> StatusCode {
        StatusCode::CONFLICT
    }
    fn messages(&self) -> (String, String) {
        match self {
            PlanError::OverBudgetLine { left_fen } => (
                format!("采购计划超出预算指标余额(余额 {} 元)(R-PLAN-2)", yuan(*left_fen)),
                format!("the plan exceeds what is left of its budget line ({} yuan left, R-PLAN-2)", yuan(*left_fen)),
            ),
            PlanError::OverPlan { left_fen } => (
                format!("项目预算超出采购计划余额(余额 {} 元)(R-PLAN-2)", yuan(*left_fen)),
                format!("the tender's budget exceeds what is left of its plan ({} yuan left, R-PLAN-2)", yuan(*left_fen)),
            ),
            PlanError::IntentionTooRecent { publishable_from } => (
                format!("采购意向公开未满 30 日,最早可于 {} 发布采购公告(R-PLAN-1)", crate::clock::format_cst(*publishable_from)),
                format!("the procurement intention has been public for less than 30 days; the tender may be published from {} (R-PLAN-1)", crate::clock::format_cst(*publishable_from)),
            ),
            PlanError::NoIntention => (
                "采购计划尚未公开采购意向,也未登记法定例外情形(R-PLAN-1)".into(),
                "the plan's procurement intention is not published and no lawful exception is recorded (R-PLAN-1)".into(),
            ),
            PlanError::PlanMismatch(what) => (
                format!("采购计划与项目不符:{what}"),
                format!("the plan does not fit the tender: {what}"),
            ),
            PlanError::PlanInUse => (
                "已据此计划创建项目,不能撤销".into(),
                "tenders were created from this plan; it cannot be cancelled".into(),
            ),
            PlanError::IntentionAlreadyPublished => (
                "采购意向已公开".into(),
                "the intention is already published".into(),
            ),
            PlanError::DuplicateBudgetLine => (
                "该单位本年度已有相同编码的预算项目".into(),
                "this unit already has a budget line with this code for the year".into(),
            ),
        }
    }
}

impl From<PlanError> for crate::error::AppError {
    fn from(e: PlanError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}
