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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermItem {
    pub name: String,
    pub weight_bp: u32,
    /// 客观分: every expert must give the same score.
    #[serde(default)]
    pub objective: bool,
    /// 评分细则/分档: the bands an expert picks from, each with its range; a score must lie
    /// in the band picked (or, none named, in one of them). None: any score 0–100.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bands: Vec<Band>,
    /// For an objective item, what in the bid decides it (a certificate, a figure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// A band of an item's rubric (分档): its name, its range in hundredths of a point out of
/// 100 (both ends included), and what earns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub label: String,
    pub min: u32,
    pub max: u32,
    #[serde(default)]
    pub description: String,
}

/// The most bands an item has.
pub const MAX_BANDS: usize = 10;

/// A criterion of the compliance review (符合性审查表): each expert passes or fails every bid
/// on it (a failure with its reason); a bid is compliant when the panel's majority passes
/// it on every criterion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub name: String,
    /// What the bid must show (the clause of the documents, the threshold).
    #[serde(default)]
    pub description: String,
}

/// The most criteria a compliance checklist has.
pub const MAX_CRITERIA: usize = 30;

/// Whether a checklist is sound: at most [`MAX_CRITERIA`] criteria, each named (1–60
/// characters, distinct) with a description of ≤ 500.
pub fn checklist_ok(checklist: &[Criterion]) -> bool {
    let mut names = std::collections::BTreeSet::new();
    checklist.len() <= MAX_CRITERIA
        && checklist.iter().all(|c| {
            let n = c.name.trim();
            (1..=60).contains(&n.chars().count())
                && n == c.name
                && c.description.chars().count() <= 500
                && names.insert(n)
        })
}

impl TermItem {
    /// Whether the rubric is sound: at most [`MAX_BANDS`] bands, each named (≤ 20
    /// characters, distinct) with a description of ≤ 500, within 0–100, not overlapping;
    /// the evidence ≤ 500 characters.
    pub fn rubric_ok(&self) -> bool {
        let mut bands: Vec<&Band> = self.bands.iter().collect();
        bands.sort_by_key(|b| b.min);
        let named = |b: &&Band| {
            let n = b.label.trim().chars().count();
            (1..=20).contains(&n) && b.description.chars().count() <= 500
        };
        let mut labels = std::collections::BTreeSet::new();
        self.bands.len() <= MAX_BANDS
            && bands
                .iter()
                .all(|b| named(b) && b.min <= b.max && b.max <= 10_000)
            && bands.iter().all(|b| labels.insert(b.label.trim()))
            && bands.windows(2).all(|w| w[0].max < w[1].min)
            && self
                .evidence
                .as_ref()
                .is_none_or(|e| e.chars().count() <= 500)
    }

    /// Whether `score` (hundredths) may be given: within the band named `band`, or with
    /// none named within one of the bands; any score when the item has no rubric.
    pub fn allows(&self, score: i64, band: Option<&str>) -> bool {
        let within = |b: &Band| (b.min as i64..=b.max as i64).contains(&score);
        match band {
            Some(label) => self.bands.iter().any(|b| b.label == label && within(b)),
            None => self.bands.is_empty() || self.bands.iter().any(within),
        }
    }
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
    /// The compliance review's checklist (符合性审查表); none: one verdict per bid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checklist: Vec<Criterion>,
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

#[cfg(test)]
mod rubric_tests {
    use super::*;

    fn band(label: &str, min: u32, max: u32) -> Band {
        Band {
            label: label.into(),
            min,
            max,
            description: String::new(),
        }
    }

    fn item(bands: Vec<Band>) -> TermItem {
        TermItem {
            name: "技术方案".into(),
            weight_bp: 4000,
            bands,
            ..TermItem::default()
        }
    }

    #[test]
    fn a_score_lies_in_the_band_picked_or_in_one_of_them() {
        let t = item(vec![band("优", 8500, 10_000), band("良", 7000, 8499)]);
        assert!(t.rubric_ok());
        assert!(t.allows(9000, Some("优")));
        assert!(t.allows(8500, Some("优")) && t.allows(8499, Some("良")));
        assert!(!t.allows(8000, Some("优")), "below the band picked");
        assert!(!t.allows(9000, Some("差")), "no such band");
        assert!(t.allows(7500, None));
        assert!(!t.allows(6000, None), "in no band");
        // Without a rubric every score is allowed.
        assert!(item(vec![]).allows(0, None));
    }

    #[test]
    fn an_unsound_rubric_is_refused() {
        for bad in [
            vec![band("优", 8000, 10_000), band("良", 7000, 8000)],
            vec![band("优", 9000, 8000)],
            vec![band("优", 9000, 10_001)],
            vec![band(" ", 0, 10)],
            vec![band("优", 0, 10), band("优", 20, 30)],
        ] {
            assert!(!item(bad.clone()).rubric_ok(), "{bad:?}");
        }
        let eleven = (0..11)
            .map(|i| band(&format!("档{i}"), i * 100, i * 100 + 50))
            .collect();
        assert!(!item(eleven).rubric_ok());
    }

    #[test]
    fn a_checklist_names_each_criterion_once() {
        let c = |n: &str| Criterion {
            name: n.into(),
            description: String::new(),
        };
        assert!(checklist_ok(&[]));
        assert!(checklist_ok(&[c("投标有效期"), c("实质性条款")]));
        assert!(!checklist_ok(&[c("投标有效期"), c("投标有效期")]), "twice");
        assert!(!checklist_ok(&[c("")]), "unnamed");
        assert!(!checklist_ok(&[c(" 投标有效期")]), "padded");
        assert!(!checklist_ok(&[c(&"条".repeat(61))]), "too long");
        let many: Vec<Criterion> = (0..31).map(|i| c(&format!("第{i}项"))).collect();
        assert!(!checklist_ok(&many));
    }
}
