//! SQL for regions, organisations, users and experts.

use sqlx::Row;

use super::types::{ExpertView, OrgView, RegionView, UserListItem, REGIONS};
use crate::db::Tx;

/// Inserts the fixed regions if missing (run at start-up).
pub async fn ensure_regions(pool: &sqlx::AnyPool) -> sqlx::Result<()> {
    for (i, (code, zh, en)) in REGIONS.iter().enumerate() {
        let exists = sqlx::query("SELECT code FROM regions WHERE code = $1")
            .bind(*code)
            .fetch_optional(pool)
            .await?
            .is_some();
        if !exists {
            sqlx::query(
                "INSERT INTO regions (code, name_zh, name_en, sort) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (code) DO NOTHING",
            )
            .bind(*code)
            .bind(*zh)
            .bind(*en)
            .bind(i as i64)
            .execute(pool)
            .await?;
        }
    }
    Ok(())
}

pub async fn regions(pool: &sqlx::AnyPool) -> sqlx::Result<Vec<RegionView>> {
    let rows = sqlx::query("SELECT code, name_zh, name_en FROM regions ORDER BY sort")
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(RegionView {
                code: r.try_get("code")?,
                name_zh: r.try_get("name_zh")?,
                name_en: r.try_get("name_en")?,
            })
        })
        .collect()
}

pub async fn region_exists<'e, E>(exec: E, code: &str) -> sqlx::Result<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(sqlx::query("SELECT code FROM regions WHERE code = $1")
        .bind(code)
        .fetch_optional(exec)
        .await?
        .is_some())
}

fn org_from_row(r: &sqlx::any::AnyRow) -> sqlx::Result<OrgView> {
    Ok(OrgView {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        name: r.try_get("name")?,
        credit_code: r.try_get("credit_code")?,
        region_code: r.try_get("region_code")?,
        enterprise_size: r.try_get("enterprise_size")?,
        special_status: r.try_get("special_status")?,
    })
}

const ORG_COLS: &str = "id, kind, name, credit_code, region_code, enterprise_size, special_status";

pub async fn orgs(pool: &sqlx::AnyPool, kind: Option<&str>) -> sqlx::Result<Vec<OrgView>> {
    let rows = match kind {
        Some(k) => {
            sqlx::query(&format!(
                "SELECT {ORG_COLS} FROM organisations WHERE kind = $1 ORDER BY name"
            ))
            .bind(k)
            .fetch_all(pool)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {ORG_COLS} FROM organisations ORDER BY kind, name"
            ))
            .fetch_all(pool)
            .await?
        }
    };
    rows.iter().map(org_from_row).collect()
}

pub async fn org<'e, E>(exec: E, id: &str) -> sqlx::Result<Option<OrgView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "SELECT {ORG_COLS} FROM organisations WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(exec)
    .await?
    .as_ref()
    .map(org_from_row)
    .transpose()
}

pub async fn insert_org(tx: &mut Tx, o: &OrgView, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO organisations (id, kind, name, credit_code, region_code, enterprise_size, \
         special_status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&o.id)
    .bind(&o.kind)
    .bind(&o.name)
    .bind(&o.credit_code)
    .bind(&o.region_code)
    .bind(&o.enterprise_size)
    .bind(&o.special_status)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert_user(
    tx: &mut Tx,
    u: &UserListItem,
    password_hash: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO users (id, username, display_name, role, org_id, password_hash, disabled, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
    )
    .bind(&u.id)
    .bind(&u.username)
    .bind(&u.display_name)
    .bind(&u.role)
    .bind(&u.org_id)
    .bind(password_hash)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn users(
    pool: &sqlx::AnyPool,
    role: Option<&str>,
    org_id: Option<&str>,
) -> sqlx::Result<Vec<UserListItem>> {
    let rows = sqlx::query(
        "SELECT id, username, display_name, role, org_id FROM users \
         WHERE ($1 = '' OR role = $2) AND ($3 = '' OR org_id = $4) AND disabled = 0 \
         ORDER BY role, username",
    )
    .bind(role.unwrap_or(""))
    .bind(role.unwrap_or(""))
    .bind(org_id.unwrap_or(""))
    .bind(org_id.unwrap_or(""))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(UserListItem {
                id: r.try_get("id")?,
                username: r.try_get("username")?,
                display_name: r.try_get("display_name")?,
                role: r.try_get("role")?,
                org_id: r.try_get("org_id")?,
            })
        })
        .collect()
}

/// (role, org id) of a user, for membership checks.
pub async fn user_role_org<'e, E>(
    exec: E,
    id: &str,
) -> sqlx::Result<Option<(String, Option<String>)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT role, org_id FROM users WHERE id = $1 AND disabled = 0")
        .bind(id)
        .fetch_optional(exec)
        .await?
        .map(|r| Ok((r.try_get("role")?, r.try_get("org_id")?)))
        .transpose()
}

pub async fn insert_expert(
    tx: &mut Tx,
    e: &ExpertView,
    user_id: Option<&str>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO experts (id, name, user_id, region_code, employer, title, specialties, \
         active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)",
    )
    .bind(&e.id)
    .bind(&e.name)
    .bind(user_id)
    .bind(&e.region_code)
    .bind(&e.employer)
    .bind(&e.title)
    .bind(serde_json::to_string(&e.specialties).unwrap_or_else(|_| "[]".into()))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn experts(pool: &sqlx::AnyPool) -> sqlx::Result<Vec<ExpertView>> {
    let rows = sqlx::query(
        "SELECT id, name, user_id, region_code, employer, title, specialties FROM experts \
         WHERE active = 1 ORDER BY region_code, name",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            let specs: String = r.try_get("specialties")?;
            Ok(ExpertView {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                region_code: r.try_get("region_code")?,
                employer: r.try_get("employer")?,
                title: r.try_get("title")?,
                specialties: serde_json::from_str(&specs).unwrap_or_default(),
                has_account: r.try_get::<Option<String>, _>("user_id")?.is_some(),
            })
        })
        .collect()
}

pub async fn count(pool: &sqlx::AnyPool, table: &'static str) -> sqlx::Result<i64> {
    let r = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(pool)
        .await?;
    r.try_get("n")
}
