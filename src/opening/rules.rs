//! The opening's rules as pure functions, tested without a database: each lot's quorum at
//! the start over the sealed bids (R-OPEN-2), and again after the reading-out over the
//! bids read out, bidders naming the same brand counted once (R-OPEN-2, R-OPEN-6).

use std::collections::{BTreeMap, BTreeSet};

use super::types::LotQuorum;

/// Each lot's quorum at the start: the distinct bidders with a sealed bid in it against
/// `min` (the method's minimum). `bids` are (lot, bidder organisation); a lot with no bid
/// is listed too, with none.
pub fn quorum_at_start(lot_nos: &[i64], bids: &[(i64, String)], min: i64) -> Vec<LotQuorum> {
    let mut bidders: BTreeMap<i64, BTreeSet<&str>> =
        lot_nos.iter().map(|l| (*l, BTreeSet::new())).collect();
    for (lot, org) in bids {
        bidders.entry(*lot).or_default().insert(org);
    }
    bidders
        .iter()
        .map(|(lot, orgs)| {
            let n = orgs.len() as i64;
            let short = n < min;
            LotQuorum {
                lot_no: *lot,
                bidders: n,
                min_bidders: min,
                counted: None,
                status: if short { "failed" } else { "open" }.into(),
                reason: short.then(|| {
                    format!(
                        "投标人不足 {min} 家(实际 {n} 家),本包流标 / fewer than {min} bidders ({n}): the lot fails (R-OPEN-2)"
                    )
                }),
            }
        })
        .collect()
}

/// 唱标顺序 by draw: within each lot the bids, in order of receipt, shuffled with the seed
/// SHA-256(hash ‖ "reading-order:<lot>") ([`crate::draw::shuffle`]), the hash being the
/// `bids_sealed` event's; lots in order.
/// `lots` holds each bid's lot in order of receipt (the `bids_sealed` list); the result is
/// the indices into it in reading order. Anyone with the ledger replays it.
pub fn drawn_order(lots: &[i64], ledger_head: &str) -> Result<Vec<usize>, crate::draw::DrawError> {
    let mut by_lot: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, lot) in lots.iter().enumerate() {
        by_lot.entry(*lot).or_default().push(i);
    }
    let mut out = Vec::with_capacity(lots.len());
    for (lot, mut idx) in by_lot {
        let seed = crate::draw::seed(ledger_head, &format!("reading-order:{lot}"))?;
        crate::draw::shuffle(&mut idx, seed);
        out.extend(idx);
    }
    Ok(out)
}

/// One bid read out, for the quorum after the reading-out.
pub struct ReadOut {
    pub lot_no: i64,
    pub bidder_org_id: String,
    /// The brand its opening sheet names, if any.
    pub brand: Option<String>,
}

