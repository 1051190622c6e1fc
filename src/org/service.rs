//! Rules for creating organisations and users.

use super::repo;
use super::types::{CreateOrgRequest, CreateUserRequest, OrgKind, OrgView, UserListItem};
use crate::auth::service::hash_password;
use crate::auth::{CurrentUser, Role};
use crate::credit_code::CreditCode;
use crate::db::is_unique_violation;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub async fn create_org(state: &AppState, req: CreateOrgRequest) -> AppResult<OrgView> {
    let org = new_org(state, req).await?;
    let mut tx = state.db.begin().await?;
    insert_org(&mut tx, &org, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(org)
}

/// Inserts a checked organisation; a taken credit code is `CONFLICT`.
pub async fn insert_org(tx: &mut crate::db::Tx, org: &OrgView, now: i64) -> AppResult<()> {
    match repo::insert_org(tx, org, now).await {
        Err(e) if is_unique_violation(&e) => {
            Err(AppError::Conflict("统一社会信用代码 / credit code"))
        }
        r => Ok(r?),
    }
}

/// Checks an organisation's fields (the credit code's check character, the region, a
/// supplier's declared size) and gives it an id; nothing is written.
pub async fn new_org(state: &AppState, req: CreateOrgRequest) -> AppResult<OrgView> {
    let mut errors = FieldErrors::new();
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        errors
            .entry("name".into())
            .or_default()
            .push("名称必填,不超过 200 字 / name is required, at most 200 characters".into());
    }
    let credit = CreditCode::parse(&req.credit_code);
    if req.kind != OrgKind::Supplier
        && (req.enterprise_size.is_some() || req.special_status.is_some())
    {
        errors
            .entry("enterprise_size".into())
            .or_default()
            .push("企业规模仅适用于供应商 / enterprise size applies to suppliers only".into());
    }
    if req.kind == OrgKind::Supplier && req.enterprise_size.is_none() {
        errors
            .entry("enterprise_size".into())
            .or_default()
            .push("供应商须声明企业规模 / a supplier must declare its enterprise size".into());
    }
    if !repo::region_exists(&state.db.pool, &req.region_code).await? {
        errors
            .entry("region_code".into())
            .or_default()
            .push("未知行政区划 / unknown region".into());
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let credit = credit.map_err(|_| AppError::InvalidCreditCode {
        field: "credit_code".into(),
    })?;
    let org = OrgView {
        id: new_id(),
        kind: req.kind.as_str().into(),
        name: name.into(),
        credit_code: credit.to_string(),
        region_code: req.region_code,
        enterprise_size: req.enterprise_size.map(|s| s.as_str().into()),
        special_status: req.special_status.map(|s| s.as_str().into()),
    };
    Ok(org)
}

/// Checks a new account's user name, display name and password into `errors`.
pub fn check_user_fields(
    username: &str,
    display_name: &str,
    password: &str,
    errors: &mut FieldErrors,
) {
    let username = username.trim();
    if username.len() < 3
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        errors
            .entry("username".into())
            .or_default()
            .push("用户名 3–64 位字母、数字或 ._- / user name: 3–64 letters, digits or ._-".into());
    }
    if display_name.trim().is_empty() || display_name.trim().chars().count() > 100 {
        errors
            .entry("display_name".into())
            .or_default()
            .push("姓名必填,不超过 100 字 / display name: 1–100 characters".into());
    }
    if let Some(problem) = crate::auth::service::password_problem(username, password) {
        errors
            .entry("password".into())
            .or_default()
            .push(problem.into());
    }
}

/// Hashes a password off the async threads (argon2id takes a while on purpose), among
/// the node's password checks (`auth::service::PasswordChecks`).
pub async fn password_hash(state: &AppState, password: &str) -> AppResult<String> {
    let checks = state.runtime::<crate::auth::service::PasswordChecks>();
    let admitted = checks.admit()?;
    let pw = password.to_string();
    admitted
        .run(move || hash_password(&pw))
        .await?
        .map_err(AppError::Internal)
}

/// Inserts a checked account; a taken user name is `CONFLICT`.
pub async fn insert_user(
    tx: &mut crate::db::Tx,
    user: &UserListItem,
    hash: &str,
    now: i64,
) -> AppResult<()> {
    match repo::insert_user(tx, user, hash, now).await {
        Err(e) if is_unique_violation(&e) => Err(AppError::Conflict("用户名 / user name")),
        r => Ok(r?),
    }
}

pub async fn create_user(state: &AppState, req: CreateUserRequest) -> AppResult<UserListItem> {
    let mut errors = FieldErrors::new();
    check_user_fields(&req.username, &req.display_name, &req.password, &mut errors);
    let username = req.username.trim();
    match (OrgKind::for_role(req.role), &req.org_id) {
        (None, Some(_)) => {
            errors
                .entry("org_id".into())
                .or_default()
                .push("评审专家不属于机构账户 / experts have no organisation".into());
        }
        (Some(_), None) => {
            errors
                .entry("org_id".into())
                .or_default()
                .push("须指定所属机构 / organisation is required".into());
        }
        (Some(kind), Some(org_id)) => match repo::org(&state.db.pool, org_id).await? {
            Some(o) if o.kind == kind.as_str() => {}
            _ => {
                errors.entry("org_id".into()).or_default().push(
                    "机构不存在或类型与角色不符 / no such organisation of the role's kind".into(),
                );
            }
        },
        (None, None) => {}
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let hash = password_hash(state, &req.password).await?;
    let user = UserListItem {
        id: new_id(),
        username: username.into(),
        display_name: req.display_name.trim().into(),
        role: req.role.as_str().into(),
        org_id: req.org_id,
    };
    let mut tx = state.db.begin().await?;
    insert_user(&mut tx, &user, &hash, state.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(user)
}

/// The accounts a user may list. An agency picks opening-key custodians (its own staff,
/// purchaser representatives, finance supervisors) and sees no one else: who is registered
/// as a supplier or expert is not an agency's business before the opening.
pub fn visible_users(viewer: &CurrentUser, users: Vec<UserListItem>) -> Vec<UserListItem> {
    match viewer.role {
        r if r.is_supervisor() => users,
        Role::Agency => users
            .into_iter()
            .filter(|u| match Role::parse(&u.role) {
                Some(Role::Agency) => u.org_id == viewer.org_id,
                Some(Role::Purchaser | Role::Finance) => true,
                _ => false,
            })
            .collect(),
        _ => Vec::new(),
    }
}
