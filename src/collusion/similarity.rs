//! Documents abnormally alike (R-COL-4) and one bidder's files in another's package
//! (R-COL-5), from the documents the opening decrypted (pure; the service reads them).
//!
//! Text is compared as overlapping runs of `SHINGLE` characters after dropping
//! whitespace and punctuation, so that re-wrapping or re-punctuating a copied passage
//! does not hide it. What the tender's own documents say (the forms every bid fills in)
//! and, among five bidders or more, what more than two thirds of them write is removed
//! first: what is left is each bidder's own text, and two sharing much of it is the
//! warning.
//! Within a tender every pair is compared exactly (Jaccard similarity of the remaining
//! shingles).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hasher;

use serde_json::json;

use super::rules::Finding;

/// Characters per shingle: long enough that a shared one is rarely chance in Chinese
/// prose (a shingle of 8 characters is a short clause), short enough to survive edits.
pub const SHINGLE: usize = 8;
/// Similarity from which a pair is a warning.
pub const THRESHOLD: f64 = 0.25;
/// Fewest shared shingles for a warning: two short notes alike say nothing.
pub const MIN_SHARED: usize = 40;
/// Characters of a bid's text compared (the first; the rest is not read).
pub const MAX_CHARS: usize = 400_000;
/// Characters of the shared passage shown as evidence.
const PASSAGE_CHARS: usize = 160;

/// A text document's characters: in the charset its media type names (`charset=gbk`),
/// else by its byte-order mark, else UTF-8 when the bytes are UTF-8 (a prefix cut inside
/// the last character counts), else GB18030 — what Chinese text files not in UTF-8
/// mostly are (GBK is its subset). Never fails: what does not decode becomes U+FFFD.
pub fn decode_text(bytes: &[u8], media_type: &str) -> String {
    let declared = media_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("charset="))
        .find_map(|c| encoding_rs::Encoding::for_label(c.trim_matches('"').as_bytes()));
    let encoding = declared.unwrap_or_else(|| match std::str::from_utf8(bytes) {
        Ok(_) => encoding_rs::UTF_8,
        Err(e) if e.error_len().is_none() => encoding_rs::UTF_8,
        Err(_) => encoding_rs::GB18030,
    });
    // `decode` honours a byte-order mark over the encoding given.
    let (text, _, _) = encoding.decode(bytes);
    text.into_owned()
}

/// One opened bid's documents: their digests and names, and the text of those that are
/// text.
#[derive(Debug, Clone, Default)]
pub struct BidDocuments {
    pub bid_id: String,
    pub org_id: String,
    pub org_name: String,
    /// (sha256, name) of each document.
    pub files: Vec<(String, String)>,
    pub text: String,
}

/// The characters that count: letters and digits (Chinese characters among them),
/// lower-cased.
fn normalise(text: &str) -> Vec<char> {
    normalised(text).into_iter().map(|(c, _)| c).collect()
}

/// As `normalise`, each character with where it starts and ends in `text` (bytes).
pub(super) fn normalised(text: &str) -> Vec<(char, (usize, usize))> {
    text.char_indices()
        .filter(|(_, c)| c.is_alphanumeric())
        .flat_map(|(at, c)| {
            let end = at + c.len_utf8();
            c.to_lowercase().map(move |l| (l, (at, end)))
        })
        .take(MAX_CHARS)
        .collect()
}

/// One bid's text ready to compare: the original, its normalised characters' places in
/// it, and their shingles in order.
struct Prepared<'a> {
    original: &'a str,
    places: Vec<(usize, usize)>,
    shingles: Vec<u64>,
}

impl<'a> Prepared<'a> {
    fn new(original: &'a str) -> Self {
        let (chars, places): (Vec<char>, Vec<(usize, usize)>) =
            normalised(original).into_iter().unzip();
        Prepared {
            original,
            shingles: shingles(&chars),
            places,
        }
    }

