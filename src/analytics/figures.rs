//! The figures (pure): the tenders' facts added up, in integers — money in fen, shares
//! and rates in basis points (1/100 of a percent), rounded down.

use serde::Serialize;

use super::repo::TenderFacts;
use crate::org::types::is_sme;

fn bp(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        0
    } else {
        ((part as i128) * 10_000 / (whole as i128)) as i64
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Budget {
    /// The procurement plans in scope.
    pub planned_fen: i64,
    /// Plan money the tenders committed.
    pub committed_fen: i64,
    /// The tenders' lots' budgets.
    pub tendered_fen: i64,
    /// Contracts signed by both parties.
    pub contracted_fen: i64,
    /// Payments made.
    pub paid_fen: i64,
    /// contracted / planned, paid / contracted.
    pub contracted_of_planned_bp: i64,
    pub paid_of_contracted_bp: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Savings {
    /// The awarded lots' budgets and their winning prices.
    pub awarded_budget_fen: i64,
    pub awarded_fen: i64,
    pub saved_fen: i64,
    pub rate_bp: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Sme {
    pub awards: i64,
    pub sme_awards: i64,
    pub awarded_fen: i64,
    pub sme_fen: i64,
    pub share_count_bp: i64,
    pub share_value_bp: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Competition {
    pub tenders: i64,
    pub awarded: i64,
    pub failed: i64,
    pub cancelled: i64,
    /// Lots whose opening closed, the bids read out in them, and those with one bid.
    pub lots_opened: i64,
    pub bids_read_out: i64,
    /// Bids per opened lot, in hundredths (e.g. 325 for 3.25).
    pub bids_per_lot_x100: i64,
    pub single_bid_lots: i64,
    pub single_bid_rate_bp: i64,
}

/// The evaluation panels (R-EVAL-2, R-EVAL-5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Experts {
    pub invitations: i64,
    pub declines: i64,
    pub decline_rate_bp: i64,
    pub scores: i64,
    /// Scores outside the panel's range, given with a reason.
    pub outlier_scores: i64,
    pub outlier_rate_bp: i64,
    /// Seated experts who scored, and their mean minutes from accepting to the last score.
    pub scored_seats: i64,
    pub minutes_to_score_avg: i64,
}

/// Who takes part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Participation {
    /// Distinct organisations with a bid read out; those registered as SMEs.
    pub bidders: i64,
    pub sme_bidders: i64,
    /// Distinct organisations that won a lot.
    pub winners: i64,
    /// Bids read out per bidder, in hundredths.
    pub bids_per_bidder_x100: i64,
}

/// The policies at work in the evaluations and awards (R-POL-2, R-POL-3, R-POL-5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Policy {
    /// Price deductions applied, by kind, and their total.
    pub small_micro_deductions: i64,
    pub consortium_deductions: i64,
    pub domestic_deductions: i64,
    pub deducted_fen: i64,
    /// Lots won by a prison enterprise or a welfare unit for the disabled (declared), and
    /// their value.
    pub special_awards: i64,
    pub special_fen: i64,
    /// R-POL-1: tenders reserved for SMEs and their budgets; the tenders small enough
    /// that they must be (goods and services up to 2,000,000 yuan, works up to
    /// 4,000,000), how many of those are, and the rate.
    pub reserved_tenders: i64,
    pub reserved_budget_fen: i64,
    pub reservable_tenders: i64,
    pub reservable_reserved: i64,
    pub reservation_rate_bp: i64,
}

/// The budget up to which a tender of `category` is reserved for SMEs whole (R-POL-1).
pub fn reservation_ceiling_fen(category: &str) -> i64 {
    if category == "works" {
        400_000_000
    } else {
        200_000_000
    }
}

/// One region's share of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RegionFigures {
    pub code: String,
    pub name: String,
    pub tenders: i64,
    pub tendered_fen: i64,
    pub awarded_fen: i64,
    pub sme_fen: i64,
}

