//! The expert draw (专家抽取, R-EVAL-1, R-EVAL-2): a pure, deterministic function from
//! plain data — the pool snapshot, the requirement, the conflicts, the ledger head and the
//! finance supervisor's nonce — to a panel, and a `DrawRecord` from which anyone can
//! replay it. No database, no clock, no OS randomness: see docs/draw.md.
//!
//! - seed = SHA-256(ledger head as its 64 ASCII hex characters || the nonce's UTF-8 bytes);
//! - the eligible candidates, sorted by id, are shuffled by a Fisher–Yates driven by
//!   ChaCha20 (`rand_chacha` 0.3.1, key = seed, stream 0) through `next_u64` with
//!   rejection sampling — our own loop, so the order does not depend on `rand`'s
//!   `gen_range` or `shuffle`, and can be reimplemented from the document alone;
//! - candidates in the preferred region (if any) come first, each group keeping its
//!   shuffled order; the panel is the first k, and a top-up after declines takes the next.
//!
//! A ledger event of kind `experts_drawn` carries a `DrawRecord` as its body.

use std::collections::{BTreeMap, BTreeSet};

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ledger::Ledger;

/// The algorithm a record was drawn with; replay refuses any other.
pub const ALGORITHM: &str = "kaibiao-draw-v1";

/// The ledger event kind whose body is a `DrawRecord`.
pub const EVENT_KIND: crate::ledger::Kind = crate::ledger::Kind::ExpertsDrawn;

/// 10,000,000 yuan (1000万) in fen: at or above it the committee has at least 7 (R-EVAL-1).
pub const LARGE_BUDGET_FEN: i64 = 1_000_000_000;

/// One expert of the pool as the draw sees it: ids only, never a name (R-EVAL-2 keeps
/// members' names secret until the result is announced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: String,
    pub specialties: Vec<String>,
    pub region: String,
    /// The organisation employing the expert, when it is one of ours.
    #[serde(default)]
    pub employer_org_id: Option<String>,
    /// Organisations the expert declared ties to (former employer, relatives, shares...).
    #[serde(default)]
    pub ties: Vec<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// What the tender needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub specialty: String,
    /// Experts of this region are drawn first; others only when it runs short.
    #[serde(default)]
    pub region: Option<String>,
    /// The lot's (or project's) budget in fen.
    pub budget_fen: i64,
    /// Complex, or of large social impact (R-EVAL-1).
    #[serde(default)]
    pub complex: bool,
    /// The committee's size; by default the least R-EVAL-1 allows (5, or 7).
    #[serde(default)]
    pub committee_size: Option<u32>,
    /// Seats taken by the purchaser's representatives (not drawn).
    #[serde(default)]
    pub purchaser_representatives: u32,
    /// The panel rule of the tender's procurement method (the method table,
    /// `tender::methods`); absent in records made before the table, which are tendering's
    /// (R-EVAL-1, [`PanelRule::tendering`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel: Option<PanelRule>,
}

/// How large a panel must be and who may sit on it, as the procurement method says:
/// tendering's committee (R-EVAL-1: 5, or 7 from 10 million yuan or when complex) or a
/// negotiation's, consultation's or enquiry's panel (R-METH-2: 3, or 5 from the
/// open-tendering threshold). Resolved from the method table when the draw is requested
/// and recorded with the requirement, so that a replay needs nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelRule {
    /// The rule's code in RULES.md, named in refusals ("R-EVAL-1").
    pub rule: String,
    pub min_size: u32,
    /// The minimum of a large project; `min_size` when the method knows none.
    pub large_min_size: u32,
    /// A project is large from this budget (fen), when the method says so.
    #[serde(default)]
    pub large_from_fen: Option<i64>,
    /// A complex project, or one of large social impact, is large too.
    #[serde(default)]
    pub large_if_complex: bool,
    /// The size must be odd.
    pub odd: bool,
    /// Experts at least this fraction of the panel: `[numerator, denominator]`.
    pub experts_at_least: [u32; 2],
    /// Whether the purchaser's representatives may take seats.
    pub purchaser_reps_allowed: bool,
}

impl PanelRule {
    /// R-EVAL-1 (O87 art 47, V): at least 5, odd, experts at least two thirds; at least 7
    /// from 10,000,000 yuan or for a complex project. The rule of records made before the
    /// method table, and of tendering in the shipped table.
    pub fn tendering() -> PanelRule {
        PanelRule {
            rule: "R-EVAL-1".into(),
            min_size: 5,
            large_min_size: 7,
            large_from_fen: Some(LARGE_BUDGET_FEN),
            large_if_complex: true,
            odd: true,
            experts_at_least: [2, 3],
            purchaser_reps_allowed: true,
        }
    }
}

