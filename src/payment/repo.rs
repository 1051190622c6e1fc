//! The payment requests (migration 0026), and what the alerts read: the accepted contracts
//! with what they owe and what was paid.

use sqlx::Row;

use super::types::RequestView;

/// A request as stored.
#[derive(Debug, Clone)]
pub struct Request {
    pub id: String,
    pub contract_id: String,
    pub tender_id: String,
    pub amount_fen: i64,
    pub status: String,
    pub view: RequestView,
}

const REQUEST_SQL: &str = "SELECT id, contract_id, tender_id, amount_fen, note, status, \
     requested_at, decided_at, reason, paid_at, paid_on, reference, paid_account \
     FROM payment_requests";

fn request(r: &sqlx::any::AnyRow) -> sqlx::Result<Request> {
    let id: String = r.try_get("id")?;
    let amount_fen = r.try_get("amount_fen")?;
    let status: String = r.try_get("status")?;
    Ok(Request {
        contract_id: r.try_get("contract_id")?,
        tender_id: r.try_get("tender_id")?,
        view: RequestView {
            id: id.clone(),
            amount_fen,
            note: r.try_get("note")?,
            status: status.clone(),
            requested_at: r.try_get("requested_at")?,
            decided_at: r.try_get("decided_at")?,
            reason: r.try_get("reason")?,
            paid_at: r.try_get("paid_at")?,
            paid_on: r.try_get("paid_on")?,
            reference: r.try_get("reference")?,
            paid_account: r.try_get("paid_account")?,
        },
        id,
        amount_fen,
        status,
    })
}

pub async fn one<'e, E>(exec: E, id: &str) -> sqlx::Result<Option<Request>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!("{REQUEST_SQL} WHERE id = $1"))
        .bind(id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(request)
        .transpose()
}

/// A contract's requests, the first first.
pub async fn of_contract<'e, E>(exec: E, contract_id: &str) -> sqlx::Result<Vec<Request>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "{REQUEST_SQL} WHERE contract_id = $1 ORDER BY requested_at, id"
    ))
    .bind(contract_id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(request)
    .collect()
}

/// A contract accepted since `since`: what it owes, what was paid and when the last
/// payment was recorded.
#[derive(Debug, sqlx::FromRow)]
pub struct Owed {
    pub contract_id: String,
    pub tender_id: String,
    pub title: String,
    pub purchaser_org_id: String,
    pub accepted_at: i64,
    pub document: String,
    pub payable_fen: i64,
    pub paid_fen: i64,
    pub last_paid_at: Option<i64>,
}

impl Owed {
    /// When the contract was paid in full: the last payment's, once what was paid
    /// reaches what it owes.
    pub fn settled_at(&self) -> Option<i64> {
        (self.paid_fen >= self.payable_fen)
            .then_some(self.last_paid_at)
            .flatten()
    }
}

/// The accepted contracts' [`Owed`] columns after the contract's id and tender's id (which
/// the caller selects first), over `acceptances a` (passed) joined to `contracts c` and
/// `tenders t`; the caller adds its conditions after `WHERE`.
pub const OWED_SQL: &str = "t.title, c.purchaser_org_id, \
     a.signed_at AS accepted_at, c.document, \
     CAST(c.amount_fen + COALESCE((SELECT SUM(s.amount_fen) FROM contract_supplements s \
          WHERE s.contract_id = c.id), 0) AS BIGINT) AS payable_fen, \
     CAST(COALESCE((SELECT SUM(p.amount_fen) FROM payment_requests p \
          WHERE p.contract_id = c.id AND p.status = 'paid'), 0) AS BIGINT) AS paid_fen, \
     (SELECT MAX(p.paid_at) FROM payment_requests p \
          WHERE p.contract_id = c.id AND p.status = 'paid') AS last_paid_at \
     FROM acceptances a JOIN contracts c ON c.id = a.contract_id \
     JOIN tenders t ON t.id = c.tender_id \
     WHERE a.status = 'passed'";

pub async fn accepted_since<'e, E>(exec: E, since: i64, limit: i64) -> sqlx::Result<Vec<Owed>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(&format!(
        "SELECT c.id AS contract_id, c.tender_id, {OWED_SQL} AND a.signed_at >= $1 \
         ORDER BY a.signed_at DESC, c.id LIMIT $2"
    ))
    .bind(since)
    .bind(limit)
    .fetch_all(exec)
    .await
}
