//! The evaluation's commands and automatic steps (docs/evaluation.md). Each runs in one
//! transaction that first locks the tender row, changes the evaluation's rows and appends
//! its ledger event; the hub rooms are told after the commit.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use sqlx::Row;

use super::access::{self, Member, Seat};
use super::types::{self, Ack, ChangeKind, Command, EvalRoomError, EvaluationTerms, Phase};
use crate::auth::{CurrentUser, Role};
use crate::calendar::deadlines::DeadlineRule;
use crate::crypto::sha256_hex;
use crate::db::Tx;
use crate::draw::{self, DrawRecord, Requirement};
use crate::error::{AppError, AppResult};
use crate::evaluation as eval;
use crate::evaluation::pseudonyms::Pseudonyms;
use crate::ledger::{self, canonical_json, repo::append, LedgerEvent};
use crate::state::AppState;
use crate::tender::repo as tender_repo;
use crate::tender::repo::TenderHead;
use crate::tender::types::{TenderAction, TenderStatus};
use crate::tender::Action;

/// Longest reason, question or answer, in characters.
const MAX_TEXT: usize = 4000;

use super::repo::*;
pub use super::rules::signing_payload;
use super::rules::*;
use crate::opening::repo::read_out_bids;
use crate::opening::types::ReadOutBid;

/// What a command works with: the transaction that locked the tender, the tender, the
/// server's time, who asks and their standing in the evaluation (checked inside the
/// transaction).
struct Ctx<'a> {
    state: &'a AppState,
    tx: &'a mut Tx,
    user: &'a CurrentUser,
    m: &'a Member,
    head: &'a TenderHead,
    now: i64,
}

/// Runs one command for `user`; the result is what the command's acknowledgement carries.
pub async fn command(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    cmd: Command,
) -> AppResult<Ack> {
    // Scores go by group commit (scores.rs); every other command has a transaction of
    // its own.
    let cmd = match cmd {
        Command::Score {
            bid_id,
            items,
            bands,
        } => {
            let sub = super::scores::Submission {
                user: user.clone(),
                tender_id: tender_id.to_string(),
                bid_id,
                items,
                bands,
                at: state.clock.now_ms(),
            };
            return super::scores::submit(state, sub).await;
        }
        cmd => cmd,
    };
    let mut a = Action::begin(state, tender_id).await?;
    let (tx, head, now) = (&mut a.tx, &a.head, a.now);
    let mut m = access::of(user, head);
    if let Some(seat) = access::seat_of(&mut **tx, user, tender_id).await? {
        m.seat = seat;
        if m.seat.is_none() {
            return Err(EvalRoomError::NotOnPanel.into());
        }
    }
    let name = cmd.name();
    let c = Ctx {
        state,
        tx,
        user,
        m: &m,
        head,
        now,
    };
    let result = match cmd {
        Command::RequestDraw {
            specialty,
            region,
            complex,
            committee_size,
        } => request_draw(c, specialty, region, complex, committee_size).await?,
        Command::Draw { nonce } => run_draw(c, &nonce).await?,
        Command::Accept { declaration } => {
            let answer = Answer::Accept(declaration);
            respond(c, answer).await?
        }
        Command::Decline { reason } => {
            let answer = Answer::Decline(reason);
            respond(c, answer).await?
        }
        Command::Qualify {
            bid_id,
            pass,
            reason,
        } => qualify(c, &bid_id, pass, &reason).await?,
        Command::Review {
            bid_id,
            pass,
            reason,
            checks,
        } => review(c, &bid_id, pass, &reason, &checks).await?,
        Command::Score { .. } => unreachable!("scores are taken to the group commit above"),
        Command::Revise {
            bid_id,
            item,
            score,
            kind,
            reason,
            band,
        } => revise(c, &bid_id, &item, &score, kind, &reason, band.as_deref()).await?,
        Command::Explain {
            bid_id,
            item,
            reason,
        } => explain(c, &bid_id, &item, &reason).await?,
        Command::Clarify { bid_id, question } => clarify(c, &bid_id, &question).await?,
        Command::AnswerClarification {
            clarification_id,
            text,
        } => answer(c.tx, c.user, c.head, &clarification_id, &text, c.now).await?,
        Command::FinishScoring {} => finish_scoring(c).await?,
        Command::Sign {
            key_id,
            signature,
            dissent,
        } => sign(c, &key_id, &signature, &dissent).await?,
        Command::Say { text } => say(c, &text).await?,
        Command::ElectChair { seat } => super::chair::elect(c.tx, c.m, c.head, seat, c.now).await?,
        Command::DrawChair {} => super::chair::draw(c.tx, c.m, &c.user.id, c.head, c.now).await?,
        Command::ConfirmWinner {} => {
            if !c.m.purchaser {
                return Err(AppError::Forbidden);
            }
            award(c.tx, c.head, &c.user.id, "purchaser", c.now).await?
        }
    };
    a.commit(state).await?;
    tracing::info!(tender = %tender_id, command = name, "evaluation command");
    Ok(result)
}

/// A seated expert speaks to the panel, from the qualification until the report is
/// signed; the panel and supervisors read it (docs/chat.md).
async fn say(c: Ctx<'_>, text: &str) -> AppResult<Ack> {
    let seat = c.m.expert().ok_or(AppError::Forbidden)?.seat;
    if !matches!(
        eval_row(&mut **c.tx, &c.head.id).await?.map(|e| e.phase),
        Some(Phase::Qualification | Phase::Compliance | Phase::Scoring | Phase::Signing)
    ) {
        return Err(crate::chat::types::ChatError::Closed.into());
    }
    let post = crate::chat::types::Post {
        room: "evaluation",
        author_role: "expert",
        author_label: format!("第 {seat} 席"),
        org_id: None,
        audience: crate::chat::types::Audience::Panel,
        reply_to: None,
        text,
    };
    let id = crate::chat::service::post(c.tx, &c.head.id, &c.user.id, c.now, post).await?;
    Ok(Ack::Posted { message_id: id })
}

