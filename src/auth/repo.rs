//! Users, sessions and the audit log in SQL.

use sqlx::Row;

use super::types::{CurrentUser, OrgRef, Role, UserView};

pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub org_id: Option<String>,
    pub password_hash: String,
    pub disabled: bool,
}

pub async fn user_by_username<'e, E>(exec: E, username: &str) -> sqlx::Result<Option<UserRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT id, username, display_name, role, org_id, password_hash, disabled \
         FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(exec)
    .await?;
    row.map(|r| {
        Ok(UserRow {
            id: r.try_get("id")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            role: r.try_get("role")?,
            org_id: r.try_get("org_id")?,
            password_hash: r.try_get("password_hash")?,
            disabled: r.try_get::<i64, _>("disabled")? != 0,
        })
    })
    .transpose()
}

pub async fn user_view<'e, E>(exec: E, user_id: &str) -> sqlx::Result<Option<UserView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT u.id, u.username, u.display_name, u.role, o.id AS org_id, o.name AS org_name, \
         o.kind AS org_kind FROM users u LEFT JOIN organisations o ON o.id = u.org_id \
         WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(exec)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let role = Role::parse(&r.try_get::<String, _>("role")?).unwrap_or(Role::Supplier);
    let org_id: Option<String> = r.try_get("org_id")?;
    let org = match org_id {
        Some(id) => Some(OrgRef {
            id,
            name: r.try_get("org_name")?,
            kind: r.try_get("org_kind")?,
        }),
        None => None,
    };
    Ok(Some(UserView {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role,
        role_name: role.name_zh(),
        org,
    }))
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_session<'e, E>(
    exec: E,
    id_hash: &str,
    user_id: &str,
    kind: &str,
    label: Option<&str>,
    csrf_token: &str,
    now: i64,
    expires_at: i64,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO sessions (id, user_id, kind, label, csrf_token, created_at, expires_at, revoked) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
    )
    .bind(id_hash)
    .bind(user_id)
    .bind(kind)
    .bind(label)
    .bind(csrf_token)
    .bind(now)
    .bind(expires_at)
    .execute(exec)
    .await?;
    Ok(())
}

/// Which of the sessions `ids` are not ended: not revoked (logged out), their user not
/// disabled. (Expiry each holder checks against the time it was given.)
pub async fn unended_sessions(
    pool: &sqlx::AnyPool,
    ids: &[String],
) -> sqlx::Result<std::collections::HashSet<String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    crate::db::fetch_in(pool, ids, |list| {
        format!(
            "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id IN ({list}) AND s.revoked = 0 AND u.disabled = 0"
        )
    })
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect()
}

/// The live session with this token hash, with its user.
pub async fn session_user<'e, E>(
    exec: E,
    id_hash: &str,
    now: i64,
) -> sqlx::Result<Option<(CurrentUser, String)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT s.id AS session_id, s.kind, s.csrf_token, s.expires_at, u.id, u.username, u.display_name, \
         u.role, u.org_id FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1 AND s.revoked = 0 AND s.expires_at > $2 AND u.disabled = 0",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(exec)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let Some(role) = Role::parse(&r.try_get::<String, _>("role")?) else {
        return Ok(None);
    };
    Ok(Some((
        CurrentUser {
            id: r.try_get("id")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            role,
            org_id: r.try_get("org_id")?,
            session_id: r.try_get("session_id")?,
            csrf_token: r.try_get("csrf_token")?,
            expires_at: r.try_get("expires_at")?,
            via_cookie: false,
            csrf_ok: false,
            client_ip: String::new(),
        },
        r.try_get("kind")?,
    )))
}

pub async fn revoke_session<'e, E>(exec: E, id_hash: &str) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("UPDATE sessions SET revoked = 1 WHERE id = $1")
        .bind(id_hash)
        .execute(exec)
        .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn audit<'e, E>(
    exec: E,
    at: i64,
    user_id: Option<&str>,
    username: &str,
    action: &str,
    ip: &str,
    user_agent: &str,
    detail: &str,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, username, action, ip, user_agent, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(at)
    .bind(user_id)
    .bind(username)
    .bind(action)
    .bind(ip)
    .bind(user_agent)
    .bind(detail)
    .execute(exec)
    .await?;
    Ok(())
}

/// Failed logins since `since`: of the user name from this address, of the user name
/// from anywhere, and from this address for any name.
#[derive(Debug, Default)]
pub struct Failures {
    pub by_pair: i64,
    pub last_pair: Option<i64>,
    pub by_user: i64,
    pub oldest_user: Option<i64>,
    pub by_ip: i64,
    pub oldest_ip: Option<i64>,
}

