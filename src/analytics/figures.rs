//! The figures (pure): the tenders' facts added up, in integers — money in fen, shares
//! and rates in basis points (1/100 of a percent), rounded down.

use serde::Serialize;

use super::repo::TenderFacts;

/// Whether a supplier of this registered size is an SME (中小企业: medium, small, micro).
pub fn is_sme(size: Option<&str>) -> bool {
    matches!(size, Some("medium" | "small" | "micro"))
}

fn bp(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        0
    } else {
        ((part as i128) * 10_000 / (whole as i128)) as i64
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Savings {
    /// The awarded lots' budgets and their winning prices.
    pub awarded_budget_fen: i64,
    pub awarded_fen: i64,
    pub saved_fen: i64,
    pub rate_bp: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sme {
    pub awards: i64,
    pub sme_awards: i64,
    pub awarded_fen: i64,
    pub sme_fen: i64,
    pub share_count_bp: i64,
    pub share_value_bp: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

/// One region's share of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegionFigures {
    pub code: String,
    pub name: String,
    pub tenders: i64,
    pub tendered_fen: i64,
    pub awarded_fen: i64,
    pub sme_fen: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub budget: Budget,
    pub savings: Savings,
    pub sme: Sme,
    pub competition: Competition,
    pub regions: Vec<RegionFigures>,
}

/// The figures of `tenders` (and `planned_fen`, the plans in scope), with a row for
/// each of `regions` (code, name).
pub fn figures(tenders: &[TenderFacts], planned_fen: i64, regions: &[(String, String)]) -> Figures {
    let mut f = Figures::default();
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
    for (budget, price, size) in tenders.iter().flat_map(|t| &t.awards) {
        s.awarded_budget_fen += budget;
        s.awarded_fen += price;
        m.awards += 1;
        m.awarded_fen += price;
        if is_sme(size.as_deref()) {
            m.sme_awards += 1;
            m.sme_fen += price;
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
                for (_, price, size) in &t.awards {
                    r.awarded_fen += price;
                    if is_sme(size.as_deref()) {
                        r.sme_fen += price;
                    }
                }
            }
            r
        })
        .collect();
    f
}

/// The figures as CSV rows `section,figure,value` (regions as `region:<code>`), the same
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

    #[test]
    fn the_figures_add_up_in_fen_and_basis_points() {
        let t = |region: &str,
                 status: &str,
                 awards: Vec<(i64, i64, Option<String>)>,
                 bids: Vec<i64>| {
            TenderFacts {
                id: "t".into(),
                region_code: region.into(),
                status: status.into(),
                budget_fen: 1_000,
                committed_fen: 900,
                read_out_per_lot: bids,
                awards,
                contracted_fen: 800,
                paid_fen: 400,
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
        let f = figures(&tenders, 4_000, &regions);
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
        assert_eq!(csv_rows(&f).len(), 26 + 2 * 4);
        assert_eq!(figures(&[], 0, &[]), Figures::default());
    }
}
