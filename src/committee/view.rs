//! What each member sees of an evaluation (docs/evaluation.md): experts see other experts'
//! scores for a bid only once they have scored it themselves; names of experts are shown
//! to supervisors, to each expert for themself, and to everyone once the winner is
//! confirmed.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sqlx::Row;

use super::access::{self, Member};
use super::repo::*;
use super::rules::*;
use super::types::{
    BidScores, BidView, CriterionTally, DeclarationRequest, DrawSummary, EvalRoomError,
    EvaluationView, FlagView, OwnClarifications, PanelSeatView, Phase, ProgressView, ReportView,
    ReviewTally, SeatScores, SeatSheet, SessionView, SignatureView, SigningRequest, TenderSummary,
    Verdict, Viewer,
};
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, AppResult};
use crate::evaluation::rounding::fmt_points;
use crate::opening::repo::read_out_bids;
use crate::state::AppState;

fn role_name(m: &Member) -> &'static str {
    if m.seat.is_some() {
        "expert"
    } else if m.host {
        "host"
    } else if m.purchaser {
        "purchaser"
    } else {
        "supervisor"
    }
}

pub async fn view(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<EvaluationView> {
    let m = access::member(state, user, tender_id).await?;
    let pool = &state.db.pool;
    let t =
        sqlx::query("SELECT id, code, title, category, method, status FROM tenders WHERE id = $1")
            .bind(tender_id)
            .fetch_one(pool)
            .await?;
    let terms = terms(pool, tender_id).await?;
    let e = eval_row(pool, tender_id).await?;
    let mut out = EvaluationView {
        tender: TenderSummary {
            id: t.try_get("id")?,
            code: t.try_get("code")?,
            title: t.try_get("title")?,
            category: t.try_get("category")?,
            method: t.try_get("method")?,
            status: t.try_get("status")?,
        },
        phase: e.as_ref().map(|e| e.phase),
        confirmed_warnings: crate::collusion::repo::confirmed(pool, tender_id).await?,
        me: Viewer {
            role: role_name(&m),
            finance: m.finance,
            expert_id: m.seat.as_ref().map(|s| s.expert_id.clone()),
            seat: m.seat.as_ref().map(|s| s.seat),
            status: m.seat.as_ref().map(|s| s.status.clone()),
            declaration: None,
        },
        terms: terms.clone(),
        server_time: state.clock.now_ms(),
        session: None,
    };
    let Some(e) = e else {
        return Ok(out);
    };
    // An invited expert signs the declaration of no conflict to take the seat.
    if let Some(s) = m.seat.as_ref().filter(|s| s.status == "invited") {
        let me = crate::evaluation::pseudonyms::Pseudonyms::from_stored(e.pseudonym_key.as_deref())
            .expert(&s.expert_id);
        out.me.declaration = Some(DeclarationRequest {
            kind: "conflict_declaration",
            statement: super::rules::DECLARATION,
            statement_en: super::rules::DECLARATION_EN,
            statement_sha256: crate::crypto::sha256_hex(super::rules::DECLARATION.as_bytes()),
            tender_id: tender_id.to_string(),
            example_payload: super::rules::declaration_payload(tender_id, &me),
            expert_id: me,
        });
    }
    let awarded = e.phase == Phase::Awarded;
    let seats = panel(pool, tender_id).await?;
    let accepted: Vec<&access::Seat> = seats.iter().filter(|s| s.status == "accepted").collect();
    let me_expert = m.seat.as_ref().map(|s| s.expert_id.clone());
    let bids = read_out_bids(pool, tender_id).await?;
    let finals = super::repo::final_offers(pool, tender_id).await?;
    let docs = crate::opening::repo::read_out_documents(pool, tender_id).await?;
    let qual = qualification(pool, tender_id).await?;
    let rev = reviews(pool, tender_id).await?;
    let rev_checks = review_checks(pool, tender_id).await?;
    let checklist = terms.as_ref().map_or(&[][..], |t| &t.checklist[..]);
    let rows = scores(pool, tender_id).await?;
    let clar = clarifications(pool, tender_id).await?;
    let compliant = compliant_ids(e.prices.as_ref());
    let all_flags = terms
        .as_ref()
        .map(|t| flags(t, &accepted, &rows))
        .unwrap_or_default();
    let seat_no: BTreeMap<&str, i64> = seats
        .iter()
        .filter(|s| s.status != "declined")
        .map(|s| (s.expert_id.as_str(), s.seat))
        .collect();

    let mut panel_out = Vec::new();
    for s in &seats {
        let show_name = m.supervisor || awarded || me_expert.as_deref() == Some(&s.expert_id);
        // Supervisors also see the login, to reach an expert who does not answer.
        let (name, username): (Option<String>, Option<String>) = if show_name {
            let r = sqlx::query(
                "SELECT e.name, u.username FROM experts e LEFT JOIN users u ON u.id = e.user_id \
                 WHERE e.id = $1",
            )
            .bind(&s.expert_id)
            .fetch_one(pool)
            .await?;
            (
                r.try_get("name")?,
                if m.supervisor {
                    r.try_get("username")?
                } else {
                    None
                },
            )
        } else {
            (None, None)
        };
        let reviewed = rev.keys().filter(|(_, x)| x == &s.expert_id).count();
        let scored: BTreeSet<&str> = rows
            .iter()
            .filter(|r| r.expert_id == s.expert_id)
            .map(|r| r.bid_id.as_str())
            .collect();
        panel_out.push(PanelSeatView {
            seat: s.seat,
            status: s.status.clone(),
            expert_id: if m.supervisor || awarded || m.seat.is_some() {
                Some(s.expert_id.clone())
            } else {
                None
            },
            name,
            username,
            reviews_done: reviewed,
            scores_done: scored.len(),
        });
    }

    // Price derivations per bid, from the compliance step.
    let mut priced: BTreeMap<String, (Value, Value)> = BTreeMap::new();
    for lot in e
        .prices
        .as_ref()
        .and_then(|p| p["lots"].as_array())
        .into_iter()
        .flatten()
    {
        for b in lot["result"]["bids"].as_array().into_iter().flatten() {
            if let Some(id) = b["bidder"].as_str() {
                priced.insert(
                    id.to_string(),
                    (b["price"].clone(), b["abnormally_low"].clone()),
                );
            }
        }
    }

    let mut bids_out = Vec::new();
    for b in &bids {
        let mine_scored = me_expert.as_ref().is_some_and(|me| {
            rows.iter()
                .any(|r| &r.expert_id == me && r.bid_id == b.bid_id)
        });
        let open_scores = m.supervisor || mine_scored || e.phase >= Phase::Signing;
        let mut sheets: BTreeMap<i64, super::rules::Sheet> = BTreeMap::new();
        let mut my_scores: Option<BTreeMap<String, String>> = None;
        for r in rows.iter().filter(|r| r.bid_id == b.bid_id) {
            if me_expert.as_deref() == Some(&r.expert_id) {
                my_scores
                    .get_or_insert_with(BTreeMap::new)
                    .insert(r.item.clone(), fmt_points(r.score));
            }
            if open_scores {
                let seat = seat_no.get(r.expert_id.as_str()).copied().unwrap_or(0);
                let sheet = sheets.entry(seat).or_default();
                sheet.0.insert(r.item.clone(), fmt_points(r.score));
                if let Some(reason) = &r.outlier_reason {
                    sheet.1.insert(r.item.clone(), reason.clone());
                }
            }
        }
        let my_review = me_expert
            .as_ref()
            .and_then(|me| rev.get(&(b.bid_id.clone(), me.clone())));
        let (pass, fail) = rev.iter().filter(|((bid, _), _)| bid == &b.bid_id).fold(
            (0, 0),
            |(p, f), (_, (ok, _))| if *ok { (p + 1, f) } else { (p, f + 1) },
        );
        let of_bid: Vec<super::rules::ReviewOf> = rev
            .iter()
            .filter(|((bid, _), _)| bid == &b.bid_id)
            .map(|(key, (ok, _))| (*ok, rev_checks.get(key)))
            .collect();
        let my_checks = me_expert
            .as_ref()
            .and_then(|me| rev_checks.get(&(b.bid_id.clone(), me.clone())))
            .cloned()
            .unwrap_or_default();
        let bid_flags: Vec<FlagView> = all_flags
            .iter()
            .filter(|f| f.bid_id == b.bid_id)
            .filter(|f| open_scores || me_expert.as_deref() == Some(&f.expert_id))
            .map(|f| FlagView {
                kind: f.kind,
                item: f.item.clone(),
                seat: seat_no.get(f.expert_id.as_str()).copied(),
                mine: me_expert.as_deref() == Some(&f.expert_id),
                explained: f.explained,
            })
            .collect();
        let (mut evaluated, abnormal) = priced
            .get(&b.bid_id)
            .cloned()
            .unwrap_or((Value::Null, Value::Null));
        // After a negotiation the final offer is the price; the response's evaluated
        // price no longer applies.
        let final_offer = finals.as_ref().and_then(|f| f.get(&b.bid_id));
        let sheet = match final_offer {
            Some(Some(s)) => s,
            _ => &b.sheet,
        };
        if final_offer.is_some() {
            evaluated = Value::Null;
        }
        let verdict = |(pass, reason): &(bool, String)| Verdict {
            pass: *pass,
            reason: reason.clone(),
        };
        bids_out.push(BidView {
            bid_id: b.bid_id.clone(),
            lot_no: b.lot_no,
            position: b.position,
            bidder_name: b.bidder_name.clone(),
            price: crate::money::Money(sheet.total_price_fen),
            price_words: sheet.total_price_words.clone(),
            brand: b.sheet.brand.clone(),
            documents: if m.seat.is_none() || m.expert().is_some() {
                docs.get(&b.bid_id).cloned().unwrap_or_default()
            } else {
                Vec::new()
            },
            qualification: qual.get(&b.bid_id).map(verdict),
            reviews: ReviewTally {
                done: pass + fail,
                pass,
                fail,
                mine: my_review.map(verdict),
                criteria: CriterionTally::of(criterion_tally(checklist, &of_bid)),
                my_checks,
            },
            compliant: if e.prices.is_some() {
                Some(compliant.contains(&b.bid_id))
            } else {
                None
            },
            evaluated,
            abnormally_low: abnormal,
            clarifications: clar
                .iter()
                .filter(|c| c.bid_id == b.bid_id)
                .cloned()
                .collect(),
            my_scores,
            scores: if open_scores {
                Some(
                    sheets
                        .into_iter()
                        .map(|(seat, (items, reasons))| SeatSheet {
                            seat,
                            items,
                            reasons,
                        })
                        .collect(),
                )
            } else {
                None
            },
            flags: bid_flags,
            negotiated: final_offer.map(|f| if f.is_some() { "final_offer" } else { "out" }),
        });
    }

    let experts_n = accepted.len();
    let under_review = qual.values().filter(|(p, _)| *p).count();
    let items_n = terms.as_ref().map_or(0, |t| t.items.len());
    let scored_pairs: BTreeSet<(&str, &str)> = rows
        .iter()
        .map(|r| (r.bid_id.as_str(), r.expert_id.as_str()))
        .collect();
    let draw = e.draw.as_ref().map(|d| DrawSummary {
        seed: d.seed.clone(),
        nonce: d.input.nonce.clone(),
        ledger_head: d.input.ledger_head.clone(),
        committee_size: d.committee_size,
        experts_needed: d.experts_needed,
        excluded: d.excluded.len(),
        // Each reason apart (an expert with two reasons counts under both): most are of
        // another specialty, not a conflict of interest.
        excluded_by: d.excluded.iter().flat_map(|e| e.reasons.iter()).fold(
            BTreeMap::<String, usize>::new(),
            |mut m, r| {
                let key = serde_json::to_value(r)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                *m.entry(key).or_default() += 1;
                m
            },
        ),
        declined: d.declined.len(),
    });
    let progress = ProgressView {
        reviews_done: rev.len(),
        reviews_total: experts_n * under_review,
        scores_done: if items_n > 0 { scored_pairs.len() } else { 0 },
        scores_total: if items_n > 0 {
            experts_n * compliant.len()
        } else {
            0
        },
    };
    let report = match (&e.report, &e.report_sha256) {
        (Some(report), Some(sha)) => {
            let signed = sqlx::query(
                "SELECT expert_id, dissent, at FROM evaluation_signatures WHERE tender_id = $1 \
                 ORDER BY at",
            )
            .bind(tender_id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                let expert: String = r.try_get("expert_id")?;
                Ok(SignatureView {
                    seat: seat_no.get(expert.as_str()).copied(),
                    at: r.try_get("at")?,
                    dissent: r.try_get("dissent")?,
                    mine: me_expert.as_deref() == Some(expert.as_str()),
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
            let signing = me_expert.as_ref().map(|me| {
                let me = crate::evaluation::pseudonyms::Pseudonyms::from_stored(
                    e.pseudonym_key.as_deref(),
                )
                .expert(me);
                SigningRequest {
                    kind: "evaluation_report_signature",
                    tender_id: tender_id.to_string(),
                    report_sha256: sha.clone(),
                    example_payload: signing_payload(tender_id, sha, &me, ""),
                    expert_id: me,
                }
            });
            Some(ReportView {
                sha256: sha.clone(),
                signed,
                winners: super::report::winners(report),
                signing,
            })
        }
        _ => None,
    };
    let chair = super::chair::chair(&state.db.pool, tender_id)
        .await?
        .map(|(seat, drawn)| super::types::ChairView { seat, drawn });
    let chair_votes = super::chair::votes(&state.db.pool, tender_id)
        .await?
        .into_iter()
        .map(|(seat, votes)| super::types::ChairVotes { seat, votes })
        .collect();
    out.session = Some(SessionView {
        requirement: e.requirement.clone(),
        draw,
        panel: panel_out,
        bids: bids_out,
        progress,
        chair,
        chair_votes,
        failed_reason: e.failed_reason.clone(),
        failed_lots: e
            .prices
            .as_ref()
            .map(|p| p["failed_lots"].clone())
            .unwrap_or(Value::Null),
        result: e
            .report
            .as_ref()
            .map(|r| r["lots"].clone())
            .unwrap_or(Value::Null),
        report,
        confirm_due_at: e.confirm_due_at,
        reported_at: e.reported_at,
        awarded_at: e.awarded_at,
    });
    Ok(out)
}

/// Who may read the bids' documents: seated experts, the agency, the purchaser and
/// supervisors, once the evaluation has begun (an expert drawn but not seated is refused).
pub(crate) async fn document_reader(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<access::Member> {
    let m = access::member(state, user, tender_id).await?;
    if m.seat.is_some() && m.expert().is_none() {
        return Err(EvalRoomError::NotOnPanel.into());
    }
    eval_row(&state.db.pool, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(m)
}

/// The document `sha256` among those the tender's opening read out.
pub(crate) async fn read_out_document(
    state: &AppState,
    tender_id: &str,
    sha256: &str,
) -> AppResult<crate::ledger::Document> {
    crate::opening::repo::read_out_documents(&state.db.pool, tender_id)
        .await?
        .into_values()
        .flatten()
        .find(|d| d.sha256 == sha256)
        .ok_or(AppError::NotFound)
}

/// One bid document for the committee ([`document_reader`]): (name, media type, size, its
/// bytes as a stream from the blob store).
pub async fn document(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    sha256: &str,
) -> AppResult<(String, String, u64, crate::blob::BlobStream)> {
    let m = document_reader(state, user, tender_id).await?;
    // Experts read in the room's reader unless the operator lets them download.
    if m.expert().is_some() && !state.config.expert_downloads {
        return Err(EvalRoomError::DownloadNotAllowed.into());
    }
    let d = read_out_document(state, tender_id, sha256).await?;
    let (size, parts) = state
        .blobs
        .stream(sha256)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((d.name, d.media_type, size, parts))
}

/// Others' scores for one bid: SCORES_SEALED until the expert has scored it.
pub async fn bid_scores(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    bid_id: Option<&str>,
) -> AppResult<BidScores> {
    let m = access::member(state, user, tender_id).await?;
    let e = eval_row(&state.db.pool, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let bid_id = bid_id.ok_or_else(|| AppError::field("bid_id", "必填 / required"))?;
    let rows = scores(&state.db.pool, tender_id).await?;
    if let Some(seat) = &m.seat {
        let mine = rows
            .iter()
            .any(|r| r.expert_id == seat.expert_id && r.bid_id == bid_id);
        if !mine && e.phase < Phase::Signing {
            return Err(EvalRoomError::ScoresSealed.into());
        }
    }
    let seats = panel(&state.db.pool, tender_id).await?;
    let mut out: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.bid_id == bid_id) {
        let seat = seats
            .iter()
            .find(|s| s.expert_id == r.expert_id && s.status != "declined")
            .map_or(0, |s| s.seat);
        out.entry(seat)
            .or_default()
            .insert(r.item.clone(), fmt_points(r.score));
    }
    Ok(BidScores {
        bid_id: bid_id.to_string(),
        scores: out
            .into_iter()
            .map(|(seat, items)| SeatScores { seat, items })
            .collect(),
    })
}

/// A bidder's own clarifications (questions about its bids and its answers).
pub async fn own_clarifications(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<OwnClarifications> {
    if user.role != Role::Supplier {
        return Err(AppError::Forbidden);
    }
    let org = user.org_id.as_deref().unwrap_or("");
    let own: BTreeSet<String> = crate::bid::repo::for_bidder(&state.db.pool, tender_id, org)
        .await?
        .into_iter()
        .map(|b| b.id)
        .collect();
    let list: Vec<_> = clarifications(&state.db.pool, tender_id)
        .await?
        .into_iter()
        .filter(|c| own.contains(&c.bid_id))
        .collect();
    Ok(OwnClarifications {
        clarifications: list,
    })
}
