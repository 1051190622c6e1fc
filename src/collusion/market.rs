//! Screens of the market across tenders (pure): who bids with whom (the co-bidding
//! graph and the groups it joins) and who wins where (win rates by purchaser and by
//! region). Each awarded lot counts as a process, as for `rules::cross_flags`.
//!
//! A pair of bidders is an edge of the graph when they met in `CO_MEETINGS` processes or
//! more and one of them almost never bids without the other (`CO_SHARE` of its
//! processes): cover bidders follow the firm they cover. The graph's connected parts of
//! three firms or more are the groups. A win rate is flagged when a firm wins
//! `WIN_MIN` times or more with one purchaser (or in one region) at `WIN_RATE` or more,
//! while elsewhere it wins at most a quarter of what it bids (or bids nowhere else): a
//! purchaser's favourite. Both are for reading: an honest niche market meets as often,
//! and a good firm wins often; the evidence says which processes.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::rules::Process;

/// Meetings from which a pair is an edge.
pub const CO_MEETINGS: usize = 3;
/// The share of one firm's processes the other is in, from which a pair is an edge.
pub const CO_SHARE: f64 = 0.75;
/// Wins with one purchaser or in one region from which a win rate is flagged.
pub const WIN_MIN: usize = 3;
/// The win rate from which it is flagged.
pub const WIN_RATE: f64 = 0.75;
/// The win rate elsewhere at or below which it is.
pub const ELSEWHERE_RATE: f64 = 0.25;

/// Two firms that bid together: an edge of the co-bidding graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoBid {
    /// The two organisations, sorted.
    pub bidders: [String; 2],
    pub meetings: usize,
    /// Processes each bid in.
    pub processes: [usize; 2],
    /// Processes each won when they met.
    pub wins_together: [usize; 2],
    /// The tenders they met in.
    pub tenders: Vec<String>,
}

/// A firm that wins where it bids with one purchaser (`buyer`) or in one region.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WinRate {
    pub org_id: String,
    /// `buyer` or `region`.
    pub group: &'static str,
    pub key: String,
    pub bids: usize,
    pub wins: usize,
    pub rate: f64,
    pub bids_elsewhere: usize,
    pub wins_elsewhere: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Market {
    pub co_bidding: Vec<CoBid>,
    /// Connected parts of the co-bidding graph, three firms or more, each sorted.
    pub bidding_groups: Vec<Vec<String>>,
    pub win_rates: Vec<WinRate>,
}

/// Who won a process: the organisation of its winning bid.
fn winner_org(p: &Process) -> Option<&str> {
    let w = p.winner.as_ref()?;
    p.bids.iter().find(|b| &b.0 == w).map(|b| b.1.as_str())
}

/// The organisations that bid in a process, each once.
fn bidders(p: &Process) -> BTreeSet<&str> {
    p.bids.iter().map(|b| b.1.as_str()).collect()
}

pub fn market(processes: &[Process]) -> Market {
    Market {
        co_bidding: co_bidding(processes),
        win_rates: win_rates(processes),
        ..Default::default()
    }
    .with_groups()
}

impl Market {
    fn with_groups(mut self) -> Self {
        // Union–find over the edges.
        let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
        fn root<'a>(parent: &BTreeMap<&'a str, &'a str>, mut x: &'a str) -> &'a str {
            while let Some(&p) = parent.get(x) {
                if p == x {
                    break;
                }
                x = p;
            }
            x
        }
        for e in &self.co_bidding {
            for b in &e.bidders {
                parent.entry(b.as_str()).or_insert(b.as_str());
            }
            let (ra, rb) = (root(&parent, &e.bidders[0]), root(&parent, &e.bidders[1]));
            if ra != rb {
                parent.insert(ra.max(rb), ra.min(rb));
            }
        }
        let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for &x in parent.keys() {
            groups
                .entry(root(&parent, x))
                .or_default()
                .push(x.to_string());
        }
        self.bidding_groups = groups.into_values().filter(|g| g.len() >= 3).collect();
        self
    }
}

fn co_bidding(processes: &[Process]) -> Vec<CoBid> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    let mut met: BTreeMap<(&str, &str), Vec<&Process>> = BTreeMap::new();
    for p in processes {
        let orgs: Vec<&str> = bidders(p).into_iter().collect();
        for (i, a) in orgs.iter().enumerate() {
            *count.entry(a).or_default() += 1;
            for b in &orgs[i + 1..] {
                met.entry((a, b)).or_default().push(p);
            }
        }
    }
    met.into_iter()
        .filter(|((a, b), ps)| {
            let fewer = count[a].min(count[b]);
            ps.len() >= CO_MEETINGS && ps.len() as f64 >= CO_SHARE * fewer as f64
        })
        .map(|((a, b), ps)| {
            let wins = |o: &str| ps.iter().filter(|p| winner_org(p) == Some(o)).count();
            let mut tenders: Vec<String> = ps.iter().map(|p| p.tender_id.clone()).collect();
            tenders.dedup();
            CoBid {
                bidders: [a.to_string(), b.to_string()],
                meetings: ps.len(),
                processes: [count[a], count[b]],
                wins_together: [wins(a), wins(b)],
                tenders,
            }
        })
        .collect()
}

