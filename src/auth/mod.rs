//! Authentication (password login, cookie sessions with CSRF protection, bearer tokens),
//! throttling, the audit log, and the per-route access policy.

pub mod policy;
pub mod repo;
pub mod routes;
pub mod service;
pub mod types;

pub use policy::{Access, Api, RouteSpec};

use futures_util::FutureExt;

/// How often ended sessions are removed.
pub const SESSION_PURGE_EVERY_MS: i64 = 3_600_000;

/// When sessions were last purged (a runtime), so that the tick purges once an hour.
#[derive(Default)]
pub struct SessionPurge(std::sync::atomic::AtomicI64);

/// The due work of authentication: removing ended sessions, once an hour.
pub fn jobs() -> Vec<crate::jobs::Job> {
    vec![crate::jobs::Job {
        name: "purge ended sessions",
        run: |state| purge_due(state).boxed(),
    }]
}

async fn purge_due(state: &crate::state::AppState) -> anyhow::Result<()> {
    use std::sync::atomic::Ordering;
    let now = state.clock.now_ms();
    let last = &state.runtime::<SessionPurge>().0;
    let was = last.load(Ordering::Relaxed);
    if was != 0 && now - was < SESSION_PURGE_EVERY_MS {
        return Ok(());
    }
    last.store(now, Ordering::Relaxed);
    let n = repo::purge_sessions(&state.db.pool, now).await?;
    if n > 0 {
        tracing::info!(sessions = n, "ended sessions removed");
    }
    Ok(())
}
pub use types::{CurrentUser, Role};
