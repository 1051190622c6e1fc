//! The evaluation report (评标报告): the panel, both reviews, every expert's scores and
//! changes, the clarifications, and per lot the evaluated prices with their derivation,
//! the scores and the ranking. Every seated expert signs its SHA-256 with their own key;
//! `kaibiao verify report.json` checks a downloaded bundle offline.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use super::access::{self, Seat};
use super::repo::*;
use super::rules::*;
use super::types::{EvalRoomError, EvaluationTerms, Phase};
use crate::auth::{CurrentUser, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::evaluation::{self as eval, rounding, Points};
use crate::ledger::{canonical_json, Ledger, ReportSigned, ScoringClosed, Winner};
use crate::opening::repo::read_out_bids;
use crate::state::AppState;
use crate::tender::repo::TenderHead;

/// The evaluation report as scoring closes: stored as JSON, and its canonical JSON's
/// SHA-256 is what every seated expert signs. Readers take the stored JSON
/// ([`ReportBundle::report`]): a report signed is never read back through this struct.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `evaluation_report`
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub tender: ReportTender,
    pub terms: EvaluationTerms,
    pub draw_seed: Option<String>,
    /// Seats and pseudonyms only: no names (R-EVAL-2).
    pub panel: Vec<ReportSeat>,
    /// The chair's seat (评标组长), when the panel had one: it signs first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chair_seat: Option<i64>,
    pub qualification: Vec<QualificationVerdict>,
    /// Bids reviewed for compliance, each with every seat's review.
    pub compliance: Vec<ComplianceReviews>,
    pub scores: Vec<ScoreSheet>,
    /// Scores changed after submission (R-EVAL-9), in order.
    pub changes: Vec<ScoreChange>,
    pub clarifications: Vec<super::repo::Clarification>,
    pub lots: Vec<ReportLot>,
    pub closed_at: i64,
    /// The ledger's head before `scoring_closed`.
    pub ledger_head: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportTender {
    pub id: String,
    pub code: String,
    pub title: String,
    pub category: String,
    pub method: String,
}

/// A seated expert by seat and this evaluation's pseudonym.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSeat {
    pub seat: i64,
    pub expert_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct QualificationVerdict {
    pub bid_id: String,
    pub bidder: String,
    pub pass: bool,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComplianceReviews {
    pub bid_id: String,
    pub bidder: String,
    pub reviews: Vec<SeatReview>,
    /// The panel's verdicts per criterion of the checklist (absent without one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<super::types::CriterionTally>,
    /// The panel's majority (on every criterion, with a checklist).
    pub compliant: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeatReview {
    pub seat: i64,
    pub pass: bool,
    pub reason: String,
    /// The seat's verdict per criterion of the checklist (absent without one).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub checks: BTreeMap<String, super::types::Check>,
}

/// One seat's scores of one bid, with the reasons given for outliers.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreSheet {
    pub bid_id: String,
    pub seat: i64,
    pub items: BTreeMap<String, String>,
    pub outlier_reasons: BTreeMap<String, String>,
}

/// A score changed after submission, and why (R-EVAL-9).
#[derive(Debug, Clone, Serialize)]
pub struct ScoreChange {
    pub seq: i64,
    pub bid_id: String,
    pub seat: i64,
    pub item: String,
    pub from: String,
    pub to: String,
    pub kind: String,
    pub reason: String,
    pub at: i64,
}

/// A lot of the report: failed at compliance, evaluated and ranked, or left with no
/// bid standing once invalid bids are set aside.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ReportLot {
    /// `failed`: the reason as stored with the prices at compliance.
    FailedAtCompliance { lot_no: i64, failed: Value },
    Evaluated {
        lot_no: i64,
        /// Bid id → bidder's name, for the bids evaluated.
        bidders: BTreeMap<String, String>,
        invalid: Vec<InvalidBid>,
        result: eval::LotResult,
    },
    NoneStanding {
        lot_no: i64,
        /// `no compliant bid remains`
        failed: &'static str,
        invalid: Vec<InvalidBid>,
    },
}

/// A compliant bid set aside at the evaluation (R-EVAL-8).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum InvalidBid {
    /// `ABNORMALLY_LOW_UNEXPLAINED`: no written explanation of the abnormally low price.
    Unexplained {
        bid_id: String,
        bidder: String,
        cause: &'static str,
        note: &'static str,
    },
    /// `PRICE_UNREADABLE`: the evaluation's note says why.
    PriceUnreadable {
        bid_id: String,
        bidder: Option<String>,
        cause: &'static str,
        note: Option<eval::Note>,
    },
}

