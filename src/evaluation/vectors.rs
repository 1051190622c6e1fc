//! The worked scoring examples in tests/vectors/scoring/*.json, checked against the code.
//! Each file is one case: the tender's terms, the bids, and the expected results worked
//! out by hand (its `explain` shows the arithmetic). The procurement methods' vectors
//! (tests/vectors/methods, `tender::methods`) are checked with the same [`check_lot`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::rounding::fmt_points;
use super::{evaluate_lot, Bid, LotResult, TenderTerms};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    rules: Vec<String>,
    explain: String,
    terms: TenderTerms,
    bids: Vec<Bid>,
    #[serde(default)]
    expect: Option<Expect>,
    /// The error variant's name, for cases that must be refused.
    #[serde(default)]
    expect_error: Option<String>,
}

/// What a vector expects of a lot's evaluation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expect {
    benchmark_fen: i64,
    bids: BTreeMap<String, ExpectBid>,
    /// `[bidder, rank]` in ranking order.
    ranking: Vec<(String, u32)>,
    #[serde(default)]
    unresolved_ties: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectBid {
    price_offered_fen: i64,
    evaluated_fen: i64,
    /// `[code, rate_bp, amount_fen]`
    #[serde(default)]
    deductions: Vec<(String, u32, i64)>,
    /// Correction kinds in order, as in JSON (`words_over_figures`).
    #[serde(default)]
    corrections: Vec<String>,
    #[serde(default)]
    price_score: Option<String>,
    #[serde(default)]
    total: Option<String>,
    #[serde(default)]
    abnormally_low: bool,
}

fn cases() -> Vec<(String, Case)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/scoring");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/vectors/scoring")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let case: Case =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), case)
        })
        .collect()
}

#[test]
fn r_eval_4_to_8_and_r_pol_2_3_5_6_scoring_vectors() {
    let cases = cases();
    assert!(cases.len() >= 12, "only {} vectors", cases.len());
    for (file, case) in cases {
        let ctx = format!("{file} ({})", case.name);
        assert!(!case.explain.is_empty() && !case.rules.is_empty(), "{ctx}");
        let result = evaluate_lot(&case.terms, &case.bids);
        if let Some(variant) = &case.expect_error {
            let err = result.expect_err(&ctx);
            assert!(
                format!("{err:?}").starts_with(variant.as_str()),
                "{ctx}: {err:?}"
            );
            continue;
        }
        let lot = result.unwrap_or_else(|e| panic!("{ctx}: {e}"));
        check_lot(&ctx, &lot, case.expect.as_ref().expect(&ctx));
    }
}

