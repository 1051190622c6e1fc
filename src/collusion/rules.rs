//! The collusion warnings' rules (pure, 围标串标预警, R-COL-1 and R-COL-4): from what the
//! platform collected first-hand when each bid was sealed and what the opening read out,
//! the groups of bidders that share a sealing device, a network address, a document
//! author or a key, and price series with a regular pattern; and the standard price
//! screens of the cartel literature. Never computed before the opening.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

/// What one opened bid brings to the warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct BidFacts {
    pub bid_id: String,
    pub org_id: String,
    pub org_name: String,
    pub lot_no: i64,
    pub price_fen: i64,
    pub device_fingerprint: String,
    /// The address the bid was started (sealed and sent) from.
    pub client_ip: String,
    /// The addresses the bidder obtained the tender's documents from and decrypted the
    /// bid from at the opening, where recorded.
    pub other_ips: Vec<String>,
    pub user_agent: String,
    /// Document authors and creation ids as the sealing side reported them.
    pub creators: Vec<String>,
    pub bidder_key_id: String,
    /// The account the bidder's deposit was paid from (digits only), if paid by transfer.
    pub deposit_account: Option<String>,
    /// Who stands behind the bidder, as it declared (R-COL-7).
    pub owner: Owner,
}

/// A bidder's credit code, legal representative and controller (supplier::identity):
/// identity numbers as keyed tags; empty when not declared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    pub credit_code: String,
    pub legal_rep_name: String,
    pub legal_rep_tag: String,
    pub controller_name: String,
    /// `org:<credit code>` or `person:<identity tag>`.
    pub controller_key: String,
}

/// One warning: the rule, what was found, the bids it concerns, the evidence and a weight
/// (0–100, how strongly it points to collusion on its own).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub kind: &'static str,
    pub bids: Vec<String>,
    pub evidence: Value,
    pub weight: u32,
}

impl Finding {
    /// A stable key for the finding (its kind and bids), under which decisions are kept.
    pub fn key(&self) -> String {
        let mut bids = self.bids.clone();
        bids.sort();
        let text = format!(
            "{}|{}|{}",
            self.kind,
            self.evidence["value"],
            bids.join(",")
        );
        crate::crypto::sha256_hex(text.as_bytes())[..24].to_string()
    }
}

/// Addresses that say nothing about who sealed a bid: a server sending to itself, an
/// unknown address.
fn says_nothing(ip: &str) -> bool {
    match ip.parse::<std::net::IpAddr>() {
        Ok(a) => a.is_loopback() || a.is_unspecified(),
        Err(_) => true,
    }
}

/// Groups of two or more organisations sharing a value (each value once per bid).
fn shared<'a>(
    bids: &'a [BidFacts],
    values: impl Fn(&'a BidFacts) -> Vec<&'a str>,
) -> Vec<(&'a str, Vec<&'a BidFacts>)> {
    let mut by: BTreeMap<&str, Vec<&BidFacts>> = BTreeMap::new();
    for b in bids {
        let mut vs = values(b);
        vs.sort_unstable();
        vs.dedup();
        for v in vs.into_iter().filter(|v| !v.trim().is_empty()) {
            by.entry(v).or_default().push(b);
        }
    }
    by.into_iter()
        .filter(|(_, group)| {
            let mut orgs: Vec<&str> = group.iter().map(|b| b.org_id.as_str()).collect();
            orgs.sort_unstable();
            orgs.dedup();
            orgs.len() >= 2
        })
        .collect()
}

fn finding(
    rule: &'static str,
    kind: &'static str,
    weight: u32,
    value: &str,
    group: &[&BidFacts],
) -> Finding {
    Finding {
        rule,
        kind,
        bids: group.iter().map(|b| b.bid_id.clone()).collect(),
        evidence: json!({
            "value": value,
            "bidders": group.iter().map(|b| &b.org_name).collect::<Vec<_>>(),
        }),
        weight,
    }
}

/// R-COL-1: bids of different bidders sealed on one device, sent from one address, whose
/// documents name one author or creation id, or sealed to one bidder key; R-COL-6: their
/// deposits paid from one account.
pub fn first_hand(bids: &[BidFacts]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (value, group) in shared(bids, |b| vec![b.device_fingerprint.as_str()]) {
        out.push(finding("R-COL-1", "same_device", 90, value, &group));
    }
    for (value, group) in shared(bids, |b| {
        let mut ips: Vec<&str> = std::iter::once(&b.client_ip)
            .chain(&b.other_ips)
            .map(String::as_str)
            .filter(|ip| !says_nothing(ip))
            .collect();
        ips.sort_unstable();
        ips.dedup();
        ips
    }) {
        out.push(finding("R-COL-1", "same_ip", 60, value, &group));
    }
    for (value, group) in shared(bids, |b| b.creators.iter().map(String::as_str).collect()) {
        out.push(finding("R-COL-1", "same_creator", 80, value, &group));
    }
    for (value, group) in shared(bids, |b| vec![b.bidder_key_id.as_str()]) {
        out.push(finding("R-COL-1", "same_key", 100, value, &group));
    }
    for (value, group) in shared(bids, |b| b.deposit_account.as_deref().into_iter().collect()) {
        out.push(finding("R-COL-6", "same_account", 90, value, &group));
    }
    out
}

