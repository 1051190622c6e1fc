//! People named inside the bid documents' own text (R-COL-3, pure): a resident identity
//! number (GB 11643, its check character right) or a mainland mobile number written in
//! the documents of two bidders — the same project manager in two technical proposals,
//! one contact phone on two cover letters — whether or not the bids carried a personnel
//! declaration (`personnel` compares those).
//!
//! Numbers the tender's own documents write (the agency's contact) are not counted, nor,
//! among five bidders or more, one most of them write (a manufacturer's hotline). The
//! evidence never holds a whole number: each is masked to its last four characters, and
//! the text shown around it has every other digit masked too.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::personnel::{masked, phone_key};
use super::rules::Finding;
use super::similarity::{common, BidDocuments};

/// Characters of text shown on each side of a number.
const CONTEXT_CHARS: usize = 16;

/// A number found: what it is and where (bytes) it first stands in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    /// `id` or `mobile`.
    what: &'static str,
    number: String,
    at: (usize, usize),
}

/// Digits as ASCII (full-width ones too), `X` upper-cased, else `None`.
fn digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')),
        'x' | 'X' | 'ｘ' | 'Ｘ' => Some('X'),
        _ => None,
    }
}

/// The identity and mobile numbers written in `text`: runs of digits (a single space or
/// hyphen between groups allowed, as phones are written), 18 long with a right check
/// character, or 11 long from 13–19 (after a +86 or 0086).
fn numbers(text: &str) -> Vec<Found> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i].1).is_none_or(|d| d == 'X') {
            i += 1;
            continue;
        }
        let start = chars[i].0;
        let mut run = String::new();
        let mut j = i;
        while j < chars.len() {
            match digit(chars[j].1) {
                Some(d) => run.push(d),
                None if matches!(chars[j].1, ' ' | '-')
                    && j + 1 < chars.len()
                    && digit(chars[j + 1].1).is_some_and(|d| d != 'X') => {}
                None => break,
            }
            j += 1;
        }
        let end = chars.get(j).map_or(text.len(), |c| c.0);
        // An X only ends an identity number.
        let ends_x = run.ends_with('X');
        if run.len() == 18 && born(&run) {
            if let Some(id) = crate::resident_id::normalise(&run) {
                out.push(Found {
                    what: "id",
                    number: id,
                    at: (start, end),
                });
            }
        } else if !ends_x && !run.contains('X') {
            if let Some(number) = phone_key(&run) {
                out.push(Found {
                    what: "mobile",
                    number,
                    at: (start, end),
                });
            }
        }
        i = j.max(i + 1);
    }
    out
}

/// Whether an 18-character run carries a birth date where an identity number does
/// (characters 7–14, a year from 1900): a bank account or a credit code that passes the
/// check character by chance (one in eleven) mostly does not.
fn born(run: &str) -> bool {
    let n = |r: std::ops::Range<usize>| run.get(r).and_then(|s| s.parse::<u32>().ok());
    matches!(
        (n(6..10), n(10..12), n(12..14)),
        (Some(1900..=2099), Some(1..=12), Some(1..=31))
    )
}

/// The text around a number as the bid wrote it, the number masked and every other digit
/// hidden.
fn around(text: &str, at: (usize, usize), number: &str) -> String {
    let hide = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if digit(c).is_some_and(|d| d != 'X') {
                    '*'
                } else {
                    c
                }
            })
            .filter(|c| !c.is_control())
            .collect()
    };
    let before: String = text[..at.0]
        .chars()
        .rev()
        .take(CONTEXT_CHARS)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let after: String = text[at.1..].chars().take(CONTEXT_CHARS).collect();
    format!("{}{}{}", hide(&before), masked(number), hide(&after))
}

/// A bid writing a number, and where (bytes) in its text.
type Place<'a> = (&'a BidDocuments, (usize, usize));

/// R-COL-3: one identity or mobile number written in two bidders' documents.
pub fn named_in_text(bids: &[BidDocuments], tender_text: &str) -> Vec<Finding> {
    let theirs: BTreeSet<String> = numbers(tender_text).into_iter().map(|f| f.number).collect();
    // number → (what, the bids writing it, with where).
    let mut by: BTreeMap<String, (&'static str, Vec<Place>)> = BTreeMap::new();
    for b in bids {
        let mut seen = BTreeSet::new();
        for f in numbers(&b.text) {
            if theirs.contains(&f.number) || !seen.insert(f.number.clone()) {
                continue;
            }
            by.entry(f.number)
                .or_insert((f.what, Vec::new()))
                .1
                .push((b, f.at));
        }
    }
    let n = bids
        .iter()
        .map(|b| b.org_id.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    by.into_iter()
        .filter_map(|(number, (what, places))| {
            let orgs: BTreeSet<&str> = places.iter().map(|(b, _)| b.org_id.as_str()).collect();
            if orgs.len() < 2 || common(orgs.len(), n) {
                return None;
            }
            let (kind, label, weight) = match what {
                "id" => ("same_id_in_text", "证件", 90),
                _ => ("same_mobile_in_text", "手机", 80),
            };
            Some(Finding {
                rule: "R-COL-3",
                kind,
                bids: places.iter().map(|(b, _)| b.bid_id.clone()).collect(),
                evidence: json!({
                    "value": format!("{label} {}", masked(&number)),
                    "places": places.iter().map(|(b, at)| json!({
                        "bidder": b.org_name,
                        "text": around(&b.text, *at, &number),
                    })).collect::<Vec<_>>(),
                    "bidders": places.iter().map(|(b, _)| &b.org_name).collect::<Vec<_>>(),
                }),
                weight,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(id: &str, org: &str, text: &str) -> BidDocuments {
        crate::collusion::similarity::tests::docs(id, org, &[], text)
    }

    #[test]
    fn r_col_3_a_number_in_two_bidders_documents_is_found_masked_and_the_tenders_are_not() {
        let tender = "采购代理机构联系人：刘工，电话 138-0000-0001。";
        let bids = [
            docs(
                "b1",
                "o1",
                "项目经理：王强，身份证号 11010519491231002X，手机 139 0000 1234。如有疑问请致电 13800000001。",
            ),
            docs(
                "b2",
                "o2",
                "拟派项目负责人王强（身份证 11010519491231002x），联系电话：+86 13900001234。",
            ),
            // A wrong check character is no identity number; a landline no mobile.
            docs(
                "b3",
                "o3",
                "技术负责人李明，证件 110105194912310021，电话 0714-6251234，13800000001。",
            ),
        ];
        let found = named_in_text(&bids, tender);
        let kinds: Vec<(&str, &str)> = found
            .iter()
            .map(|f| (f.kind, f.evidence["value"].as_str().unwrap()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("same_id_in_text", "证件 ****002X"),
                ("same_mobile_in_text", "手机 ****1234")
            ]
        );
        assert_eq!(found[0].bids, ["b1", "b2"]);
        let shown = found[0].evidence["places"][0]["text"].as_str().unwrap();
        assert!(
            shown.contains("王强") && shown.contains("****002X"),
            "{shown}"
        );
        let all = serde_json::to_string(&found).unwrap();
        for number in [
            "11010519491231002",
            "13900001234",
            "139 0000 1234",
            "1390000",
        ] {
            assert!(!all.contains(number), "{number} in {all}");
        }
    }
}
