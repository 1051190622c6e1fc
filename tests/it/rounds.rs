//! Rounds of offers (多轮报价) in a competitive negotiation, with real WebSocket clients:
//! the panel reviews three responses, begins, sends one written notice to every supplier,
//! and asks for two rounds of offers, the second the final offers; each offer is sealed
//! on the supplier's side (KB1, its own key and the tender's), seen by no one before its
//! round closes, opened together after, and a supplier sends no final offer. Every
//! refusal has its code and changes nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::bids::{seal_sheet, sheet};
use crate::common::{b64, code, spawn_app_at, Registered, Session, TestApp};
use crate::evaluation::{accept, bid_and_open, expert_user, T0};
use crate::hub::{connect, next_where, send, Ws};
use kaibiao::clock::{Clock, ManualClock};

const MINUTE: i64 = 60_000;

/// A published competitive negotiation (lowest price), three suppliers' responses read out
/// at its opening, the panel drawn and seated, every response qualified and reviewed: the
/// evaluation is in `scoring`. Returns (tender, seated experts' user names).
pub async fn reviewed_negotiation(
    app: &TestApp,
    clock: &ManualClock,
    prices: &[i64],
) -> (String, Vec<String>) {
    reviewed(
        app,
        clock,
        "competitive_negotiation",
        json!({"method": "lowest_evaluated_price", "sme_rate_bp": 1000}),
        prices,
    )
    .await
}

/// As `reviewed_negotiation`, for `method` with these evaluation terms.
pub async fn reviewed(
    app: &TestApp,
    clock: &ManualClock,
    method: &str,
    evaluation: Value,
    prices: &[i64],
) -> (String, Vec<String>) {
    let agency = app.login("agency").await;
    let mut body = app.tender_body("社区卫生服务中心物业服务采购", T0).await;
    body["method"] = json!(method);
    body["category"] = json!("services");
    body["evaluation"] = evaluation;
    let (status, t) = agency.post("/api/tenders", body).await;
    assert!(status.is_success(), "{t}");
    let tender = t["id"].as_str().unwrap().to_string();
    let (status, t) = agency
        .post(&format!("/api/tenders/{tender}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let deadline = t["bid_deadline"].as_i64().unwrap();
    let bids = bid_and_open(app, clock, &tender, deadline, prices, b"response").await;

    let post = |s: Session, cmd: Value| {
        let tender = tender.clone();
        async move {
            let (status, v) = s
                .post(&format!("/api/tenders/{tender}/evaluation"), cmd.clone())
                .await;
            assert_eq!(status, StatusCode::OK, "{cmd} → {v}");
            v
        }
    };
    post(
        app.login("agency").await,
        json!({"type": "request_draw", "specialty": "environmental"}),
    )
    .await;
    post(
        app.login("finance").await,
        json!({"type": "draw", "nonce": "谈判小组"}),
    )
    .await;
    let (_, v) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}/evaluation"))
        .await;
    let mut experts = Vec::new();
    for seat in v["panel"].as_array().unwrap() {
        let user = expert_user(app, seat["expert_id"].as_str().unwrap()).await;
        let cmd = accept(app, &user, &tender).await;
        post(app.login(&user).await, cmd).await;
        experts.push(user);
    }
    for bid in &bids {
        post(
            app.login("purchaser").await,
            json!({"type": "qualify", "bid_id": bid, "pass": true}),
        )
        .await;
    }
    for user in &experts {
        for bid in &bids {
            post(
                app.login(user).await,
                json!({"type": "review", "bid_id": bid, "pass": true}),
            )
            .await;
        }
    }
    (tender, experts)
}

async fn command(ws: &mut Ws, id: &str, tender: &str, cmd: Value) -> Value {
    send(
        ws,
        json!({"type": "command", "id": id, "room": format!("rounds:{tender}"), "command": cmd}),
    )
    .await;
    next_where(ws, |v| v["id"] == id).await
}

fn error_code(reply: &Value) -> &str {
    assert_eq!(reply["type"], "error", "{reply}");
    reply["code"].as_str().unwrap()
}

async fn subscribe(ws: &mut Ws, tender: &str) -> Value {
    send(
        ws,
        json!({"type": "subscribe", "room": format!("rounds:{tender}"), "since_seq": 0}),
    )
    .await;
    next_where(ws, |v| v["type"] == "subscribed" || v["type"] == "error").await
}

async fn view(app: &TestApp, user: &str, tender: &str) -> Value {
    let (status, v) = app
        .login(user)
        .await
        .get(&format!("/api/tenders/{tender}/rounds"))
        .await;
    assert_eq!(status, StatusCode::OK, "{user}: {v}");
    v
}

async fn ledger_len(app: &TestApp, tender: &str) -> usize {
    crate::evaluation::ledger_of(app, tender).await["events"]
        .as_array()
        .unwrap()
        .len()
}

/// `PUT /api/offers/{id}` with the container.
pub async fn put_offer(s: &Session, offer: &str, bytes: &[u8]) -> (StatusCode, Value) {
    crate::bids::put_raw(s, &format!("/api/offers/{offer}"), bytes).await
}

/// The supplier seals an offer at `price_fen` in the open round (its notes `notes`) and
/// sends it; returns (offer id, the container).
pub async fn offer(s: &Session, tender: &str, price_fen: i64, notes: &str) -> (String, Vec<u8>) {
    let (status, slot) = s.get(&format!("/api/tenders/{tender}/rounds/slot")).await;
    assert_eq!(status, StatusCode::OK, "{slot}");
    let container = seal_sheet(&slot, sheet(price_fen, notes), notes.as_bytes(), 1024);
    let id = slot["offer_id"].as_str().unwrap().to_string();
    let (status, v) = put_offer(s, &id, &container).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "sealed");
    (id, container)
}

