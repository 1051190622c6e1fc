//! R-DEP-1 and the deposit's checks, as pure functions over plain values.

use crate::money::Money;

/// IR art 33: a bid deposit is at most 2% of the budget (in basis points).
pub const MAX_SHARE_BP: i64 = 200;

/// The highest deposit a tender of `budget` may ask: 2% of it, rounded down to the fen.
pub fn ceiling(budget: Money) -> Money {
    Money((i128::from(budget.fen()) * i128::from(MAX_SHARE_BP) / 10_000) as i64)
}

/// R-DEP-1: whether `deposit` is at most 2% of `budget` (compared exactly, not rounded).
pub fn within_ceiling(deposit: Money, budget: Money) -> bool {
    i128::from(deposit.fen()) * 10_000 <= i128::from(budget.fen()) * i128::from(MAX_SHARE_BP)
}

/// A bank account number as kept: its digits only (spaces and dashes as people write
/// them are dropped), 6 to 32 of them; anything else is not an account number.
pub fn normalise_account(s: &str) -> Option<String> {
    if s.chars()
        .any(|c| !(c.is_ascii_digit() || c == ' ' || c == '-' || c == '\u{3000}'))
    {
        return None;
    }
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    (6..=32).contains(&digits.len()).then_some(digits)
}

/// Whether a deposit of `amount` covers what the tender asks.
pub fn covers(amount: Money, required: Money) -> bool {
    amount >= required
}

/// A guarantee must be valid at least until the bid deadline.
pub fn guarantee_valid(valid_until: i64, bid_deadline: i64) -> bool {
    valid_until >= bid_deadline
}

/// Whether a refund due at `due_at` (24:00 of its last day) is late: refunded at or after
/// that instant, or not refunded by `now` at or after it.
pub fn refund_overdue(due_at: i64, refunded_at: Option<i64>, now: i64) -> bool {
    refunded_at.unwrap_or(now) >= due_at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_dep_1_exactly_two_percent_is_allowed_one_fen_more_is_refused() {
        let budget = Money(12_345_600);
        assert_eq!(ceiling(budget), Money(246_912));
        assert!(within_ceiling(Money(246_912), budget));
        assert!(!within_ceiling(Money(246_913), budget));
    }

    #[test]
    fn r_dep_1_a_budget_not_divisible_by_fifty_rounds_the_ceiling_down() {
        // 2% of 101 fen is 2.02 fen: 2 fen may be asked, 3 may not.
        assert_eq!(ceiling(Money(101)), Money(2));
        assert!(within_ceiling(Money(2), Money(101)));
        assert!(!within_ceiling(Money(3), Money(101)));
    }

    #[test]
    fn r_dep_1_the_largest_budgets_do_not_overflow() {
        let budget = Money(i64::MAX);
        assert!(within_ceiling(ceiling(budget), budget));
        assert!(!within_ceiling(Money(i64::MAX), budget));
    }

    #[test]
    fn r_col_6_accounts_are_kept_as_digits_only() {
        assert_eq!(
            normalise_account("6222 0216-0200 1234 567").as_deref(),
            Some("6222021602001234567")
        );
        assert_eq!(normalise_account("6222O2160200"), None, "a letter O");
        assert_eq!(normalise_account("12345"), None, "too short");
        assert_eq!(normalise_account(&"1".repeat(33)), None, "too long");
    }

    #[test]
    fn a_deposit_covers_the_amount_asked_and_a_guarantee_the_deadline() {
        assert!(covers(Money(100), Money(100)));
        assert!(!covers(Money(99), Money(100)));
        assert!(guarantee_valid(1_000, 1_000));
        assert!(!guarantee_valid(999, 1_000));
    }

    #[test]
    fn r_dep_1_a_refund_is_late_after_its_due_instant() {
        assert!(!refund_overdue(100, Some(99), 500));
        assert!(refund_overdue(100, Some(100), 100));
        assert!(!refund_overdue(100, None, 99));
        assert!(refund_overdue(100, None, 100));
    }
}
