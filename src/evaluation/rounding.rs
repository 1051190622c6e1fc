//! Rounding, in one place: money to the fen, scores to 0.01 point, both half-up (half away
//! from zero). Rates are basis points (1 bp = 0.01%), scores are hundredths of a point.
//! Every multiplication and division is done in `i128` and rounded once, here.

/// Basis points in 100%.
pub const BP: i64 = 10_000;

/// `num / den` rounded half away from zero. `den` must be non-zero.
pub fn div_half_up(num: i128, den: i128) -> i128 {
    assert!(den != 0, "division by zero");
    let (num, den) = if den < 0 { (-num, -den) } else { (num, den) };
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
    }
}

/// `amount × rate` to the fen, half-up: a deduction of `rate_bp` on `fen`.
pub fn fen_times_rate(fen: i64, rate_bp: u32) -> i64 {
    to_i64(div_half_up(fen as i128 * rate_bp as i128, BP as i128))
}

/// `score × weight` to 0.01 point, half-up (score and result in hundredths).
pub fn points_times_weight(hundredths: i64, weight_bp: u32) -> i64 {
    to_i64(div_half_up(
        hundredths as i128 * weight_bp as i128,
        BP as i128,
    ))
}

/// `benchmark / evaluated × 100` points, to 0.01 point, half-up, in hundredths.
pub fn price_score(benchmark_fen: i64, evaluated_fen: i64) -> i64 {
    to_i64(div_half_up(
        benchmark_fen as i128 * 100 * 100,
        evaluated_fen as i128,
    ))
}

fn to_i64(v: i128) -> i64 {
    i64::try_from(v).expect("amount out of range")
}

/// `12.50` for 1250 hundredths.
pub fn fmt_points(hundredths: i64) -> String {
    let sign = if hundredths < 0 { "-" } else { "" };
    let v = hundredths.unsigned_abs();
    format!("{sign}{}.{:02}", v / 100, v % 100)
}

/// `num / den` hundredths of a point, for reading a derivation that rounds once: exact to
/// 0.01 as `48.00`, exact to 0.0001 as `28.3515`, otherwise `≈94.5049` (half-up to
/// 0.0001; the computation itself keeps the exact fraction).
pub fn fmt_hundredths_exact(num: i128, den: i128) -> String {
    if num % den == 0 {
        return fmt_points(to_i64(num / den));
    }
    let ten_thousandths = div_half_up(num * 100, den);
    let exact = (num * 100) % den == 0;
    let sign = if ten_thousandths < 0 { "-" } else { "" };
    let v = ten_thousandths.unsigned_abs();
    let digits = format!("{sign}{}.{:04}", v / 10_000, v % 10_000);
    if exact {
        digits
    } else {
        format!("≈{digits}")
    }
}

/// `20%`, `7.5%`, `0.25%` for basis points.
pub fn fmt_rate(bp: u32) -> String {
    let (whole, frac) = (bp / 100, bp % 100);
    match frac {
        0 => format!("{whole}%"),
        f if f % 10 == 0 => format!("{whole}.{}%", f / 10),
        f => format!("{whole}.{f:02}%"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_up() {
        assert_eq!(div_half_up(5, 10), 1);
        assert_eq!(div_half_up(4, 10), 0);
        assert_eq!(div_half_up(15, 10), 2);
        assert_eq!(div_half_up(-15, 10), -2);
        assert_eq!(div_half_up(-14, 10), -1);
        assert_eq!(div_half_up(14, -10), -1);
        // 12345 fen × 10% = 1234.5 fen → 1235
        assert_eq!(fen_times_rate(12_345, 1000), 1235);
        // 2/3 × 100 = 66.666… → 66.67
        assert_eq!(price_score(2, 3), 6667);
        assert_eq!(fmt_points(6667), "66.67");
        assert_eq!(fmt_points(5), "0.05");
        assert_eq!(fmt_rate(2000), "20%");
        assert_eq!(fmt_rate(750), "7.5%");
        assert_eq!(fmt_rate(25), "0.25%");
        assert_eq!(fmt_hundredths_exact(4800, 1), "48.00");
        assert_eq!(fmt_hundredths_exact(283_515, 100), "28.3515");
        // 2/3 point = 66.666… hundredths
        assert_eq!(fmt_hundredths_exact(200, 3), "≈0.6667");
    }
}
