//! Shared errors (R-COL-4): two bids that quote the tender's documents with the same
//! wrong character in the same places (pure; the service reads the texts).
//!
//! Bids quote the tender's documents at length (the forms, the commitments, the
//! technical requirements answered point by point). Where a bid's run of `SHINGLE`
//! characters is not in the tender's text but differs from a run that is in its middle
//! character only, the bid changed that character: an error of copying, or an edit. Each such change is
//! a *site* — the place in the tender's text and the character written there. Honest
//! bidders make their own errors; two bidders making the same ones in the same places
//! copied one file. Changes that are choices, not errors, are not counted: a digit or a
//! numeral (a clause number, a quantity), and the characters a form offers to choose
//! between (是/否, 有/无, 大/中/小/微 …). A site most bidders share (among five or
//! more, as for `similarity`) is the form's, not a cartel's. Two sites or more make a
//! warning: one shared slip can be chance.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::json;

use super::rules::Finding;
use super::similarity::{common, hash, normalised, BidDocuments, SHINGLE};

/// Fewest sites two bidders share for a warning.
pub const MIN_SITES: usize = 2;
/// Sites shown as evidence.
const SHOWN: usize = 10;
/// Characters of the tender's text shown around a site, each side.
const CONTEXT: usize = 8;
/// Characters a form offers to choose between: changing one of them is an answer.
const CHOICES: &str = "是否有无大中小微型已未不非甲乙丙丁男女上下左右前后高低多少新旧整部全半";

/// Whether changing `from` into `to` can be an error of copying rather than a choice.
pub fn an_error(from: char, to: char) -> bool {
    let plain =
        |c: char| c.is_alphabetic() && !c.is_numeric() && !is_numeral(c) && !CHOICES.contains(c);
    from != to && plain(from) && plain(to)
}

fn is_numeral(c: char) -> bool {
    "〇零一二三四五六七八九十百千万亿两壹贰叁肆伍陆柒捌玖拾佰仟".contains(c)
}

/// Where in a window the changed character is looked for: the middle, so that it has
/// the tender's text on both sides. A window that differs at its edge is where a quote
/// ends and other text begins (the next clause, the bid's own words), not an error.
const MIDDLE: usize = SHINGLE / 2;

/// A window with its middle character left out: the key under which the tender's
/// window and each of its one-character variants are found.
fn wildcard(window: &[char]) -> u64 {
    let mut w = window.to_vec();
    w[MIDDLE] = '\u{0}';
    hash(&w)
}

/// A site: where in the tender's text (its normalised characters) and what was written.
type Site = (usize, char);

