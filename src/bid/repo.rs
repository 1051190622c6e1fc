//! Bid rows in SQL.

use sqlx::Row;

use super::types::{BidStatus, BidView, SignedReceipt};
use crate::db::Tx;

/// A bid row as the rules need it.
#[derive(Debug, Clone)]
pub struct BidRow {
    pub id: String,
    pub tender_id: String,
    pub lot_no: i64,
    pub bidder_org_id: String,
    pub submitted_by: String,
    pub status: BidStatus,
    pub expected_size: i64,
    pub received: i64,
    pub bidder_key_id: String,
    pub tender_key_id: String,
    pub ciphertext_sha256: Option<String>,
    pub receipt: Option<String>,
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    pub withdrawn_at: Option<i64>,
}

const COLS: &str = "id, tender_id, lot_no, bidder_org_id, submitted_by, status, expected_size, \
    received, bidder_key_id, tender_key_id, ciphertext_sha256, receipt, created_at, \
    submitted_at, withdrawn_at";

fn row(r: &sqlx::any::AnyRow) -> sqlx::Result<BidRow> {
    let status: String = r.try_get("status")?;
    Ok(BidRow {
        id: r.try_get("id")?,
        tender_id: r.try_get("tender_id")?,
        lot_no: r.try_get("lot_no")?,
        bidder_org_id: r.try_get("bidder_org_id")?,
        submitted_by: r.try_get("submitted_by")?,
        status: BidStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown bid status {status}").into()))?,
        expected_size: r.try_get("expected_size")?,
        received: r.try_get("received")?,
        bidder_key_id: r.try_get("bidder_key_id")?,
        tender_key_id: r.try_get("tender_key_id")?,
        ciphertext_sha256: r.try_get("ciphertext_sha256")?,
        receipt: r.try_get("receipt")?,
        created_at: r.try_get("created_at")?,
        submitted_at: r.try_get("submitted_at")?,
        withdrawn_at: r.try_get("withdrawn_at")?,
    })
}

impl BidRow {
    pub fn view(&self) -> BidView {
        BidView {
            bid_id: self.id.clone(),
            tender_id: self.tender_id.clone(),
            lot_no: self.lot_no,
            status: self.status.as_str().into(),
            size: self.expected_size,
            received: self.received,
            ciphertext_sha256: self.ciphertext_sha256.clone(),
            created_at: self.created_at,
            submitted_at: self.submitted_at,
            withdrawn_at: self.withdrawn_at,
            receipt: self
                .receipt
                .as_deref()
                .and_then(|r| serde_json::from_str::<SignedReceipt>(r).ok()),
        }
    }
}

pub async fn get<'e, E>(exec: E, id: &str) -> sqlx::Result<Option<BidRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!("SELECT {COLS} FROM bids WHERE id = $1"))
        .bind(id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(row)
        .transpose()
}

pub async fn for_bidder(
    pool: &sqlx::AnyPool,
    tender_id: &str,
    org_id: &str,
) -> sqlx::Result<Vec<BidRow>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM bids WHERE tender_id = $1 AND bidder_org_id = $2 ORDER BY created_at DESC"
    ))
    .bind(tender_id)
    .bind(org_id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(row)
    .collect()
}

/// Bids in a state, for a tender (the opening takes the `submitted` ones).
pub async fn with_status(
    pool: &sqlx::AnyPool,
    tender_id: &str,
    status: BidStatus,
) -> sqlx::Result<Vec<BidRow>> {
    sqlx::query(&format!(
        "SELECT {COLS} FROM bids WHERE tender_id = $1 AND status = $2 ORDER BY submitted_at"
    ))
    .bind(tender_id)
    .bind(status.as_str())
    .fetch_all(pool)
    .await?
    .iter()
    .map(row)
    .collect()
}

pub struct NewBid<'a> {
    pub id: &'a str,
    pub tender_id: &'a str,
    pub lot_no: u32,
    pub bidder_org_id: &'a str,
    pub submitted_by: &'a str,
    pub bidder_key_id: &'a str,
    pub tender_key_id: &'a str,
    pub now: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub device_fingerprint: &'a str,
    pub documents_meta: &'a str,
}

pub async fn insert(tx: &mut Tx, b: &NewBid<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO bids (id, tender_id, lot_no, bidder_org_id, submitted_by, status, \
         expected_size, received, bidder_key_id, tender_key_id, created_at, updated_at, \
         client_ip, user_agent, device_fingerprint, documents_meta) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(b.id)
    .bind(b.tender_id)
    .bind(i64::from(b.lot_no))
    .bind(b.bidder_org_id)
    .bind(b.submitted_by)
    .bind(BidStatus::Uploading.as_str())
    .bind(0i64)
    .bind(b.bidder_key_id)
    .bind(b.tender_key_id)
    .bind(b.now)
    .bind(b.now)
    .bind(b.ip)
    .bind(b.user_agent)
    .bind(b.device_fingerprint)
    .bind(b.documents_meta)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The bid, its row locked until the transaction ends (appends to one upload are taken
/// one at a time, whichever node receives them).
pub async fn lock(tx: &mut Tx, id: &str) -> sqlx::Result<Option<BidRow>> {
    sqlx::query(&format!(
        "UPDATE bids SET updated_at = updated_at WHERE id = $1 RETURNING {COLS}"
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .as_ref()
    .map(row)
    .transpose()
}

pub async fn set_received<'e, E>(exec: E, id: &str, received: i64, now: i64) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("UPDATE bids SET received = $1, updated_at = $2 WHERE id = $3")
        .bind(received)
        .bind(now)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

pub async fn set_status<'e, E>(exec: E, id: &str, status: BidStatus, now: i64) -> sqlx::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("UPDATE bids SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .execute(exec)
        .await?;
    Ok(())
}

/// The bidder's current submitted bid for a lot, if any.
pub async fn current(
    tx: &mut Tx,
    tender_id: &str,
    lot_no: i64,
    org_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query(
        "SELECT id FROM bids WHERE tender_id = $1 AND lot_no = $2 AND bidder_org_id = $3 \
         AND status = 'submitted'",
    )
    .bind(tender_id)
    .bind(lot_no)
    .bind(org_id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()
}

#[allow(clippy::too_many_arguments)]
pub async fn mark_submitted(
    tx: &mut Tx,
    id: &str,
    size: i64,
    ciphertext_sha256: &str,
    header_sha256: &str,
    kb_sha256: &str,
    receipt: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE bids SET status = 'submitted', expected_size = $1, ciphertext_sha256 = $2, \
         header_sha256 = $3, kb_sha256 = $4, receipt = $5, submitted_at = $6, updated_at = $7 \
         WHERE id = $8",
    )
    .bind(size)
    .bind(ciphertext_sha256)
    .bind(header_sha256)
    .bind(kb_sha256)
    .bind(receipt)
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn mark_withdrawn(tx: &mut Tx, id: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE bids SET status = 'withdrawn', withdrawn_at = $1, updated_at = $2 WHERE id = $3",
    )
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How many bids `org` started on the tender since `since` (any status).
pub async fn started_since<'e, E>(
    exec: E,
    tender_id: &str,
    org: &str,
    since: i64,
) -> sqlx::Result<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM bids WHERE tender_id = $1 AND bidder_org_id = $2 AND created_at > $3",
    )
    .bind(tender_id)
    .bind(org)
    .bind(since)
    .fetch_one(exec)
    .await
}
