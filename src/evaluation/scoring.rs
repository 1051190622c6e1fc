//! A lot's evaluation: corrected and evaluated prices for every bid, then over the
//! compliant bids the benchmark, the abnormally-low flag (R-EVAL-8), the comprehensive
//! score (R-EVAL-4) and the ranking (R-EVAL-6).

use serde::{Deserialize, Serialize};

use super::evaluated::{domestic_offer, evaluate_price, EvaluatedPrice, PolicyContext};
use super::policy::PolicyTable;
use super::price::correct_price;
use super::rounding::{
    div_half_up, fmt_hundredths_exact, fmt_points, fmt_rate, points_times_weight, price_score, BP,
};
use super::{Bid, EvalError, Method, Note, Rounding, TenderTerms};
use crate::money::Money;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemScore {
    pub name: String,
    /// Out of 100, in hundredths.
    pub score: i64,
    pub weight_bp: u32,
    /// score × weight, in hundredths.
    pub points: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreSheet {
    pub benchmark_fen: i64,
    pub benchmark_bidder: String,
    /// benchmark / evaluated × 100, in hundredths; the first item.
    pub items: Vec<ItemScore>,
    /// Σ item points, in hundredths, rounded as `rounding` says.
    pub total: i64,
    pub rounding: Rounding,
    /// `benchmark / evaluated × 100 = price score`, in no language.
    pub price_formula: String,
    /// `score × weight + … = points + … = total`, in no language, in the order of `items`.
    pub formula: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbnormallyLow {
    pub fraction_bp: u32,
    /// The mean of the other compliant bids' evaluated prices, to the fen (for reading;
    /// the comparison itself is exact).
    pub mean_of_others_fen: i64,
    pub threshold_fen: i64,
    pub note: Note,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidResult {
    pub bidder: String,
    pub compliant: bool,
    /// Why the bid cannot be evaluated although it passed the reviews: its price cannot
    /// be read (zero, negative, beyond any budget, unreadable 大写). It is that bid's
    /// defect (R-EVAL-8): the bid is invalid, the lot goes on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_reason: Option<Note>,
    pub needs_bidder_confirmation: bool,
    pub price: EvaluatedPrice,
    pub abnormally_low: Option<AbnormallyLow>,
    pub score: Option<ScoreSheet>,
    pub rank: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankEntry {
    pub rank: u32,
    pub bidder: String,
    pub total: Option<i64>,
    pub evaluated_fen: i64,
    /// Equal on every key R-EVAL-6 names: the tender document's further rule decides.
    pub unresolved_tie: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotResult {
    pub method: Method,
    pub benchmark_fen: i64,
    pub bids: Vec<BidResult>,
    pub ranking: Vec<RankEntry>,
}

/// The largest price a bid may offer: 10 billion yuan, beyond any budget of a city, and
/// far from where sums of prices could overflow.
pub const MAX_PRICE_FEN: i64 = 1_000_000_000_000;

/// The price line of a bid whose price cannot be read: the figure as offered, nothing
/// derived from it.
fn unreadable_price(bid: &Bid, reason: &Note) -> EvaluatedPrice {
    EvaluatedPrice {
        price_offered_fen: bid.price.sheet_fen,
        corrections: Vec::new(),
        deductions: Vec::new(),
        notes: vec![reason.clone()],
        evaluated_fen: 0,
        formula: "—".into(),
    }
}

/// Evaluates a lot against the built-in policy table.
pub fn evaluate_lot(terms: &TenderTerms, bids: &[Bid]) -> Result<LotResult, EvalError> {
    evaluate_lot_with(PolicyTable::builtin(), terms, bids)
}

/// A tender's terms as the publication checks them: its stated rates within the table's
/// range for its category and date (R-POL-2), weights adding up to 100% with the price
/// weight at least the minimum (R-EVAL-4).
pub fn check_terms(terms: &TenderTerms) -> Result<(), EvalError> {
    let table = PolicyTable::builtin();
    let (category, date) = (terms.category, terms.announced_on);
    if !terms.reserved_for_sme {
        let rate = terms.sme_rate_bp.ok_or(EvalError::MissingRate {
            field: "sme_rate_bp",
        })?;
        table.check_sme_rate(category, date, rate)?;
        if let Some(rate) = terms.consortium_rate_bp {
            table.check_consortium_rate(category, date, rate)?;
        }
    }
    if terms.method == Method::Comprehensive {
        check_weights(table, terms)?;
    }
    Ok(())
}

pub fn evaluate_lot_with(
    table: &PolicyTable,
    terms: &TenderTerms,
    bids: &[Bid],
) -> Result<LotResult, EvalError> {
    let (category, date) = (terms.category, terms.announced_on);
    // R-POL-2: the tender's own rates, checked against the table; never assumed.
    let sme_row = if terms.reserved_for_sme {
        None
    } else {
        let rate = terms.sme_rate_bp.ok_or(EvalError::MissingRate {
            field: "sme_rate_bp",
        })?;
        Some(table.check_sme_rate(category, date, rate)?)
    };
    if let (Some(rate), false) = (terms.consortium_rate_bp, terms.reserved_for_sme) {
        table.check_consortium_rate(category, date, rate)?;
    }
    if terms.method == Method::Comprehensive {
        check_weights(table, terms)?;
    }

    // R-EVAL-7 first: every later step works on the corrected price. A price that cannot
    // be read makes its own bid invalid, never the lot fail (R-EVAL-8).
    let invalid_price = |fen: i64| {
        Note::new("R-EVAL-8", "price_invalid")
            .arg("price", Money(fen))
            .arg("max", Money(MAX_PRICE_FEN))
    };
    let corrected: Vec<Result<_, Note>> = bids
        .iter()
        .map(|bid| match correct_price(&bid.bidder, &bid.price) {
            Ok(c) if c.price_fen > 0 && c.price_fen <= MAX_PRICE_FEN => Ok(c),
            Ok(c) => Err(invalid_price(c.price_fen)),
            Err(EvalError::UnreadableWords { words, .. }) => {
                Err(Note::new("R-EVAL-7", "words_unreadable").arg("words", words))
            }
            Err(_) => Err(invalid_price(bid.price.sheet_fen)),
        })
        .collect();
    let usable = |i: usize| bids[i].compliant && corrected[i].is_ok();

    // R-POL-5: the deduction exists only where domestic and other offers compete.
    let domestic_row = table.domestic(category, date);
    let domestic_competes = domestic_row.is_some_and(|row| {
        let kinds: Vec<bool> = (0..bids.len())
            .filter(|i| usable(*i))
            .map(|i| domestic_offer(&bids[i], row).0)
            .collect();
        kinds.contains(&true) && kinds.contains(&false)
    });
    let ctx = PolicyContext {
        terms,
        sme_row,
        domestic_row,
        domestic_competes,
    };

    let mut results = Vec::with_capacity(bids.len());
    for (i, (bid, c)) in bids.iter().zip(&corrected).enumerate() {
        let (needs, price, invalid_reason) = match c {
            Ok(c) => (
                c.needs_bidder_confirmation,
                evaluate_price(&ctx, bid, c.price_fen, c.corrections.clone())?,
                None,
            ),
            Err(reason) => (false, unreadable_price(bid, reason), Some(reason.clone())),
        };
        results.push(BidResult {
            bidder: bid.bidder.clone(),
            compliant: usable(i),
            invalid_reason,
            needs_bidder_confirmation: needs,
            price,
            abnormally_low: None,
            score: None,
            rank: None,
        });
    }

    // R-EVAL-4: the benchmark is the lowest evaluated price among compliant bids; no price
    // is dropped, highest or lowest.
    let compliant: Vec<usize> = (0..results.len())
        .filter(|i| results[*i].compliant)
        .collect();
    let &first = compliant
        .iter()
        .min_by_key(|i| results[**i].price.evaluated_fen)
        .ok_or(EvalError::NoCompliantBid)?;
    let benchmark_fen = results[first].price.evaluated_fen;
    let benchmark_bidder = results[first].bidder.clone();

    // R-EVAL-8: the offered price (not after deductions) below the fraction of the mean of
    // the other compliant bids' offered prices. Sums in i128: no price can overflow them.
    let offered: Vec<i128> = results
        .iter()
        .map(|r| r.price.price_offered_fen as i128)
        .collect();
    let sum: i128 = compliant.iter().map(|i| offered[*i]).sum();
    let others = compliant.len() as i128 - 1;
    if others > 0 {
        for &i in &compliant {
            let own = offered[i];
            let sum_others = sum - own;
            let f = terms.abnormal_low_fraction_bp;
            if own * others * (BP as i128) < (f as i128) * sum_others {
                let mean = div_half_up(sum_others, others) as i64;
                let threshold = div_half_up(sum_others * f as i128, others * BP as i128) as i64;
                results[i].abnormally_low = Some(AbnormallyLow {
                    fraction_bp: f,
                    mean_of_others_fen: mean,
                    threshold_fen: threshold,
                    note: Note::new("R-EVAL-8", "abnormally_low")
                        .arg("offered", Money(own as i64))
                        .arg("fraction", fmt_rate(f))
                        .arg("others", others)
                        .arg("mean", Money(mean))
                        .arg("threshold", Money(threshold)),
                });
            }
        }
    }

    if terms.method == Method::Comprehensive {
        for &i in &compliant {
            let sheet = score(
                terms,
                &bids[i],
                results[i].price.evaluated_fen,
                benchmark_fen,
                &benchmark_bidder,
            )?;
            results[i].score = Some(sheet);
        }
    }

    let ranking = rank(terms.method, &mut results, &compliant);
    Ok(LotResult {
        method: terms.method,
        benchmark_fen,
        bids: results,
        ranking,
    })
}

/// R-EVAL-4: weights add up to 100% and the price weight meets its category's minimum.
fn check_weights(table: &PolicyTable, terms: &TenderTerms) -> Result<(), EvalError> {
    let sum: u32 = terms.price_weight_bp + terms.items.iter().map(|i| i.weight_bp).sum::<u32>();
    if sum != BP as u32 {
        return Err(EvalError::WeightsNot100 { sum: fmt_rate(sum) });
    }
    if let Some(row) = table.price_weight(terms.category, terms.announced_on) {
        if terms.price_weight_bp < row.min_bp {
            return Err(EvalError::PriceWeightTooLow {
                weight: fmt_rate(terms.price_weight_bp),
                min: fmt_rate(row.min_bp),
                category: terms.category,
            });
        }
    }
    Ok(())
}

/// R-EVAL-4: price score = benchmark / evaluated × 100; total = Σ score × weight, rounded
/// once at the end (or at each step, when the tender says so).
fn score(
    terms: &TenderTerms,
    bid: &Bid,
    evaluated_fen: i64,
    benchmark_fen: i64,
    benchmark_bidder: &str,
) -> Result<ScoreSheet, EvalError> {
    let mut weighted: Vec<(String, i64, u32)> = vec![(
        "price".into(),
        price_score(benchmark_fen, evaluated_fen),
        terms.price_weight_bp,
    )];
    for item in &terms.items {
        let s = bid
            .scores
            .get(&item.name)
            .ok_or_else(|| EvalError::MissingScore {
                bidder: bid.bidder.clone(),
                item: item.name.clone(),
            })?
            .0;
        weighted.push((item.name.clone(), s, item.weight_bp));
    }
    let items: Vec<ItemScore> = weighted
        .iter()
        .map(|(name, score, weight_bp)| ItemScore {
            name: name.clone(),
            score: *score,
            weight_bp: *weight_bp,
            points: points_times_weight(*score, *weight_bp),
        })
        .collect();

    // The exact price score is benchmark × 10⁴ / evaluated hundredths; every other item
    // score is exact already. Over the common denominator evaluated × 10⁴ (BP) the total is
    // one fraction, rounded once.
    let den = evaluated_fen as i128 * BP as i128;
    let price_num = benchmark_fen as i128 * 10_000;
    let item_num = |k: usize| -> i128 {
        if k == 0 {
            price_num * weighted[0].2 as i128
        } else {
            evaluated_fen as i128 * weighted[k].1 as i128 * weighted[k].2 as i128
        }
    };
    let (total, price_shown, points_shown): (i64, String, Vec<String>) = match terms.rounding {
        Rounding::EachStep => (
            items.iter().map(|i| i.points).sum(),
            fmt_points(items[0].score),
            items.iter().map(|i| fmt_points(i.points)).collect(),
        ),
        Rounding::Once => {
            let num: i128 = (0..weighted.len()).map(item_num).sum();
            let total = i64::try_from(div_half_up(num, den)).map_err(|_| EvalError::Overflow)?;
            (
                total,
                fmt_hundredths_exact(price_num, evaluated_fen as i128),
                (0..weighted.len())
                    .map(|k| fmt_hundredths_exact(item_num(k), den))
                    .collect(),
            )
        }
    };
    let price_formula = format!(
        "{} / {} × 100 = {price_shown}",
        Money(benchmark_fen),
        Money(evaluated_fen),
    );
    let factors: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let score = if k == 0 {
                price_shown.clone()
            } else {
                fmt_points(i.score)
            };
            format!("{score} × {}", fmt_rate(i.weight_bp))
        })
        .collect();
    let mut formula = format!("{} = {}", factors.join(" + "), points_shown.join(" + "));
    if terms.rounding == Rounding::Once {
        let exact = fmt_hundredths_exact((0..weighted.len()).map(item_num).sum(), den);
        if exact != fmt_points(total) {
            formula.push_str(&format!(" = {exact}"));
        }
    }
    formula.push_str(&format!(" = {}", fmt_points(total)));
    Ok(ScoreSheet {
        benchmark_fen,
        benchmark_bidder: benchmark_bidder.into(),
        items,
        total,
        rounding: terms.rounding,
        price_formula,
        formula,
    })
}

/// R-EVAL-6: comprehensive — higher total, then lower evaluated price; lowest evaluated
/// price — lower evaluated price. Bids equal on every key share a rank (1, 1, 3) and are
/// marked as an unresolved tie.
fn rank(method: Method, results: &mut [BidResult], compliant: &[usize]) -> Vec<RankEntry> {
    let key = |r: &BidResult| {
        let total = r.score.as_ref().map_or(0, |s| s.total);
        match method {
            Method::Comprehensive => (-total, r.price.evaluated_fen),
            Method::LowestEvaluatedPrice => (0, r.price.evaluated_fen),
        }
    };
    let mut order: Vec<usize> = compliant.to_vec();
    order.sort_by_key(|i| key(&results[*i]));
    let mut ranking: Vec<RankEntry> = Vec::with_capacity(order.len());
    for (pos, &i) in order.iter().enumerate() {
        let k = key(&results[i]);
        let rank = match pos {
            0 => 1,
            _ if key(&results[order[pos - 1]]) == k => ranking[pos - 1].rank,
            _ => pos as u32 + 1,
        };
        let tied = order.iter().filter(|j| key(&results[**j]) == k).count() > 1;
        results[i].rank = Some(rank);
        ranking.push(RankEntry {
            rank,
            bidder: results[i].bidder.clone(),
            total: results[i].score.as_ref().map(|s| s.total),
            evaluated_fen: results[i].price.evaluated_fen,
            unresolved_tie: tied,
        });
    }
    ranking
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::{EnterpriseSize, PriceStatement};

    fn terms() -> TenderTerms {
        serde_json::from_value(serde_json::json!({
            "category": "services", "announced_on": "2026-03-01",
            "method": "lowest_evaluated_price", "sme_rate_bp": 1000
        }))
        .unwrap()
    }

    fn bid(name: &str, fen: i64, size: EnterpriseSize) -> Bid {
        Bid {
            bidder: name.into(),
            price: PriceStatement {
                sheet_fen: fen,
                sheet_words: None,
                body_total_fen: None,
                lines: vec![],
            },
            enterprise_size: size,
            special_status: None,
            products: vec![],
            consortium_small_micro_share_bp: None,
            compliant: true,
            scores: Default::default(),
        }
    }

    #[test]
    fn r_eval_8_an_unreadable_price_invalidates_its_bid_not_the_lot() {
        let mut unreadable = bid("words", 100_000, EnterpriseSize::Large);
        unreadable.price.sheet_words = Some("壹佰万元整零零".into());
        let bids = [
            bid("A", 10_000_000, EnterpriseSize::Large),
            bid("zero", 0, EnterpriseSize::Large),
            bid("negative", -5, EnterpriseSize::Large),
            bid("huge", 6_000_000_000_000_000_000, EnterpriseSize::Large),
            unreadable,
            bid("B", 10_500_000, EnterpriseSize::Large),
        ];
        let lot = evaluate_lot(&terms(), &bids).expect("the lot goes on");
        for b in &lot.bids[1..5] {
            assert!(!b.compliant, "{}", b.bidder);
            let key = &b.invalid_reason.as_ref().unwrap().key;
            let want = if b.bidder == "words" {
                "words_unreadable"
            } else {
                "price_invalid"
            };
            assert_eq!(key, want, "{b:?}");
        }
        let ranked: Vec<&str> = lot.ranking.iter().map(|r| r.bidder.as_str()).collect();
        assert_eq!(ranked, ["A", "B"]);
        assert_eq!(lot.benchmark_fen, 10_000_000);
    }

    #[test]
    fn r_eval_8_compares_offered_prices_not_prices_after_deductions() {
        // A small firm offering 99,999 against 100,000 is not abnormally low, though its
        // 10% deduction puts its evaluated price at 89,999.10.
        let bids = [
            bid("small", 9_999_900, EnterpriseSize::Small),
            bid("L1", 10_000_000, EnterpriseSize::Large),
            bid("L2", 10_000_000, EnterpriseSize::Large),
        ];
        let mut t = terms();
        t.abnormal_low_fraction_bp = 9500;
        let lot = evaluate_lot(&t, &bids).unwrap();
        assert!(lot.bids[0].price.evaluated_fen < 9_000_000);
        assert!(lot.bids.iter().all(|b| b.abnormally_low.is_none()));
    }

    #[test]
    fn r_pol_2_a_tender_without_its_rate_is_refused() {
        let mut t = terms();
        t.sme_rate_bp = None;
        let bids = [bid("A", 100, EnterpriseSize::Small)];
        assert_eq!(
            evaluate_lot(&t, &bids).unwrap_err(),
            EvalError::MissingRate {
                field: "sme_rate_bp"
            }
        );
        // A consortium bid needs the consortium rate, stated by the tender.
        let mut b = bid("B", 100, EnterpriseSize::Large);
        b.consortium_small_micro_share_bp = Some(5000);
        assert_eq!(
            evaluate_lot(&terms(), &[b]).unwrap_err(),
            EvalError::MissingRate {
                field: "consortium_rate_bp"
            }
        );
    }

    #[test]
    fn r_pol_2_reserved_project_has_no_deduction() {
        let mut t = terms();
        t.reserved_for_sme = true;
        t.sme_rate_bp = None;
        let lot = evaluate_lot(&t, &[bid("A", 10_000, EnterpriseSize::Micro)]).unwrap();
        assert_eq!(lot.bids[0].price.evaluated_fen, 10_000);
        assert!(lot.bids[0].price.deductions.is_empty());
    }

    #[test]
    fn r_eval_8_fraction_is_configurable() {
        // B at 85% of the others' mean: flagged at 90%, not at the default 80%.
        let bids = [
            bid("A", 100_000, EnterpriseSize::Large),
            bid("B", 85_000, EnterpriseSize::Large),
            bid("C", 100_000, EnterpriseSize::Large),
        ];
        let lot = evaluate_lot(&terms(), &bids).unwrap();
        assert!(lot.bids.iter().all(|b| b.abnormally_low.is_none()));
        let mut t = terms();
        t.abnormal_low_fraction_bp = 9000;
        let lot = evaluate_lot(&t, &bids).unwrap();
        let flagged: Vec<&str> = lot
            .bids
            .iter()
            .filter(|b| b.abnormally_low.is_some())
            .map(|b| b.bidder.as_str())
            .collect();
        assert_eq!(flagged, ["B"]);
        assert_eq!(
            lot.bids[1].abnormally_low.as_ref().unwrap().threshold_fen,
            90_000
        );
    }

    #[test]
    fn no_compliant_bid_is_an_error() {
        let mut b = bid("A", 100, EnterpriseSize::Large);
        b.compliant = false;
        assert_eq!(
            evaluate_lot(&terms(), &[b]).unwrap_err(),
            EvalError::NoCompliantBid
        );
    }
}
