//! Documents alike across tenders (R-COL-4): MinHash signatures of each bidder's own
//! text, and locality-sensitive hashing of them into bands, so that a new tender's
//! bidders are compared with every opened tender's without reading them again (pure; the
//! signatures and bands are kept by `repo`).
//!
//! A signature is, for each of `HASHES` hash functions, the least value over the bidder's
//! own shingles: two signatures agree in a row with probability equal to the Jaccard
//! similarity of the two sets, so the share of rows that agree estimates it (standard
//! error √(J(1−J)/128): 0.04 at 0.25). Each row is a band of its own, kept as a key
//! (row and value hashed together); two bidders sharing `MIN_SHARED_BANDS` keys are
//! candidates, then estimated from their signatures and kept from `THRESHOLD`.
//!
//! Text common across the city (a service commitment found on the web, a standard's
//! wording) would make every bidder quoting it alike every other: the rows it gives are
//! those whose key more than `CROWD` organisations share, and they are set apart — no
//! candidate from them, no part of the estimate. Bands of two rows were tried first and
//! measured (BENCHMARKS.md): a band half common text, half a bidder's own is nobody's
//! crowd, so the common text's agreement leaked into the estimate, and estimating from
//! whole bands instead was too coarse to find copies at 0.25.
//!
//! Written here rather than taken from a crate: the MinHash crates (gaoya, probminhash)
//! keep their index in memory and bring a thread pool and a dozen crates; ours must be
//! kept in the database, where every node and every restart finds it, and the signature
//! is twenty lines.

/// Hash functions in a signature.
pub const HASHES: usize = 128;
/// Rows of a band: one, each row its own key (see the module's note).
pub const ROWS: usize = 1;
/// Bands of a signature.
pub const BANDS: usize = HASHES / ROWS;

/// splitmix64's finaliser: a bijection of 64-bit values that mixes every bit.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The signature of a set of shingle hashes (`similarity::hash`, stable across
/// versions): per row, the least of the shingles' hashes under that row's function, its
/// low 32 bits. `None` for an empty set.
pub fn signature<'a>(shingles: impl IntoIterator<Item = &'a u64>) -> Option<Vec<u32>> {
    // Row i's function: x ↦ mix(a·x + b), a odd. (mix(x ⊕ seed) was tried and measured
    // biased: 25 rows of 128 agreed for sets 0.05 alike.)
    let rows: Vec<(u64, u64)> = (0..HASHES as u64)
        .map(|i| (mix(i + 1) | 1, mix(i + 1001)))
        .collect();
    let mut mins = vec![u64::MAX; HASHES];
    let mut any = false;
    for s in shingles {
        any = true;
        for (m, (a, b)) in mins.iter_mut().zip(&rows) {
            *m = (*m).min(mix(s.wrapping_mul(*a).wrapping_add(*b)));
        }
    }
    any.then(|| mins.into_iter().map(|m| m as u32).collect())
}

/// The band keys of a signature: each band's rows and its number hashed together.
pub fn bands(signature: &[u32]) -> Vec<i64> {
    signature
        .chunks(ROWS)
        .enumerate()
        .map(|(band, rows)| {
            let mut key = mix(band as u64 + 1);
            for r in rows {
                key = mix(key ^ u64::from(*r));
            }
            key as i64
        })
        .collect()
}

/// The Jaccard similarity two signatures estimate: the share of rows that agree.
pub fn estimate(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let agree = a.iter().zip(b).filter(|(x, y)| x == y).count();
    agree as f64 / a.len() as f64
}

/// Similarity from which a bidder's own text is warned as alike another's in another
/// tender: as within one (`similarity::THRESHOLD`).
pub const THRESHOLD: f64 = 0.25;

/// Bands (rows) outside crowded ones two bidders share at least, to be candidates.
pub const MIN_SHARED_BANDS: usize = 2;

/// Organisations across the city sharing a band key beyond which the key is common text
/// (a service commitment found on the web, a standard's wording), not one hand's: such a
/// band makes nobody a candidate and counts for no estimate. One writer serving a handful
/// of firms stays below it.
pub const CROWD: usize = 5;

/// Fewest rows outside crowded ones for an estimate: below it two bidders' own text is
/// mostly common text and says nothing.
pub const MIN_BANDS: usize = 16;

