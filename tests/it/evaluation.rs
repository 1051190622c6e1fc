//! The remote evaluation (评标) with real WebSocket clients: the finance supervisor's nonce
//! draws a panel of five, one expert declines and is replaced, the purchaser qualifies
//! three bids, five experts review and score them blind, an objective item disagrees and
//! is revised, an outlier is explained, an abnormally low price is clarified by its bidder
//! live, the report is signed by every expert with their own key and verifies with
//! `kaibiao verify`, and the purchaser confirms the winner. Every refusal is its own error
//! and changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::bids::{custodian_share, seal_documents, sheet, start_bid, upload_all};
use crate::common::{b64, code, spawn_app_at, spawn_app_at_with, Registered, Session, TestApp};
use crate::hub::{connect, next_where, send, Ws};
use kaibiao::clock::ManualClock;

pub const T0: i64 = 1_796_086_800_000;

/// The demo's opening tender (goods, 128万, 10 % small/micro deduction, 综合评分法).
pub async fn demo_opening_tender(app: &TestApp) -> Value {
    let (_, list) = app.login("agency").await.get("/api/tenders").await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"].as_str().unwrap_or("").contains("开标演示"))
        .expect("the demo's opening tender")
        .clone()
}

pub(crate) async fn opening_cmd(app: &TestApp, user: &str, tender: &str, cmd: Value) -> Value {
    let (status, v) = app
        .login(user)
        .await
        .post(&format!("/api/tenders/{tender}/opening"), cmd)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// Bids from supplier1.. with these prices on the demo opening tender, opened and read
/// out, every bidder confirming: the tender is `evaluating`. Returns (tender, bid ids).
pub async fn evaluating(
    app: &TestApp,
    clock: &ManualClock,
    prices: &[i64],
) -> (String, Vec<String>) {
    evaluating_with(app, clock, prices, b"proposal").await
}

/// As `evaluating`, each bid carrying `document` (sealed in 1 MiB segments and sent in
/// 8 MiB chunks when it is large).
pub async fn evaluating_with(
    app: &TestApp,
    clock: &ManualClock,
    prices: &[i64],
    document: &[u8],
) -> (String, Vec<String>) {
    let t = demo_opening_tender(app).await;
    let tender = t["id"].as_str().unwrap().to_string();
    let deadline = t["bid_deadline"].as_i64().unwrap();
    let bids = bid_and_open(app, clock, &tender, deadline, prices, document).await;
    (tender, bids)
}

/// Bids from supplier1.. with these prices on a published `tender`, sealed at its
/// `deadline`, opened and read out, every bidder confirming: the tender is `evaluating`.
/// Returns the bid ids.
pub async fn bid_and_open(
    app: &TestApp,
    clock: &ManualClock,
    tender: &str,
    deadline: i64,
    prices: &[i64],
    document: &[u8],
) -> Vec<String> {
    let documents = vec![document; prices.len()];
    bid_and_open_each(app, clock, tender, deadline, prices, &documents).await
}

/// As `bid_and_open`, bid i carrying `documents[i]`.
pub async fn bid_and_open_each(
    app: &TestApp,
    clock: &ManualClock,
    tender: &str,
    deadline: i64,
    prices: &[i64],
    documents: &[&[u8]],
) -> Vec<String> {
    let packages: Vec<Vec<(&str, &str, &[u8])>> = documents
        .iter()
        .map(|d| vec![("技术响应文件.txt", "text/plain", *d)])
        .collect();
    bid_and_open_packages(app, clock, tender, deadline, prices, &packages).await
}

/// As `bid_and_open_each`, each bid with its documents (name, media type, bytes).
pub async fn bid_and_open_packages(
    app: &TestApp,
    clock: &ManualClock,
    tender: &str,
    deadline: i64,
    prices: &[i64],
    packages: &[Vec<(&str, &str, &[u8])>],
) -> Vec<String> {
    let mut bids = Vec::new();
    for (i, (price, documents)) in prices.iter().zip(packages).enumerate() {
        let size: usize = documents.iter().map(|d| d.2.len()).sum();
        let (segment, chunk) = if size > 1 << 20 {
            (1 << 20, 8 << 20)
        } else {
            (1024, 4096)
        };
        let user = format!("supplier{}", i + 1);
        let s = app.login(&user).await;
        let reg = s.register_keys().await;
        let (status, start) = start_bid(&s, tender).await;
        assert_eq!(status, StatusCode::CREATED, "{start}");
        let container = seal_documents(&start, sheet(*price, &user), documents, segment);
        let bid = start["bid_id"].as_str().unwrap().to_string();
        let (status, v) = upload_all(&s, &bid, &container, chunk).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let kb = b64(&crate::bids::bidder_kb(&container, &reg));
        bids.push((user, bid, kb));
    }
    clock.set(deadline);
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    opening_cmd(app, "agency", tender, json!({"type": "start"})).await;
    open_and_confirm(app, tender, &bids).await;
    let (_, t) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}"))
        .await;
    assert_eq!(t["status"], "evaluating", "{t}");
    bids.into_iter().map(|(_, b, _)| b).collect()
}

