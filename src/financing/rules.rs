//! Financing's rules (pure): the bounds of an application and of the financing account.

pub const MAX_TEXT_CHARS: usize = 500;
pub const MAX_ACCOUNT_NAME_CHARS: usize = 100;

/// An amount asked or granted: positive and within what the contract owes.
pub fn fits(amount_fen: i64, payable_fen: i64) -> bool {
    amount_fen > 0 && amount_fen <= payable_fen
}

/// A bank account number as banks print it: 8 to 32 digits, spaces allowed between.
pub fn account_no(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    (8..=32)
        .contains(&digits.len())
        .then_some(())
        .filter(|_| digits.chars().all(|c| c.is_ascii_digit()))
        .map(|_| digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_positive_and_within_the_contract() {
        assert!(fits(1, 100));
        assert!(fits(100, 100));
        assert!(!fits(101, 100));
        assert!(!fits(0, 100));
    }

    #[test]
    fn account_numbers_are_8_to_32_digits() {
        assert_eq!(
            account_no("6222 0202 0000 1234").as_deref(),
            Some("6222020200001234")
        );
        assert_eq!(account_no("1234567"), None);
        assert_eq!(account_no("12345678a"), None);
        assert_eq!(account_no(&"1".repeat(33)), None);
    }
}
