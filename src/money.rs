//! `Money`: an amount in integer fen (分). Never a float.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    pub fn fen(self) -> i64 {
        self.0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// Parses a yuan amount such as `"1234.5"` or `"1,234.56"` exactly (at most 2 decimals).
    pub fn parse_yuan(s: &str) -> Option<Money> {
        let s = s.trim().replace(',', "");
        let (neg, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest.to_string()),
            None => (false, s),
        };
        let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 2 {
            return None;
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let yuan: i64 = int.parse().ok()?;
        let fen: i64 = format!("{frac:0<2}").parse().ok()?;
        let v = yuan.checked_mul(100)?.checked_add(fen)?;
        Some(Money(if neg { -v } else { v }))
    }
}

impl std::fmt::Display for Money {
    /// `1234.50` (yuan with two decimals).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let v = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", v / 100, v % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_yuan_exactly() {
        assert_eq!(Money::parse_yuan("1234.5"), Some(Money(123450)));
        assert_eq!(Money::parse_yuan("1,000,000"), Some(Money(100_000_000)));
        assert_eq!(Money::parse_yuan("0.01"), Some(Money(1)));
        assert_eq!(Money::parse_yuan("-3"), Some(Money(-300)));
        assert_eq!(Money::parse_yuan("1.234"), None);
        assert_eq!(Money::parse_yuan("abc"), None);
        assert_eq!(Money::parse_yuan(".5"), None);
        assert_eq!(Money(123450).to_string(), "1234.50");
    }
}
