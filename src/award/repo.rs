//! The result's rows (migration 0023): the published notice and the letters.

use sqlx::Row;

use super::notice::SignedDocument;
use super::types::LetterSummary;
use crate::error::{AppError, AppResult};

fn parse(text: &str) -> AppResult<SignedDocument> {
    serde_json::from_str(text).map_err(|e| AppError::Internal(e.into()))
}

/// The published notice of a tender, if any.
pub async fn notice<'e, E>(exec: E, tender_id: &str) -> AppResult<Option<SignedDocument>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let text: Option<String> =
        sqlx::query_scalar("SELECT notice FROM result_notices WHERE tender_id = $1")
            .bind(tender_id)
            .fetch_optional(exec)
            .await?;
    text.as_deref().map(parse).transpose()
}

/// The letter to the organisation `org_id`, if any.
pub async fn letter<'e, E>(
    exec: E,
    tender_id: &str,
    org_id: &str,
) -> AppResult<Option<SignedDocument>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let text: Option<String> = sqlx::query_scalar(
        "SELECT letter FROM result_letters WHERE tender_id = $1 AND org_id = $2",
    )
    .bind(tender_id)
    .bind(org_id)
    .fetch_optional(exec)
    .await?;
    text.as_deref().map(parse).transpose()
}

pub async fn letters<'e, E>(exec: E, tender_id: &str) -> AppResult<Vec<LetterSummary>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT l.org_id, o.name, l.kind, l.letter_sha256 FROM result_letters l \
         JOIN organisations o ON o.id = l.org_id WHERE l.tender_id = $1 \
         ORDER BY l.kind, o.name",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(|r| {
        Ok(LetterSummary {
            org_id: r.try_get("org_id")?,
            name: r.try_get("name")?,
            kind: r.try_get("kind")?,
            letter_sha256: r.try_get("letter_sha256")?,
        })
    })
    .collect()
}

/// An awarded tender whose result notice is due (R-AWARD-1), for the alerts.
#[derive(Debug, sqlx::FromRow)]
pub struct Announcement {
    pub tender_id: String,
    pub title: String,
    pub agency_org_id: String,
    pub awarded_at: i64,
    pub published_at: Option<i64>,
}

/// Tenders awarded since `since`, with their notice's publication if any; the latest
/// first, at most `limit`.
pub async fn awarded_since<'e, E>(
    exec: E,
    since: i64,
    limit: i64,
) -> sqlx::Result<Vec<Announcement>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT e.tender_id, t.title, t.agency_org_id, e.awarded_at, r.published_at \
         FROM evaluations e JOIN tenders t ON t.id = e.tender_id \
         LEFT JOIN result_notices r ON r.tender_id = e.tender_id \
         WHERE e.phase = 'awarded' AND e.awarded_at >= $1 \
         ORDER BY e.awarded_at DESC, e.tender_id LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(exec)
    .await
}