/// R-COL-7 within each lot: bidders with one legal representative (`same_legal_rep`),
/// one controlling the other — its controller is the other company, or the other's legal
/// representative (`controls`) — or one controller behind both (`same_controller`). The
/// evidence names people and companies, never an identity number or its tag.
pub fn relations(bids: &[BidFacts]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut lots: BTreeMap<i64, Vec<BidFacts>> = BTreeMap::new();
    for b in bids {
        lots.entry(b.lot_no).or_default().push(b.clone());
    }
    for group in lots.values() {
        for (_, g) in shared(group, |b| vec![b.owner.legal_rep_tag.as_str()]) {
            let name = &g[0].owner.legal_rep_name;
            out.push(finding("R-COL-7", "same_legal_rep", 100, name, &g));
        }
        for (_, g) in shared(group, |b| vec![b.owner.controller_key.as_str()]) {
            let name = &g[0].owner.controller_name;
            out.push(finding("R-COL-7", "same_controller", 90, name, &g));
        }
        for a in group {
            for b in group.iter().filter(|b| b.org_id != a.org_id) {
                let key = &a.owner.controller_key;
                let by_company = !b.owner.credit_code.is_empty()
                    && key.strip_prefix("org:") == Some(b.owner.credit_code.as_str());
                let by_person = !b.owner.legal_rep_tag.is_empty()
                    && key.strip_prefix("person:") == Some(b.owner.legal_rep_tag.as_str());
                if by_company || by_person {
                    let value = format!("{} → {}", b.org_name, a.org_name);
                    out.push(finding("R-COL-7", "controls", 100, &value, &[b, a]));
                }
            }
        }
    }
    out
}

/// Relative tolerance for "equal" steps and ratios: 0.002 % of the price (20 yuan on a
/// million). Covers priced off the winner's bid to the yuan land within it; honest prices
/// taken three at a time line up this closely in about one tender of a hundred (the
/// cartel harness: at 0.01 % it was one in seven). Covers rounded coarser (to 100 yuan on
/// a million) are missed.
const TOLERANCE: f64 = 0.00002;

/// Runs of three or more bids of different bidders, in price order but not necessarily
/// next to each other, whose prices go up in one step (`geometric`: one ratio) within
/// `TOLERANCE`; the longest of each, none inside another. Returns (positions, step).
fn progressions(group: &[&BidFacts], geometric: bool) -> Vec<(Vec<usize>, f64)> {
    let p: Vec<f64> = group.iter().map(|b| b.price_fen as f64).collect();
    let mut found: Vec<(Vec<usize>, f64)> = Vec::new();
    for i in 0..p.len() {
        for j in i + 1..p.len() {
            let step = if geometric { p[j] / p[i] } else { p[j] - p[i] };
            if p[i] <= 0.0 || (if geometric { step <= 1.0 } else { step <= 0.0 }) {
                continue;
            }
            let mut run = vec![i, j];
            let mut orgs = vec![group[i].org_id.as_str(), group[j].org_id.as_str()];
            if orgs[0] == orgs[1] {
                continue;
            }
            let mut expected = if geometric { p[j] * step } else { p[j] + step };
            for (k, price) in p.iter().enumerate().skip(j + 1) {
                if *price > expected * (1.0 + TOLERANCE) {
                    break;
                }
                let org = group[k].org_id.as_str();
                if (price - expected).abs() <= TOLERANCE * expected && !orgs.contains(&org) {
                    run.push(k);
                    orgs.push(org);
                    expected = if geometric {
                        price * step
                    } else {
                        price + step
                    };
                }
            }
            if run.len() >= 3 {
                found.push((run, step));
            }
        }
    }
    found.sort_by_key(|r| std::cmp::Reverse(r.0.len()));
    let mut kept: Vec<(Vec<usize>, f64)> = Vec::new();
    for (run, step) in found {
        if !kept.iter().any(|(k, _)| run.iter().all(|x| k.contains(x))) {
            kept.push((run, step));
        }
    }
    kept
}

