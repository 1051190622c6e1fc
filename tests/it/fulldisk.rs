//! A real full disk: the data folder on a small tmpfs (so root, as in CI), filled to the
//! last byte while a supplier uploads and the agency writes. On PostgreSQL the test
//! database's tables are on that disk too (a tablespace), so both the blob store and the
//! database server run out of space. Writes are refused with a
//! clear code and nothing half-kept; once space is freed every write works again without
//! a restart, the upload resumes where it stopped, and a restart finds exactly what was
//! acknowledged.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use kaibiao::clock::SystemClock;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::bids::{put_chunk, seal, start_bid};
use crate::common::{client, code, in_ci, spawn_app_on, TestApp};

/// A tmpfs mounted for the test, lazily unmounted when dropped.
struct SmallDisk(PathBuf);

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Mounts a `mib` MiB tmpfs on `path` (others may pass through it, as the PostgreSQL
/// server must to reach its tablespace), or `None` (skip) where that is not allowed.
fn small_disk(path: &Path, mib: u32) -> Option<SmallDisk> {
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={mib}m,mode=0711"),
            "tmpfs",
        ])
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    if mounted {
        return Some(SmallDisk(path.to_path_buf()));
    }
    assert!(
        !in_ci(),
        "CI runs as root: it must be able to mount a small tmpfs for the full-disk test"
    );
    eprintln!("skipping the full-disk test: mounting a tmpfs needs root");
    None
}

/// `len` Chinese characters that neither repeat nor compress (PostgreSQL compresses long
/// values, and a value that shrinks into a page's free space needs no new space).
fn incompressible(seed: usize, len: usize) -> String {
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from_u32(0x4E00 + (x % 20_000) as u32).expect("a CJK character")
        })
        .collect()
}

/// On PostgreSQL: a test database whose tables live on the small disk (a tablespace in
/// `dir`), so that the database server, not only the blob store, runs out of space.
struct SmallDatabase {
    admin: String,
    name: String,
    url: String,
}

impl SmallDatabase {
    async fn create(admin: &str, dir: &Path) -> SmallDatabase {
        use sqlx::Connection;
        let chown = Command::new("chown")
            .arg("postgres:postgres")
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            chown,
            "the tablespace folder must belong to the postgres user"
        );
        let name = format!("kb_full_{}", uuid::Uuid::new_v4().simple());
        let mut c = sqlx::postgres::PgConnection::connect(admin).await.unwrap();
        sqlx::query(&format!(
            "CREATE TABLESPACE {name} LOCATION '{}'",
            dir.display()
        ))
        .execute(&mut c)
        .await
        .expect("a tablespace on the small disk (the test server runs on this machine)");
        sqlx::query(&format!("CREATE DATABASE {name} TABLESPACE {name}"))
            .execute(&mut c)
            .await
            .unwrap();
        let (base, _) = admin.rsplit_once('/').expect("a URL with a database name");
        SmallDatabase {
            admin: admin.to_string(),
            url: format!("{base}/{name}"),
            name,
        }
    }
}

/// The database and its tablespace go before the small disk is unmounted, also when the
/// test fails half-way: a tablespace whose folder vanished would break the checkpoints of
/// the shared test server for every later test.
impl Drop for SmallDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                use sqlx::Connection;
                let mut c = sqlx::postgres::PgConnection::connect(&admin).await?;
                for sql in [
                    format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    format!("DROP TABLESPACE IF EXISTS {name}"),
                ] {
                    sqlx::query(&sql).execute(&mut c).await?;
                }
                anyhow::Ok(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("the full-disk test database was not dropped: {dropped:?}");
        }
    }
}

/// Writes zeros to `path` until the filesystem holds no byte more.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    for block in [1 << 20, 4096, 1] {
        let buf = vec![0u8; block];
        while f.write_all(&buf).is_ok() {}
    }
    let _ = f.sync_all();
}

