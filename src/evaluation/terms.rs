//! What a tender's documents fix for its evaluation (评标办法, `tenders.eval_terms`): the
//! method, the weights and items, the preferences' rates, the rounding. The tender states
//! them; the rules of this module check and apply them.

use serde::{Deserialize, Serialize};

use super::{Method, Rounding, ScoreItem, TenderTerms};

/// What is procured (品目): the policy table's rates depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Goods,
    Services,
    Works,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Goods => "goods",
            Category::Services => "services",
            Category::Works => "works",
        }
    }
}

/// A scored item other than price (R-EVAL-4): scored out of 100 by each expert, weighted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermItem {
    pub name: String,
    pub weight_bp: u32,
    /// 客观分: every expert must give the same score.
    #[serde(default)]
    pub objective: bool,
}

fn default_abnormal() -> u32 {
    8000
}
fn default_outlier() -> u32 {
    2000
}

/// What the tender document fixes for its evaluation (`tenders.eval_terms`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationTerms {
    pub method: Method,
    #[serde(default)]
    pub reserved_for_sme: bool,
    #[serde(default)]
    pub sme_rate_bp: Option<u32>,
    #[serde(default)]
    pub consortium_rate_bp: Option<u32>,
    #[serde(default)]
    pub price_weight_bp: u32,
    #[serde(default)]
    pub items: Vec<TermItem>,
    #[serde(default = "default_abnormal")]
    pub abnormal_low_fraction_bp: u32,
    /// A score further than this from the panel's mean (in hundredths of a point, out of
    /// 100) needs a written reason. Default 20 points.
    #[serde(default = "default_outlier")]
    pub outlier_points: u32,
    /// How the comprehensive score is rounded: once at the end unless the documents say
    /// each step.
    #[serde(default)]
    pub rounding: Rounding,
    /// The lawful case, stated in the documents, in which the procurement goes on with two
    /// suppliers instead of three (a case code of the method table: a consultation's
    /// `government_services`, 财库〔2015〕124号, …). The tender's method must list it
    /// (`tender::methods`, checked at creation and publication); the quorums then ask two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_suppliers_case: Option<String>,
}

impl EvaluationTerms {
    /// The pure evaluation's terms for a tender of `category` announced on `date`.
    pub fn to_terms(&self, category: Category, announced_on: chrono::NaiveDate) -> TenderTerms {
        TenderTerms {
            category,
            announced_on,
            method: self.method,
            reserved_for_sme: self.reserved_for_sme,
            sme_rate_bp: self.sme_rate_bp,
            consortium_rate_bp: self.consortium_rate_bp,
            price_weight_bp: self.price_weight_bp,
            items: self
                .items
                .iter()
                .map(|i| ScoreItem {
                    name: i.name.clone(),
                    weight_bp: i.weight_bp,
                })
                .collect(),
            abnormal_low_fraction_bp: self.abnormal_low_fraction_bp,
            rounding: self.rounding,
        }
    }
}
