//! R-EVAL-7: a bid's price inconsistencies resolved in O87 art 59's order, each
//! correction recorded. The corrected price binds only once the bidder confirms it (O87
//! art 59: a bidder who does not confirm has an invalid bid), so the result says so.

use serde::{Deserialize, Serialize};

use super::words::parse_amount_words;
use super::{EvalError, Note};
use crate::money::Money;

/// What a bid says about its price: the opening sheet (开标一览表) figure and words, the
/// total in the body of the bid, and the itemised price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceStatement {
    pub sheet_fen: i64,
    /// The 大写 amount on the opening sheet, when given.
    #[serde(default)]
    pub sheet_words: Option<String>,
    /// The total stated in the body of the bid, when it is given separately.
    #[serde(default)]
    pub body_total_fen: Option<i64>,
    /// The itemised price list (分项报价表), when given.
    #[serde(default)]
    pub lines: Vec<PriceLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceLine {
    pub name: String,
    pub unit_price_fen: i64,
    /// Whole units; fractional quantities are not handled here.
    pub quantity: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionKind {
    /// Step 1: the opening sheet wins over the body.
    SheetOverBody,
    /// Step 2: the amount in words wins over the figures.
    WordsOverFigures,
    /// Step 3: a misplaced decimal point in a unit price is corrected to match the total.
    MisplacedDecimal,
    /// Step 4: the sum of unit prices × quantities wins over the total.
    SumOverTotal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// Always "R-EVAL-7".
    pub code: String,
    pub kind: CorrectionKind,
    /// What was corrected: "total" or the price line's name.
    pub subject: String,
    pub from_fen: i64,
    pub to_fen: i64,
    pub note: Note,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectedPrice {
    pub price_fen: i64,
    pub corrections: Vec<Correction>,
    /// The corrected lines (unit prices after step 3).
    pub lines: Vec<PriceLine>,
    /// True when any correction was made: the bidder must confirm it in writing.
    pub needs_bidder_confirmation: bool,
}

fn yuan(fen: i64) -> String {
    Money(fen).to_string()
}

fn correction(kind: CorrectionKind, subject: &str, from: i64, to: i64, note: Note) -> Correction {
    Correction {
        code: "R-EVAL-7".into(),
        kind,
        subject: subject.into(),
        from_fen: from,
        to_fen: to,
        note,
    }
}

fn lines_sum(lines: &[PriceLine]) -> Option<i64> {
    lines.iter().try_fold(0i64, |acc, l| {
        acc.checked_add(l.unit_price_fen.checked_mul(l.quantity)?)
    })
}

/// Resolves the statement in R-EVAL-7's order: (1) sheet over body, (2) words over
/// figures, (3) a unit price off by a power of ten corrected to the total, (4) the sum of
/// the lines over the total.
pub fn correct_price(bidder: &str, st: &PriceStatement) -> Result<CorrectedPrice, EvalError> {
    let mut corrections = Vec::new();
    let mut total = st.sheet_fen;

    // R-EVAL-7 step 1: the opening sheet wins over the body.
    if let Some(body) = st.body_total_fen {
        if body != st.sheet_fen {
            corrections.push(correction(
                CorrectionKind::SheetOverBody,
                "total",
                body,
                st.sheet_fen,
                Note::new("R-EVAL-7", "sheet_over_body")
                    .arg("body", yuan(body))
                    .arg("sheet", yuan(st.sheet_fen)),
            ));
        }
    }

    // R-EVAL-7 step 2: the amount in words wins over the figures.
    if let Some(words) = &st.sheet_words {
        let in_words = parse_amount_words(words).ok_or_else(|| EvalError::UnreadableWords {
            bidder: bidder.into(),
            words: words.clone(),
        })?;
        if in_words != total {
            corrections.push(correction(
                CorrectionKind::WordsOverFigures,
                "total",
                total,
                in_words,
                Note::new("R-EVAL-7", "words_over_figures")
                    .arg("figures", yuan(total))
                    .arg("words", words)
                    .arg("in_words", yuan(in_words)),
            ));
            total = in_words;
        }
    }

    let mut lines = st.lines.clone();
    if !lines.is_empty() {
        let sum = lines_sum(&lines).ok_or(EvalError::Overflow)?;
        // R-EVAL-7 step 3: one unit price off by a power of ten, the total standing.
        if sum != total {
            if let Some((i, fixed)) = misplaced_decimal(&lines, total) {
                let line = &mut lines[i];
                corrections.push(correction(
                    CorrectionKind::MisplacedDecimal,
                    &line.name,
                    line.unit_price_fen,
                    fixed,
                    Note::new("R-EVAL-7", "misplaced_decimal")
                        .arg("line", &line.name)
                        .arg("unit", yuan(line.unit_price_fen))
                        .arg("quantity", line.quantity)
                        .arg("total", yuan(total))
                        .arg("fixed", yuan(fixed)),
                ));
                line.unit_price_fen = fixed;
            }
        }
        // R-EVAL-7 step 4: the sum of unit prices × quantities wins over the total.
        let sum = lines_sum(&lines).ok_or(EvalError::Overflow)?;
        if sum != total {
            let terms: Vec<String> = lines
                .iter()
                .map(|l| format!("{} × {}", yuan(l.unit_price_fen), l.quantity))
                .collect();
            corrections.push(correction(
                CorrectionKind::SumOverTotal,
                "total",
                total,
                sum,
                Note::new("R-EVAL-7", "sum_over_total")
                    .arg("lines", terms.join(" + "))
                    .arg("sum", yuan(sum))
                    .arg("total", yuan(total)),
            ));
            total = sum;
        }
    }

    Ok(CorrectedPrice {
        price_fen: total,
        needs_bidder_confirmation: !corrections.is_empty(),
        corrections,
        lines,
    })
}

/// The one line whose unit price, scaled by 10^k (k = ±1..±4), makes the lines add up to
/// `total` exactly. Two candidates, or none: no correction (step 4 then decides).
fn misplaced_decimal(lines: &[PriceLine], total: i64) -> Option<(usize, i64)> {
    let sum = lines_sum(lines)?;
    let mut found = None;
    for (i, line) in lines.iter().enumerate() {
        let others = sum - line.unit_price_fen * line.quantity;
        for k in 1..=4u32 {
            let p = 10i64.pow(k);
            let candidates = [
                line.unit_price_fen.checked_mul(p),
                (line.unit_price_fen % p == 0).then(|| line.unit_price_fen / p),
            ];
            for fixed in candidates.into_iter().flatten() {
                let fits = fixed
                    .checked_mul(line.quantity)
                    .and_then(|v| v.checked_add(others))
                    == Some(total);
                if fits {
                    if found.is_some() {
                        return None;
                    }
                    found = Some((i, fixed));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(name: &str, unit: i64, qty: i64) -> PriceLine {
        PriceLine {
            name: name.into(),
            unit_price_fen: unit,
            quantity: qty,
        }
    }

    #[test]
    fn r_eval_7_consistent_price_has_no_correction() {
        let st = PriceStatement {
            sheet_fen: 30_000,
            sheet_words: Some("叁佰元整".into()),
            body_total_fen: Some(30_000),
            lines: vec![line("a", 10_000, 3)],
        };
        let c = correct_price("x", &st).unwrap();
        assert_eq!(c.price_fen, 30_000);
        assert!(c.corrections.is_empty() && !c.needs_bidder_confirmation);
    }

    #[test]
    fn r_eval_7_ambiguous_decimal_is_left_to_step_4() {
        // Both lines ×10 would fit: no guess, the sum prevails.
        let st = PriceStatement {
            sheet_fen: 11_000,
            sheet_words: None,
            body_total_fen: None,
            lines: vec![line("a", 100, 10), line("b", 1000, 1)],
        };
        let c = correct_price("x", &st).unwrap();
        assert_eq!(c.price_fen, 2000);
        assert_eq!(c.corrections[0].kind, CorrectionKind::SumOverTotal);
    }

    #[test]
    fn r_eval_7_unreadable_words_are_an_error() {
        let st = PriceStatement {
            sheet_fen: 100,
            sheet_words: Some("one yuan".into()),
            body_total_fen: None,
            lines: vec![],
        };
        assert!(matches!(
            correct_price("x", &st),
            Err(EvalError::UnreadableWords { .. })
        ));
    }
}