/// Organisations whose people may not sit (R-EVAL-2 and the declared-ties rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflicts {
    pub bidder_org_ids: Vec<String>,
    pub purchaser_org_id: String,
    pub agency_org_id: String,
}

/// Everything the draw depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawInput {
    pub tender_id: String,
    pub pool: Vec<Candidate>,
    pub requirement: Requirement,
    pub conflicts: Conflicts,
    /// The tender ledger's head when the draw was made: 64 lower-case hex characters.
    pub ledger_head: String,
    /// The finance supervisor's nonce, taken as its exact UTF-8 bytes.
    pub nonce: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    Inactive,
    NoSpecialty,
    EmployedByAgency,
    EmployedByPurchaser,
    EmployedByBidder,
    TiedToPurchaser,
    TiedToBidder,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    pub id: String,
    pub reasons: Vec<Exclusion>,
}

/// A draw as recorded in the ledger (`experts_drawn`): its inputs and every result, so
/// `replay` can recompute and compare them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawRecord {
    pub algorithm: String,
    pub input: DrawInput,
    /// hex(SHA-256(ledger_head || nonce)).
    pub seed: String,
    pub committee_size: u32,
    pub experts_needed: u32,
    /// Every pool member not eligible, by id, with why.
    pub excluded: Vec<Excluded>,
    /// The eligible ids in draw order.
    pub order: Vec<String>,
    /// Experts who declined, in the order they declined; each was offered a seat.
    pub declined: Vec<String>,
    /// The experts drawn: the first `experts_needed` of `order` that did not decline.
    pub panel: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawError {
    #[error("评标委员会人数不符合规定 / committee size not allowed: {0}")]
    CommitteeInvalid(String),
    #[error("事件链头不是 64 位小写十六进制 / ledger head is not 64 lower-case hex characters")]
    BadLedgerHead,
    #[error("随机数为空 / the draw nonce is empty")]
    BadNonce,
    #[error(
        "符合条件的专家不足:需要 {needed} 名,仅有 {eligible} 名 / pool too small: {needed} experts needed, {eligible} eligible"
    )]
    PoolTooSmall { needed: u32, eligible: usize },
    #[error("专家 {0} 未被抽中,不能记为拒绝 / expert {0} was never offered a seat, so cannot have declined")]
    DeclineNotOffered(String),
    #[error("专家 {0} 重复出现在专家库中 / expert {0} appears twice in the pool")]
    DuplicateCandidate(String),
    #[error("不支持的抽取算法 / unknown draw algorithm {0}")]
    UnknownAlgorithm(String),
    #[error("重算结果与记录不符:{0} / replay does not match the record: {0}")]
    Mismatch(&'static str),
    #[error("抽取所用事件链头不在本事件之前 / the draw's ledger head is not an earlier event of this ledger")]
    HeadNotInLedger,
    #[error("抽取记录不是本项目的 / the draw record is for tender {0}")]
    OtherTender(String),
    #[error("抽取记录格式错误 / malformed draw record: {0}")]
    Malformed(String),
}

impl DrawError {
    /// A stable code for clients and logs.
    pub fn code(&self) -> &'static str {
        match self {
            DrawError::CommitteeInvalid(_) => "COMMITTEE_INVALID",
            DrawError::BadLedgerHead => "BAD_LEDGER_HEAD",
            DrawError::BadNonce => "BAD_NONCE",
            DrawError::PoolTooSmall { .. } => "POOL_TOO_SMALL",
            DrawError::DeclineNotOffered(_) => "DECLINE_NOT_OFFERED",
            DrawError::DuplicateCandidate(_) => "DUPLICATE_CANDIDATE",
            DrawError::UnknownAlgorithm(_) => "UNKNOWN_ALGORITHM",
            DrawError::Mismatch(_) => "DRAW_MISMATCH",
            DrawError::HeadNotInLedger => "HEAD_NOT_IN_LEDGER",
            DrawError::OtherTender(_) => "OTHER_TENDER",
            DrawError::Malformed(_) => "MALFORMED_DRAW",
        }
    }
}