/// R-COL-4, prices with regular differences within a lot: identical prices of different
/// bidders; three or more bidders' prices in equal steps or in equal ratios (cover bids
/// priced off the designated winner's), whatever bids come between them.
pub fn price_patterns(bids: &[BidFacts]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut lots: BTreeMap<i64, Vec<&BidFacts>> = BTreeMap::new();
    for b in bids.iter().filter(|b| b.price_fen > 0) {
        lots.entry(b.lot_no).or_default().push(b);
    }
    for (lot, mut group) in lots {
        group.sort_by_key(|b| (b.price_fen, b.bid_id.clone()));
        let prices: Vec<i64> = group.iter().map(|b| b.price_fen).collect();
        let series = json!({"lot_no": lot, "prices_fen": prices});
        let mut i = 0;
        while i < group.len() {
            let j = group[i..]
                .iter()
                .take_while(|b| b.price_fen == group[i].price_fen)
                .count();
            let same = &group[i..i + j];
            let orgs: std::collections::BTreeSet<&str> =
                same.iter().map(|b| b.org_id.as_str()).collect();
            if orgs.len() >= 2 {
                out.push(Finding {
                    rule: "R-COL-4",
                    kind: "identical_prices",
                    bids: same.iter().map(|b| b.bid_id.clone()).collect(),
                    evidence: json!({"value": group[i].price_fen, "series": series}),
                    weight: 70,
                });
            }
            i += j;
        }
        let steps = progressions(&group, false);
        let run_prices = |run: &[usize]| run.iter().map(|&k| prices[k]).collect::<Vec<_>>();
        for (run, step) in &steps {
            out.push(Finding {
                rule: "R-COL-4",
                kind: "equal_steps",
                bids: run.iter().map(|&k| group[k].bid_id.clone()).collect(),
                evidence: json!({"value": step.round(), "prices_fen": run_prices(run),
                                 "series": series}),
                weight: 60,
            });
        }
        for (run, ratio) in progressions(&group, true) {
            if steps.iter().any(|(s, _)| run.iter().all(|x| s.contains(x))) {
                continue;
            }
            out.push(Finding {
                rule: "R-COL-4",
                kind: "equal_ratios",
                bids: run.iter().map(|&k| group[k].bid_id.clone()).collect(),
                evidence: json!({"value": format!("{ratio:.4}"), "prices_fen": run_prices(&run),
                                 "series": series}),
                weight: 60,
            });
        }
    }
    out
}

/// What the evaluation's report says of the opened bids: the ones set aside (failed
/// qualification or compliance, or invalid at the evaluation), each lot's winning bid and
/// whether the lot was awarded on price alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub disqualified: std::collections::BTreeSet<String>,
    /// lot → the first-ranked bid.
    pub winners: BTreeMap<i64, String>,
    pub price_only: std::collections::BTreeSet<i64>,
}

/// Red flags per tender on open-contracting's cardinal-rs definitions (docs/cli/
/// indicators): R018 a single bid in a lot; R035 every bidder but the winner
/// disqualified (at least one); R036 the lowest bid disqualified in a lot awarded on price
/// alone. (R024, R038 and R058 compare across tenders.)
pub fn red_flags(bids: &[BidFacts], outcome: &Outcome) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut lots: BTreeMap<i64, Vec<&BidFacts>> = BTreeMap::new();
    for b in bids {
        lots.entry(b.lot_no).or_default().push(b);
    }
    for (lot, group) in lots {
        let ids = |g: &[&BidFacts]| g.iter().map(|b| b.bid_id.clone()).collect::<Vec<_>>();
        if group.len() == 1 {
            out.push(Finding {
                rule: "R018",
                kind: "single_bid",
                bids: ids(&group),
                evidence: json!({"value": lot, "lot_no": lot}),
                weight: 30,
            });
        }
        let Some(winner) = outcome.winners.get(&lot) else {
            continue;
        };
        let out_of: Vec<&BidFacts> = group
            .iter()
            .copied()
            .filter(|b| outcome.disqualified.contains(&b.bid_id))
            .collect();
        let valid_orgs: std::collections::BTreeSet<&str> = group
            .iter()
            .filter(|b| !outcome.disqualified.contains(&b.bid_id))
            .map(|b| b.org_id.as_str())
            .collect();
        let winner_org = group
            .iter()
            .find(|b| &b.bid_id == winner)
            .map(|b| b.org_id.as_str());
        if valid_orgs.len() == 1
            && winner_org.is_some_and(|w| valid_orgs.contains(w))
            && !out_of.is_empty()
        {
            let mut bids = ids(&out_of);
            bids.push(winner.clone());
            out.push(Finding {
                rule: "R035",
                kind: "all_except_winner_disqualified",
                bids,
                evidence: json!({"value": out_of.len(), "lot_no": lot,
                    "bidders": out_of.iter().map(|b| &b.org_name).collect::<Vec<_>>()}),
                weight: 50,
            });
        }
        let lowest = group
            .iter()
            .filter(|b| b.price_fen > 0)
            .min_by_key(|b| b.price_fen);
        if let Some(l) = lowest.filter(|l| {
            outcome.price_only.contains(&lot) && outcome.disqualified.contains(&l.bid_id)
        }) {
            out.push(Finding {
                rule: "R036",
                kind: "lowest_bid_disqualified",
                bids: vec![l.bid_id.clone(), winner.clone()],
                evidence: json!({"value": l.price_fen, "lot_no": lot, "bidders": [&l.org_name]}),
                weight: 50,
            });
        }
    }
    out
}