/// Computes the report when scoring closes (inside the caller's transaction).
pub(crate) async fn build(
    tx: &mut Tx,
    head: &TenderHead,
    e: &EvalRow,
    terms: &EvaluationTerms,
    experts: &[&Seat],
    rows: &[ScoreRow],
    now: i64,
) -> AppResult<Report> {
    let t = sqlx::query("SELECT code, title, category, method FROM tenders WHERE id = $1")
        .bind(&head.id)
        .fetch_one(&mut **tx)
        .await?;
    let ledger_head = super::repo::ledger_head(tx, &head.id).await?;
    let bids = read_out_bids(&mut **tx, &head.id).await?;
    let names: BTreeMap<String, String> = bids
        .iter()
        .map(|b| (b.bid_id.clone(), b.bidder_name.clone()))
        .collect();
    let seat_of: BTreeMap<&str, i64> = experts
        .iter()
        .map(|s| (s.expert_id.as_str(), s.seat))
        .collect();

    // Seats and ids only: the report is read by the agency and the purchaser before the
    // award, when experts' names are still withheld (R-EVAL-2). Each signature's
    // certificate names its expert, and comes with the report once the winner stands.
    // Experts by this evaluation's pseudonyms, as in the public draw record: no id that
    // would follow them to another tender.
    let pseud = crate::evaluation::pseudonyms::Pseudonyms::from_stored(e.pseudonym_key.as_deref());
    let panel: Vec<ReportSeat> = experts
        .iter()
        .map(|s| ReportSeat {
            seat: s.seat,
            expert_id: pseud.expert(&s.expert_id),
        })
        .collect();

    let qual = qualification(&mut **tx, &head.id).await?;
    let qualification: Vec<QualificationVerdict> = bids
        .iter()
        .filter_map(|b| {
            qual.get(&b.bid_id)
                .map(|(pass, reason)| QualificationVerdict {
                    bid_id: b.bid_id.clone(),
                    bidder: b.bidder_name.clone(),
                    pass: *pass,
                    reason: reason.clone(),
                })
        })
        .collect();
    let rev = reviews(&mut **tx, &head.id).await?;
    let rev_checks = review_checks(&mut **tx, &head.id).await?;
    let compliant = compliant_ids(e.prices.as_ref());
    let mut compliance = Vec::new();
    for b in &bids {
        let list: Vec<SeatReview> = experts
            .iter()
            .filter_map(|s| {
                let key = (b.bid_id.clone(), s.expert_id.clone());
                rev.get(&key).map(|(p, r)| SeatReview {
                    seat: s.seat,
                    pass: *p,
                    reason: r.clone(),
                    checks: rev_checks.get(&key).cloned().unwrap_or_default(),
                })
            })
            .collect();
        if !list.is_empty() {
            let of: Vec<super::rules::ReviewOf> = list
                .iter()
                .map(|r| (r.pass, (!r.checks.is_empty()).then_some(&r.checks)))
                .collect();
            compliance.push(ComplianceReviews {
                bid_id: b.bid_id.clone(),
                bidder: b.bidder_name.clone(),
                criteria: super::types::CriterionTally::of(super::rules::criterion_tally(
                    &terms.checklist,
                    &of,
                )),
                reviews: list,
                compliant: compliant.contains(&b.bid_id),
            });
        }
    }

    // Each expert's sheet per bid, and the panel's mean per item.
    let mut sheets: BTreeMap<(String, i64), super::rules::Sheet> = BTreeMap::new();
    let mut sums: BTreeMap<(String, String), (i128, i128)> = BTreeMap::new();
    for r in rows {
        let seat = seat_of.get(r.expert_id.as_str()).copied().unwrap_or(0);
        let entry = sheets.entry((r.bid_id.clone(), seat)).or_default();
        entry
            .0
            .insert(r.item.clone(), rounding::fmt_points(r.score));
        if let Some(reason) = &r.outlier_reason {
            entry.1.insert(r.item.clone(), reason.clone());
        }
        let s = sums.entry((r.bid_id.clone(), r.item.clone())).or_default();
        s.0 += i128::from(r.score);
        s.1 += 1;
    }
    let scores: Vec<ScoreSheet> = sheets
        .into_iter()
        .map(|((bid, seat), (items, reasons))| ScoreSheet {
            bid_id: bid,
            seat,
            items,
            outlier_reasons: reasons,
        })
        .collect();

    let changes = sqlx::query(
        "SELECT seq, bid_id, expert_id, item, from_score, to_score, kind, reason, at \
         FROM evaluation_changes WHERE tender_id = $1 ORDER BY seq",
    )
    .bind(&head.id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        let expert: String = r.try_get("expert_id")?;
        Ok(ScoreChange {
            seq: r.try_get("seq")?,
            bid_id: r.try_get("bid_id")?,
            seat: seat_of.get(expert.as_str()).copied().unwrap_or(0),
            item: r.try_get("item")?,
            from: rounding::fmt_points(r.try_get("from_score")?),
            to: rounding::fmt_points(r.try_get("to_score")?),
            kind: r.try_get("kind")?,
            reason: r.try_get("reason")?,
            at: r.try_get("at")?,
        })
    })
    .collect::<AppResult<Vec<_>>>()?;
    let clar = clarifications(&mut **tx, &head.id).await?;
    let answered: BTreeSet<&str> = clar
        .iter()
        .filter(|c| c.answer.is_some())
        .map(|c| c.bid_id.as_str())
        .collect();
    let flagged: BTreeSet<String> = e
        .prices
        .as_ref()
        .and_then(|p| p.get("abnormally_low"))
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();

    // Per lot: the full evaluation over the compliant bids with the panel's mean scores,
    // each at its final offer after a negotiation (R-METH-2).
    let finals = super::repo::final_offers(&mut **tx, &head.id).await?;
    let bids = super::repo::priced(bids, finals.as_ref());
    let (category, date) = super::repo::category_and_date(tx, &head.id).await?;
    let pure_terms = terms.to_terms(category, date);
    let mut lots = Vec::new();
    let failed: Vec<Value> = e
        .prices
        .as_ref()
        .and_then(|p| p.get("failed_lots"))
        .and_then(|a| a.as_array())
        .cloned()
        .unwrap_or_default();
    for lot in bids.iter().map(|b| b.lot_no).collect::<BTreeSet<_>>() {
        if let Some(f) = failed.iter().find(|f| f["lot_no"] == lot) {
            lots.push(ReportLot::FailedAtCompliance {
                lot_no: lot,
                failed: f["reason"].clone(),
            });
            continue;
        }
        let mut list = Vec::new();
        let mut invalid = Vec::new();
        for b in bids
            .iter()
            .filter(|b| b.lot_no == lot && compliant.contains(&b.bid_id))
        {
            // R-EVAL-8: an abnormally low price unexplained makes the bid invalid.
            let unexplained = flagged.contains(&b.bid_id) && !answered.contains(b.bid_id.as_str());
            if unexplained {
                invalid.push(InvalidBid::Unexplained {
                    bid_id: b.bid_id.clone(),
                    bidder: b.bidder_name.clone(),
                    cause: "ABNORMALLY_LOW_UNEXPLAINED",
                    note: "R-EVAL-8: no written explanation of the abnormally low price",
                });
            }
            let mut means = BTreeMap::new();
            for i in &terms.items {
                let (sum, n) = sums
                    .get(&(b.bid_id.clone(), i.name.clone()))
                    .copied()
                    .unwrap_or((0, 1));
                means.insert(
                    i.name.clone(),
                    Points(rounding::div_half_up(sum, n.max(1)) as i64),
                );
            }
            list.push(eval_bid(b, !unexplained, means)?);
        }
        let lot_names: BTreeMap<String, String> = list
            .iter()
            .map(|b| {
                let name = names.get(&b.bidder).unwrap_or(&b.bidder);
                (b.bidder.clone(), name.clone())
            })
            .collect();
        match eval::evaluate_lot(&pure_terms, &list) {
            Ok(result) => {
                // R-EVAL-8: a price that cannot be read is its bid's defect.
                for b in result.bids.iter().filter(|b| b.invalid_reason.is_some()) {
                    invalid.push(InvalidBid::PriceUnreadable {
                        bid_id: b.bidder.clone(),
                        bidder: names.get(&b.bidder).cloned(),
                        cause: "PRICE_UNREADABLE",
                        note: b.invalid_reason.clone(),
                    });
                }
                lots.push(ReportLot::Evaluated {
                    lot_no: lot,
                    bidders: lot_names,
                    invalid,
                    result,
                })
            }
            Err(eval::EvalError::NoCompliantBid) => lots.push(ReportLot::NoneStanding {
                lot_no: lot,
                failed: "no compliant bid remains",
                invalid,
            }),
            Err(err) => {
                return Err({
                    let (zh, en) = err.messages();
                    EvalRoomError::Terms { zh, en }
                }
                .into())
            }
        }
    }

    Ok(Report {
        kind: "evaluation_report",
        tender: ReportTender {
            id: head.id.clone(),
            code: t.try_get("code")?,
            title: t.try_get("title")?,
            category: t.try_get("category")?,
            method: t.try_get("method")?,
        },
        terms: terms.clone(),
        draw_seed: e.draw.as_ref().map(|d| d.seed.clone()),
        panel,
        chair_seat: super::chair::chair(&mut **tx, &head.id)
            .await?
            .map(|(s, _)| s),
        qualification,
        compliance,
        scores,
        changes,
        clarifications: clar,
        lots,
        closed_at: now,
        ledger_head,
    })
}