/// One deadline rule's timeliness: of its deadlines that have fallen due or were met,
/// how many were met in time, met late, or are past due and still open. A deadline
/// still open and not yet due is not counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RuleTimeliness {
    /// The rule's code in RULES.md and its name under it (`R-CON-1`, `signing`).
    pub code: &'static str,
    pub name: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub due: i64,
    pub on_time: i64,
    pub late: i64,
    pub overdue: i64,
    /// on_time / due.
    pub on_time_bp: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Figures {
    pub budget: Budget,
    pub savings: Savings,
    pub sme: Sme,
    pub competition: Competition,
    pub experts: Experts,
    pub participation: Participation,
    pub policy: Policy,
    /// Per deadline rule of the stages (`repo::timed_rules`), at the moment asked.
    pub timeliness: Vec<RuleTimeliness>,
    pub regions: Vec<RegionFigures>,
}

/// Each timed rule's deadlines among `tenders`, as they stand at `now`.
fn timeliness(tenders: &[TenderFacts], now: i64) -> Vec<RuleTimeliness> {
    super::repo::timed_rules()
        .into_iter()
        .map(|rule| {
            let info = rule.info();
            let mut r = RuleTimeliness {
                code: info.code,
                name: info.name,
                zh: info.zh,
                en: info.en,
                ..Default::default()
            };
            for d in tenders
                .iter()
                .flat_map(|t| &t.deadlines)
                .filter(|d| d.rule == rule)
            {
                match d.done_at {
                    Some(done) if done < d.due_at => r.on_time += 1,
                    Some(_) => r.late += 1,
                    None if d.due_at <= now => r.overdue += 1,
                    None => continue,
                }
                r.due += 1;
            }
            r.on_time_bp = bp(r.on_time, r.due);
            r
        })
        .collect()
}