/// `GET /api/tenders/{id}/evaluation/messages`: the panel's channel, for the panel and
/// supervisors (an empty list to the other members).
pub async fn messages(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<Vec<crate::chat::types::MessageView>> {
    let m = access::member(state, user, tender_id).await?;
    let reader = crate::chat::types::Reader {
        user_id: user.id.clone(),
        supervisor: m.supervisor,
        panel: m.expert().is_some(),
        ..Default::default()
    };
    crate::chat::service::list(&state.db.pool, tender_id, "evaluation", &reader).await
}

fn illegal(from: &str, action: &'static str) -> AppError {
    AppError::IllegalTransition {
        from: from.to_string(),
        action,
    }
}

fn text(field: &str, s: &str, required: bool) -> AppResult<String> {
    let t = s.trim();
    if required && t.is_empty() {
        return Err(AppError::field(field, "必填 / required"));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(AppError::field(
            field,
            format!("最多 {MAX_TEXT} 字 / at most {MAX_TEXT} characters"),
        ));
    }
    Ok(t.to_string())
}

async fn require_phase(
    tx: &mut Tx,
    head: &TenderHead,
    want: &[Phase],
    action: &'static str,
) -> AppResult<EvalRow> {
    in_phase(head, eval_row(&mut **tx, &head.id).await?, want, action)
}

/// The evaluation row if it is in one of the phases `want`.
fn in_phase(
    head: &TenderHead,
    e: Option<EvalRow>,
    want: &[Phase],
    action: &'static str,
) -> AppResult<EvalRow> {
    match e {
        Some(e) if want.contains(&e.phase) => Ok(e),
        Some(e) => Err(illegal(e.phase.as_str(), action)),
        None => Err(illegal(head.status.as_str(), action)),
    }
}

/// Who a ledger event names as its actor: an expert by this evaluation's pseudonym
/// (R-EVAL-2: no id that would follow them from tender to tender), anyone else by user id.
async fn actor(
    tx: &mut Tx,
    head: &TenderHead,
    user: &CurrentUser,
    m: &Member,
) -> AppResult<String> {
    let Some(seat) = &m.seat else {
        return Ok(user.id.clone());
    };
    super::repo::expert_pseudonym(&mut **tx, &head.id, &seat.expert_id).await
}

async fn event(
    tx: &mut Tx,
    tender_id: &str,
    now: i64,
    actor: &str,
    event: LedgerEvent,
) -> AppResult<()> {
    append(tx, tender_id, now, actor, &event).await?;
    Ok(())
}

async fn request_draw(
    c: Ctx<'_>,
    specialty: String,
    region: Option<String>,
    complex: bool,
    committee_size: Option<u32>,
) -> AppResult<Ack> {
    let Ctx {
        state,
        tx,
        user,
        m,
        head,
        now,
    } = c;
    if !m.host {
        return Err(AppError::Forbidden);
    }
    if head.status != TenderStatus::Evaluating {
        return Err(illegal(head.status.as_str(), "request_draw"));
    }
    if let Some(e) = eval_row(&mut **tx, &head.id).await? {
        return Err(illegal(e.phase.as_str(), "request_draw"));
    }
    if terms(&mut **tx, &head.id).await?.is_none() {
        return Err(EvalRoomError::TermsMissing.into());
    }
    let specialty = text("specialty", &specialty, true)?;
    let budget_fen: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(budget_fen), 0) AS BIGINT) FROM tender_lots WHERE tender_id = $1",
    )
    .bind(&head.id)
    .fetch_one(&mut **tx)
    .await?;
    let region = match region.filter(|r| !r.trim().is_empty()) {
        Some(r) => Some(r),
        None => Some(
            sqlx::query_scalar("SELECT region_code FROM tenders WHERE id = $1")
                .bind(&head.id)
                .fetch_one(&mut **tx)
                .await?,
        ),
    };
    let req = Requirement {
        specialty,
        region,
        budget_fen,
        complex,
        committee_size,
        purchaser_representatives: 0,
        // R-EVAL-1 / R-METH-2: the panel rule of the tender's method, recorded with it.
        panel: Some(crate::tender::service::panel_rule(state, tx, &head.id).await?),
    };
    let (size, experts) =
        draw::committee(&req).map_err(|e| EvalRoomError::Draw(e.to_string(), e.code()))?;
    let req_json = serde_json::to_value(&req).map_err(anyhow::Error::from)?;
    // The pseudonyms' key is fixed now, before the nonce exists; only its hash is told.
    let key = Pseudonyms::new_key();
    sqlx::query(
        "INSERT INTO evaluations (tender_id, phase, requested_by, requirement, created_at, \
         pseudonym_key) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&head.id)
    .bind(Phase::Drawing.as_str())
    .bind(&user.id)
    .bind(req_json.to_string())
    .bind(now)
    .bind(&key)
    .execute(&mut **tx)
    .await?;
    let requested = ledger::EvaluationRequested {
        requirement: req_json,
        committee_size: size,
        experts_needed: experts,
        pseudonym_key_sha256: Pseudonyms::commitment(&key),
    };
    event(
        tx,
        &head.id,
        now,
        &user.id,
        LedgerEvent::EvaluationRequested(requested),
    )
    .await?;
    Ok(Ack::DrawRequested {
        phase: Phase::Drawing,
        committee_size: size,
        experts_needed: experts,
    })
}

fn draw_error(e: draw::DrawError) -> AppError {
    EvalRoomError::Draw(e.to_string(), e.code()).into()
}

