//! The ratings' rules (pure): who rates whom on which criteria, and the bounds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub const MIN_SCORE: i64 = 1;
pub const MAX_SCORE: i64 = 5;
pub const MAX_COMMENT_CHARS: usize = 1_000;

/// The four parties of a contract's procurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Purchaser,
    Agency,
    Supplier,
    Expert,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Purchaser => "purchaser",
            Party::Agency => "agency",
            Party::Supplier => "supplier",
            Party::Expert => "expert",
        }
    }

    pub fn parse(s: &str) -> Option<Party> {
        [
            Party::Purchaser,
            Party::Agency,
            Party::Supplier,
            Party::Expert,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// One criterion: its key and its label in Chinese and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Criterion {
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

const fn c(key: &'static str, zh: &'static str, en: &'static str) -> Criterion {
    Criterion { key, zh, en }
}

const PROFESSIONALISM: Criterion = c("professionalism", "专业水平", "Professionalism");
const FAIRNESS: Criterion = c("fairness", "公正客观", "Fairness");
const DISCIPLINE: Criterion = c("discipline", "遵守纪律", "Discipline");
const COOPERATION: Criterion = c("cooperation", "配合程度", "Cooperation");
const COMPLIANCE: Criterion = c("compliance", "依法合规", "Compliance");

/// Who rates whom, on what (the seed's 四方信用评价: purchasers, agencies, suppliers and
/// experts rate each other after acceptance). Not verified against a national list: the
/// criteria follow the provinces' published forms and are configurable here.
pub const CRITERIA: &[(Party, Party, &[Criterion])] = &[
    (
        Party::Purchaser,
        Party::Supplier,
        &[
            c("quality", "履约质量", "Quality of performance"),
            c("timeliness", "交付及时", "Timely delivery"),
            c("service", "售后服务", "After-sales service"),
            c("integrity", "诚信守约", "Integrity"),
        ],
    ),
    (
        Party::Purchaser,
        Party::Agency,
        &[
            PROFESSIONALISM,
            c("efficiency", "工作效率", "Efficiency"),
            COMPLIANCE,
        ],
    ),
    (
        Party::Purchaser,
        Party::Expert,
        &[PROFESSIONALISM, FAIRNESS, DISCIPLINE],
    ),
    (
        Party::Agency,
        Party::Supplier,
        &[
            c("integrity", "诚信投标", "Integrity in bidding"),
            COOPERATION,
        ],
    ),
    (Party::Agency, Party::Purchaser, &[COOPERATION, COMPLIANCE]),
    (
        Party::Agency,
        Party::Expert,
        &[PROFESSIONALISM, FAIRNESS, DISCIPLINE],
    ),
    (
        Party::Supplier,
        Party::Purchaser,
        &[
            c("payment", "付款及时", "Timely payment"),
            c("acceptance", "验收公正", "Fair acceptance"),
            COOPERATION,
        ],
    ),
    (
        Party::Supplier,
        Party::Agency,
        &[
            c("service", "服务质量", "Quality of service"),
            c("transparency", "公开透明", "Transparency"),
        ],
    ),
    (
        Party::Expert,
        Party::Agency,
        &[
            c("organisation", "组织规范", "Organisation"),
            c("service", "服务保障", "Support"),
        ],
    ),
    (
        Party::Expert,
        Party::Purchaser,
        &[c(
            "conduct",
            "采购人代表行为规范",
            "Conduct of the purchaser's representative",
        )],
    ),
];

/// The criteria `rater` rates `ratee` on, if it rates it at all.
pub fn criteria(rater: Party, ratee: Party) -> Option<&'static [Criterion]> {
    CRITERIA
        .iter()
        .find(|(r, e, _)| *r == rater && *e == ratee)
        .map(|(_, _, c)| *c)
}

/// Why a rating is refused: the field and the bilingual message. Every criterion of the
/// pair scored 1–5, no other; the comment bounded (and required under 3, so that a low
/// score says why).
pub fn check(
    criteria: &[Criterion],
    scores: &BTreeMap<String, i64>,
    comment: &str,
) -> Result<(), (&'static str, &'static str)> {
    let keys_match =
        scores.len() == criteria.len() && criteria.iter().all(|c| scores.contains_key(c.key));
    if !keys_match
        || scores
            .values()
            .any(|s| !(MIN_SCORE..=MAX_SCORE).contains(s))
    {
        return Err((
            "scores",
            "每项评价指标须打 1 至 5 分 / every criterion scored 1 to 5",
        ));
    }
    let n = comment.trim().chars().count();
    if n > MAX_COMMENT_CHARS || (n == 0 && scores.values().any(|s| *s < 3)) {
        return Err((
            "comment",
            "评分低于 3 分须说明理由（1,000 字以内）/ a score under 3 needs a comment (1,000 characters)",
        ));
    }
    Ok(())
}

/// The mean of the scores in hundredths (4.25 → 425).
pub fn mean_centi(scores: &BTreeMap<String, i64>) -> i64 {
    if scores.is_empty() {
        return 0;
    }
    let n = scores.len() as i64;
    (scores.values().sum::<i64>() * 100 + n / 2) / n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn each_party_rates_the_other_three_but_never_itself() {
        let all = [
            Party::Purchaser,
            Party::Agency,
            Party::Supplier,
            Party::Expert,
        ];
        for rater in all {
            for ratee in all {
                let rates = criteria(rater, ratee).is_some();
                let expected = rater != ratee
                    && !(rater == Party::Supplier && ratee == Party::Expert)
                    && !(rater == Party::Expert && ratee == Party::Supplier);
                assert_eq!(rates, expected, "{rater:?} → {ratee:?}");
            }
        }
    }

    #[test]
    fn every_criterion_is_scored_one_to_five_and_a_low_score_says_why() {
        let crit = criteria(Party::Supplier, Party::Purchaser).unwrap();
        let ok = scores(&[("payment", 5), ("acceptance", 4), ("cooperation", 4)]);
        assert_eq!(check(crit, &ok, ""), Ok(()));
        let missing = scores(&[("payment", 5), ("acceptance", 4)]);
        assert_eq!(check(crit, &missing, "").unwrap_err().0, "scores");
        let extra = scores(&[
            ("payment", 5),
            ("acceptance", 4),
            ("cooperation", 4),
            ("x", 3),
        ]);
        assert_eq!(check(crit, &extra, "").unwrap_err().0, "scores");
        let high = scores(&[("payment", 6), ("acceptance", 4), ("cooperation", 4)]);
        assert_eq!(check(crit, &high, "").unwrap_err().0, "scores");
        let low = scores(&[("payment", 1), ("acceptance", 4), ("cooperation", 4)]);
        assert_eq!(check(crit, &low, " ").unwrap_err().0, "comment");
        assert_eq!(check(crit, &low, "验收后 75 天才付款。"), Ok(()));
        assert_eq!(mean_centi(&low), 300);
        assert_eq!(mean_centi(&scores(&[("a", 4), ("b", 5), ("c", 4)])), 433);
    }
}
