//! Who stands behind a supplier (R-COL-7): its legal representative (法定代表人) and its
//! controlling shareholder or actual controller (控股股东/实际控制人), declared by the
//! supplier at registration or afterwards (migration 0033). Identity numbers are checked
//! (GB 11643) and kept only as keyed digests (`pki::Authority::identity_tag`): the
//! warnings compare bidders of a lot by them after the opening; no one reads a number back.
//! A company controller is kept by its credit code, which is public.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::auth::CurrentUser;
use crate::credit_code::CreditCode;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;

const MAX_NAME_CHARS: usize = 50;

/// Body of `PUT /api/suppliers/me/identity`, and the optional `identity` of a registration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityInput {
    pub legal_rep_name: String,
    /// The legal representative's resident identity number (kept as a digest only).
    pub legal_rep_id: String,
    /// none | org | person
    #[serde(default = "none")]
    pub controller_kind: String,
    #[serde(default)]
    pub controller_name: String,
    /// The controller's credit code (`org`) or resident identity number (`person`).
    #[serde(default)]
    pub controller_code: String,
}

fn none() -> String {
    "none".into()
}

/// What the supplier's users read back: names, the kind, a company controller's code;
/// never an identity number.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityView {
    pub declared: bool,
    pub legal_rep_name: String,
    pub controller_kind: String,
    pub controller_name: String,
    /// A company controller's credit code.
    pub controller_credit_code: Option<String>,
    pub updated_at: Option<i64>,
}

/// As stored: what R-COL-7 compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub legal_rep_name: String,
    pub legal_rep_tag: String,
    pub controller_kind: String,
    pub controller_name: String,
    /// `org:<credit code>`, `person:<identity tag>`, or empty.
    pub controller_key: String,
}

/// Checks `input` for the supplier whose credit code is `own_code`; the identity as kept.
pub fn check(state: &AppState, input: &IdentityInput, own_code: &str) -> AppResult<Identity> {
    let mut errors = FieldErrors::new();
    let mut refuse = |field: &str, message: &str| {
        errors.insert(field.into(), vec![message.into()]);
    };
    let name = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.chars().count() <= MAX_NAME_CHARS).then(|| s.to_string())
    };
    let rep_name = name(&input.legal_rep_name);
    if rep_name.is_none() {
        refuse(
            "legal_rep_name",
            "请填写法定代表人姓名（50 字以内）/ the legal representative's name (50 characters)",
        );
    }
    let rep_id = crate::resident_id::normalise(&input.legal_rep_id);
    if rep_id.is_none() {
        refuse(
            "legal_rep_id",
            "公民身份号码有误（18 位，校验位不符）/ not a resident identity number (18 characters, check failed)",
        );
    }
    let (controller_name, controller_key) = match input.controller_kind.as_str() {
        "none" => (String::new(), String::new()),
        kind @ ("org" | "person") => {
            let cname = name(&input.controller_name);
            if cname.is_none() {
                refuse(
                    "controller_name",
                    "请填写控股股东或实际控制人名称 / the controller's name",
                );
            }
            let key = if kind == "org" {
                CreditCode::parse(input.controller_code.trim())
                    .ok()
                    .map(|c| c.as_str().to_string())
                    .filter(|c| c != own_code)
                    .map(|c| format!("org:{c}"))
            } else {
                crate::resident_id::normalise(&input.controller_code)
                    .map(|n| format!("person:{}", state.pki.identity_tag("resident", &n)))
            };
            if key.is_none() {
                refuse(
                    "controller_code",
                    if kind == "org" {
                        "控股单位的统一社会信用代码有误（不能是本单位）/ the controlling company's credit code (not your own)"
                    } else {
                        "实际控制人的公民身份号码有误 / the controller's resident identity number"
                    },
                );
            }
            (cname.unwrap_or_default(), key.unwrap_or_default())
        }
        _ => {
            refuse(
                "controller_kind",
                "控制关系为 none、org 或 person / none, org or person",
            );
            (String::new(), String::new())
        }
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(Identity {
        legal_rep_name: rep_name.unwrap_or_default(),
        legal_rep_tag: state
            .pki
            .identity_tag("resident", &rep_id.unwrap_or_default()),
        controller_kind: input.controller_kind.clone(),
        controller_name,
        controller_key,
    })
}

