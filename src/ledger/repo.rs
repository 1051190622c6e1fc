//! Ledger SQL. `append` must run inside the caller's transaction, after the tender row is
//! locked (written) in it, so the chain has a single writer.

use sqlx::Row;

use super::{event_hash, Event, Ledger, GENESIS};
use crate::db::Tx;

pub async fn append(
    tx: &mut Tx,
    tender_id: &str,
    at: i64,
    kind: &str,
    actor: &str,
    body: serde_json::Value,
) -> sqlx::Result<Event> {
    let last = sqlx::query(
        "SELECT seq, hash FROM ledger_events WHERE tender_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(tender_id)
    .fetch_optional(&mut **tx)
    .await?;
    let (seq, prev_hash) = match last {
        Some(r) => (
            r.try_get::<i64, _>("seq")? + 1,
            r.try_get::<String, _>("hash")?,
        ),
        None => (1, GENESIS.to_string()),
    };
    let hash = event_hash(tender_id, seq, at, kind, actor, &body, &prev_hash);
    sqlx::query(
        "INSERT INTO ledger_events (tender_id, seq, at, kind, actor, body, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tender_id)
    .bind(seq)
    .bind(at)
    .bind(kind)
    .bind(actor)
    .bind(super::canonical_json(&body))
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    Ok(Event {
        seq,
        at,
        kind: kind.to_string(),
        actor: actor.to_string(),
        body,
        prev_hash,
        hash,
    })
}

pub async fn load<'e, E>(exec: E, tender_id: &str) -> anyhow::Result<Ledger>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT seq, at, kind, actor, body, prev_hash, hash FROM ledger_events \
         WHERE tender_id = $1 ORDER BY seq",
    )
    .bind(tender_id)
    .fetch_all(exec)
    .await?;
    let mut events = Vec::with_capacity(rows.len());
    for r in rows {
        events.push(Event {
            seq: r.try_get("seq")?,
            at: r.try_get("at")?,
            kind: r.try_get("kind")?,
            actor: r.try_get("actor")?,
            body: serde_json::from_str(&r.try_get::<String, _>("body")?)?,
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        });
    }
    let head = events
        .last()
        .map(|e| e.hash.clone())
        .unwrap_or_else(|| GENESIS.to_string());
    Ok(Ledger {
        tender_id: tender_id.to_string(),
        head,
        events,
        withheld_until: None,
    })
}
