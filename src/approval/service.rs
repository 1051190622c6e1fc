//! One transaction per action: the unit's request, a supplier's objection, finance's
//! decision; and what the tender asks before its publication.

use base64::Engine;

use super::repo::{self, Filter, NewApproval, APPROVED, PENDING, REFUSED};
use super::rules;
use super::types::{
    ApprovalError, ApprovalInput, ApprovalKind, ApprovalView, AttachmentView, DecisionInput,
    ObjectionInput,
};
use crate::auth::CurrentUser;
use crate::calendar::deadlines::DeadlineRule;
use crate::calendar::Deadlines;
use crate::credit_code::CreditCode;
use crate::db::Tx;
use crate::error::{required_text, AppError, AppResult};
use crate::ledger::{
    self, ApprovalDecided, ApprovalObjected, ApprovalRequested, AttachmentRef, LedgerEvent,
};
use crate::plan::{self, ProcurementMethod};
use crate::state::AppState;

/// Longest reasons, objection or decision, in characters.
const MAX_TEXT: usize = 4000;
/// At most this many attachments, together at most `MAX_ATTACHMENT_BYTES` (the request
/// body itself is bounded at the edge).
const MAX_ATTACHMENTS: usize = 5;
const MAX_ATTACHMENT_BYTES: usize = 1 << 20;
/// Objections one supplier may send on one request.
const MAX_OBJECTIONS: i64 = 3;

/// Checks and decodes the attachments, then stores them in the blob store (named by
/// their hash, so a request refused afterwards leaves only unreferenced blobs).
pub(crate) async fn store_attachments(
    state: &AppState,
    input: &[super::types::AttachmentInput],
) -> AppResult<Vec<AttachmentView>> {
    if input.len() > MAX_ATTACHMENTS {
        return Err(AppError::field(
            "attachments",
            format!("最多 {MAX_ATTACHMENTS} 个附件 / at most {MAX_ATTACHMENTS} attachments"),
        ));
    }
    let mut decoded = Vec::new();
    let mut total = 0;
    for (i, a) in input.iter().enumerate() {
        let name = required_text(&format!("attachments[{i}].name"), &a.name, 200)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(a.content_base64.trim())
            .map_err(|_| {
                AppError::field(
                    format!("attachments[{i}].content_base64"),
                    "不是 base64 编码 / not base64",
                )
            })?;
        total += bytes.len();
        if total > MAX_ATTACHMENT_BYTES || bytes.is_empty() {
            return Err(AppError::field(
                "attachments",
                "附件须非空,合计不超过 1 MB / attachments: not empty, 1 MB in all",
            ));
        }
        let media_type = if a.media_type.trim().is_empty() {
            mime_guess::from_path(&name)
                .first_or_octet_stream()
                .to_string()
        } else {
            a.media_type.trim().chars().take(100).collect()
        };
        decoded.push((name, media_type, bytes));
    }
    let mut out = Vec::new();
    for (i, (name, media_type, bytes)) in decoded.into_iter().enumerate() {
        let size = bytes.len() as i64;
        let sha256 = state.blobs.put(bytes.into()).await?;
        out.push(AttachmentView {
            seq: i as i64 + 1,
            name,
            media_type,
            size,
            sha256,
        });
    }
    Ok(out)
}

/// The unit asks finance to approve its plan's method or its imported products.
pub async fn request(
    state: &AppState,
    actor: &CurrentUser,
    plan_id: &str,
    input: ApprovalInput,
) -> AppResult<ApprovalView> {
    request_at(state, actor, plan_id, input, state.clock.now_ms()).await
}

