//! Evaluation arithmetic, pure (no database): evaluated prices with policy deductions,
//! price-inconsistency corrections, comprehensive scoring, ranking and the abnormally-low
//! flag. Every result carries its derivation so a bidder can follow it line by line.
//! Rules: R-EVAL-4..8, R-POL-2, R-POL-3, R-POL-5, R-POL-6 (see docs/evaluation-scoring.md).

pub mod evaluated;
pub mod policy;
pub mod price;
pub mod room;
pub mod rounding;
pub mod scoring;
pub mod words;

#[cfg(test)]
mod vectors;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::money::Money;
use crate::tender::types::Category;

pub use evaluated::{Deduction, EvaluatedPrice};
pub use policy::PolicyTable;
pub use price::{correct_price, CorrectedPrice, Correction, CorrectionKind, PriceStatement};
pub use scoring::{
    check_terms, evaluate_lot, evaluate_lot_with, BidResult, LotResult, RankEntry, ScoreSheet,
};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EvalError {
    #[error("no {table} rule for {category:?} on {date}")]
    NoRule {
        table: &'static str,
        category: Category,
        date: NaiveDate,
    },
    #[error("{field} {rate} is outside {min}–{max} for {category:?} on {date}")]
    RateOutOfRange {
        field: &'static str,
        rate: String,
        min: String,
        max: String,
        category: Category,
        date: NaiveDate,
    },
    #[error("the tender must state its {field}: the system never assumes a rate")]
    MissingRate { field: &'static str },
    #[error("price weight {weight} is below the minimum {min} for {category:?}")]
    PriceWeightTooLow {
        weight: String,
        min: String,
        category: Category,
    },
    #[error("weights add up to {sum}, not 100%")]
    WeightsNot100 { sum: String },
    #[error("bidder {bidder} has no score for item {item}")]
    MissingScore { bidder: String, item: String },
    #[error("bidder {bidder}: cannot read the amount in words {words:?}")]
    UnreadableWords { bidder: String, words: String },
    #[error("no compliant bid to evaluate")]
    NoCompliantBid,
    #[error("amount out of range")]
    Overflow,
}

/// Points in hundredths (0.01 point), written `"85.50"` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Points(pub i64);

impl Serialize for Points {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rounding::fmt_points(self.0))
    }
}

impl<'de> Deserialize<'de> for Points {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // Same shape as a yuan amount: digits with at most two decimals.
        Money::parse_yuan(&s)
            .map(|m| Points(m.fen()))
            .ok_or_else(|| serde::de::Error::custom(format!("not a score: {s:?}")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 综合评分法 (R-EVAL-4)
    Comprehensive,
    /// 最低评标价法 (R-EVAL-6)
    LowestEvaluatedPrice,
}

/// The organisations' own types: a bid's size and status are the bidder's as registered.
pub use crate::org::types::{EnterpriseSize, SpecialStatus};

/// A scored item other than price, with its weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreItem {
    pub name: String,
    pub weight_bp: u32,
}

fn default_abnormal_fraction() -> u32 {
    8000
}

/// What the tender document fixes for the evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenderTerms {
    pub category: Category,
    /// The announcement date: picks the policy table's rows.
    pub announced_on: NaiveDate,
    pub method: Method,
    /// The project is reserved for SMEs (R-POL-1): no small/micro price deduction.
    #[serde(default)]
    pub reserved_for_sme: bool,
    /// R-POL-2: the tender's stated small/micro deduction.
    #[serde(default)]
    pub sme_rate_bp: Option<u32>,
    /// R-POL-2: the tender's stated consortium/subcontract deduction.
    #[serde(default)]
    pub consortium_rate_bp: Option<u32>,
    /// Comprehensive scoring: the price weight and the other items.
    #[serde(default)]
    pub price_weight_bp: u32,
    #[serde(default)]
    pub items: Vec<ScoreItem>,
    /// R-EVAL-8's fraction of the mean of the other bids (M, default 80%).
    #[serde(default = "default_abnormal_fraction")]
    pub abnormal_low_fraction_bp: u32,
}

/// One product in an offer: who made it and whether it is a domestic product (an imported
/// product never is, R-POL-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub name: String,
    /// The product's cost in the offer, for R-POL-5's package share.
    pub cost_fen: i64,
    #[serde(default)]
    pub domestic: bool,
    /// Made by a small or micro enterprise (a prison enterprise or disability welfare unit
    /// counts, R-POL-3).
    #[serde(default)]
    pub made_by_small_micro: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bid {
    pub bidder: String,
    pub price: PriceStatement,
    pub enterprise_size: EnterpriseSize,
    #[serde(default)]
    pub special_status: Option<SpecialStatus>,
    #[serde(default)]
    pub products: Vec<Product>,
    /// The share of the contract that small/micro consortium members or subcontractors
    /// carry (R-POL-2), when the bid has such an agreement.
    #[serde(default)]
    pub consortium_small_micro_share_bp: Option<u32>,
    /// Passed the compliance review; only compliant bids set the benchmark and rank.
    #[serde(default = "yes")]
    pub compliant: bool,
    /// The committee's score per item (out of 100), by item name.
    #[serde(default)]
    pub scores: BTreeMap<String, Points>,
}

fn yes() -> bool {
    true
}
