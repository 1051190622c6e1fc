//! The opening's commands and automatic steps (docs/opening.md). Each runs in one
//! transaction that first locks the tender row, changes the opening's rows and appends its
//! ledger event; the hub room is told after the commit.

use std::collections::BTreeSet;

use sqlx::Row;

use super::repo::{opening_row, phase, set_phase, OpeningRow};
use super::types::{Ack, Command, ObjectionKind, OpeningError, Phase};
use crate::auth::{CurrentUser, Role};
use crate::crypto::{b64url, sha256_hex, vss, CryptoError};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::repo::append;
use crate::ledger::{
    BidderDecrypted, CustodiansOverdue, DecryptionClosed, LedgerEvent, ObjectionAnswered,
    ObjectionRaised, OpeningFailed, OpeningStarted, RecordConfirmed, ShareSubmitted,
    TenderKeyRebuilt,
};
use crate::state::AppState;
use crate::tender::repo as tender_repo;
use crate::tender::repo::TenderHead;
use crate::tender::types::{TenderAction, TenderStatus};
use crate::tender::Action;

pub(crate) const MINUTE: i64 = 60_000;
/// Longest objection or answer, in characters.
const MAX_TEXT: usize = 2000;

/// Runs one command for `user`; the result is what the command's acknowledgement carries.
pub async fn command(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    cmd: Command,
) -> AppResult<Ack> {
    let mut a = Action::begin(state, tender_id).await?;
    let (tx, head, now) = (&mut a.tx, &a.head, a.now);
    // A sign-in before the deadline grows the bid register, which supervisors watch.
    let register = matches!(cmd, Command::SignIn { .. });
    let result = match cmd {
        Command::Start {} => start(state, tx, user, head, now).await?,
        Command::Decrypt { bid_id, kb } => decrypt(tx, user, head, &bid_id, &kb, now).await?,
        Command::Share { index, value } => share(tx, user, head, index, &value, now).await?,
        Command::SignIn { key_id, signature } => {
            super::signin::sign_in(state, tx, user, head, &key_id, &signature, now).await?
        }
        Command::Ask { text } => super::talk::ask(tx, user, head, &text, now).await?,
        Command::Reply {
            text,
            reply_to,
            private,
        } => super::talk::reply(tx, user, head, &text, reply_to.as_deref(), private, now).await?,
        Command::Confirm {} => confirm(state, tx, user, head, now).await?,
        Command::Object { kind, text } => object(tx, user, head, kind, &text, now).await?,
        Command::Answer { objection_id, text } => {
            answer(state, tx, user, head, &objection_id, &text, now).await?
        }
    };
    a.commit(state).await?;
    if register {
        state.rooms.notify_bids(tender_id);
    }
    reveal_if_due(state, tender_id).await;
    Ok(result)
}

/// Starts revealing if the opening has reached it.
async fn reveal_if_due(state: &AppState, tender_id: &str) {
    if let Ok(Some(Phase::Revealing)) = phase(&state.db.pool, tender_id).await {
        super::reveal::ensure(state, tender_id);
    }
}

fn illegal(from: &str, action: &'static str) -> AppError {
    AppError::IllegalTransition {
        from: from.to_string(),
        action,
    }
}

/// The opening in `phase`, or ILLEGAL_TRANSITION naming where it is.
async fn require_phase(
    tx: &mut Tx,
    head: &TenderHead,
    want: Phase,
    action: &'static str,
) -> AppResult<OpeningRow> {
    match opening_row(&mut **tx, &head.id).await? {
        Some(o) if o.phase == want => Ok(o),
        Some(o) => Err(illegal(o.phase.as_str(), action)),
        None => Err(illegal(head.status.as_str(), action)),
    }
}

fn is_host(user: &CurrentUser, head: &TenderHead) -> bool {
    user.role == Role::Agency && user.org_id.as_deref() == Some(head.agency_org_id.as_str())
}

