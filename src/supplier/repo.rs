//! The supplier stage's SQL.

use super::types::{CreditCheckView, CreditRecordView};
use crate::db::Tx;

pub async fn set_registered_via(tx: &mut Tx, org_id: &str, via: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE organisations SET registered_via = $1 WHERE id = $2")
        .bind(via)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Self-registrations from `ip` since `since` (read from the audit log).
pub async fn registrations_from<'e, E>(exec: E, ip: &str, since: i64) -> sqlx::Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'supplier_registered' AND ip = $1 \
         AND at >= $2",
    )
    .bind(ip)
    .bind(since)
    .fetch_one(exec)
    .await
}

/// The organisation's name, credit code, size, special status and how it registered.
#[derive(Debug, sqlx::FromRow)]
pub struct SupplierRow {
    pub id: String,
    pub name: String,
    pub credit_code: String,
    pub enterprise_size: Option<String>,
    pub special_status: Option<String>,
    pub registered_via: String,
}

pub async fn supplier<'e, E>(exec: E, org_id: &str) -> sqlx::Result<Option<SupplierRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT id, name, credit_code, enterprise_size, special_status, registered_via \
         FROM organisations WHERE id = $1 AND kind = 'supplier'",
    )
    .bind(org_id)
    .fetch_optional(exec)
    .await
}

#[derive(Debug, sqlx::FromRow)]
pub struct CommitmentRow {
    pub key_id: String,
    pub signed_at: i64,
}

pub async fn commitment<'e, E>(exec: E, org_id: &str) -> sqlx::Result<Option<CommitmentRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as("SELECT key_id, signed_at FROM supplier_commitments WHERE org_id = $1")
        .bind(org_id)
        .fetch_optional(exec)
        .await
}

pub struct NewCommitment<'a> {
    pub org_id: &'a str,
    pub user_id: &'a str,
    pub key_id: &'a str,
    pub version: &'a str,
    pub payload: &'a str,
    pub signature: &'a str,
    pub at: i64,
}

pub async fn insert_commitment(tx: &mut Tx, c: &NewCommitment<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO supplier_commitments (org_id, user_id, key_id, version, payload, signature, \
         signed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.org_id)
    .bind(c.user_id)
    .bind(c.key_id)
    .bind(c.version)
    .bind(c.payload)
    .bind(c.signature)
    .bind(c.at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub struct NewRecord<'a> {
    pub id: &'a str,
    pub org_id: &'a str,
    pub list: &'a str,
    pub reason: &'a str,
    pub from_at: i64,
    pub until_at: Option<i64>,
    pub by: &'a str,
    pub at: i64,
}

pub async fn insert_record(tx: &mut Tx, r: &NewRecord<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO credit_records (id, org_id, list, reason, from_at, until_at, recorded_by, \
         recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(r.id)
    .bind(r.org_id)
    .bind(r.list)
    .bind(r.reason)
    .bind(r.from_at)
    .bind(r.until_at)
    .bind(r.by)
    .bind(r.at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const RECORD_SQL: &str = "SELECT r.id, r.org_id, o.name AS org_name, r.list, r.reason, r.from_at, \
     r.until_at, r.recorded_at FROM credit_records r JOIN organisations o ON o.id = r.org_id";

/// Credit records of one supplier (or all, `org_id` empty), newest first.
pub async fn records<'e, E>(exec: E, org_id: &str) -> sqlx::Result<Vec<CreditRecordView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(&format!(
        "{RECORD_SQL} WHERE ($1 = '' OR r.org_id = $2) ORDER BY r.recorded_at DESC, r.id LIMIT 500"
    ))
    .bind(org_id)
    .bind(org_id)
    .fetch_all(exec)
    .await
}

pub async fn insert_check(
    tx: &mut Tx,
    id: &str,
    org_id: &str,
    tender_id: &str,
    at: i64,
    result: &str,
    lists: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO credit_checks (id, org_id, tender_id, at, result, lists) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(org_id)
    .bind(tender_id)
    .bind(at)
    .bind(result)
    .bind(lists)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The checks of one supplier, newest first.
pub async fn checks<'e, E>(exec: E, org_id: &str) -> sqlx::Result<Vec<CreditCheckView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT org_id, tender_id, at, result, lists FROM credit_checks WHERE org_id = $1 \
         ORDER BY at DESC, id LIMIT 200",
    )
    .bind(org_id)
    .fetch_all(exec)
    .await
}