/// One awarded lot as the screens across tenders read it (an OCDS contracting process
/// in cardinal-rs's terms): its buyer (the purchasing unit), procuring entity (the
/// agency), its opened bids and the first-ranked one.
#[derive(Debug, Clone, PartialEq)]
pub struct Process {
    pub tender_id: String,
    pub lot_no: i64,
    pub buyer: String,
    pub procuring_entity: String,
    /// The region's code (行政区划代码), empty when unknown.
    pub region: String,
    /// (bid id, bidder organisation, price, disqualified)
    pub bids: Vec<(String, String, i64, bool)>,
    pub winner: Option<String>,
}

/// The τ-quantile of sorted values by the R-8 estimator (statrs's `quantile`, which
/// cardinal-rs uses): h = (n + 1/3)τ + 1/3, interpolated between the order statistics
/// around h (1-based), the minimum and maximum at the ends.
pub fn quantile(sorted: &[f64], tau: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n as f64 + 1.0 / 3.0) * tau + 1.0 / 3.0;
    let hf = h.floor() as i64;
    if hf <= 0 || tau == 0.0 {
        return sorted[0];
    }
    if hf >= n as i64 || tau == 1.0 {
        return sorted[n - 1];
    }
    let (a, b) = (sorted[hf as usize - 1], sorted[hf as usize]);
    a + (h - hf as f64) * (b - a)
}

fn quartiles(values: &[f64]) -> (f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    (quantile(&v, 0.25), quantile(&v, 0.75))
}

/// A process flagged, with the indicator's value and the bidders it names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessFlag {
    pub tender_id: String,
    pub lot_no: i64,
    pub value: f64,
    pub bidders: Vec<String>,
}

/// An organisation flagged: `buyer`, `procuring_entity` or `tenderer`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgFlag {
    pub group: &'static str,
    pub org_id: String,
    pub value: f64,
}

/// Bidders who meet again and again and take turns winning (bid rotation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RotationFlag {
    /// The organisations, sorted.
    pub bidders: Vec<String>,
    /// The processes they met in, and who won each.
    pub processes: Vec<String>,
    pub winners: Vec<String>,
}

/// Meetings of the same bidders from which a rotation is flagged.
pub const ROTATION_MEETINGS: usize = 3;

/// The flags that compare across tenders, on cardinal-rs's definitions, with the
/// quartiles and fences they used; and bid rotation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CrossFlags {
    pub processes: usize,
    pub r024: Vec<ProcessFlag>,
    pub r058: Vec<ProcessFlag>,
    pub r038: Vec<OrgFlag>,
    pub rotation: Vec<RotationFlag>,
    pub meta: BTreeMap<String, f64>,
}

/// Bid rotation (R-COL, the screens across tenders): the same three or more bidders, and
/// nobody else, in `ROTATION_MEETINGS` awarded processes or more, each of them winning, as
/// evenly as turns go (win counts at most one apart). A cartel that lets an outsider in
/// now and then is not seen; an honest market of three that shares its work evenly is.
fn rotation(processes: &[Process]) -> Vec<RotationFlag> {
    let mut meetings: BTreeMap<Vec<String>, Vec<(&Process, String)>> = BTreeMap::new();
    for p in processes {
        let Some(winner) = &p.winner else { continue };
        let Some(org) = p.bids.iter().find(|b| &b.0 == winner).map(|b| b.1.clone()) else {
            continue;
        };
        let mut set: Vec<String> = p.bids.iter().map(|b| b.1.clone()).collect();
        set.sort();
        set.dedup();
        if set.len() >= 3 {
            meetings.entry(set).or_default().push((p, org));
        }
    }
    meetings
        .into_iter()
        .filter(|(bidders, met)| {
            let mut wins: BTreeMap<&String, usize> = bidders.iter().map(|b| (b, 0)).collect();
            for (_, w) in met {
                *wins.entry(w).or_default() += 1;
            }
            let (least, most) = (wins.values().min(), wins.values().max());
            met.len() >= ROTATION_MEETINGS
                && least.zip(most).is_some_and(|(l, m)| *l >= 1 && m - l <= 1)
        })
        .map(|(bidders, met)| RotationFlag {
            bidders,
            processes: met.iter().map(|m| m.0.tender_id.clone()).collect(),
            winners: met.into_iter().map(|m| m.1).collect(),
        })
        .collect()
}