async fn set_tender_status(
    tx: &mut Tx,
    head: &TenderHead,
    action: TenderAction,
) -> AppResult<TenderStatus> {
    let next = head
        .status
        .after(action)
        .ok_or_else(|| illegal(head.status.as_str(), action.as_str()))?;
    tender_repo::set_status(tx, &head.id, next, None).await?;
    Ok(next)
}

pub(crate) async fn org_name<'e, E>(exec: E, org_id: &str) -> sqlx::Result<String>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(
        sqlx::query_scalar("SELECT name FROM organisations WHERE id = $1")
            .bind(org_id)
            .fetch_optional(exec)
            .await?
            .unwrap_or_default(),
    )
}

// ---- start and quorum (R-OPEN-2, R-OPEN-6) ----

async fn start(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    now: i64,
) -> AppResult<Ack> {
    if !is_host(user, head) {
        return Err(AppError::Forbidden);
    }
    if head.status != TenderStatus::Sealed {
        return Err(illegal(head.status.as_str(), "start"));
    }
    let window: i64 = sqlx::query_scalar("SELECT decrypt_window_mins FROM tenders WHERE id = $1")
        .bind(&head.id)
        .fetch_one(&mut **tx)
        .await?;
    // R-OPEN-2: the method's minimum in the method table (two in a case the tender states).
    let min = crate::tender::service::min_suppliers(state, tx, &head.id).await?;
    // The bid set frozen at the deadline, in the order of the `bids_sealed` list.
    let bids = sqlx::query(
        "SELECT id, lot_no, bidder_org_id FROM bids WHERE tender_id = $1 AND status = 'submitted' \
         ORDER BY lot_no, submitted_at, id",
    )
    .bind(&head.id)
    .fetch_all(&mut **tx)
    .await?;
    let lot_nos: Vec<i64> =
        sqlx::query_scalar("SELECT lot_no FROM tender_lots WHERE tender_id = $1 ORDER BY lot_no")
            .bind(&head.id)
            .fetch_all(&mut **tx)
            .await?;
    let sealed: Vec<(i64, String)> = bids
        .iter()
        .map(|b| Ok((b.try_get("lot_no")?, b.try_get("bidder_org_id")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let lots = super::rules::quorum_at_start(&lot_nos, &sealed, min);
    // 唱标顺序: by receipt, or drawn when the tender says so — seeded by the hash of the
    // `bids_sealed` event, fixed at the deadline: neither the moment the host starts nor
    // a sign-in appended since can move it.
    let reading: String = sqlx::query_scalar("SELECT reading_order FROM tenders WHERE id = $1")
        .bind(&head.id)
        .fetch_one(&mut **tx)
        .await?;
    let drawn_from = if reading == crate::tender::types::ReadingOrder::Draw.as_str() {
        let sealed_hash =
            crate::ledger::repo::hash_of_last(&mut **tx, &head.id, crate::ledger::Kind::BidsSealed)
                .await?
                .ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("a sealed tender has its seal"))
                })?;
        Some(sealed_hash)
    } else {
        None
    };
    let order: Vec<usize> = match &drawn_from {
        Some(h) => {
            let bid_lots: Vec<i64> = sealed.iter().map(|(l, _)| *l).collect();
            super::rules::drawn_order(&bid_lots, h)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("reading order: {e}")))?
        }
        None => (0..bids.len()).collect(),
    };
    let lots_json = serde_json::to_string(&lots).map_err(anyhow::Error::from)?;
    let all_failed = lots.iter().all(|l| l.status == "failed");
    let ends = now + window * MINUTE;
    sqlx::query(
        "INSERT INTO openings (tender_id, phase, host_user_id, started_at, decrypt_ends_at, lots) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&head.id)
    .bind(
        if all_failed {
            Phase::Failed
        } else {
            Phase::Decrypting
        }
        .as_str(),
    )
    .bind(&user.id)
    .bind(now)
    .bind(ends)
    .bind(&lots_json)
    .execute(&mut **tx)
    .await?;
    let failed_lots: BTreeSet<i64> = lots
        .iter()
        .filter(|l| l.status == "failed")
        .map(|l| l.lot_no)
        .collect();
    let mut ids = Vec::new();
    for (i, b) in order.iter().map(|k| &bids[*k]).enumerate() {
        let id: String = b.try_get("id")?;
        let lot: i64 = b.try_get("lot_no")?;
        sqlx::query(
            "INSERT INTO opening_bids (bid_id, tender_id, position, lot_no, bidder_org_id, \
             decrypt_status, result) VALUES ($1, $2, $3, $4, $5, 'pending', $6)",
        )
        .bind(&id)
        .bind(&head.id)
        .bind(i as i64 + 1)
        .bind(lot)
        .bind(b.try_get::<String, _>("bidder_org_id")?)
        .bind(failed_lots.contains(&lot).then_some("lot_failed"))
        .execute(&mut **tx)
        .await?;
        if !failed_lots.contains(&lot) {
            ids.push(id);
        }
    }
    if all_failed {
        set_tender_status(tx, head, TenderAction::FailOpening).await?;
        sqlx::query("UPDATE openings SET closed_at = $1 WHERE tender_id = $2")
            .bind(now)
            .bind(&head.id)
            .execute(&mut **tx)
            .await?;
        let event = LedgerEvent::OpeningFailed(OpeningFailed {
            reason: "quorum".into(),
            lots: lots.clone(),
        });
        append(tx, &head.id, now, &user.id, &event).await?;
        return Ok(Ack::Failed {
            phase: Phase::Failed,
            lots,
        });
    }
    set_tender_status(tx, head, TenderAction::StartOpening).await?;
    let event = LedgerEvent::OpeningStarted(OpeningStarted {
        host: user.id.clone(),
        decrypt_ends_at: ends,
        lots: lots.clone(),
        bids: ids,
        reading_order: drawn_from.as_ref().map(|_| "draw".to_string()),
        drawn_from,
    });
    append(tx, &head.id, now, &user.id, &event).await?;
    Ok(Ack::Started {
        phase: Phase::Decrypting,
        decrypt_ends_at: ends,
        lots,
    })
}