/// [`request`] at a given time (the demo city's history).
pub(crate) async fn request_at(
    state: &AppState,
    actor: &CurrentUser,
    plan_id: &str,
    input: ApprovalInput,
    now: i64,
) -> AppResult<ApprovalView> {
    let reasons = required_text("reasons", &input.reasons, MAX_TEXT)?;
    let mut tx = state.db.begin().await?;
    let p = plan::repo::lock_plan(&mut tx, plan_id, now)
        .await?
        .filter(|p| actor.org_id.as_deref() == Some(p.org_id.as_str()))
        .ok_or(AppError::NotFound)?;
    if p.status != plan::repo::FILED {
        return Err(AppError::IllegalTransition {
            from: p.status,
            action: "approval",
        });
    }
    let method = ProcurementMethod::parse(&p.method).ok_or(AppError::NotFound)?;
    let threshold = state.config.open_tendering_threshold_fen;
    if !rules::needed(method, p.amount_fen, p.imported != 0, threshold).contains(&input.kind) {
        return Err(ApprovalError::NotNeeded.into());
    }
    if !repo::live_of_kind(&mut tx, plan_id, input.kind.as_str())
        .await?
        .is_empty()
    {
        return Err(ApprovalError::AlreadyRequested.into());
    }
    let publicised = rules::publicised(input.kind, method);
    let sole = if publicised {
        let name = required_text(
            "sole_supplier_name",
            input.sole_supplier_name.as_deref().unwrap_or_default(),
            200,
        )?;
        let code = input
            .sole_supplier_credit_code
            .as_deref()
            .unwrap_or_default();
        let code = CreditCode::parse(code.trim()).map_err(|_| AppError::InvalidCreditCode {
            field: "sole_supplier_credit_code".into(),
        })?;
        Some((name, code.as_str().to_string()))
    } else {
        None
    };
    let attachments = store_attachments(state, &input.attachments).await?;
    let id = crate::org::service::new_id();
    let publicity_ends_at = publicised.then(|| {
        state
            .runtime::<Deadlines>()
            .due(DeadlineRule::SingleSourcePublicity, now)
    });
    repo::insert(
        &mut tx,
        &NewApproval {
            id: &id,
            plan_id,
            kind: input.kind.as_str(),
            method: method.as_str(),
            reasons: &reasons,
            sole_supplier: sole.as_ref().map(|(n, c)| (n.as_str(), c.as_str())),
            by: &actor.id,
            at: now,
            publicity_ends_at,
        },
    )
    .await?;
    for a in &attachments {
        repo::insert_attachment(&mut tx, &id, a.seq, a).await?;
    }
    let event = LedgerEvent::ApprovalRequested(ApprovalRequested {
        approval_id: id.clone(),
        kind: input.kind.as_str().into(),
        method: method.as_str().into(),
        reasons,
        sole_supplier_name: sole.as_ref().map(|s| s.0.clone()),
        sole_supplier_code: sole.as_ref().map(|s| s.1.clone()),
        attachments: attachments
            .iter()
            .map(|a| AttachmentRef {
                name: a.name.clone(),
                size: a.size,
                sha256: a.sha256.clone(),
            })
            .collect(),
        publicity_ends_at,
    });
    ledger::repo::append_plan(&mut tx, plan_id, now, &actor.id, &event).await?;
    tx.commit().await?;
    tracing::info!(approval = %id, plan = %plan_id, kind = input.kind.as_str(), "approval requested");
    one(state, actor, &id).await
}