fn kb(container: &[u8], reg: &Registered) -> String {
    b64(&crate::bids::bidder_kb(container, reg))
}

/// Runs the rounds' due work now (the job does it every second).
async fn tick(app: &TestApp) {
    kaibiao::rounds::service::advance_due(&app.state)
        .await
        .unwrap();
}

fn offers_of(v: &Value, round: usize) -> &Vec<Value> {
    v["rounds"][round]["offers"].as_array().unwrap()
}

#[tokio::test]
async fn r_meth_2_a_negotiation_in_two_rounds_seals_each_offer_until_its_round_closes_and_awards_the_lowest_evaluated_final_offer(
) {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, experts) = reviewed_negotiation(
        &app,
        &clock,
        &[100_000_000, 105_000_000, 98_000_000, 99_100_000],
    )
    .await;

    let mut host = connect(&app, "agency").await;
    let mut oversight = connect(&app, "oversight").await;
    let mut expert = connect(&app, &experts[0]).await;
    let mut s1ws = connect(&app, "supplier1").await;
    // Not yet begun: a supplier is no member of the rounds.
    assert_eq!(subscribe(&mut s1ws, &tender).await["code"], "FORBIDDEN");
    for ws in [&mut host, &mut oversight, &mut expert] {
        assert_eq!(subscribe(ws, &tender).await["type"], "subscribed");
    }
    let before = ledger_len(&app, &tender).await;
    let r = command(&mut expert, "b0", &tender, json!({"type": "begin"})).await;
    assert_eq!(error_code(&r), "FORBIDDEN", "the host begins");
    assert_eq!(ledger_len(&app, &tender).await, before);
    let r = command(&mut host, "b1", &tender, json!({"type": "begin"})).await;
    assert_eq!(r["result"]["suppliers"], 4, "{r}");
    let r = command(&mut host, "b2", &tender, json!({"type": "begin"})).await;
    assert_eq!(error_code(&r), "ILLEGAL_TRANSITION");

    let mut sessions: Vec<Session> = Vec::new();
    let mut keys = Vec::new();
    for user in ["supplier1", "supplier2", "supplier3", "supplier4"] {
        let s = app.login(user).await;
        keys.push(s.register_keys().await);
        sessions.push(s);
    }
    assert_eq!(subscribe(&mut s1ws, &tender).await["type"], "subscribed");

    // A changed requirement, in writing, the same to every supplier.
    let text = "服务期内保洁人员由 12 人调整为 14 人,其余不变。";
    let r = command(
        &mut expert,
        "n1",
        &tender,
        json!({"type": "notify", "text": text}),
    )
    .await;
    assert_eq!(r["result"]["notice_no"], 1, "{r}");
    for user in ["supplier1", "supplier2", "supplier3"] {
        let v = view(&app, user, &tender).await;
        assert_eq!(v["notices"][0]["text"], text, "{user}");
        assert_eq!(v["phase"], "negotiating");
    }
    let r = command(
        &mut s1ws,
        "n2",
        &tender,
        json!({"type": "notify", "text": "x"}),
    )
    .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "a supplier sends no notice");

    // The talk with each supplier apart: the panel asks supplier 1, which answers;
    // supplier 2 reads none of it, the supervisors all of it.
    let s1_org = app.org_id("supplier1").await;
    let ask = "贵司第一轮报价中的驻场人员能否按 14 人配置?";
    let answer = "可以,驻场 14 人,费用已含。";
    let r = command(
        &mut expert,
        "t1",
        &tender,
        json!({"type": "talk", "to": s1_org, "text": ask}),
    )
    .await;
    assert_eq!(r["result"]["message_no"], 1, "{r}");
    let r = command(
        &mut s1ws,
        "t2",
        &tender,
        json!({"type": "talk", "text": answer}),
    )
    .await;
    assert_eq!(r["result"]["message_no"], 2, "{r}");
    let thread = |v: &Value| -> Vec<(String, String)> {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["from"].to_string(), m["text"].to_string()))
            .collect()
    };
    let expected = vec![
        (json!("panel").to_string(), json!(ask).to_string()),
        (json!("supplier").to_string(), json!(answer).to_string()),
    ];
    assert_eq!(thread(&view(&app, "supplier1", &tender).await), expected);
    assert_eq!(thread(&view(&app, "oversight", &tender).await), expected);
    let other = view(&app, "supplier2", &tender).await;
    assert_eq!(
        other["messages"],
        json!([]),
        "another supplier's talk is not shown"
    );
    assert!(!other.to_string().contains(ask) && !other.to_string().contains(answer));
    // Refused, nothing written: a supplier writing to another supplier, the host without
    // a supplier, a supplier outside the negotiation, the purchaser (who does not conduct).
    let before = ledger_len(&app, &tender).await;
    let s2_org = app.org_id("supplier2").await;
    let r = command(
        &mut s1ws,
        "t3",
        &tender,
        json!({"type": "talk", "to": s2_org, "text": "你好"}),
    )
    .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r}");
    let r = command(
        &mut host,
        "t4",
        &tender,
        json!({"type": "talk", "text": "各位"}),
    )
    .await;
    assert_eq!(error_code(&r), "VALIDATION", "{r}");
    let outsider = app.org_id("supplier5").await;
    let r = command(
        &mut host,
        "t5",
        &tender,
        json!({"type": "talk", "to": outsider, "text": "你好"}),
    )
    .await;
    assert_eq!(error_code(&r), "NOT_IN_NEGOTIATION", "{r}");
    let (status, v) = app
        .login("purchaser")
        .await
        .post(
            &format!("/api/tenders/{tender}/rounds"),
            json!({"type": "talk", "to": s1_org, "text": "你好"}),
        )
        .await;
    assert_eq!((status, code(&v)), (StatusCode::FORBIDDEN, "FORBIDDEN"));
    assert_eq!(ledger_len(&app, &tender).await, before);

    // Round 1.
    let now = clock.now_ms();
    let mut s2ws = connect(&app, "supplier2").await;
    assert_eq!(subscribe(&mut s2ws, &tender).await["type"], "subscribed");
    let r = command(
        &mut host,
        "r0",
        &tender,
        json!({"type": "open_round", "closes_at": now + MINUTE}),
    )
    .await;
    assert_eq!(error_code(&r), "ROUND_CLOSING_TIME_INVALID");
    let closes = now + 30 * MINUTE;
    let r = command(
        &mut host,
        "r1",
        &tender,
        json!({"type": "open_round", "closes_at": closes}),
    )
    .await;
    assert_eq!(r["result"]["round_no"], 1, "{r}");
    let r = command(
        &mut expert,
        "r1b",
        &tender,
        json!({"type": "open_round", "closes_at": closes}),
    )
    .await;
    assert_eq!(error_code(&r), "ROUND_IN_PROGRESS");

    let sealed_before = ledger_len(&app, &tender).await;
    let mut round1 = Vec::new();
    for (i, price) in [96_000_000i64, 99_000_000, 97_000_000, 98_500_000]
        .iter()
        .enumerate()
    {
        let (id, container) = offer(&sessions[i], &tender, *price, &format!("第一轮 {i}")).await;
        round1.push((id, container));
    }
    // A second offer in the round: refused, the first stands.
    let (status, v) = put_offer(&sessions[0], &round1[0].0, &round1[0].1).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ALREADY_OFFERED")
    );
    let (status, v) = sessions[0]
        .get(&format!("/api/tenders/{tender}/rounds/slot"))
        .await;
    assert_eq!(code(&v), "ALREADY_OFFERED", "{status} {v}");
    // Sealing tells no one: not the ledger, not the panel, not the host.
    assert_eq!(ledger_len(&app, &tender).await, sealed_before);
    for who in [
        "agency",
        "purchaser",
        experts[0].as_str(),
        experts[1].as_str(),
    ] {
        let v = view(&app, who, &tender).await;
        assert_eq!(v["phase"], "round_open");
        assert!(offers_of(&v, 0).is_empty(), "{who} sees {v}");
    }
    let v = view(&app, "oversight", &tender).await;
    assert_eq!(offers_of(&v, 0).len(), 4, "supervisors see who has sealed");
    assert!(offers_of(&v, 0).iter().all(|o| o["sheet"].is_null()));
    let v = view(&app, "supplier2", &tender).await;
    assert_eq!(
        offers_of(&v, 0).len(),
        1,
        "a supplier sees its own offer only"
    );
    assert_eq!(offers_of(&v, 0)[0]["offer_id"], round1[1].0.as_str());
    // A supplier's key before the close: refused; another's offer: no such offer.
    let r = command(
        &mut s1ws,
        "d0",
        &tender,
        json!({"type": "decrypt", "offer_id": round1[0].0, "kb": kb(&round1[0].1, &keys[0])}),
    )
    .await;
    assert_eq!(error_code(&r), "ROUND_NOT_CLOSED");
    let (status, _) = sessions[1]
        .get(&format!("/api/offers/{}/header", round1[0].0))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The round closes at its deadline; each supplier releases its key.
    clock.set(closes);
    tick(&app).await;
    let closed = next_where(&mut host, |v| {
        v["type"] == "event" && v["event"]["kind"] == "round_closed"
    })
    .await;
    assert_eq!(
        closed["event"]["body"]["offers"].as_array().unwrap().len(),
        4
    );
    let (status, v) = put_offer(&sessions[2], &round1[2].0, &round1[2].1).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ALREADY_OFFERED")
    );
    let r = command(
        &mut s2ws,
        "d1",
        &tender,
        json!({"type": "decrypt", "offer_id": round1[0].0, "kb": kb(&round1[0].1, &keys[0])}),
    )
    .await;
    assert_eq!(error_code(&r), "FORBIDDEN", "another's offer");
    let r = command(
        &mut s1ws,
        "d2",
        &tender,
        json!({"type": "decrypt", "offer_id": round1[0].0, "kb": b64(&[7u8; 32])}),
    )
    .await;
    assert_eq!(error_code(&r), "KB_HASH_MISMATCH");
    for (i, (id, container)) in round1.iter().enumerate() {
        let (status, v) = sessions[i]
            .post(
                &format!("/api/tenders/{tender}/rounds"),
                json!({"type": "decrypt", "offer_id": id, "kb": kb(container, &keys[i])}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        if i < 3 {
            // Not read while a key is still out.
            let v = view(&app, "agency", &tender).await;
            assert!(offers_of(&v, 0).iter().all(|o| o["sheet"].is_null()), "{v}");
        }
    }
    let revealed = next_where(&mut expert, |v| {
        v["type"] == "event" && v["event"]["kind"] == "round_revealed"
    })
    .await;
    let body = revealed["event"]["body"].to_string();
    assert!(!body.contains("96000000"), "no price in the ledger: {body}");
    let v = view(&app, &experts[1], &tender).await;
    let prices: Vec<i64> = offers_of(&v, 0)
        .iter()
        .map(|o| o["sheet"]["total_price_fen"].as_i64().unwrap())
        .collect();
    assert_eq!(prices.len(), 4, "{v}");
    assert!(prices.contains(&96_000_000) && prices.contains(&97_000_000));
    let v = view(&app, "supplier3", &tender).await;
    assert_eq!(offers_of(&v, 0).len(), 1);
    assert_eq!(offers_of(&v, 0)[0]["sheet"]["total_price_fen"], 97_000_000);

    // Round 2: the final offers; supplier 2 sends none.
    let now = clock.now_ms();
    let closes = now + 20 * MINUTE;
    let r = command(
        &mut expert,
        "r2",
        &tender,
        json!({"type": "open_round", "closes_at": closes, "final": true}),
    )
    .await;
    assert_eq!(r["result"]["round_no"], 2, "{r}");
    let (o1, c1) = offer(&sessions[0], &tender, 95_500_000, "最后报价 1").await;
    let (o3, c3) = offer(&sessions[2], &tender, 94_800_000, "最后报价 3").await;
    let (o4, c4) = offer(&sessions[3], &tender, 106_000_000, "最后报价 4").await;
    let (status, slot) = sessions[1]
        .get(&format!("/api/tenders/{tender}/rounds/slot"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let late = seal_sheet(&slot, sheet(90_000_000, "迟到"), b"late", 1024);
    clock.set(closes);
    tick(&app).await;
    let (status, v) = put_offer(&sessions[1], slot["offer_id"].as_str().unwrap(), &late).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ROUND_CLOSED"),
        "{v}"
    );
    let r = command(
        &mut host,
        "r3",
        &tender,
        json!({"type": "open_round", "closes_at": closes + 30 * MINUTE}),
    )
    .await;
    assert_eq!(error_code(&r), "ROUND_IN_PROGRESS");
    for (i, id, c) in [(0usize, &o1, &c1), (2, &o3, &c3), (3, &o4, &c4)] {
        let (status, v) = sessions[i]
            .post(
                &format!("/api/tenders/{tender}/rounds"),
                json!({"type": "decrypt", "offer_id": id, "kb": kb(c, &keys[i])}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    next_where(&mut host, |v| {
        v["type"] == "event" && v["event"]["kind"] == "negotiation_finished"
    })
    .await;
    let v = view(&app, "agency", &tender).await;
    assert_eq!(v["phase"], "finished");
    let result: Vec<(Option<i64>, String)> = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["price_fen"].as_i64(),
                f["basis"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(result.len(), 4, "{result:?}");
    for want in [
        (Some(95_500_000), "final_offer".to_string()),
        (Some(106_000_000), "final_offer".to_string()),
        (Some(94_800_000), "final_offer".to_string()),
        // No final offer: taken as withdrawn (214号 art 20).
        (None, "withdrawn".to_string()),
    ] {
        assert!(result.contains(&want), "{want:?} in {result:?}");
    }
    let r = command(
        &mut host,
        "r4",
        &tender,
        json!({"type": "open_round", "closes_at": clock.now_ms() + 30 * MINUTE}),
    )
    .await;
    assert_eq!(error_code(&r), "ILLEGAL_TRANSITION");
    // A supplier sees its own final offer, not another's.
    let v = view(&app, "supplier3", &tender).await;
    let mine = v["result"].as_array().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["price_fen"], 94_800_000);
    assert_eq!(v["suppliers"].as_array().unwrap().len(), 1);
    // The whole ledger names no price of any offer and verifies.
    let ledger = crate::evaluation::ledger_of(&app, &tender).await;
    let text = ledger.to_string();
    for p in ["96000000", "99000000", "95500000", "94800000", "106000000"] {
        assert!(!text.contains(p), "{p} in the ledger");
    }
    // The experts who sent the notice and opened the rounds are named by seat pseudonym
    // only, never by an id that would follow them (R-EVAL-2).
    for e in &experts {
        let id = app.user_id(e).await;
        assert!(!text.contains(&id), "{e}'s id in the ledger");
    }
    let kinds: Vec<&str> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|k| {
            [
                "negotiation_started",
                "negotiation_notice",
                "round_opened",
                "round_closed",
                "round_revealed",
                "negotiation_finished",
            ]
            .contains(k)
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "negotiation_started",
            "negotiation_notice",
            "round_opened",
            "round_closed",
            "round_revealed",
            "round_opened",
            "round_closed",
            "round_revealed",
            "negotiation_finished"
        ]
    );
    let typed: kaibiao::ledger::Ledger = serde_json::from_value(ledger).unwrap();
    kaibiao::ledger::verify(&typed).expect("the ledger verifies");

    // Three final offers, the least 74号 art 33 allows. The lowest evaluated final offer is
    // first (74号 art 35, R-EVAL-6): supplier 1 is small, its 955,000.00 less 10 %
    // (R-POL-2) is 859,500.00, under supplier 3's 948,000.00; supplier 2 is out.
    let evaluation = format!("/api/tenders/{tender}/evaluation");
    crate::evaluation::chair_finishes(&app, &app.login("agency").await, &tender).await;
    let (_, ev) = app.login("oversight").await.get(&evaluation).await;
    let ranked: Vec<(i64, i64)> = ev["result"][0]["result"]["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rank"].as_i64().unwrap(),
                r["evaluated_fen"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ranked.len(), 3, "{ev}");
    assert_eq!(&ranked[..2], [(1, 85_950_000), (2, 94_800_000)], "{ev}");
}

#[tokio::test]
async fn no_offer_content_in_the_database_or_blobs_before_its_round_closes() {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, _) =
        reviewed_negotiation(&app, &clock, &[100_000_000, 105_000_000, 98_000_000]).await;
    let (status, v) = app
        .login("agency")
        .await
        .post(
            &format!("/api/tenders/{tender}/rounds"),
            json!({"type": "begin"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let closes = clock.now_ms() + 30 * MINUTE;
    let (status, v) = app
        .login("agency")
        .await
        .post(
            &format!("/api/tenders/{tender}/rounds"),
            json!({"type": "open_round", "closes_at": closes, "final": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    let marker = format!("KAIBIAO-OFFER-MARKER-{}", uuid::Uuid::new_v4().simple());
    let s = app.login("supplier1").await;
    let reg = s.register_keys().await;
    let (_, container) = offer(&s, &tender, 93_000_000, &marker).await;
    let forms = [
        marker.clone().into_bytes(),
        b64(marker.as_bytes()).into_bytes(),
        hex::encode(marker.as_bytes()).into_bytes(),
    ];
    let scan = |what: &str, bytes: &[u8]| {
        for form in &forms {
            assert!(
                !crate::bids::contains(bytes, form),
                "offer content found in {what}"
            );
        }
    };
    let mut scanned = 0;
    for f in crate::bids::files(app.dir.path()) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        scan(&f.display().to_string(), &bytes);
        scanned += bytes.len();
    }
    assert!(
        scanned > container.len(),
        "the database and blobs were scanned"
    );
    if let Some(url) = &app.database_url {
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
        assert!(tables.iter().any(|t| t == "round_offers"));
        for t in tables {
            for r in sqlx::query(&format!("SELECT row_to_json(x)::text AS j FROM {t} x"))
                .fetch_all(&mut conn)
                .await
                .unwrap()
            {
                let j: String = r.get("j");
                scan(&format!("table {t}"), j.as_bytes());
            }
        }
    }
    // After the close and the supplier's key, the offer is read: the marker is its notes.
    clock.set(closes);
    tick(&app).await;
    let s = app.login("supplier1").await;
    let (_, v) = s.get(&format!("/api/tenders/{tender}/rounds")).await;
    let offer_id = offers_of(&v, 0)[0]["offer_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, v) = s
        .post(
            &format!("/api/tenders/{tender}/rounds"),
            json!({"type": "decrypt", "offer_id": offer_id, "kb": kb(&container, &reg)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let v = view(&app, "agency", &tender).await;
    let read: Vec<&Value> = offers_of(&v, 0)
        .iter()
        .filter(|o| o["status"] == "read_out")
        .collect();
    assert_eq!(read.len(), 1, "{v}");
    assert_eq!(read[0]["sheet"]["notes"], marker.as_str());
}

/// A rounds command over the hub that must be acknowledged.
async fn ws_ok(ws: &mut Ws, tender: &str, cmd: Value) -> Value {
    let id = format!("c{}", rand::random::<u32>());
    let r = command(ws, &id, tender, cmd.clone()).await;
    assert_eq!(r["type"], "ack", "{cmd} → {r}");
    r["result"].clone()
}

/// A command over HTTP that must succeed.
async fn ok(s: &Session, path: &str, cmd: Value) -> Value {
    let (status, v) = s.post(path, cmd.clone()).await;
    assert_eq!(status, StatusCode::OK, "{cmd} → {v}");
    v
}

#[tokio::test]
async fn r_meth_2_a_consultation_scores_the_final_offers_with_its_price_weight_and_the_panel_signs()
{
    let (app, clock) = spawn_app_at(T0).await;
    let terms = json!({
        "method": "comprehensive", "sme_rate_bp": 1000, "price_weight_bp": 3000,
        "items": [{"name": "服务方案", "weight_bp": 4000}, {"name": "人员配置", "weight_bp": 3000}]
    });
    let (tender, experts) = reviewed(
        &app,
        &clock,
        "competitive_consultation",
        terms,
        &[100_000_000, 105_000_000, 98_000_000, 99_000_000],
    )
    .await;
    let evaluation = format!("/api/tenders/{tender}/evaluation");
    let host = app.login("agency").await;
    // The rounds over real WebSocket clients: the host, an expert, each supplier.
    let mut host_ws = connect(&app, "agency").await;
    let mut expert_ws = connect(&app, &experts[0]).await;
    ws_ok(&mut host_ws, &tender, json!({"type": "begin"})).await;
    ws_ok(
        &mut expert_ws,
        &tender,
        json!({"type": "notify", "text": "保洁频次由每日一次调整为每日两次,请据此报价。"}),
    )
    .await;
    // Closing scoring before the final offers: refused (the chair, elected by the panel).
    let chair = crate::evaluation::elect_chair(&app, &tender, &experts[0]).await;
    let (status, v) = chair
        .post(&evaluation, json!({"type": "finish_scoring"}))
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "NEGOTIATION_NOT_FINISHED"),
        "{v}"
    );

    let mut sessions = Vec::new();
    let mut keys = Vec::new();
    let mut sockets = Vec::new();
    for u in ["supplier1", "supplier2", "supplier3", "supplier4"] {
        let s = app.login(u).await;
        keys.push(s.register_keys().await);
        sessions.push(s);
        let mut ws = connect(&app, u).await;
        assert_eq!(subscribe(&mut ws, &tender).await["type"], "subscribed");
        sockets.push(ws);
    }
    // Two rounds; supplier 2 sends no final offer and is out (214号 art 20).
    let plan: [(bool, [Option<i64>; 4]); 2] = [
        (
            false,
            [
                Some(99_000_000),
                Some(101_000_000),
                Some(97_000_000),
                Some(112_000_000),
            ],
        ),
        (
            true,
            [Some(96_000_000), None, Some(95_000_000), Some(110_000_000)],
        ),
    ];
    for (is_final, prices) in plan {
        let closes = clock.now_ms() + 15 * MINUTE;
        ws_ok(
            &mut expert_ws,
            &tender,
            json!({"type": "open_round", "closes_at": closes, "final": is_final}),
        )
        .await;
        let mut sealed = Vec::new();
        for (i, p) in prices.iter().enumerate() {
            if let Some(p) = p {
                let (id, c) = offer(&sessions[i], &tender, *p, "报价").await;
                sealed.push((i, id, c));
            }
        }
        clock.set(closes);
        tick(&app).await;
        for (i, id, c) in &sealed {
            ws_ok(
                &mut sockets[*i],
                &tender,
                json!({"type": "decrypt", "offer_id": id, "kb": kb(c, &keys[*i])}),
            )
            .await;
        }
        // Every supplier's room hears the round read, together.
        for ws in sockets.iter_mut() {
            next_where(ws, |v| {
                v["type"] == "event" && v["event"]["kind"] == "round_revealed"
            })
            .await;
        }
    }
    let v = view(&app, "oversight", &tender).await;
    assert_eq!(v["phase"], "finished", "{v}");
    let out_name = v["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["basis"] == "withdrawn")
        .unwrap()["bidder_name"]
        .as_str()
        .unwrap()
        .to_string();

    // The panel scores the three still in; the one out is not evaluated.
    let (_, ev) = host.get(&evaluation).await;
    let bids: Vec<(String, String)> = ev["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["bid_id"].as_str().unwrap().to_string(),
                b["bidder_name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(bids.len(), 4, "{ev}");
    assert!(bids.iter().any(|(_, n)| *n == out_name), "{ev}");
    // The panel sees each final offer as the price, and who is out.
    let mut shown: Vec<(i64, &str)> = ev["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["price"].as_i64().unwrap(),
                b["negotiated"].as_str().unwrap(),
            )
        })
        .collect();
    shown.sort();
    assert_eq!(
        shown,
        [
            (95_000_000, "final_offer"),
            (96_000_000, "final_offer"),
            (105_000_000, "out"),
            (110_000_000, "final_offer")
        ],
        "{ev}"
    );
    for u in &experts {
        let s = app.login(u).await;
        for (b, name) in &bids {
            let (status, v) = s
                .post(
                    &evaluation,
                    json!({"type": "score", "bid_id": b, "items": {"服务方案": "80", "人员配置": "90"}}),
                )
                .await;
            if *name == out_name {
                assert_eq!(code(&v), "BID_NOT_EVALUATED", "{status} {v}");
            } else {
                assert_eq!(status, StatusCode::OK, "{v}");
            }
        }
    }
    crate::evaluation::chair_finishes(&app, &host, &tender).await;
    let (_, ev) = app.login("oversight").await.get(&evaluation).await;
    let lot = &ev["result"][0]["result"];
    let mut offered: Vec<i64> = lot["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["price"]["price_offered_fen"].as_i64().unwrap())
        .collect();
    offered.sort();
    assert_eq!(
        offered,
        [95_000_000, 96_000_000, 110_000_000],
        "the final offers are what is priced: {lot}"
    );
    let ranking = lot["ranking"].as_array().unwrap();
    assert_eq!(ranking.len(), 3, "{lot}");
    // Equal item scores, so the lower evaluated final offer ranks first: supplier 1 is a
    // small enterprise, its 960,000.00 less the 10 % deduction (R-POL-2) is 864,000.00,
    // the benchmark, with the full 30 price points; 950,000.00 from a large one has
    // 864,000 / 950,000 × 30 = 27.29 (214号 art 24: benchmark / price × weight).
    let summary: Vec<(i64, i64, i64)> = ranking
        .iter()
        .map(|r| {
            let bid = lot["bids"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["bidder"] == r["bidder"])
                .unwrap();
            (
                bid["price"]["price_offered_fen"].as_i64().unwrap(),
                r["evaluated_fen"].as_i64().unwrap(),
                r["total"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (96_000_000, 86_400_000, 8900),
            (95_000_000, 95_000_000, 8628),
            (110_000_000, 99_000_000, 8518)
        ],
        "{lot}"
    );

    // Every expert signs the report.
    let sha = ev["report"]["sha256"].as_str().unwrap().to_string();
    for u in &experts {
        let s = app.login(u).await;
        let reg = s.register_keys().await;
        let (_, me) = s.get(&evaluation).await;
        let seat = me["report"]["signing"]["expert_id"]
            .as_str()
            .unwrap()
            .to_string();
        let payload = kaibiao::committee::service::signing_payload(&tender, &sha, &seat, "");
        let sig = b64(&reg.keys.sign(payload.as_bytes()));
        ok(
            &s,
            &evaluation,
            json!({"type": "sign", "key_id": reg.signing_key_id, "signature": sig}),
        )
        .await;
    }
    let (_, ev) = host.get(&evaluation).await;
    assert_eq!(ev["phase"], "reported", "{ev}");
}

#[tokio::test]
async fn r_meth_2_an_enquiry_has_no_rounds_and_awards_the_lowest_evaluated_offer() {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, experts) = reviewed(
        &app,
        &clock,
        "inquiry",
        json!({"method": "lowest_evaluated_price", "sme_rate_bp": 1000}),
        &[100_000_000, 93_000_000, 98_000_000],
    )
    .await;
    // One offer that may not be changed: no rounds (74号 art 45).
    let host = app.login("agency").await;
    let (status, v) = host
        .post(
            &format!("/api/tenders/{tender}/rounds"),
            json!({"type": "begin"}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "METHOD_HAS_NO_ROUNDS"),
        "{v}"
    );
    let v = view(&app, &experts[0], &tender).await;
    assert_eq!(
        (v["has_rounds"].as_bool(), v["phase"].as_str()),
        (Some(false), Some("not_started"))
    );
    let evaluation = format!("/api/tenders/{tender}/evaluation");
    crate::evaluation::chair_finishes(&app, &host, &tender).await;
    let (_, ev) = app.login("oversight").await.get(&evaluation).await;
    let lot = &ev["result"][0]["result"];
    let ranked: Vec<(i64, i64)> = lot["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rank"].as_i64().unwrap(),
                r["evaluated_fen"].as_i64().unwrap(),
            )
        })
        .collect();
    // supplier1 is small: 1,000,000.00 less 10 % is 900,000.00, below 930,000.00 and
    // 980,000.00 from the others (R-POL-2, R-EVAL-6).
    assert_eq!(
        ranked,
        [(1, 90_000_000), (2, 93_000_000), (3, 98_000_000)],
        "{lot}"
    );
}

#[tokio::test]
async fn r_meth_1_a_single_source_negotiation_is_recorded_with_its_price_reasoning_and_signed_by_the_panel(
) {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, experts) = reviewed(
        &app,
        &clock,
        "single_source",
        json!({"method": "lowest_evaluated_price", "sme_rate_bp": 1000}),
        &[118_000_000],
    )
    .await;
    let rounds = format!("/api/tenders/{tender}/rounds");
    let host = app.login("agency").await;
    ok(&host, &rounds, json!({"type": "begin"})).await;
    // The one supplier's offer after the talks, sealed like any.
    let s = app.login("supplier1").await;
    let reg = s.register_keys().await;
    let closes = clock.now_ms() + 10 * MINUTE;
    ok(
        &app.login(&experts[0]).await,
        &rounds,
        json!({"type": "open_round", "closes_at": closes, "final": true}),
    )
    .await;
    let (id, container) = offer(&s, &tender, 112_000_000, "协商后报价").await;
    clock.set(closes);
    tick(&app).await;
    ok(
        &s,
        &rounds,
        json!({"type": "decrypt", "offer_id": id, "kb": kb(&container, &reg)}),
    )
    .await;

    // The record: only the host or the panel writes it; the supplier does not see it.
    let minutes = json!({"type": "record_minutes",
        "text": "与黄石楚禾信息技术有限公司就维保范围、响应时间与价格逐项协商。",
        "price_reasoning": "参照近三年同型号设备原厂维保合同均价 1,150,000 元及本项目增加的 2 台设备,\
                            协商成交价 1,120,000 元合理。",
        "agreed_price_fen": 112_000_000});
    let (status, v) = s.post(&rounds, minutes.clone()).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::FORBIDDEN, "FORBIDDEN"),
        "{v}"
    );
    let r = ok(&app.login(&experts[1]).await, &rounds, minutes.clone()).await;
    let sha = r["minutes_sha256"].as_str().unwrap().to_string();
    assert!(view(&app, "supplier1", &tender).await["minutes"].is_null());

    // Every seated member signs with their own key; a forged or second signature fails.
    let mut signed = 0;
    for (i, e) in experts.iter().enumerate() {
        let es = app.login(e).await;
        let reg = es.register_keys().await;
        let v = view(&app, e, &tender).await;
        assert_eq!(v["minutes"]["sha256"], sha.as_str());
        let payload = v["minutes"]["my_payload"].as_str().unwrap().to_string();
        if i == 0 {
            let forged = b64(&reg.keys.sign(b"something else"));
            let (status, v) = es
                .post(
                    &rounds,
                    json!({"type": "sign_minutes", "key_id": reg.signing_key_id, "signature": forged}),
                )
                .await;
            assert_eq!(code(&v), "SIGNATURE_INVALID", "{status} {v}");
        }
        let sig = b64(&reg.keys.sign(payload.as_bytes()));
        let cmd = json!({"type": "sign_minutes", "key_id": reg.signing_key_id, "signature": sig});
        let r = ok(&es, &rounds, cmd.clone()).await;
        signed += 1;
        assert_eq!(r["signed"], signed);
        if i == 0 {
            let (_, v) = es.post(&rounds, cmd).await;
            assert_eq!(code(&v), "ALREADY_SIGNED", "{v}");
            // Signed once: the record no longer changes.
            let (_, v) = host.post(&rounds, minutes.clone()).await;
            assert_eq!(code(&v), "MINUTES_FROZEN", "{v}");
        }
    }
    let v = view(&app, "oversight", &tender).await;
    assert_eq!(v["minutes"]["complete"], true, "{v}");
    assert_eq!(
        v["minutes"]["signatures"].as_array().unwrap().len(),
        experts.len()
    );
    assert_eq!(v["minutes"]["agreed_price_fen"], 112_000_000);
    let ledger = crate::evaluation::ledger_of(&app, &tender).await;
    let kinds: Vec<&str> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|k| k.starts_with("minutes_"))
        .collect();
    assert_eq!(kinds.len(), 1 + experts.len(), "{kinds:?}");
}