// ---- decrypting (R-OPEN-4) ----

async fn decrypt(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    bid_id: &str,
    kb: &str,
    now: i64,
) -> AppResult<Ack> {
    let Some(row) = sqlx::query(
        "SELECT ob.bidder_org_id, ob.decrypt_status, ob.result, ob.lot_no, b.kb_sha256 \
         FROM opening_bids ob JOIN bids b ON b.id = ob.bid_id \
         WHERE ob.bid_id = $1 AND ob.tender_id = $2",
    )
    .bind(bid_id)
    .bind(&head.id)
    .fetch_optional(&mut **tx)
    .await?
    else {
        // Not a bid of this opening (or no opening yet): only its bidder could tell.
        return Err(match opening_row(&mut **tx, &head.id).await? {
            None if user.role == Role::Supplier => illegal(head.status.as_str(), "decrypt"),
            _ => AppError::Forbidden,
        });
    };
    let org: String = row.try_get("bidder_org_id")?;
    if user.role != Role::Supplier || user.org_id.as_deref() != Some(org.as_str()) {
        return Err(AppError::Forbidden);
    }
    let o = opening_row(&mut **tx, &head.id)
        .await?
        .ok_or_else(|| illegal(head.status.as_str(), "decrypt"))?;
    match o.phase {
        Phase::Decrypting if now < o.decrypt_ends_at => {}
        Phase::Decrypting
        | Phase::Unsealing
        | Phase::Revealing
        | Phase::Confirming
        | Phase::Closed => return Err(OpeningError::DecryptWindowClosed.into()),
        Phase::Failed => return Err(illegal(o.phase.as_str(), "decrypt")),
    }
    if row.try_get::<Option<String>, _>("result")?.as_deref() == Some("lot_failed") {
        return Err(illegal("lot_failed", "decrypt"));
    }
    if row.try_get::<String, _>("decrypt_status")? == "decrypted" {
        return Err(OpeningError::AlreadyDecrypted.into());
    }
    let kb_bytes = b64url::decode(kb)
        .filter(|b| b.len() == 32)
        .ok_or_else(|| AppError::field("kb", "须为 32 字节 base64url / 32 bytes, base64url"))?;
    let expected: Option<String> = row.try_get("kb_sha256")?;
    if expected.as_deref() != Some(sha256_hex(&kb_bytes).as_str()) {
        return Err(CryptoError::KbHashMismatch.into());
    }
    sqlx::query(
        "UPDATE opening_bids SET decrypt_status = 'decrypted', decrypted_at = $1, kb = $2, \
         decrypt_started_at = COALESCE(decrypt_started_at, $1), decrypt_ip = $4 WHERE bid_id = $3",
    )
    .bind(now)
    .bind(kb)
    .bind(bid_id)
    .bind(&user.client_ip)
    .execute(&mut **tx)
    .await?;
    let lot: i64 = row.try_get("lot_no")?;
    let event = LedgerEvent::BidderDecrypted(BidderDecrypted {
        bid_id: bid_id.to_string(),
        bidder_org_id: org,
        lot_no: lot,
    });
    append(tx, &head.id, now, &user.id, &event).await?;
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM opening_bids WHERE tender_id = $1 AND decrypt_status = 'pending' \
         AND result IS NULL",
    )
    .bind(&head.id)
    .fetch_one(&mut **tx)
    .await?;
    if pending == 0 {
        close_decryption(tx, &head.id, now, "all_decrypted").await?;
    }
    Ok(Ack::Decrypted {
        bid_id: bid_id.to_string(),
        decrypt_status: "decrypted",
    })
}