/// A supplier objects to a single-source request during its publicity.
pub async fn object(
    state: &AppState,
    actor: &CurrentUser,
    id: &str,
    input: ObjectionInput,
) -> AppResult<ApprovalView> {
    let body = required_text("text", &input.text, MAX_TEXT)?;
    let org = actor.org_id.clone().ok_or(AppError::Forbidden)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let a = repo::lock(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let Some(ends) = a.publicity_ends_at else {
        return Err(AppError::NotFound);
    };
    if a.status != PENDING || now >= ends {
        return Err(ApprovalError::PublicityOver.into());
    }
    if repo::objections_by(&mut tx, id, &org).await? >= MAX_OBJECTIONS {
        return Err(AppError::field(
            "text",
            format!("每家供应商最多提出 {MAX_OBJECTIONS} 条异议 / at most {MAX_OBJECTIONS} objections per supplier"),
        ));
    }
    let oid = crate::org::service::new_id();
    repo::insert_objection(&mut tx, &oid, id, &org, &body, now).await?;
    plan::repo::lock_plan(&mut tx, &a.plan_id, now).await?;
    let event = LedgerEvent::ApprovalObjected(ApprovalObjected {
        approval_id: id.to_string(),
        objection_id: oid,
        text: body,
    });
    ledger::repo::append_plan(&mut tx, &a.plan_id, now, &actor.id, &event).await?;
    tx.commit().await?;
    tracing::info!(approval = %id, "objection to a single-source request");
    public_one(state, id).await
}

/// Finance approves or refuses (a refusal with its reason); a single-source request only
/// after its publicity.
pub async fn decide(
    state: &AppState,
    actor: &CurrentUser,
    id: &str,
    input: DecisionInput,
) -> AppResult<ApprovalView> {
    decide_at(state, actor, id, input, state.clock.now_ms()).await
}

/// [`decide`] at a given time (the demo city's history).
pub(crate) async fn decide_at(
    state: &AppState,
    actor: &CurrentUser,
    id: &str,
    input: DecisionInput,
    now: i64,
) -> AppResult<ApprovalView> {
    let reason = if input.approve && input.reason.trim().is_empty() {
        String::new()
    } else {
        required_text("reason", &input.reason, MAX_TEXT)?
    };
    let mut tx = state.db.begin().await?;
    let a = repo::lock(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if a.status != PENDING {
        return Err(ApprovalError::AlreadyDecided.into());
    }
    if let Some(ends) = a.publicity_ends_at.filter(|e| now < *e) {
        return Err(ApprovalError::PublicityNotOver { ends_at: ends }.into());
    }
    let status = if input.approve { APPROVED } else { REFUSED };
    repo::decide(&mut tx, id, status, &actor.id, now, &reason).await?;
    plan::repo::lock_plan(&mut tx, &a.plan_id, now).await?;
    let event = LedgerEvent::ApprovalDecided(ApprovalDecided {
        approval_id: id.to_string(),
        approved: input.approve,
        reason,
    });
    ledger::repo::append_plan(&mut tx, &a.plan_id, now, &actor.id, &event).await?;
    tx.commit().await?;
    tracing::info!(approval = %id, status, "approval decided");
    one(state, actor, id).await
}

fn shown_status(mut v: ApprovalView, now: i64) -> ApprovalView {
    if v.status == PENDING && v.publicity_ends_at.is_some_and(|e| now < e) {
        v.status = "publicising".into();
    }
    v
}

pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    plan_id: &str,
) -> AppResult<Vec<ApprovalView>> {
    let now = state.clock.now_ms();
    let f = Filter {
        org_id: &plan::service::scope(user)?,
        plan_id,
        single_source_only: false,
    };
    let rows = repo::list(&state.db.pool, &f).await?;
    Ok(rows
        .into_iter()
        .map(|(_, v)| shown_status(v, now))
        .collect())
}

pub async fn one(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<ApprovalView> {
    let scope = plan::service::scope(user)?;
    let (_, mut v) = repo::one(&state.db.pool, id)
        .await?
        .filter(|(org, _)| scope.is_empty() || *org == scope)
        .ok_or(AppError::NotFound)?;
    v.attachments = repo::attachments(&state.db.pool, id).await?;
    v.objections = repo::objections(&state.db.pool, id).await?;
    Ok(shown_status(v, state.clock.now_ms()))
}

/// The public notices of single-source requests (单一来源公示): what, why, the one supplier
/// and until when objections are taken; objections themselves stay with the unit and finance.
pub async fn notices(state: &AppState) -> AppResult<Vec<ApprovalView>> {
    let now = state.clock.now_ms();
    let f = Filter {
        single_source_only: true,
        ..Filter::default()
    };
    let rows = repo::list(&state.db.pool, &f).await?;
    Ok(rows
        .into_iter()
        .map(|(_, v)| shown_status(v, now))
        .collect())
}

async fn public_one(state: &AppState, id: &str) -> AppResult<ApprovalView> {
    let (_, v) = repo::one(&state.db.pool, id)
        .await?
        .filter(|(_, v)| v.publicity_ends_at.is_some())
        .ok_or(AppError::NotFound)?;
    Ok(shown_status(v, state.clock.now_ms()))
}

pub async fn notice(state: &AppState, id: &str) -> AppResult<ApprovalView> {
    public_one(state, id).await
}

/// An attachment's name, type, size and bytes, for who may see the request.
pub async fn attachment(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    seq: i64,
) -> AppResult<(AttachmentView, bytes::Bytes)> {
    let v = one(state, user, id).await?;
    stored_attachment(state, v.attachments, seq).await
}

/// The attachment `seq` of `files` with its bytes from the blob store, or `NOT_FOUND`
/// (approvals, acceptance reports, challenges and complaints keep theirs alike).
pub(crate) async fn stored_attachment(
    state: &AppState,
    files: Vec<AttachmentView>,
    seq: i64,
) -> AppResult<(AttachmentView, bytes::Bytes)> {
    let a = files
        .into_iter()
        .find(|a| a.seq == seq)
        .ok_or(AppError::NotFound)?;
    let bytes = state
        .blobs
        .get(&a.sha256)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((a, bytes))
}

/// R-METH-1 at the tender's publication: every approval its plan needs is given.
pub async fn check_publication(
    state: &AppState,
    tx: &mut Tx,
    plan_id: &str,
    now: i64,
) -> AppResult<()> {
    let p = plan::repo::lock_plan(tx, plan_id, now)
        .await?
        .ok_or(AppError::NotFound)?;
    let method = ProcurementMethod::parse(&p.method).ok_or(AppError::NotFound)?;
    let threshold = state.config.open_tendering_threshold_fen;
    let approved = repo::approved_kinds(tx, plan_id).await?;
    for kind in rules::needed(method, p.amount_fen, p.imported != 0, threshold) {
        if !approved
            .iter()
            .any(|k| ApprovalKind::parse(k) == Some(kind))
        {
            return Err(ApprovalError::ApprovalRequired(rules::what(kind)).into());
        }
    }
    Ok(())
}
