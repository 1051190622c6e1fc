//! Registration, the signed commitment, credit records and the check at a bid's start.

use super::repo::{self, NewCommitment, NewRecord};
use super::rules;
use super::types::{
    CommitmentView, CreditCheckView, CreditRecordInput, CreditRecordView, RegisterRequest,
    RegisteredView, SignRequest, SupplierError,
};
use crate::auth::types::ClientInfo;
use crate::auth::{CurrentUser, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::org::service as orgs;
use crate::org::types::{CreateOrgRequest, OrgKind, UserListItem};
use crate::state::AppState;

/// Registrations one address may make in an hour: enough for a firm's office behind one
/// gateway, too few to fill the database.
const REGISTRATIONS_PER_HOUR: i64 = 5;
const HOUR: i64 = 3_600_000;

/// A supplier registers itself: its organisation (credit code checked) and its first
/// account, in one transaction; it signs its commitment after logging in.
pub async fn register(
    state: &AppState,
    req: RegisterRequest,
    client: &ClientInfo,
) -> AppResult<RegisteredView> {
    let now = state.clock.now_ms();
    if repo::registrations_from(&state.db.pool, &client.ip, now - HOUR).await?
        >= REGISTRATIONS_PER_HOUR
    {
        return Err(AppError::RateLimited {
            what: "registrations",
            retry_after_secs: 600,
        });
    }
    let mut errors = FieldErrors::new();
    orgs::check_user_fields(&req.username, &req.display_name, &req.password, &mut errors);
    let org = orgs::new_org(
        state,
        CreateOrgRequest {
            kind: OrgKind::Supplier,
            name: req.name.clone(),
            credit_code: req.credit_code.clone(),
            region_code: req.region_code.clone(),
            enterprise_size: Some(req.enterprise_size),
            special_status: req.special_status,
        },
    )
    .await
    .map_err(|e| match e {
        AppError::Validation(mut more) => {
            more.extend(std::mem::take(&mut errors));
            AppError::Validation(more)
        }
        e => e,
    })?;
    let identity = match &req.identity {
        Some(input) => match super::identity::check(state, input, &org.credit_code) {
            Ok(i) => Some(i),
            Err(AppError::Validation(more)) => {
                errors.extend(more);
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = orgs::password_hash(state, &req.password).await?;
    let user = UserListItem {
        id: orgs::new_id(),
        username: req.username.trim().into(),
        display_name: req.display_name.trim().into(),
        role: Role::Supplier.as_str().into(),
        org_id: Some(org.id.clone()),
    };
    let mut tx = state.db.begin().await?;
    orgs::insert_org(&mut tx, &org, now).await?;
    repo::set_registered_via(&mut tx, &org.id, "self").await?;
    orgs::insert_user(&mut tx, &user, &hash, now).await?;
    if let Some(identity) = &identity {
        super::identity::store(&mut tx, &org.id, identity, &user.id, now).await?;
    }
    crate::auth::repo::audit(
        &mut *tx,
        now,
        Some(&user.id),
        &user.username,
        "supplier_registered",
        &client.ip,
        &client.user_agent,
        &org.credit_code,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(org = %org.id, "supplier registered itself");
    Ok(RegisteredView {
        org_id: org.id,
        user_id: user.id,
        username: user.username,
    })
}

async fn own_supplier(state: &AppState, user: &CurrentUser) -> AppResult<repo::SupplierRow> {
    let org = user.org_id.as_deref().ok_or(AppError::Forbidden)?;
    repo::supplier(&state.db.pool, org)
        .await?
        .ok_or(AppError::Forbidden)
}

fn payload_of(s: &repo::SupplierRow) -> (String, String) {
    let text = rules::commitment_text(
        &s.name,
        &s.credit_code,
        s.enterprise_size.as_deref().unwrap_or_default(),
        s.special_status.as_deref(),
    );
    let payload = rules::commitment_payload(&s.id, &s.credit_code, &text);
    (text, payload)
}

/// The commitment the supplier's user signs, and whether the supplier has.
pub async fn commitment(state: &AppState, user: &CurrentUser) -> AppResult<CommitmentView> {
    let s = own_supplier(state, user).await?;
    let (text, payload) = payload_of(&s);
    let signed = repo::commitment(&state.db.pool, &s.id).await?;
    Ok(CommitmentView {
        required: s.registered_via == "self",
        version: rules::COMMITMENT_VERSION,
        text,
        payload,
        signed_at: signed.as_ref().map(|c| c.signed_at),
        key_id: signed.map(|c| c.key_id),
    })
}

/// The supplier's user signs the commitment with a certified signing key of theirs.
pub async fn sign(
    state: &AppState,
    user: &CurrentUser,
    req: SignRequest,
) -> AppResult<CommitmentView> {
    let s = own_supplier(state, user).await?;
    let (_, payload) = payload_of(&s);
    state
        .keyring()
        .verify_user_signature(&user.id, &req.key_id, payload.as_bytes(), &req.signature)
        .await?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    if repo::commitment(&mut *tx, &s.id).await?.is_some() {
        return Err(SupplierError::AlreadySigned.into());
    }
    let signature: String = req.signature.trim().chars().take(512).collect();
    repo::insert_commitment(
        &mut tx,
        &NewCommitment {
            org_id: &s.id,
            user_id: &user.id,
            key_id: &req.key_id,
            version: rules::COMMITMENT_VERSION,
            payload: &payload,
            signature: &signature,
            at: now,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(org = %s.id, "credit commitment signed");
    commitment(state, user).await
}

/// Finance records a listing that bars a supplier.
pub async fn record(
    state: &AppState,
    actor: &CurrentUser,
    r: CreditRecordInput,
) -> AppResult<CreditRecordView> {
    let now = state.clock.now_ms();
    let reason = r.reason.trim();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::field(
            "reason",
            "须说明依据,不超过 2000 字 / the grounds: 1–2000 characters",
        ));
    }
    let from_at = r.from_at.unwrap_or(now);
    if r.until_at.is_some_and(|u| u <= from_at) {
        return Err(AppError::field(
            "until_at",
            "结束时间须晚于开始时间 / must be after the start",
        ));
    }
    if repo::supplier(&state.db.pool, &r.org_id).await?.is_none() {
        return Err(AppError::field("org_id", "供应商不存在 / no such supplier"));
    }
    let id = orgs::new_id();
    let mut tx = state.db.begin().await?;
    repo::insert_record(
        &mut tx,
        &NewRecord {
            id: &id,
            org_id: &r.org_id,
            list: r.list.as_str(),
            reason,
            from_at,
            until_at: r.until_at,
            by: &actor.id,
            at: now,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(org = %r.org_id, list = r.list.as_str(), "credit record");
    repo::records(&state.db.pool, &r.org_id)
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or(AppError::NotFound)
}

/// Credit records: a supplier sees its own; finance, oversight and admin all.
pub async fn records(state: &AppState, user: &CurrentUser) -> AppResult<Vec<CreditRecordView>> {
    let org = match user.role {
        Role::Supplier => user.org_id.clone().ok_or(AppError::Forbidden)?,
        r if r.is_supervisor() => String::new(),
        _ => return Err(AppError::Forbidden),
    };
    Ok(repo::records(&state.db.pool, &org).await?)
}

/// The checks made of the caller's own organisation (a supplier sees why it was refused).
pub async fn my_checks(state: &AppState, user: &CurrentUser) -> AppResult<Vec<CreditCheckView>> {
    let s = own_supplier(state, user).await?;
    Ok(repo::checks(&state.db.pool, &s.id).await?)
}

/// R-CRED-1 when a supplier starts a bid, before its row is written: a supplier that
/// registered itself must have signed its commitment, and none may be on a list in force;
/// the check and its result are recorded either way (the record is the bid's own, as
/// secret before the deadline as the bid).
pub async fn check_eligible(
    state: &AppState,
    org_id: &str,
    tender_id: &str,
    now: i64,
) -> AppResult<()> {
    let s = repo::supplier(&state.db.pool, org_id)
        .await?
        .ok_or(AppError::Forbidden)?;
    let listed: Vec<String> = repo::records(&state.db.pool, org_id)
        .await?
        .into_iter()
        .filter(|r| rules::in_force(r.from_at, r.until_at, now))
        .map(|r| r.list)
        .collect();
    let unsigned =
        s.registered_via == "self" && repo::commitment(&state.db.pool, org_id).await?.is_none();
    let result = if !listed.is_empty() {
        "barred"
    } else if unsigned {
        "no_commitment"
    } else {
        "clear"
    };
    let mut tx: Tx = state.db.begin().await?;
    repo::insert_check(
        &mut tx,
        &orgs::new_id(),
        org_id,
        tender_id,
        now,
        result,
        &listed.join(","),
    )
    .await?;
    tx.commit().await?;
    match result {
        "barred" => Err(SupplierError::Barred.into()),
        "no_commitment" => Err(SupplierError::CommitmentMissing.into()),
        _ => Ok(()),
    }
}
