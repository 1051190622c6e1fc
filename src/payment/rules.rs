//! Payment's rules (pure): the bounds of a request and the R-PAY-1 term.

use crate::calendar::deadlines::Period;

pub const MAX_NOTE_CHARS: usize = 500;
pub const MAX_REFERENCE_CHARS: usize = 100;
/// Open and paid requests one contract may have (instalments, corrections).
pub const MAX_REQUESTS: i64 = 50;

/// Whether a request of `amount_fen` fits: positive, and with the other requests not
/// rejected (`committed_fen`) within what the contract owes.
pub fn fits(amount_fen: i64, committed_fen: i64, payable_fen: i64) -> bool {
    amount_fen > 0
        && committed_fen
            .checked_add(amount_fen)
            .is_some_and(|total| total <= payable_fen)
}

/// The contract's payment term from acceptance: its `payment_days` (the contract was
/// checked against R-PAY-1 when adjusted), in calendar days.
pub fn term(payment_days: i64) -> Period {
    Period::Days(payment_days.clamp(1, 366) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_stays_within_what_the_contract_owes() {
        assert!(fits(40, 60, 100));
        assert!(!fits(41, 60, 100));
        assert!(!fits(0, 0, 100));
        assert!(!fits(-5, 0, 100));
        assert!(!fits(i64::MAX, 1, i64::MAX));
    }

    #[test]
    fn the_term_is_the_contracts_days() {
        assert_eq!(term(30), Period::Days(30));
        assert_eq!(term(0), Period::Days(1));
    }
}