/// R024 (price close to the winning bid: the difference between the lowest valid bid of
/// another bidder and the winner's, over the winner's, at or below Q1 − 1.5 IQR, when Q1
/// and the fence are positive), R058 (heavily discounted: at or above Q3 + 1.5 IQR, when
/// the fence is positive) and R038 (excessive disqualified bids: per buyer, procuring
/// entity and tenderer with two submitted bids or more, the disqualified share at or
/// above Q3 + 1.5 IQR of the group, when positive).
pub fn cross_flags(processes: &[Process]) -> CrossFlags {
    let mut out = CrossFlags {
        processes: processes.len(),
        ..Default::default()
    };
    let mut ratios: Vec<(&Process, f64, Vec<String>)> = Vec::new();
    for p in processes {
        let Some(winner) = &p.winner else { continue };
        let Some(winner_org) = p.bids.iter().find(|b| &b.0 == winner).map(|b| b.1.clone()) else {
            continue;
        };
        let valid = p.bids.iter().filter(|b| !b.3 && b.2 > 0);
        let w = valid
            .clone()
            .filter(|b| b.1 == winner_org)
            .map(|b| b.2)
            .min();
        let other = valid.filter(|b| b.1 != winner_org).min_by_key(|b| b.2);
        if let (Some(w), Some(o)) = (w, other) {
            if o.2 >= w {
                let ratio = (o.2 - w) as f64 / w as f64;
                ratios.push((p, ratio, vec![winner_org.clone(), o.1.clone()]));
            }
        }
    }
    if !ratios.is_empty() {
        let (q1, q3) = quartiles(&ratios.iter().map(|r| r.1).collect::<Vec<_>>());
        let lower = (q3 - q1).mul_add(-1.5, q1);
        let upper = (q3 - q1).mul_add(1.5, q3);
        out.meta.insert("R024_q1".into(), q1);
        out.meta.insert("R024_q3".into(), q3);
        out.meta.insert("R024_lower_fence".into(), lower);
        out.meta.insert("R058_upper_fence".into(), upper);
        for (p, ratio, bidders) in &ratios {
            let flag = || ProcessFlag {
                tender_id: p.tender_id.clone(),
                lot_no: p.lot_no,
                value: *ratio,
                bidders: bidders.clone(),
            };
            if q1 > 0.0 && lower > 0.0 && *ratio <= lower {
                out.r024.push(flag());
            }
            if upper > 0.0 && *ratio >= upper {
                out.r058.push(ProcessFlag {
                    bidders: bidders[..1].to_vec(),
                    ..flag()
                });
            }
        }
    }
    out.rotation = rotation(processes);
    // R038: disqualified over submitted, per group.
    let mut groups: BTreeMap<(&'static str, String), (u64, u64)> = BTreeMap::new();
    for p in processes {
        let disq = p.bids.iter().filter(|b| b.3).count() as u64;
        let n = p.bids.len() as u64;
        for (group, id) in [
            ("buyer", &p.buyer),
            ("procuring_entity", &p.procuring_entity),
        ] {
            let e = groups.entry((group, id.clone())).or_default();
            e.0 += disq;
            e.1 += n;
        }
        for b in &p.bids {
            let e = groups.entry(("tenderer", b.1.clone())).or_default();
            e.0 += u64::from(b.3);
            e.1 += 1;
        }
    }
    for group in ["buyer", "procuring_entity", "tenderer"] {
        let members: Vec<(&String, f64)> = groups
            .iter()
            .filter(|((g, _), (_, n))| *g == group && *n >= 2)
            .map(|((_, id), (d, n))| (id, *d as f64 / *n as f64))
            .collect();
        if members.is_empty() {
            continue;
        }
        let (q1, q3) = quartiles(&members.iter().map(|m| m.1).collect::<Vec<_>>());
        let fence = (q3 - q1).mul_add(1.5, q3);
        out.meta.insert(format!("R038_{group}_upper_fence"), fence);
        if fence > 0.0 {
            for (id, ratio) in members {
                if ratio >= fence {
                    out.r038.push(OrgFlag {
                        group,
                        org_id: id.clone(),
                        value: ratio,
                    });
                }
            }
        }
    }
    out
}

/// The price screens of one lot's bids (the cartel-screen literature: Imhof, Huber;
/// OECD): coefficient of variation, relative difference between the two lowest (the
/// second lowest minus the lowest, over the others' standard deviation), spread
/// (highest over lowest minus one) and skewness. `None` below three prices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Screens {
    pub bids: usize,
    pub cv: f64,
    pub rd: Option<f64>,
    pub spread: f64,
    pub skewness: f64,
}

