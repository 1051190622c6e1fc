//! Filing and answering challenges, filing and handling complaints (docs/challenges.md).

use super::repo;
use super::rules::{self, payload};
use super::types::{Ack, ChallengeError, ChallengesView, Command, ComplaintView, MeView, Outcome};
use crate::approval::types::AttachmentView;
use crate::auth::{CurrentUser, Role};
use crate::calendar::deadlines::DeadlineRule;
use crate::calendar::Deadlines;
use crate::crypto::sha256_hex;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::repo::append;
use crate::ledger::{
    ChallengeAnswered, ChallengeFiled, ComplaintDecided, ComplaintExamined, ComplaintFiled,
    LedgerEvent, ProcurementSuspended,
};
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::Action;

/// The result's publication: the challenge window runs from it (the bidders know of the
/// result, and of any harm in it, from then).
async fn published_at<'e, E>(exec: E, tender_id: &str) -> AppResult<Option<i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(
        sqlx::query_scalar("SELECT published_at FROM result_notices WHERE tender_id = $1")
            .bind(tender_id)
            .fetch_optional(exec)
            .await?,
    )
}

fn text<'a>(field: &'static str, value: &'a str) -> AppResult<&'a str> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > rules::MAX_TEXT_CHARS {
        return Err(AppError::field(
            field,
            "内容不能为空，不超过 10000 字 / 1 to 10000 characters",
        ));
    }
    Ok(v)
}

fn deadlines(state: &AppState) -> &Deadlines {
    state.runtime::<Deadlines>()
}

pub async fn command(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    cmd: Command,
) -> AppResult<Ack> {
    // The evidence is stored by its hash and the signature checked before the
    // transaction (a refused statement leaves only unreferenced blobs).
    let mut evidence = Vec::new();
    if let Command::Challenge {
        grounds,
        key_id,
        signature,
        evidence: input,
    }
    | Command::Complain {
        grounds,
        key_id,
        signature,
        evidence: input,
        ..
    } = &cmd
    {
        let kind = if matches!(cmd, Command::Challenge { .. }) {
            "challenge"
        } else {
            "complaint"
        };
        let org = match (user.role, user.org_id.as_deref()) {
            (Role::Supplier, Some(org)) => org,
            _ => return Err(AppError::Forbidden),
        };
        evidence = crate::approval::service::store_attachments(state, input).await?;
        let hashes: Vec<String> = evidence.iter().map(|e| e.sha256.clone()).collect();
        let message = payload(kind, tender_id, org, grounds.trim(), &hashes);
        state
            .keyring()
            .verify_user_signature(&user.id, key_id, message.as_bytes(), signature)
            .await?;
    }
    let mut a = Action::begin(state, tender_id).await?;
    let (tx, head, now) = (&mut a.tx, &a.head, a.now);
    let ack = match cmd {
        Command::Challenge {
            grounds,
            signature,
            key_id,
            evidence: _,
        } => {
            let signed = Signed {
                grounds: &grounds,
                key_id: &key_id,
                signature: &signature,
                evidence: &evidence,
            };
            challenge(state, tx, user, head, signed, now).await?
        }
        Command::Reply {
            challenge_id,
            reply,
            upheld,
        } => answer(tx, user, head, &challenge_id, &reply, upheld, now).await?,
        Command::Complain {
            challenge_id,
            grounds,
            key_id,
            signature,
            evidence: _,
        } => {
            let signed = Signed {
                grounds: &grounds,
                key_id: &key_id,
                signature: &signature,
                evidence: &evidence,
            };
            complain(state, tx, user, head, &challenge_id, signed, now).await?
        }
        Command::Accept { complaint_id } => {
            examine(state, tx, user, head, &complaint_id, None, now).await?
        }
        Command::Reject {
            complaint_id,
            reason,
        } => examine(state, tx, user, head, &complaint_id, Some(&reason), now).await?,
        Command::Suspend {
            complaint_id,
            until,
        } => suspend(state, tx, user, head, &complaint_id, until, now).await?,
        Command::Decide {
            complaint_id,
            outcome,
            decision,
        } => decide(tx, user, head, &complaint_id, outcome, &decision, now).await?,
    };
    a.commit(state).await?;
    Ok(ack)
}