/// R-OPEN-4: records when a bidder began decrypting a bid — its first fetch of the sealed
/// `kb` while the window is open. Later fetches change nothing.
pub async fn mark_decrypt_started(state: &AppState, bid_id: &str) -> AppResult<()> {
    sqlx::query(
        "UPDATE opening_bids SET decrypt_started_at = $1 WHERE bid_id = $2 \
         AND decrypt_started_at IS NULL AND decrypt_status = 'pending' AND EXISTS \
         (SELECT 1 FROM openings o WHERE o.tender_id = opening_bids.tender_id AND o.phase = $3)",
    )
    .bind(state.clock.now_ms())
    .bind(bid_id)
    .bind(Phase::Decrypting.as_str())
    .execute(&state.db.pool)
    .await?;
    Ok(())
}

/// Ends the decryption window: bids not decrypted are marked failed (their bidder's
/// doing: revoked at revealing). Waits for custodians, or reveals at once when nothing
/// was decrypted (there is nothing to unseal).
async fn close_decryption(tx: &mut Tx, tender_id: &str, now: i64, reason: &str) -> AppResult<()> {
    let not_decrypted: Vec<String> = sqlx::query_scalar(
        "SELECT bid_id FROM opening_bids WHERE tender_id = $1 AND decrypt_status = 'pending' \
         AND result IS NULL ORDER BY position",
    )
    .bind(tender_id)
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE opening_bids SET decrypt_status = 'failed' WHERE tender_id = $1 \
         AND decrypt_status = 'pending' AND result IS NULL",
    )
    .bind(tender_id)
    .execute(&mut **tx)
    .await?;
    let decrypted: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM opening_bids WHERE tender_id = $1 AND decrypt_status = 'decrypted'",
    )
    .bind(tender_id)
    .fetch_one(&mut **tx)
    .await?;
    let next = if decrypted == 0 {
        Phase::Revealing
    } else {
        Phase::Unsealing
    };
    sqlx::query("UPDATE openings SET phase = $1, unsealing_since = $2 WHERE tender_id = $3")
        .bind(next.as_str())
        .bind(now)
        .bind(tender_id)
        .execute(&mut **tx)
        .await?;
    let event = LedgerEvent::DecryptionClosed(DecryptionClosed {
        reason: reason.to_string(),
        decrypted,
        not_decrypted,
    });
    append(tx, tender_id, now, "platform", &event).await?;
    Ok(())
}

// ---- unsealing ----

