//! Restart safety of the rounds with the real binary: a negotiation's two rounds, the
//! server killed (SIGKILL) while a round is open with offers sealed, after a round's close
//! with one key in, and after the final offers; the rounds end with the same offers read,
//! the same final offers and the same ledger as an uninterrupted run — here two final
//! offers, too few, so the procurement ends.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::bids::{bidder_kb, custodian_share, seal_sheet, sheet, start_bid, upload_all};
use crate::common::{b64, login_at, Registered, Session};
use crate::restart::{Run, Users};
use crate::rounds::put_offer;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn ok(s: &Session, path: &str, cmd: Value) -> Value {
    let (status, v) = s.post(path, cmd.clone()).await;
    assert_eq!(status, StatusCode::OK, "{cmd} → {v}");
    v
}

async fn wait_until(s: &Session, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..400 {
        let (_, v) = s.get(path).await;
        if done(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, v) = s.get(path).await;
    panic!("{what} never came: {v}");
}

/// What must be the same whether or not the server was killed along the way.
fn essence(view: &Value, ledger: &Value) -> Value {
    let rounds: Vec<Value> = view["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut offers: Vec<Value> = r["offers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| json!([o["bidder_name"], o["status"], o["sheet"]["total_price_fen"]]))
                .collect();
            offers.sort_by_key(|o| o.to_string());
            json!({"final": r["final"], "status": r["status"], "offers": offers})
        })
        .collect();
    let result: Vec<Value> = view["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| json!([f["bidder_name"], f["price_fen"], f["basis"], f["rank"]]))
        .collect();
    let kinds: Vec<Value> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    json!({"rounds": rounds, "result": result, "ledger": kinds})
}

/// The supplier's offer at `price` in the open round; returns (offer id, kb).
async fn seal_offer(s: &Session, reg: &Registered, tender: &str, price: i64) -> (String, String) {
    seal_offer_with(s, reg, tender, price, "重启报价").await
}

/// As `seal_offer`, with `notes` as the sheet's notes and, many times over, the document.
async fn seal_offer_with(
    s: &Session,
    reg: &Registered,
    tender: &str,
    price: i64,
    notes: &str,
) -> (String, String) {
    let (status, slot) = s.get(&format!("/api/tenders/{tender}/rounds/slot")).await;
    assert_eq!(status, StatusCode::OK, "{slot}");
    let document = format!("报价说明 {notes} ").repeat(500).into_bytes();
    let container = seal_sheet(&slot, sheet(price, notes), &document, 1024);
    let id = slot["offer_id"].as_str().unwrap().to_string();
    let (status, v) = put_offer(s, &id, &container).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    (id, b64(&bidder_kb(&container, reg)))
}