async fn health(app: &TestApp) -> (StatusCode, Value) {
    let r = client().get(app.url("/healthz")).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

async fn amend(s: &crate::common::Session, tender: &str, n: usize) -> (StatusCode, Value) {
    s.post(
        &format!("/api/tenders/{tender}/amendments"),
        json!({"reason": format!("第 {n} 次更正"),
               "changes": {"description": format!("联系人:王磊 {n} {}", incompressible(n, 8000))}}),
    )
    .await
}

#[tokio::test]
async fn a_full_disk_refuses_writes_cleanly_and_all_work_again_once_space_is_freed() {
    let postgres = std::env::var("KAIBIAO_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = small_disk(dir.path(), 48) else {
        return;
    };
    let root = dir.path().to_path_buf();
    // The data folder (blobs, uploads, the SQLite file) is on the small disk; so are the
    // tables of a PostgreSQL test database.
    let database = match &postgres {
        Some(admin) => {
            let space = root.join("postgres");
            std::fs::create_dir(&space).unwrap();
            Some(SmallDatabase::create(admin, &space).await)
        }
        None => None,
    };
    let url = database.as_ref().map(|d| d.url.clone());
    let app = spawn_app_on(dir, url.clone(), Arc::new(SystemClock)).await;
    let tender = app.school_tender_id().await;
    let agency = app.login("agency").await;
    let supplier = app.login("supplier1").await;
    supplier.register_keys().await;
    let (status, start) = start_bid(&supplier, &tender).await;
    assert_eq!(status, StatusCode::CREATED, "{start}");
    let bid = start["bid_id"].as_str().unwrap().to_string();
    let container = seal(&start, "满盘", &vec![7u8; 3 << 20], 1 << 16);
    let half = container.len() / 2;
    let (status, v) = put_chunk(&supplier, &bid, 0, &container[..half]).await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // The disk fills up (SQLite's write-ahead log emptied first, so that every write
    // needs room).
    if database.is_none() {
        use sqlx::Connection;
        let file = root.join("kaibiao.db");
        let mut c =
            sqlx::sqlite::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
                .await
                .unwrap();
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await
            .unwrap();
    }
    let filler = root.join("filler");
    fill(&filler);

    // The rest of the bid is refused, with when to come back; what had arrived is kept.
    let (status, v) = put_chunk(&supplier, &bid, half, &container[half..]).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::INSUFFICIENT_STORAGE, "STORAGE_FULL"),
        "{v}"
    );
    let (status, v) = supplier.get(&format!("/api/bids/{bid}")).await;
    assert_eq!(status, StatusCode::OK, "reads still work: {v}");
    assert_eq!(v["received"].as_u64(), Some(half as u64), "{v}");
    // The agency's amendment is refused the same way, and nothing of it is kept.
    let (status, v) = amend(&agency, &tender, 1).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::INSUFFICIENT_STORAGE, "STORAGE_FULL"),
        "{v}"
    );
    let (status, v) = health(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    if database.is_none() {
        assert_eq!(v["check"], "write_failed", "{v}");
    } else {
        // One row updated in place may still fit where the tables are; the blob store
        // takes nothing.
        assert!(
            ["write_failed", "storage_write_failed"].contains(&v["check"].as_str().unwrap_or("")),
            "{v}"
        );
    }

    // Space is freed: with no restart, every write works again.
    std::fs::remove_file(&filler).unwrap();
    let (status, v) = health(&app).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = put_chunk(&supplier, &bid, half, &container[half..]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the upload resumes where it stopped: {v}"
    );
    let (status, receipt) = supplier
        .post(
            &format!("/api/bids/{bid}/complete"),
            json!({"size": container.len(), "sha256": kaibiao::crypto::sha256_hex(&container)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    for n in 2..=11 {
        let (status, v) = amend(&agency, &tender, n).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "write {n} after the disk was freed: {v}"
        );
    }

    // A restart finds exactly what was acknowledged: ten amendments, the bid complete.
    let (dir, _) = app.stop();
    let app = spawn_app_on(dir, url, Arc::new(SystemClock)).await;
    let ledger = crate::evaluation::ledger_of(&app, &tender).await;
    let reasons: Vec<&str> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "tender_amended")
        .filter_map(|e| e["body"]["reason"].as_str())
        .collect();
    assert_eq!(reasons.len(), 10, "{reasons:?}");
    assert!(
        !reasons.contains(&"第 1 次更正"),
        "the refused one is not kept"
    );
    let supplier = app.login("supplier1").await;
    let (_, v) = supplier.get(&format!("/api/bids/{bid}")).await;
    assert_eq!(v["status"], "submitted", "{v}");
    let (dir, _) = app.stop();
    drop(database);
    drop(disk);
    drop(dir);
}
