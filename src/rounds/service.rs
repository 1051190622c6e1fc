//! The rounds' commands, the sealing of an offer, and the automatic steps: a round closes
//! at its deadline, its offers are read together when every key is in or the window ends,
//! and after the final round each supplier's final offer is fixed (docs/rounds.md).
//!
//! Nothing about an offer reaches the tender's ledger, nor any room, before its round
//! closes: sealing writes the offer's row and the supplier's receipt only. At the close
//! one event commits to every offer of the round at once.

use std::collections::BTreeSet;

use super::access::{self, Member};
use super::repo::{self, OfferRow, RoundRow};
use super::rules::{self, NoFinalOffer};
use super::types::{
    Ack, Command, FinalOffer, Me, MessageView, MinutesSignature, MinutesView, NoticeView,
    OfferSlot, OfferStatus, OfferView, Phase, RoundStatus, RoundView, RoundsError, RoundsView,
    SupplierView,
};
use crate::auth::{CurrentUser, Role};
use crate::crypto::{b64url, kb1, sha256_hex};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::repo::append;
use crate::ledger::{
    FinalOfferRef, LedgerEvent, MinutesRecorded, MinutesSigned, NegotiationFinished,
    NegotiationMessage, NegotiationNotice, NegotiationStarted, OfferDecrypted, ReadOffer,
    RoundClosed, RoundOpened, RoundRevealed, SealedOffer, SupplierWithdrew,
};
use crate::plan::ProcurementMethod;
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::types::TenderStatus;
use crate::tender::Action;

/// The largest sealed offer: an opening sheet and a few pages.
pub const MAX_OFFER_BYTES: usize = 4 << 20;
/// The segment size offers are sealed with.
const SEGMENT_SIZE: u32 = 1 << 16;
const MINUTE: i64 = 60_000;

/// What a supplier without a final offer becomes here (R-METH-2).
pub fn no_final_offer(state: &AppState, method: ProcurementMethod) -> NoFinalOffer {
    methods(state).no_final_offer(method)
}

/// The method table in force (`--method-rules`, docs/methods.md).
fn methods(state: &AppState) -> &crate::tender::methods::MethodRules {
    state.runtime::<crate::tender::methods::MethodRules>()
}

async fn method_of(
    conn: &mut sqlx::AnyConnection,
    tender_id: &str,
) -> AppResult<ProcurementMethod> {
    let m: String = sqlx::query_scalar("SELECT method FROM tenders WHERE id = $1")
        .bind(tender_id)
        .fetch_one(conn)
        .await?;
    ProcurementMethod::parse(&m).ok_or_else(|| AppError::Internal(anyhow::anyhow!("method {m}")))
}

/// Who the ledger says acted: a seated expert by this evaluation's pseudonym (R-EVAL-2),
/// anyone else by user id.
async fn actor(
    tx: &mut Tx,
    head: &TenderHead,
    user: &CurrentUser,
    m: &Member,
) -> AppResult<String> {
    match &m.seat {
        Some(seat) => {
            crate::committee::repo::expert_pseudonym(&mut **tx, &head.id, &seat.expert_id).await
        }
        None => Ok(user.id.clone()),
    }
}

fn illegal(from: &str, action: &'static str) -> AppError {
    AppError::IllegalTransition {
        from: from.to_string(),
        action,
    }
}