async fn scenario(kill: bool) -> (Value, Vec<&'static str>) {
    let mut run = Run::start_args(kill, &["--round-min-secs", "1"]).await;
    let base = run.base();
    let mut users = Users(Default::default());
    for name in [
        "agency",
        "purchaser",
        "finance",
        "oversight",
        "supplier1",
        "supplier2",
        "supplier3",
    ] {
        users.0.insert(name.into(), login_at(&base, name).await);
    }
    let (agency, purchaser, finance) = (
        users.get("agency"),
        users.get("purchaser"),
        users.get("finance"),
    );
    let now = now_ms();
    let (status, t) = agency
        .post(
            "/api/tenders",
            json!({
                "title": "重启测试谈判项目", "region_code": "420200",
                "purchaser_org_id": purchaser.user["org"]["id"],
                "category": "services", "method": "competitive_negotiation", "description": "",
                "lots": [{"name": "第1包", "budget_fen": 120_000_000}],
                "clarify_deadline": now + 5_000, "bid_deadline": now + 15_000,
                "custodian_ids": [agency.user_id(), purchaser.user_id(), finance.user_id()],
                "custodian_threshold": 2,
                "evaluation": {"method": "lowest_evaluated_price", "sme_rate_bp": 1000}
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let tender = t["id"].as_str().unwrap().to_string();
    ok(agency, &format!("/api/tenders/{tender}/publish"), json!({})).await;
    let opening = format!("/api/tenders/{tender}/opening");
    let evaluation = format!("/api/tenders/{tender}/evaluation");
    let rounds = format!("/api/tenders/{tender}/rounds");

    // Three responses, opened and read out (the opening's own restarts are tested apart).
    let mut regs = Vec::new();
    let mut kbs = Vec::new();
    for (i, price) in [101_000_000_i64, 99_500_000, 103_250_000]
        .into_iter()
        .enumerate()
    {
        let s = users.get(&format!("supplier{}", i + 1));
        let reg = s.register_keys().await;
        let (status, start) = start_bid(s, &tender).await;
        assert_eq!(status, StatusCode::CREATED, "{start}");
        let container = seal_sheet(&start, sheet(price, "响应"), b"response", 1024);
        let bid = start["bid_id"].as_str().unwrap().to_string();
        let (status, v) = upload_all(s, &bid, &container, 1 << 20).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        kbs.push((bid, b64(&bidder_kb(&container, &reg))));
        regs.push(reg);
    }
    let finance = users.get("finance");
    wait_until(finance, &format!("/api/tenders/{tender}"), "sealing", |t| {
        t["status"] == "sealed"
    })
    .await;
    ok(users.get("agency"), &opening, json!({"type": "start"})).await;
    for (i, (bid, kb)) in kbs.iter().enumerate() {
        ok(
            users.get(&format!("supplier{}", i + 1)),
            &opening,
            json!({"type": "decrypt", "bid_id": bid, "kb": kb}),
        )
        .await;
    }
    for who in ["agency", "purchaser"] {
        let share = custodian_share(&base, run.dir.path(), &tender, who).await;
        ok(
            users.get(who),
            &opening,
            json!({"type": "share", "index": share.index, "value": hex::encode(share.value)}),
        )
        .await;
    }
    wait_until(finance, &opening, "the reading", |v| {
        v["phase"] == "confirming"
    })
    .await;
    for i in 1..=3 {
        ok(
            users.get(&format!("supplier{i}")),
            &opening,
            json!({"type": "confirm"}),
        )
        .await;
    }
    wait_until(
        finance,
        &format!("/api/tenders/{tender}"),
        "evaluating",
        |t| t["status"] == "evaluating",
    )
    .await;

    // The panel, seated; the responses qualified and reviewed.
    ok(
        users.get("agency"),
        &evaluation,
        json!({"type": "request_draw", "specialty": "environmental"}),
    )
    .await;
    ok(
        finance,
        &evaluation,
        json!({"type": "draw", "nonce": "重启"}),
    )
    .await;
    let (_, v) = finance.get(&evaluation).await;
    let experts: Vec<String> = v["panel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["username"].as_str().unwrap().to_string())
        .collect();
    for e in &experts {
        let s = login_at(&base, e).await;
        let reg = s.register_keys().await;
        let (_, me) = s.get(&evaluation).await;
        let payload = me["me"]["declaration"]["example_payload"]
            .as_str()
            .unwrap()
            .to_string();
        ok(
            &s,
            &evaluation,
            json!({"type": "accept", "declaration": {"key_id": reg.signing_key_id,
                   "signature": b64(&reg.keys.sign(payload.as_bytes()))}}),
        )
        .await;
        users.0.insert(e.clone(), s);
    }
    for (bid, _) in &kbs {
        ok(
            users.get("purchaser"),
            &evaluation,
            json!({"type": "qualify", "bid_id": bid, "pass": true}),
        )
        .await;
    }
    for e in &experts {
        for (bid, _) in &kbs {
            ok(
                users.get(e),
                &evaluation,
                json!({"type": "review", "bid_id": bid, "pass": true}),
            )
            .await;
        }
    }

    // Round 1: killed while open, two offers sealed.
    ok(users.get("agency"), &rounds, json!({"type": "begin"})).await;
    let closes = now_ms() + 12_000;
    ok(
        users.get(&experts[0]),
        &rounds,
        json!({"type": "open_round", "closes_at": closes}),
    )
    .await;
    // Supplier 1's offer carries a marker in its sheet and its document.
    let marker = format!("KAIBIAO-OFFER-MARKER-{}", uuid::Uuid::new_v4().simple());
    let mut keys1 = Vec::new();
    for (i, price) in [98_000_000_i64, 97_500_000].into_iter().enumerate() {
        let s = users.get(&format!("supplier{}", i + 1));
        let notes = if i == 0 {
            marker.as_str()
        } else {
            "重启报价"
        };
        keys1.push(seal_offer_with(s, &regs[i], &tender, price, notes).await);
    }
    if run.kill {
        // Killed with the round open: nothing of the offer in the database, the blobs or
        // the debug log (every request of the round so far logged in it).
        run.kill_now();
        no_marker_on_disk(run.dir.path(), &marker);
        if let Some(url) = &run.db {
            crate::bids::no_marker_in_postgres(url, &marker, "round_offers").await;
        }
        run.restart("round open, two offers sealed", &mut users)
            .await;
    }
    keys1.push(seal_offer(users.get("supplier3"), &regs[2], &tender, 99_900_000).await);
    let oversight = users.get("oversight");
    wait_until(oversight, &rounds, "round 1's close", |v| {
        v["rounds"][0]["status"] == "decrypting"
    })
    .await;
    run.crash("round closed", &mut users).await;
    for (i, (offer, kb)) in keys1.iter().enumerate() {
        ok(
            users.get(&format!("supplier{}", i + 1)),
            &rounds,
            json!({"type": "decrypt", "offer_id": offer, "kb": kb}),
        )
        .await;
        if i == 0 {
            run.crash("round closed, one key in", &mut users).await;
        }
    }
    wait_until(users.get("oversight"), &rounds, "round 1 read", |v| {
        v["rounds"][0]["status"] == "revealed"
    })
    .await;

    // Round 2, the final offers: supplier 2 sends none.
    let closes = now_ms() + 12_000;
    ok(
        users.get(&experts[0]),
        &rounds,
        json!({"type": "open_round", "closes_at": closes, "final": true}),
    )
    .await;
    let mut keys2 = Vec::new();
    for (i, price) in [(0usize, 96_000_000_i64), (2, 95_800_000)] {
        let s = users.get(&format!("supplier{}", i + 1));
        keys2.push((i, seal_offer(s, &regs[i], &tender, price).await));
    }
    run.crash("final round open", &mut users).await;
    wait_until(users.get("oversight"), &rounds, "round 2's close", |v| {
        v["rounds"][1]["status"] == "decrypting"
    })
    .await;
    for (i, (offer, kb)) in &keys2 {
        ok(
            users.get(&format!("supplier{}", i + 1)),
            &rounds,
            json!({"type": "decrypt", "offer_id": offer, "kb": kb}),
        )
        .await;
    }
    let view = wait_until(users.get("oversight"), &rounds, "the final offers", |v| {
        v["phase"] == "finished"
    })
    .await;
    run.crash("finished", &mut users).await;
    let (_, after) = users.get("oversight").get(&rounds).await;
    assert_eq!(after["result"], view["result"], "the final offers survive");
    let (_, ledger) = users
        .get("oversight")
        .get(&format!("/api/tenders/{tender}/ledger"))
        .await;
    (essence(&after, &ledger), run.kills)
}

/// No form of `marker` (as written, base64, hex) in any file under `dir`, which holds the
/// blobs, the server's log and (unless on PostgreSQL) the database; and the log did record
/// the offers' uploads.
fn no_marker_on_disk(dir: &std::path::Path, marker: &str) {
    let forms = [
        marker.as_bytes().to_vec(),
        b64(marker.as_bytes()).into_bytes(),
        hex::encode(marker.as_bytes()).into_bytes(),
    ];
    let mut scanned = 0;
    for f in crate::bids::files(dir) {
        let bytes = std::fs::read(&f).unwrap();
        for form in &forms {
            assert!(
                !crate::bids::contains(&bytes, form),
                "offer content found in {}",
                f.display()
            );
        }
        scanned += bytes.len();
    }
    let log = std::fs::read_to_string(dir.join("server-0.log")).unwrap();
    assert!(log.contains("/api/offers/"), "the log recorded the uploads");
    assert!(
        scanned > 100_000,
        "the database, blobs and log were scanned"
    );
}

#[tokio::test]
async fn sigkill_during_and_after_a_round_changes_nothing_in_the_rounds() {
    let ((calm, none), (killed, kills)) = tokio::join!(scenario(false), scenario(true));
    assert!(none.is_empty());
    assert_eq!(kills.len(), 5, "{kills:?}");
    assert_eq!(killed, calm, "same rounds with and without the kills");
    let read = calm["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| *k == "round_revealed")
        .count();
    assert_eq!(read, 2, "each round read once");
    // Two final offers of three suppliers: fewer than 74号 art 33's three, the procurement
    // ends (R-METH-2).
    let kinds = calm["ledger"].as_array().unwrap();
    assert_eq!(kinds.last().unwrap(), "evaluation_failed", "{calm}");
    let result = calm["result"].as_array().unwrap();
    let basis = |price: Value| -> Vec<&Value> {
        result
            .iter()
            .filter(|f| f[1] == price)
            .map(|f| &f[2])
            .collect()
    };
    assert_eq!(basis(json!(95_800_000)), [&json!("final_offer")], "{calm}");
    assert_eq!(basis(json!(96_000_000)), [&json!("final_offer")], "{calm}");
    assert_eq!(basis(Value::Null), [&json!("withdrawn")], "{calm}");
}