/// The organisation of a supplier that bid for the tender.
async fn bidder(tx: &mut Tx, user: &CurrentUser, head: &TenderHead) -> AppResult<String> {
    let org = match (user.role, &user.org_id) {
        (Role::Supplier, Some(org)) => org.clone(),
        _ => return Err(AppError::Forbidden),
    };
    let bids = crate::opening::repo::read_out_bids(&mut **tx, &head.id).await?;
    if !bids.iter().any(|b| b.bidder_org_id == org) {
        return Err(ChallengeError::NotABidder.into());
    }
    Ok(org)
}

async fn challenge(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    signed: Signed<'_>,
    now: i64,
) -> AppResult<Ack> {
    let (key_id, signature) = (signed.key_id, signed.signature);
    let org = bidder(tx, user, head).await?;
    let grounds = text("grounds", signed.grounds)?;
    let published = published_at(&mut **tx, &head.id)
        .await?
        .ok_or(ChallengeError::NoResult)?;
    if now >= deadlines(state).due(DeadlineRule::ChallengeFiling, published) {
        return Err(ChallengeError::WindowClosed.into());
    }
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM challenges WHERE tender_id = $1 AND org_id = $2")
            .bind(&head.id)
            .bind(&org)
            .fetch_one(&mut **tx)
            .await?;
    if n >= rules::MAX_CHALLENGES_PER_ORG {
        return Err(ChallengeError::TooMany.into());
    }
    let id = crate::org::service::new_id();
    let reply_due_at = deadlines(state).due(DeadlineRule::ChallengeReply, now);
    let grounds_sha256 = sha256_hex(grounds.as_bytes());
    sqlx::query(
        "INSERT INTO challenges (id, tender_id, org_id, filed_by, grounds, grounds_sha256, \
         key_id, signature, filed_at, reply_due_at, status, evidence) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11)",
    )
    .bind(&id)
    .bind(&head.id)
    .bind(&org)
    .bind(&user.id)
    .bind(grounds)
    .bind(&grounds_sha256)
    .bind(key_id)
    .bind(signature.trim())
    .bind(now)
    .bind(reply_due_at)
    .bind(serde_json::to_string(signed.evidence).map_err(anyhow::Error::from)?)
    .execute(&mut **tx)
    .await?;
    let event = ChallengeFiled {
        challenge_id: id.clone(),
        org_id: org,
        grounds_sha256,
        signature_sha256: sha256_hex(signature.trim().as_bytes()),
        reply_due_at,
        evidence_sha256: signed.evidence.iter().map(|e| e.sha256.clone()).collect(),
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::ChallengeFiled(event),
    )
    .await?;
    Ok(Ack {
        id,
        status: "open",
        due_at: Some(reply_due_at),
    })
}

#[allow(clippy::too_many_arguments)]
async fn answer(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    challenge_id: &str,
    reply: &str,
    upheld: bool,
    now: i64,
) -> AppResult<Ack> {
    let roles = crate::committee::access::of(user, head);
    if !(roles.host || roles.purchaser) {
        return Err(AppError::Forbidden);
    }
    let reply = text("reply", reply)?;
    let c = repo::challenge(&mut **tx, challenge_id)
        .await?
        .filter(|c| c.tender_id == head.id)
        .ok_or(AppError::NotFound)?;
    if c.status != "open" {
        return Err(AppError::IllegalTransition {
            from: c.status,
            action: "reply",
        });
    }
    sqlx::query(
        "UPDATE challenges SET status = 'answered', reply = $1, upheld = $2, replied_by = $3, \
         replied_at = $4 WHERE id = $5",
    )
    .bind(reply)
    .bind(i64::from(upheld))
    .bind(&user.id)
    .bind(now)
    .bind(challenge_id)
    .execute(&mut **tx)
    .await?;
    let event = ChallengeAnswered {
        challenge_id: challenge_id.to_string(),
        upheld,
        reply_sha256: sha256_hex(reply.as_bytes()),
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::ChallengeAnswered(event),
    )
    .await?;
    Ok(Ack {
        id: challenge_id.to_string(),
        status: "answered",
        due_at: None,
    })
}

