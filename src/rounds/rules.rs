//! The rounds' rules as pure functions: which methods have rounds, a round's closing time,
//! and the final offers each supplier ends with (R-METH-2).

use super::types::{FinalOffer, OfferStatus, RoundsError};
use crate::plan::ProcurementMethod;

const MINUTE: i64 = 60_000;
/// A round closes at least this long after it opens by default: a supplier must have time
/// to seal (`Config::round_min_secs`).
pub const MIN_ROUND_MS: i64 = 5 * MINUTE;
/// And at most this long: a negotiation is held in one sitting or a few days.
pub const MAX_ROUND_MS: i64 = 7 * 24 * 60 * MINUTE;
/// Longest notice, in characters.
pub const MAX_NOTICE_CHARS: usize = 5000;
/// Notices one tender may hold.
pub const MAX_NOTICES: i64 = 200;
/// A message of the talk with one supplier, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// Messages of all the talks of one negotiation.
pub const MAX_MESSAGES: i64 = 2000;
/// Rounds one tender may hold.
pub const MAX_ROUNDS: i64 = 20;

pub use crate::tender::methods::NoFinalOffer;

/// The rule's name as the view and the ledger write it.
pub fn rule_name(rule: NoFinalOffer) -> &'static str {
    match rule {
        NoFinalOffer::Withdrawn => "withdrawn",
        NoFinalOffer::PreviousStands => "previous_stands",
    }
}

/// Whether `method` negotiates with its suppliers: in rounds of offers (`rounds`, from
/// the method table: negotiation, consultation), or with its one supplier (single source,
/// 74号 art 41–43).
pub fn negotiates(method: ProcurementMethod, rounds: bool) -> bool {
    rounds || method == ProcurementMethod::SingleSource
}

/// Longest record or price reasoning, in characters.
pub const MAX_MINUTES_CHARS: usize = 20_000;

/// The digest of a negotiation's record.
pub fn minutes_sha256(
    tender_id: &str,
    text: &str,
    price_reasoning: &str,
    agreed_price_fen: i64,
) -> String {
    crate::crypto::sha256_hex(
        crate::ledger::canonical_json(&serde_json::json!({
            "agreed_price_fen": agreed_price_fen,
            "price_reasoning": price_reasoning,
            "tender_id": tender_id,
            "text": text,
            "type": "negotiation_minutes",
        }))
        .as_bytes(),
    )
}

/// What a member of the panel signs: the record's digest, naming the member by this
/// evaluation's pseudonym as the evaluation report does.
pub fn minutes_payload(tender_id: &str, minutes_sha256: &str, expert_id: &str) -> String {
    crate::ledger::canonical_json(&serde_json::json!({
        "expert_id": expert_id,
        "minutes_sha256": minutes_sha256,
        "tender_id": tender_id,
        "type": "negotiation_minutes_signature",
    }))
}

/// The closing time of a round opened at `now`, at least `min_ms` ahead.
pub fn check_closing(now: i64, closes_at: i64, min_ms: i64) -> Result<(), RoundsError> {
    if closes_at < now + min_ms || closes_at > now + MAX_ROUND_MS {
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
/// none that stands, is out. The ranking is the evaluation's (the policy deductions
/// first: the committee's report), not the rounds'.
pub fn final_offers(
    suppliers: &[Supplier],
    offers: &[Offer],
    rule: NoFinalOffer,
) -> Vec<FinalOffer> {
    suppliers
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
            }
        })
        .collect()
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
    fn r_meth_2_negotiation_and_consultation_end_with_final_offers_and_single_source_negotiates() {
        use ProcurementMethod as M;
        let table = crate::tender::methods::MethodRules::builtin();
        for m in M::ALL {
            let finals = matches!(m, M::CompetitiveNegotiation | M::CompetitiveConsultation);
            assert_eq!(table.final_offer(m), finals, "{m:?}");
            // The one supplier of a single source may offer again in the talks.
            assert_eq!(table.rounds(m), finals || m == M::SingleSource, "{m:?}");
            assert_eq!(
                negotiates(m, table.rounds(m)),
                finals || m == M::SingleSource,
                "{m:?}"
            );
        }
    }

    #[test]
    fn a_round_closes_between_5_minutes_and_7_days_ahead() {
        let now = 1_000_000;
        assert_eq!(
            check_closing(now, now + MIN_ROUND_MS - 1, MIN_ROUND_MS),
            Err(RoundsError::BadClosingTime)
        );
        assert_eq!(check_closing(now, now + MIN_ROUND_MS, MIN_ROUND_MS), Ok(()));
        assert_eq!(check_closing(now, now + MAX_ROUND_MS, MIN_ROUND_MS), Ok(()));
        assert_eq!(
            check_closing(now, now + MAX_ROUND_MS + 1, MIN_ROUND_MS),
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
        let out = final_offers(&suppliers, &offers, NoFinalOffer::Withdrawn);
        let summary: Vec<(&str, Option<i64>, &str)> = out
            .iter()
            .map(|f| (f.org_id.as_str(), f.price_fen, f.basis.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("a", Some(80), "final_offer"),
                ("b", None, "withdrawn"),
                ("c", Some(80), "final_offer"),
                ("d", None, "withdrawn"),
            ]
        );
        let out = final_offers(&suppliers, &offers, NoFinalOffer::PreviousStands);
        let b = out.iter().find(|f| f.org_id == "b").unwrap();
        assert_eq!(
            (b.price_fen, b.basis.as_str(), b.round_no),
            (Some(90), "previous_stands", 1)
        );
    }
}
