//! The database: one `AnyPool` over SQLite (default, a file under the data dir) or
//! PostgreSQL (`DATABASE_URL=postgres://...`). One set of SQL strings serves both: `$N`
//! placeholders, numbered (one may be used more than once), integers/text/blobs only,
//! times as Unix ms, flags 0/1; multi-row INSERTs take theirs from [`row_placeholders`].

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection, Executor};

pub type Db = sqlx::Any;

/// The rows of the statement `sql` makes around an `IN` list, with `ids` bound to it:
/// `sql` is given the list's placeholders (`$1, $2, …, $n`) to put in `IN (…)`, e.g.
/// `fetch_in(pool, &ids, |list| format!("SELECT … WHERE id IN ({list})"))`. `ids` must
/// not be empty (`IN ()` is no SQL to PostgreSQL); callers with many split them into
/// [`IDS_PER_STATEMENT`].
pub async fn fetch_in<'e, E, S>(
    exec: E,
    ids: &[S],
    sql: impl FnOnce(&str) -> String,
) -> sqlx::Result<Vec<sqlx::any::AnyRow>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
    S: AsRef<str>,
{
    let list = (1..=ids.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = sql(&list);
    ids.iter()
        .fold(sqlx::query(&sql), |q, id| q.bind(id.as_ref()))
        .fetch_all(exec)
        .await
}

/// Ids in one `IN` list of [`fetch_in`], at most, for callers with an unbounded number.
pub const IDS_PER_STATEMENT: usize = 500;

/// Rows in one multi-row INSERT, at most (1,000 measured no faster on either database).
pub const ROWS_PER_INSERT: usize = 64;

/// The `VALUES` of a multi-row INSERT of `rows` rows of `width` columns, bound row after
/// row: `($1, …, $w), ($w+1, …, $2w), …` on PostgreSQL; on SQLite `(?, …, ?), …`, its
/// anonymous parameters, as SQLite finds each numbered one by a walk through the
/// statement's names, so that binding a statement of `$N` costs the square of its
/// parameters (a 1,000-row insert of scores once spent more time there than in
/// everything else).
pub fn row_placeholders(conn: &sqlx::AnyConnection, rows: usize, width: usize) -> String {
    placeholders(Backend::of(conn), rows, width)
}

/// [`row_placeholders`] for a backend, written into one string (a batch of scores builds
/// thousands of them; a `String` per parameter showed in its profile).
fn placeholders(backend: Backend, rows: usize, width: usize) -> String {
    use std::fmt::Write;
    let mut sql = String::with_capacity(rows * width * 6);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 1..=width {
            if c > 1 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Postgres => {
                    let _ = write!(sql, "${}", r * width + c);
                }
                Backend::Sqlite => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a connection (a transaction, through `Deref`) talks to.
    pub fn of(conn: &sqlx::AnyConnection) -> Backend {
        match conn.backend_name() {
            "SQLite" => Backend::Sqlite,
            _ => Backend::Postgres,
        }
    }
}

/// How often [`Database::checkpoints`] copies SQLite's log into the database file.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct Database {
    pub pool: AnyPool,
    pub backend: Backend,
    /// The SQLite file in the data folder and its identity (device, inode) when opened,
    /// to notice it deleted or replaced under the running server.
    sqlite_file: Option<(std::path::PathBuf, (u64, u64))>,
}

/// Written beside the SQLite file when it is made: a data folder that has it but not the
/// database was damaged (the file deleted), and the server refuses to start with an
/// empty one in its place.
const SQLITE_MARKER: &str = "kaibiao.db.created";

#[cfg(unix)]
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.len(), 0))
}