/// Keeps `identity` as the organisation's, replacing what it declared before.
pub async fn store(
    conn: &mut sqlx::AnyConnection,
    org_id: &str,
    identity: &Identity,
    user_id: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM org_identities WHERE org_id = $1")
        .bind(org_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO org_identities (org_id, legal_rep_name, legal_rep_tag, controller_kind, \
         controller_name, controller_key, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(org_id)
    .bind(&identity.legal_rep_name)
    .bind(&identity.legal_rep_tag)
    .bind(&identity.controller_kind)
    .bind(&identity.controller_name)
    .bind(&identity.controller_key)
    .bind(user_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Copies the declarations of a tender's bidders (the organisations with a submitted
/// bid) as they stand now, at the bid deadline, into `sealed_identities`: a row for
/// every bidder, empty where it declared nothing (migration 0034). Inside the sealing's
/// transaction.
pub async fn freeze(conn: &mut sqlx::AnyConnection, tender_id: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sealed_identities (tender_id, org_id, legal_rep_name, legal_rep_tag, \
         controller_name, controller_key, sealed_at) \
         SELECT DISTINCT b.tender_id, b.bidder_org_id, i.legal_rep_name, i.legal_rep_tag, \
         i.controller_name, i.controller_key, $2 \
         FROM bids b LEFT JOIN org_identities i ON i.org_id = b.bidder_org_id \
         WHERE b.tender_id = $1 AND b.status = 'submitted'",
    )
    .bind(tender_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The organisation's declared identity, with when it was declared.
pub async fn of_org<'e, E>(exec: E, org_id: &str) -> sqlx::Result<Option<(Identity, i64)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT legal_rep_name, legal_rep_tag, controller_kind, controller_name, \
         controller_key, updated_at FROM org_identities WHERE org_id = $1",
    )
    .bind(org_id)
    .fetch_optional(exec)
    .await?
    .map(|r| {
        Ok((
            Identity {
                legal_rep_name: r.try_get("legal_rep_name")?,
                legal_rep_tag: r.try_get("legal_rep_tag")?,
                controller_kind: r.try_get("controller_kind")?,
                controller_name: r.try_get("controller_name")?,
                controller_key: r.try_get("controller_key")?,
            },
            r.try_get("updated_at")?,
        ))
    })
    .transpose()
}

fn view(found: Option<(Identity, i64)>) -> IdentityView {
    match found {
        Some((i, at)) => IdentityView {
            declared: true,
            controller_credit_code: i.controller_key.strip_prefix("org:").map(str::to_string),
            legal_rep_name: i.legal_rep_name,
            controller_kind: i.controller_kind,
            controller_name: i.controller_name,
            updated_at: Some(at),
        },
        None => IdentityView {
            declared: false,
            legal_rep_name: String::new(),
            controller_kind: none(),
            controller_name: String::new(),
            controller_credit_code: None,
            updated_at: None,
        },
    }
}

/// `GET /api/suppliers/me/identity`.
pub async fn mine(state: &AppState, user: &CurrentUser) -> AppResult<IdentityView> {
    let org = user.org_id.as_deref().ok_or(AppError::Forbidden)?;
    Ok(view(of_org(&state.db.pool, org).await?))
}

/// `PUT /api/suppliers/me/identity`: the supplier's user declares (or corrects) it; the
/// change is in the audit log.
pub async fn declare(
    state: &AppState,
    user: &CurrentUser,
    input: &IdentityInput,
    client: &crate::auth::types::ClientInfo,
) -> AppResult<IdentityView> {
    let org = user.org_id.as_deref().ok_or(AppError::Forbidden)?;
    let own = crate::supplier::repo::supplier(&state.db.pool, org)
        .await?
        .ok_or(AppError::Forbidden)?;
    let identity = check(state, input, &own.credit_code)?;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    store(&mut tx, org, &identity, &user.id, now).await?;
    crate::auth::repo::audit(
        &mut *tx,
        now,
        Some(&user.id),
        &user.username,
        "supplier_identity_declared",
        &client.ip,
        &client.user_agent,
        &own.credit_code,
    )
    .await?;
    tx.commit().await?;
    Ok(view(Some((identity, now))))
}