    /// The original text of shingles `start .. start + len`, punctuation and line breaks
    /// as the bidder wrote them, at most `PASSAGE_CHARS` characters.
    fn passage(&self, start: usize, len: usize) -> String {
        if len == 0 || self.places.is_empty() {
            return String::new();
        }
        let last = (start + len - 1 + SHINGLE - 1).min(self.places.len() - 1);
        let (from, to) = (self.places[start].0, self.places[last].1);
        self.original[from..to]
            .chars()
            .take(PASSAGE_CHARS)
            .collect()
    }
}

/// A shingle's hash: FNV-1a over its characters, a function fixed by its definition, so
/// that shingles hashed by one version of the server compare with those kept by another
/// (the signatures across tenders are stored).
pub(super) fn hash(window: &[char]) -> u64 {
    let mut h = fnv::FnvHasher::default();
    for c in window {
        h.write(&u32::from(*c).to_le_bytes());
    }
    h.finish()
}

/// The shingles of `chars` in order.
fn shingles(chars: &[char]) -> Vec<u64> {
    chars.windows(SHINGLE).map(hash).collect()
}

/// Whether `count` of `n` bidders having it makes it common to most: only among five
/// bidders or more, more than two thirds of them (of five four, of six five). Among fewer,
/// "most" could be a cartel of three: what they share stays visible, and text every bid
/// quotes (a law, a standard) is too small a part of each to reach the threshold.
pub(super) fn common(count: usize, n: usize) -> bool {
    n >= 5 && count * 3 > n * 2
}

/// R-COL-5: a file (by digest) in the packages of two or more bidders, unless most
/// bidders have it (a form from the tender's documents).
pub fn same_files(bids: &[BidDocuments]) -> Vec<Finding> {
    let bidders: HashSet<&str> = bids.iter().map(|b| b.org_id.as_str()).collect();
    let mut by: BTreeMap<&str, Vec<&BidDocuments>> = BTreeMap::new();
    for b in bids {
        let mut seen = HashSet::new();
        for (sha, _) in &b.files {
            if seen.insert(sha) {
                by.entry(sha).or_default().push(b);
            }
        }
    }
    by.into_iter()
        .filter_map(|(sha, group)| {
            let orgs: HashSet<&str> = group.iter().map(|b| b.org_id.as_str()).collect();
            (orgs.len() >= 2 && !common(orgs.len(), bidders.len())).then(|| {
                let names: Vec<&str> = group
                    .iter()
                    .filter_map(|b| b.files.iter().find(|f| f.0 == sha).map(|f| f.1.as_str()))
                    .collect();
                Finding {
                    rule: "R-COL-5",
                    kind: "same_file",
                    bids: group.iter().map(|b| b.bid_id.clone()).collect(),
                    evidence: json!({
                        "value": sha,
                        "names": names,
                        "bidders": group.iter().map(|b| &b.org_name).collect::<Vec<_>>(),
                    }),
                    weight: 95,
                }
            })
        })
        .collect()
}

/// Each bidder's own text of a tender, as shingles: less the tender's text (its seams
/// included) and, among five bidders or more, what most of them write.
pub struct Own<'a> {
    texts: Vec<Prepared<'a>>,
    sets: BTreeMap<&'a str, HashSet<u64>>,
}

impl<'a> Own<'a> {
    /// Per organisation, its own shingles (FNV-1a hashes, `hash`).
    pub fn sets(&self) -> &BTreeMap<&'a str, HashSet<u64>> {
        &self.sets
    }
}

/// The bidders' own texts of `bids` (`Own`).
pub fn own<'a>(bids: &'a [BidDocuments], tender_text: &str) -> Own<'a> {
    let base: HashSet<u64> = shingles(&normalise(tender_text)).into_iter().collect();
    let texts: Vec<Prepared> = bids.iter().map(|b| Prepared::new(&b.text)).collect();
    // Per organisation, its shingles not quoted from the tender; how many organisations
    // have each.
    let mut by_org: BTreeMap<&str, HashSet<u64>> = BTreeMap::new();
    for (b, t) in bids.iter().zip(&texts) {
        by_org
            .entry(&b.org_id)
            .or_default()
            .extend(unquoted(&t.shingles, &base));
    }
    let mut counts: HashMap<u64, usize> = HashMap::new();
    for set in by_org.values() {
        for s in set {
            *counts.entry(*s).or_default() += 1;
        }
    }
    let n = by_org.len();
    let sets = by_org
        .iter()
        .map(|(org, set)| {
            let kept = set
                .iter()
                .copied()
                .filter(|s| !base.contains(s) && !common(counts[s], n))
                .collect();
            (*org, kept)
        })
        .collect();
    Own { texts, sets }
}