async fn share(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    index: u32,
    value: &str,
    now: i64,
) -> AppResult<Ack> {
    let holder: Option<String> = sqlx::query_scalar(
        "SELECT custodian_user_id FROM tender_key_shares WHERE tender_id = $1 AND share_index = $2",
    )
    .bind(&head.id)
    .bind(i64::from(index))
    .fetch_optional(&mut **tx)
    .await?;
    if holder.as_deref() != Some(user.id.as_str()) {
        return Err(AppError::Forbidden);
    }
    require_phase(tx, head, Phase::Unsealing, "share").await?;
    let dup: Option<i64> = sqlx::query_scalar(
        "SELECT share_index FROM opening_shares WHERE tender_id = $1 AND share_index = $2",
    )
    .bind(&head.id)
    .bind(i64::from(index))
    .fetch_optional(&mut **tx)
    .await?;
    if dup.is_some() {
        return Err(OpeningError::ShareAlreadySubmitted.into());
    }
    let bytes: [u8; 32] = hex::decode(value)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| AppError::field("value", "须为 64 位十六进制 / 64 hex digits"))?;
    let key = crate::tender::opening_key::view(&mut **tx, &head.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let commitments = decode_points(&key.commitments)?;
    let candidate = vss::Share {
        index,
        value: bytes,
    };
    if !vss::verify_share(&candidate, &commitments) {
        return Err(OpeningError::ShareCommitmentMismatch.into());
    }
    sqlx::query(
        "INSERT INTO opening_shares (tender_id, share_index, custodian_user_id, value, \
         submitted_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&head.id)
    .bind(i64::from(index))
    .bind(&user.id)
    .bind(value.to_ascii_lowercase())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let event = LedgerEvent::ShareSubmitted(ShareSubmitted {
        index,
        custodian: user.id.clone(),
    });
    append(tx, &head.id, now, &user.id, &event).await?;
    let shares = load_shares(&mut **tx, &head.id).await?;
    if shares.len() as i64 >= key.threshold {
        // Rebuilt here only to check it against the public key; revealing rebuilds it
        // again from the stored shares (so a restart needs nothing kept in memory).
        let secret = rebuild(&shares, &key.public_key)?;
        drop(secret);
        set_phase(tx, &head.id, Phase::Revealing).await?;
        let indices: Vec<u32> = shares.iter().map(|s| s.index).collect();
        let event = LedgerEvent::TenderKeyRebuilt(TenderKeyRebuilt {
            key_id: key.key_id.clone(),
            indices,
        });
        append(tx, &head.id, now, "platform", &event).await?;
    }
    Ok(Ack::Share {
        index,
        accepted: true,
        shares: shares.len(),
        threshold: key.threshold,
    })
}

fn decode_points(b64: &[String]) -> AppResult<Vec<Vec<u8>>> {
    b64.iter()
        .map(|c| {
            b64url::decode(c)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("stored commitment malformed")))
        })
        .collect()
}

pub(crate) async fn load_shares<'e, E>(exec: E, tender_id: &str) -> AppResult<Vec<vss::Share>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT share_index, value FROM opening_shares WHERE tender_id = $1 ORDER BY share_index",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            let index: i64 = r.try_get("share_index")?;
            let value: String = r.try_get("value")?;
            let value: [u8; 32] = hex::decode(&value)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| anyhow::anyhow!("stored share malformed"))?;
            Ok(vss::Share {
                index: u32::try_from(index).map_err(anyhow::Error::from)?,
                value,
            })
        })
        .collect()
}

/// The tender's private key from its shares, checked against the published public key.
pub(crate) fn rebuild(shares: &[vss::Share], public_b64: &str) -> AppResult<p256::SecretKey> {
    let scalar = vss::combine(shares).map_err(|e| AppError::Internal(e.into()))?;
    let secret = p256::SecretKey::from(scalar);
    let public = crate::crypto::keys::public_sec1(&secret.public_key());
    if Some(public) != b64url::decode(public_b64) {
        return Err(AppError::Internal(anyhow::anyhow!(
            "the rebuilt tender key does not match its public key"
        )));
    }
    Ok(secret)
}

// ---- confirming (R-OPEN-5) ----

