//! The rounds' rules as pure functions: which methods have rounds, a round's closing time,
//! and the final offers each supplier ends with (R-METH-2).

use serde::Serialize;

use super::types::{FinalOffer, OfferStatus, RoundsError};
use crate::plan::ProcurementMethod;

const MINUTE: i64 = 60_000;
/// A round closes at least this long after it opens: a supplier must have time to seal.
pub const MIN_ROUND_MS: i64 = 5 * MINUTE;
/// And at most this long: a negotiation is held in one sitting or a few days.
pub const MAX_ROUND_MS: i64 = 7 * 24 * 60 * MINUTE;
/// Longest notice, in characters.
pub const MAX_NOTICE_CHARS: usize = 5000;
/// Notices one tender may hold.
pub const MAX_NOTICES: i64 = 200;
/// Rounds one tender may hold.
pub const MAX_ROUNDS: i64 = 20;

/// Whether `method` negotiates in rounds (`ProcurementMethod::has_rounds`).
pub fn has_rounds(method: ProcurementMethod) -> bool {
    method.has_rounds()
}

/// Negotiation awards to the lowest final offer among those meeting the requirements (74号
/// art 35); consultation scores the final offers comprehensively (214号 art 23–24).
pub fn lowest_price(method: ProcurementMethod) -> bool {
    matches!(
        method,
        ProcurementMethod::CompetitiveNegotiation | ProcurementMethod::Inquiry
    )
}

/// What a supplier that sends no final offer becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoFinalOffer {
    /// It is taken as having left the negotiation: 214号 art 20 lets a supplier withdraw
    /// before its final offer, and the final offers are asked of "every supplier still in"
    /// (74号 art 33; 214号 art 21). The default.
    Withdrawn,
    /// Its last offer stands as its final one (a clause some documents state).
    PreviousStands,
}

impl NoFinalOffer {
    pub fn as_str(self) -> &'static str {
        match self {
            NoFinalOffer::Withdrawn => "withdrawn",
            NoFinalOffer::PreviousStands => "previous_stands",
        }
    }
}

/// The closing time of a round opened at `now`.
pub fn check_closing(now: i64, closes_at: i64) -> Result<(), RoundsError> {
    if closes_at < now + MIN_ROUND_MS || closes_at > now + MAX_ROUND_MS {
        return Err(RoundsError::BadClosingTime);
    }
    Ok(())
}

/// A supplier as the final offers see it.
#[derive(Debug, Clone)]
pub struct Supplier {
    pub org_id: String,
    pub name: String,
    pub withdrawn: bool,
}

/// One offer read in a round.
#[derive(Debug, Clone)]
pub struct Offer {
    pub round_no: i64,
    pub is_final: bool,
    pub org_id: String,
    pub offer_id: String,
    pub status: OfferStatus,
    pub price_fen: Option<i64>,
}