async fn run_draw(c: Ctx<'_>, nonce: &str) -> AppResult<Ack> {
    let Ctx {
        tx,
        user,
        m,
        head,
        now,
        ..
    } = c;
    if !m.finance {
        return Err(AppError::Forbidden);
    }
    let e = require_phase(tx, head, &[Phase::Drawing], "draw").await?;
    if nonce.trim().is_empty() || nonce.chars().count() > 200 {
        return Err(AppError::field("nonce", "1–200 个字符 / 1–200 characters"));
    }
    let bidders: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT bidder_org_id FROM bids WHERE tender_id = $1 ORDER BY bidder_org_id",
    )
    .bind(&head.id)
    .fetch_all(&mut **tx)
    .await?;
    // The public record names experts and organisations by this evaluation's pseudonyms.
    let names = Pseudonyms::from_stored(e.pseudonym_key.as_deref());
    let experts = pool(tx).await?;
    let input = draw::DrawInput {
        tender_id: head.id.clone(),
        pool: names.pool(&experts),
        requirement: e.requirement.clone(),
        conflicts: names.conflicts(&draw::Conflicts {
            bidder_org_ids: bidders,
            purchaser_org_id: head.purchaser_org_id.clone(),
            agency_org_id: head.agency_org_id.clone(),
        }),
        ledger_head: ledger_head(tx, &head.id).await?,
        nonce: nonce.to_string(),
    };
    let record = draw::draw(&input).map_err(draw_error)?;
    for (i, name) in record.panel.iter().enumerate() {
        let id = names
            .expert_id(&experts, name)
            .ok_or_else(|| anyhow::anyhow!("drawn expert not in the pool"))?;
        invite(tx, &head.id, id, i as i64 + 1, now).await?;
    }
    let body = serde_json::to_value(&record).map_err(anyhow::Error::from)?;
    sqlx::query("UPDATE evaluations SET draw = $1, phase = $2 WHERE tender_id = $3")
        .bind(body.to_string())
        .bind(Phase::Seating.as_str())
        .bind(&head.id)
        .execute(&mut **tx)
        .await?;
    let drawn = LedgerEvent::ExpertsDrawn(ledger::ExpertsDrawn(body));
    event(tx, &head.id, now, &user.id, drawn).await?;
    Ok(Ack::Drawn {
        phase: Phase::Seating,
        seed: record.seed,
        panel: record.panel.len(),
    })
}

/// An invited expert's answer.
enum Answer {
    /// With the signed declaration of no conflict (required).
    Accept(Option<types::Declaration>),
    Decline(String),
}

async fn respond(c: Ctx<'_>, answer: Answer) -> AppResult<Ack> {
    let Ctx {
        state,
        tx,
        user,
        m,
        head,
        now,
    } = c;
    let seat = m.seat.clone().ok_or(AppError::Forbidden)?;
    let action = match answer {
        Answer::Accept(_) => "accept",
        Answer::Decline(_) => "decline",
    };
    let e = require_phase(tx, head, &[Phase::Seating], action).await?;
    if seat.status != "invited" {
        return Err(EvalRoomError::AlreadyResponded.into());
    }
    let names = Pseudonyms::from_stored(e.pseudonym_key.as_deref());
    let me = names.expert(&seat.expert_id);
    let reason = match answer {
        Answer::Decline(reason) => reason,
        Answer::Accept(declaration) => {
            // 回避承诺: signed with the expert's own signing key before the seat is taken.
            let d = declaration.ok_or(EvalRoomError::DeclarationRequired)?;
            let payload = declaration_payload(&head.id, &me);
            state
                .keyring()
                .verify_user_signature(&user.id, &d.key_id, payload.as_bytes(), &d.signature)
                .await?;
            let stored = json!({ "key_id": d.key_id, "signature": d.signature.trim(), "at": now });
            sqlx::query(
                "UPDATE evaluation_panel SET status = 'accepted', responded_at = $1, \
                 declaration = $2 WHERE tender_id = $3 AND expert_id = $4",
            )
            .bind(now)
            .bind(stored.to_string())
            .bind(&head.id)
            .bind(&seat.expert_id)
            .execute(&mut **tx)
            .await?;
            let accepted = ledger::ExpertAccepted {
                seat: seat.seat,
                expert: me.clone(),
                declaration_sha256: sha256_hex(d.signature.trim().as_bytes()),
            };
            event(
                tx,
                &head.id,
                now,
                &me,
                LedgerEvent::ExpertAccepted(accepted),
            )
            .await?;
            let all = panel(&mut **tx, &head.id).await?;
            let needed = e.draw.as_ref().map_or(0, |d| d.experts_needed as usize);
            if seated(&all).len() >= needed {
                set_phase(tx, &head.id, Phase::Qualification).await?;
                let seated = ledger::PanelSeated { seats: needed };
                event(
                    tx,
                    &head.id,
                    now,
                    "system",
                    LedgerEvent::PanelSeated(seated),
                )
                .await?;
                return Ok(Ack::Moved {
                    phase: Phase::Qualification,
                });
            }
            return Ok(Ack::Seated {
                phase: Phase::Seating,
                seat: seat.seat,
            });
        }
    };
    let reason = text("reason", &reason, true)?;
    sqlx::query(
        "UPDATE evaluation_panel SET status = 'declined', responded_at = $1, decline_reason = $2 \
         WHERE tender_id = $3 AND expert_id = $4",
    )
    .bind(now)
    .bind(&reason)
    .bind(&head.id)
    .bind(&seat.expert_id)
    .execute(&mut **tx)
    .await?;
    let declined = ledger::ExpertDeclined {
        seat: seat.seat,
        expert: me.clone(),
    };
    event(
        tx,
        &head.id,
        now,
        &me,
        LedgerEvent::ExpertDeclined(declined),
    )
    .await?;
    // R-EVAL-2: the next of the same order takes the seat.
    let record = e
        .draw
        .ok_or_else(|| anyhow::anyhow!("seating without a draw"))?;
    match draw::top_up(&record, std::slice::from_ref(&me)) {
        Ok(next) => {
            let before: BTreeSet<&String> = record.panel.iter().collect();
            let added: Vec<&String> = next
                .panel
                .iter()
                .filter(|id| !before.contains(id))
                .collect();
            let experts = pool(tx).await?;
            for name in &added {
                let id = names
                    .expert_id(&experts, name)
                    .ok_or_else(|| anyhow::anyhow!("topped-up expert not in the pool"))?;
                invite(tx, &head.id, id, seat.seat, now).await?;
            }
            let body = serde_json::to_value(&next).map_err(anyhow::Error::from)?;
            sqlx::query("UPDATE evaluations SET draw = $1 WHERE tender_id = $2")
                .bind(body.to_string())
                .bind(&head.id)
                .execute(&mut **tx)
                .await?;
            let drawn = LedgerEvent::ExpertsDrawn(ledger::ExpertsDrawn(body));
            event(tx, &head.id, now, "system", drawn).await?;
            Ok(Ack::ToppedUp {
                phase: Phase::Seating,
                topped_up: added.len(),
            })
        }
        Err(err) => {
            // The order is used up: a new panel is formed (R-EVAL-2). The seats are
            // released and the finance supervisor draws again with a new nonce; the
            // declines stay in the ledger.
            sqlx::query("DELETE FROM evaluation_panel WHERE tender_id = $1")
                .bind(&head.id)
                .execute(&mut **tx)
                .await?;
            sqlx::query("UPDATE evaluations SET phase = $1, draw = NULL WHERE tender_id = $2")
                .bind(Phase::Drawing.as_str())
                .bind(&head.id)
                .execute(&mut **tx)
                .await?;
            let dissolved = ledger::PanelDissolved {
                reason: err.code().to_string(),
                declined: next_declined(&record, &me),
            };
            event(
                tx,
                &head.id,
                now,
                "system",
                LedgerEvent::PanelDissolved(dissolved),
            )
            .await?;
            Ok(Ack::Dissolved {
                phase: Phase::Drawing,
                code: err.code(),
            })
        }
    }
}

