//! A real full disk: the data folder on a small tmpfs (so root, as in CI), filled to the
//! last byte while a supplier uploads and the agency writes. Writes are refused with a
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

/// Mounts a `mib` MiB tmpfs on `path`, or `None` (skip) where that is not allowed.
fn small_disk(path: &Path, mib: u32) -> Option<SmallDisk> {
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={mib}m,mode=0700"),
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
               "changes": {"description": format!("联系人:王磊 {n} {}", "。".repeat(2000))}}),
    )
    .await
}

#[tokio::test]
async fn a_full_disk_refuses_writes_cleanly_and_all_work_again_once_space_is_freed() {
    if std::env::var("KAIBIAO_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        return; // the database is elsewhere; this is about the SQLite file and the blobs
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = small_disk(dir.path(), 48) else {
        return;
    };
    let root = dir.path().to_path_buf();
    let app = spawn_app_on(dir, None, Arc::new(SystemClock)).await;
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

    // The disk fills up (the write-ahead log emptied first, so that every write needs room).
    {
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
    assert_eq!(v["check"], "write_failed");

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
    let app = spawn_app_on(dir, None, Arc::new(SystemClock)).await;
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
    drop(disk);
    drop(dir);
}
