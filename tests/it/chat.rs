//! The rooms' channels (互动区, #20): bidders ask the host from the deadline and never learn
//! who else asked; the host answers for all (the question quoted without its author) or
//! for the asker alone; the evaluation panel talks among themselves; supervisors read
//! everything; the public ledger holds each message by its digest; too many messages
//! are refused.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::bids::{seal, start_bid, upload_all};
use crate::common::{code, spawn_app_at, Session, TestApp};
use crate::hub::{connect, next_where, send};

const T0: i64 = 1_796_086_800_000;

async fn opening(s: &Session, tender: &str, cmd: Value) -> (StatusCode, Value) {
    s.post(&format!("/api/tenders/{tender}/opening"), cmd).await
}

/// The texts `who` reads in the room's channel, with how the author is named to them.
async fn read(app: &TestApp, who: &str, tender: &str, room: &str) -> Vec<(String, Value)> {
    let (status, v) = app
        .login(who)
        .await
        .get(&format!("/api/tenders/{tender}/{room}/messages"))
        .await;
    assert_eq!(status, StatusCode::OK, "{who}: {v}");
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| (m["text"].as_str().unwrap().to_string(), m.clone()))
        .collect()
}

/// Bids from supplier1..3, so that three bidders are in the hall.
async fn three_bids(app: &TestApp, tender: &str) {
    for user in ["supplier1", "supplier2", "supplier3"] {
        let s = app.login(user).await;
        s.register_keys().await;
        let (_, start) = start_bid(&s, tender).await;
        let container = seal(&start, user, b"proposal", 1024);
        let bid = start["bid_id"].as_str().unwrap();
        let (status, v) = upload_all(&s, bid, &container, 4096).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
}

fn texts(list: &[(String, Value)]) -> Vec<&str> {
    list.iter().map(|(t, _)| t.as_str()).collect()
}

#[tokio::test]
async fn bidders_ask_the_host_who_answers_for_all_or_one_and_no_bidder_learns_who_asked() {
    let (app, clock) = spawn_app_at(T0).await;
    let t = app.school_tender().await;
    let tender = t["id"].as_str().unwrap().to_string();
    let deadline = t["bid_deadline"].as_i64().unwrap();
    three_bids(&app, &tender).await;

    // Before the deadline a question would tell the host who has bid: refused. The host
    // may speak to the hall.
    let s1 = app.login("supplier1").await;
    let (status, v) = opening(&s1, &tender, json!({"type": "ask", "text": "何时开标？"})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "CHAT_CLOSED"),
        "{v}"
    );
    let host = app.login("agency").await;
    let welcome = "各位投标人好，开标将准时开始。";
    let (status, v) = opening(&host, &tender, json!({"type": "reply", "text": welcome})).await;
    assert_eq!(status, StatusCode::OK, "{v}");

    clock.set(deadline);
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    let host = app.login("agency").await;
    // supplier1 asks over the hub; supplier2 over HTTP.
    let q1 = "第1包的交货地点是否包括分校区？";
    let q2 = "我司的授权书能否在开标后补交？";
    let mut ws = connect(&app, "supplier1").await;
    let room = format!("opening:{tender}");
    send(&mut ws, json!({"type": "subscribe", "room": room})).await;
    next_where(&mut ws, |f| f["type"] == "subscribed").await;
    send(
        &mut ws,
        json!({"type": "command", "id": "q1", "room": room,
               "command": {"type": "ask", "text": q1}}),
    )
    .await;
    let ack = next_where(&mut ws, |f| f["id"] == "q1").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let q1_id = ack["result"]["message_id"].as_str().unwrap().to_string();
    // The room hears of it by its digest only.
    let event = next_where(&mut ws, |f| f["event"]["kind"] == "message_posted").await;
    assert!(!event.to_string().contains(q1), "{event}");
    let s2 = app.login("supplier2").await;
    let (status, v) = opening(&s2, &tender, json!({"type": "ask", "text": q2})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let q2_id = v["message_id"].as_str().unwrap().to_string();

    // The host and supervisors read both with who asked; each bidder its own only; the
    // purchaser what is public.
    for who in ["agency", "finance"] {
        let list = read(&app, who, &tender, "opening").await;
        assert_eq!(texts(&list), [welcome, q1, q2], "{who}");
        assert_eq!(list[1].1["author"], "黄石楚禾信息技术有限公司", "{who}");
    }
    let mine = read(&app, "supplier2", &tender, "opening").await;
    assert_eq!(texts(&mine), [welcome, q2]);
    assert_eq!(mine[1].1["mine"], true);
    assert_eq!(
        texts(&read(&app, "purchaser", &tender, "opening").await),
        [welcome]
    );

    // A public answer: everyone reads it with the question, never who asked.
    let a1 = "包括，详见招标文件第三章。";
    let (status, v) = opening(
        &host,
        &tender,
        json!({"type": "reply", "text": a1, "reply_to": q1_id}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // A private answer: the asker alone (and supervisors).
    let a2 = "授权书须随投标文件提交。";
    let (status, v) = opening(
        &host,
        &tender,
        json!({"type": "reply", "text": a2, "reply_to": q2_id, "private": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let s3 = read(&app, "supplier3", &tender, "opening").await;
    assert_eq!(texts(&s3), [welcome, a1]);
    assert_eq!(s3[1].1["reply_to"]["text"], q1);
    assert!(!s3[1].1.to_string().contains("楚禾"), "{:?}", s3[1].1);
    assert_eq!(
        texts(&read(&app, "supplier2", &tender, "opening").await),
        [welcome, q2, a1, a2]
    );
    assert_eq!(
        texts(&read(&app, "supplier1", &tender, "opening").await),
        [welcome, q1, a1]
    );
    assert_eq!(read(&app, "oversight", &tender, "opening").await.len(), 5);

    // Refusals: a private answer to nothing, an answer to no question, a bidder answering.
    for (who, cmd, want) in [
        (
            "agency",
            json!({"type": "reply", "text": "x", "private": true}),
            "VALIDATION",
        ),
        (
            "agency",
            json!({"type": "reply", "text": "x", "reply_to": "nope"}),
            "VALIDATION",
        ),
        (
            "agency",
            json!({"type": "reply", "text": " "}),
            "VALIDATION",
        ),
        (
            "supplier3",
            json!({"type": "reply", "text": "x", "reply_to": q1_id}),
            "FORBIDDEN",
        ),
        (
            "purchaser",
            json!({"type": "ask", "text": "x"}),
            "FORBIDDEN",
        ),
    ] {
        let (_, v) = opening(&app.login(who).await, &tender, cmd).await;
        assert_eq!(code(&v), want, "{who}: {v}");
    }
    // Six a minute, then RATE_LIMITED with when to try again; nothing kept of the seventh.
    let s3 = app.login("supplier3").await;
    for i in 0..6 {
        let (status, v) = opening(
            &s3,
            &tender,
            json!({"type": "ask", "text": format!("问题{i}")}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let (status, v) = opening(&s3, &tender, json!({"type": "ask", "text": "问题6"})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
        "{v}"
    );
    assert_eq!(read(&app, "supplier3", &tender, "opening").await.len(), 8);
    clock.set(deadline + 61_000);
    let s3 = app.login("supplier3").await;
    let (status, v) = opening(&s3, &tender, json!({"type": "ask", "text": "问题6"})).await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // The public ledger: every message by its digest, its id as the actor — no text, no
    // organisation, no name.
    let (_, ledger) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/tenders/{tender}/ledger"),
            None,
        )
        .await;
    let posted: Vec<&Value> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "message_posted")
        .collect();
    assert_eq!(posted.len(), 12);
    let text = ledger.to_string();
    for secret in [q1, q2, a1, a2] {
        assert!(!text.contains(secret), "{secret} in the public ledger");
    }
    let supplier1 = app.user_id("supplier1").await;
    let org1 = app.org_id("supplier1").await;
    for e in &posted {
        assert!(
            ledger["actors"].get(e["actor"].as_str().unwrap()).is_none(),
            "{e}"
        );
        let e = e.to_string();
        assert!(!e.contains(&supplier1) && !e.contains(&org1), "{e}");
    }
    let q1_event = posted
        .iter()
        .find(|e| e["body"]["message_id"] == q1_id.as_str())
        .unwrap();
    assert_eq!(q1_event["actor"], q1_id.as_str());
    assert_eq!(
        q1_event["body"]["text_sha256"],
        kaibiao::crypto::sha256_hex(q1.as_bytes())
    );
}

#[tokio::test]
async fn the_panel_talks_among_themselves_and_supervisors_read_it() {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, experts) = crate::mediapage::seated(&app, &clock).await;
    let said = "第2号投标的技术参数偏离表请大家重点看一下。";
    let e1 = app.login(&experts[0]).await;
    let (status, v) = e1
        .post(
            &format!("/api/tenders/{tender}/evaluation"),
            json!({"type": "say", "text": said}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // Experts by seat only (names are withheld until the award), supervisors read it; the
    // agency and purchaser, who run the session, do not.
    for who in [experts[1].as_str(), "finance", "oversight"] {
        let list = read(&app, who, &tender, "evaluation").await;
        assert_eq!(texts(&list), [said], "{who}");
        assert_eq!(list[0].1["author"], "第 1 席", "{who}");
    }
    for who in ["agency", "purchaser"] {
        assert!(
            read(&app, who, &tender, "evaluation").await.is_empty(),
            "{who}"
        );
    }
    for who in ["agency", "finance"] {
        let (_, v) = app
            .login(who)
            .await
            .post(
                &format!("/api/tenders/{tender}/evaluation"),
                json!({"type": "say", "text": "x"}),
            )
            .await;
        assert_eq!(code(&v), "FORBIDDEN", "{who}: {v}");
    }
}

/// In the hall: the host reads a bidder's question with who asked and answers it for
/// everyone; the other bidder sees the answer with the question, never the asker, and asks
/// its own from the page.
#[tokio::test]
async fn in_the_hall_the_host_answers_a_question_publicly_and_a_bidder_asks_from_the_page() {
    use crate::browser::{as_user, click_long, set_value, wait_long};
    use crate::hall::wait_text;

    let Some(driver) = crate::browser::browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = spawn_app_at(T0).await;
    let t = app.school_tender().await;
    let tender = t["id"].as_str().unwrap().to_string();
    three_bids(&app, &tender).await;
    clock.set(t["bid_deadline"].as_i64().unwrap());
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    let question = "样品递交地点在哪里？";
    let (status, v) = opening(
        &app.login("supplier1").await,
        &tender,
        json!({"type": "ask", "text": question}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // The host sees the question with who asked, and answers it for everyone.
    as_user(c, &app, "agency").await;
    c.goto(&app.url(&format!("/opening.html?tender={tender}")))
        .await
        .unwrap();
    let list = wait_text(c, "#chat-list", question).await;
    assert!(list.contains("黄石楚禾信息技术有限公司"), "{list}");
    click_long(c, ".chat-answer").await;
    let answer = "样品请于开标当日送至采购中心三楼。";
    set_value(c, "#chat-text", answer).await;
    click_long(c, "#chat-send").await;
    let list = wait_text(c, "#chat-list", answer).await;
    assert!(list.contains(&format!("问：{question}")), "{list}");
    wait_long(c, ".chat-msg[data-audience='public']").await;
    crate::browser::screenshots(c, "chat-host", "#hall-chat").await;

    // supplier2 reads the answer with the question, not who asked, and asks its own.
    as_user(c, &app, "supplier2").await;
    c.goto(&app.url(&format!("/opening.html?tender={tender}")))
        .await
        .unwrap();
    let list = wait_text(c, "#chat-list", answer).await;
    assert!(list.contains(question) && !list.contains("楚禾"), "{list}");
    let mine = "报价表是否需要盖章？";
    set_value(c, "#chat-text", mine).await;
    click_long(c, "#chat-send").await;
    let list = wait_text(c, "#chat-list", mine).await;
    assert!(list.contains("我"), "{list}");
    let host = read(&app, "agency", &tender, "opening").await;
    assert_eq!(texts(&host), [question, answer, mine]);
    driver.close().await;
}