/// The bidders decrypt (user, bid, kb), two custodians unseal, the bids are read out and
/// every bidder confirms: the opening closes.
pub(crate) async fn open_and_confirm(
    app: &TestApp,
    tender: &str,
    bids: &[(String, String, String)],
) {
    for (user, bid, kb) in bids {
        opening_cmd(
            app,
            user,
            tender,
            json!({"type": "decrypt", "bid_id": bid, "kb": kb}),
        )
        .await;
    }
    for who in ["agency", "purchaser"] {
        let share = custodian_share(&app.base, app.dir.path(), tender, who).await;
        opening_cmd(
            app,
            who,
            tender,
            json!({"type": "share", "index": share.index, "value": hex::encode(share.value)}),
        )
        .await;
    }
    for _ in 0..200 {
        let (_, v) = app
            .login("oversight")
            .await
            .get(&format!("/api/tenders/{tender}/opening"))
            .await;
        if v["phase"] == "confirming" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for (user, _, _) in bids {
        opening_cmd(app, user, tender, json!({"type": "confirm"})).await;
    }
}

/// Sends an evaluation command over the hub and returns the reply (`ack` or `error`).
pub async fn command(ws: &mut Ws, id: &str, tender: &str, cmd: Value) -> Value {
    send(
        ws,
        json!({"type": "command", "id": id, "room": format!("evaluation:{tender}"), "command": cmd}),
    )
    .await;
    next_where(ws, |v| v["id"] == id).await
}

pub fn ack(reply: &Value) -> &Value {
    assert_eq!(reply["type"], "ack", "{reply}");
    &reply["result"]
}

fn error_code(reply: &Value) -> &str {
    assert_eq!(reply["type"], "error", "{reply}");
    reply["code"].as_str().unwrap()
}

async fn subscribe(ws: &mut Ws, room: &str) -> Value {
    send(
        ws,
        json!({"type": "subscribe", "room": room, "since_seq": 0}),
    )
    .await;
    next_where(ws, |v| v["type"] == "subscribed" || v["type"] == "error").await
}

/// The scores the node's writer has taken and the batches it took them in, as `/metrics`
/// shows them.
fn score_batches(app: &TestApp) -> (f64, f64) {
    let figure = |name| {
        app.metric(name)
            .unwrap_or_else(|| panic!("no {name} on /metrics"))
    };
    (
        figure("score_batch_size_sum"),
        figure("score_batch_size_count"),
    )
}

async fn event(ws: &mut Ws, kind: &str) -> Value {
    next_where(ws, |v| v["type"] == "event" && v["event"]["kind"] == kind).await["event"].clone()
}

/// The expert behind a pseudonym of the tender's draw record (the test reads the key the
/// server keeps; the public learns it only at the award).
pub async fn real_expert(app: &TestApp, tender: &str, name: &str) -> String {
    let names = pseudonyms(app, tender).await;
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM experts")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    ids.into_iter()
        .find(|id| names.expert(id) == name)
        .unwrap_or_else(|| panic!("no expert behind {name}"))
}

pub async fn pseudonyms(
    app: &TestApp,
    tender: &str,
) -> kaibiao::evaluation::pseudonyms::Pseudonyms {
    let key: Option<String> =
        sqlx::query_scalar("SELECT pseudonym_key FROM evaluations WHERE tender_id = $1")
            .bind(tender)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert!(key.is_some(), "every new evaluation has a pseudonym key");
    kaibiao::evaluation::pseudonyms::Pseudonyms::from_stored(key.as_deref())
}

/// An invited expert's `accept` command: the declaration of no conflict (回避承诺) as the
/// view gives it, signed with `reg`'s signing key.
pub async fn accept_with(app: &TestApp, user: &str, tender: &str, reg: &Registered) -> Value {
    let v = view(app, user, tender).await;
    let payload = v["me"]["declaration"]["example_payload"]
        .as_str()
        .unwrap_or_else(|| panic!("{user} has no declaration to sign: {}", v["me"]))
        .to_string();
    json!({"type": "accept", "declaration": {
        "key_id": reg.signing_key_id,
        "signature": b64(&reg.keys.sign(payload.as_bytes())),
    }})
}

/// As `accept_with`, with signing keys registered for the expert now.
pub async fn accept(app: &TestApp, user: &str, tender: &str) -> Value {
    let reg = app.login(user).await.register_keys().await;
    accept_with(app, user, tender, &reg).await
}

/// The user name of an expert id.
pub async fn expert_user(app: &TestApp, expert_id: &str) -> String {
    sqlx::query_scalar(
        "SELECT u.username FROM experts e JOIN users u ON u.id = e.user_id WHERE e.id = $1",
    )
    .bind(expert_id)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap()
}

async fn view(app: &TestApp, user: &str, tender: &str) -> Value {
    let (status, v) = app
        .login(user)
        .await
        .get(&format!("/api/tenders/{tender}/evaluation"))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// The tender's ledger as anyone downloads it.
pub async fn ledger_of(app: &TestApp, tender: &str) -> Value {
    let (status, v) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/tenders/{tender}/ledger"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// How many events the tender's public ledger holds (a refusal adds none).
pub async fn events_in(app: &TestApp, tender: &str) -> usize {
    ledger_of(app, tender).await["events"]
        .as_array()
        .unwrap()
        .len()
}

/// R-OPEN-4 as the hall shows it: bids are read out one after another with a pause
/// between two (`--reading-interval-ms`), each seen by all before the next, in the order
/// of receipt. A supervisor's hub connection times the read-out events as they arrive.
#[tokio::test]
async fn r_open_4_bids_are_read_out_one_after_another() {
    let (app, clock) = spawn_app_at_with(T0, |c| c.opening.reading_interval_ms = 1000).await;
    let tender = demo_opening_tender(&app).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut watcher = connect(&app, "oversight").await;
    assert_eq!(
        subscribe(&mut watcher, &format!("opening:{tender}")).await["type"],
        "subscribed"
    );
    let arrivals = tokio::spawn(async move {
        let mut seen = Vec::new();
        while seen.len() < 3 {
            let e = next_where(&mut watcher, |v| {
                v["type"] == "event" && v["event"]["kind"] == "bid_read_out"
            })
            .await;
            seen.push((
                std::time::Instant::now(),
                e["event"]["body"]["bid_id"].as_str().unwrap().to_string(),
            ));
        }
        seen
    });
    let (_, bids) = evaluating(&app, &clock, &[100_000_000, 105_000_000, 95_000_000]).await;
    let seen = tokio::time::timeout(std::time::Duration::from_secs(30), arrivals)
        .await
        .expect("three read-outs")
        .unwrap();
    // The sleep between two never ends early: each gap is near the pause (half of it
    // leaves room for delivery jitter on a busy machine; unpaced, they come milliseconds
    // apart).
    for pair in seen.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(
            gap >= std::time::Duration::from_millis(500),
            "read out {gap:?} apart"
        );
    }
    let order: Vec<&String> = seen.iter().map(|(_, b)| b).collect();
    assert_eq!(
        order,
        bids.iter().collect::<Vec<_>>(),
        "in the order of receipt"
    );
}

/// 唱标顺序 by draw: a tender states it at creation; at the start the order is drawn from the
/// seal's hash, the bids are read out in it, and anyone replays it from the public ledger.
#[tokio::test]
async fn the_reading_out_order_is_drawn_from_the_seal_and_anyone_replays_it() {
    let (app, clock) = spawn_app_at(T0).await;
    // Stated at creation, shown to members and in the documents; an unknown order refused.
    let agency = app.login("agency").await;
    let mut body = app.tender_body("黄石市档案馆密集架采购", T0).await;
    body["reading_order"] = json!("draw");
    let (status, t) = agency.post("/api/tenders", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    assert_eq!(t["reading_order"], "draw");
    body["reading_order"] = json!("alphabetical");
    let (status, _) = agency.post("/api/tenders", body).await;
    assert!(status.is_client_error(), "{status}");

    let t = demo_opening_tender(&app).await;
    let tender = t["id"].as_str().unwrap().to_string();
    let (_, detail) = agency.get(&format!("/api/tenders/{tender}")).await;
    assert_eq!(
        detail["reading_order"], "receipt",
        "the demo reads by receipt"
    );
    // The demo tender is published; its stated order is set here as creation would.
    sqlx::query("UPDATE tenders SET reading_order = 'draw' WHERE id = $1")
        .bind(&tender)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let packages: Vec<Vec<(&str, &str, &[u8])>> = (0..5)
        .map(|_| vec![("方案.txt", "text/plain", b"proposal".as_slice())])
        .collect();
    let prices = [
        100_000_000,
        101_000_000,
        102_000_000,
        103_000_000,
        104_000_000,
    ];
    let bids = bid_and_open_packages(
        &app,
        &clock,
        &tender,
        t["bid_deadline"].as_i64().unwrap(),
        &prices,
        &packages,
    )
    .await;
    let ledger = ledger_of(&app, &tender).await;
    let events = ledger["events"].as_array().unwrap();
    let of = |kind: &str| events.iter().find(|e| e["kind"] == kind).unwrap();
    let sealed = &of("bids_sealed")["body"]["bids"];
    let receipt: Vec<String> = sealed
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bid_id"].as_str().unwrap().to_string())
        .collect();
    let mut by_receipt = receipt.clone();
    by_receipt.sort();
    let mut ours = bids.clone();
    ours.sort();
    assert_eq!(by_receipt, ours, "the sealed list holds the five bids");
    let lots: Vec<i64> = sealed
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["lot_no"].as_i64().unwrap())
        .collect();
    let started = of("opening_started");
    assert_eq!(started["body"]["reading_order"], "draw");
    // Drawn from the seal's hash, fixed at the deadline, which the chain itself names.
    let head = started["body"]["drawn_from"].as_str().unwrap();
    assert_eq!(head, of("bids_sealed")["hash"].as_str().unwrap());
    let replayed: Vec<String> = kaibiao::opening::rules::drawn_order(&lots, head)
        .unwrap()
        .into_iter()
        .map(|i| receipt[i].clone())
        .collect();
    assert_eq!(started["body"]["bids"], json!(replayed));
    let read: Vec<String> = events
        .iter()
        .filter(|e| e["kind"] == "bid_read_out")
        .map(|e| e["body"]["bid_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(read, replayed, "read out in the drawn order");
    // The hall lists them in it and says how the order was made.
    let (_, hall) = app
        .login("oversight")
        .await
        .get(&format!("/api/tenders/{tender}/opening"))
        .await;
    assert_eq!(hall["reading_order"], "draw");
    let listed: Vec<String> = hall["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bid_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, replayed);
}

async fn ledger_len(app: &TestApp) -> i64 {
    app.rows("ledger_events").await
}

const TECH: &str = "技术方案";
const SERVICE: &str = "售后服务";
const RECORD: &str = "类似业绩";

fn items(tech: &str, service: &str, record: &str) -> Value {
    json!({ TECH: tech, SERVICE: service, RECORD: record })
}

#[tokio::test]
async fn five_experts_review_and_score_three_bids_with_a_clarification_and_sign_a_verified_report()
{
    let (app, clock) = spawn_app_at(T0).await;
    // Bid 3 is abnormally low (R-EVAL-8): 700,000 against a mean of 1,025,000 for the others.
    let (tender, bid_ids) = evaluating(&app, &clock, &[100_000_000, 105_000_000, 70_000_000]).await;
    let room = format!("evaluation:{tender}");

    let mut host = connect(&app, "agency").await;
    let mut finance = connect(&app, "finance").await;
    let mut oversight = connect(&app, "oversight").await;
    let mut purchaser = connect(&app, "purchaser").await;
    let mut bidder3 = connect(&app, "supplier3").await;
    for ws in [&mut host, &mut finance, &mut oversight, &mut purchaser] {
        assert_eq!(subscribe(ws, &room).await["type"], "subscribed");
    }
    // Everything the agency and the purchaser receive until the award, kept to look for
    // experts' names in (R-EVAL-2).
    let mut watchers = Vec::new();
    for who in ["agency", "purchaser"] {
        let mut ws = connect(&app, who).await;
        assert_eq!(subscribe(&mut ws, &room).await["type"], "subscribed");
        watchers.push(crate::secrecy::record_frames(ws));
    }
    // A bidder is no member of the room; it hears of clarifications in its opening room.
    assert_eq!(subscribe(&mut bidder3, &room).await["code"], "FORBIDDEN");
    assert_eq!(
        subscribe(&mut bidder3, &format!("opening:{tender}")).await["type"],
        "subscribed"
    );

    // The agency asks for a panel; only finance may draw it.
    let before = ledger_len(&app).await;
    let r = command(
        &mut finance,
        "rq0",
        &tender,
        json!({"type": "request_draw", "specialty": "environmental"}),
    )
    .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    assert_eq!(ledger_len(&app).await, before);
    let r = command(
        &mut host,
        "rq",
        &tender,
        json!({"type": "request_draw", "specialty": "environmental"}),
    )
    .await;
    assert_eq!(ack(&r)["committee_size"], 5, "R-EVAL-1: 5 below 1000万");
    let r = command(
        &mut host,
        "draw0",
        &tender,
        json!({"type": "draw", "nonce": "x"}),
    )
    .await;
    assert_eq!(
        error_code(&r),
        "FORBIDDEN",
        "the agency cannot seed its own draw"
    );
    let r = command(
        &mut finance,
        "draw",
        &tender,
        json!({"type": "draw", "nonce": "财政监督 2026-11-27 第一次抽取"}),
    )
    .await;
    assert_eq!(ack(&r)["panel"], 5);
    let drawn = event(&mut oversight, "experts_drawn").await;
    let record = &drawn["body"];
    // The expert tied to a bidder (supplier6 did not bid here, so no one is tied to a
    // bidder of this opening) and the draw's exclusions are listed.
    let drawn_names: Vec<String> = record["panel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(drawn_names.len(), 5);
    // R-EVAL-2: the public record names experts and organisations by this evaluation's
    // pseudonyms, never an id that would follow an expert to another tender.
    let every_id: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM experts UNION SELECT id FROM organisations UNION SELECT id FROM users",
    )
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
    let public = record.to_string();
    for id in &every_id {
        assert!(!public.contains(id.as_str()), "{id} in the draw record");
    }
    let requested = ledger_of(&app, &tender).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "evaluation_requested")
        .unwrap()["body"]["pseudonym_key_sha256"]
        .clone();
    assert_eq!(
        requested.as_str().map(str::len),
        Some(64),
        "the key is committed before the draw"
    );
    let mut panel_ids = Vec::new();
    for n in &drawn_names {
        panel_ids.push(real_expert(&app, &tender, n).await);
    }

    // Names stay hidden: the host sees seats, not names.
    let v = view(&app, "agency", &tender).await;
    assert!(v["panel"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["name"].is_null()));
    let v = view(&app, "oversight", &tender).await;
    assert!(v["panel"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["name"].is_string()));

    // An expert who was not drawn: not on the panel, for the room and for commands.
    let all_experts: Vec<String> = sqlx::query_scalar("SELECT id FROM experts ORDER BY id")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    let outsider_id = all_experts
        .iter()
        .find(|id| !panel_ids.contains(id))
        .unwrap();
    let mut outsider = connect(&app, &expert_user(&app, outsider_id).await).await;
    assert_eq!(
        subscribe(&mut outsider, &room).await["code"],
        "NOT_ON_PANEL"
    );
    let before = ledger_len(&app).await;
    let r = command(&mut outsider, "o1", &tender, json!({"type": "accept"})).await;
    assert_eq!(error_code(&r), "NOT_ON_PANEL");
    assert_eq!(ledger_len(&app).await, before);

    // The first drawn expert declines: the next of the same order is invited (R-EVAL-2).
    let first = expert_user(&app, &panel_ids[0]).await;
    let mut ws = connect(&app, &first).await;
    let r = command(
        &mut ws,
        "dec",
        &tender,
        json!({"type": "decline", "reason": "与评审时间冲突 / schedule conflict"}),
    )
    .await;
    assert_eq!(ack(&r)["topped_up"], 1);
    let topped = event(&mut oversight, "experts_drawn").await;
    assert_eq!(topped["body"]["declined"], json!([drawn_names[0]]));
    let mut seated = Vec::new();
    for v in topped["body"]["panel"].as_array().unwrap() {
        seated.push(real_expert(&app, &tender, v.as_str().unwrap()).await);
    }
    assert!(!seated.contains(&panel_ids[0]));
    let r = command(
        &mut ws,
        "dec2",
        &tender,
        json!({"type": "decline", "reason": "再次"}),
    )
    .await;
    assert_eq!(error_code(&r), "ALREADY_RESPONDED");

    let mut experts: Vec<(String, Ws, Registered)> = Vec::new();
    for id in &seated {
        let user = expert_user(&app, id).await;
        let mut ws = connect(&app, &user).await;
        assert_eq!(subscribe(&mut ws, &room).await["type"], "subscribed");
        let reg = app.login(&user).await.register_keys().await;
        experts.push((user, ws, reg));
    }
    // 回避承诺: a seat is taken only with the signed declaration of no conflict; a bare
    // accept, or one signed over other bytes, is refused and changes nothing.
    let (user0, ws0, reg0) = &mut experts[0];
    let before = ledger_len(&app).await;
    let r = command(ws0, "bare", &tender, json!({"type": "accept"})).await;
    assert_eq!(error_code(&r), "DECLARATION_REQUIRED");
    let forged = json!({"type": "accept", "declaration": {
        "key_id": reg0.signing_key_id, "signature": b64(&reg0.keys.sign(b"something else")) }});
    let r = command(ws0, "forged", &tender, forged).await;
    assert_eq!(error_code(&r), "SIGNATURE_INVALID");
    assert_eq!(ledger_len(&app).await, before);
    let statement = view(&app, user0, &tender).await["me"]["declaration"]["statement"].clone();
    assert!(statement.as_str().unwrap().contains("回避"), "{statement}");
    for (i, (user, ws, reg)) in experts.iter_mut().enumerate() {
        let cmd = accept_with(&app, user, &tender, reg).await;
        ack(&command(ws, &format!("acc{i}"), &tender, cmd).await);
    }
    let accepted = ledger_of(&app, &tender).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "expert_accepted" && e["body"]["declaration_sha256"].is_string())
        .count();
    assert_eq!(
        accepted, 5,
        "every acceptance records its signed declaration"
    );
    event(&mut oversight, "panel_seated").await;
    // Scoring before the reviews: refused.
    let r = command(
        &mut experts[0].1,
        "early",
        &tender,
        json!({"type": "score", "bid_id": bid_ids[0], "items": items("80", "80", "100")}),
    )
    .await;
    assert_eq!(error_code(&r), "ILLEGAL_TRANSITION");

    // 资格审查 by the purchaser: all three pass.
    for (i, bid) in bid_ids.iter().enumerate() {
        ack(&command(
            &mut purchaser,
            &format!("q{i}"),
            &tender,
            json!({"type": "qualify", "bid_id": bid, "pass": true}),
        )
        .await);
    }
    event(&mut oversight, "qualification_done").await;

    // Scoring during the compliance review: refused (the review has not ended).
    let r = command(
        &mut experts[0].1,
        "early2",
        &tender,
        json!({"type": "score", "bid_id": bid_ids[0], "items": items("80", "80", "100")}),
    )
    .await;
    assert_eq!(error_code(&r), "ILLEGAL_TRANSITION");
    // 符合性审查 by the tender's checklist (符合性审查表): a failure names the criteria not
    // met, each with its reason, and gives a verdict on every criterion; the verdict
    // follows the checklist.
    let all_met = |except: &[(&str, &str)]| {
        let mut checks = serde_json::Map::new();
        for c in ["投标有效期", "实质性条款", "报价", "交货期"] {
            let failed = except.iter().find(|(n, _)| *n == c);
            checks.insert(
                c.into(),
                match failed {
                    Some((_, why)) => json!({"pass": false, "reason": why}),
                    None => json!({"pass": true}),
                },
            );
        }
        Value::Object(checks)
    };
    for (id, cmd, code) in [
        (
            "rf",
            json!({"type": "review", "bid_id": bid_ids[0], "pass": false, "reason": "不符合"}),
            "CHECKLIST_INCOMPLETE",
        ),
        (
            "rf2",
            json!({"type": "review", "bid_id": bid_ids[0], "pass": false,
                   "checks": {"交货期": {"pass": false, "reason": "60 天"}}}),
            "CHECKLIST_INCOMPLETE",
        ),
        (
            "rf3",
            json!({"type": "review", "bid_id": bid_ids[0], "pass": false,
                   "checks": all_met(&[("交货期", " ")])}),
            "VALIDATION",
        ),
        (
            "rf4",
            json!({"type": "review", "bid_id": bid_ids[0], "pass": true,
                   "checks": all_met(&[("交货期", "60 天")])}),
            "CHECKLIST_MISMATCH",
        ),
        (
            "rf5",
            json!({"type": "review", "bid_id": bid_ids[0], "pass": true,
                   "checks": {"品牌": {"pass": true}}}),
            "UNKNOWN_CRITERION",
        ),
    ] {
        let r = command(&mut experts[0].1, id, &tender, cmd).await;
        assert_eq!(error_code(&r), code, "{id}: {r}");
    }
    // Three of the five fail the first bid, but on different criteria: 交货期 by two,
    // 报价 by one. Each criterion passes by a majority, so the bid is compliant (a verdict
    // per bid would have failed it three to two).
    let expert0 = experts[0].0.clone();
    let failing = [
        (0, "交货期", "交货期 60 天，超过要求的 30 天"),
        (1, "报价", "大小写金额不一致"),
        (2, "交货期", "未写明交货期"),
    ];
    for (i, (_, ws, _)) in experts.iter_mut().enumerate() {
        for (j, bid) in bid_ids.iter().enumerate() {
            let cmd = match failing.iter().find(|(e, _, _)| *e == i && j == 0) {
                Some((_, c, why)) => json!({"type": "review", "bid_id": bid, "pass": false,
                                            "checks": all_met(&[(c, why)])}),
                None => json!({"type": "review", "bid_id": bid, "pass": true}),
            };
            ack(&command(ws, &format!("r{i}{j}"), &tender, cmd).await);
        }
        if i == 2 {
            // Before the last reviews: the room shows the verdicts so far per criterion,
            // and each expert its own with the reasons.
            let v0 = view(&app, &expert0, &tender).await;
            let b0 = v0["bids"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["bid_id"] == json!(bid_ids[0]))
                .unwrap();
            let criteria: Vec<(String, u64, u64)> = b0["reviews"]["criteria"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap().to_string(),
                        c["pass"].as_u64().unwrap(),
                        c["fail"].as_u64().unwrap(),
                    )
                })
                .collect();
            assert_eq!(
                criteria,
                vec![
                    ("投标有效期".into(), 3, 0),
                    ("实质性条款".into(), 3, 0),
                    ("报价".into(), 2, 1),
                    ("交货期".into(), 1, 2),
                ]
            );
            assert_eq!(
                b0["reviews"]["my_checks"]["交货期"],
                json!({"pass": false, "reason": "交货期 60 天，超过要求的 30 天"})
            );
            assert_eq!(
                b0["reviews"]["mine"]["reason"],
                "交货期：交货期 60 天，超过要求的 30 天"
            );
        }
    }
    let done = event(&mut oversight, "compliance_done").await;
    assert!(
        done["body"]["passed"]
            .as_array()
            .unwrap()
            .contains(&json!(bid_ids[0])),
        "the majority per criterion passes the first bid: {done}"
    );
    assert_eq!(
        done["body"]["abnormally_low"],
        json!([bid_ids[2]]),
        "R-EVAL-8"
    );

    // A seated expert reads the signed opening record of the tender it evaluates; an
    // expert not drawn does not. Experts are offered no tenders to bid on.
    let (status, record) = app
        .login(&experts[0].0)
        .await
        .get(&format!("/api/tenders/{tender}/opening/record"))
        .await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["record"]["bids"].as_array().unwrap().len(), 3);
    let (status, v) = app
        .login(&expert_user(&app, outsider_id).await)
        .await
        .get(&format!("/api/tenders/{tender}/opening/record"))
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("NOT_ON_PANEL"))
    );
    let (_, dash) = app.login(&experts[0].0).await.get("/api/dashboard").await;
    assert!(dash["counts"].get("open_tenders").is_none(), "{dash}");

    // Each evaluated price with its derivation: supplier1 is small (10 % deduction).
    let v = view(&app, &experts[0].0, &tender).await;
    assert_eq!(v["phase"], "scoring");
    let b3 = &v["bids"][2];
    let note = &b3["abnormally_low"]["note"];
    assert_eq!(
        (&note["code"], &note["key"]),
        (&json!("R-EVAL-8"), &json!("abnormally_low")),
        "{note}"
    );

    // The bid documents, opened at the reading-out, are there for the panel to read in
    // the room (the file itself is not downloaded by an expert).
    let doc = &v["bids"][0]["documents"][0];
    assert_eq!(doc["name"], "技术响应文件.txt");
    let r = app
        .login(&experts[0].0)
        .await
        .client
        .get(app.url(&format!(
            "/api/tenders/{tender}/evaluation/documents/{}/pages/1",
            doc["sha256"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    assert_eq!(r.text().await.unwrap(), "proposal");
    let (status, r) = app
        .login(&expert_user(&app, outsider_id).await)
        .await
        .get(&format!(
            "/api/tenders/{tender}/evaluation/documents/{}",
            doc["sha256"].as_str().unwrap()
        ))
        .await;
    assert_eq!((status, code(&r)), (StatusCode::FORBIDDEN, "NOT_ON_PANEL"));

    // Blind scoring: others' scores are sealed until one's own are in.
    let e0 = app.login(&experts[0].0).await;
    let (status, r) = e0
        .get(&format!(
            "/api/tenders/{tender}/evaluation/scores?bid_id={}",
            bid_ids[0]
        ))
        .await;
    assert_eq!((status, code(&r)), (StatusCode::FORBIDDEN, "SCORES_SEALED"));
    let before = ledger_len(&app).await;
    let r = command(
        &mut experts[0].1,
        "max",
        &tender,
        json!({"type": "score", "bid_id": bid_ids[0], "items": items("100.01", "80", "100")}),
    )
    .await;
    assert_eq!(
        error_code(&r),
        "SCORE_OUT_OF_RANGE",
        "above the item maximum"
    );
    let r = command(
        &mut experts[0].1,
        "miss",
        &tender,
        json!({"type": "score", "bid_id": bid_ids[0], "items": {TECH: "80"}}),
    )
    .await;
    assert_eq!(error_code(&r), "MISSING_ITEM");
    assert_eq!(ledger_len(&app).await, before);

    // The clarification round-trip: the host asks bidder 3 about its low price; the
    // question reaches the bidder live, the answer returns to the room.
    let r = command(
        &mut host,
        "clar",
        &tender,
        json!({"type": "clarify", "bid_id": bid_ids[2],
               "question": "贵司报价明显低于其他投标人,请书面说明成本构成。"}),
    )
    .await;
    let clar_id = ack(&r)["clarification_id"].as_str().unwrap().to_string();
    let e = event(&mut bidder3, "clarification_requested").await;
    assert_eq!(e["body"]["clarification_id"], clar_id.as_str());
    assert!(
        e["body"].get("question").is_none(),
        "no text in the public ledger"
    );
    let s3 = app.login("supplier3").await;
    let (_, mine) = s3
        .get(&format!("/api/tenders/{tender}/clarifications"))
        .await;
    assert_eq!(
        mine["clarifications"][0]["question"],
        "贵司报价明显低于其他投标人,请书面说明成本构成。"
    );
    let (_, other) = app
        .login("supplier1")
        .await
        .get(&format!("/api/tenders/{tender}/clarifications"))
        .await;
    assert_eq!(
        other["clarifications"],
        json!([]),
        "another bidder sees none"
    );
    let (status, r) = app
        .login("supplier1")
        .await
        .post(
            &format!("/api/tenders/{tender}/evaluation"),
            json!({"type": "answer_clarification", "clarification_id": clar_id, "text": "x"}),
        )
        .await;
    assert_eq!((status, code(&r)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let (status, r) = s3
        .post(
            &format!("/api/tenders/{tender}/evaluation"),
            json!({"type": "answer_clarification", "clarification_id": clar_id,
                   "text": "我司自有生产线,原材料长期协议价,详见附件成本分析。"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let e = event(&mut host, "clarification_answered").await;
    assert_eq!(e["body"]["clarification_id"], clar_id.as_str());
    let v = view(&app, &experts[2].0, &tender).await;
    assert_eq!(
        v["bids"][2]["clarifications"][0]["answer"],
        "我司自有生产线,原材料长期协议价,详见附件成本分析。"
    );

    // Scores. Expert 5 marks bid 1's proposal far below the others (an outlier needing a
    // reason); expert 4 gives a different objective score on bid 2 (must be revised).
    let sheet = |i: usize, j: usize| -> Value {
        match (i, j) {
            (4, 0) => items("40", "80", "100"),
            (3, 1) => items("85", "75", "90"),
            (_, 0) => items("80", "80", "100"),
            (_, 1) => items("85", "75", "100"),
            _ => items("70", "70", "80"),
        }
    };
    // All at once, as a panel does: every expert sends every sheet without waiting, the
    // first a second sheet for bid 1 and the second a sheet naming an item the tender
    // does not have. The scores are written together (group commit); each expert is
    // answered for each sheet on its own.
    let (sheets_before, batches_before) = score_batches(&app);
    let frame = |id: String, cmd: Value| json!({"type": "command", "id": id, "room": format!("evaluation:{tender}"), "command": cmd});
    for (i, (_, ws, _)) in experts.iter_mut().enumerate() {
        for (j, bid) in bid_ids.iter().enumerate() {
            let cmd = json!({"type": "score", "bid_id": bid, "items": sheet(i, j)});
            send(ws, frame(format!("s{i}{j}"), cmd)).await;
        }
    }
    let again = json!({"type": "score", "bid_id": bid_ids[0], "items": items("81", "80", "100")});
    send(&mut experts[0].1, frame("again".into(), again)).await;
    let mut odd = items("85", "75", "100");
    odd["颜色"] = json!("50");
    let odd = json!({"type": "score", "bid_id": bid_ids[2], "items": odd});
    send(&mut experts[1].1, frame("odd".into(), odd)).await;
    let mut digests = BTreeSet::new();
    for (i, (_, ws, _)) in experts.iter_mut().enumerate() {
        for (j, bid) in bid_ids.iter().enumerate() {
            let id = format!("s{i}{j}");
            let r = next_where(ws, |v| v["id"] == id.as_str()).await;
            assert_eq!(ack(&r)["bid_id"], bid.as_str(), "{r}");
            digests.insert(ack(&r)["sha256"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(digests.len(), 5 * bid_ids.len(), "one sheet, one digest");
    let r = next_where(&mut experts[0].1, |v| v["id"] == "again").await;
    assert_eq!(error_code(&r), "ALREADY_SCORED");
    let r = next_where(&mut experts[1].1, |v| v["id"] == "odd").await;
    assert_eq!(error_code(&r), "UNKNOWN_ITEM");
    let submitted = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM ledger_events WHERE tender_id = $1 AND kind = 'scores_submitted'",
    )
    .bind(&tender)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    assert_eq!(submitted, 15, "one event per sheet, none for the refused");
    // Operators see the writer's batches on /metrics: the 17 sheets, in one or more.
    let (sheets, batches) = score_batches(&app);
    assert_eq!(sheets - sheets_before, 17.0);
    assert!((1.0..=17.0).contains(&(batches - batches_before)));
    // Oversight watching live gets every event once, in ledger order, the burst's scores
    // among them.
    let (mut seen, mut scores) = (None::<i64>, 0);
    while scores < 15 {
        let v = next_where(&mut oversight, |v| v["type"] == "event").await;
        let seq = v["event"]["seq"].as_i64().unwrap();
        if let Some(last) = seen {
            assert_eq!(seq, last + 1, "no event missed or repeated: {v}");
        }
        seen = Some(seq);
        scores += usize::from(v["event"]["kind"] == "scores_submitted");
    }
    // Through the same writer, over HTTP: an expert not drawn and a bidder are refused for
    // who they are, before anything about the scoring.
    let sheet0 = json!({"type": "score", "bid_id": bid_ids[0], "items": items("80", "80", "100")});
    let (status, r) = app
        .login(&expert_user(&app, outsider_id).await)
        .await
        .post(&format!("/api/tenders/{tender}/evaluation"), sheet0.clone())
        .await;
    assert_eq!((status, code(&r)), (StatusCode::FORBIDDEN, "NOT_ON_PANEL"));
    let (status, r) = app
        .login("supplier1")
        .await
        .post(&format!("/api/tenders/{tender}/evaluation"), sheet0)
        .await;
    assert_eq!((status, code(&r)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    // Now that expert 1 has scored bid 1, the panel's scores for it are open to them.
    let (status, r) = e0
        .get(&format!(
            "/api/tenders/{tender}/evaluation/scores?bid_id={}",
            bid_ids[0]
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["scores"].as_array().unwrap().len(), 5);

    // The flags: finish is refused while they stand.
    let v = view(&app, &experts[4].0, &tender).await;
    let flags = v["bids"][0]["flags"].as_array().unwrap();
    assert!(flags
        .iter()
        .any(|f| f["kind"] == "outlier" && f["mine"] == true && f["item"] == TECH));
    let v2 = &v["bids"][1]["flags"];
    assert!(v2
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["kind"] == "objective_mismatch"));
    // The chair finishes the scoring: without one, nobody does. The panel chooses the
    // first expert (three votes of five).
    let r = command(
        &mut host,
        "fin00",
        &tender,
        json!({"type": "finish_scoring"}),
    )
    .await;
    assert_eq!(error_code(&r), "CHAIR_REQUIRED");
    let seat0 = view(&app, &experts[0].0, &tender).await["me"]["seat"].clone();
    for (i, (_, ws, _)) in experts.iter_mut().take(3).enumerate() {
        let r = command(
            ws,
            &format!("chair{i}"),
            &tender,
            json!({"type": "elect_chair", "seat": seat0}),
        )
        .await;
        assert_eq!(ack(&r)["chosen"], i == 2, "{r}");
    }
    let r = command(
        &mut experts[0].1,
        "fin0",
        &tender,
        json!({"type": "finish_scoring"}),
    )
    .await;
    assert_eq!(error_code(&r), "SCORING_INCOMPLETE");
    let r = command(
        &mut experts[0].1,
        "expl0",
        &tender,
        json!({"type": "explain", "bid_id": bid_ids[0], "item": TECH, "reason": "x"}),
    )
    .await;
    assert_eq!(error_code(&r), "NOT_AN_OUTLIER");
    ack(&command(
        &mut experts[4].1,
        "expl",
        &tender,
        json!({"type": "explain", "bid_id": bid_ids[0], "item": TECH,
               "reason": "方案未响应第 3.2 条分类投放点防雨要求,扣分较多"}),
    )
    .await);
    let r = command(
        &mut experts[3].1,
        "rev",
        &tender,
        json!({"type": "revise", "bid_id": bid_ids[1], "item": RECORD, "score": "100",
               "kind": "objective_mismatch", "reason": "漏计一项同类业绩合同"}),
    )
    .await;
    assert_eq!(ack(&r)["from"], "90.00");
    let r = command(
        &mut experts[0].1,
        "fin",
        &tender,
        json!({"type": "finish_scoring"}),
    )
    .await;
    let sha = ack(&r)["report_sha256"].as_str().unwrap().to_string();
    // A sheet sent once the scoring is finished is refused for the phase: the writer that
    // kept the tender since the burst sees that the finish changed it.
    let late = json!({"type": "score", "bid_id": bid_ids[2], "items": items("71", "70", "80")});
    let r = command(&mut experts[2].1, "late", &tender, late).await;
    assert_eq!(error_code(&r), "ILLEGAL_TRANSITION", "{r}");

    // The report: prices, scores and ranking with their derivation.
    let v = view(&app, "oversight", &tender).await;
    assert_eq!(v["phase"], "signing");
    let lot = &v["result"][0];
    let ranking = lot["result"]["ranking"].as_array().unwrap();
    assert_eq!(ranking.len(), 3);
    assert_eq!(ranking[0]["rank"], 1);
    let by_bid: BTreeMap<&str, &Value> = lot["result"]["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["bidder"].as_str().unwrap(), b))
        .collect();
    let b1 = by_bid[bid_ids[0].as_str()];
    // Bid 1's proposal: the mean of 80, 80, 80, 80, 40 = 72.00.
    let tech = b1["score"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == TECH)
        .unwrap();
    assert_eq!(tech["score"], 7200);
    assert!(b1["score"]["formula"].as_str().unwrap().len() > 10);

    // Signing: each expert with their own key; a second signature is refused.
    for (i, (user, ws, reg)) in experts.iter_mut().enumerate() {
        let dissent = if i == 4 {
            "对第1包技术评分保留意见"
        } else {
            ""
        };
        // An expert signs as the report names them: by this evaluation's pseudonym.
        let me = view(&app, user, &tender).await["report"]["signing"]["expert_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(me, pseudonyms(&app, &tender).await.expert(&seated[i]));
        let payload = kaibiao::committee::service::signing_payload(&tender, &sha, &me, dissent);
        let sig = b64(&reg.keys.sign(payload.as_bytes()));
        if i == 0 {
            let bad = b64(&reg.keys.sign(b"something else"));
            let r = command(
                ws,
                "badsig",
                &tender,
                json!({"type": "sign", "key_id": reg.signing_key_id, "signature": bad}),
            )
            .await;
            assert_eq!(error_code(&r), "SIGNATURE_INVALID", "{user}");
        }
        ack(&command(
            ws,
            &format!("sign{i}"),
            &tender,
            json!({"type": "sign", "key_id": reg.signing_key_id, "signature": sig, "dissent": dissent}),
        )
        .await);
        if i == 0 {
            let r = command(
                ws,
                "sign-again",
                &tender,
                json!({"type": "sign", "key_id": reg.signing_key_id, "signature": sig}),
            )
            .await;
            assert_eq!(error_code(&r), "ALREADY_SIGNED");
        }
    }
    let done = event(&mut oversight, "report_completed").await;
    assert!(done["body"]["confirm_due_at"].as_i64().unwrap() > clock_now(&app));

    // Until the award the agency and purchaser saw seats, never a name: not in presence,
    // the room's frames, the view or the report (whose certificates name the experts).
    let mut names = Vec::new();
    for id in &seated {
        let name: String = sqlx::query_scalar("SELECT name FROM experts WHERE id = $1")
            .bind(id)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
        names.push(name);
    }
    for w in &watchers {
        let frames = w.lock().unwrap().clone();
        let seats_shown = frames.iter().any(|f| {
            f.contains(r#""type":"presence""#) && f.contains("第 1 席") && f.contains(r#""seat":5"#)
        });
        assert!(seats_shown, "presence shows the seated experts by seat");
        for f in &frames {
            for n in &names {
                assert!(!f.contains(n.as_str()), "an expert's name in a frame: {f}");
            }
        }
    }
    for who in ["agency", "purchaser"] {
        let s = app.login(who).await;
        let scores = format!("evaluation/scores?bid_id={}", bid_ids[0]);
        for path in ["evaluation", "evaluation/report", scores.as_str()] {
            let (status, v) = s.get(&format!("/api/tenders/{tender}/{path}")).await;
            assert_eq!(status, StatusCode::OK, "{who} {path}: {v}");
            let text = v.to_string();
            for n in &names {
                assert!(!text.contains(n.as_str()), "{who} {path} names an expert");
            }
            if path == "evaluation/report" {
                let sigs = v["signatures"].as_array().unwrap();
                assert_eq!(sigs.len(), 5);
                assert!(
                    sigs.iter().all(|s| s.get("cert_pem").is_none()),
                    "{who}: certificates name the experts"
                );
            }
        }
    }
    let copy = dir_with(&app, "agency", &tender).await;
    let out = crate::cli::verify(&copy.1);
    assert_eq!(out.status.code(), Some(1), "a copy without certificates");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("before the award")
            || String::from_utf8_lossy(&out.stderr).contains("before the award")
    );

    // The public ledger says who acted (操作人): role and organisation, an expert by seat
    // only, no name.
    let public = ledger_of(&app, &tender).await;
    let actors = public["actors"].as_object().expect("actors");
    let experts_acting: Vec<&Value> = actors.values().filter(|a| a["role"] == "expert").collect();
    assert!(experts_acting.len() >= 5, "{actors:?}");
    for a in &experts_acting {
        assert!(a["seat"].is_i64() && a.get("name").is_none(), "{a}");
    }
    assert!(
        actors
            .values()
            .any(|a| a["role"] == "agency" && a["org"].is_string()),
        "{actors:?}"
    );
    let text = public.to_string();
    for n in &names {
        assert!(
            !text.contains(n.as_str()),
            "the ledger names {n} before the award"
        );
    }

    // The purchaser confirms the first-ranked bid (R-EVAL-10); names are now shown.
    let r = command(&mut host, "cw0", &tender, json!({"type": "confirm_winner"})).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let r = command(
        &mut purchaser,
        "cw",
        &tender,
        json!({"type": "confirm_winner"}),
    )
    .await;
    assert_eq!(ack(&r)["winners"][0]["bid_id"], ranking[0]["bidder"]);
    let (_, t) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}"))
        .await;
    assert_eq!(t["status"], "awarded");
    let public = ledger_of(&app, &tender).await;
    assert!(
        public["actors"]
            .as_object()
            .unwrap()
            .values()
            .filter(|a| a["role"] == "expert")
            .all(|a| a["name"].is_string()),
        "after the award the ledger names the experts: {}",
        public["actors"]
    );
    let v = view(&app, "agency", &tender).await;
    assert!(v["panel"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"].is_string()));
    let w = &watchers[0];
    let named = async {
        loop {
            if w.lock()
                .unwrap()
                .iter()
                .any(|f| f.contains(r#""type":"presence""#) && f.contains(names[0].as_str()))
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), named)
        .await
        .expect("after the award presence names the experts");

    // A bidder downloads the signed report: it verifies offline; a changed score fails.
    let (status, bundle) = s3
        .get(&format!("/api/tenders/{tender}/evaluation/report"))
        .await;
    assert_eq!(status, StatusCode::OK, "{bundle}");
    assert_eq!(bundle["signatures"].as_array().unwrap().len(), 5);
    // The report keeps each seat's verdict per criterion and the panel's count on each.
    let first = bundle["report"]["compliance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bid_id"] == json!(bid_ids[0]))
        .unwrap()
        .clone();
    assert_eq!(first["compliant"], true);
    assert_eq!(
        first["criteria"][3],
        json!({"name": "交货期", "pass": 3, "fail": 2})
    );
    let reasons: Vec<&Value> = first["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            r["checks"]["报价"]["reason"]
                .as_str()
                .map(|_| &r["checks"]["报价"])
        })
        .collect();
    assert_eq!(
        reasons,
        vec![&json!({"pass": false, "reason": "大小写金额不一致"})]
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let out = crate::cli::verify(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("5 expert signatures"), "{stdout}");
    let mut forged = bundle.clone();
    forged["report"]["scores"][0]["items"][TECH] = json!("99.00");
    std::fs::write(&file, forged.to_string()).unwrap();
    let out = crate::cli::verify(&file);
    assert_eq!(out.status.code(), Some(1));
}

/// The panel's chair (评标组长) as a session: the one chosen, or drawn now by `host` when
/// the panel has not chosen.
pub(crate) async fn chair_of(app: &TestApp, host: &Session, tender: &str) -> Session {
    let path = format!("/api/tenders/{tender}/evaluation");
    let oversight = app.login("oversight").await;
    let (_, v) = oversight.get(&path).await;
    if v["chair"].is_null() {
        let (status, r) = host.post(&path, json!({"type": "draw_chair"})).await;
        assert_eq!(status, StatusCode::OK, "{r}");
    }
    let (_, v) = oversight.get(&path).await;
    let seat = &v["chair"]["seat"];
    let expert = v["panel"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| &p["seat"] == seat && p["status"] == "accepted")
        .expect("the chair's seat")["expert_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.login(&expert_user(app, &expert).await).await
}

/// The panel elects `chair` (an expert's user name) as its chair — each seated expert
/// votes for that seat until a majority has — and the chair finishes the scoring: the
/// acknowledgement.
pub(crate) async fn elect_and_finish(app: &TestApp, tender: &str, chair: &str) -> Value {
    let chair_session = elect_chair(app, tender, chair).await;
    let (status, v) = chair_session
        .post(
            &format!("/api/tenders/{tender}/evaluation"),
            json!({"type": "finish_scoring"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// The panel elects `chair` (an expert's user name): each seated expert votes for its seat
/// until a majority has. Returns the chair's session.
pub(crate) async fn elect_chair(app: &TestApp, tender: &str, chair: &str) -> Session {
    let path = format!("/api/tenders/{tender}/evaluation");
    let chair_session = app.login(chair).await;
    let (_, mine) = chair_session.get(&path).await;
    let seat = mine["me"]["seat"].clone();
    let (_, v) = app.login("oversight").await.get(&path).await;
    for p in v["panel"].as_array().unwrap() {
        if p["status"] != "accepted" {
            continue;
        }
        let voter = expert_user(app, p["expert_id"].as_str().unwrap()).await;
        let (status, r) = app
            .login(&voter)
            .await
            .post(&path, json!({"type": "elect_chair", "seat": seat}))
            .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        if r["chosen"] == true {
            break;
        }
    }
    chair_session
}

/// The chair finishes the scoring (drawn by `host` if the panel has none): the
/// acknowledgement.
pub(crate) async fn chair_finishes(app: &TestApp, host: &Session, tender: &str) -> Value {
    let chair = chair_of(app, host, tender).await;
    let (status, v) = chair
        .post(
            &format!("/api/tenders/{tender}/evaluation"),
            json!({"type": "finish_scoring"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// The evaluation report as `user` downloads it, written to a file: (folder, file).
async fn dir_with(
    app: &TestApp,
    user: &str,
    tender: &str,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let (status, bundle) = app
        .login(user)
        .await
        .get(&format!("/api/tenders/{tender}/evaluation/report"))
        .await;
    assert_eq!(status, StatusCode::OK, "{bundle}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    (dir, file)
}

fn clock_now(app: &TestApp) -> i64 {
    app.state.clock.now_ms()
}

#[tokio::test]
async fn r_eval_1_a_budget_of_10_million_draws_a_panel_of_seven_and_the_same_nonce_replays() {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, _) = evaluating(&app, &clock, &[100_000_000, 105_000_000, 110_000_000]).await;
    // Raise the lot's budget to 1000万 (as a large project would be).
    sqlx::query("UPDATE tender_lots SET budget_fen = 1000000000 WHERE tender_id = $1")
        .bind(&tender)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    // A second expert with the specialty is tied to the purchaser: never drawn.
    let tied: String = sqlx::query_scalar(
        "SELECT id FROM experts WHERE specialties LIKE '%environmental%' ORDER BY id LIMIT 1",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    let purchaser_org = app.org_id("purchaser").await;
    sqlx::query("UPDATE experts SET ties = $1 WHERE id = $2")
        .bind(json!([purchaser_org]).to_string())
        .bind(&tied)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let host = app.login("agency").await;
    let (status, r) = host
        .post(
            &format!("/api/tenders/{tender}/evaluation"),
            json!({"type": "request_draw", "specialty": "environmental", "region": "420200"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["committee_size"], 7, "R-EVAL-1: 7 from 1000万");
    let (status, r) = app
        .login("finance")
        .await
        .post(
            &format!("/api/tenders/{tender}/evaluation"),
            json!({"type": "draw", "nonce": "0427"}),
        )
        .await;
    // Seven environmental experts in the pool, one tied: six eligible, fewer than seven.
    assert_eq!(
        (status, code(&r)),
        (StatusCode::CONFLICT, "POOL_TOO_SMALL"),
        "{r}"
    );
    // The bureau widens the pool (construction experts take the specialty too).
    sqlx::query(
        "UPDATE experts SET specialties = '[\"environmental\"]' WHERE specialties LIKE '%construction%'",
    )
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let (status, r) = app
        .login("finance")
        .await
        .post(
            &format!("/api/tenders/{tender}/evaluation"),
            json!({"type": "draw", "nonce": "0427"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let ledger = ledger_of(&app, &tender).await;
    let drawn: Vec<&Value> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "experts_drawn")
        .collect();
    assert_eq!(drawn.len(), 1);
    let record = &drawn[0]["body"];
    assert_eq!(record["panel"].as_array().unwrap().len(), 7);
    let tied = pseudonyms(&app, &tender).await.expert(&tied);
    assert!(
        !record["panel"].as_array().unwrap().contains(&json!(tied)),
        "a conflicted expert is never drawn"
    );
    let why = record["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == tied.as_str())
        .unwrap();
    assert!(why["reasons"]
        .as_array()
        .unwrap()
        .contains(&json!("tied_to_purchaser")));
    // The same ledger head and nonce give the same panel: `kaibiao verify` replays it.
    let replay: kaibiao::draw::DrawRecord = serde_json::from_value(record.clone()).unwrap();
    let again = kaibiao::draw::draw(&replay.input).unwrap();
    assert_eq!(again.panel, replay.panel);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ledger.json");
    std::fs::write(&file, ledger.to_string()).unwrap();
    let out = crate::cli::verify(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("expert draw replays, panel of 7"),
        "{stdout}"
    );
}

/// The demo's opening tender goes on into its evaluation: the five demo bids are opened,
/// finance draws a panel that leaves out the expert tied to a demo bidder, the panel scores
/// and the ranking shows each evaluated price with its small/micro and prison-enterprise
/// deductions.
#[tokio::test]
async fn the_demo_tender_continues_into_an_evaluation_with_a_ranking() {
    use kaibiao::crypto::kb1;
    let dir = tempfile::tempdir().unwrap();
    let db = crate::common::fresh_database_url().await;
    let clock = std::sync::Arc::new(ManualClock::new(T0));
    let (app, bids) = crate::common::spawn_demo_on(dir, db, clock.clone()).await;
    let report = bids.send().await.unwrap();
    assert_eq!(report.sent.len(), 5, "{report:?}");
    let t = demo_opening_tender(&app).await;
    let tender = t["id"].as_str().unwrap().to_string();
    clock.set(t["bid_deadline"].as_i64().unwrap());
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    opening_cmd(&app, "agency", &tender, json!({"type": "start"})).await;
    let mut decrypts = Vec::new();
    for b in &kaibiao::demo::OPENING_BIDS {
        let s = app.login(b.user).await;
        let (_, mine) = s.get(&format!("/api/tenders/{tender}/bids/mine")).await;
        let bid = mine[0]["bid_id"].as_str().unwrap().to_string();
        let (_, h) = s.get(&format!("/api/bids/{bid}/header")).await;
        let header: kb1::Header = serde_json::from_value(h["header"].clone()).unwrap();
        let file =
            std::fs::read_to_string(app.dir.path().join(format!("demo-keys/{}.kbkey", b.user)))
                .unwrap();
        let (_, keys) =
            crate::common::DeviceKeys::from_file(&file, crate::common::PASSWORD).unwrap();
        let kb = kb1::unseal_kb(&header, &keys.encryption).unwrap();
        decrypts.push((b.user.to_string(), bid, b64(&kb)));
    }
    open_and_confirm(&app, &tender, &decrypts).await;

    let post = |user: &'static str, cmd: Value| {
        let app = &app;
        let tender = tender.clone();
        async move {
            let (status, v) = app
                .login(user)
                .await
                .post(&format!("/api/tenders/{tender}/evaluation"), cmd)
                .await;
            assert_eq!(status, StatusCode::OK, "{user}: {v}");
            v
        }
    };
    post(
        "agency",
        json!({"type": "request_draw", "specialty": "environmental"}),
    )
    .await;
    let drawn = post("finance", json!({"type": "draw", "nonce": "demo"})).await;
    assert_eq!(drawn["panel"], 5);
    let v = view(&app, "finance", &tender).await;
    let tied: String = sqlx::query_scalar("SELECT id FROM experts WHERE ties <> '[]'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let tied = pseudonyms(&app, &tender).await.expert(&tied);
    let ledger = ledger_of(&app, &tender).await;
    let record = &ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "experts_drawn")
        .unwrap()["body"];
    let excluded = record["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == tied.as_str())
        .expect("the tied expert is excluded");
    assert!(excluded["reasons"]
        .as_array()
        .unwrap()
        .contains(&json!("tied_to_bidder")));
    // Supervisors see whom to log in as.
    let logins: Vec<String> = v["panel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["username"].as_str().unwrap().to_string())
        .collect();
    assert!(logins.iter().all(|u| u.starts_with("expert")));

    let as_expert = |user: String, cmd: Value| {
        let app = &app;
        let tender = tender.clone();
        async move {
            let (status, v) = app
                .login(&user)
                .await
                .post(&format!("/api/tenders/{tender}/evaluation"), cmd)
                .await;
            assert_eq!(status, StatusCode::OK, "{user}: {v}");
        }
    };
    // Each drawn expert finds the tender on their dashboard.
    let (_, dash) = app.login(&logins[0]).await.get("/api/dashboard").await;
    assert_eq!(dash["counts"]["assignments"], 1);
    assert_eq!(dash["tenders"][0]["id"], tender.as_str());
    for u in &logins {
        as_expert(u.clone(), accept(&app, u, &tender).await).await;
    }
    let bid_ids: Vec<String> = view(&app, "agency", &tender).await["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bid_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bid_ids.len(), 5);
    for b in &bid_ids {
        post(
            "agency",
            json!({"type": "qualify", "bid_id": b, "pass": true}),
        )
        .await;
    }
    for u in &logins {
        for b in &bid_ids {
            as_expert(
                u.clone(),
                json!({"type": "review", "bid_id": b, "pass": true}),
            )
            .await;
        }
    }
    for u in &logins {
        for b in &bid_ids {
            as_expert(
                u.clone(),
                json!({"type": "score", "bid_id": b, "items": items("80", "85", "100")}),
            )
            .await;
        }
    }
    elect_and_finish(&app, &tender, &logins[0]).await;
    let v = view(&app, "oversight", &tender).await;
    let lot = &v["result"][0]["result"];
    assert_eq!(lot["ranking"].as_array().unwrap().len(), 5);
    let rules: Vec<String> = lot["bids"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| {
            b["price"]["deductions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(rules.iter().any(|r| r == "R-POL-2"), "{rules:?}");
    assert!(rules.iter().any(|r| r == "R-POL-5"), "{rules:?}");
    let notes: Vec<String> = lot["bids"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["price"]["notes"].as_array().cloned().unwrap_or_default())
        .map(|n| {
            format!(
                "{}/{}",
                n["code"].as_str().unwrap_or(""),
                n["key"].as_str().unwrap_or("")
            )
        })
        .collect();
    // Notes are language-free data the page renders from its catalogue.
    assert!(
        notes.iter().any(|n| n == "R-POL-3/special_prison"),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n == "R-POL-6/goods_not_small_made"),
        "{notes:?}"
    );
    // The prison enterprise's offer, domestic and small (20 % + 10 % off 1,186,450.00),
    // is the benchmark and ranks first with 89.00 points.
    let first = &lot["ranking"][0];
    assert_eq!(first["evaluated_fen"], 83_051_500);
    assert_eq!(first["total"], 8900);

    // Every expert signs; the purchaser lets the 5 working days pass: the first-ranked
    // candidate stands (R-EVAL-10).
    let sha = v["report"]["sha256"].as_str().unwrap().to_string();
    for u in &logins {
        let s = app.login(u).await;
        let reg = s.register_keys().await;
        let me = view(&app, u, &tender).await["report"]["signing"]["expert_id"]
            .as_str()
            .unwrap()
            .to_string();
        let payload = kaibiao::committee::service::signing_payload(&tender, &sha, &me, "");
        let sig = b64(&reg.keys.sign(payload.as_bytes()));
        as_expert(
            u.clone(),
            json!({"type": "sign", "key_id": reg.signing_key_id, "signature": sig}),
        )
        .await;
    }
    let v = view(&app, "purchaser", &tender).await;
    assert_eq!(v["phase"], "reported");
    let due = v["confirm_due_at"].as_i64().unwrap();
    assert!(due >= clock_now(&app) + 5 * 86_400_000, "5 working days");
    clock.set(due - 1);
    kaibiao::committee::service::advance_due(&app.state)
        .await
        .unwrap();
    assert_eq!(view(&app, "purchaser", &tender).await["phase"], "reported");
    clock.set(due);
    kaibiao::committee::service::advance_due(&app.state)
        .await
        .unwrap();
    let v = view(&app, "purchaser", &tender).await;
    assert_eq!(v["phase"], "awarded");
    let ledger = ledger_of(&app, &tender).await;
    let confirmed = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "winner_confirmed")
        .unwrap();
    assert_eq!(confirmed["body"]["by"], "deadline");
    assert_eq!(confirmed["body"]["winners"][0]["bid_id"], first["bidder"]);
}

/// R-EVAL-2: when declines use up the draw's order, the panel is dissolved and the finance
/// supervisor draws a new one; nothing fails.
#[tokio::test]
async fn r_eval_2_a_panel_that_cannot_be_topped_up_is_drawn_again() {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, _) = evaluating(&app, &clock, &[100_000_000, 105_000_000, 110_000_000]).await;
    let call = |user: String, cmd: Value| {
        let app = &app;
        let tender = tender.clone();
        async move {
            app.login(&user)
                .await
                .post(&format!("/api/tenders/{tender}/evaluation"), cmd)
                .await
        }
    };
    let (status, r) = call(
        "agency".into(),
        json!({"type": "request_draw", "specialty": "environmental"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    call("finance".into(), json!({"type": "draw", "nonce": "一"})).await;
    // Seven environmental experts: five seats and two in reserve. Three decline in turn.
    let mut last = Value::Null;
    for _ in 0..3 {
        let v = view(&app, "finance", &tender).await;
        let invited = v["panel"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["status"] == "invited")
            .unwrap()["username"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, r) = call(invited, json!({"type": "decline", "reason": "回避"})).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        last = r;
    }
    assert_eq!(last["phase"], "drawing", "{last}");
    assert_eq!(last["code"], "POOL_TOO_SMALL");
    let v = view(&app, "finance", &tender).await;
    assert_eq!(v["phase"], "drawing");
    assert_eq!(v["panel"], json!([]));
    let (_, t) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}"))
        .await;
    assert_eq!(t["status"], "evaluating", "the tender goes on");
    // A new nonce draws a new panel; every draw in the ledger replays.
    let (status, r) = call("finance".into(), json!({"type": "draw", "nonce": "二"})).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["phase"], "seating");
    let ledger = ledger_of(&app, &tender).await;
    let kinds: Vec<&str> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "panel_dissolved").count(), 1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ledger.json");
    std::fs::write(&file, ledger.to_string()).unwrap();
    let out = crate::cli::verify(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test]
async fn r_open_4_a_negative_price_is_never_read_out_nor_signed() {
    let (app, clock) = spawn_app_at(T0).await;
    // supplier2's hand-made sheet offers -0.05 yuan; the others are sound.
    let (tender, bids) =
        evaluating(&app, &clock, &[100_000_000, -5, 105_000_000, 98_000_000]).await;
    let (status, bundle) = app
        .login("supplier3")
        .await
        .get(&format!("/api/tenders/{tender}/opening/record"))
        .await;
    assert_eq!(status, StatusCode::OK, "{bundle}");
    let rows = bundle["record"]["bids"].as_array().unwrap();
    let bad = rows
        .iter()
        .find(|b| b["bid_id"] == bids[1].as_str())
        .unwrap();
    assert_eq!(bad["result"], "invalid", "{bad}");
    assert_eq!(bad["cause"]["code"], "SHEET_PRICE_INVALID");
    assert!(
        bad["sheet"].is_null(),
        "no price of it in the signed record: {bad}"
    );
    let read_out = rows.iter().filter(|b| b["result"] == "read_out").count();
    assert_eq!(
        read_out, 3,
        "the others are read out and the tender goes on"
    );
}

/// R-METH-2, R-OPEN-2: the demo's tender as a consultation of government-purchased
/// services' case (财库〔2015〕124号): two bidders open and go on to the evaluation, and the
/// panel is the consultation's — 3 by default (under the open-tendering threshold), 4
/// refused as even — drawn with its rule in the record, which replays.
#[tokio::test]
async fn r_meth_2_a_consultation_goes_on_with_two_and_draws_a_panel_of_three() {
    let (app, clock) = spawn_app_at(T0).await;
    let t = demo_opening_tender(&app).await;
    let tender = t["id"].as_str().unwrap().to_string();
    let pool = &app.state.db.pool;
    let terms: String = sqlx::query_scalar("SELECT eval_terms FROM tenders WHERE id = $1")
        .bind(&tender)
        .fetch_one(pool)
        .await
        .unwrap();
    let mut terms: Value = serde_json::from_str(&terms).unwrap();
    terms["two_suppliers_case"] = json!("government_services");
    sqlx::query(
        "UPDATE tenders SET method = 'competitive_consultation', eval_terms = $1 WHERE id = $2",
    )
    .bind(terms.to_string())
    .bind(&tender)
    .execute(pool)
    .await
    .unwrap();
    // Two bidders: enough in the stated case (three otherwise, R-OPEN-2).
    let (evaluated, _) = evaluating(&app, &clock, &[100_000_000, 105_000_000]).await;
    assert_eq!(evaluated, tender);
    let (_, record) = app
        .login("oversight")
        .await
        .get(&format!("/api/tenders/{tender}/opening"))
        .await;
    let lots = record["lots"].as_array().expect("the opening's lots");
    assert_eq!(lots[0]["min_bidders"], 2, "{record}");
    assert_eq!(lots[0]["status"], "open", "{record}");

    let host = app.login("agency").await;
    let path = format!("/api/tenders/{tender}/evaluation");
    let (status, r) = host
        .post(
            &path,
            json!({"type": "request_draw", "specialty": "environmental", "committee_size": 4}),
        )
        .await;
    assert_eq!(
        (status, code(&r)),
        (StatusCode::CONFLICT, "COMMITTEE_INVALID"),
        "{r}"
    );
    assert!(
        r["message_en"].as_str().unwrap().contains("R-METH-2"),
        "{r}"
    );
    let (status, r) = host
        .post(
            &path,
            json!({"type": "request_draw", "specialty": "environmental"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (&r["committee_size"], &r["experts_needed"]),
        (&json!(3), &json!(3)),
        "{r}"
    );
    let (status, r) = app
        .login("finance")
        .await
        .post(&path, json!({"type": "draw", "nonce": "磋商小组 0427"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let ledger = ledger_of(&app, &tender).await;
    let drawn = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "experts_drawn")
        .unwrap()["body"]
        .clone();
    assert_eq!(drawn["panel"].as_array().unwrap().len(), 3);
    assert_eq!(drawn["input"]["requirement"]["panel"]["rule"], "R-METH-2");
    assert_eq!(drawn["input"]["requirement"]["panel"]["min_size"], 3);
    let record: kaibiao::draw::DrawRecord = serde_json::from_value(drawn).unwrap();
    assert_eq!(kaibiao::draw::replay(&record), Ok(()));
}

/// #20's rubrics (评分细则/分档): the documents state each item's bands; an expert's score
/// must lie in the band picked (or in one of them), on scoring and on revising; a rubric
/// whose bands overlap is refused when the tender is created.
#[tokio::test]
async fn a_score_outside_the_band_picked_is_refused_and_an_overlapping_rubric_never_stated() {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, bids, experts, _) = crate::evalpage::scoring(&app, &clock).await;
    let e1 = app.login(&experts[0]).await;
    let items = json!({"技术方案": "80.00", "售后服务": "80.00", "类似业绩": "100.00"});
    let (status, v) = e1
        .post(
            &format!("/api/tenders/{tender}/evaluation"),
            json!({"type": "score", "bid_id": bids[0], "items": items,
                   "bands": {"技术方案": "优"}}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "SCORE_OUT_OF_BAND"),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap().contains("优 85.00–100.00"),
        "{v}"
    );
    // Nothing was kept: the same scores within the band picked are taken.
    let (status, v) = e1
        .post(
            &format!("/api/tenders/{tender}/evaluation"),
            json!({"type": "score", "bid_id": bids[0], "items": items,
                   "bands": {"技术方案": "良", "售后服务": "良"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // A revision is held to its band too.
    let (_, v) = e1
        .post(
            &format!("/api/tenders/{tender}/evaluation"),
            json!({"type": "revise", "bid_id": bids[0], "item": "技术方案", "score": "70.00",
                   "kind": "arithmetic", "reason": "合计有误", "band": "优"}),
        )
        .await;
    assert_eq!(code(&v), "SCORE_OUT_OF_BAND", "{v}");

    // The documents cannot state bands that overlap.
    let agency = app.login("agency").await;
    let now = kaibiao::clock::Clock::now_ms(&*clock);
    let mut body = app.tender_body("实验室设备采购", now).await;
    body["evaluation"] = json!({
        "method": "comprehensive", "sme_rate_bp": 1000, "price_weight_bp": 3000,
        "items": [{"name": "技术方案", "weight_bp": 7000, "bands": [
            {"label": "优", "min": 8000, "max": 10000},
            {"label": "良", "min": 7000, "max": 8000},
        ]}]
    });
    let (status, v) = agency.post("/api/tenders", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["fields"]["evaluation.items"].to_string().contains("重叠"),
        "{v}"
    );
}

/// #20's chair (评标组长): the panel chooses by a majority (a vote may change); the choice
/// is final; the chair, not the agency, finishes the scoring and signs the report first.
#[tokio::test]
async fn the_panel_chooses_its_chair_who_finishes_the_scoring_and_signs_first() {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, bids, experts, _) = crate::evalpage::scoring(&app, &clock).await;
    let path = format!("/api/tenders/{tender}/evaluation");
    let seat_of = |v: &Value| v["me"]["seat"].as_i64().unwrap();
    let mut seats = Vec::new();
    for e in &experts {
        seats.push(seat_of(&view(&app, e, &tender).await));
    }
    let n = experts.len();
    let majority = n / 2 + 1;
    let chair = seats[1];
    // The first changes its vote; the others follow until a majority has it.
    let (_, v) = app
        .login(&experts[0])
        .await
        .post(&path, json!({"type": "elect_chair", "seat": seats[0]}))
        .await;
    assert_eq!(v["chosen"], false, "{v}");
    for (i, e) in experts.iter().enumerate().take(majority) {
        let (status, v) = app
            .login(e)
            .await
            .post(&path, json!({"type": "elect_chair", "seat": chair}))
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["chosen"], i + 1 == majority, "vote {i}: {v}");
    }
    let (_, v) = app.login("finance").await.get(&path).await;
    assert_eq!(v["chair"]["seat"], chair, "{v}");
    assert_eq!(v["chair"]["drawn"], false);
    let (_, v) = app
        .login(&experts[n - 1])
        .await
        .post(&path, json!({"type": "elect_chair", "seat": seats[n - 1]}))
        .await;
    assert_eq!(code(&v), "CHAIR_CHOSEN", "{v}");
    let agency = app.login("agency").await;
    let (_, v) = agency.post(&path, json!({"type": "draw_chair"})).await;
    assert_eq!(code(&v), "CHAIR_CHOSEN", "{v}");
    let ledger = ledger_of(&app, &tender).await;
    let chosen: Vec<&Value> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "chair_chosen")
        .collect();
    assert_eq!(chosen.len(), 1);
    assert_eq!(chosen[0]["body"]["votes"], majority as i64);

    // Everyone scores; the agency may not finish, the chair does.
    let items = view(&app, &experts[0], &tender).await["terms"]["items"].clone();
    let mut sheet = serde_json::Map::new();
    for it in items.as_array().unwrap() {
        let value = if it["objective"] == true { "100" } else { "80" };
        sheet.insert(it["name"].as_str().unwrap().into(), json!(value));
    }
    for e in &experts {
        let s = app.login(e).await;
        for bid in &bids {
            let (status, v) = s
                .post(
                    &path,
                    json!({"type": "score", "bid_id": bid, "items": sheet}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{v}");
        }
    }
    let (status, v) = agency.post(&path, json!({"type": "finish_scoring"})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "CHAIR_FINISHES"),
        "{v}"
    );
    let chair_user = &experts[1];
    let (status, v) = app
        .login(&experts[0])
        .await
        .post(&path, json!({"type": "finish_scoring"}))
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::FORBIDDEN, "FORBIDDEN"),
        "{v}"
    );
    let (status, v) = app
        .login(chair_user)
        .await
        .post(&path, json!({"type": "finish_scoring"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let sha = v["report_sha256"].as_str().unwrap().to_string();

    // The report names the chair; the chair signs first.
    let sign = |user: String| {
        let (app, tender, sha, path) = (&app, &tender, &sha, &path);
        async move {
            let s = app.login(&user).await;
            let reg = s.register_keys().await;
            let me = view(app, &user, tender).await["report"]["signing"]["expert_id"]
                .as_str()
                .unwrap()
                .to_string();
            let payload = kaibiao::committee::service::signing_payload(tender, sha, &me, "");
            let sig = b64(&reg.keys.sign(payload.as_bytes()));
            s.post(
                path,
                json!({"type": "sign", "key_id": reg.signing_key_id, "signature": sig}),
            )
            .await
        }
    };
    let (status, v) = sign(experts[0].clone()).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "CHAIR_SIGNS_FIRST"),
        "{v}"
    );
    let (status, v) = sign(chair_user.clone()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    for e in experts.iter().filter(|e| *e != chair_user) {
        let (status, v) = sign(e.clone()).await;
        assert_eq!(status, StatusCode::OK, "{e}: {v}");
    }
    let (_, bundle) = app
        .login("finance")
        .await
        .get(&format!("{path}/report"))
        .await;
    assert_eq!(
        bundle["report"]["chair_seat"], chair,
        "{}",
        bundle["report"]
    );
}

/// When the panel has not chosen, the agency draws the chair from the ledger's head:
/// anyone can replay which seat it is.
#[tokio::test]
async fn the_agency_draws_the_chair_anyone_can_replay_it() {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, _, _, _) = crate::evalpage::scoring(&app, &clock).await;
    let path = format!("/api/tenders/{tender}/evaluation");
    let (_, v) = app
        .login("finance")
        .await
        .post(&path, json!({"type": "draw_chair"}))
        .await;
    assert_eq!(code(&v), "FORBIDDEN", "{v}");
    let before = ledger_of(&app, &tender).await;
    let head = before["head"].as_str().unwrap().to_string();
    let (status, v) = app
        .login("agency")
        .await
        .post(&path, json!({"type": "draw_chair"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, view) = app.login("finance").await.get(&path).await;
    let mut seats: Vec<i64> = view["panel"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "accepted")
        .map(|s| s["seat"].as_i64().unwrap())
        .collect();
    seats.sort();
    let replayed = seats[kaibiao::committee::chair::draw_index(&head, seats.len())];
    assert_eq!(view["chair"]["seat"], replayed);
    assert_eq!(view["chair"]["drawn"], true);
}

/// The score writer hands the committee room the events it appended, and the room sends
/// them as they are when they follow on from its last. When another commit came between
/// whose notice was lost (here: a message written to the ledger and nobody told), the
/// room reads its ledger instead, so that a supervisor watching still gets every event
/// once and in order — not the score first and the missed message a catch-up later.
#[tokio::test]
async fn a_room_that_missed_an_event_sends_it_before_the_scores_handed_to_it() {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, bids, experts, _) = crate::evalpage::scoring(&app, &clock).await;
    let room = format!("evaluation:{tender}");
    let last: i64 = sqlx::query_scalar("SELECT MAX(seq) FROM ledger_events WHERE tender_id = $1")
        .bind(&tender)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let mut oversight = connect(&app, "oversight").await;
    let subscribed = subscribe(&mut oversight, &room).await;
    assert_eq!(
        subscribed["seq"], last,
        "replayed to the ledger's head: {subscribed}"
    );
    let mut expert = connect(&app, &experts[0]).await;
    assert_eq!(subscribe(&mut expert, &room).await["type"], "subscribed");

    let missed = kaibiao::ledger::LedgerEvent::MessagePosted(kaibiao::ledger::MessagePosted {
        room: room.clone(),
        message_id: "m-lost-notice".into(),
        audience: "panel".into(),
        text_sha256: "0".repeat(64),
    });
    let mut tx = app.state.db.begin().await.unwrap();
    kaibiao::ledger::repo::append(
        &mut tx,
        &tender,
        kaibiao::clock::Clock::now_ms(&*clock),
        "agency",
        &missed,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let score = json!({"type": "score", "bid_id": bids[0], "items": items("80", "80", "100")});
    send(
        &mut expert,
        json!({"type": "command", "id": "s", "room": room, "command": score}),
    )
    .await;
    let r = next_where(&mut expert, |v| v["id"] == "s").await;
    assert_eq!(r["type"], "ack", "{r}");

    let first = next_where(&mut oversight, |v| v["type"] == "event").await;
    assert_eq!(first["event"]["seq"], last + 1, "{first}");
    assert_eq!(first["event"]["kind"], "message_posted", "{first}");
    let second = next_where(&mut oversight, |v| v["type"] == "event").await;
    assert_eq!(second["event"]["seq"], last + 2, "{second}");
    assert_eq!(second["event"]["kind"], "scores_submitted", "{second}");
    // Nothing sent twice: after the catch-up's next look at the ledger, still nothing.
    tokio::time::sleep(kaibiao::hub::CATCH_UP_EVERY * 2).await;
    send(&mut oversight, json!({"type": "ping"})).await;
    let after = next_where(&mut oversight, |v| {
        v["type"] == "event" || v["type"] == "pong"
    })
    .await;
    assert_eq!(after["type"], "pong", "no event again: {after}");
}
