//! The warnings' command, refusals and view (docs/collusion.md).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::rules::{Finding, Screens};

/// One command, `POST /api/tenders/{id}/warnings`: a supervisor confirms or dismisses a
/// warning, with its reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    Confirm { key: String, reason: String },
    Dismiss { key: String, reason: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Ack {
    pub key: String,
    pub status: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WarningError {
    #[error("not opened")]
    NotOpened,
}

impl crate::error::AreaError for WarningError {
    fn code(&self) -> &'static str {
        "WARNINGS_NOT_YET"
    }
    fn status(&self) -> StatusCode {
        StatusCode::CONFLICT
    }
    fn messages(&self) -> (String, String) {
        (
            "开标结束前不分析、不显示任何围标串标预警".into(),
            "No collusion warning is computed or shown before the opening".into(),
        )
    }
}

impl From<WarningError> for crate::error::AppError {
    fn from(e: WarningError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

/// A finding with its decision.
#[derive(Debug, Clone, Serialize)]
pub struct WarningView {
    pub key: String,
    #[serde(flatten)]
    pub finding: Finding,
    /// open | confirmed | dismissed
    pub status: String,
    pub reason: Option<String>,
    pub decided_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LotScreens {
    pub lot_no: i64,
    #[serde(flatten)]
    pub screens: Screens,
}

/// `GET /api/tenders/{id}/warnings`: the supervisors', after the opening.
#[derive(Debug, Clone, Serialize)]
pub struct WarningsView {
    pub tender_id: String,
    pub warnings: Vec<WarningView>,
    pub screens: Vec<LotScreens>,
    /// The decisions' chain (`kaibiao verify` checks it).
    pub ledger: crate::ledger::Ledger,
}

/// `GET /api/screens`: the flags across tenders, and the names of what they name.
#[derive(Debug, Clone, Serialize)]
pub struct ScreensView {
    #[serde(flatten)]
    pub flags: super::rules::CrossFlags,
    /// Organisation id → name.
    pub names: std::collections::BTreeMap<String, String>,
    /// Tender id → its code and title.
    pub tenders: std::collections::BTreeMap<String, TenderRef>,
    /// Who bids with whom and who wins where (`market`).
    #[serde(flatten)]
    pub market: super::market::Market,
}

#[derive(Debug, Clone, Serialize)]
pub struct TenderRef {
    pub code: String,
    pub title: String,
}

/// A tender's warnings counted by their decision (the supervisors' console).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Tally {
    pub open: usize,
    pub confirmed: usize,
    pub dismissed: usize,
}