/// R-COL-4: pairs of bidders whose texts change the tender's text in the same
/// `MIN_SITES` places or more, the same way.
pub fn shared_errors(bids: &[BidDocuments], tender_text: &str) -> Vec<Finding> {
    let reference: Vec<char> = normalised(tender_text)
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    if reference.len() < SHINGLE {
        return Vec::new();
    }
    let exact: HashSet<u64> = reference.windows(SHINGLE).map(hash).collect();
    let mut variants: HashMap<u64, usize> = HashMap::new();
    for (start, window) in reference.windows(SHINGLE).enumerate() {
        variants.entry(wildcard(window)).or_insert(start + MIDDLE);
    }
    // Per organisation, its sites.
    let mut by_org: BTreeMap<&str, BTreeSet<Site>> = BTreeMap::new();
    for b in bids {
        let chars: Vec<char> = normalised(&b.text).into_iter().map(|(c, _)| c).collect();
        let sites = by_org.entry(&b.org_id).or_default();
        for window in chars.windows(SHINGLE) {
            if exact.contains(&hash(window)) {
                continue;
            }
            if let Some(&at) = variants.get(&wildcard(window)) {
                let wrote = window[MIDDLE];
                if an_error(reference[at], wrote) {
                    sites.insert((at, wrote));
                }
            }
        }
    }
    let n = by_org.len();
    let mut holders: BTreeMap<Site, Vec<&str>> = BTreeMap::new();
    for (org, sites) in &by_org {
        for site in sites {
            holders.entry(*site).or_default().push(org);
        }
    }
    let mut pairs: BTreeMap<(&str, &str), Vec<Site>> = BTreeMap::new();
    for (site, orgs) in &holders {
        if orgs.len() < 2 || common(orgs.len(), n) {
            continue;
        }
        for (i, a) in orgs.iter().enumerate() {
            for b in &orgs[i + 1..] {
                pairs.entry((a, b)).or_default().push(*site);
            }
        }
    }
    let context = |at: usize, wrote: Option<char>| -> String {
        let from = at.saturating_sub(CONTEXT);
        let to = (at + CONTEXT + 1).min(reference.len());
        (from..to)
            .map(|i| match wrote {
                Some(c) if i == at => c,
                _ => reference[i],
            })
            .collect()
    };
    pairs
        .into_iter()
        .filter(|(_, sites)| sites.len() >= MIN_SITES)
        .map(|((a, b), sites)| {
            let pair: Vec<&BidDocuments> = bids
                .iter()
                .filter(|x| x.org_id == a || x.org_id == b)
                .collect();
            let mut names: Vec<&str> = Vec::new();
            for x in &pair {
                if !names.contains(&x.org_name.as_str()) {
                    names.push(&x.org_name);
                }
            }
            let errors: Vec<_> = sites
                .iter()
                .take(SHOWN)
                .map(|&(at, wrote)| {
                    json!({
                        "wrote": wrote.to_string(),
                        "right": reference[at].to_string(),
                        "tender": context(at, None),
                        "bids": context(at, Some(wrote)),
                    })
                })
                .collect();
            Finding {
                rule: "R-COL-4",
                kind: "shared_errors",
                bids: pair.iter().map(|x| x.bid_id.clone()).collect(),
                evidence: json!({
                    "value": sites.len().to_string(),
                    "sites": sites.len(),
                    "errors": errors,
                    "bidders": names,
                }),
                weight: (50 + 10 * sites.len()).min(90) as u32,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(id: &str, org: &str, text: &str) -> BidDocuments {
        crate::collusion::similarity::tests::docs(id, org, &[], text)
    }

    const TENDER: &str = "投标人应当按照采购文件的要求编制投标文件。投标报价应包含设备运输安装调试及培训的全部费用。\
        供应商须承诺所投产品为原厂正品并提供完整的售后服务方案。项目实施期间应配备专职项目经理负责现场协调。\
        本项目第3条规定交货期为合同签订后三十日内，投标人为中型企业。";

    #[test]
    fn r_col_4_the_same_errors_in_the_same_places_are_found_and_choices_are_not() {
        // Two bids of one hand: 报价 written 报阶, 原厂 written 源厂, 协调 written 协条.
        let cartel = TENDER
            .replace("投标报价", "投标报阶")
            .replace("原厂正品", "源厂正品")
            .replace("现场协调", "现场协条");
        // An honest bid with an error of its own, and one answering the form's choices
        // (a clause number, a numeral, the enterprise size) as the cartel also does.
        let honest = TENDER.replace("售后服务", "售后服物");
        let answers = |t: &str| {
            t.replace("第3条", "第4条")
                .replace("三十日", "二十日")
                .replace("中型企业", "小型企业")
        };
        let bids = [
            docs("b1", "o1", &format!("{}我方承诺甲。", answers(&cartel))),
            docs("b2", "o2", &format!("{}我方承诺乙。", answers(&cartel))),
            docs("b3", "o3", &honest),
            docs("b4", "o4", &answers(TENDER)),
        ];
        let found = shared_errors(&bids, TENDER);
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!((f.rule, f.kind), ("R-COL-4", "shared_errors"));
        assert_eq!(f.bids, ["b1", "b2"]);
        assert_eq!(f.evidence["sites"], 3);
        let wrote: Vec<&str> = f.evidence["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["wrote"].as_str().unwrap())
            .collect();
        assert_eq!(
            wrote.iter().copied().collect::<BTreeSet<_>>(),
            BTreeSet::from(["阶", "源", "条"])
        );
        let first = f.evidence["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["wrote"] == "阶")
            .unwrap();
        assert_eq!(first["right"], "价");
        assert!(first["tender"].as_str().unwrap().contains("投标报价"));
        assert!(first["bids"].as_str().unwrap().contains("投标报阶"));

        // One shared error is not enough.
        let one = TENDER.replace("投标报价", "投标报阶");
        let bids = [docs("b1", "o1", &one), docs("b2", "o2", &one)];
        assert_eq!(shared_errors(&bids, TENDER), vec![]);
        // Among five, errors four of them share are the form's.
        let bids: Vec<BidDocuments> = (1..=5)
            .map(|i| {
                let text = if i < 5 {
                    cartel.clone()
                } else {
                    TENDER.to_string()
                };
                docs(&format!("b{i}"), &format!("o{i}"), &text)
            })
            .collect();
        assert_eq!(shared_errors(&bids, TENDER), vec![]);
    }
}
