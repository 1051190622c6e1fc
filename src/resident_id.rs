//! 公民身份号码 (resident identity number), GB 11643-1999: 17 digits (region, birth date,
//! sequence) and a check character, ISO 7064 MOD 11-2 over them (`X` for ten). Only
//! checked and then kept as a keyed digest (`pki::Authority::identity_tag`): the platform
//! compares legal representatives and controllers across bidders (R-COL-7) without
//! keeping anyone's number.

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// The number as kept for comparison (spaces dropped, `x` upper-cased), if it is one.
pub fn normalise(input: &str) -> Option<String> {
    let s: String = input
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    (CHECK[(sum % 11) as usize] == b[17]).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_character_is_iso_7064_mod_11_2() {
        // GB 11643-1999's example, and one whose check is X.
        assert_eq!(
            normalise("11010519491231002X").as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(
            normalise(" 110105 19491231002x ").as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(
            normalise("440524188001010014").as_deref(),
            Some("440524188001010014")
        );
        assert_eq!(normalise("440524188001010015"), None);
        assert_eq!(normalise("44052418800101001"), None);
        assert_eq!(normalise("4405241880010100A4"), None);
    }
}