/// The caller's organisation if it has a bid in this opening.
async fn bidder_in(tx: &mut Tx, user: &CurrentUser, head: &TenderHead) -> AppResult<String> {
    let org = user
        .org_id
        .clone()
        .filter(|_| user.role == Role::Supplier)
        .ok_or(AppError::Forbidden)?;
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM opening_bids WHERE tender_id = $1 AND bidder_org_id = $2",
    )
    .bind(&head.id)
    .bind(&org)
    .fetch_one(&mut **tx)
    .await?;
    if n == 0 {
        return Err(AppError::Forbidden);
    }
    Ok(org)
}

async fn confirm(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    now: i64,
) -> AppResult<Ack> {
    let org = bidder_in(tx, user, head).await?;
    require_phase(tx, head, Phase::Confirming, "confirm").await?;
    let dup: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM opening_confirmations WHERE tender_id = $1 AND bidder_org_id = $2",
    )
    .bind(&head.id)
    .bind(&org)
    .fetch_optional(&mut **tx)
    .await?;
    if dup.is_some() {
        return Err(OpeningError::AlreadyConfirmed.into());
    }
    sqlx::query(
        "INSERT INTO opening_confirmations (tender_id, bidder_org_id, user_id, confirmed_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(&head.id)
    .bind(&org)
    .bind(&user.id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let name = org_name(&mut **tx, &org).await?;
    let event = LedgerEvent::RecordConfirmed(RecordConfirmed {
        bidder_org_id: org,
        bidder_name: name,
    });
    append(tx, &head.id, now, &user.id, &event).await?;
    maybe_close_early(state, tx, head, now).await?;
    Ok(Ack::Confirmed { confirmed: true })
}

async fn object(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    kind: ObjectionKind,
    text: &str,
    now: i64,
) -> AppResult<Ack> {
    let org = bidder_in(tx, user, head).await?;
    require_phase(tx, head, Phase::Confirming, "object").await?;
    let text = crate::error::required_text("text", text, MAX_TEXT)?;
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO opening_objections (id, tender_id, bidder_org_id, user_id, kind, text, \
         raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&head.id)
    .bind(&org)
    .bind(&user.id)
    .bind(kind.as_str())
    .bind(&text)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let name = org_name(&mut **tx, &org).await?;
    let event = LedgerEvent::ObjectionRaised(ObjectionRaised {
        objection_id: id.clone(),
        bidder_org_id: org,
        bidder_name: name,
        kind: kind.as_str().to_string(),
        text,
    });
    append(tx, &head.id, now, &user.id, &event).await?;
    Ok(Ack::Objected { objection_id: id })
}

async fn answer(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    objection_id: &str,
    text: &str,
    now: i64,
) -> AppResult<Ack> {
    if !is_host(user, head) {
        return Err(AppError::Forbidden);
    }
    require_phase(tx, head, Phase::Confirming, "answer").await?;
    let answered: Option<Option<String>> = sqlx::query_scalar(
        "SELECT answer FROM opening_objections WHERE id = $1 AND tender_id = $2",
    )
    .bind(objection_id)
    .bind(&head.id)
    .fetch_optional(&mut **tx)
    .await?;
    match answered {
        None => {
            return Err(AppError::field(
                "objection_id",
                "无此异议 / no such objection",
            ))
        }
        Some(Some(_)) => return Err(OpeningError::AlreadyAnswered.into()),
        Some(None) => {}
    }
    let text = crate::error::required_text("text", text, MAX_TEXT)?;
    sqlx::query(
        "UPDATE opening_objections SET answer = $1, answered_by = $2, answered_at = $3 \
         WHERE id = $4",
    )
    .bind(&text)
    .bind(&user.id)
    .bind(now)
    .bind(objection_id)
    .execute(&mut **tx)
    .await?;
    let event = LedgerEvent::ObjectionAnswered(ObjectionAnswered {
        objection_id: objection_id.to_string(),
        text,
        by: user.id.clone(),
    });
    append(tx, &head.id, now, &user.id, &event).await?;
    maybe_close_early(state, tx, head, now).await?;
    Ok(Ack::Answered {
        objection_id: objection_id.to_string(),
        answered: true,
    })
}

/// Closes once every bidder has confirmed and every objection is answered.
async fn maybe_close_early(
    state: &AppState,
    tx: &mut Tx,
    head: &TenderHead,
    now: i64,
) -> AppResult<()> {
    let waiting: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT ob.bidder_org_id) FROM opening_bids ob \
         LEFT JOIN opening_confirmations c \
           ON c.tender_id = ob.tender_id AND c.bidder_org_id = ob.bidder_org_id \
         WHERE ob.tender_id = $1 AND c.user_id IS NULL",
    )
    .bind(&head.id)
    .fetch_one(&mut **tx)
    .await?;
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM opening_objections WHERE tender_id = $1 AND answer IS NULL",
    )
    .bind(&head.id)
    .fetch_one(&mut **tx)
    .await?;
    if waiting == 0 && open == 0 {
        super::record::close(state, tx, head, now, "all_confirmed").await?;
    }
    Ok(())
}

