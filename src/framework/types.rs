//! The framework agreement's commands, refusals and view (docs/framework.md).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

/// How a call-off picks its supplier (第二阶段, 财政部令第110号).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// 直接选定: the purchaser picks an admitted supplier at its admitted price.
    Direct,
    /// 顺序轮候: the next admitted supplier in turn.
    Rotation,
    /// 二次竞价: the admitted suppliers quote again; the lowest quote wins.
    Competition,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Direct => "direct",
            Mode::Rotation => "rotation",
            Mode::Competition => "competition",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quote {
    pub org_id: String,
    pub price_fen: i64,
}

/// `POST /api/tenders/{id}/framework`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// The agency, once the framework tender is awarded: the first `admitted` of the
    /// ranking are admitted (入围) at their prices, the agreement running to `valid_until`.
    Establish { admitted: usize, valid_until: i64 },
    /// The purchaser: a call-off within the agreement.
    CallOff {
        mode: Mode,
        description: String,
        /// Direct: the chosen supplier's order amount; rotation likewise; competition: the
        /// winning quote is the amount.
        #[serde(default)]
        amount_fen: Option<i64>,
        #[serde(default)]
        org_id: Option<String>,
        #[serde(default)]
        quotes: Vec<Quote>,
    },
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Ack {
    Established {
        admitted: usize,
        valid_until: i64,
    },
    CallOff {
        call_off_no: i64,
        org_id: String,
        amount_fen: i64,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct AdmittedView {
    pub org_id: String,
    pub name: String,
    pub rank: i64,
    pub price_fen: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallOffView {
    pub call_off_no: i64,
    pub mode: Mode,
    pub org_id: String,
    pub name: String,
    pub amount_fen: i64,
    pub description: String,
    pub quotes: Vec<Quote>,
    pub placed_at: i64,
}

/// `GET /api/tenders/{id}/framework`.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkView {
    pub tender_id: String,
    pub established: bool,
    pub established_at: Option<i64>,
    pub valid_until: Option<i64>,
    pub admitted: Vec<AdmittedView>,
    /// The supplier whose turn it is in rotation.
    pub next_in_rotation: Option<String>,
    /// Every call-off for the agency, the purchaser and supervisors; an admitted supplier
    /// its own.
    pub call_offs: Vec<CallOffView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameworkError {
    #[error("not a framework agreement")]
    NotFramework,
    #[error("admission not allowed")]
    AdmissionInvalid,
    #[error("not admitted")]
    NotAdmitted,
    #[error("expired")]
    Expired,
    #[error("not established")]
    NotEstablished,
    #[error("quotes")]
    QuotesInvalid,
}

impl crate::error::AreaError for FrameworkError {
    fn code(&self) -> &'static str {
        match self {
            FrameworkError::NotFramework => "NOT_A_FRAMEWORK",
            FrameworkError::AdmissionInvalid => "ADMISSION_INVALID",
            FrameworkError::NotAdmitted => "NOT_ADMITTED",
            FrameworkError::Expired => "FRAMEWORK_EXPIRED",
            FrameworkError::NotEstablished => "FRAMEWORK_NOT_ESTABLISHED",
            FrameworkError::QuotesInvalid => "QUOTES_INVALID",
        }
    }
    fn status(&self) -> StatusCode {
        match self {
            FrameworkError::AdmissionInvalid
            | FrameworkError::NotAdmitted
            | FrameworkError::QuotesInvalid => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::CONFLICT,
        }
    }
    fn messages(&self) -> (String, String) {
        let (zh, en) = match self {
            FrameworkError::NotFramework => ("该项目不是框架协议采购", "This tender is not a framework agreement"),
            FrameworkError::AdmissionInvalid => (
                "入围供应商数不符合规定:至少 2 家,且须淘汰一定比例(价格优先法 20%、质量优先法 40%)",
                "Admission not allowed: at least 2, and a share eliminated (20 % by price, 40 % by quality)",
            ),
            FrameworkError::NotAdmitted => ("该供应商未入围", "That supplier is not admitted"),
            FrameworkError::Expired => ("框架协议已到期", "The framework agreement has expired"),
            FrameworkError::NotEstablished => ("框架协议尚未订立", "The framework agreement is not established"),
            FrameworkError::QuotesInvalid => (
                "二次竞价须有至少 2 家入围供应商的有效报价",
                "A secondary competition needs valid quotes from at least 2 admitted suppliers",
            ),
        };
        (zh.into(), en.into())
    }
}

impl From<FrameworkError> for crate::error::AppError {
    fn from(e: FrameworkError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}