/// Every expert who declined a seat of this draw, the last one included.
fn next_declined(record: &DrawRecord, last: &str) -> Vec<String> {
    let mut all = record.declined.clone();
    all.push(last.to_string());
    all
}

/// Lots that fell below their minimum, as `qualification_done` and `compliance_done`
/// list them.
fn ledger_lots(lots: &[(i64, String)]) -> Vec<ledger::FailedLot> {
    lots.iter()
        .map(|(lot_no, reason)| ledger::FailedLot {
            lot_no: *lot_no,
            reason: reason.clone(),
        })
        .collect()
}

/// The evaluation fails; the tender with it.
/// The evaluation fails with `reason` (R-EVAL-3, no panel, or a later stage's rule: too
/// few final offers, R-METH-2): the tender fails with it.
pub(crate) async fn fail(tx: &mut Tx, head: &TenderHead, reason: &str, now: i64) -> AppResult<()> {
    sqlx::query("UPDATE evaluations SET phase = $1, failed_reason = $2 WHERE tender_id = $3")
        .bind(Phase::Failed.as_str())
        .bind(reason)
        .bind(&head.id)
        .execute(&mut **tx)
        .await?;
    set_tender_status(tx, head, TenderAction::FailEvaluation).await?;
    let failed = ledger::EvaluationFailed {
        reason: reason.to_string(),
    };
    event(
        tx,
        &head.id,
        now,
        "system",
        LedgerEvent::EvaluationFailed(failed),
    )
    .await
}

async fn set_tender_status(tx: &mut Tx, head: &TenderHead, action: TenderAction) -> AppResult<()> {
    let next = head
        .status
        .after(action)
        .ok_or_else(|| illegal(head.status.as_str(), action.as_str()))?;
    tender_repo::set_status(tx, &head.id, next, None).await?;
    Ok(())
}

