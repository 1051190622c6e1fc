//! Amounts in Chinese capital numerals (大写金额): reading one back to fen, for R-EVAL-7's
//! "the amount in words wins over the figures", and writing it ([`amount_in_words`], which
//! sealing clients use for the opening sheet): `parse_amount_words(&amount_in_words(x))`
//! is `Some(x)` for every `i64` (property-tested below). It also accepts the variants the
//! bill-writing rules allow and bidders write: 圆 for 元, 正 for 整, a leading 人民币, a
//! bare 拾 for 壹拾, a 零 for a zero 元 digit or a zero 角 (壹拾元零伍角, 壹元零角伍分), and
//! a missing 整. Anything else is `None`: a figure it cannot read is never guessed.

const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];

/// An amount in fen as Chinese capital numerals (大写金额), following the People's Bank of
/// China rules for filling in bills (《正确填写票据和结算凭证的基本规定》):
///
/// - 元 is always written when there are yuan; then `整` if there are no 角 and 分.
///   `整` is also written after 角 when 分 is zero (the rules allow either; writing it
///   leaves no room to append a 分 figure): 1050 → 壹拾元伍角整.
/// - A zero 角 followed by non-zero 分 is written 零: 102 → 壹元零贰分.
/// - Zeros inside the integer part are one 零 per run, including across 万/亿 groups:
///   10005 元 → 壹万零伍元整; 100700 元 → 壹拾万零柒佰元整; 107000 元 → 壹拾万柒仟元整.
///   A zero units (元) digit before 角 is not written (the rules allow either):
///   10.50 元 → 壹拾元伍角整.
/// - Tens are written 壹拾 (never a bare 拾), as on bills.
/// - Amounts under one yuan have no 元: 50 → 伍角整, 5 → 伍分; zero is 零元整.
/// - Groups: 万 = 10^4, 亿 = 10^8, then 万亿 = 10^12 and 亿亿 = 10^16.
/// - Negative amounts get the prefix 负.
pub fn amount_in_words(fen: i64) -> String {
    let abs = fen.unsigned_abs();
    let (yuan, jiao, fen_digit) = (abs / 100, (abs / 10 % 10) as usize, (abs % 10) as usize);
    let mut s = String::new();
    if fen < 0 {
        s.push('负');
    }
    if yuan > 0 {
        write_integer(yuan, &mut s);
        s.push('元');
    }
    match (jiao, fen_digit) {
        (0, 0) => {
            if yuan == 0 {
                s.push_str("零元");
            }
            s.push('整');
        }
        (j, f) => {
            if j > 0 {
                s.push(DIGITS[j]);
                s.push('角');
            } else if yuan > 0 {
                s.push('零');
            }
            if f > 0 {
                s.push(DIGITS[f]);
                s.push('分');
            } else {
                s.push('整');
            }
        }
    }
    s
}

/// Words for n > 0.
fn write_integer(n: u64, s: &mut String) {
    const YI: u64 = 100_000_000;
    if n >= YI {
        write_integer(n / YI, s);
        s.push('亿');
        let low = n % YI;
        if low > 0 {
            // A gap before the next non-zero digit is one 零 (1_0000_0005 → 壹亿零伍).
            if low < YI / 10 {
                s.push('零');
            }
            write_below_yi(low, s);
        }
    } else {
        write_below_yi(n, s);
    }
}

/// Words for 0 < n < 10^8.
fn write_below_yi(n: u64, s: &mut String) {
    let (high, low) = (n / 10_000, n % 10_000);
    if high > 0 {
        write_group(high, s);
        s.push('万');
        if low > 0 && low < 1000 {
            s.push('零');
        }
    }
    if low > 0 {
        write_group(low, s);
    }
}