/// Each lot still open, counted again over the bids read out: bidders naming the same
/// brand (case and surrounding spaces aside) count once (R-OPEN-6); a lot below its
/// minimum fails. Lots that failed at the start are kept as they were.
pub fn quorum_after_reading(lots: Vec<LotQuorum>, read_out: &[ReadOut]) -> Vec<LotQuorum> {
    // Per lot: a set of "who counts", a brand standing for all bidders naming it.
    let mut counted: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for r in read_out {
        let brand = r
            .brand
            .as_deref()
            .map(|b| b.trim().to_lowercase())
            .filter(|b| !b.is_empty());
        let who = match brand {
            Some(b) => format!("brand:{b}"),
            None => format!("org:{}", r.bidder_org_id),
        };
        counted.entry(r.lot_no).or_default().insert(who);
    }
    lots.into_iter()
        .map(|mut l| {
            if l.status == "open" {
                let n = counted.get(&l.lot_no).map_or(0, |s| s.len() as i64);
                l.counted = Some(n);
                if n < l.min_bidders {
                    l.status = "failed".into();
                    l.reason = Some(format!(
                        "有效投标不足 {} 家(实际 {n} 家,同品牌计为一家),本包流标 / fewer than {} valid bids ({n}, one brand counted once): the lot fails (R-OPEN-2, R-OPEN-6)",
                        l.min_bidders, l.min_bidders
                    ));
                }
            }
            l
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bids(list: &[(i64, &str)]) -> Vec<(i64, String)> {
        list.iter().map(|(l, o)| (*l, o.to_string())).collect()
    }

    #[test]
    fn r_open_2_a_lot_with_fewer_than_three_bidders_fails_at_the_start() {
        // Lot 1: three bidders, one of them twice; lot 2: two; lot 3: none.
        let lots = quorum_at_start(
            &[1, 2, 3],
            &bids(&[(1, "a"), (1, "b"), (1, "c"), (1, "a"), (2, "a"), (2, "d")]),
            3,
        );
        let seen: Vec<(i64, i64, &str)> = lots
            .iter()
            .map(|l| (l.lot_no, l.bidders, l.status.as_str()))
            .collect();
        assert_eq!(seen, [(1, 3, "open"), (2, 2, "failed"), (3, 0, "failed")]);
        assert!(lots[1].reason.as_deref().unwrap().contains("R-OPEN-2"));
        assert!(lots[0].reason.is_none());
    }

    #[test]
    fn r_open_6_bidders_naming_one_brand_count_once_after_the_reading_out() {
        let start = quorum_at_start(&[1, 2], &bids(&[(1, "a"), (1, "b"), (1, "c"), (2, "x")]), 3);
        let read = [
            ReadOut {
                lot_no: 1,
                bidder_org_id: "a".into(),
                brand: Some("Lenovo".into()),
            },
            ReadOut {
                lot_no: 1,
                bidder_org_id: "b".into(),
                brand: Some(" lenovo ".into()),
            },
            ReadOut {
                lot_no: 1,
                bidder_org_id: "c".into(),
                brand: None,
            },
        ];
        let lots = quorum_after_reading(start, &read);
        assert_eq!(lots[0].counted, Some(2), "one brand, one count");
        assert_eq!(lots[0].status, "failed");
        assert!(lots[0].reason.as_deref().unwrap().contains("R-OPEN-6"));
        // Lot 2 failed at the start and is kept as it was.
        assert_eq!((lots[1].counted, lots[1].status.as_str()), (None, "failed"));
    }

    #[test]
    fn r_open_2_distinct_brands_and_blank_brands_each_count() {
        let start = quorum_at_start(&[1], &bids(&[(1, "a"), (1, "b"), (1, "c")]), 3);
        let read = [
            ReadOut {
                lot_no: 1,
                bidder_org_id: "a".into(),
                brand: Some("Lenovo".into()),
            },
            ReadOut {
                lot_no: 1,
                bidder_org_id: "b".into(),
                brand: Some("  ".into()),
            },
            ReadOut {
                lot_no: 1,
                bidder_org_id: "c".into(),
                brand: Some("Dell".into()),
            },
        ];
        let lots = quorum_after_reading(start, &read);
        assert_eq!(
            (lots[0].counted, lots[0].status.as_str()),
            (Some(3), "open")
        );
    }

    #[test]
    fn the_drawn_order_keeps_lots_together_and_replays_from_the_head() {
        let head = "ab".repeat(32);
        let lots = [1, 1, 1, 1, 1, 2, 2, 2];
        let order = drawn_order(&lots, &head).unwrap();
        // A permutation, lot 1's bids before lot 2's.
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..8).collect::<Vec<_>>());
        assert!(order[..5].iter().all(|i| *i < 5) && order[5..].iter().all(|i| *i >= 5));
        // The same head gives the same order; heads differ, orders differ (over a few).
        assert_eq!(drawn_order(&lots, &head).unwrap(), order);
        let others: Vec<Vec<usize>> = ["cd", "ef", "01", "23"]
            .iter()
            .map(|h| drawn_order(&lots, &h.repeat(32)).unwrap())
            .collect();
        assert!(others.iter().any(|o| o != &order));
        // Not a ledger head: refused.
        assert!(drawn_order(&lots, "not-a-head").is_err());
    }
}