/// A complaint's grounds and the challenger's signature of them.
struct Signed<'a> {
    grounds: &'a str,
    key_id: &'a str,
    signature: &'a str,
    /// Stored, and covered by the signature.
    evidence: &'a [AttachmentView],
}

async fn complain(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    challenge_id: &str,
    signed: Signed<'_>,
    now: i64,
) -> AppResult<Ack> {
    let org = bidder(tx, user, head).await?;
    let grounds = text("grounds", signed.grounds)?;
    // Only the challenger complains, of its own challenge, once.
    let c = repo::challenge(&mut **tx, challenge_id)
        .await?
        .filter(|c| c.tender_id == head.id && c.org_id == org)
        .ok_or(AppError::NotFound)?;
    if c.status == "open" && now < c.reply_due_at {
        return Err(ChallengeError::NotAnswered.into());
    }
    if now >= deadlines(state).due(DeadlineRule::ComplaintFiling, c.reply_due_at) {
        return Err(ChallengeError::ComplaintWindowClosed.into());
    }
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM complaints WHERE challenge_id = $1")
            .bind(challenge_id)
            .fetch_optional(&mut **tx)
            .await?;
    if exists.is_some() {
        return Err(AppError::IllegalTransition {
            from: "complained".into(),
            action: "complain",
        });
    }
    let id = crate::org::service::new_id();
    let examine_due_at = deadlines(state).due(DeadlineRule::ComplaintExamination, now);
    let grounds_sha256 = sha256_hex(grounds.as_bytes());
    sqlx::query(
        "INSERT INTO complaints (id, challenge_id, tender_id, org_id, filed_by, grounds, \
         grounds_sha256, key_id, signature, filed_at, examine_due_at, status, evidence) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'filed', $12)",
    )
    .bind(&id)
    .bind(challenge_id)
    .bind(&head.id)
    .bind(&org)
    .bind(&user.id)
    .bind(grounds)
    .bind(&grounds_sha256)
    .bind(signed.key_id)
    .bind(signed.signature.trim())
    .bind(now)
    .bind(examine_due_at)
    .bind(serde_json::to_string(signed.evidence).map_err(anyhow::Error::from)?)
    .execute(&mut **tx)
    .await?;
    let event = ComplaintFiled {
        complaint_id: id.clone(),
        challenge_id: challenge_id.to_string(),
        org_id: org,
        grounds_sha256,
        signature_sha256: sha256_hex(signed.signature.trim().as_bytes()),
        examine_due_at,
        evidence_sha256: signed.evidence.iter().map(|e| e.sha256.clone()).collect(),
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::ComplaintFiled(event),
    )
    .await?;
    Ok(Ack {
        id,
        status: "filed",
        due_at: Some(examine_due_at),
    })
}

