//! The engine — the deadlines of every source, the alerts of each that are due and not yet
//! made, each made in its own transaction under the (key, stage) UNIQUE constraint — and
//! the inbox: a user's alerts, the unread count, marking one read.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};

use super::repo::{self, NewAlert, Reader};
use super::rules;
use super::sources;
use super::types::{AlertCount, AlertView, Audience, Deadline, Stage};
use crate::auth::CurrentUser;
use crate::calendar::Deadlines;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Most alerts one run makes; the rest are made at the next tick.
pub const MAX_MADE: usize = 100;
/// Longest pause between two looks at the sources when no alert is expected sooner: how
/// late a deadline created meanwhile can be noticed (each is days long).
pub const RESCAN_MS: i64 = 60_000;
/// The longest subject title kept in an alert, in characters.
const MAX_TITLE: usize = 200;

/// When the engine looks at the sources next: at the first instant an alert it knows of
/// falls due, at most [`RESCAN_MS`] after the last look, and at once if the clock went
/// back or the last run left work. A run-time part (`state.runtime::<Engine>()`), so that
/// the job costs nothing on the ticks in between.
#[derive(Debug, Default)]
pub struct Engine {
    next_at: AtomicI64,
    last_at: AtomicI64,
}

impl Engine {
    fn is_due(&self, now: i64) -> bool {
        now >= self.next_at.load(Ordering::Relaxed) || now < self.last_at.load(Ordering::Relaxed)
    }

    fn ran(&self, now: i64, run: &Run) {
        let next = if run.more {
            now
        } else {
            run.next_at
                .map_or(now + RESCAN_MS, |at| at.min(now + RESCAN_MS))
        };
        self.last_at.store(now, Ordering::Relaxed);
        self.next_at.store(next, Ordering::Relaxed);
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Run {
    /// Alerts made by this run (not those another node made first).
    pub made: usize,
    /// The next instant an alert of the deadlines seen falls due.
    pub next_at: Option<i64>,
    /// [`MAX_MADE`] was reached: more are due.
    pub more: bool,
}

/// The job: [`run_due`] when the engine expects work, else nothing.
pub async fn tick(state: &AppState) -> anyhow::Result<()> {
    let engine = state.runtime::<Engine>();
    let now = state.clock.now_ms();
    if !engine.is_due(now) {
        return Ok(());
    }
    let run = run_due(state).await?;
    engine.ran(now, &run);
    Ok(())
}

/// Makes every alert due now that is not yet made, at most [`MAX_MADE`]. Safe to run
/// again at any time and on several nodes at once: an alert is made once per deadline
/// and stage.
#[tracing::instrument(skip_all, err)]
pub async fn run_due(state: &AppState) -> anyhow::Result<Run> {
    let now = state.clock.now_ms();
    let calendar = &state.runtime::<Deadlines>().calendar;
    let mut run = Run::default();
    let mut wanted: Vec<(Deadline, Vec<Stage>)> = Vec::new();
    for source in sources::all() {
        // One failing source is logged; the others' alerts are still made.
        let found = match (source.read)(state, now).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(source = source.name, error = ?e, "reading deadlines failed");
                continue;
            }
        };
        if found.len() as i64 >= sources::LIMIT {
            tracing::warn!(
                source = source.name,
                limit = sources::LIMIT,
                "as many deadlines as a source hands over at once"
            );
        }
        for d in found {
            if let Some(at) = rules::next_at(calendar, &d, now) {
                run.next_at = Some(run.next_at.map_or(at, |n| n.min(at)));
            }
            let stages = rules::due_stages(calendar, &d, now);
            if !stages.is_empty() {
                wanted.push((d, stages));
            }
        }
    }
    if wanted.is_empty() {
        return Ok(run);
    }
    let mut made: HashSet<(String, String)> = HashSet::new();
    let keys: Vec<&str> = wanted.iter().map(|(d, _)| d.key.as_str()).collect();
    for chunk in keys.chunks(100) {
        made.extend(repo::existing(&state.db.pool, chunk).await?);
    }
    for (d, stages) in &wanted {
        for stage in stages {
            if made.contains(&(d.key.clone(), stage.as_str().to_string())) {
                continue;
            }
            if run.made >= MAX_MADE {
                run.more = true;
                return Ok(run);
            }
            if make(state, d, *stage, now).await? {
                run.made += 1;
            }
        }
    }
    Ok(run)
}

/// Makes one alert with its recipients: the owners, or for `overdue` the roles it
/// escalates to. `false` when another node (or an earlier run) made it first.
async fn make(state: &AppState, d: &Deadline, stage: Stage, now: i64) -> anyhow::Result<bool> {
    let to: Vec<Audience> = match stage {
        Stage::Overdue => d.escalate_to.iter().map(|r| Audience::Role(*r)).collect(),
        Stage::Upcoming | Stage::Due => d.owners.clone(),
    };
    let mut d = d.clone();
    d.subject.title = d.subject.title.chars().take(MAX_TITLE).collect();
    let (title_zh, title_en) = rules::titles(&d, stage);
    let info = d.rule.info();
    let id = crate::org::service::new_id();
    let mut tx = state.db.begin().await?;
    let made = repo::insert(
        &mut tx,
        &NewAlert {
            id: &id,
            key: &d.key,
            stage,
            rule_code: info.code,
            rule_name: info.name,
            subject_kind: d.subject.kind,
            subject_id: &d.subject.id,
            subject_title: &d.subject.title,
            link: &d.subject.link,
            due_at: d.due_at,
            title_zh: &title_zh,
            title_en: &title_en,
            created_at: now,
        },
        &to,
    )
    .await?;
    tx.commit().await?;
    if made {
        tracing::info!(key = %d.key, stage = stage.as_str(), rule = info.code, "alert made");
    }
    Ok(made)
}

/// The default and the largest number of alerts a list returns.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

fn reader(user: &CurrentUser) -> Reader<'_> {
    Reader {
        user_id: &user.id,
        org_id: user.org_id.as_deref().unwrap_or(""),
        role: user.role.as_str(),
    }
}

/// The user's alerts (theirs, their organisation's, their role's), newest first.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    unread_only: bool,
    limit: i64,
) -> AppResult<Vec<AlertView>> {
    let limit = limit.clamp(1, MAX_LIMIT);
    Ok(repo::list(&state.db.pool, reader(user), unread_only, limit).await?)
}

/// How many of the user's alerts are unread.
pub async fn count(state: &AppState, user: &CurrentUser) -> AppResult<AlertCount> {
    Ok(AlertCount {
        unread: repo::unread(&state.db.pool, reader(user)).await?,
    })
}

/// Marks one of the user's alerts read; another's is `NOT_FOUND`, as one that does not
/// exist.
pub async fn read(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<AlertView> {
    if id.is_empty() || id.len() > 64 {
        return Err(AppError::NotFound);
    }
    let pool = &state.db.pool;
    repo::one(pool, reader(user), id)
        .await?
        .ok_or(AppError::NotFound)?;
    repo::mark_read(pool, id, &user.id, state.clock.now_ms()).await?;
    repo::one(pool, reader(user), id)
        .await?
        .ok_or(AppError::NotFound)
}
