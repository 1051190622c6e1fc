//! The framework agreement's rules as pure functions: how many suppliers may be admitted,
//! who is next in rotation, and which quote wins a secondary competition.

/// The most suppliers that may be admitted (入围) of `qualified`: 财政部令第110号 asks a
/// share of the qualified to be eliminated — 20 % under the price-priority method
/// (价格优先法, here the lowest evaluated price), 40 % under the quality-priority method
/// (质量优先法, comprehensive scoring). Unverified shares (docs/framework.md).
pub fn max_admitted(qualified: usize, lowest_price: bool) -> usize {
    let keep = if lowest_price { 80 } else { 60 };
    qualified * keep / 100
}

/// The supplier whose turn it is in a rotation (顺序轮候): the one after `last` in the
/// admission order, the first after the last one or when there has been none.
pub fn next_in_rotation<'a>(order: &'a [String], last: Option<&str>) -> Option<&'a String> {
    let after = last
        .and_then(|l| order.iter().position(|o| o == l))
        .map_or(0, |i| i + 1);
    order.get(after % order.len().max(1))
}

/// The winning quote of a secondary competition (二次竞价): the lowest; an equal quote
/// goes to the better-admitted supplier (earlier in `order`).
pub fn lowest_quote<'a>(
    order: &[String],
    quotes: &'a [(String, i64)],
) -> Option<&'a (String, i64)> {
    quotes.iter().min_by_key(|(org, price)| {
        (
            *price,
            order.iter().position(|o| o == org).unwrap_or(usize::MAX),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> Vec<String> {
        ["a", "b", "c"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_fifth_is_eliminated_by_price_and_two_fifths_by_quality() {
        assert_eq!(max_admitted(5, true), 4);
        assert_eq!(max_admitted(4, true), 3);
        assert_eq!(max_admitted(5, false), 3);
        assert_eq!(max_admitted(2, true), 1);
    }

    #[test]
    fn the_rotation_goes_round_in_admission_order() {
        let o = order();
        assert_eq!(next_in_rotation(&o, None).unwrap(), "a");
        assert_eq!(next_in_rotation(&o, Some("a")).unwrap(), "b");
        assert_eq!(next_in_rotation(&o, Some("c")).unwrap(), "a");
        assert_eq!(next_in_rotation(&[], None), None);
    }

    #[test]
    fn the_lowest_quote_wins_and_a_tie_goes_to_the_better_admitted() {
        let o = order();
        let q = vec![
            ("c".to_string(), 90),
            ("b".to_string(), 90),
            ("a".to_string(), 95),
        ];
        assert_eq!(lowest_quote(&o, &q).unwrap().0, "b");
        assert_eq!(lowest_quote(&o, &[]), None);
    }
}