/// A lot's evaluation against what a vector expects: every bid's prices, deductions,
/// corrections, flags and scores, the ranking and its unresolved ties.
pub(crate) fn check_lot(ctx: &str, lot: &LotResult, expect: &Expect) {
    assert_eq!(lot.benchmark_fen, expect.benchmark_fen, "{ctx}: benchmark");
    assert_eq!(
        lot.bids.len(),
        expect.bids.len(),
        "{ctx}: every bid is expected"
    );
    for bid in &lot.bids {
        let who = format!("{ctx} bidder {}", bid.bidder);
        let e = expect
            .bids
            .get(&bid.bidder)
            .unwrap_or_else(|| panic!("{who}"));
        let p = &bid.price;
        assert_eq!(
            p.price_offered_fen, e.price_offered_fen,
            "{who}: price\n{p:#?}"
        );
        let deductions: Vec<(String, u32, i64)> = p
            .deductions
            .iter()
            .map(|d| (d.code.clone(), d.rate_bp, d.amount_fen))
            .collect();
        assert_eq!(deductions, e.deductions, "{who}: deductions\n{p:#?}");
        assert_eq!(p.evaluated_fen, e.evaluated_fen, "{who}: evaluated\n{p:#?}");
        // R-POL-6: each deduction is on the price offered.
        assert!(p
            .deductions
            .iter()
            .all(|d| d.base_fen == p.price_offered_fen));
        let kinds: Vec<String> = p
            .corrections
            .iter()
            .map(|c| {
                serde_json::to_value(c.kind)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(kinds, e.corrections, "{who}: corrections\n{p:#?}");
        assert_eq!(bid.needs_bidder_confirmation, !kinds.is_empty(), "{who}");
        assert_eq!(
            bid.abnormally_low.is_some(),
            e.abnormally_low,
            "{who}: R-EVAL-8"
        );
        let score = bid.score.as_ref();
        assert_eq!(
            score.map(|s| fmt_points(s.items[0].score)),
            e.price_score,
            "{who}: price score\n{score:#?}"
        );
        assert_eq!(
            score.map(|s| fmt_points(s.total)),
            e.total,
            "{who}: total\n{score:#?}"
        );
        assert!(p
            .formula
            .ends_with(&crate::money::Money(e.evaluated_fen).to_string()));
    }
    let ranking: Vec<(String, u32)> = lot
        .ranking
        .iter()
        .map(|r| (r.bidder.clone(), r.rank))
        .collect();
    assert_eq!(ranking, expect.ranking, "{ctx}: ranking");
    let ties: Vec<String> = lot
        .ranking
        .iter()
        .filter(|r| r.unresolved_tie)
        .map(|r| r.bidder.clone())
        .collect();
    assert_eq!(ties, expect.unresolved_ties, "{ctx}: unresolved ties");
}

/// The derivation a bidder reads: the formulas for two vectors, word for word (they are
/// also the examples in docs/evaluation-scoring.md).
#[test]
fn r_pol_6_and_r_eval_4_derivation_reads_line_by_line() {
    let cases = cases();
    let find = |prefix: &str| {
        let (_, case) = cases.iter().find(|(f, _)| f.starts_with(prefix)).unwrap();
        evaluate_lot(&case.terms, &case.bids).unwrap()
    };
    let stacked = find("06-");
    let a = &stacked.bids[0];
    assert_eq!(
        a.price.formula,
        "1000000.05 − 1000000.05 × 20% (R-POL-5) − 1000000.05 × 10% (R-POL-2) = 1000000.05 − \
         200000.01 − 100000.01 = 700000.03"
    );
    let c = &stacked.bids[2];
    assert!(
        c.price.notes.iter().any(|n| n.code == "R-POL-6"
            && n.key == "goods_not_small_made"
            && n.args["product"] == "lathe"),
        "{:#?}",
        c.price.notes
    );
    let goods = find("01-");
    let sheet = goods.bids[0].score.as_ref().unwrap();
    assert_eq!(sheet.price_formula, "945000.00 / 1000000.00 × 100 = 94.50");
    assert_eq!(sheet.benchmark_bidder, "B");
    assert_eq!(
        sheet.formula,
        "94.50 × 30% + 80.00 × 60% + 90.00 × 10% = 28.35 + 48.00 + 9.00 = 85.35"
    );
    // Rounded once: the exact intermediate values, marked where shown to 0.0001 only.
    let once = find("15-");
    let b = once.bids[1].score.as_ref().unwrap();
    assert_eq!(b.price_formula, "1000.00 / 1000.08 × 100 = ≈99.9920");
    assert_eq!(
        b.formula,
        "≈99.9920 × 30% + 80.01 × 70% = ≈29.9976 + 56.0070 = ≈86.0046 = 86.00"
    );
    let low = find("09-");
    let note = &low.bids[2].abnormally_low.as_ref().unwrap().note;
    assert_eq!(
        (note.code.as_str(), note.key.as_str()),
        ("R-EVAL-8", "abnormally_low")
    );
    assert_eq!(
        [
            &note.args["offered"],
            &note.args["fraction"],
            &note.args["others"],
            &note.args["mean"],
            &note.args["threshold"]
        ],
        ["700000.00", "80%", "3", "1100000.00", "880000.00"]
    );
}

/// Every key a derivation can carry has a text in both languages of the page catalogue.
#[test]
fn every_derivation_note_has_zh_and_en_text() {
    // Each entry there is a [zh-CN, English] pair (tests/it/i18n.rs checks the pairs).
    let catalogue = include_str!("../../web/js/i18n/evaluation.js");
    for key in super::note_keys::ALL {
        let n = catalogue.matches(&format!("'derive.{key}': [")).count();
        assert_eq!(n, 1, "derive.{key} must be in web/js/i18n/evaluation.js");
    }
    for kind in ["domestic", "small_micro", "consortium"] {
        let n = catalogue
            .matches(&format!("'derive.deduction.{kind}': ["))
            .count();
        assert_eq!(n, 1, "derive.deduction.{kind}");
    }
}
