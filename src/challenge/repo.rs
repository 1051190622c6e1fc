//! The challenges' rows (migration 0024).

use super::types::{ChallengeView, ComplaintView};
use crate::error::AppResult;

const CHALLENGE_SQL: &str = "SELECT c.id, c.org_id, o.name AS org_name, c.grounds, c.filed_at, \
     c.reply_due_at, c.status, c.reply, c.upheld, c.replied_at, c.evidence FROM challenges c \
     JOIN organisations o ON o.id = c.org_id";

const COMPLAINT_SQL: &str = "SELECT p.id, p.challenge_id, p.org_id, o.name AS org_name, \
     p.grounds, p.filed_at, p.examine_due_at, p.status, p.reason, p.accepted_at, \
     p.decision_due_at, p.suspended_until, p.outcome, p.decision, p.decided_at, p.evidence \
     FROM complaints p JOIN organisations o ON o.id = p.org_id";

/// A tender's challenges, of one organisation or (`None`) all, in the order filed.
pub async fn challenges<'e, E>(
    exec: E,
    tender_id: &str,
    org: Option<&str>,
) -> AppResult<Vec<ChallengeView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut rows = sqlx::query_as::<_, ChallengeView>(&format!(
        "{CHALLENGE_SQL} WHERE c.tender_id = $1 AND ($2 IS NULL OR c.org_id = $2) \
         ORDER BY c.filed_at, c.id"
    ))
    .bind(tender_id)
    .bind(org)
    .fetch_all(exec)
    .await?;
    for r in &mut rows {
        r.evidence = evidence(&r.evidence_json)?;
    }
    Ok(rows)
}

/// The evidence files as stored with a challenge or complaint.
fn evidence(json: &str) -> AppResult<Vec<crate::approval::types::AttachmentView>> {
    Ok(serde_json::from_str(json).map_err(anyhow::Error::from)?)
}

/// What the commands need of one challenge.
#[derive(Debug, sqlx::FromRow)]
pub struct ChallengeRow {
    pub tender_id: String,
    pub org_id: String,
    pub status: String,
    pub reply_due_at: i64,
}

pub async fn challenge<'e, E>(exec: E, id: &str) -> AppResult<Option<ChallengeRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(sqlx::query_as(
        "SELECT tender_id, org_id, status, reply_due_at FROM challenges WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(exec)
    .await?)
}

/// A tender's complaints, of one organisation, or all, or (`decided_only`) the decided.
pub async fn complaints<'e, E>(
    exec: E,
    tender_id: &str,
    org: Option<&str>,
    decided_only: bool,
) -> AppResult<Vec<ComplaintView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut rows = sqlx::query_as::<_, ComplaintView>(&format!(
        "{COMPLAINT_SQL} WHERE p.tender_id = $1 AND ($2 IS NULL OR p.org_id = $2) \
         AND ($3 = 0 OR p.status = 'decided') ORDER BY p.filed_at, p.id"
    ))
    .bind(tender_id)
    .bind(org)
    .bind(i64::from(decided_only))
    .fetch_all(exec)
    .await?;
    for r in &mut rows {
        r.evidence = evidence(&r.evidence_json)?;
    }
    Ok(rows)
}

/// The complaint `id` of the tender `tender_id` (another tender's is none).
pub async fn complaint<'e, E>(
    exec: E,
    tender_id: &str,
    id: &str,
) -> AppResult<Option<ComplaintView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut row = sqlx::query_as::<_, ComplaintView>(&format!(
        "{COMPLAINT_SQL} WHERE p.id = $1 AND p.tender_id = $2"
    ))
    .bind(id)
    .bind(tender_id)
    .fetch_optional(exec)
    .await?;
    if let Some(r) = &mut row {
        r.evidence = evidence(&r.evidence_json)?;
    }
    Ok(row)
}

/// A challenge or complaint of the tender is open: the contract may not be signed (IR
/// art 54). The contract stage asks this before every signature.
pub async fn blocks_contract<'e, E>(exec: E, tender_id: &str) -> AppResult<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM challenges WHERE tender_id = $1 AND status = 'open') + \
         (SELECT COUNT(*) FROM complaints WHERE tender_id = $1 AND status IN ('filed', 'accepted'))",
    )
    .bind(tender_id)
    .fetch_one(exec)
    .await?;
    Ok(n > 0)
}

/// Groundless complaints of `org` decided since `since` (R-CHAL-4).
pub async fn groundless_since<'e, E>(exec: E, org: &str, since: i64) -> AppResult<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM complaints WHERE org_id = $1 AND outcome = 'groundless' \
         AND decided_at >= $2",
    )
    .bind(org)
    .bind(since)
    .fetch_one(exec)
    .await?)
}

/// A deadline of the challenges for the alerts: what, whose tender, due when, done when.
#[derive(Debug, sqlx::FromRow)]
pub struct Due {
    pub id: String,
    pub tender_id: String,
    pub title: String,
    pub agency_org_id: String,
    pub due_at: i64,
    pub done_at: Option<i64>,
}

/// Challenges awaiting their reply due by `until`, and those answered late since
/// `late_since`; the latest first, at most `limit`.
pub async fn replies_due<'e, E>(
    exec: E,
    until: i64,
    late_since: i64,
    limit: i64,
) -> sqlx::Result<Vec<Due>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT c.id, c.tender_id, t.title, t.agency_org_id, c.reply_due_at AS due_at, \
         c.replied_at AS done_at FROM challenges c JOIN tenders t ON t.id = c.tender_id \
         WHERE (c.status = 'open' AND c.reply_due_at <= $1) \
         OR (c.status = 'answered' AND c.replied_at >= c.reply_due_at AND c.replied_at >= $2) \
         ORDER BY c.reply_due_at DESC, c.id LIMIT $3",
    )
    .bind(until)
    .bind(late_since)
    .bind(limit)
    .fetch_all(exec)
    .await
}

/// Complaints awaiting finance's examination (`examine_due_at`) or decision
/// (`decision_due_at`) due by `until`, and those done late since `late_since`.
pub async fn complaints_due<'e, E>(
    exec: E,
    decision: bool,
    until: i64,
    late_since: i64,
    limit: i64,
) -> sqlx::Result<Vec<Due>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let (due, done, waiting) = if decision {
        ("p.decision_due_at", "p.decided_at", "'accepted'")
    } else {
        (
            "p.examine_due_at",
            "COALESCE(p.accepted_at, p.decided_at)",
            "'filed'",
        )
    };
    sqlx::query_as(&format!(
        "SELECT p.id, p.tender_id, t.title, t.agency_org_id, {due} AS due_at, {done} AS done_at \
         FROM complaints p JOIN tenders t ON t.id = p.tender_id \
         WHERE {due} IS NOT NULL AND ((p.status = {waiting} AND {due} <= $1) \
         OR ({done} >= {due} AND {done} >= $2)) ORDER BY {due} DESC, p.id LIMIT $3"
    ))
    .bind(until)
    .bind(late_since)
    .bind(limit)
    .fetch_all(exec)
    .await
}
