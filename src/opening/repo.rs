//! The opening's own SQL: its row, read into a typed struct, and its phase; and what the
//! stages after it read of it (the bids read out, the documents each listed), so that they
//! never read the opening's tables or events themselves.

use std::collections::BTreeMap;

use super::types::{LotQuorum, Phase, ReadOutBid};
use crate::db::Tx;
use crate::error::AppResult;
use crate::ledger::{BidReadOut, Document, Kind};

/// The opening row's times and phase.
pub(crate) struct OpeningRow {
    pub phase: Phase,
    pub host_user_id: String,
    pub started_at: i64,
    pub decrypt_ends_at: i64,
    pub unsealing_since: Option<i64>,
    pub overdue_alerted: bool,
    pub confirm_ends_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub lots: Vec<LotQuorum>,
}

/// `openings` as stored (text and integers on both backends).
#[derive(sqlx::FromRow)]
struct Stored {
    phase: String,
    host_user_id: String,
    started_at: i64,
    decrypt_ends_at: i64,
    unsealing_since: Option<i64>,
    overdue_alerted: i64,
    confirm_ends_at: Option<i64>,
    closed_at: Option<i64>,
    lots: String,
}

pub(crate) async fn opening_row<'e, E>(exec: E, tender_id: &str) -> AppResult<Option<OpeningRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let Some(r) = sqlx::query_as::<_, Stored>(
        "SELECT phase, host_user_id, started_at, decrypt_ends_at, unsealing_since, \
         overdue_alerted, confirm_ends_at, closed_at, lots FROM openings WHERE tender_id = $1",
    )
    .bind(tender_id)
    .fetch_optional(exec)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(OpeningRow {
        phase: Phase::parse(&r.phase)
            .ok_or_else(|| anyhow::anyhow!("unknown opening phase {}", r.phase))?,
        host_user_id: r.host_user_id,
        started_at: r.started_at,
        decrypt_ends_at: r.decrypt_ends_at,
        unsealing_since: r.unsealing_since,
        overdue_alerted: r.overdue_alerted != 0,
        confirm_ends_at: r.confirm_ends_at,
        closed_at: r.closed_at,
        lots: serde_json::from_str(&r.lots).map_err(anyhow::Error::from)?,
    }))
}

pub async fn phase<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<Option<Phase>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let p: Option<String> = sqlx::query_scalar("SELECT phase FROM openings WHERE tender_id = $1")
        .bind(tender_id)
        .fetch_optional(exec)
        .await?;
    Ok(p.and_then(|p| Phase::parse(&p)))
}

pub(crate) async fn set_phase(tx: &mut Tx, tender_id: &str, phase: Phase) -> sqlx::Result<()> {
    sqlx::query("UPDATE openings SET phase = $1 WHERE tender_id = $2")
        .bind(phase.as_str())
        .bind(tender_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A read-out bid as stored.
#[derive(sqlx::FromRow)]
struct StoredReadOut {
    bid_id: String,
    bidder_org_id: String,
    position: i64,
    lot_no: i64,
    name: String,
    sheet: Option<String>,
    enterprise_size: Option<String>,
    special_status: Option<String>,
}

/// The bids read out at the tender's opening, in reading order, with their bidders'
/// names and the sizes and statuses the policy rules need.
pub async fn read_out_bids<'e, E>(exec: E, tender_id: &str) -> AppResult<Vec<ReadOutBid>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query_as::<_, StoredReadOut>(
        "SELECT ob.bid_id, ob.bidder_org_id, ob.position, ob.lot_no, o.name, ob.sheet, \
         o.enterprise_size, o.special_status FROM opening_bids ob \
         JOIN organisations o ON o.id = ob.bidder_org_id \
         WHERE ob.tender_id = $1 AND ob.result = 'read_out' ORDER BY ob.position",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?;
    rows.into_iter()
        .map(|r| {
            let sheet = r
                .sheet
                .ok_or_else(|| anyhow::anyhow!("read out without sheet"))?;
            Ok(ReadOutBid {
                bid_id: r.bid_id,
                bidder_org_id: r.bidder_org_id,
                position: r.position,
                lot_no: r.lot_no,
                bidder_name: r.name,
                sheet: serde_json::from_str(&sheet).map_err(anyhow::Error::from)?,
                enterprise_size: r.enterprise_size,
                special_status: r.special_status,
            })
        })
        .collect()
}

/// The documents of each bid read out, as its `bid_read_out` event lists them.
pub async fn read_out_documents(
    pool: &sqlx::AnyPool,
    tender_id: &str,
) -> AppResult<BTreeMap<String, Vec<Document>>> {
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM ledger_events WHERE tender_id = $1 AND kind = $2 ORDER BY seq",
    )
    .bind(tender_id)
    .bind(Kind::BidReadOut.as_str())
    .fetch_all(pool)
    .await?;
    let mut out = BTreeMap::new();
    for b in bodies {
        let read: BidReadOut = serde_json::from_str(&b).map_err(anyhow::Error::from)?;
        out.insert(read.bid_id, read.documents);
    }
    Ok(out)
}
