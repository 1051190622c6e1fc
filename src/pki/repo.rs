//! User keys in SQL. At most one `active` key per user and purpose; a new one supersedes it.

use sqlx::Row;

use super::types::{KeyView, RevokedKey};
use crate::db::Tx;

const COLS: &str = "key_id, purpose, public_key, status, serial, not_before, not_after, \
                    cert_pem, created_at, revoked_at, revoke_reason";

fn view(r: &sqlx::any::AnyRow) -> sqlx::Result<KeyView> {
    Ok(KeyView {
        key_id: r.try_get("key_id")?,
        purpose: r.try_get("purpose")?,
        public_key: r.try_get("public_key")?,
        status: r.try_get("status")?,
        serial: r.try_get("serial")?,
        not_before: r.try_get("not_before")?,
        not_after: r.try_get("not_after")?,
        certificate_pem: r.try_get("cert_pem")?,
        created_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
        revoke_reason: r.try_get("revoke_reason")?,
    })
}

pub async fn active<'e, E>(exec: E, user_id: &str, purpose: &str) -> sqlx::Result<Option<KeyView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "SELECT {COLS} FROM user_keys WHERE user_id = $1 AND purpose = $2 AND status = 'active'"
    ))
    .bind(user_id)
    .bind(purpose)
    .fetch_optional(exec)
    .await?
    .as_ref()
    .map(view)
    .transpose()
}

/// A key by id with its owner.
pub async fn by_id<'e, E>(exec: E, key_id: &str) -> sqlx::Result<Option<(String, KeyView)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "SELECT user_id, {COLS} FROM user_keys WHERE key_id = $1"
    ))
    .bind(key_id)
    .fetch_optional(exec)
    .await?
    .map(|r| Ok((r.try_get("user_id")?, view(&r)?)))
    .transpose()
}

pub async fn for_user(pool: &sqlx::AnyPool, user_id: &str) -> sqlx::Result<Vec<KeyView>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM user_keys WHERE user_id = $1 ORDER BY created_at DESC"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(view)
    .collect()
}

pub async fn supersede(tx: &mut Tx, user_id: &str, purpose: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE user_keys SET status = 'superseded' WHERE user_id = $1 AND purpose = $2 \
         AND status = 'active'",
    )
    .bind(user_id)
    .bind(purpose)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn insert(tx: &mut Tx, user_id: &str, k: &KeyView) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO user_keys (key_id, user_id, purpose, public_key, status, serial, \
         not_before, not_after, cert_pem, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&k.key_id)
    .bind(user_id)
    .bind(&k.purpose)
    .bind(&k.public_key)
    .bind(&k.status)
    .bind(&k.serial)
    .bind(k.not_before)
    .bind(k.not_after)
    .bind(&k.certificate_pem)
    .bind(k.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn revoke(tx: &mut Tx, key_id: &str, at: i64, reason: &str) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "UPDATE user_keys SET status = 'revoked', revoked_at = $1, revoke_reason = $2 \
         WHERE key_id = $3 AND status <> 'revoked'",
    )
    .bind(at)
    .bind(reason)
    .bind(key_id)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

pub async fn revoked(pool: &sqlx::AnyPool) -> sqlx::Result<Vec<RevokedKey>> {
    let rows = sqlx::query(
        "SELECT key_id, serial, revoked_at, revoke_reason FROM user_keys \
         WHERE status = 'revoked' ORDER BY revoked_at",
    )
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(RevokedKey {
                key_id: r.try_get("key_id")?,
                serial: r.try_get("serial")?,
                revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.unwrap_or(0),
                reason: r
                    .try_get::<Option<String>, _>("revoke_reason")?
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// The SHA-256 of the platform CA the database was started with, if any.
pub async fn recorded_ca(pool: &sqlx::AnyPool) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT ca_sha256 FROM platform_ca WHERE id = 1")
        .fetch_optional(pool)
        .await
}

/// Records the platform CA (its SHA-256) the first time a node starts on the database,
/// and refuses a node whose CA is another: its signatures would not verify against the
/// CA the others publish, its identity digests would not match theirs, and its links to
/// them would be refused. The usual cause is a node given no keys folder of the others'.
pub async fn same_ca(
    pool: &sqlx::AnyPool,
    ca_der: &[u8],
    keys: &std::path::Path,
    now: i64,
) -> anyhow::Result<()> {
    let mine = crate::crypto::sha256_hex(ca_der);
    sqlx::query(
        "INSERT INTO platform_ca (id, ca_sha256, recorded_at) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&mine)
    .bind(now)
    .execute(pool)
    .await?;
    let recorded = recorded_ca(pool).await?.unwrap_or_default();
    anyhow::ensure!(
        recorded == mine,
        "the platform CA in {} (SHA-256 {mine}) is not the one this database was started \
         with ({recorded}): give every node the same keys (--keys-dir, or --shared-dir), \
         e.g. a copy of keys/ from the first node",
        keys.display()
    );
    Ok(())
}
