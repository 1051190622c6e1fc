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

/// How far the contract's requests may go before it passed acceptance: its schedule's
/// advance on signing (`on_signing`) and, once a round of acceptance recorded the
/// delivery (`delivered`), its payment on delivery (`on_delivery`), as shares of the
/// original amount; after acceptance, everything it owes.
pub fn requestable_before_acceptance(
    amount_fen: i64,
    instalments: &[crate::contract::rules::Instalment],
    delivered: bool,
) -> i64 {
    let share_bp: i64 = instalments
        .iter()
        .filter(|i| i.when == "on_signing" || (delivered && i.when == "on_delivery"))
        .map(|i| i.share_bp)
        .sum::<i64>()
        .clamp(0, 10_000);
    ((amount_fen as i128) * (share_bp as i128) / 10_000) as i64
}

/// The contract's payment term from acceptance: its `payment_days` (the contract was
/// checked against R-PAY-1 when adjusted), in calendar days.
pub fn term(payment_days: i64) -> Period {
    Period::Days(payment_days.clamp(1, 366) as u32)
}

/// R-PAY-1: when a contract with an SME accepted at `accepted_at` must be paid in full
/// (24:00 China time of the last day of its payment days); `None` for another supplier.
pub fn sme_due(
    deadlines: &crate::calendar::Deadlines,
    document: &serde_json::Value,
    accepted_at: i64,
) -> Option<i64> {
    (document["sme"] == true).then(|| {
        let days = crate::contract::rules::payment_days(document);
        deadlines.due_after(term(days), accepted_at)
    })
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
    fn before_acceptance_the_advance_and_then_the_payment_on_delivery() {
        use crate::contract::rules::Instalment;
        let at = |share_bp, when: &str| Instalment {
            share_bp,
            when: when.into(),
        };
        let schedule = [
            at(3_000, "on_signing"),
            at(2_000, "on_delivery"),
            at(5_000, "on_acceptance"),
        ];
        assert_eq!(
            requestable_before_acceptance(1_000_001, &schedule, false),
            300_000
        );
        assert_eq!(
            requestable_before_acceptance(1_000_000, &schedule, true),
            500_000
        );
        assert_eq!(
            requestable_before_acceptance(1_000_000, &schedule[2..], true),
            0
        );
        assert_eq!(
            requestable_before_acceptance(i64::MAX, &schedule[..1], false),
            2_767_011_611_056_432_742
        );
    }

    #[test]
    fn the_term_is_the_contracts_days() {
        assert_eq!(term(30), Period::Days(30));
        assert_eq!(term(0), Period::Days(1));
    }
}
