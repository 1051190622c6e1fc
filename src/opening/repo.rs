//! The opening's own SQL: its row, read into a typed struct, and its phase.

use super::types::{LotQuorum, Phase};
use crate::db::Tx;
use crate::error::AppResult;

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
