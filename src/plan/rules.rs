//! The plan stage's rules as pure functions (no database, no clock): R-PLAN-1 and R-PLAN-2.

use chrono::{Datelike, NaiveDate};

use super::types::{IntentionException, PlanError};
use crate::calendar::deadlines::DeadlineRule;
use crate::calendar::Deadlines;
/// Largest amount a budget line, plan or tender may carry: 100 billion yuan in fen, far
/// above any city's procurement and far below where sums of them could overflow.
pub const MAX_AMOUNT_FEN: i64 = 10_000_000_000_000;

/// R-PLAN-2: `amount` may be drawn from `total` when the others have drawn `drawn`.
/// Returns what is left before this draw when it does not fit.
pub fn fits(total: i64, drawn: i64, amount: i64) -> Result<(), i64> {
    let left = total - drawn;
    if amount <= left {
        Ok(())
    } else {
        Err(left.max(0))
    }
}

/// R-PLAN-2: a plan drawn against its budget line.
pub fn check_plan_amount(
    line_fen: i64,
    planned_by_others: i64,
    amount: i64,
) -> Result<(), PlanError> {
    fits(line_fen, planned_by_others, amount)
        .map_err(|left_fen| PlanError::OverBudgetLine { left_fen })
}

/// R-PLAN-2: a tender's budget drawn against its plan.
pub fn check_tender_budget(
    plan_fen: i64,
    committed_by_others: i64,
    budget: i64,
) -> Result<(), PlanError> {
    fits(plan_fen, committed_by_others, budget).map_err(|left_fen| PlanError::OverPlan { left_fen })
}

/// R-PLAN-1: the first instant a tender may be published after an intention made public at
/// `published_at`: 00:00 China time of the 30th day after the intention's day (moved to
/// the next working day if that is a rest day), by the deadline engine (docs/deadlines.md).
pub fn publishable_from(deadlines: &Deadlines, published_at: i64) -> i64 {
    deadlines.earliest(DeadlineRule::IntentionNotice, published_at)
}

/// R-PLAN-1: may a tender of a plan be published at `now`? A recorded exception lets it
/// through at once; otherwise its intention must have been public for 30 days.
pub fn check_publication(
    deadlines: &Deadlines,
    intention_published_at: Option<i64>,
    exception: Option<IntentionException>,
    now: i64,
) -> Result<(), PlanError> {
    if exception.is_some() {
        return Ok(());
    }
    let Some(at) = intention_published_at else {
        return Err(PlanError::NoIntention);
    };
    let from = publishable_from(deadlines, at);
    if now >= from {
        Ok(())
    } else {
        Err(PlanError::IntentionTooRecent {
            publishable_from: from,
        })
    }
}

/// `YYYY-MM` within a year of the plan's budget year (the year before to the year after).
pub fn parse_month(s: &str, budget_year: i32) -> Option<NaiveDate> {
    let d = NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d").ok()?;
    (budget_year - 1..=budget_year + 1)
        .contains(&d.year())
        .then_some(d)
}

/// A positive amount within [`MAX_AMOUNT_FEN`].
pub fn valid_amount(fen: i64) -> bool {
    (1..=MAX_AMOUNT_FEN).contains(&fen)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-03 10:00 China Standard Time.
    const NOV3_10H: i64 = 1_793_671_200_000;

    fn d() -> Deadlines {
        Deadlines::builtin()
    }
    const DAY: i64 = 86_400_000;
    const HOUR: i64 = 3_600_000;

    #[test]
    fn r_plan_2_a_plan_fits_to_the_last_fen_of_its_line() {
        assert_eq!(check_plan_amount(1_000, 600, 400), Ok(()));
        assert_eq!(
            check_plan_amount(1_000, 600, 401),
            Err(PlanError::OverBudgetLine { left_fen: 400 })
        );
        assert_eq!(
            check_tender_budget(500, 500, 1),
            Err(PlanError::OverPlan { left_fen: 0 })
        );
        assert_eq!(check_tender_budget(500, 0, 500), Ok(()));
    }

    #[test]
    fn r_plan_1_publishable_from_the_start_of_the_thirtieth_day() {
        // Published 2026-11-03 10:00: the tender may go out from 2026-12-03 00:00 CST.
        let from = publishable_from(&d(), NOV3_10H);
        assert_eq!(from, NOV3_10H - 10 * HOUR + 30 * DAY);
        // The day before: refused, saying when.
        assert_eq!(
            check_publication(&d(), Some(NOV3_10H), None, from - 1),
            Err(PlanError::IntentionTooRecent {
                publishable_from: from
            })
        );
        // On the day, and after.
        assert_eq!(check_publication(&d(), Some(NOV3_10H), None, from), Ok(()));
        assert_eq!(
            check_publication(&d(), Some(NOV3_10H), None, from + DAY),
            Ok(())
        );
        // Late in the evening in China is still the same day (UTC+8 near midnight).
        let late = NOV3_10H + 13 * HOUR + 59 * 60_000; // 23:59 CST
        assert_eq!(publishable_from(&d(), late), from);
    }

    #[test]
    fn r_plan_1_a_thirtieth_day_in_the_national_day_holiday_moves_to_the_next_working_day() {
        // 2026-09-01 15:00 + 30 days = 2026-10-01, in the holiday of Oct 1–7 (R-TIME-1).
        let sep1 = 1_788_246_000_000;
        let oct8 = 1_791_388_800_000; // 2026-10-08 00:00 CST, the first working day after
        assert_eq!(publishable_from(&d(), sep1), oct8);
        assert!(check_publication(&d(), Some(sep1), None, oct8 - 1).is_err());
        assert_eq!(check_publication(&d(), Some(sep1), None, oct8), Ok(()));
    }

    #[test]
    fn r_plan_1_no_intention_is_refused_unless_an_exception_is_recorded() {
        assert_eq!(
            check_publication(&d(), None, None, NOV3_10H),
            Err(PlanError::NoIntention)
        );
        assert_eq!(
            check_publication(&d(), None, Some(IntentionException::Urgent), NOV3_10H),
            Ok(())
        );
        assert_eq!(
            check_publication(
                &d(),
                Some(NOV3_10H),
                Some(IntentionException::Classified),
                NOV3_10H
            ),
            Ok(())
        );
    }

    #[test]
    fn months_and_amounts() {
        assert!(parse_month("2026-03", 2026).is_some());
        assert!(parse_month("2027-01", 2026).is_some());
        assert!(parse_month("2028-01", 2026).is_none());
        assert!(parse_month("2026-13", 2026).is_none());
        assert!(parse_month("March", 2026).is_none());
        assert!(valid_amount(1) && valid_amount(MAX_AMOUNT_FEN));
        assert!(!valid_amount(0) && !valid_amount(-5) && !valid_amount(MAX_AMOUNT_FEN + 1));
    }
}
