//! The database: one `AnyPool` over SQLite (default, a file under the data dir) or
//! PostgreSQL (`DATABASE_URL=postgres://...`). One set of SQL strings serves both: `$N`
//! placeholders in ascending order, integers/text/blobs only, times as Unix ms, flags 0/1.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub type Db = sqlx::Any;
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Database {
    pub pool: AnyPool,
    pub backend: Backend,
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Database {
    /// Connects to `url`, or to `<data_dir>/kaibiao.db` when `url` is `None`.
    pub async fn connect(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Database> {
        sqlx::any::install_default_drivers();
        let url = match url {
            Some(u) => u.to_string(),
            None => {
                let file = data_dir.join("kaibiao.db");
                format!("sqlite://{}?mode=rwc", file.display())
            }
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
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            });
        if backend == Backend::Sqlite {
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
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
        Ok(Database { pool, backend })
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