async fn qualify(c: Ctx<'_>, bid_id: &str, pass: bool, reason: &str) -> AppResult<Ack> {
    let Ctx {
        state,
        tx,
        user,
        m,
        head,
        now,
    } = c;
    if !(m.host || m.purchaser) {
        return Err(AppError::Forbidden);
    }
    require_phase(tx, head, &[Phase::Qualification], "qualify").await?;
    let bids = read_out_bids(&mut **tx, &head.id).await?;
    if !bids.iter().any(|b| b.bid_id == bid_id) {
        return Err(EvalRoomError::BidNotEvaluated.into());
    }
    let reason = text("reason", reason, !pass)?;
    let done = qualification(&mut **tx, &head.id).await?;
    if done.contains_key(bid_id) {
        return Err(EvalRoomError::AlreadyReviewed.into());
    }
    sqlx::query(
        "INSERT INTO evaluation_qualification (tender_id, bid_id, pass, reason, user_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&head.id)
    .bind(bid_id)
    .bind(i64::from(pass))
    .bind(&reason)
    .bind(&user.id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let done = qualification(&mut **tx, &head.id).await?;
    if done.len() < bids.len() {
        return Ok(Ack::Progress {
            phase: Phase::Qualification,
            done: done.len(),
            total: bids.len(),
        });
    }
    let passed: BTreeSet<String> = done
        .iter()
        .filter(|(_, (p, _))| *p)
        .map(|(id, _)| id.clone())
        .collect();
    let failed: Vec<String> = done
        .keys()
        .filter(|id| !passed.contains(*id))
        .cloned()
        .collect();
    let min = min_bids(tx, state, &head.id).await?;
    let lots = failed_lots(&bids, &passed, min, "qualification");
    let all_lots: BTreeSet<i64> = bids.iter().map(|b| b.lot_no).collect();
    let qualified = ledger::QualificationDone {
        passed: passed.into_iter().collect(),
        failed,
        failed_lots: ledger_lots(&lots),
    };
    event(
        tx,
        &head.id,
        now,
        &user.id,
        LedgerEvent::QualificationDone(qualified),
    )
    .await?;
    if lots.len() == all_lots.len() {
        fail(tx, head, &lots[0].1, now).await?;
        return Ok(Ack::Moved {
            phase: Phase::Failed,
        });
    }
    set_phase(tx, &head.id, Phase::Compliance).await?;
    Ok(Ack::Moved {
        phase: Phase::Compliance,
    })
}

async fn review(
    c: Ctx<'_>,
    bid_id: &str,
    pass: bool,
    reason: &str,
    checks: &BTreeMap<String, types::Check>,
) -> AppResult<Ack> {
    let Ctx {
        state,
        tx,
        user,
        m,
        head,
        now,
    } = c;
    let seat = m.expert().cloned().ok_or(if m.seat.is_some() {
        AppError::from(EvalRoomError::NotOnPanel)
    } else {
        AppError::Forbidden
    })?;
    require_phase(tx, head, &[Phase::Compliance], "review").await?;
    let bids = read_out_bids(&mut **tx, &head.id).await?;
    let qual = qualification(&mut **tx, &head.id).await?;
    let min = min_bids(tx, state, &head.id).await?;
    let qualified: BTreeSet<String> = qual
        .iter()
        .filter(|(_, (p, _))| *p)
        .map(|(id, _)| id.clone())
        .collect();
    let dead_lots: BTreeSet<i64> = failed_lots(&bids, &qualified, min, "qualification")
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    let under: Vec<&ReadOutBid> = bids
        .iter()
        .filter(|b| qualified.contains(&b.bid_id) && !dead_lots.contains(&b.lot_no))
        .collect();
    if !under.iter().any(|b| b.bid_id == bid_id) {
        return Err(EvalRoomError::BidNotEvaluated.into());
    }
    let terms = terms(&mut **tx, &head.id)
        .await?
        .ok_or(EvalRoomError::TermsMissing)?;
    // With a checklist a failure's reasons are the criteria's own.
    let (checks, reason) = checked_review(&terms.checklist, pass, reason, checks)?;
    let reason = text("reason", &reason, !pass)?;
    let done = reviews(&mut **tx, &head.id).await?;
    if done.contains_key(&(bid_id.to_string(), seat.expert_id.clone())) {
        return Err(EvalRoomError::AlreadyReviewed.into());
    }
    let checks_json = if terms.checklist.is_empty() {
        None
    } else {
        Some(serde_json::to_string(&checks).map_err(anyhow::Error::from)?)
    };
    sqlx::query(
        "INSERT INTO evaluation_reviews (tender_id, bid_id, expert_id, pass, reason, at, checks) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&head.id)
    .bind(bid_id)
    .bind(&seat.expert_id)
    .bind(i64::from(pass))
    .bind(&reason)
    .bind(now)
    .bind(checks_json)
    .execute(&mut **tx)
    .await?;
    let who = actor(tx, head, user, m).await?;
    let reviewed = ledger::BidReviewed {
        seat: seat.seat,
        bid_id: bid_id.to_string(),
    };
    event(tx, &head.id, now, &who, LedgerEvent::BidReviewed(reviewed)).await?;
    let done = reviews(&mut **tx, &head.id).await?;
    let experts = seated(&panel(&mut **tx, &head.id).await?)
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    let total = experts.len() * under.len();
    if done.len() < total {
        return Ok(Ack::Progress {
            phase: Phase::Compliance,
            done: done.len(),
            total,
        });
    }
    // A majority of the panel decides each bid (each criterion of the checklist).
    let all_checks = review_checks(&mut **tx, &head.id).await?;
    let compliant: BTreeSet<String> = under
        .iter()
        .filter(|b| {
            let of: Vec<ReviewOf> = experts
                .iter()
                .filter_map(|s| {
                    let key = (b.bid_id.clone(), s.expert_id.clone());
                    done.get(&key).map(|(p, _)| (*p, all_checks.get(&key)))
                })
                .collect();
            compliant_by_majority(&terms.checklist, &of, experts.len())
        })
        .map(|b| b.bid_id.clone())
        .collect();
    let lots = failed_lots(&bids, &compliant, min, "compliance");
    let failed_lot_nos: BTreeSet<i64> = lots.iter().map(|(l, _)| *l).chain(dead_lots).collect();
    let mut lot_prices = Vec::new();
    let mut flagged = Vec::new();
    for lot in bids
        .iter()
        .map(|b| b.lot_no)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|l| !failed_lot_nos.contains(l))
    {
        let lot_bids: Vec<&ReadOutBid> =
            under.iter().copied().filter(|b| b.lot_no == lot).collect();
        let result = price_only(tx, head, &terms, &lot_bids, &compliant).await?;
        for (b, r) in lot_bids.iter().zip(&result.bids) {
            if r.abnormally_low.is_some() {
                flagged.push(b.bid_id.clone());
            }
        }
        lot_prices.push(json!({ "lot_no": lot, "result": result }));
    }
    let standing: Vec<String> = compliant
        .iter()
        .filter(|id| {
            bids.iter()
                .any(|b| &b.bid_id == *id && !failed_lot_nos.contains(&b.lot_no))
        })
        .cloned()
        .collect();
    let failed_lots = ledger_lots(&lots);
    let prices = json!({
        "compliant": standing,
        "failed_lots": failed_lots,
        "lots": lot_prices,
        "abnormally_low": flagged,
    });
    sqlx::query("UPDATE evaluations SET prices = $1 WHERE tender_id = $2")
        .bind(prices.to_string())
        .bind(&head.id)
        .execute(&mut **tx)
        .await?;
    let failed: Vec<String> = under
        .iter()
        .map(|b| b.bid_id.clone())
        .filter(|id| !compliant.contains(id))
        .collect();
    let none_standing = standing.is_empty();
    let done = ledger::ComplianceDone {
        passed: standing,
        failed,
        abnormally_low: flagged,
        failed_lots,
    };
    event(
        tx,
        &head.id,
        now,
        "system",
        LedgerEvent::ComplianceDone(done),
    )
    .await?;
    if none_standing {
        let reason = lots
            .first()
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| "R-EVAL-3".into());
        fail(tx, head, &reason, now).await?;
        return Ok(Ack::Moved {
            phase: Phase::Failed,
        });
    }
    set_phase(tx, &head.id, Phase::Scoring).await?;
    Ok(Ack::Moved {
        phase: Phase::Scoring,
    })
}

fn eval_error(e: eval::EvalError) -> AppError {
    let (zh, en) = e.messages();
    EvalRoomError::Terms { zh, en }.into()
}

/// Evaluated prices and R-EVAL-8 flags, before any score.
async fn price_only(
    tx: &mut Tx,
    head: &TenderHead,
    terms: &EvaluationTerms,
    bids: &[&ReadOutBid],
    compliant: &BTreeSet<String>,
) -> AppResult<eval::LotResult> {
    let (category, date) = category_and_date(tx, &head.id).await?;
    let mut t = terms.to_terms(category, date);
    t.method = eval::Method::LowestEvaluatedPrice;
    let list = bids
        .iter()
        .map(|b| eval_bid(b, compliant.contains(&b.bid_id), BTreeMap::new()))
        .collect::<AppResult<Vec<_>>>()?;
    eval::evaluate_lot(&t, &list).map_err(eval_error)
}

pub(super) fn scoring_seat(m: &Member) -> AppResult<Seat> {
    m.expert().cloned().ok_or(if m.seat.is_some() {
        EvalRoomError::NotOnPanel.into()
    } else {
        AppError::Forbidden
    })
}

/// What scores are checked against: the evaluation row in its scoring phase, the terms,
/// the bids being scored.
pub(super) type Scoring = (EvalRow, EvaluationTerms, BTreeSet<String>);

async fn scoring_state(tx: &mut Tx, head: &TenderHead, action: &'static str) -> AppResult<Scoring> {
    let e = eval_row(&mut **tx, &head.id).await?;
    let terms = terms(&mut **tx, &head.id).await?;
    scoring_from(head, e, terms, action)
}

/// [`Scoring`] from the rows as read (under the tender's lock), or why there is none.
pub(super) fn scoring_from(
    head: &TenderHead,
    e: Option<EvalRow>,
    terms: Option<EvaluationTerms>,
    action: &'static str,
) -> AppResult<Scoring> {
    let e = in_phase(head, e, &[Phase::Scoring], action)?;
    let terms = terms.ok_or(EvalRoomError::TermsMissing)?;
    let mut compliant = compliant_ids(e.prices.as_ref());
    // A bidder out of the negotiation is scored no further.
    if let Some(finals) = &e.final_offers {
        compliant.retain(|id| !matches!(finals.get(id), Some(None)));
    }
    Ok((e, terms, compliant))
}

async fn revise(
    c: Ctx<'_>,
    bid_id: &str,
    item: &str,
    score: &str,
    kind: ChangeKind,
    reason: &str,
    band: Option<&str>,
) -> AppResult<Ack> {
    let Ctx {
        tx,
        user,
        m,
        head,
        now,
        ..
    } = c;
    let seat = scoring_seat(m)?;
    let (_, terms, compliant) = scoring_state(tx, head, "revise").await?;
    if !compliant.contains(bid_id) {
        return Err(EvalRoomError::BidNotEvaluated.into());
    }
    let Some(term) = terms.items.iter().find(|i| i.name == item) else {
        return Err(EvalRoomError::UnknownItem { item: item.into() }.into());
    };
    let to = parse_score(item, score)?;
    check_band(term, to, band)?;
    let reason = text("reason", reason, true)?;
    let from: Option<i64> = sqlx::query_scalar(
        "SELECT score FROM evaluation_scores WHERE tender_id = $1 AND bid_id = $2 \
         AND expert_id = $3 AND item = $4",
    )
    .bind(&head.id)
    .bind(bid_id)
    .bind(&seat.expert_id)
    .bind(item)
    .fetch_optional(&mut **tx)
    .await?;
    // R-EVAL-9 governs changes after submission; before it there is nothing to change.
    let from = from.ok_or_else(|| illegal("not_scored", "revise"))?;
    sqlx::query(
        "UPDATE evaluation_scores SET score = $1, at = $2 WHERE tender_id = $3 AND bid_id = $4 \
         AND expert_id = $5 AND item = $6",
    )
    .bind(to)
    .bind(now)
    .bind(&head.id)
    .bind(bid_id)
    .bind(&seat.expert_id)
    .bind(item)
    .execute(&mut **tx)
    .await?;
    let seq: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM evaluation_changes WHERE tender_id = $1",
    )
    .bind(&head.id)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO evaluation_changes (tender_id, seq, bid_id, expert_id, item, from_score, \
         to_score, kind, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&head.id)
    .bind(seq)
    .bind(bid_id)
    .bind(&seat.expert_id)
    .bind(item)
    .bind(from)
    .bind(to)
    .bind(kind.as_str())
    .bind(&reason)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let who = actor(tx, head, user, m).await?;
    let revised = ledger::ScoreRevised {
        seat: seat.seat,
        bid_id: bid_id.to_string(),
        item: item.to_string(),
        kind: kind.as_str().to_string(),
        reason_sha256: sha256_hex(reason.as_bytes()),
    };
    event(tx, &head.id, now, &who, LedgerEvent::ScoreRevised(revised)).await?;
    Ok(Ack::Revised {
        bid_id: bid_id.to_string(),
        item: item.to_string(),
        from: fmt_score(from),
        to: fmt_score(to),
    })
}

