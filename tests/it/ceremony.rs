//! A whole opening (开标) with real WebSocket clients: five bidders, three custodians, the
//! host and supervisors watching. One bidder never decrypts (revoked), one sealed a
//! corrupt container (invalid with its cause), one objection is answered, and the signed
//! record verifies with `kaibiao verify`. Every refusal is its own error and changes
//! nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::bids::{bidder_kb, custodian_share, seal_sheet, sheet, start_bid, upload_all};
use crate::common::{b64, code, spawn_app_at, Registered, TestApp};
use crate::hub::{connect, next_where, send, Ws};

const T0: i64 = 1_796_086_800_000;
const MINUTE: i64 = 60_000;

/// Sends a room command and returns its reply (`ack` or `error`), skipping other frames.
async fn command(ws: &mut Ws, id: &str, tender: &str, cmd: Value) -> Value {
    send(
        ws,
        json!({"type": "command", "id": id, "room": format!("opening:{tender}"), "command": cmd}),
    )
    .await;
    next_where(ws, |v| v["id"] == id).await
}

fn error_code(reply: &Value) -> &str {
    assert_eq!(reply["type"], "error", "{reply}");
    reply["code"].as_str().unwrap()
}

fn ack(reply: &Value) -> &Value {
    assert_eq!(reply["type"], "ack", "{reply}");
    &reply["result"]
}

async fn subscribe(ws: &mut Ws, tender: &str) {
    send(
        ws,
        json!({"type": "subscribe", "room": format!("opening:{tender}"), "since_seq": 0}),
    )
    .await;
    next_where(ws, |v| v["type"] == "subscribed").await;
}

/// The next ledger event of `kind` this client sees.
async fn event(ws: &mut Ws, kind: &str) -> Value {
    next_where(ws, |v| v["type"] == "event" && v["event"]["kind"] == kind).await["event"].clone()
}

async fn ledger_len(app: &TestApp) -> i64 {
    app.rows("ledger_events").await
}

struct Bidder {
    ws: Ws,
    bid_id: String,
    kb: [u8; 32],
}