/// Words for 0 < n < 10^4 without leading zeros; inner runs of zeros are one 零, trailing
/// zeros nothing.
fn write_group(n: u64, s: &mut String) {
    const UNITS: [&str; 4] = ["仟", "佰", "拾", ""];
    let digits = [n / 1000, n / 100 % 10, n / 10 % 10, n % 10];
    let mut started = false;
    let mut zero_pending = false;
    for (d, unit) in digits.iter().zip(UNITS) {
        if *d == 0 {
            zero_pending = started;
            continue;
        }
        if zero_pending {
            s.push('零');
            zero_pending = false;
        }
        s.push(DIGITS[*d as usize]);
        s.push_str(unit);
        started = true;
    }
}

fn digit(c: char) -> Option<u64> {
    DIGITS.iter().position(|d| *d == c).map(|d| d as u64)
}

/// The amount in fen, or `None` if the text is not a well-formed amount.
pub fn parse_amount_words(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, text) = match text.strip_prefix('负') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let text = text.strip_prefix("人民币").unwrap_or(text);
    let chars: Vec<char> = text.chars().collect();
    let (yuan, rest) = match chars.iter().position(|c| *c == '元' || *c == '圆') {
        Some(i) => (integer(&chars[..i])?, &chars[i + 1..]),
        None => (0, &chars[..]),
    };
    let had_yuan = chars.len() != rest.len();
    let (jiao, fen) = fraction(rest, had_yuan)?;
    let abs = yuan as i128 * 100 + jiao as i128 * 10 + fen as i128;
    i64::try_from(if negative { -abs } else { abs }).ok()
}

/// 角 and 分 after the 元 (or the whole text when there are no yuan).
fn fraction(chars: &[char], had_yuan: bool) -> Option<(u64, u64)> {
    if chars.is_empty() {
        // "壹元" without 整 is accepted; "" is not an amount.
        return had_yuan.then_some((0, 0));
    }
    let (mut jiao, mut fen) = (None, None);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match (c, chars.get(i + 1)) {
            ('整' | '正', None) => {}
            (d, Some('角')) if jiao.is_none() && fen.is_none() => {
                jiao = Some(digit(d)?);
                i += 1;
            }
            (d, Some('分')) if fen.is_none() => {
                fen = Some(digit(d)?);
                i += 1;
            }
            ('零', Some(_)) => {}
            _ => return None,
        }
        i += 1;
    }
    if !had_yuan && jiao.is_none() && fen.is_none() {
        return None;
    }
    Some((jiao.unwrap_or(0), fen.unwrap_or(0)))
}

/// The yuan: groups of 亿, each made of up to one 万 group and a units group.
fn integer(chars: &[char]) -> Option<u64> {
    if chars == ['零'] {
        return Some(0);
    }
    if chars.is_empty() {
        return None;
    }
    // The last 亿 is the outermost: amount_in_words writes 10^16 as 壹亿亿, 10^12 as 壹万亿.
    match chars.iter().rposition(|c| *c == '亿') {
        Some(i) => {
            let high = integer(&chars[..i]).filter(|h| *h > 0)?;
            let low = below_yi(&chars[i + 1..])?;
            high.checked_mul(100_000_000)?.checked_add(low)
        }
        None => below_yi(chars).filter(|v| *v > 0),
    }
}

/// 0 ≤ n < 10^8: `[group 万] [group]`; empty is 0.
fn below_yi(chars: &[char]) -> Option<u64> {
    match chars.iter().position(|c| *c == '万') {
        Some(i) => {
            let high = group(&chars[..i]).filter(|h| *h > 0)?;
            Some(high * 10_000 + group(&chars[i + 1..])?)
        }
        None => group(chars),
    }
}