/// Runs one command for `user`.
pub async fn command(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    cmd: Command,
) -> AppResult<Ack> {
    let mut a = Action::begin(state, tender_id).await?;
    let m = access::of(&mut a.tx, user, &a.head).await?;
    close_if_due(&mut a.tx, &a.head.id, a.now).await?;
    let (tx, head, now) = (&mut a.tx, &a.head, a.now);
    let ack = match cmd {
        Command::Begin {} => begin(state, tx, user, &m, head, now).await?,
        Command::Notify { text } => notify(tx, user, &m, head, &text, now).await?,
        Command::Talk { to, text } => talk(tx, user, &m, head, to, &text, now).await?,
        Command::OpenRound { closes_at, r#final } => {
            open_round(state, tx, user, &m, head, closes_at, r#final, now).await?
        }
        Command::Decrypt { offer_id, kb } => {
            decrypt(tx, user, &m, head, &offer_id, &kb, now).await?
        }
        Command::Withdraw {} => withdraw(tx, user, &m, head, now).await?,
        Command::RecordMinutes {
            text,
            price_reasoning,
            agreed_price_fen,
        } => {
            let minutes = Minutes {
                text: &text,
                price_reasoning: &price_reasoning,
                agreed_price_fen,
            };
            record_minutes(tx, user, &m, head, minutes, now).await?
        }
        Command::SignMinutes { key_id, signature } => {
            sign_minutes(state, tx, user, &m, head, &key_id, &signature, now).await?
        }
    };
    a.commit(state).await?;
    reveal_if_due(state, tender_id).await?;
    Ok(ack)
}

// ---- begin, notices, rounds, withdrawal ----

async fn begin(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    m: &Member,
    head: &TenderHead,
    now: i64,
) -> AppResult<Ack> {
    if !m.host {
        return Err(AppError::Forbidden);
    }
    let method = method_of(tx, &head.id).await?;
    if !rules::negotiates(method, methods(state).rounds(method)) {
        return Err(RoundsError::NoRounds.into());
    }
    if head.status != TenderStatus::Evaluating {
        return Err(illegal(head.status.as_str(), "begin"));
    }
    if repo::negotiation(tx, &head.id).await?.is_some() {
        return Err(illegal("negotiating", "begin"));
    }
    // The panel negotiates with the suppliers whose responses passed its review.
    let e = crate::committee::repo::eval_row(&mut **tx, &head.id).await?;
    let reviewed = e
        .as_ref()
        .is_some_and(|e| e.phase == crate::committee::types::Phase::Scoring);
    if !reviewed {
        return Err(RoundsError::ReviewNotDone.into());
    }
    let compliant = crate::committee::rules::compliant_ids(e.and_then(|e| e.prices).as_ref());
    let bids = crate::opening::repo::read_out_bids(&mut **tx, &head.id).await?;
    let mut orgs = Vec::new();
    for b in bids.iter().filter(|b| compliant.contains(&b.bid_id)) {
        sqlx::query(
            "INSERT INTO negotiation_suppliers (tender_id, org_id, bid_id, lot_no, status) \
             VALUES ($1, $2, $3, $4, 'in')",
        )
        .bind(&head.id)
        .bind(&b.bidder_org_id)
        .bind(&b.bid_id)
        .bind(b.lot_no)
        .execute(&mut **tx)
        .await?;
        orgs.push(b.bidder_org_id.clone());
    }
    sqlx::query(
        "INSERT INTO negotiations (tender_id, status, started_at, started_by) \
         VALUES ($1, 'negotiating', $2, $3)",
    )
    .bind(&head.id)
    .bind(now)
    .bind(&user.id)
    .execute(&mut **tx)
    .await?;
    let started = NegotiationStarted {
        suppliers: orgs.clone(),
        no_final_offer: rules::rule_name(no_final_offer(state, method)).into(),
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::NegotiationStarted(started),
    )
    .await?;
    Ok(Ack::Begun {
        phase: Phase::Negotiating,
        suppliers: orgs.len(),
    })
}

/// The negotiation, begun and not finished.
async fn negotiating(tx: &mut Tx, head: &TenderHead, action: &'static str) -> AppResult<()> {
    match repo::negotiation(tx, &head.id).await? {
        Some(n) if n.status == "negotiating" => Ok(()),
        Some(n) => Err(illegal(&n.status, action)),
        None => Err(illegal("not_started", action)),
    }
}

async fn in_suppliers(tx: &mut Tx, tender_id: &str) -> AppResult<Vec<repo::SupplierRow>> {
    Ok(repo::suppliers(tx, tender_id)
        .await?
        .into_iter()
        .filter(|s| s.is_in())
        .collect())
}

async fn notify(
    tx: &mut Tx,
    user: &CurrentUser,
    m: &Member,
    head: &TenderHead,
    text: &str,
    now: i64,
) -> AppResult<Ack> {
    if !m.conducts() {
        return Err(AppError::Forbidden);
    }
    negotiating(tx, head, "notify").await?;
    let text = written(
        text,
        rules::MAX_NOTICE_CHARS,
        "通知内容不能为空,不超过 5000 字 / a notice is 1 to 5000 characters",
    )?;
    let notice_no = next_no(
        tx,
        "negotiation_notices",
        &head.id,
        rules::MAX_NOTICES,
        "通知过多 / too many notices",
    )
    .await?;
    sqlx::query(
        "INSERT INTO negotiation_notices (id, tender_id, notice_no, text, issued_by, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(crate::org::service::new_id())
    .bind(&head.id)
    .bind(notice_no)
    .bind(text)
    .bind(&user.id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let suppliers = in_suppliers(tx, &head.id)
        .await?
        .into_iter()
        .map(|s| s.org_id)
        .collect();
    let notice = NegotiationNotice {
        notice_no,
        text_sha256: sha256_hex(text.as_bytes()),
        suppliers,
    };
    let who = actor(tx, head, user, m).await?;
    append(
        tx,
        &head.id,
        now,
        &who,
        &LedgerEvent::NegotiationNotice(notice),
    )
    .await?;
    Ok(Ack::Notice { notice_no })
}

/// A notice's or message's text, trimmed: 1 to `max` characters.
fn written<'a>(text: &'a str, max: usize, refusal: &'static str) -> AppResult<&'a str> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(AppError::field("text", refusal));
    }
    Ok(text)
}

/// The next number of a tender's notices or messages (`table`, one of ours), refused at
/// `max` of them.
async fn next_no(
    tx: &mut Tx,
    table: &'static str,
    tender_id: &str,
    max: i64,
    too_many: &'static str,
) -> AppResult<i64> {
    let n: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM {table} WHERE tender_id = $1"
    ))
    .bind(tender_id)
    .fetch_one(&mut **tx)
    .await?;
    if n >= max {
        return Err(AppError::Conflict(too_many));
    }
    Ok(n + 1)
}

