//! The evaluation's rules as pure functions: score parsing, the panel's flags (objective
//! disagreement, outliers), what keeps scoring open, R-EVAL-3's lot check, the pure
//! evaluation's bid for a read-out bid, the signing payload and working days.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::access::Seat;
use super::repo::ScoreRow;
use super::types::{Check, EvalRoomError, EvaluationTerms};
use crate::error::{AppError, AppResult};
use crate::evaluation::terms::Criterion;
use crate::evaluation::{self as eval, Points};
use crate::ledger::canonical_json;
use crate::opening::types::ReadOutBid;

/// An expert's scores of one bid and the reasons given for outliers, by item.
pub(crate) type Sheet = (BTreeMap<String, String>, BTreeMap<String, String>);

pub(crate) fn seated(panel: &[Seat]) -> Vec<&Seat> {
    panel.iter().filter(|s| s.status == "accepted").collect()
}

/// The bids under scoring: compliant bids of lots still standing (from `prices`).
pub(crate) fn compliant_ids(prices: Option<&Value>) -> BTreeSet<String> {
    prices
        .and_then(|p| p.get("compliant"))
        .and_then(|c| c.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// An expert's compliance review held to the tender's checklist: verdicts on every
/// criterion (or none, for a pass on all of them), a reason for each failure, and `pass`
/// exactly when every criterion passes. Returns the verdicts kept (a pass on each filled
/// in for an all-pass) and the reason (the failures' own when none was written). Without a
/// checklist no verdicts may be given.
pub(crate) fn checked_review(
    checklist: &[Criterion],
    pass: bool,
    reason: &str,
    checks: &BTreeMap<String, Check>,
) -> AppResult<(BTreeMap<String, Check>, String)> {
    if let Some(name) = checks
        .keys()
        .find(|n| !checklist.iter().any(|c| &c.name == *n))
    {
        return Err(EvalRoomError::UnknownCriterion { name: name.clone() }.into());
    }
    if checklist.is_empty() {
        return Ok((BTreeMap::new(), reason.to_string()));
    }
    if checks.is_empty() && pass {
        let all = checklist
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    Check {
                        pass: true,
                        reason: String::new(),
                    },
                )
            })
            .collect();
        return Ok((all, reason.to_string()));
    }
    let missing: Vec<&str> = checklist
        .iter()
        .filter(|c| !checks.contains_key(&c.name))
        .map(|c| c.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(EvalRoomError::ChecklistIncomplete {
            missing: missing.join("、"),
        }
        .into());
    }
    let mut kept = BTreeMap::new();
    for (name, c) in checks {
        let why = c.reason.trim();
        if !c.pass && why.is_empty() {
            return Err(AppError::field(
                format!("checks.{name}.reason"),
                "不符合须说明理由 / a failure needs its reason",
            ));
        }
        if why.chars().count() > MAX_CHECK_REASON {
            return Err(AppError::field(
                format!("checks.{name}.reason"),
                format!("最多 {MAX_CHECK_REASON} 字 / at most {MAX_CHECK_REASON} characters"),
            ));
        }
        kept.insert(
            name.clone(),
            Check {
                pass: c.pass,
                reason: why.to_string(),
            },
        );
    }
    if pass != kept.values().all(|c| c.pass) {
        return Err(EvalRoomError::ChecklistMismatch.into());
    }
    let reason = if reason.trim().is_empty() {
        checklist
            .iter()
            .filter_map(|c| kept.get(&c.name).filter(|k| !k.pass).map(|k| (c, k)))
            .map(|(c, k)| format!("{}：{}", c.name, k.reason))
            .collect::<Vec<_>>()
            .join("；")
    } else {
        reason.to_string()
    };
    Ok((kept, reason))
}

/// The longest reason for failing one criterion.
const MAX_CHECK_REASON: usize = 500;

/// One expert's review of a bid: the verdict, and the checklist's verdicts if any.
pub(crate) type ReviewOf<'a> = (bool, Option<&'a BTreeMap<String, Check>>);

