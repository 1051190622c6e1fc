//! The documents stage's SQL.

use super::types::HolderView;
use crate::db::Tx;

/// When `org_id` obtained the tender's documents, if it did.
pub async fn holder_since<'e, E>(
    exec: E,
    tender_id: &str,
    org_id: &str,
) -> sqlx::Result<Option<i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "SELECT obtained_at FROM document_holders WHERE tender_id = $1 AND org_id = $2",
    )
    .bind(tender_id)
    .bind(org_id)
    .fetch_optional(exec)
    .await
}

pub async fn insert_holder(
    tx: &mut Tx,
    tender_id: &str,
    org_id: &str,
    user_id: &str,
    at: i64,
    client_ip: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO document_holders (tender_id, org_id, user_id, obtained_at, client_ip) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tender_id)
    .bind(org_id)
    .bind(user_id)
    .bind(at)
    .bind(client_ip)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn holders<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<Vec<HolderView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT h.org_id, o.name AS org_name, h.obtained_at FROM document_holders h \
         JOIN organisations o ON o.id = h.org_id WHERE h.tender_id = $1 \
         ORDER BY h.obtained_at, h.org_id",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await
}

pub async fn questions_by(tx: &mut Tx, tender_id: &str, org_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM tender_questions WHERE tender_id = $1 AND org_id = $2")
        .bind(tender_id)
        .bind(org_id)
        .fetch_one(&mut **tx)
        .await
}

pub struct NewQuestion<'a> {
    pub id: &'a str,
    pub tender_id: &'a str,
    pub org_id: &'a str,
    pub user_id: &'a str,
    pub text: &'a str,
    pub at: i64,
    pub reply_due_at: i64,
}

pub async fn insert_question(tx: &mut Tx, q: &NewQuestion<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO tender_questions (id, tender_id, org_id, user_id, text, asked_at, \
         reply_due_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(q.id)
    .bind(q.tender_id)
    .bind(q.org_id)
    .bind(q.user_id)
    .bind(q.text)
    .bind(q.at)
    .bind(q.reply_due_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A question with its asker's names (for the reveal check and for supervisors).
#[derive(Debug, sqlx::FromRow)]
pub struct QuestionRow {
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub credit_code: String,
    pub user_display_name: String,
    pub username: String,
    pub text: String,
    pub asked_at: i64,
    pub reply_due_at: i64,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
}

const QUESTION_SQL: &str = "SELECT q.id, q.org_id, o.name AS org_name, o.credit_code, \
     u.display_name AS user_display_name, u.username, q.text, q.asked_at, q.reply_due_at, \
     q.answer, q.answered_at FROM tender_questions q \
     JOIN organisations o ON o.id = q.org_id JOIN users u ON u.id = q.user_id";

pub async fn questions<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<Vec<QuestionRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(&format!(
        "{QUESTION_SQL} WHERE q.tender_id = $1 ORDER BY q.asked_at, q.id LIMIT 1000"
    ))
    .bind(tender_id)
    .fetch_all(exec)
    .await
}

pub async fn question(tx: &mut Tx, tender_id: &str, id: &str) -> sqlx::Result<Option<QuestionRow>> {
    sqlx::query_as(&format!(
        "{QUESTION_SQL} WHERE q.tender_id = $1 AND q.id = $2"
    ))
    .bind(tender_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}

pub async fn answer(tx: &mut Tx, id: &str, text: &str, by: &str, at: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE tender_questions SET answer = $1, answered_by = $2, answered_at = $3 WHERE id = $4",
    )
    .bind(text)
    .bind(by)
    .bind(at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A question's reply deadline (R-CHAL-1), for the alerts: still unanswered, or answered
/// at or after its deadline.
#[derive(Debug, sqlx::FromRow)]
pub struct ReplyDue {
    pub id: String,
    pub tender_id: String,
    pub title: String,
    pub agency_org_id: String,
    pub reply_due_at: i64,
    pub answered_at: Option<i64>,
}

/// Unanswered questions due by `until`, and those answered late since `late_since`; the
/// latest deadline first, at most `limit`.
pub async fn replies_due<'e, E>(
    exec: E,
    until: i64,
    late_since: i64,
    limit: i64,
) -> sqlx::Result<Vec<ReplyDue>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT q.id, q.tender_id, t.title, t.agency_org_id, q.reply_due_at, q.answered_at \
         FROM tender_questions q JOIN tenders t ON t.id = q.tender_id \
         WHERE (q.answered_at IS NULL AND q.reply_due_at <= $1) \
         OR (q.answered_at >= q.reply_due_at AND q.answered_at >= $2) \
         ORDER BY q.reply_due_at DESC, q.id LIMIT $3",
    )
    .bind(until)
    .bind(late_since)
    .bind(limit)
    .fetch_all(exec)
    .await
}
