//! Evaluation arithmetic, pure (no database): evaluated prices with policy deductions,
//! price-inconsistency corrections, comprehensive scoring, ranking and the abnormally-low
//! flag. Every result carries its derivation so a bidder can follow it line by line.
//! Rules: R-EVAL-4..8, R-POL-2, R-POL-3, R-POL-5, R-POL-6 (see docs/evaluation-scoring.md).

pub mod evaluated;
pub mod policy;
pub mod price;
pub mod pseudonyms;
pub mod rounding;
pub mod scoring;
pub mod terms;
pub mod words;

#[cfg(test)]
pub(crate) mod vectors;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::money::Money;
pub use terms::Category;

pub use evaluated::{Deduction, EvaluatedPrice};
pub use policy::PolicyTable;
pub use price::{correct_price, CorrectedPrice, Correction, CorrectionKind, PriceStatement};
pub use scoring::{
    check_terms, evaluate_lot, evaluate_lot_with, BidResult, LotResult, RankEntry, ScoreSheet,
};

/// One reason in a derivation, in no language: the rule it applies (a reference, kept as
/// a code), a key into the derivation catalogue (`derive.<key>` in
/// `web/js/i18n/evaluation.js`, in zh-CN and English) and the values it names, already
/// formatted (yuan, rates, names).
/// Pages render it in the reader's language; the signed report keeps it as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub code: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
}

impl Note {
    pub fn new(code: &str, key: &str) -> Self {
        debug_assert!(
            note_keys::ALL.contains(&key),
            "{key} is not in the catalogue"
        );
        Note {
            code: code.into(),
            key: key.into(),
            args: BTreeMap::new(),
        }
    }

    pub fn arg(mut self, name: &str, value: impl ToString) -> Self {
        self.args.insert(name.into(), value.to_string());
        self
    }
}

/// Every key a derivation note may carry; each has a zh-CN and an English text under
/// `derive.<key>` in `web/js/i18n/evaluation.js` (a test checks both).
pub mod note_keys {
    pub const ALL: &[&str] = &[
        "domestic_no_products",
        "domestic_product",
        "not_domestic_product",
        "domestic_share_counts",
        "domestic_share_short",
        "domestic_no_competition",
        "sme_reserved",
        "special_prison",
        "special_welfare",
        "special_once",
        "goods_no_products",
        "goods_not_small_made",
        "not_small_micro",
        "sme_rate",
        "consortium_rate",
        "consortium_below",
        "abnormally_low",
        "price_invalid",
        "words_unreadable",
        "sheet_over_body",
        "words_over_figures",
        "misplaced_decimal",
        "sum_over_total",
    ];
}

/// How the comprehensive score is rounded, as the tender's documents state it. By default
/// once, at the end: the price score and every weighted item stay exact and only the total
/// is rounded to 0.01 point. `each_step` rounds the price score, then each item's points,
/// then adds them (some documents say so).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    #[default]
    Once,
    EachStep,
}

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

impl EvalError {
    /// The refusal in zh-CN and English, for the people who wrote the terms or the bid.
    pub fn messages(&self) -> (String, String) {
        let cat = |c: &Category| match c {
            Category::Goods => "货物",
            Category::Services => "服务",
            Category::Works => "工程",
        };
        let field_zh = |f: &str| match f {
            "sme_rate_bp" => "小微企业价格扣除比例",
            "consortium_rate_bp" => "联合体/分包价格扣除比例",
            _ => "扣除比例",
        };
        let en = self.to_string();
        let zh = match self {
            EvalError::NoRule { category, date, .. } => {
                format!("{date} 的{}项目在政策表中没有适用规则", cat(category))
            }
            EvalError::RateOutOfRange {
                field,
                rate,
                min,
                max,
                category,
                date,
            } => format!(
                "{}{rate}超出{}项目在 {date} 适用的区间 {min}–{max}",
                field_zh(field),
                cat(category)
            ),
            EvalError::MissingRate { field } => {
                format!("招标文件须载明{}：系统从不自行假定比例", field_zh(field))
            }
            EvalError::PriceWeightTooLow {
                weight,
                min,
                category,
            } => format!(
                "价格分权重 {weight} 低于{}项目的最低要求 {min}",
                cat(category)
            ),
            EvalError::WeightsNot100 { sum } => format!("各评分项权重合计 {sum}，不是 100%"),
            EvalError::MissingScore { bidder, item } => {
                format!("投标人“{bidder}”缺少评分项“{item}”的分值")
            }
            EvalError::UnreadableWords { bidder, words } => {
                format!("投标人“{bidder}”的大写金额“{words}”无法识别")
            }
            EvalError::NoCompliantBid => "没有可评审的有效投标".into(),
            EvalError::Overflow => "金额超出范围".into(),
        };
        (zh, en)
    }
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
    /// How the comprehensive score is rounded (a stated term of the tender).
    #[serde(default)]
    pub rounding: Rounding,
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
