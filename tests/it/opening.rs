//! The opening's first step: at the deadline the bid set is sealed by the server's clock,
//! once, also when the deadline passed while the server was down.

use std::sync::Arc;

use kaibiao::clock::ManualClock;
use kaibiao::opening::sealing::seal_due;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::bids::{put_chunk, seal, start_bid, upload_all};
use crate::common::{code, spawn_app_at, spawn_app_on, TestApp};

const T0: i64 = 1_796_086_800_000;

async fn status(app: &TestApp, tender: &str) -> String {
    let (_, t) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}"))
        .await;
    t["status"].as_str().unwrap().to_string()
}

fn events<'a>(ledger: &'a Value, kind: &str) -> Vec<&'a Value> {
    ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .collect()
}

#[tokio::test]
async fn r_open_1_bids_are_sealed_at_the_deadline_once_and_late_uploads_refused() {
    let (app, clock) = spawn_app_at(T0).await;
    let t = app.school_tender().await;
    let (tender, deadline) = (
        t["id"].as_str().unwrap().to_string(),
        t["bid_deadline"].as_i64().unwrap(),
    );
    let s1 = app.login("supplier1").await;
    s1.register_keys().await;
    let (_, start) = start_bid(&s1, &tender).await;
    let container = seal(&start, "a", b"doc", 1024);
    let (_, done) = upload_all(&s1, start["bid_id"].as_str().unwrap(), &container, 4096).await;
    let s2 = app.login("supplier2").await;
    s2.register_keys().await;
    let (_, half) = start_bid(&s2, &tender).await;
    let half_id = half["bid_id"].as_str().unwrap().to_string();
    let c2 = seal(&half, "b", b"doc", 1024);
    let (status_code, _) = put_chunk(&s2, &half_id, 0, &c2[..c2.len() / 2]).await;
    assert_eq!(status_code, StatusCode::OK);

    // One millisecond before the deadline this tender is not sealed (the demo's other
    // tender, due earlier, is).
    clock.set(deadline - 1);
    seal_due(&app.state).await.unwrap();
    assert_eq!(status(&app, &tender).await, "published");

    // At the deadline, by the server's clock (the background scheduler may get there first).
    clock.set(deadline);
    seal_due(&app.state).await.unwrap();
    assert_eq!(status(&app, &tender).await, "sealed");
    assert_eq!(seal_due(&app.state).await.unwrap(), 0, "sealed once");

    // The public ledger is whole now, with the sealed list of ciphertext hashes.
    let (_, ledger) = app
        .call(Method::GET, &format!("/api/tenders/{tender}/ledger"), None)
        .await;
    assert!(ledger.get("withheld_until").is_none());
    assert!(
        events(&ledger, "bid_submitted").is_empty(),
        "bids are in the register"
    );
    let register = &ledger["bid_register"];
    assert_eq!(events(register, "bid_submitted").len(), 1);
    let sealed = events(&ledger, "bids_sealed");
    assert_eq!(sealed.len(), 1);
    assert_eq!(sealed[0]["body"]["count"], 1);
    assert_eq!(sealed[0]["body"]["late_uploads"], 1);
    assert_eq!(
        sealed[0]["body"]["bid_register"]["head"], register["head"],
        "the ledger names the register's head at the deadline"
    );
    assert_eq!(
        sealed[0]["body"]["bids"][0]["ciphertext_sha256"],
        done["receipt"]["receipt"]["ciphertext_sha256"]
    );
    let l: kaibiao::ledger::Ledger = serde_json::from_value(ledger).unwrap();
    assert_eq!(kaibiao::ledger::verify(&l), Ok(()));

    // The unfinished upload is late, its bytes gone; nothing more is accepted.
    let s2 = app.login("supplier2").await;
    let (_, b) = s2.get(&format!("/api/bids/{half_id}")).await;
    assert_eq!(b["status"], "late");
    assert!(!app
        .dir
        .path()
        .join(format!("uploads/{half_id}.part"))
        .exists());
    let (status_code, v) = put_chunk(&s2, &half_id, c2.len() / 2, &c2[c2.len() / 2..]).await;
    assert_eq!(
        (status_code, code(&v)),
        (StatusCode::CONFLICT, "DEADLINE_PASSED")
    );
    let (status_code, v) = start_bid(&s2, &tender).await;
    assert_eq!(
        (status_code, code(&v)),
        (StatusCode::CONFLICT, "DEADLINE_PASSED")
    );
    let (status_code, v) = app
        .login("agency")
        .await
        .post(
            &format!("/api/tenders/{tender}/amendments"),
            json!({"reason": "延期", "changes": {"bid_deadline": deadline + 86_400_000}}),
        )
        .await;
    assert_eq!(
        (status_code, code(&v)),
        (StatusCode::CONFLICT, "DEADLINE_PASSED")
    );
}

#[tokio::test]
async fn a_deadline_that_passes_while_the_server_is_down_is_sealed_at_restart() {
    let (app, _clock) = spawn_app_at(T0).await;
    let t = app.school_tender().await;
    let (tender, deadline) = (
        t["id"].as_str().unwrap().to_string(),
        t["bid_deadline"].as_i64().unwrap(),
    );
    let (dir, db) = app.stop();

    let clock = Arc::new(ManualClock::new(deadline + 3_600_000));
    let app = spawn_app_on(dir, db, clock).await;
    seal_due(&app.state).await.unwrap();
    assert_eq!(status(&app, &tender).await, "sealed");
    let (_, ledger) = app
        .call(Method::GET, &format!("/api/tenders/{tender}/ledger"), None)
        .await;
    let sealed = events(&ledger, "bids_sealed");
    assert_eq!(sealed.len(), 1);
    assert_eq!(sealed[0]["body"]["bid_deadline"], deadline);
    assert_eq!(
        sealed[0]["at"],
        deadline + 3_600_000,
        "recorded when it happened"
    );
    assert_eq!(sealed[0]["body"]["count"], 0);
}
