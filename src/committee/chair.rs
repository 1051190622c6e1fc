//! The panel's chair (评标组长, docs/evaluation.md): chosen by a majority of the seated
//! panel, or drawn from the ledger's head when the agency asks; from then on the chair
//! finishes the scoring for the panel and signs the report first.

use sqlx::Row;

use super::access::Member;
use super::repo::{eval_row, expert_pseudonym};
use super::types::{Ack, EvalRoomError, Phase};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{ChairChosen, LedgerEvent};
use crate::tender::repo::TenderHead;

/// The chair's seat and whether it was drawn, once chosen.
pub(crate) async fn chair<'e, E>(exec: E, tender_id: &str) -> AppResult<Option<(i64, bool)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT chair_seat, chair_drawn FROM evaluations WHERE tender_id = $1")
        .bind(tender_id)
        .fetch_optional(exec)
        .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    let seat: Option<i64> = r.try_get("chair_seat")?;
    let drawn: Option<i64> = r.try_get("chair_drawn")?;
    Ok(seat.map(|s| (s, drawn.unwrap_or(0) != 0)))
}

/// The votes so far: seat → how many.
pub(crate) async fn votes<'e, E>(exec: E, tender_id: &str) -> AppResult<Vec<(i64, i64)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(sqlx::query_as(
        "SELECT seat, COUNT(*) FROM evaluation_chair_votes WHERE tender_id = $1 \
         GROUP BY seat ORDER BY seat",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?)
}

/// The accepted seats, in order.
async fn seats(tx: &mut Tx, tender_id: &str) -> AppResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT seat FROM evaluation_panel WHERE tender_id = $1 AND status = 'accepted' \
         ORDER BY seat",
    )
    .bind(tender_id)
    .fetch_all(&mut **tx)
    .await?)
}

/// A chair may be chosen from the qualification until the scoring closes, once.
async fn choosable(tx: &mut Tx, head: &TenderHead, action: &'static str) -> AppResult<()> {
    let e = eval_row(&mut **tx, &head.id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !matches!(
        e.phase,
        Phase::Qualification | Phase::Compliance | Phase::Scoring
    ) {
        return Err(AppError::IllegalTransition {
            from: e.phase.as_str().into(),
            action,
        });
    }
    if chair(&mut **tx, &head.id).await?.is_some() {
        return Err(EvalRoomError::ChairChosen.into());
    }
    Ok(())
}

async fn choose(
    tx: &mut Tx,
    head: &TenderHead,
    now: i64,
    actor: &str,
    chosen: ChairChosen,
) -> AppResult<()> {
    sqlx::query("UPDATE evaluations SET chair_seat = $1, chair_drawn = $2 WHERE tender_id = $3")
        .bind(chosen.seat)
        .bind(chosen.drawn as i64)
        .bind(&head.id)
        .execute(&mut **tx)
        .await?;
    crate::ledger::repo::append(tx, &head.id, now, actor, &LedgerEvent::ChairChosen(chosen))
        .await?;
    Ok(())
}

/// A seated expert votes for `seat` (again: the vote changes); a majority of the panel
/// chooses.
pub(super) async fn elect(
    tx: &mut Tx,
    m: &Member,
    head: &TenderHead,
    seat: i64,
    now: i64,
) -> AppResult<Ack> {
    let me = m.expert().ok_or(AppError::Forbidden)?.clone();
    choosable(tx, head, "elect_chair").await?;
    let panel = seats(tx, &head.id).await?;
    if !panel.contains(&seat) {
        return Err(AppError::field(
            "seat",
            "评委会没有这一席 / no such seat on the panel",
        ));
    }
    sqlx::query("DELETE FROM evaluation_chair_votes WHERE tender_id = $1 AND expert_id = $2")
        .bind(&head.id)
        .bind(&me.expert_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO evaluation_chair_votes (tender_id, expert_id, seat, voted_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&head.id)
    .bind(&me.expert_id)
    .bind(seat)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let votes = votes(&mut **tx, &head.id)
        .await?
        .into_iter()
        .find(|(s, _)| *s == seat)
        .map_or(0, |(_, n)| n);
    let chosen = votes * 2 > panel.len() as i64;
    if chosen {
        let actor = expert_pseudonym(&mut **tx, &head.id, &me.expert_id).await?;
        let event = ChairChosen {
            seat,
            votes,
            drawn: false,
        };
        choose(tx, head, now, &actor, event).await?;
    }
    Ok(Ack::ChairVote {
        seat,
        votes,
        chosen,
    })
}

/// The agency draws the chair when the panel has not chosen: the seat at SHA-256(ledger
/// head ‖ "chair") modulo the panel's size, so anyone can replay it from the ledger.
pub(super) async fn draw(
    tx: &mut Tx,
    m: &Member,
    user_id: &str,
    head: &TenderHead,
    now: i64,
) -> AppResult<Ack> {
    if !m.host {
        return Err(AppError::Forbidden);
    }
    choosable(tx, head, "draw_chair").await?;
    let panel = seats(tx, &head.id).await?;
    let (_, ledger_head) = crate::ledger::repo::head(tx, &head.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("tender without ledger"))?;
    let seat = panel[draw_index(&ledger_head, panel.len())];
    let event = ChairChosen {
        seat,
        votes: 0,
        drawn: true,
    };
    choose(tx, head, now, user_id, event).await?;
    Ok(Ack::ChairVote {
        seat,
        votes: 0,
        chosen: true,
    })
}

/// The index drawn among `n` seats from the ledger's head.
pub fn draw_index(ledger_head: &str, n: usize) -> usize {
    let digest = crate::crypto::sha256_hex(format!("{ledger_head}chair").as_bytes());
    let v = u64::from_str_radix(&digest[..16], 16).unwrap_or(0);
    (v % n.max(1) as u64) as usize
}

/// Who finishes the scoring: the chair, for the panel. Until one is chosen (or drawn by the
/// agency) nobody does: CHAIR_REQUIRED to the agency and the seated experts.
pub(super) async fn check_finisher(tx: &mut Tx, m: &Member, head: &TenderHead) -> AppResult<()> {
    match chair(&mut **tx, &head.id).await? {
        Some((seat, _)) if m.expert().is_some_and(|s| s.seat == seat) => Ok(()),
        Some(_) if m.host => Err(EvalRoomError::ChairFinishes.into()),
        Some(_) => Err(AppError::Forbidden),
        None if m.host || m.expert().is_some() => Err(EvalRoomError::ChairRequired.into()),
        None => Err(AppError::Forbidden),
    }
}

/// Whether `seat` may sign now: the chair signs first.
pub(super) async fn check_signer(tx: &mut Tx, head: &TenderHead, seat: i64) -> AppResult<()> {
    let Some((chair_seat, _)) = chair(&mut **tx, &head.id).await? else {
        return Ok(());
    };
    if seat == chair_seat {
        return Ok(());
    }
    let signed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM evaluation_signatures s JOIN evaluation_panel p \
         ON p.tender_id = s.tender_id AND p.expert_id = s.expert_id \
         WHERE s.tender_id = $1 AND p.seat = $2",
    )
    .bind(&head.id)
    .bind(chair_seat)
    .fetch_one(&mut **tx)
    .await?;
    if signed == 0 {
        return Err(EvalRoomError::ChairSignsFirst.into());
    }
    Ok(())
}
