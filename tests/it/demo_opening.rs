//! The demo opening: `serve --demo` seeds a tender whose bids close minutes after start,
//! and five demo suppliers' bids, sealed on their side and sent to the running server over
//! HTTP. They carry signed receipts, open with the suppliers' key files and two
//! custodians' shares, leave nothing readable on the server, and are not sent again after
//! a restart.

use std::sync::Arc;

use kaibiao::bid::package;
use kaibiao::bid::types::{BidStatus, SignedReceipt};
use kaibiao::clock::SystemClock;
use kaibiao::crypto::kb1;
use kaibiao::demo::{OPENING_BIDS, OPENING_DEADLINE_MINS, OPENING_TITLE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::bids::{contains, files};
use crate::common::{fresh_database_url, login_at, spawn_demo_on, DeviceKeys, TestApp, PASSWORD};

const T0: i64 = 1_796_086_800_000;

fn bidders() -> Vec<String> {
    OPENING_BIDS.iter().map(|b| b.user.to_string()).collect()
}

/// The demo opening tender as the agency's list shows it.
async fn opening_tender(base: &str) -> Value {
    let (_, list) = login_at(base, "agency").await.get("/api/tenders").await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == OPENING_TITLE)
        .expect("the demo opening tender")
        .clone()
}

async fn ca_der(app: &TestApp) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    let (_, certs) = app.call(Method::GET, "/api/pki/certificates", None).await;
    rustls::pki_types::CertificateDer::from_pem_slice(certs["ca_pem"].as_str().unwrap().as_bytes())
        .unwrap()
        .to_vec()
}

/// The proposal's reference number (`KBDEMO-<hex>`), unique to each sealed bid.
fn reference(document: &str) -> String {
    let at = document.find("KBDEMO-").expect("a reference number");
    document[at..at + "KBDEMO-".len() + 16].to_string()
}