/// R-COL-4: pairs of bidders whose own text (less the tender's and what most bidders
/// write) is at least `THRESHOLD` alike, with the longest passage they share.
pub fn similar_texts(bids: &[BidDocuments], tender_text: &str) -> Vec<Finding> {
    similar_in(bids, &own(bids, tender_text))
}

/// `similar_texts` of the own texts already cut out of `bids`.
pub fn similar_in(bids: &[BidDocuments], own: &Own) -> Vec<Finding> {
    let Own { texts, sets: own } = own;
    let mut out = Vec::new();
    let orgs: Vec<&str> = own.keys().copied().collect();
    for (i, a) in orgs.iter().enumerate() {
        for b in &orgs[i + 1..] {
            let (sa, sb) = (&own[a], &own[b]);
            let shared: HashSet<u64> = sa.intersection(sb).copied().collect();
            let union = sa.len() + sb.len() - shared.len();
            if union == 0 || shared.len() < MIN_SHARED {
                continue;
            }
            let similarity = shared.len() as f64 / union as f64;
            if similarity < THRESHOLD {
                continue;
            }
            let pair: Vec<&BidDocuments> = bids
                .iter()
                .filter(|x| x.org_id == *a || x.org_id == *b)
                .collect();
            // The longest shared run in a bid of `a`, and where it is in a bid of `b`.
            let Some((x, tx, start, len)) = bids
                .iter()
                .zip(texts)
                .filter(|(x, _)| x.org_id == *a)
                .map(|(x, t)| {
                    let (start, len) = longest_run(&t.shingles, &shared);
                    (x, t, start, len)
                })
                .max_by_key(|r| r.3)
            else {
                continue;
            };
            let run = &tx.shingles[start..start + len];
            let Some((y, ty, at, matched)) = bids
                .iter()
                .zip(texts)
                .filter(|(y, _)| y.org_id == *b)
                .map(|(y, t)| {
                    let (at, matched) = find_run(&t.shingles, run);
                    (y, t, at, matched)
                })
                .max_by_key(|r| r.3)
            else {
                continue;
            };
            let rounded = (similarity * 100.0).round() / 100.0;
            out.push(Finding {
                rule: "R-COL-4",
                kind: "similar_text",
                bids: pair.iter().map(|x| x.bid_id.clone()).collect(),
                evidence: json!({
                    "value": format!("{rounded:.2}"),
                    "similarity": rounded,
                    "shared_shingles": shared.len(),
                    "passage": tx.passage(start, len),
                    "passages": [
                        {"bid_id": x.bid_id, "bidder": x.org_name, "text": tx.passage(start, len)},
                        {"bid_id": y.bid_id, "bidder": y.org_name, "text": ty.passage(at, matched)},
                    ],
                    "bidders": pair.iter().map(|x| &x.org_name).collect::<Vec<_>>(),
                }),
                weight: (50.0 + 50.0 * similarity).min(95.0) as u32,
            });
        }
    }
    out
}

/// The shingles of a text that are its own: not the tender's, and not made only of
/// characters the tender's shingles cover — where one quoted clause ends and the next
/// begins, the shingles across the seam are in no document of the tender, yet every bid
/// quoting the two clauses in that order writes them.
fn unquoted<'a>(s: &'a [u64], base: &'a HashSet<u64>) -> impl Iterator<Item = u64> + 'a {
    // covered[i]: how many of the tender's shingles cover character i.
    let mut starts = vec![0i32; s.len() + SHINGLE + 1];
    for (i, h) in s.iter().enumerate() {
        if base.contains(h) {
            starts[i] += 1;
            starts[i + SHINGLE] -= 1;
        }
    }
    let mut covered = Vec::with_capacity(starts.len());
    let mut run = 0;
    for d in &starts {
        run += d;
        covered.push(run > 0);
    }
    s.iter()
        .enumerate()
        .filter(move |(i, _)| !covered[*i..*i + SHINGLE].iter().all(|c| *c))
        .map(|(_, h)| *h)
}

