//! What the alerts read of the contracts (migration 0025): per tender with a published
//! result, when its contracts were all signed; per contract, when published and filed.

/// A tender whose result was published since `since`: its award letters' instant and,
/// once every contract of it is signed, the last signature's.
#[derive(Debug, sqlx::FromRow)]
pub struct Signing {
    pub tender_id: String,
    pub title: String,
    pub purchaser_org_id: String,
    pub letter_at: i64,
    pub signed_at: Option<i64>,
}

pub async fn signings_since<'e, E>(exec: E, since: i64, limit: i64) -> sqlx::Result<Vec<Signing>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT r.tender_id, t.title, t.purchaser_org_id, r.published_at AS letter_at, \
         CASE WHEN COUNT(c.id) > 0 AND COUNT(c.signed_at) = COUNT(c.id) \
              THEN MAX(c.signed_at) ELSE NULL END AS signed_at \
         FROM result_notices r JOIN tenders t ON t.id = r.tender_id \
         LEFT JOIN contracts c ON c.tender_id = r.tender_id \
         WHERE r.published_at >= $1 \
         GROUP BY r.tender_id, t.title, t.purchaser_org_id, r.published_at \
         ORDER BY r.published_at DESC, r.tender_id LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(exec)
    .await
}

/// A contract signed since `since`, with its publication and filing.
#[derive(Debug, sqlx::FromRow)]
pub struct Signed {
    pub id: String,
    pub tender_id: String,
    pub title: String,
    pub purchaser_org_id: String,
    pub signed_at: i64,
    pub published_at: Option<i64>,
    pub filed_at: Option<i64>,
}

pub async fn signed_since<'e, E>(exec: E, since: i64, limit: i64) -> sqlx::Result<Vec<Signed>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT c.id, c.tender_id, t.title, c.purchaser_org_id, c.signed_at, c.published_at, \
         c.filed_at FROM contracts c JOIN tenders t ON t.id = c.tender_id \
         WHERE c.signed_at IS NOT NULL AND c.signed_at >= $1 \
         ORDER BY c.signed_at DESC, c.id LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(exec)
    .await
}