/// The first-ranked bid of every lot that stands (the report as `build` made it).
pub fn winners(report: &Value) -> Vec<Winner> {
    let mut out = Vec::new();
    for lot in report["lots"].as_array().into_iter().flatten() {
        let Some(first) = lot["result"]["ranking"]
            .as_array()
            .and_then(|r| r.iter().find(|e| e["rank"] == 1))
        else {
            continue;
        };
        let bid = first["bidder"].as_str().unwrap_or_default();
        out.push(Winner {
            lot_no: lot["lot_no"].as_i64().unwrap_or_default(),
            bid_id: bid.to_string(),
            bidder_name: lot["bidders"][bid].as_str().unwrap_or_default().to_string(),
            unresolved_tie: first["unresolved_tie"].as_bool().unwrap_or_default(),
        });
    }
    out
}

/// One expert's signature as bundled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpertSignature {
    pub seat: i64,
    pub expert_id: String,
    pub key_id: String,
    pub signature: String,
    pub dissent: String,
    pub at: i64,
    /// The signing key's certificate, whose subject is the expert's name: empty in a copy
    /// taken before the award by anyone but a supervisor (the signature is checked once
    /// the certificate can be had).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cert_pem: String,
}

/// What `GET /api/tenders/{id}/evaluation/report` returns and `kaibiao verify` reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportBundle {
    pub report: Value,
    pub report_sha256: String,
    pub signatures: Vec<ExpertSignature>,
    pub ca_pem: String,
    pub ledger: Ledger,
}

