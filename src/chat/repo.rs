//! The archive's SQL.

use sqlx::Row;

use crate::db::Tx;

/// A message as stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: String,
    pub author_user_id: String,
    pub author_role: String,
    pub author_label: String,
    pub org_id: Option<String>,
    pub audience: String,
    pub reply_to: Option<String>,
    pub text: String,
    pub posted_at: i64,
}

/// How many messages `user_id` posted to the room since `since`, and the first one's time.
pub async fn posted_since(
    tx: &mut Tx,
    tender_id: &str,
    room: &str,
    user_id: &str,
    since: i64,
) -> sqlx::Result<(i64, Option<i64>)> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(posted_at) AS first FROM room_messages \
         WHERE author_user_id = $1 AND tender_id = $2 AND room = $3 AND posted_at > $4",
    )
    .bind(user_id)
    .bind(tender_id)
    .bind(room)
    .bind(since)
    .fetch_one(&mut **tx)
    .await?;
    Ok((r.try_get("n")?, r.try_get("first")?))
}

pub async fn get(
    tx: &mut Tx,
    tender_id: &str,
    room: &str,
    id: &str,
) -> sqlx::Result<Option<Stored>> {
    let rows = select(&mut **tx, "AND id = $3", tender_id, room, Some(id), 1).await?;
    Ok(rows.into_iter().next())
}

/// The room's latest `limit` messages, oldest first.
pub async fn latest<'e, E>(
    exec: E,
    tender_id: &str,
    room: &str,
    limit: i64,
) -> sqlx::Result<Vec<Stored>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut rows = select(exec, "", tender_id, room, None, limit).await?;
    rows.reverse();
    Ok(rows)
}

async fn select<'e, E>(
    exec: E,
    and: &str,
    tender_id: &str,
    room: &str,
    id: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<Stored>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT id, author_user_id, author_role, author_label, org_id, audience, reply_to, \
         text, posted_at FROM room_messages WHERE tender_id = $1 AND room = $2 {and} \
         ORDER BY posted_at DESC, id DESC LIMIT {limit}"
    );
    let mut q = sqlx::query(&sql).bind(tender_id).bind(room);
    if let Some(id) = id {
        q = q.bind(id);
    }
    q.fetch_all(exec)
        .await?
        .iter()
        .map(|r| {
            Ok(Stored {
                id: r.try_get("id")?,
                author_user_id: r.try_get("author_user_id")?,
                author_role: r.try_get("author_role")?,
                author_label: r.try_get("author_label")?,
                org_id: r.try_get("org_id")?,
                audience: r.try_get("audience")?,
                reply_to: r.try_get("reply_to")?,
                text: r.try_get("text")?,
                posted_at: r.try_get("posted_at")?,
            })
        })
        .collect()
}

pub async fn insert(
    tx: &mut Tx,
    tender_id: &str,
    room: &str,
    m: &Stored,
    sha256: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO room_messages (id, tender_id, room, author_user_id, author_role, \
         author_label, org_id, audience, reply_to, text, text_sha256, posted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&m.id)
    .bind(tender_id)
    .bind(room)
    .bind(&m.author_user_id)
    .bind(&m.author_role)
    .bind(&m.author_label)
    .bind(&m.org_id)
    .bind(&m.audience)
    .bind(&m.reply_to)
    .bind(&m.text)
    .bind(sha256)
    .bind(m.posted_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