/// The longest run of consecutive shingles in `shared`: (start, length).
fn longest_run(s: &[u64], shared: &HashSet<u64>) -> (usize, usize) {
    let (mut best, mut start, mut len) = ((0, 0), 0, 0);
    for (i, h) in s.iter().enumerate() {
        if shared.contains(h) {
            if len == 0 {
                start = i;
            }
            len += 1;
            if len > best.1 {
                best = (start, len);
            }
        } else {
            len = 0;
        }
    }
    best
}

/// Where in `s` the longest prefix of `run` is found: (start, length matched).
fn find_run(s: &[u64], run: &[u64]) -> (usize, usize) {
    let Some(first) = run.first() else {
        return (0, 0);
    };
    s.iter()
        .enumerate()
        .filter(|(_, h)| *h == first)
        .map(|(at, _)| {
            let matched = s[at..].iter().zip(run).take_while(|(x, y)| x == y).count();
            (at, matched)
        })
        .max_by_key(|r| r.1)
        .unwrap_or((0, 0))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A bid's documents for the rules' tests (also `errors`' and `numbers`').
    pub(crate) fn docs(id: &str, org: &str, files: &[(&str, &str)], text: &str) -> BidDocuments {
        BidDocuments {
            bid_id: id.into(),
            org_id: org.into(),
            org_name: format!("{org} 公司"),
            files: files
                .iter()
                .map(|(s, n)| (s.to_string(), n.to_string()))
                .collect(),
            text: text.into(),
        }
    }

    /// Prose of `n` sentences no other call writes (numbered by `seed`).
    fn prose(seed: u32, n: u32) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "第{seed}号方案第{i}条:本公司承诺按期完成第{}项安装调试工作。",
                    seed * 1000 + i
                )
            })
            .collect()
    }

    #[test]
    fn r_col_4_copied_text_is_found_and_the_tenders_text_and_what_most_write_are_not() {
        // The tender's forms, which every bid fills in.
        let tender = prose(8, 40);
        let copied = prose(7, 30);
        let bids = [
            docs(
                "b1",
                "o1",
                &[],
                &format!("{tender}{copied}{}", prose(1, 10)),
            ),
            // The same text re-wrapped and re-punctuated.
            docs(
                "b2",
                "o2",
                &[],
                &format!(
                    "{tender}\n{}\n{}",
                    copied.replace(':', " ").replace('。', "\n"),
                    prose(2, 10)
                ),
            ),
            docs("b3", "o3", &[], &format!("{tender}{}", prose(3, 40))),
        ];
        let found = similar_texts(&bids, &tender);
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!((f.rule, f.kind), ("R-COL-4", "similar_text"));
        assert_eq!(f.bids, vec!["b1".to_string(), "b2".to_string()]);
        let passage = f.evidence["passage"].as_str().unwrap();
        assert!(passage.contains("第7号方案"), "{passage}");
        assert!(
            !passage.contains("第8号方案"),
            "the tender's text removed: {passage}"
        );
        assert!(f.evidence["similarity"].as_f64().unwrap() >= THRESHOLD);
        // Side by side, each as its bidder wrote it: b2's without the colons.
        let [p1, p2] = [0, 1].map(|i| f.evidence["passages"][i]["text"].as_str().unwrap());
        assert!(p1.contains("第7号方案第") && p1.contains(':'), "{p1}");
        assert!(p2.contains("第7号方案第") && !p2.contains(':'), "{p2}");
        assert_eq!(f.evidence["passages"][1]["bid_id"], "b2");

        // Among five, what all write beyond the tender's text is removed too; a pair that
        // copied stays.
        let common = prose(9, 40);
        let mut five: Vec<BidDocuments> = (1..=5)
            .map(|i| {
                let id = format!("b{i}");
                docs(
                    &id,
                    &format!("o{i}"),
                    &[],
                    &format!("{common}{}", prose(i, 40)),
                )
            })
            .collect();
        assert_eq!(similar_texts(&five, ""), vec![], "everyone's own text");
        five[4].text = format!("{common}{}", prose(4, 40));
        let found = similar_texts(&five, "");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].bids, vec!["b4".to_string(), "b5".to_string()]);

        // Among three, nothing but the tender's text is removed: a cartel of three that
        // writes alike is found, pair by pair.
        let cartel: Vec<BidDocuments> = (1..=3)
            .map(|i| {
                let id = format!("b{i}");
                docs(
                    &id,
                    &format!("o{i}"),
                    &[],
                    &format!("{common}{}", prose(i, 10)),
                )
            })
            .collect();
        assert_eq!(similar_texts(&cartel, "").len(), 3);
    }

    #[test]
    fn clauses_quoted_one_after_another_are_the_tenders_text_seams_included() {
        // The tender's documents: each clause in Chinese, then in English.
        let clauses: Vec<String> = (0..60)
            .map(|i| format!("第{i}条：投标人应当按照要求提交第{}项材料。", i * 37))
            .collect();
        let tender: String = clauses
            .iter()
            .map(|c| format!("{c}\nClause {c} in English.\n"))
            .collect();
        // Three honest bids quote every Chinese clause in order, each signed its own way.
        let quoted: String = clauses.concat();
        let bids = [
            docs("b1", "o1", &[], &format!("{quoted}甲公司谨此承诺。")),
            docs("b2", "o2", &[], &format!("{quoted}乙方特此声明如上。")),
            docs("b3", "o3", &[], &format!("{quoted}丙企业盖章确认。")),
        ];
        assert_eq!(similar_texts(&bids, &tender), vec![]);
    }

    #[test]
    fn text_in_gbk_utf_16_or_cut_utf_8_reads_as_its_characters() {
        let text = "第7号方案：本公司承诺按期完成安装调试工作。";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(decode_text(&gbk, "text/plain"), text, "undeclared GBK");
        assert_eq!(decode_text(&gbk, "text/plain; charset=GBK"), text);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode_text(&utf16, "text/plain"), text, "by its BOM");
        let cut = &text.as_bytes()[..text.len() - 1];
        let read = decode_text(cut, "text/plain");
        assert!(
            read.starts_with("第7号方案：本公司承诺按期完成安装调试工作"),
            "{read}"
        );
        // A GBK copy of a UTF-8 bid is found like any other copy.
        let copied = prose(7, 30);
        let (copy, _, _) = encoding_rs::GBK.encode(&copied);
        let bids = [
            docs("b1", "o1", &[], &format!("{copied}{}", prose(1, 10))),
            docs(
                "b2",
                "o2",
                &[],
                &(decode_text(&copy, "text/plain") + &prose(2, 10)),
            ),
            docs("b3", "o3", &[], &prose(3, 40)),
        ];
        let found = similar_texts(&bids, "");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].bids, ["b1", "b2"]);
    }

    #[test]
    fn r_col_5_a_file_in_two_packages_unless_most_of_five_or_more_have_it() {
        let bids = [
            docs(
                "b1",
                "o1",
                &[("aa", "报价表.xlsx"), ("ff", "承诺函.pdf")],
                "",
            ),
            docs(
                "b2",
                "o2",
                &[("aa", "报价明细.xlsx"), ("ff", "承诺函.pdf")],
                "",
            ),
            docs("b3", "o3", &[("cc", "方案.pdf"), ("ff", "承诺函.pdf")], ""),
            docs("b4", "o4", &[("dd", "方案.pdf"), ("ff", "承诺函.pdf")], ""),
            docs("b5", "o5", &[("ee", "方案.pdf")], ""),
        ];
        let found = same_files(&bids);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, "same_file");
        assert_eq!(found[0].bids, vec!["b1".to_string(), "b2".to_string()]);
        assert_eq!(
            found[0].evidence["names"],
            json!(["报价表.xlsx", "报价明细.xlsx"])
        );
    }
}