/// What `/healthz` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Ok,
    /// Reads fail or time out.
    ReadFailed,
    /// A write transaction fails or times out (disk full, locked, read-only).
    WriteFailed,
    /// The SQLite file was deleted or replaced under the server: what it writes is lost.
    FileGone,
    /// The database takes writes but the blob store does not (its disk is full, it is
    /// read-only or unreachable): bids and documents cannot be stored.
    StorageWriteFailed,
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Database {
    /// Connects to `url`, or to `<data_dir>/kaibiao.db` when `url` is `None`.
    pub async fn connect(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Database> {
        sqlx::any::install_default_drivers();
        let made_here = url.is_none();
        let url = match url {
            Some(u) => u.to_string(),
            None => {
                // The pool opens the file read-write but never creates it: a connection
                // opened after the file was deleted under the running server (the pool
                // replacing one it closed) fails instead of leaving an empty database in
                // its place. The file is made once, below, if it never existed.
                let file = data_dir.join("kaibiao.db");
                format!("sqlite://{}?mode=rw", file.display())
            }
        };
        let sqlite_file = match url_file(&url) {
            Some(file) => {
                let marker = file.with_file_name(SQLITE_MARKER);
                if marker.exists() && !file.exists() {
                    anyhow::bail!(
                        "数据库文件 {} 不见了,而数据目录表明它曾经存在:不以空库启动;请从备份恢复 / \
                         the database file {} is missing though this data folder had one: \
                         refusing to start on an empty database; restore it from a backup \
                         (or remove {} to start afresh on purpose)",
                        file.display(),
                        file.display(),
                        marker.display()
                    );
                }
                if made_here && !file.exists() {
                    sqlx::AnyConnection::connect(&format!("sqlite://{}?mode=rwc", file.display()))
                        .await
                        .with_context(|| format!("creating {}", file.display()))?
                        .close()
                        .await?;
                }
                Some((file, marker))
            }
            None => None,
        };
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("unsupported DATABASE_URL (use sqlite:// or postgres://)");
        };
        let opts = AnyConnectOptions::from_str(&url).context("parsing the database URL")?;
        let mut pool = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            // A ping before each use finds a network connection that died idle; an
            // embedded SQLite connection cannot, and its ping is one more hop to its
            // worker thread per statement group (felt under load: the hub's fan-out).
            .test_before_acquire(backend == Backend::Postgres)
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            });
        // A connection whose transaction could not be ended (an I/O error on commit or
        // rollback, a full disk) is closed rather than handed out again, so writes recover
        // once the cause is gone instead of failing with "begin_with at non-zero depth".
        pool = pool
            .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            .after_release(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }));
        if backend == Backend::Sqlite {
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                         PRAGMA wal_autocheckpoint = 10000; \
                         PRAGMA journal_size_limit = 4194304;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = pool
            .connect_with(opts)
            .await
            .with_context(|| format!("connecting to the {backend:?} database"))?;
        let sqlite_file = match sqlite_file {
            Some((file, marker)) => {
                if !marker.exists() {
                    std::fs::write(&marker, "kaibiao\n")
                        .with_context(|| format!("writing {}", marker.display()))?;
                }
                file_identity(&file).map(|id| (file, id))
            }
            None => None,
        };
        Ok(Database {
            pool,
            backend,
            sqlite_file,
        })
    }

    /// Checkpoints SQLite's write-ahead log every [`CHECKPOINT_EVERY`] until `stop`
    /// changes, so that no commit waits for it: left to SQLite, the commit that takes the
    /// log past its 1,000 pages copies them into the database before it returns (10–19 ms
    /// of a large score batch's 2 ms commit). A passive checkpoint waits for no reader or
    /// writer. Each connection still checkpoints past 10,000 pages (about 40 MiB), should
    /// this task fall behind; a burst may grow the log file that far between two runs, and
    /// the next write after a checkpoint cuts it back to 4 MiB (`journal_size_limit`)
    /// rather than leave it at its largest. Nothing to do on PostgreSQL.
    pub async fn checkpoints(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        if self.backend != Backend::Sqlite {
            return;
        }
        let mut failing = Failing::default();
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = tokio::time::sleep(CHECKPOINT_EVERY) => {}
            }
            let done = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&self.pool)
                .await;
            match done {
                Ok(_) => {
                    if let Some(failed) = failing.ended() {
                        tracing::info!(failed, "checkpointing the SQLite log works again");
                    }
                }
                Err(e) => {
                    if let Some(since_told) = failing.failed(std::time::Instant::now()) {
                        tracing::warn!(
                            error = %e,
                            failed_since_last_told = since_told,
                            retried_every_ms = CHECKPOINT_EVERY.as_millis() as u64,
                            "checkpointing the SQLite log failed; retried"
                        );
                    }
                }
            }
        }
    }

    /// Reads, writes (a one-row table, in a transaction like every change), and for
    /// SQLite that the file is still the one opened; each within `limit`.
    pub async fn health(&self, now_ms: i64, limit: Duration) -> Health {
        if let Some((file, id)) = &self.sqlite_file {
            if file_identity(file).as_ref() != Some(id) {
                return Health::FileGone;
            }
        }
        let read = tokio::time::timeout(limit, self.ping()).await;
        if !matches!(read, Ok(true)) {
            return Health::ReadFailed;
        }
        let write = async {
            let mut tx = self.begin().await?;
            sqlx::query("UPDATE health_probe SET at = $1 WHERE id = 1")
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        };
        match tokio::time::timeout(limit, write).await {
            Ok(Ok(())) => Health::Ok,
            _ => Health::WriteFailed,
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let m = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
        m.run(&self.pool).await.context("running migrations")?;
        Ok(())
    }

    /// A transaction that may read then write. SQLite takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred `BEGIN` fails most such transactions under
    /// concurrent writers. PostgreSQL rows are locked by the first `UPDATE` on them.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// A task's run of failures, told in the log at its first and then at most every
/// [`Failing::TELL_EVERY`] (a full disk fails the checkpoint twice a second for as long as
/// it lasts), and its end told once.
#[derive(Debug, Default)]
struct Failing {
    /// When last told, and the failures since.
    told: Option<(std::time::Instant, u64)>,
    /// Failures in this run.
    total: u64,
}

impl Failing {
    const TELL_EVERY: Duration = Duration::from_secs(60);

    /// One more failure: `Some(failures since last told)` when it is to be told now.
    fn failed(&mut self, now: std::time::Instant) -> Option<u64> {
        self.total += 1;
        match &mut self.told {
            Some((at, since)) if now.duration_since(*at) < Self::TELL_EVERY => {
                *since += 1;
                None
            }
            told => {
                let since = told.map_or(1, |(_, since)| since + 1);
                *told = Some((now, 0));
                Some(since)
            }
        }
    }

    /// A success: `Some(failures in the run)` if it ends one.
    fn ended(&mut self) -> Option<u64> {
        self.told.take()?;
        Some(std::mem::take(&mut self.total))
    }
}

/// The file of a `sqlite://` URL (not in-memory).
fn url_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.contains(":memory:")).then(|| std::path::PathBuf::from(path))
}