async fn explain(c: Ctx<'_>, bid_id: &str, item: &str, reason: &str) -> AppResult<Ack> {
    let Ctx {
        tx,
        user,
        m,
        head,
        now,
        ..
    } = c;
    let seat = scoring_seat(m)?;
    let (_, terms, _) = scoring_state(tx, head, "explain").await?;
    let reason = text("reason", reason, true)?;
    let all = panel(&mut **tx, &head.id).await?;
    let rows = scores(&mut **tx, &head.id).await?;
    let flagged = flags(&terms, &seated(&all), &rows).into_iter().any(|f| {
        f.kind == "outlier" && f.bid_id == bid_id && f.item == item && f.expert_id == seat.expert_id
    });
    if !flagged {
        return Err(EvalRoomError::NotAnOutlier.into());
    }
    sqlx::query(
        "UPDATE evaluation_scores SET outlier_reason = $1 WHERE tender_id = $2 AND bid_id = $3 \
         AND expert_id = $4 AND item = $5",
    )
    .bind(&reason)
    .bind(&head.id)
    .bind(bid_id)
    .bind(&seat.expert_id)
    .bind(item)
    .execute(&mut **tx)
    .await?;
    let who = actor(tx, head, user, m).await?;
    let explained = ledger::OutlierExplained {
        seat: seat.seat,
        bid_id: bid_id.to_string(),
        item: item.to_string(),
        reason_sha256: sha256_hex(reason.as_bytes()),
    };
    event(
        tx,
        &head.id,
        now,
        &who,
        LedgerEvent::OutlierExplained(explained),
    )
    .await?;
    Ok(Ack::Explained {
        bid_id: bid_id.to_string(),
        item: item.to_string(),
    })
}

