//! Work that falls due with time — bid deadlines passing, windows ending, revealing to
//! resume after a restart — run by one loop for the whole server. Each area with such work
//! hands its [`Job`]s to start-up; the loop runs every job at start (what fell due while
//! the server was down) and then every [`TICK`], each on its own, so that one failing is
//! logged and retried at the next tick without holding up the others. A job must be safe
//! to run again at any time: it re-checks what is due under the rows' locks.
//! With several nodes on one database only the node holding the scheduler's lease runs
//! the jobs ([`crate::cluster::Cluster::lead`]); another takes over when it dies.

use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::state::AppState;

/// How often due work is looked for.
pub const TICK: Duration = Duration::from_secs(1);

/// One kind of due work: finds what is due now and does it.
pub struct Job {
    /// For the log when it fails.
    pub name: &'static str,
    pub run: for<'a> fn(&'a AppState) -> BoxFuture<'a, anyhow::Result<()>>,
}

/// Runs `jobs` now and then every `TICK` until `stop` changes or closes.
pub async fn run(state: AppState, jobs: Vec<Job>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let cluster = state.runtimes.get_arc::<crate::cluster::Cluster>();
    loop {
        let jobs: &[Job] = if cluster.lead().await { &jobs } else { &[] };
        for job in jobs {
            if let Err(e) = (job.run)(&state).await {
                tracing::error!(job = job.name, error = ?e, "due work failed");
            }
        }
        tokio::select! {
            _ = stop.changed() => break,
            _ = tokio::time::sleep(TICK) => {}
        }
    }
}
