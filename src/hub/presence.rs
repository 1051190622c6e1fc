//! Presence across nodes (docs/nodes.md, "Presence"). With several nodes on one
//! PostgreSQL, each node's room knows only the people connected to that node. Each room
//! therefore writes who is present here to its own row of `room_presence` when they come
//! and go ([`keep_row`], paced as the room's presence frames are), the node refreshes its
//! rows' `seen_at` every [`SEEN_EVERY`] ([`heartbeat`]), and once a second
//! (`Hub::catch_up`) every node reads which other nodes' rows of its live rooms changed
//! ([`heads`]); a room whose others changed reads their members ([`others`]) and shows
//! them with its own, through the same secrecy as its own (`room::presence_view`). A row
//! not seen for [`GONE_AFTER`] is a stopped node's: left out, and later removed.
//!
//! The rows hold what the room holds in memory (user ids and how each is hidden), never
//! more; on PostgreSQL the table is unlogged.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::Row;
use tokio::sync::watch;

use super::room::Present;

/// How often a node tells the others its rows are still its live rooms'.
pub const SEEN_EVERY: Duration = Duration::from_secs(5);
/// A row not seen for this long is a stopped node's: the other nodes leave it out.
pub const GONE_AFTER: Duration = Duration::from_secs(15);
/// A row not seen for this long is removed by whichever node notices.
const REMOVED_AFTER: Duration = Duration::from_secs(600);

/// The people of one node in a room, by user id.
pub type Members = Vec<(String, Present)>;

/// A node's row of a room as [`heads`] reads it: which node, and when its members changed.
pub type Head = (String, i64);

/// Writes this node's people of `room` whenever the room sends a new list on `rx`, and
/// removes the row (this instance's only) when the room ends and drops the sender.
pub async fn keep_row(
    state: crate::state::AppState,
    node: String,
    room: String,
    mut rx: watch::Receiver<Members>,
) {
    let pool = &state.db.pool;
    let instance = uuid::Uuid::new_v4().simple().to_string();
    while rx.changed().await.is_ok() {
        let members = serde_json::to_string(&*rx.borrow_and_update()).unwrap_or_default();
        let now = state.clock.now_ms();
        let written = sqlx::query(
            "INSERT INTO room_presence (node_id, room, instance, members, changed_at, seen_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (node_id, room) DO UPDATE SET \
             instance = excluded.instance, members = excluded.members, \
             changed_at = excluded.changed_at, seen_at = excluded.seen_at",
        )
        .bind(&node)
        .bind(&room)
        .bind(&instance)
        .bind(members)
        .bind(now)
        .execute(pool)
        .await;
        if let Err(e) = written {
            tracing::warn!(room = %room, error = %e, "writing the room's presence for the other nodes");
        }
    }
    let removed =
        sqlx::query("DELETE FROM room_presence WHERE node_id = $1 AND room = $2 AND instance = $3")
            .bind(&node)
            .bind(&room)
            .bind(&instance)
            .execute(pool)
            .await;
    if let Err(e) = removed {
        tracing::warn!(room = %room, error = %e, "removing the room's presence row");
    }
}

/// Marks this node's rows of `table` (one of the nodes' tables with `node_id` and
/// `seen_at`: `room_presence`, `hub_connections`) seen now, and removes rows long unseen.
pub async fn heartbeat(
    pool: &sqlx::AnyPool,
    table: &'static str,
    node: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "UPDATE {table} SET seen_at = $1 WHERE node_id = $2"
    ))
    .bind(now)
    .bind(node)
    .execute(pool)
    .await?;
    remove_unseen(pool, table, now).await
}

/// Removes the rows of `table` unseen for [`REMOVED_AFTER`] (of stopped nodes).
pub async fn remove_unseen(
    pool: &sqlx::AnyPool,
    table: &'static str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(&format!("DELETE FROM {table} WHERE seen_at < $1"))
        .bind(now - REMOVED_AFTER.as_millis() as i64)
        .execute(pool)
        .await?;
    Ok(())
}

/// For each of `rooms`, the other nodes' live rows: which node, and when it changed.
pub async fn heads(
    pool: &sqlx::AnyPool,
    node: &str,
    rooms: &[&str],
    now: i64,
) -> sqlx::Result<HashMap<String, Vec<Head>>> {
    let live_since = now - GONE_AFTER.as_millis() as i64;
    let mut heads: HashMap<String, Vec<Head>> = HashMap::new();
    if rooms.len() > crate::db::IDS_PER_STATEMENT {
        // Many rooms: one pass over the other nodes' live rows, kept for the rooms live
        // here, costs less than a statement per 500 rooms (each of which the planner
        // answers by reading the whole table).
        let wanted: std::collections::HashSet<&str> = rooms.iter().copied().collect();
        let rows = sqlx::query(
            "SELECT room, node_id, changed_at FROM room_presence \
             WHERE node_id <> $1 AND seen_at >= $2 ORDER BY room, node_id",
        )
        .bind(node)
        .bind(live_since)
        .fetch_all(pool)
        .await?;
        for r in rows {
            let room: String = r.try_get(0)?;
            if wanted.contains(room.as_str()) {
                heads
                    .entry(room)
                    .or_default()
                    .push((r.try_get(1)?, r.try_get(2)?));
            }
        }
        return Ok(heads);
    }
    for chunk in rooms.chunks(crate::db::IDS_PER_STATEMENT) {
        let rows = crate::db::fetch_in(pool, chunk, |list| {
            format!(
                "SELECT room, node_id, changed_at, seen_at FROM room_presence \
                 WHERE room IN ({list}) ORDER BY room, node_id"
            )
        })
        .await?;
        for r in rows {
            let (other, seen): (String, i64) = (r.try_get(1)?, r.try_get(3)?);
            if other != node && seen >= live_since {
                heads
                    .entry(r.try_get(0)?)
                    .or_default()
                    .push((other, r.try_get(2)?));
            }
        }
    }
    Ok(heads)
}

/// The people the other nodes' live rows of `room` list, with the heads they were read at
/// (rows unreadable as members are left out).
pub async fn others(
    pool: &sqlx::AnyPool,
    node: &str,
    room: &str,
    now: i64,
) -> sqlx::Result<(Vec<Head>, Members)> {
    let rows = sqlx::query(
        "SELECT node_id, changed_at, members FROM room_presence \
         WHERE room = $1 AND node_id <> $2 AND seen_at >= $3 ORDER BY node_id",
    )
    .bind(room)
    .bind(node)
    .bind(now - GONE_AFTER.as_millis() as i64)
    .fetch_all(pool)
    .await?;
    let mut heads = Vec::new();
    let mut members = Members::new();
    for r in rows {
        heads.push((r.try_get(0)?, r.try_get(1)?));
        let text: String = r.try_get(2)?;
        match serde_json::from_str::<Members>(&text) {
            Ok(m) => members.extend(m),
            Err(e) => tracing::warn!(room, error = %e, "a presence row that does not read"),
        }
    }
    Ok((heads, members))
}

/// The rooms someone is in at another node now.
pub async fn rooms_elsewhere(
    pool: &sqlx::AnyPool,
    node: &str,
    now: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT room FROM room_presence WHERE node_id <> $1 AND seen_at >= $2",
    )
    .bind(node)
    .bind(now - GONE_AFTER.as_millis() as i64)
    .fetch_all(pool)
    .await
}