/// Each supplier's final offer: its offer read out in the final round, or, without one,
/// its last offer read out when `rule` lets it stand; a supplier that withdrew, or has
/// none that stands, is out. With `rank`, those with a price are ranked lowest first
/// (equal prices share a place: the panel decides between them by the documents' rule).
pub fn final_offers(
    suppliers: &[Supplier],
    offers: &[Offer],
    rule: NoFinalOffer,
    rank: bool,
) -> Vec<FinalOffer> {
    let mut out: Vec<FinalOffer> = suppliers
        .iter()
        .map(|s| {
            let read = |o: &&Offer| {
                o.org_id == s.org_id && o.status == OfferStatus::ReadOut && o.price_fen.is_some()
            };
            let last_final = offers.iter().filter(read).find(|o| o.is_final);
            let previous = offers
                .iter()
                .filter(read)
                .filter(|o| !o.is_final)
                .max_by_key(|o| o.round_no);
            let (offer, basis) = if s.withdrawn {
                (None, "withdrawn")
            } else if let Some(o) = last_final {
                (Some(o), "final_offer")
            } else if let (NoFinalOffer::PreviousStands, Some(o)) = (rule, previous) {
                (Some(o), "previous_stands")
            } else if rule == NoFinalOffer::Withdrawn {
                (None, "withdrawn")
            } else {
                (None, "no_offer")
            };
            FinalOffer {
                org_id: s.org_id.clone(),
                bidder_name: s.name.clone(),
                offer_id: offer.map(|o| o.offer_id.clone()),
                round_no: offer.map_or(0, |o| o.round_no),
                price_fen: offer.and_then(|o| o.price_fen),
                basis: basis.to_string(),
                rank: None,
            }
        })
        .collect();
    if rank {
        let mut prices: Vec<i64> = out.iter().filter_map(|f| f.price_fen).collect();
        prices.sort_unstable();
        for f in &mut out {
            if let Some(p) = f.price_fen {
                let place = prices.iter().position(|q| *q == p).unwrap_or(0);
                f.rank = Some(place as u32 + 1);
            }
        }
        out.sort_by_key(|f| (f.rank.is_none(), f.rank, f.org_id.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn supplier(id: &str, withdrawn: bool) -> Supplier {
        Supplier {
            org_id: id.into(),
            name: format!("供应商{id}"),
            withdrawn,
        }
    }

    fn offer(round_no: i64, is_final: bool, org: &str, price: Option<i64>) -> Offer {
        Offer {
            round_no,
            is_final,
            org_id: org.into(),
            offer_id: format!("{org}-{round_no}"),
            status: if price.is_some() {
                OfferStatus::ReadOut
            } else {
                OfferStatus::None
            },
            price_fen: price,
        }
    }

    #[test]
    fn r_meth_2_only_negotiation_and_consultation_have_rounds() {
        for m in ProcurementMethod::ALL {
            let expected = matches!(
                m,
                ProcurementMethod::CompetitiveNegotiation
                    | ProcurementMethod::CompetitiveConsultation
            );
            assert_eq!(has_rounds(m), expected, "{m:?}");
        }
    }

    #[test]
    fn a_round_closes_between_5_minutes_and_7_days_ahead() {
        let now = 1_000_000;
        assert_eq!(
            check_closing(now, now + MIN_ROUND_MS - 1),
            Err(RoundsError::BadClosingTime)
        );
        assert_eq!(check_closing(now, now + MIN_ROUND_MS), Ok(()));
        assert_eq!(check_closing(now, now + MAX_ROUND_MS), Ok(()));
        assert_eq!(
            check_closing(now, now + MAX_ROUND_MS + 1),
            Err(RoundsError::BadClosingTime)
        );
    }

    #[test]
    fn r_meth_2_a_supplier_without_a_final_offer_is_out_or_its_last_offer_stands() {
        let suppliers = [
            supplier("a", false),
            supplier("b", false),
            supplier("c", false),
            supplier("d", true),
        ];
        let offers = [
            offer(1, false, "a", Some(100)),
            offer(1, false, "b", Some(90)),
            offer(1, false, "c", Some(95)),
            offer(1, false, "d", Some(50)),
            offer(2, true, "a", Some(80)),
            offer(2, true, "b", None),
            offer(2, true, "c", Some(80)),
        ];
        let out = final_offers(&suppliers, &offers, NoFinalOffer::Withdrawn, true);
        let summary: Vec<(&str, Option<i64>, &str, Option<u32>)> = out
            .iter()
            .map(|f| (f.org_id.as_str(), f.price_fen, f.basis.as_str(), f.rank))
            .collect();
        assert_eq!(
            summary,
            [
                ("a", Some(80), "final_offer", Some(1)),
                ("c", Some(80), "final_offer", Some(1)),
                ("b", None, "withdrawn", None),
                ("d", None, "withdrawn", None),
            ]
        );
        let out = final_offers(&suppliers, &offers, NoFinalOffer::PreviousStands, true);
        let b = out.iter().find(|f| f.org_id == "b").unwrap();
        assert_eq!(
            (b.price_fen, b.basis.as_str(), b.round_no, b.rank),
            (Some(90), "previous_stands", 1, Some(3))
        );
        // Without ranking (consultation) the order is the suppliers'.
        let out = final_offers(&suppliers, &offers, NoFinalOffer::Withdrawn, false);
        assert_eq!(out[0].org_id, "a");
        assert!(out.iter().all(|f| f.rank.is_none()));
    }
}