/// The Jaccard similarity two signatures estimate over the rows neither has in
/// `crowded`: what is left when the city's common text is set aside. 0 when fewer than
/// `MIN_BANDS` rows are left.
pub fn estimate_apart(a: &[u32], b: &[u32], crowded: &std::collections::HashSet<i64>) -> f64 {
    if a.len() != HASHES || b.len() != HASHES {
        return 0.0;
    }
    let (ka, kb) = (bands(a), bands(b));
    let (mut left, mut agree) = (0, 0);
    for (x, y) in ka.iter().zip(&kb) {
        if crowded.contains(x) || crowded.contains(y) {
            continue;
        }
        left += 1;
        agree += usize::from(x == y);
    }
    if left < MIN_BANDS {
        return 0.0;
    }
    agree as f64 / left as f64
}

/// A signature as kept: its rows in hexadecimal, eight digits each.
pub fn to_text(signature: &[u32]) -> String {
    signature.iter().map(|r| format!("{r:08x}")).collect()
}

/// A kept signature read back; `None` when it is not one.
pub fn from_text(text: &str) -> Option<Vec<u32>> {
    if text.len() != HASHES * 8 || !text.is_ascii() {
        return None;
    }
    (0..HASHES)
        .map(|i| u32::from_str_radix(&text[i * 8..i * 8 + 8], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Two sets of 1,000 shingles sharing `shared` of them.
    fn pair(shared: u64) -> (HashSet<u64>, HashSet<u64>) {
        let a: HashSet<u64> = (0..1000).map(|i| mix(i * 7 + 3)).collect();
        let b: HashSet<u64> = (0..1000)
            .map(|i| {
                if i < shared {
                    mix(i * 7 + 3)
                } else {
                    mix(i * 7 + 1_000_003)
                }
            })
            .collect();
        (a, b)
    }

    #[test]
    fn signatures_estimate_the_jaccard_similarity_and_alike_pairs_share_a_band() {
        for shared in [0, 100, 400, 700, 1000] {
            let (a, b) = pair(shared);
            let exact = a.intersection(&b).count() as f64 / a.union(&b).count() as f64;
            let (sa, sb) = (signature(&a).unwrap(), signature(&b).unwrap());
            let estimated = estimate(&sa, &sb);
            assert!(
                (estimated - exact).abs() < 0.12,
                "{shared}: estimated {estimated}, exact {exact}"
            );
            let (ba, bb) = (bands(&sa), bands(&sb));
            let share = ba.iter().zip(&bb).any(|(x, y)| x == y);
            if exact >= 0.25 {
                assert!(share, "{shared}: alike pairs are candidates");
            }
            if exact == 0.0 {
                assert!(!share, "{shared}: disjoint sets are not");
            }
        }
        // Set apart the bands of text a crowd shares: two sets alike only by it are not.
        let common: HashSet<u64> = (0..1000).map(|i| mix(i * 7 + 3)).collect();
        let with = |own: u64| -> Vec<u32> {
            let mut s = common.clone();
            s.extend((0..300).map(|i| mix(own * 100_000 + i)));
            signature(&s).unwrap()
        };
        let (x, y) = (with(1), with(2));
        assert!(estimate(&x, &y) > 0.5, "alike by the common text");
        let crowded: HashSet<i64> = (3..33)
            .flat_map(|o| bands(&with(o)))
            .fold(
                std::collections::HashMap::<i64, usize>::new(),
                |mut m, k| {
                    *m.entry(k).or_default() += 1;
                    m
                },
            )
            .into_iter()
            .filter(|(_, n)| *n > CROWD)
            .map(|(k, _)| k)
            .collect();
        let apart = estimate_apart(&x, &y, &crowded);
        assert!(apart < 0.1, "{apart} of {} crowded", crowded.len());
        // Sets not made of the common text estimate as before.
        let (a, b) = pair(700);
        let moved = |s: &HashSet<u64>| -> Vec<u32> {
            signature(
                &s.iter()
                    .map(|v| mix(v ^ 0xDEAD_BEEF))
                    .collect::<HashSet<u64>>(),
            )
            .unwrap()
        };
        let (sa, sb) = (moved(&a), moved(&b));
        let apart = estimate_apart(&sa, &sb, &crowded);
        assert!((apart - estimate(&sa, &sb)).abs() < 0.1, "{apart}");
        assert_eq!(signature(&HashSet::new()), None);
        let s = signature(&pair(10).0).unwrap();
        assert_eq!(from_text(&to_text(&s)), Some(s));
        assert_eq!(from_text("zz"), None);
    }
}