/// The figures of `tenders` (and `planned_fen`, the plans in scope), with a row for
/// each of `regions` (code, name); the deadlines as they stand at `now`.
pub fn figures(
    tenders: &[TenderFacts],
    planned_fen: i64,
    regions: &[(String, String)],
    now: i64,
) -> Figures {
    let mut f = Figures {
        timeliness: timeliness(tenders, now),
        ..Figures::default()
    };
    let b = &mut f.budget;
    b.planned_fen = planned_fen;
    for t in tenders {
        b.committed_fen += t.committed_fen;
        b.tendered_fen += t.budget_fen;
        b.contracted_fen += t.contracted_fen;
        b.paid_fen += t.paid_fen;
    }
    b.contracted_of_planned_bp = bp(b.contracted_fen, b.planned_fen);
    b.paid_of_contracted_bp = bp(b.paid_fen, b.contracted_fen);

    let (s, m) = (&mut f.savings, &mut f.sme);
    for a in tenders.iter().flat_map(|t| &t.awards) {
        s.awarded_budget_fen += a.budget_fen;
        s.awarded_fen += a.price_fen;
        m.awards += 1;
        m.awarded_fen += a.price_fen;
        if is_sme(a.size.as_deref()) {
            m.sme_awards += 1;
            m.sme_fen += a.price_fen;
        }
    }
    s.saved_fen = s.awarded_budget_fen - s.awarded_fen;
    s.rate_bp = bp(s.saved_fen, s.awarded_budget_fen);
    m.share_count_bp = bp(m.sme_awards, m.awards);
    m.share_value_bp = bp(m.sme_fen, m.awarded_fen);

    let c = &mut f.competition;
    for t in tenders {
        c.tenders += 1;
        match t.status.as_str() {
            "awarded" => c.awarded += 1,
            "failed" => c.failed += 1,
            "cancelled" => c.cancelled += 1,
            _ => {}
        }
        for n in &t.read_out_per_lot {
            c.lots_opened += 1;
            c.bids_read_out += n;
            if *n == 1 {
                c.single_bid_lots += 1;
            }
        }
    }
    c.bids_per_lot_x100 = if c.lots_opened > 0 {
        c.bids_read_out * 100 / c.lots_opened
    } else {
        0
    };
    c.single_bid_rate_bp = bp(c.single_bid_lots, c.lots_opened);

    let e = &mut f.experts;
    let mut minutes = 0;
    for x in tenders.iter().map(|t| &t.experts) {
        e.invitations += x.invitations;
        e.declines += x.declines;
        e.scores += x.scores;
        e.outlier_scores += x.outlier_scores;
        e.scored_seats += x.minutes_to_score.len() as i64;
        minutes += x.minutes_to_score.iter().sum::<i64>();
    }
    e.decline_rate_bp = bp(e.declines, e.invitations);
    e.outlier_rate_bp = bp(e.outlier_scores, e.scores);
    e.minutes_to_score_avg = if e.scored_seats > 0 {
        minutes / e.scored_seats
    } else {
        0
    };

    let p = &mut f.participation;
    let bidders: std::collections::BTreeMap<&str, &Option<String>> = tenders
        .iter()
        .flat_map(|t| &t.bidders)
        .map(|(org, size)| (org.as_str(), size))
        .collect();
    p.bidders = bidders.len() as i64;
    p.sme_bidders = bidders.values().filter(|s| is_sme(s.as_deref())).count() as i64;
    p.winners = tenders
        .iter()
        .flat_map(|t| &t.awards)
        .map(|a| a.org_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len() as i64;
    p.bids_per_bidder_x100 = if p.bidders > 0 {
        f.competition.bids_read_out * 100 / p.bidders
    } else {
        0
    };

    let y = &mut f.policy;
    for (kind, fen) in tenders.iter().flat_map(|t| &t.deductions) {
        match kind.as_str() {
            "small_micro" => y.small_micro_deductions += 1,
            "consortium" => y.consortium_deductions += 1,
            "domestic" => y.domestic_deductions += 1,
            _ => {}
        }
        y.deducted_fen += fen;
    }
    for t in tenders {
        if t.reserved_for_sme {
            y.reserved_tenders += 1;
            y.reserved_budget_fen += t.budget_fen;
        }
        if t.budget_fen <= reservation_ceiling_fen(&t.category) {
            y.reservable_tenders += 1;
            y.reservable_reserved += i64::from(t.reserved_for_sme);
        }
    }
    y.reservation_rate_bp = bp(y.reservable_reserved, y.reservable_tenders);
    for a in tenders.iter().flat_map(|t| &t.awards) {
        if matches!(a.special.as_deref(), Some("prison" | "disability_welfare")) {
            y.special_awards += 1;
            y.special_fen += a.price_fen;
        }
    }

    f.regions = regions
        .iter()
        .map(|(code, name)| {
            let mut r = RegionFigures {
                code: code.clone(),
                name: name.clone(),
                ..Default::default()
            };
            for t in tenders.iter().filter(|t| &t.region_code == code) {
                r.tenders += 1;
                r.tendered_fen += t.budget_fen;
                for a in &t.awards {
                    r.awarded_fen += a.price_fen;
                    if is_sme(a.size.as_deref()) {
                        r.sme_fen += a.price_fen;
                    }
                }
            }
            r
        })
        .collect();
    f
}

/// The figures as CSV rows `section,figure,value` (regions as `region:<code>`, deadline
/// rules as `timeliness:<code>.<name>`), the same
/// numbers the JSON has.
pub fn csv_rows(f: &Figures) -> Vec<[String; 3]> {
    let row = |section: &str, figure: &str, value: i64| {
        [section.to_string(), figure.to_string(), value.to_string()]
    };
    let b = &f.budget;
    let s = &f.savings;
    let m = &f.sme;
    let c = &f.competition;
    let mut out = vec![
        row("budget", "planned_fen", b.planned_fen),
        row("budget", "committed_fen", b.committed_fen),
        row("budget", "tendered_fen", b.tendered_fen),
        row("budget", "contracted_fen", b.contracted_fen),
        row("budget", "paid_fen", b.paid_fen),
        row(
            "budget",
            "contracted_of_planned_bp",
            b.contracted_of_planned_bp,
        ),
        row("budget", "paid_of_contracted_bp", b.paid_of_contracted_bp),
        row("savings", "awarded_budget_fen", s.awarded_budget_fen),
        row("savings", "awarded_fen", s.awarded_fen),
        row("savings", "saved_fen", s.saved_fen),
        row("savings", "rate_bp", s.rate_bp),
        row("sme", "awards", m.awards),
        row("sme", "sme_awards", m.sme_awards),
        row("sme", "awarded_fen", m.awarded_fen),
        row("sme", "sme_fen", m.sme_fen),
        row("sme", "share_count_bp", m.share_count_bp),
        row("sme", "share_value_bp", m.share_value_bp),
        row("competition", "tenders", c.tenders),
        row("competition", "awarded", c.awarded),
        row("competition", "failed", c.failed),
        row("competition", "cancelled", c.cancelled),
        row("competition", "lots_opened", c.lots_opened),
        row("competition", "bids_read_out", c.bids_read_out),
        row("competition", "bids_per_lot_x100", c.bids_per_lot_x100),
        row("competition", "single_bid_lots", c.single_bid_lots),
        row("competition", "single_bid_rate_bp", c.single_bid_rate_bp),
    ];
    let e = &f.experts;
    let p = &f.participation;
    let y = &f.policy;
    out.extend([
        row("experts", "invitations", e.invitations),
        row("experts", "declines", e.declines),
        row("experts", "decline_rate_bp", e.decline_rate_bp),
        row("experts", "scores", e.scores),
        row("experts", "outlier_scores", e.outlier_scores),
        row("experts", "outlier_rate_bp", e.outlier_rate_bp),
        row("experts", "scored_seats", e.scored_seats),
        row("experts", "minutes_to_score_avg", e.minutes_to_score_avg),
        row("participation", "bidders", p.bidders),
        row("participation", "sme_bidders", p.sme_bidders),
        row("participation", "winners", p.winners),
        row(
            "participation",
            "bids_per_bidder_x100",
            p.bids_per_bidder_x100,
        ),
        row("policy", "small_micro_deductions", y.small_micro_deductions),
        row("policy", "consortium_deductions", y.consortium_deductions),
        row("policy", "domestic_deductions", y.domestic_deductions),
        row("policy", "deducted_fen", y.deducted_fen),
        row("policy", "special_awards", y.special_awards),
        row("policy", "special_fen", y.special_fen),
        row("policy", "reserved_tenders", y.reserved_tenders),
        row("policy", "reserved_budget_fen", y.reserved_budget_fen),
        row("policy", "reservable_tenders", y.reservable_tenders),
        row("policy", "reservable_reserved", y.reservable_reserved),
        row("policy", "reservation_rate_bp", y.reservation_rate_bp),
    ]);
    for r in &f.timeliness {
        let section = format!("timeliness:{}.{}", r.code, r.name);
        out.push(row(&section, "due", r.due));
        out.push(row(&section, "on_time", r.on_time));
        out.push(row(&section, "late", r.late));
        out.push(row(&section, "overdue", r.overdue));
        out.push(row(&section, "on_time_bp", r.on_time_bp));
    }
    for r in &f.regions {
        let section = format!("region:{}", r.code);
        out.push(row(&section, "tenders", r.tenders));
        out.push(row(&section, "tendered_fen", r.tendered_fen));
        out.push(row(&section, "awarded_fen", r.awarded_fen));
        out.push(row(&section, "sme_fen", r.sme_fen));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::repo::{Award, ExpertFacts, Timed};
    use crate::calendar::deadlines::DeadlineRule;

    #[test]
    fn the_figures_add_up_in_fen_and_basis_points() {
        let t = |region: &str,
                 status: &str,
                 awards: Vec<(i64, i64, Option<String>)>,
                 bids: Vec<i64>| {
            TenderFacts {
                id: "t".into(),
                region_code: region.into(),
                category: "goods".into(),
                reserved_for_sme: region == "a",
                status: status.into(),
                budget_fen: 1_000,
                committed_fen: 900,
                read_out_per_lot: bids,
                awards: awards
                    .into_iter()
                    .map(|(budget_fen, price_fen, size)| Award {
                        budget_fen,
                        price_fen,
                        org_id: format!("{size:?}"),
                        special: (price_fen == 900).then(|| "prison".into()),
                        size,
                    })
                    .collect(),
                contracted_fen: 800,
                paid_fen: 400,
                bidders: vec![("x".into(), Some("small".into())), ("y".into(), None)],
                experts: ExpertFacts {
                    invitations: 4,
                    declines: 1,
                    scores: 10,
                    outlier_scores: 1,
                    minutes_to_score: vec![30, 60],
                },
                deductions: vec![("small_micro".into(), 100)],
                deadlines: Vec::new(),
            }
        };
        let tenders = [
            t(
                "a",
                "awarded",
                vec![(1_000, 800, Some("small".into()))],
                vec![3],
            ),
            t(
                "b",
                "awarded",
                vec![(1_000, 900, Some("large".into()))],
                vec![1],
            ),
            t("b", "failed", vec![], vec![]),
        ];
        let regions = [("a".to_string(), "A".to_string()), ("b".into(), "B".into())];
        let f = figures(&tenders, 4_000, &regions, 0);
        assert_eq!(f.budget.tendered_fen, 3_000);
        assert_eq!(f.budget.contracted_of_planned_bp, 6_000);
        assert_eq!(f.savings.saved_fen, 300);
        assert_eq!(f.savings.rate_bp, 1_500);
        assert_eq!((f.sme.sme_awards, f.sme.share_value_bp), (1, 4_705));
        assert_eq!(f.competition.bids_per_lot_x100, 200);
        assert_eq!(f.competition.single_bid_rate_bp, 5_000);
        assert_eq!((f.competition.awarded, f.competition.failed), (2, 1));
        assert_eq!(f.regions[1].tenders, 2);
        assert_eq!(f.regions[0].sme_fen, 800);
        assert_eq!(
            (f.experts.invitations, f.experts.decline_rate_bp),
            (12, 2_500)
        );
        assert_eq!(
            (f.experts.outlier_rate_bp, f.experts.minutes_to_score_avg),
            (1_000, 45)
        );
        assert_eq!(
            (f.participation.bidders, f.participation.sme_bidders),
            (2, 1)
        );
        assert_eq!(f.participation.winners, 2);
        assert_eq!(
            (f.policy.small_micro_deductions, f.policy.deducted_fen),
            (3, 300)
        );
        assert_eq!((f.policy.special_awards, f.policy.special_fen), (1, 900));
        assert_eq!(
            (f.policy.reservable_tenders, f.policy.reservable_reserved),
            (3, 1)
        );
        assert_eq!(
            (f.policy.reserved_budget_fen, f.policy.reservation_rate_bp),
            (1_000, 3_333)
        );
        assert_eq!(reservation_ceiling_fen("works"), 400_000_000);
        assert_eq!(csv_rows(&f).len(), 26 + 23 + 5 * f.timeliness.len() + 2 * 4);
        // Timeliness at 100: met before the instant, met at or after it, open past it,
        // open before it (not counted).
        let d = |due_at, done_at| Timed {
            rule: DeadlineRule::ContractSigning,
            due_at,
            done_at,
        };
        let timed = TenderFacts {
            deadlines: vec![
                d(100, Some(99)),
                d(100, Some(100)),
                d(50, None),
                d(150, None),
            ],
            ..TenderFacts::default()
        };
        let f = figures(&[timed], 0, &[], 100);
        let signing = f
            .timeliness
            .iter()
            .find(|r| (r.code, r.name) == ("R-CON-1", "signing"))
            .unwrap();
        assert_eq!(
            (signing.due, signing.on_time, signing.late, signing.overdue),
            (3, 1, 1, 1)
        );
        assert_eq!(signing.on_time_bp, 3_333);
        assert!(f
            .timeliness
            .iter()
            .filter(|r| r.name != "signing")
            .all(|r| r.due == 0));
        let empty = figures(&[], 0, &[], 0);
        assert!(empty.timeliness.iter().all(|r| r.due == 0));
        assert_eq!(
            Figures {
                timeliness: Vec::new(),
                ..empty
            },
            Figures::default()
        );
    }
}