pub async fn recent_failures(
    conn: &mut sqlx::AnyConnection,
    username: &str,
    ip: &str,
    since: i64,
    in_flight_since: i64,
) -> sqlx::Result<Failures> {
    // Each count: the failures in the audit log, and the attempts under way (counted as
    // failures until their outcome is written).
    let pair = sqlx::query(
        "SELECT COUNT(*) AS n, MAX(at) AS last FROM ( \
           SELECT at FROM audit_log \
           WHERE username = $1 AND ip = $2 AND action = 'login_failed' AND at > $3 \
           UNION ALL SELECT at FROM login_attempts \
           WHERE username = $1 AND ip = $2 AND at > $4) f",
    )
    .bind(username)
    .bind(ip)
    .bind(since)
    .bind(in_flight_since.max(since))
    .fetch_one(&mut *conn)
    .await?;
    let by_user = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM ( \
           SELECT at FROM audit_log \
           WHERE username = $1 AND action = 'login_failed' AND at > $2 \
           UNION ALL SELECT at FROM login_attempts WHERE username = $1 AND at > $3) f",
    )
    .bind(username)
    .bind(since)
    .bind(in_flight_since.max(since))
    .fetch_one(&mut *conn)
    .await?;
    let by_ip = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM ( \
           SELECT at FROM audit_log WHERE ip = $1 AND action = 'login_failed' AND at > $2 \
           UNION ALL SELECT at FROM login_attempts WHERE ip = $1 AND at > $3) f",
    )
    .bind(ip)
    .bind(since)
    .bind(in_flight_since.max(since))
    .fetch_one(&mut *conn)
    .await?;
    Ok(Failures {
        by_pair: pair.try_get("n")?,
        last_pair: pair.try_get("last")?,
        by_user: by_user.try_get("n")?,
        oldest_user: by_user.try_get("oldest")?,
        by_ip: by_ip.try_get("n")?,
        oldest_ip: by_ip.try_get("oldest")?,
    })
}

/// An attempt that passed the throttle, counted with the failures until [`attempt_done`].
pub async fn attempt_started(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    username: &str,
    ip: &str,
    at: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO login_attempts (id, username, ip, at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(username)
        .bind(ip)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The attempt's outcome is in the audit log (and attempts a killed node left, older than
/// `stale_before`, go too).
pub async fn attempt_done<'e, E>(exec: E, id: &str, stale_before: i64) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("DELETE FROM login_attempts WHERE id = $1 OR at < $2")
        .bind(id)
        .bind(stale_before)
        .execute(exec)
        .await?;
    Ok(())
}

/// Whether the user name logged in from this address since `since`.
pub async fn logged_in_from<'e, E>(
    exec: E,
    username: &str,
    ip: &str,
    since: i64,
) -> sqlx::Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log \
         WHERE username = $1 AND ip = $2 AND action = 'login_ok' AND at > $3",
    )
    .bind(username)
    .bind(ip)
    .bind(since)
    .fetch_one(exec)
    .await?;
    Ok(n > 0)
}

/// When a throttled attempt of this user name from this address was last audited.
pub async fn last_throttled<'e, E>(exec: E, username: &str, ip: &str) -> sqlx::Result<Option<i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let r = sqlx::query(
        "SELECT MAX(at) AS at FROM audit_log \
         WHERE username = $1 AND ip = $2 AND action = 'login_throttled'",
    )
    .bind(username)
    .bind(ip)
    .fetch_one(exec)
    .await?;
    r.try_get("at")
}

/// The last successful login of a user name, to restart its failure count.
pub async fn last_success<'e, E>(exec: E, username: &str) -> sqlx::Result<Option<i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let r = sqlx::query(
        "SELECT MAX(at) AS at FROM audit_log WHERE username = $1 AND action = 'login_ok'",
    )
    .bind(username)
    .fetch_one(exec)
    .await?;
    r.try_get("at")
}

#[derive(Debug, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub user_id: Option<String>,
    pub username: String,
    pub action: String,
    pub ip: String,
    pub user_agent: String,
    pub detail: String,
}

pub async fn audit_list<'e, E>(exec: E, limit: i64) -> sqlx::Result<Vec<AuditEntry>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT id, at, user_id, username, action, ip, user_agent, detail FROM audit_log \
         ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                user_id: r.try_get("user_id")?,
                username: r.try_get("username")?,
                action: r.try_get("action")?,
                ip: r.try_get("ip")?,
                user_agent: r.try_get("user_agent")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}

/// Removes the sessions that ended (expired, or revoked and past their time) before
/// `before`; how many.
pub async fn purge_sessions<'e, E>(exec: E, before: i64) -> sqlx::Result<u64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
        .bind(before)
        .execute(exec)
        .await?
        .rows_affected())
}
