//! The evaluated price of one bid (R-EVAL-5): the price offered less the policy deductions
//! that apply to it, each computed on the original price (R-POL-6), with the reasons for
//! every deduction applied or refused.

use serde::{Deserialize, Serialize};

use super::policy::{DomesticRow, SmeRow};
use super::price::Correction;
use super::rounding::{fen_times_rate, fmt_rate, BP};
use super::Category;
use super::{Bid, EnterpriseSize, EvalError, Note, SpecialStatus, TenderTerms};
use crate::money::Money;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deduction {
    /// The rule: "R-POL-2" (small/micro or consortium) or "R-POL-5" (domestic).
    pub code: String,
    /// `domestic`, `small_micro` or `consortium` (named by the catalogue's
    /// `derive.deduction.<kind>`).
    pub kind: String,
    pub rate_bp: u32,
    /// The base the rate applies to: always the price offered (R-POL-6).
    pub base_fen: i64,
    pub amount_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluatedPrice {
    /// The price offered after R-EVAL-7's corrections (the contract price if it wins).
    pub price_offered_fen: i64,
    pub corrections: Vec<Correction>,
    pub deductions: Vec<Deduction>,
    /// Why a deduction was applied or refused, each with its rule code.
    pub notes: Vec<Note>,
    pub evaluated_fen: i64,
    /// The arithmetic, in no language: `price − price × rate (rule) … = … = evaluated`, in
    /// yuan (a page writes "评审价 = … 元" around it).
    pub formula: String,
}

/// Whether the offer counts as domestic under R-POL-5 (before asking whether domestic and
/// other products compete in the lot), and the note explaining it.
pub(super) fn domestic_offer(bid: &Bid, row: &DomesticRow) -> (bool, Note) {
    let total: i64 = bid.products.iter().map(|p| p.cost_fen).sum();
    if bid.products.is_empty() || total <= 0 {
        return (false, Note::new("R-POL-5", "domestic_no_products"));
    }
    let domestic: i64 = bid
        .products
        .iter()
        .filter(|p| p.domestic)
        .map(|p| p.cost_fen)
        .sum();
    // Exact comparison; the share is shown to 0.01% (rounded down) only for reading.
    let qualifies = domestic as i128 * BP as i128 >= row.package_share_bp as i128 * total as i128;
    if bid.products.len() == 1 {
        let key = if qualifies {
            "domestic_product"
        } else {
            "not_domestic_product"
        };
        return (
            qualifies,
            Note::new("R-POL-5", key).arg("product", &bid.products[0].name),
        );
    }
    let share_bp = (domestic as i128 * BP as i128 / total as i128) as u32;
    let key = if qualifies {
        "domestic_share_counts"
    } else {
        "domestic_share_short"
    };
    (
        qualifies,
        Note::new("R-POL-5", key)
            .arg("domestic", Money(domestic))
            .arg("total", Money(total))
            .arg("share", fmt_rate(share_bp))
            .arg("min", fmt_rate(row.package_share_bp)),
    )
}

pub(super) struct PolicyContext<'a> {
    pub terms: &'a TenderTerms,
    pub sme_row: Option<&'a SmeRow>,
    pub domestic_row: Option<&'a DomesticRow>,
    /// Domestic and non-domestic offers compete among the compliant bids.
    pub domestic_competes: bool,
}

pub(super) fn evaluate_price(
    ctx: &PolicyContext<'_>,
    bid: &Bid,
    price_fen: i64,
    corrections: Vec<Correction>,
) -> Result<EvaluatedPrice, EvalError> {
    let mut deductions = Vec::new();
    let mut notes = Vec::new();

    // R-POL-5: domestic products, when domestic and non-domestic offers compete.
    if let Some(row) = ctx.domestic_row {
        let (qualifies, note) = domestic_offer(bid, row);
        notes.push(note);
        if qualifies && ctx.domestic_competes {
            deductions.push(Deduction {
                code: "R-POL-5".into(),
                kind: "domestic".into(),
                rate_bp: row.rate_bp,
                base_fen: price_fen,
                amount_fen: fen_times_rate(price_fen, row.rate_bp),
            });
        } else if qualifies {
            notes.push(Note::new("R-POL-5", "domestic_no_competition"));
        }
    }

    if let Some(d) = sme_deduction(ctx, bid, price_fen, &mut notes)? {
        deductions.push(d);
    }

    // R-POL-6: every deduction on the original price, all subtracted.
    let total_deducted: i64 = deductions.iter().map(|d| d.amount_fen).sum();
    let evaluated_fen = price_fen - total_deducted;
    let mut formula = Money(price_fen).to_string();
    for d in &deductions {
        formula.push_str(&format!(
            " − {} × {} ({})",
            Money(d.base_fen),
            fmt_rate(d.rate_bp),
            d.code
        ));
    }
    if !deductions.is_empty() {
        formula.push_str(&format!(" = {}", Money(price_fen)));
        for d in &deductions {
            formula.push_str(&format!(" − {}", Money(d.amount_fen)));
        }
    }
    if !deductions.is_empty() {
        formula.push_str(&format!(" = {}", Money(evaluated_fen)));
    }

    Ok(EvaluatedPrice {
        price_offered_fen: price_fen,
        corrections,
        deductions,
        notes,
        evaluated_fen,
        formula,
    })
}