/// The report with its signatures so far: for members once scoring closed, for bidders
/// once the winner is confirmed.
pub async fn bundle(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<ReportBundle> {
    if user.role == Role::Supplier {
        let org = user.org_id.as_deref().unwrap_or("");
        if crate::bid::repo::for_bidder(&state.db.pool, tender_id, org)
            .await?
            .is_empty()
        {
            return Err(AppError::Forbidden);
        }
    } else {
        access::member(state, user, tender_id).await?;
    }
    let e = eval_row(&state.db.pool, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Bidders read the report once the winner is confirmed (the result is announced).
    if user.role == Role::Supplier && e.phase != Phase::Awarded {
        return Err(AppError::NotFound);
    }
    let (Some(report), Some(sha)) = (e.report, e.report_sha256) else {
        return Err(AppError::NotFound);
    };
    let panel = super::repo::panel(&state.db.pool, tender_id).await?;
    // Certificates name the experts, and key ids would follow them from tender to tender:
    // both for supervisors only until the award.
    let with_certs = user.role.is_supervisor() || e.phase == Phase::Awarded;
    let pseud = crate::evaluation::pseudonyms::Pseudonyms::from_stored(e.pseudonym_key.as_deref());
    let mut signatures = Vec::new();
    for r in sqlx::query(
        "SELECT s.expert_id, s.key_id, s.signature, s.dissent, s.at, k.cert_pem \
         FROM evaluation_signatures s JOIN user_keys k ON k.key_id = s.key_id \
         WHERE s.tender_id = $1 ORDER BY s.at",
    )
    .bind(tender_id)
    .fetch_all(&state.db.pool)
    .await?
    {
        let expert_id: String = r.try_get("expert_id")?;
        signatures.push(ExpertSignature {
            seat: panel
                .iter()
                .find(|s| s.expert_id == expert_id && s.status == "accepted")
                .map_or(0, |s| s.seat),
            expert_id: pseud.expert(&expert_id),
            key_id: if with_certs {
                r.try_get("key_id")?
            } else {
                String::new()
            },
            signature: r.try_get("signature")?,
            dissent: r.try_get("dissent")?,
            at: r.try_get("at")?,
            cert_pem: if with_certs {
                r.try_get("cert_pem")?
            } else {
                String::new()
            },
        });
    }
    signatures.sort_by_key(|s| s.seat);
    let ledger = crate::tender::service::ledger(state, Some(user), tender_id).await?;
    Ok(ReportBundle {
        report,
        report_sha256: sha,
        signatures,
        ca_pem: state.pki.ca_pem.clone(),
        ledger,
    })
}

/// Why a downloaded report does not verify.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("ledger: {0}")]
    Ledger(#[from] crate::ledger::VerifyError),
    #[error("the report's SHA-256 is not report_sha256")]
    Digest,
    #[error("the ledger has no scoring_closed event for this report")]
    NotInLedger,
    #[error("the report's ledger head is not the event before scoring_closed")]
    HeadMismatch,
    #[error("seat {0} has not signed")]
    Unsigned(i64),
    #[error("seat {0}: the certificate does not chain to the CA: {1}")]
    Chain(i64, String),
    #[error("seat {0}: the signature does not verify")]
    Signature(i64),
    #[error("seat {0}: this copy was taken before the award and carries no certificate (it names the expert); download the report again once the winner stands")]
    CertificateWithheld(i64),
    #[error("seat {0}: no report_signed event with this key in the ledger")]
    SignatureNotInLedger(i64),
}

/// Checks a report bundle offline: the ledger chain, the report's place in it, and every
/// seated expert's signature by a certificate of the bundled CA. Returns the number of
/// signatures checked.
pub fn verify(b: &ReportBundle) -> Result<usize, ReportError> {
    crate::ledger::verify(&b.ledger)?;
    let digest = crate::crypto::sha256_hex(canonical_json(&b.report).as_bytes());
    if digest != b.report_sha256 {
        return Err(ReportError::Digest);
    }
    let closed = b
        .ledger
        .events
        .iter()
        .find(|e| {
            e.body_as::<ScoringClosed>()
                .is_some_and(|c| c.report_sha256 == digest)
        })
        .ok_or(ReportError::NotInLedger)?;
    if b.report["ledger_head"] != closed.prev_hash.as_str() {
        return Err(ReportError::HeadMismatch);
    }
    let ca = crate::pki::authority::pem_to_der(&b.ca_pem)
        .map_err(|e| ReportError::Chain(0, e.to_string()))?;
    let tender_id = b.report["tender"]["id"].as_str().unwrap_or_default();
    let mut checked = 0;
    for seat in b.report["panel"].as_array().into_iter().flatten() {
        let n = seat["seat"].as_i64().unwrap_or(0);
        let expert = seat["expert_id"].as_str().unwrap_or_default();
        let s = b
            .signatures
            .iter()
            .find(|s| s.expert_id == expert)
            .ok_or(ReportError::Unsigned(n))?;
        if s.cert_pem.is_empty() {
            return Err(ReportError::CertificateWithheld(n));
        }
        let public = crate::pki::authority::check_chain(&s.cert_pem, &ca, s.at)
            .map_err(|e| ReportError::Chain(n, e.to_string()))?;
        let sig =
            crate::crypto::b64url::decode(s.signature.trim()).ok_or(ReportError::Signature(n))?;
        let payload = signing_payload(tender_id, &digest, expert, &s.dissent);
        if !crate::pki::authority::verify_signature(&public, payload.as_bytes(), &sig) {
            return Err(ReportError::Signature(n));
        }
        let signature_sha256 = crate::crypto::sha256_hex(s.signature.trim().as_bytes());
        let logged = b.ledger.events.iter().any(|e| {
            let Some(signed) = e.body_as::<ReportSigned>().filter(|_| e.seq > closed.seq) else {
                return false;
            };
            // Before pseudonyms the event named the signing key instead.
            signed.seat == n
                && (signed.signature_sha256 == signature_sha256
                    || (!s.key_id.is_empty() && signed.key_id.as_deref() == Some(&s.key_id)))
        });
        if !logged {
            return Err(ReportError::SignatureNotInLedger(n));
        }
        checked += 1;
    }
    Ok(checked)
}