/// How many of the panel passed and failed the bid on each criterion, in the checklist's
/// order (a review without verdicts counts by its own).
pub(crate) fn criterion_tally(
    checklist: &[Criterion],
    reviews: &[ReviewOf<'_>],
) -> Vec<(String, usize, usize)> {
    checklist
        .iter()
        .map(|c| {
            let yes = reviews
                .iter()
                .filter(|(pass, checks)| {
                    checks
                        .and_then(|k| k.get(&c.name))
                        .map_or(*pass, |k| k.pass)
                })
                .count();
            (c.name.clone(), yes, reviews.len() - yes)
        })
        .collect()
}

/// Whether the panel of `panel` experts finds the bid compliant: a majority passes it on
/// every criterion of the checklist, or, without one, a majority passes it.
pub(crate) fn compliant_by_majority(
    checklist: &[Criterion],
    reviews: &[ReviewOf<'_>],
    panel: usize,
) -> bool {
    if checklist.is_empty() {
        return reviews.iter().filter(|(p, _)| *p).count() * 2 > panel;
    }
    criterion_tally(checklist, reviews)
        .iter()
        .all(|(_, yes, _)| yes * 2 > panel)
}

/// A score the panel must look at again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Flag {
    /// objective_mismatch | outlier
    pub kind: &'static str,
    pub bid_id: String,
    pub item: String,
    pub expert_id: String,
    pub explained: bool,
}

/// Objective items that differ between experts, and scores further than `outlier_points`
/// from the panel's mean once every seated expert has scored the bid.
pub(crate) fn flags(terms: &EvaluationTerms, experts: &[&Seat], scores: &[ScoreRow]) -> Vec<Flag> {
    let mut by: BTreeMap<(&str, &str), Vec<&ScoreRow>> = BTreeMap::new();
    for s in scores {
        by.entry((s.bid_id.as_str(), s.item.as_str()))
            .or_default()
            .push(s);
    }
    let mut out = Vec::new();
    for ((bid, item), rows) in by {
        let Some(def) = terms.items.iter().find(|i| i.name == item) else {
            continue;
        };
        if def.objective {
            let first = rows[0].score;
            if rows.iter().any(|r| r.score != first) {
                for r in &rows {
                    out.push(Flag {
                        kind: "objective_mismatch",
                        bid_id: bid.into(),
                        item: item.into(),
                        expert_id: r.expert_id.clone(),
                        explained: false,
                    });
                }
            }
            continue;
        }
        if rows.len() < experts.len() || rows.len() < 2 {
            continue;
        }
        let n = rows.len() as i64;
        let sum: i64 = rows.iter().map(|r| r.score).sum();
        let limit = i64::from(terms.outlier_points) * n;
        for r in &rows {
            if (r.score * n - sum).abs() > limit {
                out.push(Flag {
                    kind: "outlier",
                    bid_id: bid.into(),
                    item: item.into(),
                    expert_id: r.expert_id.clone(),
                    explained: r.outlier_reason.is_some(),
                });
            }
        }
    }
    out
}

/// "85.5" / "85.50" → 8550, within 0–100 with at most two decimals.
pub(crate) fn parse_score(item: &str, s: &str) -> Result<i64, EvalRoomError> {
    let bad = || EvalRoomError::ScoreOutOfRange { item: item.into() };
    let t = s.trim();
    if t.is_empty() || t.starts_with('-') || t.starts_with('+') {
        return Err(bad());
    }
    let p: Points = serde_json::from_value(Value::String(t.to_string())).map_err(|_| bad())?;
    if !(0..=10_000).contains(&p.0) {
        return Err(bad());
    }
    Ok(p.0)
}

/// A score of `item` checked against its rubric: within the band picked, or one of its
/// bands when none is named (SCORE_OUT_OF_BAND, naming the bands).
pub(crate) fn check_band(
    item: &crate::evaluation::terms::TermItem,
    score: i64,
    band: Option<&str>,
) -> Result<(), EvalRoomError> {
    if item.allows(score, band) {
        return Ok(());
    }
    let bands = item
        .bands
        .iter()
        .map(|b| {
            format!(
                "{} {}–{}",
                b.label,
                fmt_score(b.min as i64),
                fmt_score(b.max as i64)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    Err(EvalRoomError::ScoreOutOfBand {
        item: item.name.clone(),
        bands,
    })
}

pub(crate) fn fmt_score(h: i64) -> String {
    crate::evaluation::rounding::fmt_points(h)
}

/// Lots with fewer than the minimum of bids in `standing` (R-EVAL-3), with the reason.
pub(crate) fn failed_lots(
    bids: &[ReadOutBid],
    standing: &BTreeSet<String>,
    min: i64,
    stage: &str,
) -> Vec<(i64, String)> {
    let lots: BTreeSet<i64> = bids.iter().map(|b| b.lot_no).collect();
    lots.into_iter()
        .filter_map(|lot| {
            let n = bids
                .iter()
                .filter(|b| b.lot_no == lot && standing.contains(&b.bid_id))
                .count() as i64;
            (n < min).then(|| {
                (
                    lot,
                    format!("R-EVAL-3: {n} bid(s) pass the {stage} review, fewer than {min}"),
                )
            })
        })
        .collect()
}

/// The pure evaluation's bid for a read-out bid: the opening sheet's price and products,
/// the organisation's registered size and status.
pub(crate) fn eval_bid(
    b: &ReadOutBid,
    compliant: bool,
    scores: BTreeMap<String, Points>,
) -> AppResult<eval::Bid> {
    let size = b
        .enterprise_size
        .clone()
        .unwrap_or_else(|| b.sheet.enterprise_size.clone());
    Ok(eval::Bid {
        bidder: b.bid_id.clone(),
        price: eval::PriceStatement {
            sheet_fen: b.sheet.total_price_fen,
            sheet_words: Some(b.sheet.total_price_words.clone()),
            body_total_fen: None,
            lines: Vec::new(),
        },
        enterprise_size: serde_json::from_value(Value::String(size))
            .map_err(anyhow::Error::from)?,
        special_status: b
            .special_status
            .clone()
            .map(|s| serde_json::from_value(Value::String(s)))
            .transpose()
            .map_err(anyhow::Error::from)?,
        products: b.sheet.products.clone(),
        consortium_small_micro_share_bp: b.sheet.consortium_small_micro_share_bp,
        compliant,
        scores,
    })
}

/// What is still missing before scoring can close; empty when complete.
pub(crate) fn incomplete(
    terms: &EvaluationTerms,
    experts: &[&Seat],
    compliant: &BTreeSet<String>,
    rows: &[ScoreRow],
) -> Vec<Missing> {
    let mut out = Vec::new();
    if !terms.items.is_empty() {
        for s in experts {
            let n = compliant
                .iter()
                .filter(|b| {
                    !rows
                        .iter()
                        .any(|r| &r.bid_id == *b && r.expert_id == s.expert_id)
                })
                .count();
            if n > 0 {
                out.push(Missing::Scores {
                    seat: s.seat,
                    bids: n,
                });
            }
        }
    }
    let seat_of = |expert: &str| {
        experts
            .iter()
            .find(|s| s.expert_id == expert)
            .map_or(0, |s| s.seat)
    };
    for f in flags(terms, experts, rows) {
        if f.kind == "objective_mismatch" {
            out.push(Missing::ObjectiveDiffers {
                item: f.item,
                bid_id: f.bid_id,
            });
        } else if !f.explained {
            out.push(Missing::OutlierReason {
                item: f.item,
                bid_id: f.bid_id,
                seat: seat_of(&f.expert_id),
            });
        }
    }
    out.dedup();
    out
}

/// One thing that keeps scoring from closing, said to the host by seat and bidder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Missing {
    Scores {
        seat: i64,
        bids: usize,
    },
    ObjectiveDiffers {
        item: String,
        bid_id: String,
    },
    OutlierReason {
        item: String,
        bid_id: String,
        seat: i64,
    },
}

impl Missing {
    /// (zh-CN, English), naming a bid by its bidder (`bidder` maps bid id to name).
    pub(crate) fn text(&self, bidder: &dyn Fn(&str) -> String) -> (String, String) {
        match self {
            Missing::Scores { seat, bids } => (
                format!("第 {seat} 席还有 {bids} 个投标未评分"),
                format!("seat {seat} has {bids} bid(s) to score"),
            ),
            Missing::ObjectiveDiffers { item, bid_id } => {
                let b = bidder(bid_id);
                (
                    format!("客观评分项“{item}”对“{b}”的评分不一致"),
                    format!("objective item \"{item}\" differs for {b}"),
                )
            }
            Missing::OutlierReason { item, bid_id, seat } => {
                let b = bidder(bid_id);
                (
                    format!("第 {seat} 席对“{b}”的“{item}”评分偏离较大，尚未说明理由"),
                    format!("seat {seat}: the score of \"{item}\" for {b} is far from the mean and needs a reason"),
                )
            }
        }
    }
}

/// The declaration of no conflict (回避承诺) an expert signs before taking a seat.
pub const DECLARATION: &str = "本人承诺：与本项目的采购人、采购代理机构及全体投标人不存在利害关系，\
不存在《政府采购评审专家管理办法》规定的应当回避的情形；评审中发现应当回避的情形，立即报告并申请回避；\
独立、客观、公正地评审，对评审情况保密。";

/// An English rendering of [`DECLARATION`] for the English screen. Only the Chinese text is
/// signed (its SHA-256 is in the payload); this one is for reference.
pub const DECLARATION_EN: &str = "I undertake that I have no interest in the purchaser, the \
procurement agency or any bidder of this project, and that none of the grounds for recusal \
in the Measures for the Administration of Government Procurement Evaluation Experts applies \
to me; that if such a ground appears during the evaluation I will report it at once and ask \
to step aside; and that I will evaluate independently, objectively and fairly and keep the \
evaluation confidential.";

/// The exact bytes an expert signs to take a seat: the canonical JSON of the declaration's
/// digest, the tender and the expert as the evaluation names them (docs/evaluation.md).
pub fn declaration_payload(tender_id: &str, expert: &str) -> String {
    canonical_json(&json!({
        "expert_id": expert,
        "statement_sha256": crate::crypto::sha256_hex(DECLARATION.as_bytes()),
        "tender_id": tender_id,
        "type": "conflict_declaration",
    }))
}

/// The exact bytes an expert signs (docs/evaluation.md).
pub fn signing_payload(
    tender_id: &str,
    report_sha256: &str,
    expert_id: &str,
    dissent: &str,
) -> String {
    canonical_json(&json!({
        "dissent": dissent,
        "expert_id": expert_id,
        "report_sha256": report_sha256,
        "tender_id": tender_id,
        "type": "evaluation_report_signature",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::committee::types::TermItem;

    fn terms() -> EvaluationTerms {
        EvaluationTerms {
            method: eval::Method::Comprehensive,
            reserved_for_sme: false,
            sme_rate_bp: Some(1000),
            consortium_rate_bp: None,
            price_weight_bp: 3000,
            items: vec![
                TermItem {
                    name: "tech".into(),
                    weight_bp: 6000,
                    objective: false,
                    ..TermItem::default()
                },
                TermItem {
                    name: "record".into(),
                    weight_bp: 1000,
                    objective: true,
                    ..TermItem::default()
                },
            ],
            abnormal_low_fraction_bp: 8000,
            outlier_points: 2000,
            rounding: eval::Rounding::Once,
            two_suppliers_case: None,
            checklist: Vec::new(),
        }
    }

    fn seat(n: i64) -> Seat {
        Seat {
            expert_id: format!("e{n}"),
            seat: n,
            status: "accepted".into(),
        }
    }

    fn row(expert: i64, item: &str, score: i64) -> ScoreRow {
        ScoreRow {
            bid_id: "b".into(),
            expert_id: format!("e{expert}"),
            item: item.into(),
            score,
            outlier_reason: None,
        }
    }

    #[test]
    fn scores_are_0_to_100_with_two_decimals() {
        assert_eq!(parse_score("x", "85.5"), Ok(8550));
        assert_eq!(parse_score("x", "100"), Ok(10_000));
        assert_eq!(parse_score("x", "0.00"), Ok(0));
        for bad in ["100.01", "-1", "+5", "", "85.555", "abc", "1e2"] {
            assert!(parse_score("x", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_outlier_is_flagged_once_the_panel_has_scored_and_objective_items_must_agree() {
        let seats: Vec<Seat> = (1..=5).map(seat).collect();
        let experts: Vec<&Seat> = seats.iter().collect();
        // Four of five have scored: no outlier judged yet.
        let mut rows: Vec<ScoreRow> = (1..=4).map(|e| row(e, "tech", 8000)).collect();
        assert!(flags(&terms(), &experts, &rows).is_empty());
        // 80, 80, 80, 80, 55: mean 75, 55 is 20 away (not more): no flag.
        rows.push(row(5, "tech", 5500));
        assert!(flags(&terms(), &experts, &rows).is_empty());
        // 54.99 is more than 20 away from the mean 74.998: flagged, and only that score.
        rows[4].score = 5499;
        let f = flags(&terms(), &experts, &rows);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].kind, f[0].expert_id.as_str()), ("outlier", "e5"));
        // Objective items: any difference flags every score of the item.
        rows.push(row(1, "record", 10_000));
        rows.push(row(2, "record", 9_000));
        let f = flags(&terms(), &experts, &rows);
        assert_eq!(
            f.iter().filter(|f| f.kind == "objective_mismatch").count(),
            2
        );
    }

    fn crit(names: &[&str]) -> Vec<Criterion> {
        names
            .iter()
            .map(|n| Criterion {
                name: n.to_string(),
                description: String::new(),
            })
            .collect()
    }

    fn check(pass: bool, reason: &str) -> Check {
        Check {
            pass,
            reason: reason.into(),
        }
    }

    #[test]
    fn a_review_under_a_checklist_gives_a_verdict_on_every_criterion() {
        let list = crit(&["有效期", "实质性条款"]);
        let code = |r: AppResult<_>| r.err().map(|e: AppError| e.code().to_string());
        // An all-pass may name none; it is kept as a pass on each.
        let (kept, _) = checked_review(&list, true, "", &BTreeMap::new()).unwrap();
        assert_eq!(kept.len(), 2);
        assert!(kept.values().all(|c| c.pass));
        // A failure must name the criteria.
        assert_eq!(
            code(checked_review(&list, false, "不符合", &BTreeMap::new())).as_deref(),
            Some("CHECKLIST_INCOMPLETE")
        );
        let one = BTreeMap::from([("有效期".to_string(), check(false, "只有 30 天"))]);
        assert_eq!(
            code(checked_review(&list, false, "", &one)).as_deref(),
            Some("CHECKLIST_INCOMPLETE")
        );
        let mut both = one.clone();
        both.insert("实质性条款".into(), check(true, ""));
        let (kept, reason) = checked_review(&list, false, "", &both).unwrap();
        assert_eq!(reason, "有效期：只有 30 天");
        assert!(!kept["有效期"].pass && kept["实质性条款"].pass);
        // The verdict follows the checklist.
        assert_eq!(
            code(checked_review(&list, true, "", &both)).as_deref(),
            Some("CHECKLIST_MISMATCH")
        );
        // A failure without its reason; a criterion the tender does not have.
        let mut silent = both.clone();
        silent.insert("有效期".into(), check(false, "  "));
        assert_eq!(
            code(checked_review(&list, false, "", &silent)).as_deref(),
            Some("VALIDATION")
        );
        let mut stray = both.clone();
        stray.insert("报价".into(), check(true, ""));
        assert_eq!(
            code(checked_review(&list, false, "", &stray)).as_deref(),
            Some("UNKNOWN_CRITERION")
        );
        // Without a checklist, verdicts are refused and the review is as before.
        assert_eq!(
            code(checked_review(&[], true, "", &both)).as_deref(),
            Some("UNKNOWN_CRITERION")
        );
        assert!(checked_review(&[], false, "理由", &BTreeMap::new()).is_ok());
    }

    #[test]
    fn the_majority_decides_each_criterion() {
        let list = crit(&["a", "b"]);
        let fail_a = BTreeMap::from([
            ("a".to_string(), check(false, "x")),
            ("b".to_string(), check(true, "")),
        ]);
        let fail_b = BTreeMap::from([
            ("a".to_string(), check(true, "")),
            ("b".to_string(), check(false, "y")),
        ]);
        let all = BTreeMap::from([
            ("a".to_string(), check(true, "")),
            ("b".to_string(), check(true, "")),
        ]);
        // Two of three experts fail the bid, but on different criteria: each criterion
        // passes by two to one, so the bid is compliant.
        let split = [
            (false, Some(&fail_a)),
            (false, Some(&fail_b)),
            (true, Some(&all)),
        ];
        assert!(compliant_by_majority(&list, &split, 3));
        assert!(
            !compliant_by_majority(&[], &split, 3),
            "by verdicts: 1 of 3"
        );
        assert_eq!(
            criterion_tally(&list, &split),
            vec![("a".to_string(), 2, 1), ("b".to_string(), 2, 1)]
        );
        // Two fail the same criterion: not compliant.
        let same = [
            (false, Some(&fail_a)),
            (false, Some(&fail_a)),
            (true, Some(&all)),
        ];
        assert!(!compliant_by_majority(&list, &same, 3));
    }
}
