//! The acceptance reports and remedies (migration 0026), and what payment reads of them.

use serde_json::Value;
use sqlx::Row;

use super::types::RemedyView;

/// One round's report as stored.
#[derive(Debug, Clone)]
pub struct Report {
    pub id: String,
    pub contract_id: String,
    pub tender_id: String,
    pub round: i64,
    pub document: Value,
    pub document_sha256: String,
    /// draft | passed | failed
    pub status: String,
    pub recorded_at: i64,
    pub signed_at: Option<i64>,
}

const REPORT_SQL: &str = "SELECT id, contract_id, tender_id, round, document, document_sha256, \
     status, recorded_at, signed_at FROM acceptances";

fn report(r: &sqlx::any::AnyRow) -> sqlx::Result<Report> {
    let document: String = r.try_get("document")?;
    Ok(Report {
        id: r.try_get("id")?,
        contract_id: r.try_get("contract_id")?,
        tender_id: r.try_get("tender_id")?,
        round: r.try_get("round")?,
        document: serde_json::from_str(&document).map_err(|e| sqlx::Error::Decode(e.into()))?,
        document_sha256: r.try_get("document_sha256")?,
        status: r.try_get("status")?,
        recorded_at: r.try_get("recorded_at")?,
        signed_at: r.try_get("signed_at")?,
    })
}

pub async fn one<'e, E>(exec: E, id: &str) -> sqlx::Result<Option<Report>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!("{REPORT_SQL} WHERE id = $1"))
        .bind(id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(report)
        .transpose()
}

/// A contract's rounds, the first first.
pub async fn rounds<'e, E>(exec: E, contract_id: &str) -> sqlx::Result<Vec<Report>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "{REPORT_SQL} WHERE contract_id = $1 ORDER BY round"
    ))
    .bind(contract_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(report)
    .collect()
}

pub async fn remedy<'e, E>(exec: E, acceptance_id: &str) -> sqlx::Result<Option<RemedyView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT opened_at, reply, replied_at, closed_at FROM acceptance_remedies \
         WHERE acceptance_id = $1",
    )
    .bind(acceptance_id)
    .fetch_optional(exec)
    .await?
    .map(|r| {
        Ok(RemedyView {
            opened_at: r.try_get("opened_at")?,
            reply: r.try_get("reply")?,
            replied_at: r.try_get("replied_at")?,
            closed_at: r.try_get("closed_at")?,
        })
    })
    .transpose()
}

/// When the contract passed acceptance (its passed report's signature), if it has.
pub async fn accepted_at<'e, E>(exec: E, contract_id: &str) -> sqlx::Result<Option<i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "SELECT signed_at FROM acceptances WHERE contract_id = $1 AND status = 'passed'",
    )
    .bind(contract_id)
    .fetch_optional(exec)
    .await
    .map(Option::flatten)
}