/// Finance's complaint of this tender in one of `statuses`.
async fn handled(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    complaint_id: &str,
    statuses: &[&str],
    action: &'static str,
) -> AppResult<ComplaintView> {
    if user.role != Role::Finance {
        return Err(AppError::Forbidden);
    }
    let p = repo::complaint(&mut **tx, &head.id, complaint_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !statuses.contains(&p.status.as_str()) {
        return Err(AppError::IllegalTransition {
            from: p.status,
            action,
        });
    }
    Ok(p)
}

/// Accepted for examination (`reason` none) or not accepted (不予受理, with the reason).
#[allow(clippy::too_many_arguments)]
async fn examine(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    complaint_id: &str,
    reason: Option<&str>,
    now: i64,
) -> AppResult<Ack> {
    let action = if reason.is_some() { "reject" } else { "accept" };
    handled(tx, user, head, complaint_id, &["filed"], action).await?;
    let (status, decision_due_at, reason) = match reason {
        None => (
            "accepted",
            Some(deadlines(state).due(DeadlineRule::ComplaintDecision, now)),
            None,
        ),
        Some(r) => ("rejected", None, Some(text("reason", r)?)),
    };
    sqlx::query(
        "UPDATE complaints SET status = $1, accepted_at = $2, decision_due_at = $3, \
         reason = $4, decided_by = $5, decided_at = $6 WHERE id = $7",
    )
    .bind(status)
    .bind(decision_due_at.map(|_| now))
    .bind(decision_due_at)
    .bind(reason)
    .bind(reason.map(|_| user.id.as_str()))
    .bind(reason.map(|_| now))
    .bind(complaint_id)
    .execute(&mut **tx)
    .await?;
    let event = ComplaintExamined {
        complaint_id: complaint_id.to_string(),
        accepted: reason.is_none(),
        decision_due_at,
        reason_sha256: reason.map(|r| sha256_hex(r.as_bytes())),
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::ComplaintExamined(event),
    )
    .await?;
    Ok(Ack {
        id: complaint_id.to_string(),
        status,
        due_at: decision_due_at,
    })
}

#[allow(clippy::too_many_arguments)]
async fn suspend(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    complaint_id: &str,
    until: i64,
    now: i64,
) -> AppResult<Ack> {
    handled(
        tx,
        user,
        head,
        complaint_id,
        &["filed", "accepted"],
        "suspend",
    )
    .await?;
    if until <= now || until > deadlines(state).due(DeadlineRule::ProcurementSuspension, now) {
        return Err(ChallengeError::SuspensionTooLong.into());
    }
    sqlx::query("UPDATE complaints SET suspended_until = $1 WHERE id = $2")
        .bind(until)
        .bind(complaint_id)
        .execute(&mut **tx)
        .await?;
    let event = ProcurementSuspended {
        complaint_id: complaint_id.to_string(),
        until,
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::ProcurementSuspended(event),
    )
    .await?;
    Ok(Ack {
        id: complaint_id.to_string(),
        status: "suspended",
        due_at: Some(until),
    })
}

async fn decide(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    complaint_id: &str,
    outcome: Outcome,
    decision: &str,
    now: i64,
) -> AppResult<Ack> {
    let p = handled(tx, user, head, complaint_id, &["accepted"], "decide").await?;
    let decision = text("decision", decision)?;
    sqlx::query(
        "UPDATE complaints SET status = 'decided', outcome = $1, decision = $2, \
         decided_by = $3, decided_at = $4 WHERE id = $5",
    )
    .bind(outcome.as_str())
    .bind(decision)
    .bind(&user.id)
    .bind(now)
    .bind(complaint_id)
    .execute(&mut **tx)
    .await?;
    // R-CHAL-4: the third groundless complaint in 12 months (this one counted).
    let mut bad_conduct = false;
    if outcome == Outcome::Groundless {
        let n =
            repo::groundless_since(&mut **tx, &p.org_id, now - rules::GROUNDLESS_WINDOW_MS).await?;
        if n >= rules::GROUNDLESS_LIMIT {
            let id = crate::org::service::new_id();
            let reason = format!(
                "12 个月内 {n} 次投诉查无实据（R-CHAL-4，财政部令第94号第三十七条）/ \
                 {n} groundless complaints within 12 months (R-CHAL-4)"
            );
            crate::supplier::repo::insert_record(
                tx,
                &crate::supplier::repo::NewRecord {
                    id: &id,
                    org_id: &p.org_id,
                    list: "bad_conduct",
                    reason: &reason,
                    from_at: now,
                    until_at: Some(now + rules::BAD_CONDUCT_MS),
                    by: &user.id,
                    at: now,
                },
            )
            .await?;
            bad_conduct = true;
        }
    }
    let event = ComplaintDecided {
        complaint_id: complaint_id.to_string(),
        outcome: outcome.as_str().into(),
        decision_sha256: sha256_hex(decision.as_bytes()),
        bad_conduct,
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::ComplaintDecided(event),
    )
    .await?;
    Ok(Ack {
        id: complaint_id.to_string(),
        status: "decided",
        due_at: None,
    })
}

pub async fn view(
    state: &AppState,
    user: Option<&CurrentUser>,
    tender_id: &str,
) -> AppResult<ChallengesView> {
    let pool = &state.db.pool;
    let head = crate::tender::repo::published_head(pool, tender_id).await?;
    let roles = user.map(|u| crate::committee::access::of(u, &head));
    let side = roles
        .as_ref()
        .is_some_and(|r| r.host || r.purchaser || r.supervisor);
    let own = match user {
        Some(u) if u.role == Role::Supplier => u.org_id.clone(),
        _ => None,
    };
    let published = published_at(pool, tender_id).await?;
    let challenge_until = published.map(|p| deadlines(state).due(DeadlineRule::ChallengeFiling, p));
    let mut challenges = if side {
        repo::challenges(pool, tender_id, None).await?
    } else if let Some(org) = &own {
        repo::challenges(pool, tender_id, Some(org)).await?
    } else {
        Vec::new()
    };
    for c in &mut challenges {
        c.complain_until = deadlines(state).due(DeadlineRule::ComplaintFiling, c.reply_due_at);
    }
    // Everyone reads the decisions (without the grounds); a bidder its own complaints
    // whole; the tender's side and the supervisors all.
    let mut complaints = if side {
        repo::complaints(pool, tender_id, None, false).await?
    } else {
        let mut public = repo::complaints(pool, tender_id, None, true).await?;
        for p in &mut public {
            p.grounds = None;
            p.evidence.clear();
        }
        if let Some(org) = &own {
            let mine = repo::complaints(pool, tender_id, Some(org), false).await?;
            public.retain(|p| !mine.iter().any(|m| m.id == p.id));
            public.extend(mine);
        }
        public
    };
    complaints.sort_by_key(|p| p.filed_at);
    let now = state.clock.now_ms();
    let may_challenge = own.is_some()
        && challenge_until.is_some_and(|u| now < u)
        && crate::opening::repo::read_out_bids(pool, tender_id)
            .await?
            .iter()
            .any(|b| Some(&b.bidder_org_id) == own.as_ref());
    Ok(ChallengesView {
        tender_id: tender_id.to_string(),
        result_published_at: published,
        challenge_until,
        contract_blocked: repo::blocks_contract(pool, tender_id).await?,
        challenges,
        complaints,
        me: MeView {
            may_challenge,
            answers: roles.as_ref().is_some_and(|r| r.host || r.purchaser),
            handles_complaints: user.is_some_and(|u| u.role == Role::Finance),
        },
    })
}

/// An evidence file of a challenge or complaint (`item`), to whoever reads its grounds.
pub async fn evidence(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    item: &str,
    seq: i64,
) -> AppResult<(AttachmentView, bytes::Bytes)> {
    let v = view(state, Some(user), tender_id).await?;
    let files = v
        .challenges
        .into_iter()
        .find(|c| c.id == item)
        .map(|c| c.evidence)
        .or_else(|| {
            v.complaints
                .into_iter()
                .find(|p| p.id == item)
                .map(|p| p.evidence)
        })
        .ok_or(AppError::NotFound)?;
    crate::approval::service::stored_attachment(state, files, seq).await
}