/// Whether `e` is a unique-constraint violation (both backends).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.kind() == sqlx::error::ErrorKind::UniqueViolation
                || d.code().as_deref() == Some("23505")
                || d.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

/// Flags are stored as 0/1 integers.
pub fn flag(b: bool) -> i64 {
    i64::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_row_insert_numbers_its_parameters_row_after_row_on_postgres_only() {
        assert_eq!(
            placeholders(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(placeholders(Backend::Sqlite, 2, 3), "(?, ?, ?), (?, ?, ?)");
        assert_eq!(placeholders(Backend::Sqlite, 1, 1), "(?)");
        let many = placeholders(Backend::Postgres, 64, 8);
        assert!(many.ends_with("($505, $506, $507, $508, $509, $510, $511, $512)"));
        assert_eq!(many.matches('$').count(), 512);
    }

    #[test]
    fn a_run_of_failures_is_told_at_its_first_then_once_a_minute_and_at_its_end() {
        let start = std::time::Instant::now();
        let mut failing = Failing::default();
        assert_eq!(failing.ended(), None, "nothing failed: nothing to tell");
        let half = Duration::from_millis(500);
        // Two minutes of failures twice a second: told at 0 s, 60 s and 120 s.
        let told: Vec<(u64, u64)> = (0..=240u32)
            .filter_map(|i| {
                let at = start + half * i;
                failing.failed(at).map(|n| (i as u64 / 2, n))
            })
            .collect();
        assert_eq!(told, [(0, 1), (60, 120), (120, 120)]);
        assert_eq!(
            failing.ended(),
            Some(241),
            "its end told with the run's failures"
        );
        assert_eq!(failing.ended(), None, "once");
        assert_eq!(failing.failed(start + half * 300), Some(1), "a new run");
    }
}
