//! The ratings' command, refusals and views (docs/ratings.md).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rules::{Criterion, Party};

/// One command, `POST /api/tenders/{id}/ratings`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// The user's party rates another party of the contract (an expert by its id).
    Rate {
        contract_id: String,
        ratee_party: Party,
        ratee: String,
        scores: BTreeMap<String, i64>,
        #[serde(default)]
        comment: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct Ack {
    pub rating_id: String,
    pub mean_centi: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error("not accepted")]
    NotAccepted,
    #[error("already rated")]
    Rated,
}

impl crate::error::AreaError for RatingError {
    fn code(&self) -> &'static str {
        match self {
            RatingError::NotAccepted => "RATING_NOT_OPEN",
            RatingError::Rated => "ALREADY_RATED",
        }
    }
    fn status(&self) -> StatusCode {
        StatusCode::CONFLICT
    }
    fn messages(&self) -> (String, String) {
        let (zh, en) = match self {
            RatingError::NotAccepted => (
                "合同验收合格后方可进行信用评价",
                "Ratings open once the contract passed acceptance",
            ),
            RatingError::Rated => (
                "已对该方作出评价，不能重复评价",
                "This party has been rated already",
            ),
        };
        (zh.into(), en.into())
    }
}

impl From<RatingError> for crate::error::AppError {
    fn from(e: RatingError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}

/// A rating as given.
#[derive(Debug, Clone, Serialize)]
pub struct RatingView {
    pub id: String,
    pub contract_id: String,
    pub rater_party: String,
    pub rater: String,
    pub rater_name: String,
    pub ratee_party: String,
    pub ratee: String,
    pub ratee_name: String,
    pub scores: Value,
    pub mean_centi: i64,
    pub comment: String,
    pub rated_at: i64,
}

/// One party the user's party rates on one contract, with the rating once given.
#[derive(Debug, Clone, Serialize)]
pub struct ToRate {
    pub contract_id: String,
    pub contract_no: Value,
    pub ratee_party: Party,
    pub ratee: String,
    pub ratee_name: String,
    pub criteria: &'static [Criterion],
    pub given: Option<RatingView>,
}

/// `GET /api/tenders/{id}/ratings`: what the user's party rates (once a contract passed
/// acceptance) and, for the supervisors, every rating of the tender.
#[derive(Debug, Clone, Serialize)]
pub struct RatingsView {
    pub tender_id: String,
    pub my_party: Option<Party>,
    pub to_rate: Vec<ToRate>,
    pub all: Option<Vec<RatingView>>,
}

/// An organisation's or an expert's ratings in all: how many, the mean and each
/// criterion's mean (hundredths), never who rated.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub party: String,
    pub subject: String,
    pub name: String,
    pub count: i64,
    pub mean_centi: i64,
    pub criteria: BTreeMap<String, i64>,
}