/// 0 ≤ n < 10^4: digits each followed by 仟/佰/拾 in decreasing order, then a units digit;
/// 零 marks a gap; a leading bare 拾 is 壹拾.
fn group(chars: &[char]) -> Option<u64> {
    let mut value = 0;
    let mut pending: Option<u64> = None;
    let mut last_unit = 10_000;
    let mut seen = false;
    for &c in chars {
        let unit = match c {
            '仟' => 1000,
            '佰' => 100,
            '拾' => 10,
            '零' => {
                if pending.is_some() {
                    return None;
                }
                continue;
            }
            _ => {
                if pending.is_some() {
                    return None;
                }
                pending = Some(digit(c)?);
                continue;
            }
        };
        if unit >= last_unit {
            return None;
        }
        let d = match pending.take() {
            Some(d) if d > 0 => d,
            None if unit == 10 && !seen => 1,
            _ => return None,
        };
        value += d * unit;
        last_unit = unit;
        seen = true;
    }
    if let Some(d) = pending {
        if last_unit == 1 {
            return None;
        }
        value += d;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::amount_in_words;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn r_eval_7_reads_amount_words() {
        let cases: &[(&str, i64)] = &[
            ("零元整", 0),
            ("伍分", 5),
            ("伍角整", 50),
            ("壹元零贰分", 102),
            ("壹拾元伍角整", 1050),
            ("壹万零伍元整", 1_000_500),
            ("壹拾万零柒佰元整", 10_070_000),
            ("壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分", 123_456_789),
            ("壹亿零伍万元整", 10_005_000_000),
            ("壹万亿元整", 100_000_000_000_000),
            ("负壹拾元伍角整", -1050),
            // Variants a bidder may write.
            ("人民币壹佰圆正", 10_000),
            ("拾元整", 1000),
            ("壹拾元零伍角", 1050),
            ("壹元零角伍分", 105),
            ("壹佰元", 10_000),
        ];
        for (words, fen) in cases {
            assert_eq!(parse_amount_words(words), Some(*fen), "{words}");
        }
    }

    /// tests/vectors/amount-words.json, which the independent client checks too: the
    /// written spelling both ways, the other accepted spellings, the refused texts.
    #[test]
    fn r_eval_7_amount_words_vectors() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/amount-words.json")).unwrap();
        let written = doc["written"].as_array().unwrap();
        assert!(written.len() >= 30);
        for case in written {
            let (fen, words) = (
                case["fen"].as_i64().unwrap(),
                case["words"].as_str().unwrap(),
            );
            assert_eq!(amount_in_words(fen), words, "{fen}");
            assert_eq!(parse_amount_words(words), Some(fen), "{words}");
        }
        for case in doc["read"].as_array().unwrap() {
            let words = case["words"].as_str().unwrap();
            assert_eq!(parse_amount_words(words), case["fen"].as_i64(), "{words}");
        }
        for bad in doc["refused"].as_array().unwrap() {
            let bad = bad.as_str().unwrap();
            assert_eq!(parse_amount_words(bad), None, "{bad}");
        }
    }

    #[test]
    fn r_eval_7_refuses_malformed_words() {
        for bad in [
            "",
            "元",
            "整",
            "壹贰元",
            "佰元",
            "壹佰壹仟元",
            "壹元伍",
            "伍角伍角",
            "壹万万元",
            "壹元整伍分",
            "100元",
            "壹拾拾元",
        ] {
            assert_eq!(parse_amount_words(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn r_eval_7_words_round_trip_any_i64(fen in any::<i64>()) {
            prop_assert_eq!(parse_amount_words(&amount_in_words(fen)), Some(fen));
        }

        #[test]
        fn r_eval_7_words_round_trip_bid_sized(fen in 0i64..100_000_000_000) {
            prop_assert_eq!(parse_amount_words(&amount_in_words(fen)), Some(fen));
        }

        #[test]
        fn r_eval_7_words_round_trip_sparse_digits(
            digits in proptest::collection::vec(prop_oneof![Just(0u8), 1u8..10], 1..19)
        ) {
            // Many zeros: the 零 rules are where writer and reader can disagree.
            let fen = digits.iter().fold(0i64, |n, d| n.saturating_mul(10).saturating_add(*d as i64));
            prop_assert_eq!(parse_amount_words(&amount_in_words(fen)), Some(fen));
        }
    }
}