/// R-EVAL-1 (tendering) and R-METH-2 (negotiation, consultation, enquiry): the panel's
/// size and how many of it are drawn experts, under the requirement's panel rule
/// (tendering's when the requirement names none).
pub fn committee(req: &Requirement) -> Result<(u32, u32), DrawError> {
    let tendering;
    let rule = match &req.panel {
        Some(rule) => rule,
        None => {
            tendering = PanelRule::tendering();
            &tendering
        }
    };
    let code = &rule.rule;
    let large = rule.large_from_fen.is_some_and(|f| req.budget_fen >= f)
        || (rule.large_if_complex && req.complex);
    let min = if large {
        rule.large_min_size.max(rule.min_size)
    } else {
        rule.min_size
    };
    let size = req.committee_size.unwrap_or(min);
    if size < min {
        return Err(DrawError::CommitteeInvalid(format!(
            "{size} < {min} ({code})"
        )));
    }
    if rule.odd && size.is_multiple_of(2) {
        return Err(DrawError::CommitteeInvalid(format!(
            "{size} is even ({code})"
        )));
    }
    let reps = req.purchaser_representatives;
    if reps > 0 && !rule.purchaser_reps_allowed {
        return Err(DrawError::CommitteeInvalid(format!(
            "no seat for the purchaser's representatives ({code})"
        )));
    }
    let experts = size.saturating_sub(reps);
    // Experts at least num/den of the panel: den × experts ≥ num × size, in integers.
    let [num, den] = rule.experts_at_least;
    if u64::from(den) * u64::from(experts) < u64::from(num) * u64::from(size) {
        return Err(DrawError::CommitteeInvalid(format!(
            "{experts} experts of {size} is under {num}/{den} ({code})"
        )));
    }
    Ok((size, experts))
}

/// hex(SHA-256(ledger_head's ASCII hex || nonce's UTF-8 bytes)).
pub fn seed(ledger_head: &str, nonce: &str) -> Result<[u8; 32], DrawError> {
    let hex_ok = ledger_head.len() == 64
        && ledger_head
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex_ok {
        return Err(DrawError::BadLedgerHead);
    }
    if nonce.is_empty() {
        return Err(DrawError::BadNonce);
    }
    let mut h = Sha256::new();
    h.update(ledger_head.as_bytes());
    h.update(nonce.as_bytes());
    Ok(h.finalize().into())
}

/// A uniform integer in `0..n` (n ≥ 1) from ChaCha20's `next_u64`: draw x, reject it while
/// x ≥ n·⌊2⁶⁴/n⌋, return x mod n.
fn below(rng: &mut ChaCha20Rng, n: u64) -> u64 {
    let zone = (1u128 << 64) / u128::from(n) * u128::from(n);
    loop {
        let x = rng.next_u64();
        if u128::from(x) < zone {
            return x % n;
        }
    }
}