fn win_rates(processes: &[Process]) -> Vec<WinRate> {
    let mut out = Vec::new();
    for (group, key_of) in [
        (
            "buyer",
            (|p: &Process| p.buyer.clone()) as fn(&Process) -> String,
        ),
        ("region", |p: &Process| p.region.clone()),
    ] {
        // (org, key) → (bids, wins); org → (bids, wins) overall.
        let mut by: BTreeMap<(&str, String), (usize, usize)> = BTreeMap::new();
        let mut all: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for p in processes.iter().filter(|p| p.winner.is_some()) {
            let key = key_of(p);
            if key.is_empty() {
                continue;
            }
            let won = winner_org(p);
            for org in bidders(p) {
                let w = usize::from(won == Some(org));
                let e = by.entry((org, key.clone())).or_default();
                e.0 += 1;
                e.1 += w;
                let a = all.entry(org).or_default();
                a.0 += 1;
                a.1 += w;
            }
        }
        for ((org, key), (bids, wins)) in by {
            let rate = wins as f64 / bids as f64;
            let (bids_elsewhere, wins_elsewhere) = (all[org].0 - bids, all[org].1 - wins);
            let elsewhere_low = bids_elsewhere == 0
                || (wins_elsewhere as f64) <= ELSEWHERE_RATE * bids_elsewhere as f64;
            if wins >= WIN_MIN && rate >= WIN_RATE && elsewhere_low {
                out.push(WinRate {
                    org_id: org.to_string(),
                    group,
                    key,
                    bids,
                    wins,
                    rate,
                    bids_elsewhere,
                    wins_elsewhere,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(id: usize, buyer: &str, region: &str, orgs: &[&str], winner: usize) -> Process {
        Process {
            tender_id: format!("t{id}"),
            lot_no: 1,
            buyer: buyer.into(),
            procuring_entity: "agency".into(),
            region: region.into(),
            bids: orgs
                .iter()
                .enumerate()
                .map(|(i, o)| (format!("t{id}-{i}"), o.to_string(), 100 + i as i64, false))
                .collect(),
            winner: Some(format!("t{id}-{winner}")),
        }
    }

    #[test]
    fn covers_that_follow_a_firm_are_a_group_and_a_purchasers_favourite_is_flagged() {
        let mut ps = Vec::new();
        // A wins four times with purchaser X, B and C covering it each time.
        for i in 0..4 {
            ps.push(process(
                i,
                "X",
                "420202",
                &["A", "B", "C", &format!("h{i}")],
                0,
            ));
        }
        // Elsewhere A bids four times and loses; B and C bid once more each without A.
        for i in 4..8 {
            ps.push(process(i, "Y", "420203", &["A", &format!("h{i}"), "D"], 1));
        }
        ps.push(process(8, "Y", "420203", &["B", "h8", "D"], 1));
        // D meets A four times but bids often without it: no edge; it wins half.
        for i in 9..15 {
            ps.push(process(i, "Z", "420204", &["D", &format!("h{i}")], i % 2));
        }
        let m = market(&ps);
        let edges: Vec<[String; 2]> = m.co_bidding.iter().map(|e| e.bidders.clone()).collect();
        assert!(
            edges.contains(&["A".to_string(), "B".to_string()]),
            "{edges:?}"
        );
        assert!(
            edges.contains(&["B".to_string(), "C".to_string()]),
            "{edges:?}"
        );
        assert!(
            !edges.iter().any(|e| e.contains(&"D".to_string())),
            "{edges:?}"
        );
        let ab = m
            .co_bidding
            .iter()
            .find(|e| e.bidders == ["A", "B"])
            .unwrap();
        assert_eq!(
            (ab.meetings, ab.processes, ab.wins_together),
            (4, [8, 5], [4, 0])
        );
        assert_eq!(m.bidding_groups, vec![vec!["A", "B", "C"]]);
        let flagged: Vec<(&str, &str, &str)> = m
            .win_rates
            .iter()
            .map(|w| (w.org_id.as_str(), w.group, w.key.as_str()))
            .collect();
        // A with X and in X's region; D, winning half with Z, is nobody's favourite.
        assert_eq!(flagged, [("A", "buyer", "X"), ("A", "region", "420202")]);
        let a = &m.win_rates[0];
        assert_eq!(
            (a.bids, a.wins, a.bids_elsewhere, a.wins_elsewhere),
            (4, 4, 4, 0)
        );
    }
}