#[tokio::test]
async fn a_whole_opening_with_a_revoked_bid_a_corrupt_bid_an_objection_and_a_verified_record() {
    let (app, clock) = spawn_app_at(T0).await;
    let t = app.school_tender().await;
    let tender = t["id"].as_str().unwrap().to_string();
    let deadline = t["bid_deadline"].as_i64().unwrap();

    // Five suppliers seal and submit; the fifth container has a byte flipped inside its
    // first segment (the server cannot see that before the opening).
    let prices = [
        88_800_000_i64,
        91_234_500,
        86_000_000,
        90_000_000,
        87_500_000,
    ];
    let mut bidders = Vec::new();
    for (i, price) in prices.iter().enumerate() {
        let s = app.login(&format!("supplier{}", i + 1)).await;
        let reg: Registered = s.register_keys().await;
        let (status, start) = start_bid(&s, &tender).await;
        assert_eq!(status, StatusCode::CREATED, "{start}");
        let mut container = seal_sheet(
            &start,
            sheet(*price, &format!("bidder {}", i + 1)),
            b"technical proposal",
            1024,
        );
        if i == 4 {
            let n = container.len();
            container[n - 20] ^= 0x01;
        }
        let bid_id = start["bid_id"].as_str().unwrap().to_string();
        let (status, done) = upload_all(&s, &bid_id, &container, 4096).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        bidders.push(Bidder {
            ws: connect(&app, &format!("supplier{}", i + 1)).await,
            kb: bidder_kb(&container, &reg),
            bid_id,
        });
    }

    let kbs: Vec<String> = bidders.iter().map(|b| b64(&b.kb)).collect();
    let ids: Vec<String> = bidders.iter().map(|b| b.bid_id.clone()).collect();
    clock.set(deadline);
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();

    let mut host = connect(&app, "agency").await;
    let mut purchaser = connect(&app, "purchaser").await;
    let mut finance = connect(&app, "finance").await;
    let mut oversight = connect(&app, "oversight").await;
    let mut outsider = connect(&app, "supplier6").await;
    for ws in [&mut host, &mut purchaser, &mut finance, &mut oversight] {
        subscribe(ws, &tender).await;
    }
    for b in bidders.iter_mut() {
        subscribe(&mut b.ws, &tender).await;
    }

    // Before the start: a supplier may not start it, a bidder may not decrypt yet, and a
    // supplier that did not bid is not a member.
    let before = ledger_len(&app).await;
    let r = command(&mut bidders[0].ws, "s0", &tender, json!({"type": "start"})).await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    let r = command(
        &mut bidders[0].ws,
        "d0",
        &tender,
        json!({"type": "decrypt", "bid_id": ids[0], "kb": kbs[0]}),
    )
    .await;
    assert_eq!(error_code(&r), "ILLEGAL_TRANSITION");
    send(
        &mut outsider,
        json!({"type": "subscribe", "room": format!("opening:{tender}")}),
    )
    .await;
    let r = next_where(&mut outsider, |v| v["type"] == "error").await;
    assert_eq!(r["code"], "FORBIDDEN");
    let r = command(&mut outsider, "o1", &tender, json!({"type": "start"})).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "a non-member's command");
    assert_eq!(ledger_len(&app).await, before, "refusals change nothing");

    // The host starts: quorum of 5 bidders ≥ 3, the decryption window opens.
    let r = command(&mut host, "start", &tender, json!({"type": "start"})).await;
    let started = ack(&r);
    assert_eq!(started["phase"], "decrypting");
    assert_eq!(started["decrypt_ends_at"], deadline + 30 * MINUTE);
    assert_eq!(started["lots"][0]["bidders"], 5);
    let e = event(&mut oversight, "opening_started").await;
    assert_eq!(e["body"]["bids"].as_array().unwrap().len(), 5);
    let r = command(&mut host, "start2", &tender, json!({"type": "start"})).await;
    assert_eq!(error_code(&r), "ILLEGAL_TRANSITION", "a second start");

    // Bidder 4 starts decrypting at once (R-OPEN-4: the record keeps when; a second
    // start a minute later changes nothing) but never sends its kb; the others decrypt two
    // minutes in. Bidder 1 only reads its header at once: reading starts nothing.
    let (status, h) = app
        .login("supplier4")
        .await
        .post(&format!("/api/bids/{}/decryption", ids[3]), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{h}");
    assert_eq!(h["header"]["bid_id"], ids[3].as_str());
    let (status, h) = app
        .login("supplier1")
        .await
        .get(&format!("/api/bids/{}/header", ids[0]))
        .await;
    assert_eq!(status, StatusCode::OK, "{h}");
    clock.set(deadline + MINUTE);
    app.login("supplier4")
        .await
        .post(&format!("/api/bids/{}/decryption", ids[3]), json!({}))
        .await;
    clock.set(deadline + 2 * MINUTE);

    // Decrypting. Refusals first, each changing nothing.
    let before = ledger_len(&app).await;
    let mut wrong = bidders[0].kb;
    wrong[0] ^= 1;
    let id0 = bidders[0].bid_id.clone();
    let id1 = bidders[1].bid_id.clone();
    let r = command(
        &mut bidders[0].ws,
        "bad-kb",
        &tender,
        json!({"type": "decrypt", "bid_id": id0, "kb": b64(&wrong)}),
    )
    .await;
    assert_eq!(error_code(&r), "KB_HASH_MISMATCH");
    let r = command(
        &mut bidders[0].ws,
        "other-bid",
        &tender,
        json!({"type": "decrypt", "bid_id": id1, "kb": kbs[0]}),
    )
    .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "someone else's bid");
    let r = command(
        &mut bidders[0].ws,
        "short-kb",
        &tender,
        json!({"type": "decrypt", "bid_id": id0, "kb": "AAAA"}),
    )
    .await;
    assert_eq!(error_code(&r), "VALIDATION");
    let share = custodian_share(&app.base, app.dir.path(), &tender, "purchaser").await;
    let r = command(
        &mut purchaser,
        "early-share",
        &tender,
        json!({"type": "share", "index": share.index, "value": hex::encode(share.value)}),
    )
    .await;
    assert_eq!(
        error_code(&r),
        "ILLEGAL_TRANSITION",
        "shares come after the window"
    );
    assert_eq!(ledger_len(&app).await, before, "refusals change nothing");

    // Bidders 1, 2, 3 and 5 decrypt; bidder 4 never does.
    for i in [0, 1, 2, 4] {
        let (bid_id, kb) = (bidders[i].bid_id.clone(), bidders[i].kb);
        let r = command(
            &mut bidders[i].ws,
            &format!("kb{i}"),
            &tender,
            json!({"type": "decrypt", "bid_id": bid_id, "kb": b64(&kb)}),
        )
        .await;
        assert_eq!(ack(&r)["decrypt_status"], "decrypted");
        // Watchers see who decrypted, never what.
        let e = event(&mut finance, "bidder_decrypted").await;
        assert_eq!(e["body"]["bid_id"], bid_id.as_str());
        assert!(!e.to_string().contains(&b64(&kb)), "kb is never shown");
    }
    let r = command(
        &mut bidders[0].ws,
        "again",
        &tender,
        json!({"type": "decrypt", "bid_id": id0, "kb": kbs[0]}),
    )
    .await;
    assert_eq!(error_code(&r), "ALREADY_DECRYPTED", "a duplicate click");
    let (_, view) = app
        .login("supplier2")
        .await
        .get(&format!("/api/tenders/{tender}/opening"))
        .await;
    assert_eq!(view["phase"], "decrypting");
    let statuses: Vec<&str> = view["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["decrypt_status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "decrypted",
            "decrypted",
            "decrypted",
            "pending",
            "decrypted"
        ]
    );
    assert!(view["bids"][0]["sheet"].is_null(), "nothing read out yet");

    // The window ends by the server's clock; bidder 4 is too late.
    clock.set(deadline + 30 * MINUTE);
    kaibiao::opening::service::advance_due(&app.state)
        .await
        .unwrap();
    let e = event(&mut host, "decryption_closed").await;
    assert_eq!(e["body"]["not_decrypted"], json!([bidders[3].bid_id]));
    let (bid_id, kb) = (bidders[3].bid_id.clone(), bidders[3].kb);
    let before = ledger_len(&app).await;
    let r = command(
        &mut bidders[3].ws,
        "late",
        &tender,
        json!({"type": "decrypt", "bid_id": bid_id, "kb": b64(&kb)}),
    )
    .await;
    assert_eq!(error_code(&r), "DECRYPT_WINDOW_CLOSED");

    // Unsealing: a share that fails its commitment, a share from a non-custodian, a share
    // sent twice; then the second custodian's share rebuilds the key.
    let mut bad = share.value;
    bad[31] ^= 1;
    let r = command(
        &mut purchaser,
        "bad-share",
        &tender,
        json!({"type": "share", "index": share.index, "value": hex::encode(bad)}),
    )
    .await;
    assert_eq!(error_code(&r), "SHARE_COMMITMENT_MISMATCH");
    let r = command(
        &mut bidders[0].ws,
        "not-custodian",
        &tender,
        json!({"type": "share", "index": share.index, "value": hex::encode(share.value)}),
    )
    .await;
    assert_eq!(error_code(&r), "FORBIDDEN");
    assert_eq!(ledger_len(&app).await, before, "refusals change nothing");
    let r = command(
        &mut purchaser,
        "share",
        &tender,
        json!({"type": "share", "index": share.index, "value": hex::encode(share.value)}),
    )
    .await;
    assert_eq!(ack(&r)["shares"], 1);
    let r = command(
        &mut purchaser,
        "share-again",
        &tender,
        json!({"type": "share", "index": share.index, "value": hex::encode(share.value)}),
    )
    .await;
    assert_eq!(error_code(&r), "SHARE_ALREADY_SUBMITTED");
    let finance_share = custodian_share(&app.base, app.dir.path(), &tender, "finance").await;
    let r = command(
        &mut finance,
        "share-f",
        &tender,
        json!({"type": "share", "index": finance_share.index, "value": hex::encode(finance_share.value)}),
    )
    .await;
    assert_eq!(ack(&r)["shares"], 2);

    // Revealing: the reading-out in the opening's order, live to a bidder.
    let mut read = Vec::new();
    for _ in 0..5 {
        let e = next_where(&mut bidders[1].ws, |v| {
            v["type"] == "event"
                && matches!(
                    v["event"]["kind"].as_str(),
                    Some("bid_read_out" | "bid_invalid")
                )
        })
        .await;
        read.push(e["event"].clone());
    }
    let kinds: Vec<&str> = read.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "bid_read_out",
            "bid_read_out",
            "bid_read_out",
            "bid_invalid",
            "bid_invalid"
        ]
    );
    assert_eq!(read[0]["body"]["sheet"]["total_price_fen"], prices[0]);
    assert_eq!(
        read[0]["body"]["sheet"]["total_price_words"],
        "捌拾捌万捌仟元整"
    );
    assert_eq!(read[2]["body"]["sheet"]["total_price_fen"], prices[2]);
    assert_eq!(read[3]["body"]["bid_id"], bidders[3].bid_id.as_str());
    assert_eq!(read[3]["body"]["cause"]["code"], "NOT_DECRYPTED");
    assert_eq!(read[3]["body"]["cause"]["deemed"], "revoked");
    assert_eq!(read[4]["body"]["bid_id"], bidders[4].bid_id.as_str());
    assert_eq!(read[4]["body"]["cause"]["code"], "SEGMENT_AUTH_FAILED");
    assert_eq!(read[4]["body"]["cause"]["deemed"], "revoked");
    let done = event(&mut bidders[1].ws, "revealing_done").await;
    assert_eq!(done["body"]["lots"][0]["counted"], 3);
    assert_eq!(done["body"]["lots"][0]["status"], "open");

    // Confirming: a confirmation, a duplicate, an objection answered by the host only.
    let r = command(
        &mut bidders[0].ws,
        "c1",
        &tender,
        json!({"type": "confirm"}),
    )
    .await;
    assert_eq!(ack(&r)["confirmed"], true);
    let r = command(
        &mut bidders[0].ws,
        "c1b",
        &tender,
        json!({"type": "confirm"}),
    )
    .await;
    assert_eq!(error_code(&r), "ALREADY_CONFIRMED");
    let r = command(&mut outsider, "o2", &tender, json!({"type": "confirm"})).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "a non-member cannot confirm");
    let r = command(
        &mut bidders[1].ws,
        "obj",
        &tender,
        json!({"type": "object", "kind": "question", "text": "第 5 号投标为何无效?"}),
    )
    .await;
    let objection = ack(&r)["objection_id"].as_str().unwrap().to_string();
    let e = event(&mut host, "objection_raised").await;
    assert_eq!(e["body"]["text"], "第 5 号投标为何无效?");
    let before = ledger_len(&app).await;
    let r = command(
        &mut bidders[2].ws,
        "ans-bad",
        &tender,
        json!({"type": "answer", "objection_id": objection, "text": "我来回答"}),
    )
    .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "only the host answers");
    assert_eq!(ledger_len(&app).await, before);
    let answer = "该投标文件第 1 段密文校验失败(SEGMENT_AUTH_FAILED),按规定视为撤销投标。";
    let r = command(
        &mut host,
        "ans",
        &tender,
        json!({"type": "answer", "objection_id": objection, "text": answer}),
    )
    .await;
    ack(&r);
    let e = event(&mut bidders[1].ws, "objection_answered").await;
    assert_eq!(e["body"]["text"], answer);

    // The others stay silent: at the window's end they are deemed to accept.
    clock.set(deadline + 30 * MINUTE + 16 * MINUTE);
    kaibiao::opening::service::advance_due(&app.state)
        .await
        .unwrap();
    let closed = event(&mut oversight, "opening_closed").await;
    assert_eq!(
        closed["body"]["deemed_confirmed"].as_array().unwrap().len(),
        4
    );
    let (_, t) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}"))
        .await;
    assert_eq!(t["status"], "evaluating");

    // The record, downloaded by a bidder, verifies offline; a one-field forgery does not.
    let (status, bundle) = app
        .login("supplier3")
        .await
        .get(&format!("/api/tenders/{tender}/opening/record"))
        .await;
    assert_eq!(status, StatusCode::OK, "{bundle}");
    let record = &bundle["record"];
    assert_eq!(
        (&record["threshold"], &record["custodians"]),
        (&json!(2), &json!(3)),
        "2 of 3 custodians needed, not 2 of the 2 who submitted"
    );
    assert_eq!(record["bids"][0]["sheet"]["total_price_fen"], prices[0]);
    assert_eq!(record["bids"][3]["cause"]["code"], "NOT_DECRYPTED");
    // R-OPEN-4: each bidder's decryption start, end and status.
    assert_eq!(
        record["bids"][3]["decrypt_started_at"], deadline,
        "first fetch"
    );
    assert_eq!(record["bids"][3]["decrypt_status"], "failed");
    assert!(record["bids"][3]["decrypted_at"].is_null());
    assert_eq!(
        record["bids"][0]["decrypt_started_at"],
        deadline + 2 * MINUTE,
        "reading the header is not starting"
    );
    assert_eq!(record["bids"][0]["decrypted_at"], deadline + 2 * MINUTE);
    assert_eq!(record["objections"][0]["answer"], answer);
    assert_eq!(record["confirmations"][0]["how"], "confirmed");
    assert_eq!(record["confirmations"].as_array().unwrap().len(), 5);
    assert_eq!(record["ledger_head"], closed["prev_hash"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("record.json");
    std::fs::write(&path, bundle.to_string()).unwrap();
    let out = crate::cli::verify(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("opening record verified"), "{stdout}");
    let mut forged = bundle.clone();
    forged["record"]["bids"][0]["sheet"]["total_price_fen"] = json!(prices[0] - 100);
    std::fs::write(&path, forged.to_string()).unwrap();
    let out = crate::cli::verify(&path);
    assert_eq!(out.status.code(), Some(1), "a forged record fails");

    // A confirmation after the close is refused.
    let r = command(
        &mut bidders[2].ws,
        "late-c",
        &tender,
        json!({"type": "confirm"}),
    )
    .await;
    assert_eq!(error_code(&r), "ILLEGAL_TRANSITION");
}

/// Bids from `supplier1..` with these opening sheets; returns (user, bid id, kb).
pub(crate) async fn bids_with(
    app: &TestApp,
    tender: &str,
    sheets: Vec<kaibiao::bid::package::OpeningSheet>,
) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (i, s) in sheets.into_iter().enumerate() {
        let user = format!("supplier{}", i + 1);
        let session = app.login(&user).await;
        let reg = session.register_keys().await;
        let (_, start) = start_bid(&session, tender).await;
        let container = seal_sheet(&start, s, b"doc", 1024);
        let bid = start["bid_id"].as_str().unwrap().to_string();
        let (status, v) = upload_all(&session, &bid, &container, 4096).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        out.push((user, bid, b64(&bidder_kb(&container, &reg))));
    }
    out
}