/// Fisher–Yates (Durstenfeld): for i from len−1 down to 1, swap item i with item
/// `below(i + 1)`.
pub fn shuffle<T>(items: &mut [T], seed: [u8; 32]) {
    let mut rng = ChaCha20Rng::from_seed(seed);
    for i in (1..items.len()).rev() {
        let j = below(&mut rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

fn exclusions(c: &Candidate, req: &Requirement, conflicts: &Conflicts) -> Vec<Exclusion> {
    let bidders: BTreeSet<&str> = conflicts
        .bidder_org_ids
        .iter()
        .map(|s| s.as_str())
        .collect();
    let employer = c.employer_org_id.as_deref();
    let mut why = Vec::new();
    if !c.active {
        why.push(Exclusion::Inactive);
    }
    if !c.specialties.contains(&req.specialty) {
        why.push(Exclusion::NoSpecialty);
    }
    if employer == Some(conflicts.agency_org_id.as_str()) {
        why.push(Exclusion::EmployedByAgency);
    }
    if employer == Some(conflicts.purchaser_org_id.as_str()) {
        why.push(Exclusion::EmployedByPurchaser);
    }
    if employer.is_some_and(|e| bidders.contains(e)) {
        why.push(Exclusion::EmployedByBidder);
    }
    if c.ties.contains(&conflicts.purchaser_org_id) {
        why.push(Exclusion::TiedToPurchaser);
    }
    if c.ties.iter().any(|t| bidders.contains(t.as_str())) {
        why.push(Exclusion::TiedToBidder);
    }
    why
}

/// The panel: walk `order`, skipping the declined, until `needed` are seated. Every
/// declined expert must have been reached before the panel filled.
fn seat(order: &[String], declined: &[String], needed: u32) -> Result<Vec<String>, DrawError> {
    let declined_set: BTreeSet<&str> = declined.iter().map(|s| s.as_str()).collect();
    if declined_set.len() != declined.len() {
        return Err(DrawError::Malformed("an expert declined twice".into()));
    }
    let mut panel = Vec::new();
    let mut offered = BTreeSet::new();
    for id in order {
        if panel.len() == needed as usize {
            break;
        }
        offered.insert(id.as_str());
        if !declined_set.contains(id.as_str()) {
            panel.push(id.clone());
        }
    }
    if let Some(d) = declined.iter().find(|d| !offered.contains(d.as_str())) {
        return Err(DrawError::DeclineNotOffered(d.clone()));
    }
    if panel.len() < needed as usize {
        return Err(DrawError::PoolTooSmall {
            needed,
            eligible: order.len() - declined.len(),
        });
    }
    Ok(panel)
}

/// Draws a panel (R-EVAL-1 size, R-EVAL-2 random and free of conflicts).
pub fn draw(input: &DrawInput) -> Result<DrawRecord, DrawError> {
    compute(input, &[])
}

/// Records declines and tops the panel up with the next eligible experts of the same
/// order (R-EVAL-2). `newly_declined` adds to the record's earlier declines.
pub fn top_up(record: &DrawRecord, newly_declined: &[String]) -> Result<DrawRecord, DrawError> {
    replay(record)?;
    let mut declined = record.declined.clone();
    for d in newly_declined {
        if !record.panel.contains(d) {
            return Err(DrawError::DeclineNotOffered(d.clone()));
        }
        declined.push(d.clone());
    }
    compute(&record.input, &declined)
}

fn compute(input: &DrawInput, declined: &[String]) -> Result<DrawRecord, DrawError> {
    let (committee_size, experts_needed) = committee(&input.requirement)?;
    let seed = seed(&input.ledger_head, &input.nonce)?;

    let mut by_id: BTreeMap<&str, &Candidate> = BTreeMap::new();
    for c in &input.pool {
        if by_id.insert(c.id.as_str(), c).is_some() {
            return Err(DrawError::DuplicateCandidate(c.id.clone()));
        }
    }
    // Sorted by id (BTreeMap order: by UTF-8 bytes), so the pool's order does not matter.
    let mut excluded = Vec::new();
    let mut eligible: Vec<&Candidate> = Vec::new();
    for c in by_id.values() {
        let reasons = exclusions(c, &input.requirement, &input.conflicts);
        if reasons.is_empty() {
            eligible.push(c);
        } else {
            excluded.push(Excluded {
                id: c.id.clone(),
                reasons,
            });
        }
    }
    if eligible.len() < experts_needed as usize {
        return Err(DrawError::PoolTooSmall {
            needed: experts_needed,
            eligible: eligible.len(),
        });
    }
    shuffle(&mut eligible, seed);
    // The preferred region first; a stable partition keeps the shuffled order in each part.
    let (mut order, rest): (Vec<&Candidate>, Vec<&Candidate>) = match &input.requirement.region {
        Some(r) => eligible.into_iter().partition(|c| c.region == *r),
        None => (eligible, Vec::new()),
    };
    order.extend(rest);
    let order: Vec<String> = order.into_iter().map(|c| c.id.clone()).collect();
    let panel = seat(&order, declined, experts_needed)?;

    Ok(DrawRecord {
        algorithm: ALGORITHM.into(),
        input: input.clone(),
        seed: hex::encode(seed),
        committee_size,
        experts_needed,
        excluded,
        order,
        declined: declined.to_vec(),
        panel,
    })
}

/// Recomputes a record from its inputs and declines and compares every result.
pub fn replay(record: &DrawRecord) -> Result<(), DrawError> {
    if record.algorithm != ALGORITHM {
        return Err(DrawError::UnknownAlgorithm(record.algorithm.clone()));
    }
    let again = compute(&record.input, &record.declined)?;
    let checks: [(&'static str, bool); 6] = [
        ("seed", again.seed == record.seed),
        (
            "committee_size",
            again.committee_size == record.committee_size
                && again.experts_needed == record.experts_needed,
        ),
        ("excluded", again.excluded == record.excluded),
        ("order", again.order == record.order),
        ("panel", again.panel == record.panel),
        ("declined", again.declined == record.declined),
    ];
    match checks.iter().find(|(_, ok)| !ok) {
        Some((field, _)) => Err(DrawError::Mismatch(field)),
        None => Ok(()),
    }
}

/// One `experts_drawn` event's replay.
#[derive(Debug)]
pub struct LedgerDraw {
    pub seq: i64,
    pub result: Result<DrawRecord, DrawError>,
}

/// Replays every `experts_drawn` event of a ledger (whose chain the caller has verified):
/// each body must be a `DrawRecord` for this tender that replays, drawn from the hash of
/// an earlier event of the same ledger.
pub fn replay_ledger(ledger: &Ledger) -> Vec<LedgerDraw> {
    let mut earlier: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    for e in &ledger.events {
        if e.kind == EVENT_KIND {
            let result = serde_json::from_value::<DrawRecord>(e.body.clone())
                .map_err(|err| DrawError::Malformed(err.to_string()))
                .and_then(|r| {
                    if r.input.tender_id != ledger.tender_id {
                        return Err(DrawError::OtherTender(r.input.tender_id.clone()));
                    }
                    if !earlier.contains(r.input.ledger_head.as_str()) {
                        return Err(DrawError::HeadNotInLedger);
                    }
                    replay(&r).map(|()| r)
                });
            out.push(LedgerDraw { seq: e.seq, result });
        }
        earlier.insert(e.hash.as_str());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chacha20_is_the_rfc_8439_keystream() {
        // RFC 8439 A.1 test vector #1: all-zero key and nonce, block 0, keystream
        // 76 b8 e0 ad a0 f1 3d 90 40 5d 6a e5 53 86 bd 28 ...; next_u64 reads it little-endian.
        let mut rng = ChaCha20Rng::from_seed([0; 32]);
        assert_eq!(
            rng.next_u64(),
            u64::from_le_bytes([0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90])
        );
        assert_eq!(
            rng.next_u64(),
            u64::from_le_bytes([0x40, 0x5d, 0x6a, 0xe5, 0x53, 0x86, 0xbd, 0x28])
        );
    }

    #[test]
    fn seed_is_sha256_of_head_hex_then_nonce() {
        let head = "ab".repeat(32);
        let s = seed(&head, "42").unwrap();
        let mut h = Sha256::new();
        h.update(format!("{head}42").as_bytes());
        assert_eq!(s, <[u8; 32]>::from(h.finalize()));
        assert_eq!(seed("AB", "42"), Err(DrawError::BadLedgerHead));
        assert_eq!(seed(&"AB".repeat(32), "42"), Err(DrawError::BadLedgerHead));
        assert_eq!(seed(&head, ""), Err(DrawError::BadNonce));
    }

    #[test]
    fn the_shuffle_is_a_permutation_and_rejection_stays_uniform_enough() {
        let mut counts = [[0u32; 4]; 4];
        for n in 0..4000u32 {
            let mut v = [0usize, 1, 2, 3];
            let mut s = [0u8; 32];
            s[..4].copy_from_slice(&n.to_le_bytes());
            shuffle(&mut v, s);
            let mut sorted = v;
            sorted.sort();
            assert_eq!(sorted, [0, 1, 2, 3]);
            for (pos, item) in v.iter().enumerate() {
                counts[pos][*item] += 1;
            }
        }
        // 1000 expected in each cell; 6 sigma is about 165.
        for row in counts {
            for c in row {
                assert!((800..1200).contains(&c), "{counts:?}");
            }
        }
    }

    #[test]
    fn r_eval_1_committee_size_and_two_thirds_experts() {
        let req = |budget_fen, complex, size, reps| Requirement {
            specialty: "x".into(),
            region: None,
            budget_fen,
            complex,
            committee_size: size,
            purchaser_representatives: reps,
            panel: None,
        };
        assert_eq!(committee(&req(999_999_999, false, None, 0)), Ok((5, 5)));
        assert_eq!(
            committee(&req(LARGE_BUDGET_FEN, false, None, 0)),
            Ok((7, 7))
        );
        assert_eq!(committee(&req(1, true, None, 2)), Ok((7, 5)));
        assert_eq!(committee(&req(1, false, None, 1)), Ok((5, 4)));
        assert_eq!(committee(&req(1, false, Some(9), 3)), Ok((9, 6)));
        for bad in [
            req(1, false, None, 2),                   // 3 of 5 < 2/3
            req(1, false, Some(6), 0),                // even
            req(1, false, Some(3), 0),                // under 5
            req(LARGE_BUDGET_FEN, false, Some(5), 0), // under 7
            req(1, false, None, 9),                   // more representatives than seats
        ] {
            assert_eq!(committee(&bad).unwrap_err().code(), "COMMITTEE_INVALID");
        }
    }

    /// A negotiation's, consultation's or enquiry's panel (74号 art 7, 214号 art 14): 3
    /// or more, odd, 5 or more from the open-tendering threshold (here 4,000,000 yuan).
    fn negotiation() -> PanelRule {
        PanelRule {
            rule: "R-METH-2".into(),
            min_size: 3,
            large_min_size: 5,
            large_from_fen: Some(400_000_000),
            large_if_complex: false,
            odd: true,
            experts_at_least: [2, 3],
            purchaser_reps_allowed: true,
        }
    }

    #[test]
    fn r_meth_2_a_negotiation_panel_of_three_odd_with_two_thirds_experts() {
        let req = |budget_fen, complex, size, reps| Requirement {
            specialty: "x".into(),
            region: None,
            budget_fen,
            complex,
            committee_size: size,
            purchaser_representatives: reps,
            panel: Some(negotiation()),
        };
        // 3 by default, 3 and 5 allowed, 4 is even.
        assert_eq!(committee(&req(1, false, None, 0)), Ok((3, 3)));
        assert_eq!(committee(&req(1, false, Some(3), 0)), Ok((3, 3)));
        assert_eq!(committee(&req(1, false, Some(5), 0)), Ok((5, 5)));
        let even = committee(&req(1, false, Some(4), 0)).unwrap_err();
        assert_eq!(even.code(), "COMMITTEE_INVALID");
        assert!(even.to_string().contains("R-METH-2"), "{even}");
        assert_eq!(
            committee(&req(1, false, Some(1), 0)).unwrap_err().code(),
            "COMMITTEE_INVALID"
        );
        // Experts: 2 of 3 is two thirds, 1 of 3 is not.
        assert_eq!(committee(&req(1, false, Some(3), 1)), Ok((3, 2)));
        assert_eq!(
            committee(&req(1, false, Some(3), 2)).unwrap_err().code(),
            "COMMITTEE_INVALID"
        );
        // From the open-tendering threshold, 5 or more; complexity alone does not count.
        assert_eq!(committee(&req(400_000_000, false, None, 0)), Ok((5, 5)));
        assert_eq!(
            committee(&req(400_000_000, false, Some(3), 0))
                .unwrap_err()
                .code(),
            "COMMITTEE_INVALID"
        );
        assert_eq!(committee(&req(399_999_999, true, None, 0)), Ok((3, 3)));
        // Without a seat for the purchaser.
        let mut no_reps = req(1, false, Some(3), 1);
        no_reps.panel.as_mut().unwrap().purchaser_reps_allowed = false;
        assert_eq!(committee(&no_reps).unwrap_err().code(), "COMMITTEE_INVALID");
        no_reps.purchaser_representatives = 0;
        assert_eq!(committee(&no_reps), Ok((3, 3)));
    }

    #[test]
    fn r_eval_1_the_tendering_rule_named_is_the_rule_of_records_without_one() {
        for (budget, complex, size, reps) in [
            (1, false, None, 0),
            (LARGE_BUDGET_FEN, false, None, 1),
            (1, true, Some(9), 3),
            (1, false, Some(3), 0),
            (1, false, None, 2),
        ] {
            let mut req = Requirement {
                specialty: "x".into(),
                region: None,
                budget_fen: budget,
                complex,
                committee_size: size,
                purchaser_representatives: reps,
                panel: None,
            };
            let without = committee(&req);
            req.panel = Some(PanelRule::tendering());
            assert_eq!(committee(&req), without);
        }
        // A record without a rule keeps its JSON: no `panel` key.
        let json = serde_json::to_value(&input("n").requirement).unwrap();
        assert!(json.get("panel").is_none(), "{json}");
    }

    #[test]
    fn r_meth_2_a_panel_of_three_replays_and_its_rule_cannot_be_swapped() {
        let mut inp = input("磋商 0427");
        inp.requirement.panel = Some(negotiation());
        let r = draw(&inp).unwrap();
        assert_eq!((r.committee_size, r.panel.len()), (3, 3));
        assert_eq!(replay(&r), Ok(()));
        // The same record claiming tendering's rule does not replay: 5 seats, not 3.
        let mut swapped = r.clone();
        swapped.input.requirement.panel = Some(PanelRule::tendering());
        assert_eq!(replay(&swapped), Err(DrawError::Mismatch("committee_size")));
    }

    const SPECIALTIES: [&str; 4] = ["it", "construction", "medical", "finance"];
    const REGIONS: [&str; 3] = ["440100", "440300", "440600"];

    /// 36 experts like the demo's: expert ids e01..e36, two specialties each, three
    /// regions, some employed by the organisations o1..o6.
    fn pool() -> Vec<Candidate> {
        (0..36)
            .map(|i| Candidate {
                id: format!("e{:02}", i + 1),
                specialties: vec![
                    SPECIALTIES[i % 4].into(),
                    SPECIALTIES[(i * 3 + 1) % 4].into(),
                ],
                region: REGIONS[i % 3].into(),
                employer_org_id: (i % 5 == 0).then(|| format!("o{}", i % 6 + 1)),
                ties: Vec::new(),
                active: true,
            })
            .collect()
    }

    fn input(nonce: &str) -> DrawInput {
        DrawInput {
            tender_id: "t1".into(),
            pool: pool(),
            requirement: Requirement {
                specialty: "it".into(),
                region: None,
                budget_fen: 300_000_000,
                complex: false,
                committee_size: None,
                purchaser_representatives: 0,
                panel: None,
            },
            conflicts: Conflicts {
                bidder_org_ids: vec!["b1".into(), "b2".into()],
                purchaser_org_id: "p1".into(),
                agency_org_id: "a1".into(),
            },
            ledger_head: "3f".repeat(32),
            nonce: nonce.into(),
        }
    }

    #[test]
    fn r_eval_2_same_ledger_head_and_nonce_give_the_same_panel() {
        let a = draw(&input("7d41c0e2")).unwrap();
        let mut shuffled_pool = input("7d41c0e2");
        shuffled_pool.pool.reverse();
        let b = draw(&shuffled_pool).unwrap();
        assert_eq!(a.order, b.order);
        assert_eq!(a.panel, b.panel);
        assert_eq!(a.panel.len(), 5);
        assert_eq!(replay(&a), Ok(()));
    }

    #[test]
    fn r_eval_2_a_different_nonce_gives_a_different_order() {
        let a = draw(&input("7d41c0e2")).unwrap();
        let b = draw(&input("7d41c0e3")).unwrap();
        assert_eq!(a.seed.len(), 64);
        assert_ne!(a.seed, b.seed);
        assert_ne!(a.order, b.order);
        let mut head = input("7d41c0e2");
        head.ledger_head = "40".repeat(32);
        assert_ne!(draw(&head).unwrap().order, a.order);
    }

    const PINNED_SEED: &str = "fe898830c46d464346343d21a3045d314afa9228e13ad198716258f8ce2645ad";
    const PINNED_ORDER: [&str; 18] = [
        "e10", "e33", "e13", "e17", "e29", "e02", "e14", "e18", "e34", "e26", "e06", "e05", "e30",
        "e21", "e01", "e22", "e09", "e25",
    ];

    /// Pinned (and reproduced by tests/vectors/draw-replay.py, written from docs/draw.md
    /// alone) so that a reimplementation elsewhere can check itself.
    #[test]
    fn r_eval_2_the_documented_vector() {
        let r = draw(&input("7d41c0e2")).unwrap();
        assert_eq!(r.seed, PINNED_SEED);
        assert_eq!(r.order, PINNED_ORDER);
    }

    #[test]
    fn r_eval_2_conflicted_experts_are_never_drawn() {
        let mut base = input("");
        // e01 is employed by the agency, e02 tied to a bidder, e03 tied to the purchaser,
        // e04 employed by a bidder, e05 employed by the purchaser: all know "it".
        for (i, c) in base.pool.iter_mut().take(5).enumerate() {
            c.specialties = vec!["it".into()];
            c.employer_org_id = None;
            match i {
                0 => c.employer_org_id = Some("a1".into()),
                1 => c.ties = vec!["x".into(), "b2".into()],
                2 => c.ties = vec!["p1".into()],
                3 => c.employer_org_id = Some("b1".into()),
                _ => c.employer_org_id = Some("p1".into()),
            }
        }
        let conflicted = ["e01", "e02", "e03", "e04", "e05"];
        for n in 0..500 {
            let mut inp = base.clone();
            inp.nonce = format!("nonce-{n}");
            let r = draw(&inp).unwrap();
            for id in conflicted {
                assert!(
                    !r.order.iter().any(|o| o == id),
                    "{id} drawn with nonce {n}"
                );
            }
        }
        let r = draw(&DrawInput {
            nonce: "x".into(),
            ..base
        })
        .unwrap();
        let why = |id: &str| {
            r.excluded
                .iter()
                .find(|e| e.id == id)
                .map(|e| e.reasons.clone())
                .unwrap()
        };
        assert_eq!(why("e01"), vec![Exclusion::EmployedByAgency]);
        assert_eq!(why("e02"), vec![Exclusion::TiedToBidder]);
        assert_eq!(why("e03"), vec![Exclusion::TiedToPurchaser]);
        assert_eq!(why("e04"), vec![Exclusion::EmployedByBidder]);
        assert_eq!(why("e05"), vec![Exclusion::EmployedByPurchaser]);
        // Everyone is accounted for: eligible or excluded, once.
        assert_eq!(r.order.len() + r.excluded.len(), 36);
    }

    #[test]
    fn r_eval_1_a_panel_of_7_at_10_million_yuan_and_5_below() {
        let mut inp = input("n");
        inp.requirement.budget_fen = LARGE_BUDGET_FEN - 1;
        assert_eq!(draw(&inp).unwrap().panel.len(), 5);
        inp.requirement.budget_fen = LARGE_BUDGET_FEN;
        let r = draw(&inp).unwrap();
        assert_eq!((r.committee_size, r.panel.len()), (7, 7));
        inp.requirement.purchaser_representatives = 2;
        let r = draw(&inp).unwrap();
        assert_eq!((r.committee_size, r.panel.len()), (7, 5));
        inp.requirement.budget_fen = 1;
        inp.requirement.complex = true;
        inp.requirement.purchaser_representatives = 0;
        assert_eq!(draw(&inp).unwrap().panel.len(), 7);
    }

    #[test]
    fn r_eval_2_top_up_after_a_decline_takes_the_next_eligible() {
        let r = draw(&input("n")).unwrap();
        assert_eq!(r.panel, r.order[..5]);
        let second = r.panel[1].clone();
        let t = top_up(&r, std::slice::from_ref(&second)).unwrap();
        assert_eq!(t.declined, vec![second.clone()]);
        let mut expected: Vec<String> = r.order[..6].to_vec();
        expected.retain(|id| *id != second);
        assert_eq!(t.panel, expected);
        assert_eq!(t.order, r.order);
        assert_eq!(replay(&t), Ok(()));
        // The newcomer declines too: the seventh comes in.
        let sixth = r.order[5].clone();
        let t2 = top_up(&t, std::slice::from_ref(&sixth)).unwrap();
        assert_eq!(t2.declined, vec![second, sixth]);
        assert_eq!(t2.panel.last(), Some(&r.order[6]));
        // Someone never offered a seat cannot decline.
        let far = r.order.last().unwrap().clone();
        assert_eq!(
            top_up(&r, std::slice::from_ref(&far)).unwrap_err().code(),
            "DECLINE_NOT_OFFERED"
        );
        let mut forged = t.clone();
        forged.declined.push(far);
        assert_eq!(replay(&forged).unwrap_err().code(), "DECLINE_NOT_OFFERED");
    }

    #[test]
    fn r_eval_2_the_preferred_region_comes_first() {
        let mut inp = input("n");
        inp.requirement.region = Some("440300".into());
        let r = draw(&inp).unwrap();
        let region = |id: &String| {
            inp.pool
                .iter()
                .find(|c| c.id == *id)
                .unwrap()
                .region
                .clone()
        };
        let local = r
            .order
            .iter()
            .take_while(|id| region(id) == "440300")
            .count();
        assert!(local >= 5, "{:?}", r.order);
        assert!(r.order[local..].iter().all(|id| region(id) != "440300"));
        assert!(r.panel.iter().all(|id| region(id) == "440300"));
    }

    #[test]
    fn r_eval_2_a_pool_too_small_is_refused_with_a_stable_code() {
        let mut inp = input("n");
        inp.pool.truncate(8);
        let err = draw(&inp).unwrap_err();
        assert_eq!(err.code(), "POOL_TOO_SMALL");
        assert!(
            matches!(err, DrawError::PoolTooSmall { needed: 5, .. }),
            "{err}"
        );
        // Declines that exhaust the order: also too small (a new panel must be formed).
        let inp = input("n");
        let r = draw(&inp).unwrap();
        let mut declined = r.order.clone();
        declined.truncate(r.order.len() - 4);
        assert_eq!(
            compute(&inp, &declined).unwrap_err().code(),
            "POOL_TOO_SMALL"
        );
    }

    #[test]
    fn a_tampered_record_does_not_replay() {
        let r = draw(&input("n")).unwrap();
        let outsider = r.order[5].clone();
        let mut t = r.clone();
        t.panel[0] = outsider;
        assert_eq!(replay(&t), Err(DrawError::Mismatch("panel")));
        let mut t = r.clone();
        t.order.swap(0, 7);
        assert_eq!(replay(&t), Err(DrawError::Mismatch("order")));
        let mut t = r.clone();
        t.input.nonce = "m".into();
        assert_eq!(replay(&t), Err(DrawError::Mismatch("seed")));
        let mut t = r;
        t.excluded.pop();
        assert_eq!(replay(&t), Err(DrawError::Mismatch("excluded")));
    }
}
