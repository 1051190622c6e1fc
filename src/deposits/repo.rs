//! The deposits stage's SQL.

use crate::db::Tx;
use crate::deposit::types::DepositKind;

/// A deposit with its supplier's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DepositRow {
    pub tender_id: String,
    pub org_id: String,
    pub org_name: String,
    pub kind: String,
    pub amount_fen: i64,
    pub payer_name: Option<String>,
    pub bank: Option<String>,
    pub account_no: Option<String>,
    pub transfer_ref: Option<String>,
    pub issuer: Option<String>,
    pub guarantee_no: Option<String>,
    pub valid_until: Option<i64>,
    pub recorded_at: i64,
    pub refunded_at: Option<i64>,
    pub refund_ref: Option<String>,
}

const DEPOSIT_SQL: &str = "SELECT d.tender_id, d.org_id, o.name AS org_name, d.kind, \
     d.amount_fen, d.payer_name, d.bank, d.account_no, d.transfer_ref, d.issuer, \
     d.guarantee_no, d.valid_until, d.recorded_at, d.refunded_at, d.refund_ref \
     FROM bid_deposits d JOIN organisations o ON o.id = d.org_id";

/// The deposit `org_id` recorded for the tender, if any.
pub async fn deposit<'e, E>(
    exec: E,
    tender_id: &str,
    org_id: &str,
) -> sqlx::Result<Option<DepositRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(&format!(
        "{DEPOSIT_SQL} WHERE d.tender_id = $1 AND d.org_id = $2"
    ))
    .bind(tender_id)
    .bind(org_id)
    .fetch_optional(exec)
    .await
}

pub async fn deposits<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<Vec<DepositRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_as(&format!(
        "{DEPOSIT_SQL} WHERE d.tender_id = $1 ORDER BY d.recorded_at, d.org_id"
    ))
    .bind(tender_id)
    .fetch_all(exec)
    .await
}

/// A deposit as recorded: a payment's fields or a guarantee's, the other side `None`.
#[derive(Debug, Clone)]
pub struct NewDeposit {
    pub kind: DepositKind,
    pub amount_fen: i64,
    pub payer_name: Option<String>,
    pub bank: Option<String>,
    pub account_no: Option<String>,
    pub transfer_ref: Option<String>,
    pub issuer: Option<String>,
    pub guarantee_no: Option<String>,
    pub valid_until: Option<i64>,
}

pub async fn insert(
    tx: &mut Tx,
    tender_id: &str,
    org_id: &str,
    user_id: &str,
    d: &NewDeposit,
    at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO bid_deposits (tender_id, org_id, user_id, kind, amount_fen, payer_name, \
         bank, account_no, transfer_ref, issuer, guarantee_no, valid_until, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(tender_id)
    .bind(org_id)
    .bind(user_id)
    .bind(d.kind.as_str())
    .bind(d.amount_fen)
    .bind(&d.payer_name)
    .bind(&d.bank)
    .bind(&d.account_no)
    .bind(&d.transfer_ref)
    .bind(&d.issuer)
    .bind(&d.guarantee_no)
    .bind(d.valid_until)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn refund(
    tx: &mut Tx,
    tender_id: &str,
    org_id: &str,
    by: &str,
    reference: &str,
    at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE bid_deposits SET refunded_at = $1, refunded_by = $2, refund_ref = $3 \
         WHERE tender_id = $4 AND org_id = $5",
    )
    .bind(at)
    .bind(by)
    .bind(reference)
    .bind(tender_id)
    .bind(org_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A tender that ended (awarded, failed, cancelled) with deposits, for the refund alerts:
/// how many are not refunded yet and when the last was refunded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RefundsOf {
    pub tender_id: String,
    pub title: String,
    pub agency_org_id: String,
    pub unrefunded: i64,
    pub last_refunded_at: Option<i64>,
}

/// Ended tenders (`statuses`) with deposits not refunded, or refunded since `since`; the
/// latest deposits first, at most `limit`.
pub async fn refunds_of_ended<'e, E>(
    exec: E,
    statuses: &[&str],
    since: i64,
    limit: i64,
) -> sqlx::Result<Vec<RefundsOf>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let statuses: Vec<String> = statuses.iter().map(|s| format!("'{s}'")).collect();
    sqlx::query_as(&format!(
        "SELECT t.id AS tender_id, t.title, t.agency_org_id, \
         CAST(SUM(CASE WHEN d.refunded_at IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unrefunded, \
         MAX(d.refunded_at) AS last_refunded_at \
         FROM bid_deposits d JOIN tenders t ON t.id = d.tender_id \
         WHERE t.status IN ({}) GROUP BY t.id, t.title, t.agency_org_id \
         HAVING SUM(CASE WHEN d.refunded_at IS NULL THEN 1 ELSE 0 END) > 0 \
         OR MAX(d.refunded_at) >= $1 \
         ORDER BY MAX(d.recorded_at) DESC, t.id LIMIT $2",
        statuses.join(", ")
    ))
    .bind(since)
    .bind(limit)
    .fetch_all(exec)
    .await
}