async fn clarify(c: Ctx<'_>, bid_id: &str, question: &str) -> AppResult<Ack> {
    let Ctx {
        tx,
        user,
        m,
        head,
        now,
        ..
    } = c;
    if !m.host && m.expert().is_none() {
        return Err(if m.seat.is_some() {
            EvalRoomError::NotOnPanel.into()
        } else {
            AppError::Forbidden
        });
    }
    let e = require_phase(tx, head, &[Phase::Scoring], "clarify").await?;
    if !compliant_ids(e.prices.as_ref()).contains(bid_id) {
        return Err(EvalRoomError::BidNotEvaluated.into());
    }
    let question = text("question", question, true)?;
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO clarifications (id, tender_id, bid_id, question, asked_by, asked_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&head.id)
    .bind(bid_id)
    .bind(&question)
    .bind(&user.id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let who = actor(tx, head, user, m).await?;
    let requested = ledger::ClarificationRequested {
        clarification_id: id.clone(),
        bid_id: bid_id.to_string(),
        question_sha256: sha256_hex(question.as_bytes()),
    };
    event(
        tx,
        &head.id,
        now,
        &who,
        LedgerEvent::ClarificationRequested(requested),
    )
    .await?;
    Ok(Ack::Clarification {
        clarification_id: id,
    })
}

async fn answer(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    clarification_id: &str,
    text_in: &str,
    now: i64,
) -> AppResult<Ack> {
    if user.role != Role::Supplier {
        return Err(AppError::Forbidden);
    }
    let r = sqlx::query(
        "SELECT c.bid_id, c.answer, b.bidder_org_id FROM clarifications c \
         JOIN bids b ON b.id = c.bid_id WHERE c.id = $1 AND c.tender_id = $2",
    )
    .bind(clarification_id)
    .bind(&head.id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AppError::NotFound)?;
    let owner: String = r.try_get("bidder_org_id")?;
    if user.org_id.as_deref() != Some(owner.as_str()) {
        return Err(AppError::NotFound);
    }
    if r.try_get::<Option<String>, _>("answer")?.is_some() {
        return Err(EvalRoomError::AlreadyAnswered.into());
    }
    require_phase(tx, head, &[Phase::Scoring], "answer_clarification").await?;
    let answer = text("text", text_in, true)?;
    let bid_id: String = r.try_get("bid_id")?;
    sqlx::query(
        "UPDATE clarifications SET answer = $1, answered_by = $2, answered_at = $3 WHERE id = $4",
    )
    .bind(&answer)
    .bind(&user.id)
    .bind(now)
    .bind(clarification_id)
    .execute(&mut **tx)
    .await?;
    let answered = ledger::ClarificationAnswered {
        clarification_id: clarification_id.to_string(),
        bid_id,
        answer_sha256: sha256_hex(answer.as_bytes()),
    };
    event(
        tx,
        &head.id,
        now,
        &user.id,
        LedgerEvent::ClarificationAnswered(answered),
    )
    .await?;
    Ok(Ack::Clarification {
        clarification_id: clarification_id.to_string(),
    })
}

async fn finish_scoring(c: Ctx<'_>) -> AppResult<Ack> {
    let Ctx {
        state,
        tx,
        user,
        m,
        head,
        now,
        ..
    } = c;
    super::chair::check_finisher(tx, m, head).await?;
    let (e, terms, compliant) = scoring_state(tx, head, "finish_scoring").await?;
    // Negotiation and consultation close on the final offers (R-METH-2): every supplier
    // still in makes one.
    let method: String = sqlx::query_scalar("SELECT method FROM tenders WHERE id = $1")
        .bind(&head.id)
        .fetch_one(&mut **tx)
        .await?;
    let rounds = crate::plan::ProcurementMethod::parse(&method).is_some_and(|m| {
        state
            .runtime::<crate::tender::methods::MethodRules>()
            .final_offer(m)
    });
    if rounds && e.final_offers.is_none() {
        return Err(EvalRoomError::NegotiationNotFinished.into());
    }
    let all = panel(&mut **tx, &head.id).await?;
    let experts = seated(&all);
    let rows = scores(&mut **tx, &head.id).await?;
    let missing = incomplete(&terms, &experts, &compliant, &rows);
    if !missing.is_empty() {
        let names: BTreeMap<String, String> = read_out_bids(&mut **tx, &head.id)
            .await?
            .into_iter()
            .map(|b| (b.bid_id, b.bidder_name))
            .collect();
        let bidder = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
        let (zh, en): (Vec<String>, Vec<String>) = missing.iter().map(|m| m.text(&bidder)).unzip();
        return Err(EvalRoomError::ScoringIncomplete {
            zh: zh.join("；"),
            en: en.join("; "),
        }
        .into());
    }
    let report = super::report::build(tx, head, &e, &terms, &experts, &rows, now).await?;
    // Stored, hashed and signed as JSON.
    let report = serde_json::to_value(&report).map_err(anyhow::Error::from)?;
    let sha = sha256_hex(canonical_json(&report).as_bytes());
    sqlx::query(
        "UPDATE evaluations SET phase = $1, report = $2, report_sha256 = $3, scoring_closed_at = $4 \
         WHERE tender_id = $5",
    )
    .bind(Phase::Signing.as_str())
    .bind(report.to_string())
    .bind(&sha)
    .bind(now)
    .bind(&head.id)
    .execute(&mut **tx)
    .await?;
    let closed = ledger::ScoringClosed {
        report_sha256: sha.clone(),
    };
    event(
        tx,
        &head.id,
        now,
        &user.id,
        LedgerEvent::ScoringClosed(closed),
    )
    .await?;
    Ok(Ack::ScoringClosed {
        phase: Phase::Signing,
        report_sha256: sha,
    })
}

async fn sign(c: Ctx<'_>, key_id: &str, signature: &str, dissent: &str) -> AppResult<Ack> {
    let Ctx {
        state,
        tx,
        user,
        m,
        head,
        now,
    } = c;
    let seat = scoring_seat(m)?;
    let e = require_phase(tx, head, &[Phase::Signing], "sign").await?;
    super::chair::check_signer(tx, head, seat.seat).await?;
    let signed: Option<i64> = sqlx::query_scalar(
        "SELECT COUNT(*) FROM evaluation_signatures WHERE tender_id = $1 AND expert_id = $2",
    )
    .bind(&head.id)
    .bind(&seat.expert_id)
    .fetch_optional(&mut **tx)
    .await?;
    if signed.unwrap_or(0) > 0 {
        return Err(EvalRoomError::AlreadySigned.into());
    }
    let dissent = text("dissent", dissent, false)?;
    let sha = e
        .report_sha256
        .clone()
        .ok_or_else(|| anyhow::anyhow!("signing without a report"))?;
    // The report names its experts by this evaluation's pseudonyms; so does what they sign.
    let me = Pseudonyms::from_stored(e.pseudonym_key.as_deref()).expert(&seat.expert_id);
    let payload = signing_payload(&head.id, &sha, &me, &dissent);
    state
        .keyring()
        .verify_user_signature(&user.id, key_id, payload.as_bytes(), signature)
        .await?;
    sqlx::query(
        "INSERT INTO evaluation_signatures (tender_id, expert_id, key_id, signature, dissent, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&head.id)
    .bind(&seat.expert_id)
    .bind(key_id)
    .bind(signature.trim())
    .bind(&dissent)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let who = actor(tx, head, user, m).await?;
    // The signature's digest ties it to the report; a key id would follow the expert
    // from tender to tender (R-EVAL-2).
    let signed = ledger::ReportSigned {
        seat: seat.seat,
        dissent: !dissent.is_empty(),
        signature_sha256: sha256_hex(signature.trim().as_bytes()),
        key_id: None,
    };
    event(tx, &head.id, now, &who, LedgerEvent::ReportSigned(signed)).await?;
    let all = panel(&mut **tx, &head.id).await?;
    let n_signed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM evaluation_signatures WHERE tender_id = $1")
            .bind(&head.id)
            .fetch_one(&mut **tx)
            .await?;
    if (n_signed as usize) < seated(&all).len() {
        return Ok(Ack::Signed {
            phase: Phase::Signing,
            signed: n_signed,
        });
    }
    // R-EVAL-10: 24:00 of the 5th working day after the report, by the official calendar.
    let due = state
        .runtime::<crate::calendar::Deadlines>()
        .due(DeadlineRule::WinnerConfirmation, now);
    sqlx::query(
        "UPDATE evaluations SET phase = $1, reported_at = $2, confirm_due_at = $3 WHERE tender_id = $4",
    )
    .bind(Phase::Reported.as_str())
    .bind(now)
    .bind(due)
    .bind(&head.id)
    .execute(&mut **tx)
    .await?;
    let completed = ledger::ReportCompleted {
        report_sha256: sha,
        signatures: n_signed,
        confirm_due_at: due,
    };
    event(
        tx,
        &head.id,
        now,
        "system",
        LedgerEvent::ReportCompleted(completed),
    )
    .await?;
    Ok(Ack::Reported {
        phase: Phase::Reported,
        confirm_due_at: due,
    })
}

/// The first-ranked bid of every lot standing is the winner (R-EVAL-10); `by` is
/// `purchaser` or `deadline`.
async fn award(tx: &mut Tx, head: &TenderHead, actor: &str, by: &str, now: i64) -> AppResult<Ack> {
    let e = require_phase(tx, head, &[Phase::Reported], "confirm_winner").await?;
    let report = e
        .report
        .ok_or_else(|| anyhow::anyhow!("reported without a report"))?;
    let winners = super::report::winners(&report);
    sqlx::query("UPDATE evaluations SET phase = $1, awarded_at = $2 WHERE tender_id = $3")
        .bind(Phase::Awarded.as_str())
        .bind(now)
        .bind(&head.id)
        .execute(&mut **tx)
        .await?;
    set_tender_status(tx, head, TenderAction::Award).await?;
    // The panel's names are public now: the pseudonyms' key is told, so anyone can
    // check the draw record against the experts named in the result.
    let confirmed = ledger::WinnerConfirmed {
        by: by.to_string(),
        winners: winners.clone(),
        pseudonym_key: e.pseudonym_key,
    };
    event(
        tx,
        &head.id,
        now,
        actor,
        LedgerEvent::WinnerConfirmed(confirmed),
    )
    .await?;
    Ok(Ack::Awarded {
        phase: Phase::Awarded,
        winners,
    })
}

/// The scheduler's part: a report whose confirmation deadline passed stands as ranked.
pub async fn advance_due(state: &AppState) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    let due: Vec<String> = sqlx::query_scalar(
        "SELECT tender_id FROM evaluations WHERE phase = $1 AND confirm_due_at <= $2",
    )
    .bind(Phase::Reported.as_str())
    .bind(now)
    .fetch_all(&state.db.pool)
    .await?;
    for id in due {
        let mut tx = state.db.begin().await?;
        let Some(head) = tender_repo::lock(&mut tx, &id).await? else {
            continue;
        };
        match award(&mut tx, &head, "system", "deadline", now).await {
            Ok(_) => {
                tx.commit().await?;
                state.rooms.notify(&id);
            }
            Err(AppError::IllegalTransition { .. }) => {}
            Err(e) => return Err(anyhow::anyhow!("awarding {id}: {e}")),
        }
    }
    Ok(())
}