/// R-POL-2 with R-POL-3 and R-POL-6's per-item test for goods. At most one small/micro
/// deduction per bid: the full rate, else the consortium rate, else none.
fn sme_deduction(
    ctx: &PolicyContext<'_>,
    bid: &Bid,
    price_fen: i64,
    notes: &mut Vec<Note>,
) -> Result<Option<Deduction>, EvalError> {
    let terms = ctx.terms;
    if terms.reserved_for_sme {
        notes.push(Note::new("R-POL-2", "sme_reserved"));
        return Ok(None);
    }
    let Some(row) = ctx.sme_row else {
        return Ok(None);
    };
    let sized = matches!(
        bid.enterprise_size,
        EnterpriseSize::Small | EnterpriseSize::Micro
    );
    // R-POL-3: a prison enterprise or welfare unit counts as small/micro — once.
    let special = match bid.special_status {
        Some(SpecialStatus::Prison) => Some("special_prison"),
        Some(SpecialStatus::DisabilityWelfare) => Some("special_welfare"),
        None => None,
    };
    if let Some(key) = special {
        notes.push(Note::new("R-POL-3", key));
        if sized {
            notes.push(Note::new("R-POL-3", "special_once"));
        }
    }
    let small_micro = sized || special.is_some();

    let mut full = small_micro;
    if small_micro && terms.category == Category::Goods {
        // R-POL-6: goods must be made by small/micro enterprises, item by item.
        if bid.products.is_empty() {
            notes.push(Note::new("R-POL-6", "goods_no_products"));
            full = false;
        } else if let Some(p) = bid.products.iter().find(|p| !p.made_by_small_micro) {
            notes.push(Note::new("R-POL-6", "goods_not_small_made").arg("product", &p.name));
            full = false;
        }
    } else if !small_micro {
        notes.push(Note::new("R-POL-2", "not_small_micro"));
    }

    if full {
        let rate = terms.sme_rate_bp.ok_or(EvalError::MissingRate {
            field: "sme_rate_bp",
        })?;
        notes.push(
            Note::new("R-POL-2", "sme_rate")
                .arg("rate", fmt_rate(rate))
                .arg("min", fmt_rate(row.min_bp))
                .arg("max", fmt_rate(row.max_bp))
                .arg("source", &row.source),
        );
        return Ok(Some(Deduction {
            code: "R-POL-2".into(),
            kind: "small_micro".into(),
            rate_bp: rate,
            base_fen: price_fen,
            amount_fen: fen_times_rate(price_fen, rate),
        }));
    }

    if let Some(share) = bid.consortium_small_micro_share_bp {
        if share >= row.consortium_share_min_bp {
            let rate = terms.consortium_rate_bp.ok_or(EvalError::MissingRate {
                field: "consortium_rate_bp",
            })?;
            notes.push(
                Note::new("R-POL-2", "consortium_rate")
                    .arg("share", fmt_rate(share))
                    .arg("min", fmt_rate(row.consortium_share_min_bp))
                    .arg("rate", fmt_rate(rate)),
            );
            return Ok(Some(Deduction {
                code: "R-POL-2".into(),
                kind: "consortium".into(),
                rate_bp: rate,
                base_fen: price_fen,
                amount_fen: fen_times_rate(price_fen, rate),
            }));
        }
        notes.push(
            Note::new("R-POL-2", "consortium_below")
                .arg("share", fmt_rate(share))
                .arg("min", fmt_rate(row.consortium_share_min_bp)),
        );
    }
    Ok(None)
}