#[tokio::test]
async fn the_demo_opening_gets_five_sealed_bids_over_http_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database_url().await;
    let (app, bids) = spawn_demo_on(dir, db, Arc::new(SystemClock)).await;
    let t = opening_tender(&app.base).await;
    let tender = t["id"].as_str().unwrap().to_string();
    assert_eq!(t["status"], "published");
    let deadline = t["bid_deadline"].as_i64().unwrap();
    let left = deadline - chrono::Utc::now().timestamp_millis();
    assert!(
        left > 0 && left <= OPENING_DEADLINE_MINS * 60_000,
        "bids close {OPENING_DEADLINE_MINS} minutes after start ({left} ms left)"
    );

    let report = bids.send().await.unwrap();
    assert_eq!(report.sent, bidders(), "{report:?}");
    assert!(report.failed.is_empty() && report.already_in.is_empty());

    // Five submitted bids, one per demo supplier, each with a receipt that verifies.
    let submitted =
        kaibiao::bid::repo::with_status(&app.state.db.pool, &tender, BidStatus::Submitted)
            .await
            .unwrap();
    assert_eq!(submitted.len(), 5);
    let ca = ca_der(&app).await;
    let secret = crate::bids::tender_secret(&app, &tender).await;
    let mut markers = Vec::new();
    let mut prices = std::collections::HashSet::new();
    let mut sizes = std::collections::HashSet::new();
    for bid in &OPENING_BIDS {
        let s = app.login(bid.user).await;
        let (status, mine) = s.get(&format!("/api/tenders/{tender}/bids/mine")).await;
        assert_eq!(status, StatusCode::OK);
        let mine = mine.as_array().unwrap();
        assert_eq!(mine.len(), 1, "{}: one bid", bid.user);
        assert_eq!(mine[0]["status"], "submitted");
        let receipt: SignedReceipt = serde_json::from_value(mine[0]["receipt"].clone()).unwrap();
        assert!(kaibiao::bid::service::verify_receipt(
            &receipt,
            &ca,
            chrono::Utc::now().timestamp_millis()
        ));
        assert!(receipt.receipt.received_at < deadline);

        // The stored container opens with kb from the supplier's key file and kt from the
        // tender key rebuilt from two custodians' shares.
        let sha = &receipt.receipt.ciphertext_sha256;
        let stored = std::fs::read(
            app.dir
                .path()
                .join("blobs/sha256")
                .join(&sha[..2])
                .join(sha),
        )
        .unwrap();
        assert_eq!(stored.len() as u64, receipt.receipt.size);
        let key_file =
            std::fs::read_to_string(app.dir.path().join(format!("demo-keys/{}.kbkey", bid.user)))
                .unwrap();
        let (owner, keys) = DeviceKeys::from_file(&key_file, PASSWORD).unwrap();
        assert_eq!(owner, app.user_id(bid.user).await);
        let (header, header_bytes, offset) = kb1::parse_header(&stored).unwrap();
        assert_eq!(header.bidder_org_id, app.org_id(bid.user).await);
        let kb = kb1::unseal_kb(&header, &keys.encryption).unwrap();
        let kt = kb1::unseal_kt(&header, &secret).unwrap();
        let reader =
            kb1::OpenReader::new(&header, &header_bytes, &kb, &kt, &stored[offset..]).unwrap();
        let mut document = Vec::new();
        let (manifest, _) = package::read_package(reader, |_, b| {
            document.extend_from_slice(b);
            Ok(())
        })
        .unwrap();
        let sheet = &manifest.opening_sheet;
        assert_eq!(sheet.total_price_fen, bid.total_price_fen);
        assert_eq!(
            sheet.total_price_words,
            package::amount_in_words(bid.total_price_fen)
        );
        assert_eq!(sheet.delivery_days, bid.delivery_days);
        assert_eq!(manifest.documents.len(), 1);
        prices.insert(sheet.total_price_fen);
        sizes.insert(sheet.enterprise_size.clone());
        let document = String::from_utf8(document).unwrap();
        assert!(document.contains(OPENING_TITLE));
        markers.push(reference(&document));
    }
    assert_eq!(prices.len(), 5, "different prices");
    assert!(
        sizes.contains("small") && sizes.contains("micro"),
        "{sizes:?}"
    );

    // Nothing readable of any bid is in the database or the data dir (stopped as a crash
    // would stop it: the SQLite WAL is scanned too).
    let (dir, db) = app.stop();
    let mut scanned = 0;
    for f in files(dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        for m in &markers {
            for form in [
                m.clone().into_bytes(),
                crate::common::b64(m.as_bytes()).into_bytes(),
                hex::encode(m.as_bytes()).into_bytes(),
            ] {
                assert!(!contains(&bytes, &form), "{m} found in {}", f.display());
            }
        }
        scanned += bytes.len();
    }
    assert!(scanned > 5 * 8 * 1024, "blobs and database scanned");
    if let Some(url) = &db {
        use sqlx::{Connection, Row};
        let mut conn = sqlx::postgres::PgConnection::connect(url).await.unwrap();
        let tables: Vec<String> = sqlx::query(
            "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("t"))
        .collect();
        for t in tables {
            for r in sqlx::query(&format!("SELECT row_to_json(x)::text AS j FROM {t} x"))
                .fetch_all(&mut conn)
                .await
                .unwrap()
            {
                let j: String = r.get("j");
                for m in &markers {
                    assert!(!j.contains(m.as_str()), "{m} found in table {t}");
                }
            }
        }
    }

    // A restart sends nothing again.
    let (app, bids) = spawn_demo_on(dir, db, Arc::new(SystemClock)).await;
    let report = bids.send().await.unwrap();
    assert!(report.sent.is_empty(), "{report:?}");
    assert_eq!(report.already_in, bidders());
    let all = |app: &TestApp| {
        let pool = app.state.db.pool.clone();
        let tender = tender.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM bids WHERE tender_id = $1")
                .bind(tender)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(all(&app).await, 5, "no bid started again");

    // A start interrupted while sending: supplier8's bid is not in (withdrawn here) and an
    // upload of it was left half done. The next start withdraws that upload and sends
    // supplier8's bid only.
    let s8 = app.login("supplier8").await;
    let (_, mine) = s8.get(&format!("/api/tenders/{tender}/bids/mine")).await;
    let first = mine[0]["bid_id"].as_str().unwrap().to_string();
    let (status, _) = s8
        .post(&format!("/api/bids/{first}/withdraw"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, start) = crate::bids::start_bid(&s8, &tender).await;
    assert_eq!(status, StatusCode::CREATED, "{start}");
    let half = start["bid_id"].as_str().unwrap().to_string();
    let container = crate::bids::seal(&start, "半途 half way", b"doc", 1024);
    let (status, _) = crate::bids::put_chunk(&s8, &half, 0, &container[..100]).await;
    assert_eq!(status, StatusCode::OK);
    let (dir, db) = app.stop();
    let (app, bids) = spawn_demo_on(dir, db, Arc::new(SystemClock)).await;
    let report = bids.send().await.unwrap();
    assert_eq!(report.sent, ["supplier8"], "{report:?}");
    assert_eq!(report.already_in.len(), 4);
    let s8 = app.login("supplier8").await;
    let (_, b) = s8.get(&format!("/api/bids/{half}")).await;
    assert_eq!(b["status"], "withdrawn");
    let submitted =
        kaibiao::bid::repo::with_status(&app.state.db.pool, &tender, BidStatus::Submitted)
            .await
            .unwrap();
    assert_eq!(submitted.len(), 5);
    assert_eq!(all(&app).await, 7);
}

#[tokio::test]
async fn serve_demo_prints_the_opening_and_sends_the_bids_while_serving() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let db = fresh_database_url().await;
    let mut server = crate::cli::start_with(&["--demo"], &data, db.as_deref(), Some(&log));
    let out = server.stdout.join("\n");
    for want in [
        "演示开标 / demo opening",
        OPENING_TITLE,
        "host:",
        "custodians:",
        "agency, purchaser, finance",
        "supplier6, supplier7, supplier8, supplier9, supplier10",
        "demo-keys",
        "<user>.kbkey",
    ] {
        assert!(out.contains(want), "{want} in {out}");
    }
    for bid in &OPENING_BIDS {
        assert!(data.join(format!("demo-keys/{}.kbkey", bid.user)).exists());
    }

    // The server serves while the bids go in; each supplier sees its own bid submitted.
    let tender = opening_tender(&server.base).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut sessions = Vec::new();
    for bid in &OPENING_BIDS {
        sessions.push(login_at(&server.base, bid.user).await);
    }
    let started = std::time::Instant::now();
    loop {
        let mut done = 0;
        for s in &sessions {
            let (_, mine) = s.get(&format!("/api/tenders/{tender}/bids/mine")).await;
            if mine
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["status"] == "submitted")
            {
                done += 1;
            }
        }
        if done == 5 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(180),
            "five bids within three minutes: {done}; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    // The sender logs each receipt after the server has answered it: the last line may
    // come a moment after the last bid shows as submitted. Every live demo tender's bids
    // are sent once each.
    let all = kaibiao::demo::LIVE_DEMOS
        .iter()
        .map(|(_, bids)| bids.len())
        .sum::<usize>();
    let receipted = |log: &str| {
        log.matches("demo opening: bid sealed, uploaded and receipted")
            .count()
    };
    let started = std::time::Instant::now();
    loop {
        let logged = std::fs::read_to_string(&log).unwrap();
        if receipted(&logged) >= all || started.elapsed() > std::time::Duration::from_secs(30) {
            assert_eq!(receipted(&logged), all, "log:\n{logged}");
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(crate::cli::terminate(&mut server).success());

    // Started again, it finds the five bids in and sends nothing.
    let log2 = dir.path().join("server2.log");
    let mut again = crate::cli::start_with(&["--demo"], &data, db.as_deref(), Some(&log2));
    assert!(!again.stdout.join("\n").contains("demo opening"));
    let started = std::time::Instant::now();
    let logged = loop {
        let logged = std::fs::read_to_string(&log2).unwrap_or_default();
        if logged.contains("demo opening: bids in") {
            break logged;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(logged.contains("sent=0"), "{logged}");
    assert!(logged.contains("already_in=5"), "{logged}");
    crate::cli::terminate(&mut again);
}

#[tokio::test]
async fn after_the_deadline_a_restart_sends_nothing_and_the_tender_is_sealed() {
    use kaibiao::clock::ManualClock;
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database_url().await;
    let (app, _bids) = spawn_demo_on(dir, db, Arc::new(ManualClock::new(T0))).await;
    let deadline = opening_tender(&app.base).await["bid_deadline"]
        .as_i64()
        .unwrap();
    assert_eq!(deadline, T0 + OPENING_DEADLINE_MINS * 60_000);
    let (dir, db) = app.stop();

    let clock = Arc::new(ManualClock::new(deadline + 60_000));
    let (app, bids) = spawn_demo_on(dir, db, clock).await;
    let report = bids.send().await.unwrap();
    assert!(report.closed && report.sent.is_empty() && report.failed.is_empty());
    assert_eq!(app.rows("bids").await, 0, "no upload attempted");
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    assert_eq!(opening_tender(&app.base).await["status"], "sealed");
}
