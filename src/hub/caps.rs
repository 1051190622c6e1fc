//! The cap on one user's hub connections, across nodes (docs/nodes.md, "Caps"). Alone, a
//! node counts in memory (`Hub::admit`). With several nodes on one PostgreSQL, each node
//! also writes a user's count here to its row of `hub_connections` when the user connects
//! ([`record`]), and within a second when a connection closes ([`flush`]); a connection is
//! admitted only while the user's connections here and at the other live nodes
//! ([`elsewhere`]) are under the cap. Closing is written late, never early: the cap can
//! only be stricter for that second. Connections opened at the very same moment at several
//! nodes can each pass before the others' counts are written: the cap may be overshot by
//! what is in flight at once, never by a node's whole share.

use sqlx::Row;

use super::presence::GONE_AFTER;
use super::Hub;
use crate::cluster::Cluster;
use crate::state::AppState;

/// The user's hub connections at the other live nodes (0 alone).
pub async fn elsewhere(state: &AppState, user: &str) -> sqlx::Result<usize> {
    let cluster = state.runtime::<Cluster>();
    if !cluster.shared() {
        return Ok(0);
    }
    let live_since = state.clock.now_ms() - GONE_AFTER.as_millis() as i64;
    let rows = sqlx::query(
        "SELECT n FROM hub_connections WHERE user_id = $1 AND node_id <> $2 AND seen_at >= $3",
    )
    .bind(user)
    .bind(cluster.node())
    .bind(live_since)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| usize::try_from(r.get::<i64, _>("n")).unwrap_or(0))
        .sum())
}

/// Writes the user's connections here, for the other nodes' caps (nothing alone).
pub async fn record(state: &AppState, user: &str) -> sqlx::Result<()> {
    let cluster = state.runtime::<Cluster>();
    if !cluster.shared() {
        return Ok(());
    }
    write(state, cluster.node(), user).await
}

async fn write(state: &AppState, node: &str, user: &str) -> sqlx::Result<()> {
    let n = Hub::of(state).connections_of(user);
    let pool = &state.db.pool;
    if n == 0 {
        sqlx::query("DELETE FROM hub_connections WHERE node_id = $1 AND user_id = $2")
            .bind(node)
            .bind(user)
            .execute(pool)
            .await?;
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO hub_connections (node_id, user_id, n, seen_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (node_id, user_id) DO UPDATE SET n = excluded.n, seen_at = excluded.seen_at",
    )
    .bind(node)
    .bind(user)
    .bind(n as i64)
    .bind(state.clock.now_ms())
    .execute(pool)
    .await?;
    Ok(())
}

/// Writes the counts of the users whose connections closed since the last call.
pub async fn flush(state: &AppState) -> sqlx::Result<()> {
    let cluster = state.runtime::<Cluster>();
    let hub = Hub::of(state);
    let users = hub.closed_since();
    for (i, user) in users.iter().enumerate() {
        if let Err(e) = write(state, cluster.node(), user).await {
            hub.closed_again(&users[i..]);
            return Err(e);
        }
    }
    Ok(())
}