/// One message of the talk with one supplier apart: from the panel (the host or a seated
/// expert) to the supplier `to`, or from a supplier to the panel.
async fn talk(
    tx: &mut Tx,
    user: &CurrentUser,
    m: &Member,
    head: &TenderHead,
    to: Option<String>,
    text: &str,
    now: i64,
) -> AppResult<Ack> {
    let (org, from_panel) = match (m.supplier.clone(), to) {
        (Some(org), None) => (org, false),
        (None, Some(to)) if m.conducts() => (to, true),
        (None, None) if m.conducts() => {
            return Err(AppError::field(
                "to",
                "请选择供应商 / choose the supplier to write to",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(AppError::field(
                "to",
                "供应商只能与谈判小组沟通 / a supplier writes to the panel only",
            ))
        }
        _ => return Err(AppError::Forbidden),
    };
    negotiating(tx, head, "talk").await?;
    let text = written(
        text,
        rules::MAX_MESSAGE_CHARS,
        "消息不能为空,不超过 2000 字 / a message is 1 to 2000 characters",
    )?;
    // Only with a supplier still in (a withdrawn supplier's thread is closed).
    if !repo::supplier(tx, &head.id, &org)
        .await?
        .is_some_and(|s| s.is_in())
    {
        return Err(RoundsError::NotInNegotiation.into());
    }
    let message_no = next_no(
        tx,
        "negotiation_messages",
        &head.id,
        rules::MAX_MESSAGES,
        "消息过多 / too many messages",
    )
    .await?;
    sqlx::query(
        "INSERT INTO negotiation_messages (id, tender_id, message_no, org_id, from_panel, \
         author, text, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(crate::org::service::new_id())
    .bind(&head.id)
    .bind(message_no)
    .bind(&org)
    .bind(i64::from(from_panel))
    .bind(&user.id)
    .bind(text)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let message = NegotiationMessage {
        message_no,
        supplier: org,
        from: if from_panel { "panel" } else { "supplier" }.into(),
        text_sha256: sha256_hex(text.as_bytes()),
    };
    let who = actor(tx, head, user, m).await?;
    append(
        tx,
        &head.id,
        now,
        &who,
        &LedgerEvent::NegotiationMessage(message),
    )
    .await?;
    Ok(Ack::Said { message_no })
}

#[allow(clippy::too_many_arguments)]
async fn open_round(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    m: &Member,
    head: &TenderHead,
    closes_at: i64,
    is_final: bool,
    now: i64,
) -> AppResult<Ack> {
    if !m.conducts() {
        return Err(AppError::Forbidden);
    }
    negotiating(tx, head, "open_round").await?;
    let rounds = repo::rounds(tx, &head.id).await?;
    if rounds.iter().any(|r| r.status != RoundStatus::Revealed) {
        return Err(RoundsError::RoundInProgress.into());
    }
    if rounds.iter().any(|r| r.is_final) {
        return Err(RoundsError::FinalRoundHeld.into());
    }
    if rounds.len() as i64 >= rules::MAX_ROUNDS {
        return Err(AppError::Conflict("轮次过多 / too many rounds"));
    }
    rules::check_closing(now, closes_at, state.config.round_min_secs * 1000)?;
    let key = crate::tender::opening_key::view(&mut **tx, &head.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let round_no = rounds.len() as i64 + 1;
    sqlx::query(
        "INSERT INTO offer_rounds (tender_id, round_no, is_final, status, opened_by, opened_at, \
         closes_at) VALUES ($1, $2, $3, 'open', $4, $5, $6)",
    )
    .bind(&head.id)
    .bind(round_no)
    .bind(i64::from(is_final))
    .bind(&user.id)
    .bind(now)
    .bind(closes_at)
    .execute(&mut **tx)
    .await?;
    // A slot for every supplier still in: the same for each, so the rows say nothing of
    // who will send an offer.
    for s in in_suppliers(tx, &head.id).await? {
        sqlx::query(
            "INSERT INTO round_offers (id, tender_id, round_no, org_id, lot_no, status, \
             tender_key_id) VALUES ($1, $2, $3, $4, $5, 'awaiting', $6)",
        )
        .bind(crate::org::service::new_id())
        .bind(&head.id)
        .bind(round_no)
        .bind(&s.org_id)
        .bind(s.lot_no)
        .bind(&key.key_id)
        .execute(&mut **tx)
        .await?;
    }
    let opened = RoundOpened {
        round_no,
        is_final,
        closes_at,
    };
    let who = actor(tx, head, user, m).await?;
    append(tx, &head.id, now, &who, &LedgerEvent::RoundOpened(opened)).await?;
    Ok(Ack::Round {
        round_no,
        closes_at,
        r#final: is_final,
    })
}

async fn withdraw(
    tx: &mut Tx,
    user: &CurrentUser,
    m: &Member,
    head: &TenderHead,
    now: i64,
) -> AppResult<Ack> {
    let org = m.supplier.clone().ok_or(AppError::Forbidden)?;
    negotiating(tx, head, "withdraw").await?;
    let s = repo::supplier(tx, &head.id, &org)
        .await?
        .ok_or(RoundsError::NotInNegotiation)?;
    if !s.is_in() {
        return Err(RoundsError::NotInNegotiation.into());
    }
    // Before its final offer only (214号 art 20).
    let offers = repo::offers(tx, &head.id).await?;
    let rounds = repo::rounds(tx, &head.id).await?;
    let final_round = rounds.iter().find(|r| r.is_final);
    if let Some(r) = final_round {
        let mine = offers
            .iter()
            .find(|o| o.round_no == r.round_no && o.org_id == org);
        if mine.is_some_and(|o| o.status != OfferStatus::Awaiting) {
            return Err(RoundsError::AlreadyOffered.into());
        }
    }
    sqlx::query(
        "UPDATE negotiation_suppliers SET status = 'withdrawn', withdrawn_at = $1 \
         WHERE tender_id = $2 AND org_id = $3",
    )
    .bind(now)
    .bind(&head.id)
    .bind(&org)
    .execute(&mut **tx)
    .await?;
    for o in offers
        .iter()
        .filter(|o| o.org_id == org && o.status == OfferStatus::Awaiting)
    {
        repo::set_offer_status(tx, &o.id, OfferStatus::None).await?;
    }
    let event = LedgerEvent::SupplierWithdrew(SupplierWithdrew { org_id: org });
    append(tx, &head.id, now, &user.id, &event).await?;
    Ok(Ack::Withdrawn {
        status: "withdrawn",
    })
}

// ---- the record of the negotiation, signed by the panel ----

struct Minutes<'a> {
    text: &'a str,
    price_reasoning: &'a str,
    agreed_price_fen: i64,
}

fn bounded(field: &str, value: &str) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > rules::MAX_MINUTES_CHARS {
        return Err(AppError::field(
            field,
            "不能为空,不超过 20000 字 / 1 to 20,000 characters",
        ));
    }
    Ok(v.to_string())
}

/// The panel's seated members (who must all sign the record).
async fn seated<'e, E>(exec: E, tender_id: &str) -> AppResult<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM evaluation_panel WHERE tender_id = $1 AND status = 'accepted'",
    )
    .bind(tender_id)
    .fetch_one(exec)
    .await?)
}

async fn signatures(tx: &mut Tx, tender_id: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM negotiation_minutes_signatures WHERE tender_id = $1",
    )
    .bind(tender_id)
    .fetch_one(&mut **tx)
    .await?)
}