pub fn screens(prices_fen: &[i64]) -> Option<Screens> {
    if prices_fen.len() < 3 {
        return None;
    }
    let mut p: Vec<f64> = prices_fen.iter().map(|&x| x as f64).collect();
    p.sort_by(f64::total_cmp);
    let n = p.len() as f64;
    let mean = p.iter().sum::<f64>() / n;
    let var = p.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let sd = var.sqrt();
    let losers = &p[1..];
    let lm = losers.iter().sum::<f64>() / losers.len() as f64;
    let lsd = (losers.iter().map(|x| (x - lm).powi(2)).sum::<f64>()
        / (losers.len() as f64 - 1.0).max(1.0))
    .sqrt();
    let m3 = p.iter().map(|x| (x - mean).powi(3)).sum::<f64>() / n;
    let pop_sd = (p.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    Some(Screens {
        bids: p.len(),
        cv: if mean > 0.0 { sd / mean } else { 0.0 },
        rd: (lsd > 0.0).then(|| (p[1] - p[0]) / lsd),
        spread: if p[0] > 0.0 {
            p[p.len() - 1] / p[0] - 1.0
        } else {
            0.0
        },
        skewness: if pop_sd > 0.0 {
            m3 / pop_sd.powi(3)
        } else {
            0.0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bid(id: &str, org: &str, price: i64, device: &str, ip: &str, creator: &str) -> BidFacts {
        BidFacts {
            bid_id: id.into(),
            org_id: org.into(),
            org_name: format!("{org} 公司"),
            lot_no: 1,
            price_fen: price,
            device_fingerprint: device.into(),
            client_ip: ip.into(),
            other_ips: Vec::new(),
            user_agent: "ua".into(),
            creators: vec![creator.into()],
            bidder_key_id: format!("key-{org}"),
            deposit_account: None,
            owner: Owner::default(),
        }
    }

    #[test]
    fn r_col_7_one_representative_one_controller_or_control_within_a_lot() {
        let owned = |id: &str, lot: i64, rep: &str, controller: &str| {
            let mut b = bid(id, id, 100, &format!("d-{id}"), "", &format!("c-{id}"));
            b.lot_no = lot;
            b.owner = Owner {
                credit_code: format!("code-{id}"),
                legal_rep_name: format!("name-{rep}"),
                legal_rep_tag: rep.into(),
                controller_name: format!("name-{controller}"),
                controller_key: controller.into(),
            };
            b
        };
        let kinds = |bids: &[BidFacts]| {
            let mut k: Vec<(&str, String)> = relations(bids)
                .into_iter()
                .map(|f| {
                    (
                        f.kind,
                        f.evidence["value"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            k.sort();
            k
        };
        // Same representative, in one lot only.
        assert_eq!(
            kinds(&[
                owned("a", 1, "r1", ""),
                owned("b", 1, "r1", ""),
                owned("c", 2, "r1", "")
            ]),
            [("same_legal_rep", "name-r1".to_string())]
        );
        // b is controlled by a (its company), c by a's representative, d and e by one parent.
        assert_eq!(
            kinds(&[
                owned("a", 1, "r1", ""),
                owned("b", 1, "r2", "org:code-a"),
                owned("c", 1, "r3", "person:r1"),
                owned("d", 1, "r4", "org:parent"),
                owned("e", 1, "r5", "org:parent"),
            ]),
            [
                ("controls", "a 公司 → b 公司".to_string()),
                ("controls", "a 公司 → c 公司".to_string()),
                ("same_controller", "name-org:parent".to_string()),
            ]
        );
        // Nothing declared, nothing found.
        assert!(relations(&[
            bid("x", "x", 1, "d1", "", "c1"),
            bid("y", "y", 2, "d2", "", "c2")
        ])
        .is_empty());
    }

    #[test]
    fn r_col_1_bidders_sharing_a_device_an_address_or_an_author_are_grouped() {
        let bids = [
            bid("b1", "o1", 100, "dev-A", "10.0.0.5", "张伟"),
            bid("b2", "o2", 105, "dev-A", "10.0.0.5", "李娜"),
            bid("b3", "o3", 110, "dev-C", "127.0.0.1", "张伟"),
            bid("b4", "o4", 120, "dev-D", "127.0.0.1", "王磊"),
        ];
        let found = first_hand(&bids);
        let kinds: Vec<(&str, Vec<String>)> =
            found.iter().map(|f| (f.kind, f.bids.clone())).collect();
        assert_eq!(
            kinds,
            [
                ("same_device", vec!["b1".to_string(), "b2".into()]),
                ("same_ip", vec!["b1".into(), "b2".into()]),
                ("same_creator", vec!["b1".into(), "b3".into()]),
            ],
            "loopback says nothing; each bidder its own key"
        );
        assert_eq!(found[0].evidence["value"], "dev-A");
        // One bidder's two bids are no group.
        let mut same_org = bids.clone();
        same_org[1].org_id = "o1".into();
        assert!(first_hand(&same_org)
            .iter()
            .all(|f| f.kind != "same_device"));

        // Sealed from different addresses, but the third bidder obtained the documents
        // and decrypted from the first's, and the fourth decrypted from it too.
        let mut apart = bids.clone();
        apart[1].client_ip = "10.0.0.6".into();
        apart[2].other_ips = vec!["10.0.0.5".into(), "10.0.0.5".into()];
        apart[3].other_ips = vec!["127.0.0.1".into(), "10.0.0.5".into()];
        let ips: Vec<(Vec<String>, serde_json::Value)> = first_hand(&apart)
            .into_iter()
            .filter(|f| f.kind == "same_ip")
            .map(|f| (f.bids, f.evidence["value"].clone()))
            .collect();
        assert_eq!(
            ips,
            [(
                vec!["b1".to_string(), "b3".into(), "b4".into()],
                serde_json::json!("10.0.0.5")
            )]
        );
    }

    #[test]
    fn r_col_6_deposits_from_one_account_are_grouped_and_guarantees_say_nothing() {
        let mut bids = [
            bid("b1", "o1", 100, "d1", "", "a"),
            bid("b2", "o2", 105, "d2", "", "b"),
            bid("b3", "o3", 110, "d3", "", "c"),
        ];
        bids[0].deposit_account = Some("182202100900123456".into());
        bids[2].deposit_account = Some("182202100900123456".into());
        let found: Vec<Finding> = first_hand(&bids)
            .into_iter()
            .filter(|f| f.kind == "same_account")
            .collect();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, "R-COL-6");
        assert_eq!(found[0].bids, vec!["b1".to_string(), "b3".into()]);
        bids[2].deposit_account = None;
        assert!(first_hand(&bids).iter().all(|f| f.kind != "same_account"));
    }

    #[test]
    fn r_col_4_identical_prices_equal_steps_and_equal_ratios() {
        let b = |id: &str, org: &str, price: i64| bid(id, org, price, id, "", "");
        let kinds = |bids: &[BidFacts]| -> Vec<&'static str> {
            price_patterns(bids).iter().map(|f| f.kind).collect()
        };
        assert_eq!(
            kinds(&[
                b("b1", "o1", 100_000),
                b("b2", "o2", 103_000),
                b("b3", "o3", 106_000)
            ]),
            ["equal_steps"]
        );
        assert_eq!(
            kinds(&[
                b("b1", "o1", 100_000),
                b("b2", "o2", 110_000),
                b("b3", "o3", 121_000)
            ]),
            ["equal_ratios"]
        );
        assert_eq!(
            kinds(&[
                b("b1", "o1", 100_000),
                b("b2", "o2", 100_000),
                b("b3", "o3", 131_000)
            ]),
            ["identical_prices"]
        );
        assert!(kinds(&[
            b("b1", "o1", 100_000),
            b("b2", "o2", 104_000),
            b("b3", "o3", 131_000)
        ])
        .is_empty());
        // Covers 4 % apart above the winner, honest bids between: still found, and only
        // the three.
        let found = price_patterns(&[
            b("w", "o1", 1_000_000),
            b("h1", "o4", 1_013_377),
            b("c1", "o2", 1_040_000),
            b("h2", "o5", 1_052_911),
            b("c2", "o3", 1_080_000),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, "equal_steps");
        assert_eq!(found[0].bids, ["w", "c1", "c2"]);
        // One bidder's own bids in steps are no cartel; 0.02 % off is no step.
        assert!(kinds(&[
            b("b1", "o1", 100_000),
            b("b2", "o1", 103_000),
            b("b3", "o3", 106_000)
        ])
        .is_empty());
        assert!(kinds(&[
            b("b1", "o1", 1_000_000),
            b("b2", "o2", 1_030_000),
            b("b3", "o3", 1_060_212)
        ])
        .is_empty());
    }

    #[test]
    fn the_screens_of_a_lot() {
        assert_eq!(screens(&[100, 200]), None);
        let s = screens(&[100, 110, 120, 130]).unwrap();
        assert_eq!(s.bids, 4);
        assert!((s.spread - 0.3).abs() < 1e-9);
        assert!((s.cv - 12.909_944 / 115.0).abs() < 1e-6, "{}", s.cv);
        assert!(s.skewness.abs() < 1e-9);
        assert!(
            (s.rd.unwrap() - 1.0).abs() < 1e-9,
            "10 over the losers' sd of 10"
        );
    }

    #[test]
    fn a_findings_key_does_not_depend_on_the_bids_order() {
        let mut f = first_hand(&[
            bid("b1", "o1", 1, "dev", "", ""),
            bid("b2", "o2", 1, "dev", "", ""),
        ])
        .remove(0);
        let k = f.key();
        f.bids.reverse();
        assert_eq!(f.key(), k);
    }

    #[test]
    fn red_flags_single_bid_all_but_the_winner_out_and_the_lowest_out() {
        let b = |id: &str, org: &str, price: i64| bid(id, org, price, id, "", "");
        let bids = [b("b1", "o1", 100), b("b2", "o2", 120), b("b3", "o3", 130)];
        let mut outcome = Outcome::default();
        outcome.winners.insert(1, "b2".into());
        assert!(red_flags(&bids, &outcome).is_empty());
        outcome.disqualified.insert("b1".into());
        outcome.price_only.insert(1);
        let kinds: Vec<&str> = red_flags(&bids, &outcome).iter().map(|f| f.kind).collect();
        assert_eq!(kinds, ["lowest_bid_disqualified"], "b3 still stands");
        outcome.disqualified.insert("b3".into());
        let kinds: Vec<&str> = red_flags(&bids, &outcome).iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            ["all_except_winner_disqualified", "lowest_bid_disqualified"]
        );
        outcome.price_only.clear();
        let flags = red_flags(&bids, &outcome);
        assert_eq!(flags.len(), 1, "R036 is for price-only awards");
        assert_eq!(flags[0].evidence["value"], 2);
        assert_eq!(
            red_flags(&bids[..1], &Outcome::default())[0].kind,
            "single_bid"
        );
    }

    #[test]
    fn the_r8_quantile_as_statrs_computes_it() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        // h = (5 + 1/3)·0.25 + 1/3 = 1.6667: 1 + 0.6667·(2 − 1)
        assert!((quantile(&v, 0.25) - 1.666_666_7).abs() < 1e-6);
        assert!((quantile(&v, 0.75) - 4.333_333_3).abs() < 1e-6);
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        assert_eq!(quantile(&[7.0], 0.25), 7.0);
    }

    fn process(id: &str, buyer: &str, prices: &[(&str, i64, bool)], winner: &str) -> Process {
        Process {
            tender_id: id.into(),
            lot_no: 1,
            buyer: buyer.into(),
            procuring_entity: "agency".into(),
            region: String::new(),
            bids: prices
                .iter()
                .map(|(org, p, d)| (format!("{id}-{org}"), org.to_string(), *p, *d))
                .collect(),
            winner: Some(format!("{id}-{winner}")),
        }
    }

    #[test]
    fn r024_r058_r038_across_tenders() {
        // Differences of 5 %, 6 %, 7 %, 6 %, 5 %, 6 % and one of 0.5 % and one of 40 %.
        let ps: Vec<Process> = [50, 60, 70, 60, 50, 60, 5, 400]
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let id = format!("t{i}");
                process(
                    &id,
                    "school",
                    &[("a", 1000, false), ("b", 1000 + d, false)],
                    "a",
                )
            })
            .collect();
        let flags = cross_flags(&ps);
        assert_eq!(flags.processes, 8);
        let at = |v: &[ProcessFlag]| v.iter().map(|f| f.tender_id.clone()).collect::<Vec<_>>();
        assert_eq!(at(&flags.r024), ["t6"], "{:?}", flags.meta);
        assert_eq!(at(&flags.r058), ["t7"], "{:?}", flags.meta);
        assert_eq!(flags.r024[0].bidders, ["a", "b"]);
        assert_eq!(flags.r058[0].bidders, ["a"]);
    }

    #[test]
    fn r038_a_buyer_that_disqualifies_far_more_than_the_others() {
        // Ten buyers disqualify 0–2 of 10 bids; one disqualifies 8.
        let with = |buyer: &str, disqualified: usize| Process {
            tender_id: format!("t-{buyer}"),
            lot_no: 1,
            buyer: buyer.into(),
            procuring_entity: format!("agency-{buyer}"),
            region: String::new(),
            bids: (0..10)
                .map(|i| {
                    (
                        format!("{buyer}-{i}"),
                        format!("org{i}"),
                        100 + i as i64,
                        i < disqualified,
                    )
                })
                .collect(),
            winner: None,
        };
        let mut ps: Vec<Process> = [0, 1, 1, 2, 1, 0, 1, 2, 1, 1]
            .iter()
            .enumerate()
            .map(|(i, d)| with(&format!("b{i}"), *d))
            .collect();
        ps.push(with("hospital", 8));
        let flags = cross_flags(&ps);
        let buyers: Vec<&str> = flags
            .r038
            .iter()
            .filter(|f| f.group == "buyer")
            .map(|f| f.org_id.as_str())
            .collect();
        assert_eq!(buyers, ["hospital"], "{:?}", flags.meta);
        assert!((flags.r038[0].value - 0.8).abs() < 1e-9);
    }
}