// ---- the scheduler's part: windows that end, custodians overdue ----

/// Advances every opening whose window has ended; restarts revealing after a restart.
pub async fn advance_due(state: &AppState) -> anyhow::Result<()> {
    let rows = sqlx::query("SELECT tender_id, phase FROM openings WHERE phase IN ($1, $2, $3, $4)")
        .bind(Phase::Decrypting.as_str())
        .bind(Phase::Unsealing.as_str())
        .bind(Phase::Revealing.as_str())
        .bind(Phase::Confirming.as_str())
        .fetch_all(&state.db.pool)
        .await?;
    for r in rows {
        let id: String = r.try_get("tender_id")?;
        let phase: String = r.try_get("phase")?;
        if phase == Phase::Revealing.as_str() {
            super::reveal::ensure(state, &id);
            continue;
        }
        match advance(state, &id).await {
            Ok(true) => {
                state.rooms.notify(&id);
                reveal_if_due(state, &id).await;
            }
            Ok(false) => {}
            Err(e) => tracing::error!(tender = %id, error = ?e, "advancing the opening failed"),
        }
    }
    Ok(())
}

async fn advance(state: &AppState, tender_id: &str) -> AppResult<bool> {
    let now = state.clock.now_ms();
    let rules = &state.config.opening;
    let mut tx = state.db.begin().await?;
    let Some(head) = tender_repo::lock(&mut tx, tender_id).await? else {
        return Ok(false);
    };
    let Some(o) = opening_row(&mut *tx, tender_id).await? else {
        return Ok(false);
    };
    let changed = match o.phase {
        Phase::Decrypting if now >= o.decrypt_ends_at => {
            close_decryption(&mut tx, tender_id, now, "window_ended").await?;
            true
        }
        Phase::Unsealing
            if !o.overdue_alerted
                && now
                    >= o.unsealing_since.unwrap_or(now) + rules.custodian_alert_mins * MINUTE =>
        {
            let missing: Vec<i64> = sqlx::query_scalar(
                "SELECT s.share_index FROM tender_key_shares s LEFT JOIN opening_shares o \
                 ON o.tender_id = s.tender_id AND o.share_index = s.share_index \
                 WHERE s.tender_id = $1 AND o.value IS NULL ORDER BY s.share_index",
            )
            .bind(tender_id)
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query("UPDATE openings SET overdue_alerted = 1 WHERE tender_id = $1")
                .bind(tender_id)
                .execute(&mut *tx)
                .await?;
            let event = LedgerEvent::CustodiansOverdue(CustodiansOverdue {
                missing: missing.clone(),
                waiting_since: o.unsealing_since,
            });
            append(&mut tx, tender_id, now, "platform", &event).await?;
            tracing::warn!(tender = %tender_id, ?missing, "custodians overdue: finance alerted");
            true
        }
        Phase::Confirming if o.confirm_ends_at.is_some_and(|t| now >= t) => {
            super::record::close(state, &mut tx, &head, now, "window_ended").await?;
            true
        }
        _ => false,
    };
    if changed {
        tx.commit().await?;
    }
    Ok(changed)
}