async fn http_command(app: &TestApp, user: &str, tender: &str, cmd: Value) -> (StatusCode, Value) {
    app.login(user)
        .await
        .post(&format!("/api/tenders/{tender}/opening"), cmd)
        .await
}

#[tokio::test]
async fn r_open_2_fewer_than_three_bidders_fail_the_tender_at_the_start() {
    let (app, clock) = spawn_app_at(T0).await;
    let t = app.school_tender().await;
    let tender = t["id"].as_str().unwrap().to_string();
    bids_with(
        &app,
        &tender,
        vec![sheet(1_000_000, "a"), sheet(2_000_000, "b")],
    )
    .await;
    clock.set(t["bid_deadline"].as_i64().unwrap());
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    let (status, v) = http_command(&app, "agency", &tender, json!({"type": "start"})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["phase"], "failed");
    assert_eq!(v["lots"][0]["bidders"], 2);
    assert!(v["lots"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("R-OPEN-2"));
    let (_, t) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}"))
        .await;
    assert_eq!(t["status"], "failed", "流标");
    let (status, v) = http_command(&app, "supplier1", &tender, json!({"type": "confirm"})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION")
    );
}

#[tokio::test]
async fn r_open_6_bidders_offering_the_same_brand_count_once_for_the_quorum() {
    let (app, clock) = spawn_app_at(T0).await;
    let t = app.school_tender().await;
    let tender = t["id"].as_str().unwrap().to_string();
    let branded = |price, brand: &str| {
        let mut s = sheet(price, "");
        s.brand = Some(brand.into());
        s
    };
    let bids = bids_with(
        &app,
        &tender,
        vec![
            branded(1_000_000, "希沃 Seewo"),
            branded(1_100_000, " 希沃 SEEWO "),
            branded(1_200_000, "鸿合 HiteVision"),
        ],
    )
    .await;
    clock.set(t["bid_deadline"].as_i64().unwrap());
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    // Three bidders: the quorum holds at the start.
    let (_, v) = http_command(&app, "agency", &tender, json!({"type": "start"})).await;
    assert_eq!(v["phase"], "decrypting");
    for (user, bid, kb) in &bids {
        let (status, v) = http_command(
            &app,
            user,
            &tender,
            json!({"type": "decrypt", "bid_id": bid, "kb": kb}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    for who in ["agency", "finance"] {
        let share = custodian_share(&app.base, app.dir.path(), &tender, who).await;
        let (status, v) = http_command(
            &app,
            who,
            &tender,
            json!({"type": "share", "index": share.index, "value": hex::encode(share.value)}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    // After the reading-out two offer one brand: two count, the lot fails (流标).
    let mut view = Value::Null;
    for _ in 0..100 {
        let (_, v) = app
            .login("oversight")
            .await
            .get(&format!("/api/tenders/{tender}/opening"))
            .await;
        if v["phase"] == "confirming" {
            view = v;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let lot = &view["lots"][0];
    assert_eq!(
        (lot["bidders"].as_i64(), lot["counted"].as_i64()),
        (Some(3), Some(2))
    );
    assert_eq!(lot["status"], "failed");
    assert!(lot["reason"].as_str().unwrap().contains("R-OPEN-6"));
    for (user, _, _) in &bids {
        http_command(&app, user, &tender, json!({"type": "confirm"})).await;
    }
    let (_, t) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}"))
        .await;
    assert_eq!(t["status"], "failed");
    let (_, record) = app
        .login("supplier3")
        .await
        .get(&format!("/api/tenders/{tender}/opening/record"))
        .await;
    assert_eq!(record["record"]["outcome"], "failed");
}
