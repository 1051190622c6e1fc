//! The rounds' rows (migration 0020).

use super::types::{OfferStatus, RoundStatus};
use crate::db::Tx;
use crate::error::{AppError, AppResult};

type Conn = sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SupplierRow {
    pub org_id: String,
    pub name: String,
    pub bid_id: String,
    pub lot_no: i64,
    pub status: String,
}

impl SupplierRow {
    pub fn is_in(&self) -> bool {
        self.status == "in"
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NegotiationRow {
    pub status: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub result: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredRound {
    round_no: i64,
    is_final: i64,
    status: String,
    opened_at: i64,
    closes_at: i64,
    decrypt_ends_at: Option<i64>,
    revealed_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct RoundRow {
    pub round_no: i64,
    pub is_final: bool,
    pub status: RoundStatus,
    pub opened_at: i64,
    pub closes_at: i64,
    pub decrypt_ends_at: Option<i64>,
    pub revealed_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct StoredOffer {
    id: String,
    round_no: i64,
    org_id: String,
    name: String,
    lot_no: i64,
    status: String,
    bidder_key_id: Option<String>,
    tender_key_id: String,
    ciphertext_sha256: Option<String>,
    kb_sha256: Option<String>,
    receipt: Option<String>,
    sealed_at: Option<i64>,
    kb: Option<String>,
    decrypted_at: Option<i64>,
    sheet: Option<String>,
    cause: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OfferRow {
    pub id: String,
    pub round_no: i64,
    pub org_id: String,
    pub bidder_name: String,
    pub lot_no: i64,
    pub status: OfferStatus,
    pub bidder_key_id: Option<String>,
    pub tender_key_id: String,
    pub ciphertext_sha256: Option<String>,
    pub kb_sha256: Option<String>,
    pub receipt: Option<String>,
    pub sealed_at: Option<i64>,
    pub kb: Option<String>,
    pub decrypted_at: Option<i64>,
    pub sheet: Option<serde_json::Value>,
    pub cause: Option<String>,
}

fn corrupt(what: &str, value: &str) -> AppError {
    AppError::Internal(anyhow::anyhow!("unknown {what} {value}"))
}

impl TryFrom<StoredRound> for RoundRow {
    type Error = AppError;
    fn try_from(r: StoredRound) -> AppResult<RoundRow> {
        Ok(RoundRow {
            round_no: r.round_no,
            is_final: r.is_final != 0,
            status: RoundStatus::parse(&r.status).ok_or_else(|| corrupt("round", &r.status))?,
            opened_at: r.opened_at,
            closes_at: r.closes_at,
            decrypt_ends_at: r.decrypt_ends_at,
            revealed_at: r.revealed_at,
        })
    }
}

impl TryFrom<StoredOffer> for OfferRow {
    type Error = AppError;
    fn try_from(o: StoredOffer) -> AppResult<OfferRow> {
        Ok(OfferRow {
            status: OfferStatus::parse(&o.status).ok_or_else(|| corrupt("offer", &o.status))?,
            sheet: o
                .sheet
                .map(|s| serde_json::from_str(&s))
                .transpose()
                .map_err(anyhow::Error::from)?,
            id: o.id,
            round_no: o.round_no,
            org_id: o.org_id,
            bidder_name: o.name,
            lot_no: o.lot_no,
            bidder_key_id: o.bidder_key_id,
            tender_key_id: o.tender_key_id,
            ciphertext_sha256: o.ciphertext_sha256,
            kb_sha256: o.kb_sha256,
            receipt: o.receipt,
            sealed_at: o.sealed_at,
            kb: o.kb,
            decrypted_at: o.decrypted_at,
            cause: o.cause,
        })
    }
}

const SUPPLIERS: &str = "SELECT s.org_id, o.name, s.bid_id, s.lot_no, s.status \
     FROM negotiation_suppliers s JOIN organisations o ON o.id = s.org_id \
     WHERE s.tender_id = $1";

pub async fn supplier(
    conn: &mut Conn,
    tender_id: &str,
    org_id: &str,
) -> AppResult<Option<SupplierRow>> {
    Ok(
        sqlx::query_as::<_, SupplierRow>(&format!("{SUPPLIERS} AND s.org_id = $2"))
            .bind(tender_id)
            .bind(org_id)
            .fetch_optional(conn)
            .await?,
    )
}

pub async fn suppliers(conn: &mut Conn, tender_id: &str) -> AppResult<Vec<SupplierRow>> {
    Ok(
        sqlx::query_as::<_, SupplierRow>(&format!("{SUPPLIERS} ORDER BY o.name, s.org_id"))
            .bind(tender_id)
            .fetch_all(conn)
            .await?,
    )
}

pub async fn negotiation(conn: &mut Conn, tender_id: &str) -> AppResult<Option<NegotiationRow>> {
    Ok(sqlx::query_as::<_, NegotiationRow>(
        "SELECT status, started_at, finished_at, result FROM negotiations WHERE tender_id = $1",
    )
    .bind(tender_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn rounds(conn: &mut Conn, tender_id: &str) -> AppResult<Vec<RoundRow>> {
    sqlx::query_as::<_, StoredRound>(
        "SELECT round_no, is_final, status, opened_at, closes_at, decrypt_ends_at, revealed_at \
         FROM offer_rounds WHERE tender_id = $1 ORDER BY round_no",
    )
    .bind(tender_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(RoundRow::try_from)
    .collect()
}

const OFFERS: &str = "SELECT r.id, r.round_no, r.org_id, o.name, r.lot_no, r.status, \
     r.bidder_key_id, r.tender_key_id, r.ciphertext_sha256, r.kb_sha256, r.receipt, \
     r.sealed_at, r.kb, r.decrypted_at, r.sheet, r.cause \
     FROM round_offers r JOIN organisations o ON o.id = r.org_id";

pub async fn offers(conn: &mut Conn, tender_id: &str) -> AppResult<Vec<OfferRow>> {
    sqlx::query_as::<_, StoredOffer>(&format!(
        "{OFFERS} WHERE r.tender_id = $1 ORDER BY r.round_no, o.name, r.org_id"
    ))
    .bind(tender_id)
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(OfferRow::try_from)
    .collect()
}

pub async fn offer(conn: &mut Conn, offer_id: &str) -> AppResult<Option<OfferRow>> {
    sqlx::query_as::<_, StoredOffer>(&format!("{OFFERS} WHERE r.id = $1"))
        .bind(offer_id)
        .fetch_optional(conn)
        .await?
        .map(OfferRow::try_from)
        .transpose()
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeRow {
    pub notice_no: i64,
    pub text: String,
    pub issued_at: i64,
}

pub async fn notices(conn: &mut Conn, tender_id: &str) -> AppResult<Vec<NoticeRow>> {
    Ok(sqlx::query_as::<_, NoticeRow>(
        "SELECT notice_no, text, issued_at FROM negotiation_notices WHERE tender_id = $1 \
         ORDER BY notice_no",
    )
    .bind(tender_id)
    .fetch_all(conn)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub message_no: i64,
    pub org_id: String,
    pub from_panel: i64,
    pub text: String,
    pub sent_at: i64,
}

/// The talks' messages in the order sent, of one supplier's thread or (`None`) of all.
pub async fn messages(
    conn: &mut Conn,
    tender_id: &str,
    org: Option<&str>,
) -> AppResult<Vec<MessageRow>> {
    Ok(sqlx::query_as::<_, MessageRow>(
        "SELECT message_no, org_id, from_panel, text, sent_at FROM negotiation_messages \
         WHERE tender_id = $1 AND ($2 IS NULL OR org_id = $2) ORDER BY message_no",
    )
    .bind(tender_id)
    .bind(org)
    .fetch_all(conn)
    .await?)
}

pub async fn set_offer_status(tx: &mut Tx, offer_id: &str, status: OfferStatus) -> AppResult<()> {
    sqlx::query("UPDATE round_offers SET status = $1 WHERE id = $2")
        .bind(status.as_str())
        .bind(offer_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_round_status(
    tx: &mut Tx,
    tender_id: &str,
    round_no: i64,
    status: RoundStatus,
) -> AppResult<()> {
    sqlx::query("UPDATE offer_rounds SET status = $1 WHERE tender_id = $2 AND round_no = $3")
        .bind(status.as_str())
        .bind(tender_id)
        .bind(round_no)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Tenders with a round in `status` whose time (`closes_at` for an open round,
/// `decrypt_ends_at` for one decrypting) has come.
pub async fn due(pool: &sqlx::AnyPool, status: RoundStatus, now: i64) -> AppResult<Vec<String>> {
    let column = match status {
        RoundStatus::Open => "closes_at",
        _ => "decrypt_ends_at",
    };
    Ok(sqlx::query_scalar(&format!(
        "SELECT tender_id FROM offer_rounds WHERE status = $1 AND {column} <= $2"
    ))
    .bind(status.as_str())
    .bind(now)
    .fetch_all(pool)
    .await?)
}
