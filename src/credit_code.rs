//! 统一社会信用代码 (unified social credit code), GB 32100-2015: 18 characters from a
//! 31-character alphabet (digits and upper-case letters without I, O, Z, S, V); the last is
//! a check character over the first 17 with weights 3^(i) mod 31.

use serde::{Deserialize, Serialize};

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("a credit code has 18 characters")]
    Length,
    #[error("character {0:?} is not allowed in a credit code")]
    Character(char),
    #[error("check character should be {expected}")]
    Check { expected: char },
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character for the first 17 characters (which must be valid).
pub fn check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (i, b) in first17.bytes().enumerate() {
        sum += value(b)? * WEIGHTS[i];
    }
    let c = (31 - sum % 31) % 31;
    Some(ALPHABET[c as usize] as char)
}

impl CreditCode {
    pub fn parse(s: &str) -> Result<Self, CreditCodeError> {
        let s = s.trim().to_ascii_uppercase();
        if s.chars().count() != 18 {
            return Err(CreditCodeError::Length);
        }
        if let Some(bad) = s
            .chars()
            .find(|c| !c.is_ascii() || value(*c as u8).is_none())
        {
            return Err(CreditCodeError::Character(bad));
        }
        let expected = check_char(&s[..17]).ok_or(CreditCodeError::Length)?;
        if s.as_bytes()[17] as char != expected {
            return Err(CreditCodeError::Check { expected });
        }
        Ok(CreditCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CreditCode {
    type Error = CreditCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CreditCode::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.0
    }
}

impl std::fmt::Display for CreditCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_published_codes() {
        // Codes printed on public business licences.
        for code in [
            "91350100M000100Y43",
            "91110000802100433B",
            "91440300708461136T",
        ] {
            assert!(CreditCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn rejects_wrong_check_character_length_and_alphabet() {
        assert_eq!(
            CreditCode::parse("91350100M000100Y44"),
            Err(CreditCodeError::Check { expected: '3' })
        );
        assert_eq!(CreditCode::parse("9135010"), Err(CreditCodeError::Length));
        assert_eq!(
            CreditCode::parse("91350100M0001O0Y43"),
            Err(CreditCodeError::Character('O'))
        );
        // Lower case is read as upper case.
        assert!(CreditCode::parse("91350100m000100y43").is_ok());
    }

    #[test]
    fn check_char_round_trips() {
        let c = check_char("91420200MA4KXXXX1").unwrap();
        assert!(CreditCode::parse(&format!("91420200MA4KXXXX1{c}")).is_ok());
    }
}