async fn record_minutes(
    tx: &mut Tx,
    user: &CurrentUser,
    m: &Member,
    head: &TenderHead,
    minutes: Minutes<'_>,
    now: i64,
) -> AppResult<Ack> {
    if !m.conducts() {
        return Err(AppError::Forbidden);
    }
    if repo::negotiation(tx, &head.id).await?.is_none() {
        return Err(illegal("not_started", "record_minutes"));
    }
    let text = bounded("text", minutes.text)?;
    let reasoning = bounded("price_reasoning", minutes.price_reasoning)?;
    let price = minutes.agreed_price_fen;
    if !(1..=crate::evaluation::scoring::MAX_PRICE_FEN).contains(&price) {
        return Err(AppError::field(
            "agreed_price_fen",
            "成交价须为正数 / the agreed price is a positive amount",
        ));
    }
    if signatures(tx, &head.id).await? > 0 {
        return Err(RoundsError::MinutesFrozen.into());
    }
    let sha = rules::minutes_sha256(&head.id, &text, &reasoning, price);
    sqlx::query("DELETE FROM negotiation_minutes WHERE tender_id = $1")
        .bind(&head.id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO negotiation_minutes (tender_id, text, price_reasoning, agreed_price_fen, \
         sha256, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&head.id)
    .bind(&text)
    .bind(&reasoning)
    .bind(price)
    .bind(&sha)
    .bind(&user.id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let who = actor(tx, head, user, m).await?;
    let event = LedgerEvent::MinutesRecorded(MinutesRecorded {
        minutes_sha256: sha.clone(),
    });
    append(tx, &head.id, now, &who, &event).await?;
    Ok(Ack::Minutes {
        minutes_sha256: sha,
    })
}

#[allow(clippy::too_many_arguments)]
async fn sign_minutes(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    m: &Member,
    head: &TenderHead,
    key_id: &str,
    signature: &str,
    now: i64,
) -> AppResult<Ack> {
    let seat = m
        .seat
        .clone()
        .filter(|s| s.status == "accepted")
        .ok_or(AppError::Forbidden)?;
    let sha: String =
        sqlx::query_scalar("SELECT sha256 FROM negotiation_minutes WHERE tender_id = $1")
            .bind(&head.id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(RoundsError::MinutesNotRecorded)?;
    let signed: Option<i64> = sqlx::query_scalar(
        "SELECT seat FROM negotiation_minutes_signatures WHERE tender_id = $1 AND expert_id = $2",
    )
    .bind(&head.id)
    .bind(&seat.expert_id)
    .fetch_optional(&mut **tx)
    .await?;
    if signed.is_some() {
        return Err(RoundsError::MinutesAlreadySigned.into());
    }
    let me = crate::committee::repo::expert_pseudonym(&mut **tx, &head.id, &seat.expert_id).await?;
    let payload = rules::minutes_payload(&head.id, &sha, &me);
    state
        .keyring()
        .verify_user_signature(&user.id, key_id, payload.as_bytes(), signature)
        .await?;
    sqlx::query(
        "INSERT INTO negotiation_minutes_signatures (tender_id, expert_id, seat, key_id, \
         signature, signed_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&head.id)
    .bind(&seat.expert_id)
    .bind(seat.seat)
    .bind(key_id)
    .bind(signature.trim())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let event = LedgerEvent::MinutesSigned(MinutesSigned {
        seat: seat.seat,
        minutes_sha256: sha,
        signature_sha256: sha256_hex(signature.trim().as_bytes()),
    });
    append(tx, &head.id, now, &me, &event).await?;
    let of = seated(&mut **tx, &head.id).await?;
    Ok(Ack::MinutesSigned {
        signed: signatures(tx, &head.id).await?,
        of,
    })
}

/// The record as `m` may see it: the panel, the host, the purchaser and supervisors.
async fn minutes_view(
    state: &AppState,
    m: &Member,
    tender_id: &str,
) -> AppResult<Option<MinutesView>> {
    if !m.reads_all() {
        return Ok(None);
    }
    let pool = &state.db.pool;
    let Some(r) = sqlx::query(
        "SELECT text, price_reasoning, agreed_price_fen, sha256, recorded_at \
         FROM negotiation_minutes WHERE tender_id = $1",
    )
    .bind(tender_id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    use sqlx::Row;
    let sha: String = r.try_get("sha256")?;
    let signatures: Vec<(String, MinutesSignature)> = sqlx::query(
        "SELECT expert_id, seat, signed_at FROM negotiation_minutes_signatures \
         WHERE tender_id = $1 ORDER BY seat",
    )
    .bind(tender_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|s| {
        Ok((
            s.try_get("expert_id")?,
            MinutesSignature {
                seat: s.try_get("seat")?,
                signed_at: s.try_get("signed_at")?,
            },
        ))
    })
    .collect::<Result<_, sqlx::Error>>()?;
    let seated = seated(pool, tender_id).await?;
    let my_payload = match m.seat.as_ref().filter(|s| s.status == "accepted") {
        Some(seat) if !signatures.iter().any(|(e, _)| e == &seat.expert_id) => {
            let me =
                crate::committee::repo::expert_pseudonym(pool, tender_id, &seat.expert_id).await?;
            Some(rules::minutes_payload(tender_id, &sha, &me))
        }
        _ => None,
    };
    Ok(Some(MinutesView {
        text: r.try_get("text")?,
        price_reasoning: r.try_get("price_reasoning")?,
        agreed_price_fen: r.try_get("agreed_price_fen")?,
        complete: seated > 0 && signatures.len() as i64 >= seated,
        sha256: sha,
        recorded_at: r.try_get("recorded_at")?,
        signatures: signatures.into_iter().map(|(_, s)| s).collect(),
        my_payload,
    }))
}

// ---- sealing an offer (HTTP) ----

/// The open round's slot of the caller's organisation, with the keys to seal to.
pub async fn slot(state: &AppState, user: &CurrentUser, tender_id: &str) -> AppResult<OfferSlot> {
    let m = access::member(state, user, tender_id).await?;
    let org = m.supplier.ok_or(AppError::Forbidden)?;
    let mut conn = state.db.pool.acquire().await?;
    let now = state.clock.now_ms();
    let round = repo::rounds(&mut conn, tender_id)
        .await?
        .into_iter()
        .find(|r| r.status == RoundStatus::Open && now < r.closes_at)
        .ok_or(RoundsError::RoundClosed)?;
    let offer = repo::offers(&mut conn, tender_id)
        .await?
        .into_iter()
        .find(|o| o.round_no == round.round_no && o.org_id == org)
        .ok_or(RoundsError::NotInNegotiation)?;
    match offer.status {
        OfferStatus::Awaiting => {}
        OfferStatus::None => return Err(RoundsError::NotInNegotiation.into()),
        _ => return Err(RoundsError::AlreadyOffered.into()),
    }
    let key = crate::tender::opening_key::view(&mut *conn, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    drop(conn);
    let (bidder_key_id, bidder_key) = state
        .keyring()
        .encryption_key(&user.id)
        .await?
        .ok_or(AppError::EncryptionKeyRequired)?;
    Ok(OfferSlot {
        bid_id: offer.id.clone(),
        offer_id: offer.id,
        round_no: round.round_no,
        r#final: round.is_final,
        closes_at: round.closes_at,
        tender_id: tender_id.to_string(),
        lot_no: u32::try_from(offer.lot_no).map_err(anyhow::Error::from)?,
        bidder_org_id: org,
        tender_key: key.public_key,
        tender_key_id: key.key_id,
        bidder_key: b64url::encode(&bidder_key),
        bidder_key_id,
        segment_size: SEGMENT_SIZE,
    })
}

async fn own_offer(state: &AppState, user: &CurrentUser, offer_id: &str) -> AppResult<OfferRow> {
    let mut conn = state.db.pool.acquire().await?;
    match repo::offer(&mut conn, offer_id).await? {
        Some(o) if user.role == Role::Supplier && Some(&o.org_id) == user.org_id.as_ref() => Ok(o),
        // Another's offer, or none: the same answer, so ids cannot be probed.
        _ => Err(AppError::NotFound),
    }
}

/// `PUT /api/offers/{id}`: the sealed container of the caller's offer in the open round,
/// whole. Checked against the slot without reading anything; stored; receipted. The
/// tender's ledger and rooms hear nothing of it before the round closes.
pub async fn seal(
    state: &AppState,
    user: &CurrentUser,
    offer_id: &str,
    body: axum::body::Body,
) -> AppResult<OfferView> {
    let o = own_offer(state, user, offer_id).await?;
    if o.status != OfferStatus::Awaiting {
        return Err(match o.status {
            OfferStatus::None => RoundsError::RoundClosed.into(),
            _ => RoundsError::AlreadyOffered.into(),
        });
    }
    // Uploads in flight per user are bounded like a bid's: a user cannot hold the
    // server's memory with many offers read at once.
    let _slot = state
        .runtime::<crate::bid::service::UploadLocks>()
        .slot(&user.id)?;
    let bytes = axum::body::to_bytes(body, MAX_OFFER_BYTES)
        .await
        .map_err(|_| RoundsError::OfferTooLarge)?;
    let (bidder_key_id, _) = state
        .keyring()
        .encryption_key(&user.id)
        .await?
        .ok_or(AppError::EncryptionKeyRequired)?;
    let tender_id = tender_of(state, offer_id).await?;
    let (header, header_bytes, offset) = kb1::parse_header(&bytes)?;
    header.check(&kb1::Expect {
        tender_id: &tender_id,
        lot_no: u32::try_from(o.lot_no).map_err(anyhow::Error::from)?,
        bidder_org_id: &o.org_id,
        bid_id: &o.id,
        tender_key: &o.tender_key_id,
        bidder_key: &bidder_key_id,
    })?;
    kb1::check_length(&header, (bytes.len() - offset) as u64)?;
    let size = bytes.len() as i64;
    let sha = state.blobs.put(bytes).await?;

    let mut a = Action::begin(state, &tender_id).await?;
    close_if_due(&mut a.tx, &tender_id, a.now).await?;
    let now = a.now;
    let o = repo::offer(&mut a.tx, offer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    match o.status {
        OfferStatus::Awaiting => {}
        OfferStatus::None => {
            drop(a);
            // The close this call made, if it made one, is committed by the job.
            return Err(RoundsError::RoundClosed.into());
        }
        _ => return Err(RoundsError::AlreadyOffered.into()),
    }
    let code = crate::tender::repo::view(&mut a.tx, &tender_id)
        .await?
        .map(|v| v.code)
        .unwrap_or_default();
    let receipt = crate::bid::types::Receipt {
        kind: "kaibiao.offer_receipt.v1".into(),
        bid_id: o.id.clone(),
        tender_id: tender_id.clone(),
        tender_code: code,
        lot_no: u32::try_from(o.lot_no).map_err(anyhow::Error::from)?,
        bidder_org_id: o.org_id.clone(),
        size: size as u64,
        ciphertext_sha256: sha.clone(),
        header_sha256: sha256_hex(&header_bytes),
        kb_sha256: header.kb_sha256.clone(),
        received_at: now,
        received_at_cst: crate::clock::format_cst(now),
        replaces: None,
    };
    let signed = crate::bid::service::sign_receipt(state, receipt)?;
    let signed_json = serde_json::to_string(&signed).map_err(anyhow::Error::from)?;
    sqlx::query(
        "UPDATE round_offers SET status = 'sealed', bidder_key_id = $1, ciphertext_sha256 = $2, \
         size = $3, kb_sha256 = $4, receipt = $5, sealed_at = $6 WHERE id = $7 AND status = 'awaiting'",
    )
    .bind(&bidder_key_id)
    .bind(&sha)
    .bind(size)
    .bind(&header.kb_sha256)
    .bind(&signed_json)
    .bind(now)
    .bind(&o.id)
    .execute(&mut *a.tx)
    .await?;
    // Committed without telling the rooms: nothing they show may change with a sealing.
    a.tx.commit().await?;
    let o = own_offer(state, user, offer_id).await?;
    Ok(offer_view(&o, true))
}

async fn tender_of(state: &AppState, offer_id: &str) -> AppResult<String> {
    sqlx::query_scalar("SELECT tender_id FROM round_offers WHERE id = $1")
        .bind(offer_id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /api/offers/{id}/header`: the caller's own offer's header, from which its device
/// unseals `kb` once the round has closed.
pub async fn header(
    state: &AppState,
    user: &CurrentUser,
    offer_id: &str,
) -> AppResult<serde_json::Value> {
    let o = own_offer(state, user, offer_id).await?;
    let sha = o.ciphertext_sha256.clone().ok_or(AppError::NotFound)?;
    let prefix = state
        .blobs
        .get_prefix(&sha, kb1::MAX_PREFIX_LEN)
        .await?
        .ok_or(AppError::NotFound)?;
    let (header, _, _) = kb1::parse_header(&prefix)?;
    Ok(
        serde_json::json!({ "offer_id": o.id, "header": header, "receipt": o.receipt
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
        .transpose()
        .map_err(anyhow::Error::from)? }),
    )
}

// ---- decrypting and reading a round ----

async fn decrypt(
    tx: &mut Tx,
    user: &CurrentUser,
    m: &Member,
    head: &TenderHead,
    offer_id: &str,
    kb: &str,
    now: i64,
) -> AppResult<Ack> {
    let org = m.supplier.as_deref().ok_or(AppError::Forbidden)?;
    let o = repo::offer(tx, offer_id)
        .await?
        .filter(|o| o.org_id == org)
        .ok_or(AppError::Forbidden)?;
    let round = repo::rounds(tx, &head.id)
        .await?
        .into_iter()
        .find(|r| r.round_no == o.round_no)
        .ok_or(AppError::NotFound)?;
    match round.status {
        RoundStatus::Open => return Err(RoundsError::RoundNotClosed.into()),
        RoundStatus::Revealed => return Err(RoundsError::DecryptWindowClosed.into()),
        RoundStatus::Decrypting if round.decrypt_ends_at.is_some_and(|t| now >= t) => {
            return Err(RoundsError::DecryptWindowClosed.into())
        }
        RoundStatus::Decrypting => {}
    }
    match o.status {
        OfferStatus::Sealed => {}
        OfferStatus::Decrypted | OfferStatus::ReadOut => {
            return Err(RoundsError::AlreadyDecrypted.into())
        }
        _ => return Err(illegal(o.status.as_str(), "decrypt")),
    }
    let kb_bytes = b64url::decode(kb)
        .filter(|b| b.len() == 32)
        .ok_or_else(|| AppError::field("kb", "须为 32 字节 base64url / 32 bytes, base64url"))?;
    if o.kb_sha256.as_deref() != Some(sha256_hex(&kb_bytes).as_str()) {
        return Err(RoundsError::KbMismatch.into());
    }
    sqlx::query(
        "UPDATE round_offers SET status = 'decrypted', kb = $1, decrypted_at = $2 WHERE id = $3",
    )
    .bind(kb)
    .bind(now)
    .bind(&o.id)
    .execute(&mut **tx)
    .await?;
    let event = LedgerEvent::OfferDecrypted(OfferDecrypted {
        offer_id: o.id.clone(),
        org_id: o.org_id.clone(),
    });
    append(tx, &head.id, now, &user.id, &event).await?;
    Ok(Ack::Decrypted {
        offer_id: o.id,
        status: OfferStatus::Decrypted,
    })
}

/// Closes the tender's open round if its deadline has passed: slots without an offer get
/// none, and one event commits to every sealed offer at once.
async fn close_if_due(tx: &mut Tx, tender_id: &str, now: i64) -> AppResult<bool> {
    let Some(round) = repo::rounds(tx, tender_id)
        .await?
        .into_iter()
        .find(|r| r.status == RoundStatus::Open && now >= r.closes_at)
    else {
        return Ok(false);
    };
    let window: i64 = sqlx::query_scalar("SELECT decrypt_window_mins FROM tenders WHERE id = $1")
        .bind(tender_id)
        .fetch_one(&mut **tx)
        .await?;
    let offers: Vec<OfferRow> = repo::offers(tx, tender_id)
        .await?
        .into_iter()
        .filter(|o| o.round_no == round.round_no)
        .collect();
    let mut sealed = Vec::new();
    let mut without = Vec::new();
    for o in &offers {
        if o.status == OfferStatus::Awaiting {
            repo::set_offer_status(tx, &o.id, OfferStatus::None).await?;
        }
        match (o.status, &o.ciphertext_sha256, &o.receipt, o.sealed_at) {
            (OfferStatus::Sealed, Some(sha), Some(receipt), Some(at)) => {
                let receipt: serde_json::Value =
                    serde_json::from_str(receipt).map_err(anyhow::Error::from)?;
                sealed.push(SealedOffer {
                    offer_id: o.id.clone(),
                    org_id: o.org_id.clone(),
                    ciphertext_sha256: sha.clone(),
                    receipt_sha256: sha256_hex(crate::ledger::canonical_json(&receipt).as_bytes()),
                    sealed_at: at,
                });
            }
            _ => without.push(o.org_id.clone()),
        }
    }
    let decrypt_ends_at = (!sealed.is_empty()).then_some(now + window * MINUTE);
    sqlx::query(
        "UPDATE offer_rounds SET status = 'decrypting', decrypt_ends_at = $1 \
         WHERE tender_id = $2 AND round_no = $3",
    )
    .bind(decrypt_ends_at.unwrap_or(now))
    .bind(tender_id)
    .bind(round.round_no)
    .execute(&mut **tx)
    .await?;
    let closed = RoundClosed {
        round_no: round.round_no,
        offers: sealed,
        without_offer: without,
        decrypt_ends_at,
    };
    append(
        tx,
        tender_id,
        now,
        "system",
        &LedgerEvent::RoundClosed(closed),
    )
    .await?;
    Ok(true)
}

/// Reads the tender's decrypting round when every sealed offer's key is in or its window
/// has ended: the offers are opened together and shown together.
pub async fn reveal_if_due(state: &AppState, tender_id: &str) -> AppResult<bool> {
    let now = state.clock.now_ms();
    let mut conn = state.db.pool.acquire().await?;
    let Some(round) = repo::rounds(&mut conn, tender_id)
        .await?
        .into_iter()
        .find(|r| r.status == RoundStatus::Decrypting)
    else {
        return Ok(false);
    };
    let offers: Vec<OfferRow> = repo::offers(&mut conn, tender_id)
        .await?
        .into_iter()
        .filter(|o| o.round_no == round.round_no)
        .collect();
    drop(conn);
    let waiting = offers.iter().any(|o| o.status == OfferStatus::Sealed);
    if waiting && round.decrypt_ends_at.is_some_and(|t| now < t) {
        return Ok(false);
    }
    // Opened outside the transaction (the files may take a moment), written inside it.
    let decrypted: Vec<&OfferRow> = offers
        .iter()
        .filter(|o| o.status == OfferStatus::Decrypted)
        .collect();
    let secret = if decrypted.is_empty() {
        None
    } else {
        Some(crate::opening::reveal::tender_secret(state, tender_id).await?)
    };
    let mut read = Vec::new();
    for o in &offers {
        let outcome = match o.status {
            OfferStatus::Decrypted => open_offer(state, o, secret.as_ref()).await?,
            // Its bidder did not release the key in time: deemed revoked (R-OPEN-4).
            OfferStatus::Sealed => Err("KB_NOT_RELEASED".to_string()),
            _ => continue,
        };
        read.push((o, outcome));
    }

    let mut a = Action::begin(state, tender_id).await?;
    let still = repo::rounds(&mut a.tx, tender_id)
        .await?
        .into_iter()
        .find(|r| r.round_no == round.round_no)
        .is_some_and(|r| r.status == RoundStatus::Decrypting);
    if !still {
        return Ok(false);
    }
    let mut events = Vec::new();
    for (o, outcome) in read {
        match outcome {
            Ok(sheet) => {
                let sheet_sha = sha256_hex(crate::ledger::canonical_json(&sheet).as_bytes());
                sqlx::query(
                    "UPDATE round_offers SET status = 'read_out', sheet = $1, sheet_sha256 = $2 \
                     WHERE id = $3",
                )
                .bind(sheet.to_string())
                .bind(&sheet_sha)
                .bind(&o.id)
                .execute(&mut *a.tx)
                .await?;
                events.push(ReadOffer {
                    offer_id: o.id.clone(),
                    org_id: o.org_id.clone(),
                    result: "read_out".into(),
                    sheet_sha256: Some(sheet_sha),
                    cause: None,
                });
            }
            Err(cause) => {
                sqlx::query("UPDATE round_offers SET status = 'invalid', cause = $1 WHERE id = $2")
                    .bind(&cause)
                    .bind(&o.id)
                    .execute(&mut *a.tx)
                    .await?;
                events.push(ReadOffer {
                    offer_id: o.id.clone(),
                    org_id: o.org_id.clone(),
                    result: "invalid".into(),
                    sheet_sha256: None,
                    cause: Some(cause),
                });
            }
        }
    }
    sqlx::query(
        "UPDATE offer_rounds SET status = 'revealed', revealed_at = $1 \
         WHERE tender_id = $2 AND round_no = $3",
    )
    .bind(now)
    .bind(tender_id)
    .bind(round.round_no)
    .execute(&mut *a.tx)
    .await?;
    let revealed = RoundRevealed {
        round_no: round.round_no,
        offers: events,
    };
    append(
        &mut a.tx,
        tender_id,
        now,
        "system",
        &LedgerEvent::RoundRevealed(revealed),
    )
    .await?;
    if round.is_final {
        finish(state, &mut a.tx, &a.head, now).await?;
    }
    a.commit(state).await?;
    Ok(true)
}

/// Opens one decrypted offer: its sheet, or the code of what stopped it.
async fn open_offer(
    state: &AppState,
    o: &OfferRow,
    secret: Option<&p256::SecretKey>,
) -> AppResult<Result<serde_json::Value, String>> {
    let (Some(kb), Some(sha), Some(secret)) = (&o.kb, &o.ciphertext_sha256, secret) else {
        return Ok(Err("KB_NOT_RELEASED".into()));
    };
    let Some(path) = state.blobs.file(sha).await? else {
        return Ok(Err("CONTAINER_MISSING".into()));
    };
    let kb: [u8; 32] = b64url::decode(kb)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| anyhow::anyhow!("stored kb malformed"))?;
    let secret = secret.clone();
    let opened = tokio::task::spawn_blocking(move || {
        crate::opening::reveal::open_file(&path, &kb, &secret, None)
    })
    .await
    .map_err(anyhow::Error::from)?;
    Ok(match opened {
        Ok((sheet, _documents)) => match crate::opening::reveal::check_sheet(&sheet) {
            Ok(()) => Ok(serde_json::to_value(&sheet).map_err(anyhow::Error::from)?),
            Err((code, _)) => Err(code.to_string()),
        },
        Err(e) => Err(crate::error::AppError::from(e).code().to_string()),
    })
}

/// After the final round: each supplier's final offer (R-METH-2), recorded with the
/// evaluation, which ranks them; the result is the panel's to see, its digest the ledger's.
async fn finish(state: &AppState, tx: &mut Tx, head: &TenderHead, now: i64) -> AppResult<()> {
    let tender_id = head.id.as_str();
    let suppliers: Vec<rules::Supplier> = repo::suppliers(tx, tender_id)
        .await?
        .into_iter()
        .map(|s| rules::Supplier {
            withdrawn: !s.is_in(),
            org_id: s.org_id,
            name: s.name,
        })
        .collect();
    let rounds = repo::rounds(tx, tender_id).await?;
    let rows = repo::offers(tx, tender_id).await?;
    let offers: Vec<rules::Offer> = rows
        .iter()
        .cloned()
        .map(|o| rules::Offer {
            is_final: rounds
                .iter()
                .any(|r| r.round_no == o.round_no && r.is_final),
            round_no: o.round_no,
            price_fen: o
                .sheet
                .as_ref()
                .and_then(|s| s.get("total_price_fen"))
                .and_then(|p| p.as_i64()),
            org_id: o.org_id,
            offer_id: o.id,
            status: o.status,
        })
        .collect();
    let method = method_of(tx, tender_id).await?;
    let result = rules::final_offers(&suppliers, &offers, no_final_offer(state, method));
    // The evaluation prices each response at its final offer; a supplier out is out.
    let mut finals = crate::committee::repo::FinalOffers::new();
    for s in repo::suppliers(tx, tender_id).await? {
        let f = result.iter().find(|f| f.org_id == s.org_id);
        let sheet = f
            .and_then(|f| f.offer_id.as_ref())
            .and_then(|id| rows.iter().find(|o| &o.id == id))
            .and_then(|o| o.sheet.clone())
            .map(serde_json::from_value)
            .transpose()
            .map_err(anyhow::Error::from)?;
        finals.insert(s.bid_id, sheet);
    }
    crate::committee::repo::set_final_offers(tx, tender_id, &finals).await?;
    let json = serde_json::to_value(&result).map_err(anyhow::Error::from)?;
    let sha = sha256_hex(crate::ledger::canonical_json(&json).as_bytes());
    sqlx::query(
        "UPDATE negotiations SET status = 'finished', finished_at = $1, result = $2 \
         WHERE tender_id = $3",
    )
    .bind(now)
    .bind(json.to_string())
    .bind(tender_id)
    .execute(&mut **tx)
    .await?;
    let finished = NegotiationFinished {
        final_offers: result
            .iter()
            .map(|f| FinalOfferRef {
                org_id: f.org_id.clone(),
                offer_id: f.offer_id.clone(),
                basis: f.basis.clone(),
            })
            .collect(),
        result_sha256: sha,
    };
    append(
        tx,
        tender_id,
        now,
        "system",
        &LedgerEvent::NegotiationFinished(finished),
    )
    .await?;
    // Final offers from fewer suppliers than the method's minimum (3; 2 in a consultation's
    // listed cases: 74号 art 33, 214号 art 21) end the procurement.
    if methods(state).final_offer(method) {
        let standing = result.iter().filter(|f| f.offer_id.is_some()).count() as i64;
        let min = crate::tender::service::min_suppliers(state, tx, tender_id).await?;
        if standing < min {
            let reason = format!("R-METH-2: {standing} final offer(s), fewer than {min}");
            crate::committee::service::fail(tx, head, &reason, now).await?;
        }
    }
    Ok(())
}

/// The job: every round whose deadline has passed is closed, every closed round whose
/// keys are in or whose window has ended is read.
pub async fn advance_due(state: &AppState) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    let closing: BTreeSet<String> = repo::due(&state.db.pool, RoundStatus::Open, now)
        .await?
        .into_iter()
        .collect();
    for tender_id in &closing {
        let mut a = Action::begin(state, tender_id).await?;
        if close_if_due(&mut a.tx, tender_id, a.now).await? {
            a.commit(state).await?;
        }
    }
    let reading: BTreeSet<String> = repo::due(&state.db.pool, RoundStatus::Decrypting, now)
        .await?
        .into_iter()
        .chain(closing)
        .collect();
    for tender_id in &reading {
        reveal_if_due(state, tender_id).await?;
    }
    Ok(())
}

// ---- what each member sees ----

fn offer_view(o: &OfferRow, with_sheet: bool) -> OfferView {
    OfferView {
        offer_id: o.id.clone(),
        org_id: o.org_id.clone(),
        bidder_name: o.bidder_name.clone(),
        status: o.status,
        sealed_at: o.sealed_at,
        ciphertext_sha256: o.ciphertext_sha256.clone(),
        decrypted_at: o.decrypted_at,
        sheet: if with_sheet { o.sheet.clone() } else { None },
        cause: o.cause.clone(),
    }
}

/// What `m` may see of one offer in `round`, if anything.
fn visible(m: &Member, round: &RoundRow, o: &OfferRow) -> Option<OfferView> {
    let own = m.supplier.as_deref() == Some(o.org_id.as_str());
    if own {
        return Some(offer_view(o, true));
    }
    if m.supplier.is_some() && !m.reads_all() {
        // No supplier sees another's offer, ever.
        return None;
    }
    match round.status {
        // Before the close: who has sealed is the supervisors' alone; no one sees more.
        RoundStatus::Open => m.supervisor.then(|| OfferView {
            sheet: None,
            ..offer_view(o, false)
        }),
        RoundStatus::Decrypting => m.reads_all().then(|| offer_view(o, false)),
        RoundStatus::Revealed => m.reads_all().then(|| offer_view(o, true)),
    }
}

pub async fn view(state: &AppState, user: &CurrentUser, tender_id: &str) -> AppResult<RoundsView> {
    let m = access::member(state, user, tender_id).await?;
    let now = state.clock.now_ms();
    let mut conn = state.db.pool.acquire().await?;
    let method = method_of(&mut conn, tender_id).await?;
    let negotiation = repo::negotiation(&mut conn, tender_id).await?;
    let rounds = repo::rounds(&mut conn, tender_id).await?;
    let offers = repo::offers(&mut conn, tender_id).await?;
    let suppliers = repo::suppliers(&mut conn, tender_id).await?;
    let notices = repo::notices(&mut conn, tender_id).await?;
    // A supplier reads its own thread only; the tender's side reads them all.
    let thread = if m.reads_all() {
        None
    } else {
        Some(m.supplier.as_deref().ok_or(AppError::Forbidden)?)
    };
    let messages = repo::messages(&mut conn, tender_id, thread).await?;
    drop(conn);
    let phase = match (
        &negotiation,
        rounds.iter().find(|r| r.status != RoundStatus::Revealed),
    ) {
        (None, _) => Phase::NotStarted,
        (Some(n), _) if n.status == "finished" => Phase::Finished,
        (Some(_), Some(r)) if r.status == RoundStatus::Open => Phase::RoundOpen,
        (Some(_), Some(_)) => Phase::Decrypting,
        (Some(_), None) => Phase::Negotiating,
    };
    let me_supplier = m.supplier.clone();
    let suppliers = suppliers
        .into_iter()
        .filter(|s| m.reads_all() || me_supplier.as_deref() == Some(s.org_id.as_str()))
        .map(|s| SupplierView {
            org_id: s.org_id,
            name: s.name,
            status: s.status,
        })
        .collect();
    let offer_id = rounds
        .iter()
        .find(|r| r.status == RoundStatus::Open && now < r.closes_at)
        .and_then(|r| {
            offers.iter().find(|o| {
                o.round_no == r.round_no
                    && me_supplier.as_deref() == Some(o.org_id.as_str())
                    && o.status == OfferStatus::Awaiting
            })
        })
        .map(|o| o.id.clone());
    let rounds_view = rounds
        .iter()
        .map(|r| RoundView {
            round_no: r.round_no,
            r#final: r.is_final,
            status: r.status,
            opened_at: r.opened_at,
            closes_at: r.closes_at,
            decrypt_ends_at: r.decrypt_ends_at,
            revealed_at: r.revealed_at,
            offers: offers
                .iter()
                .filter(|o| o.round_no == r.round_no)
                .filter_map(|o| visible(&m, r, o))
                .collect(),
        })
        .collect();
    let result = negotiation
        .and_then(|n| n.result)
        .map(|r| serde_json::from_str::<Vec<FinalOffer>>(&r))
        .transpose()
        .map_err(anyhow::Error::from)?
        .map(|all| {
            all.into_iter()
                .filter(|f| m.reads_all() || me_supplier.as_deref() == Some(f.org_id.as_str()))
                .collect()
        });
    Ok(RoundsView {
        tender_id: tender_id.to_string(),
        method: method.as_str().to_string(),
        has_rounds: methods(state).rounds(method),
        phase,
        now,
        no_final_offer: rules::rule_name(no_final_offer(state, method)),
        suppliers,
        notices: notices
            .into_iter()
            .map(|n| NoticeView {
                notice_no: n.notice_no,
                text: n.text,
                issued_at: n.issued_at,
            })
            .collect(),
        messages: messages
            .into_iter()
            .map(|x| MessageView {
                message_no: x.message_no,
                org_id: x.org_id,
                from: if x.from_panel == 1 {
                    "panel"
                } else {
                    "supplier"
                },
                text: x.text,
                sent_at: x.sent_at,
            })
            .collect(),
        rounds: rounds_view,
        result,
        minutes: minutes_view(state, &m, tender_id).await?,
        me: Me {
            role: user.role,
            is_host: m.host,
            on_panel: m.on_panel(),
            supplier: m.supplier,
            offer_id,
        },
    })
}
