//! The hub with real WebSocket clients: ledger replay then live events, membership and
//! role checks on every command, presence, and bid events withheld from non-supervisors
//! until the deadline.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{spawn_app_at, TestApp, PASSWORD};

const T0: i64 = 1_796_086_800_000;

pub(crate) type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn token(app: &TestApp, user: &str) -> String {
    let (status, v) = app
        .call(
            reqwest::Method::POST,
            "/api/auth/tokens",
            Some(json!({"username": user, "password": PASSWORD, "label": "hub test"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    v["token"].as_str().unwrap().to_string()
}

pub(crate) async fn connect(app: &TestApp, user: &str) -> Ws {
    connect_with_token(app, &token(app, user).await).await
}

pub(crate) async fn connect_with_token(app: &TestApp, token: &str) -> Ws {
    let url = format!("{}/api/hub", app.base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    open(req).await
}

/// Opens a hub connection as a browser would: small frames read through a small buffer
/// (tungstenite's default 128 KiB is zeroed on every read: thousands of clients in one
/// test process spend their core on it) and each frame sent at once.
pub(crate) async fn open(req: tokio_tungstenite::tungstenite::handshake::client::Request) -> Ws {
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(8 * 1024);
    tokio_tungstenite::connect_async_with_config(req, Some(config), true)
        .await
        .expect("hub connects")
        .0
}

pub(crate) async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next message for which `want` holds.
pub(crate) async fn next_where(ws: &mut Ws, want: impl Fn(&Value) -> bool) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if want(&v) {
                return v;
            }
        }
    }
}

/// The next message that is not a presence update.
pub(crate) async fn next(ws: &mut Ws) -> Value {
    next_where(ws, |v| v["type"] != "presence").await
}

/// The next presence update.
async fn next_presence(ws: &mut Ws) -> Value {
    next_where(ws, |v| v["type"] == "presence").await
}

#[tokio::test]
async fn hub_replays_the_ledger_then_streams_live_events() {
    let (app, _clock) = spawn_app_at(T0).await;
    let tender = app.school_tender_id().await;
    let room = format!("opening:{tender}");
    let mut ws = connect(&app, "agency").await;
    send(
        &mut ws,
        json!({"type": "subscribe", "room": room, "since_seq": 0}),
    )
    .await;
    let kinds = [next(&mut ws).await, next(&mut ws).await];
    assert_eq!(kinds[0]["event"]["kind"], "tender_created");
    assert_eq!(kinds[1]["event"]["kind"], "tender_published");
    let sub = next(&mut ws).await;
    assert_eq!(
        (sub["type"].as_str(), sub["seq"].as_i64()),
        (Some("subscribed"), Some(2))
    );

    // A change committed over HTTP arrives live, once.
    let s = app.login("agency").await;
    let (status, _) = s
        .post(
            &format!("/api/tenders/{tender}/amendments"),
            json!({"reason": "更正联系人", "changes": {"description": "联系人:王磊"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let live = next(&mut ws).await;
    assert_eq!(live["type"], "event");
    assert_eq!(live["event"]["seq"], 3);
    assert_eq!(live["event"]["kind"], "tender_amended");
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next(&mut ws).await["type"], "pong", "nothing sent twice");

    // Reconnecting with the last seq seen replays only what was missed.
    let mut again = connect(&app, "agency").await;
    send(
        &mut again,
        json!({"type": "subscribe", "room": room, "since_seq": 2}),
    )
    .await;
    assert_eq!(next(&mut again).await["event"]["seq"], 3);
    assert_eq!(next(&mut again).await["type"], "subscribed");
    // And the replayed chain verifies like the ledger it comes from.
    let (_, l) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/tenders/{tender}/ledger"),
            None,
        )
        .await;
    assert_eq!(l["events"][2]["hash"], live["event"]["hash"]);
}

#[tokio::test]
async fn hub_checks_membership_and_withholds_bids_from_non_supervisors() {
    let (app, _clock) = spawn_app_at(T0).await;
    let tender = app.school_tender_id().await;
    let room = format!("opening:{tender}");

    // No session, no hub.
    let url = format!("{}/api/hub", app.base.replace("http://", "ws://"));
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("anonymous hub connection: {:?}", other.map(|_| ())),
    }

    // Non-members, wrong rooms and bad JSON: each its own error; the connection stays.
    let mut expert = connect(&app, "expert1").await;
    send(&mut expert, json!({"type": "subscribe", "room": room})).await;
    assert_eq!(next(&mut expert).await["code"], "FORBIDDEN");
    let mut supplier = connect(&app, "supplier1").await;
    send(&mut supplier, json!({"type": "subscribe", "room": room})).await;
    assert_eq!(
        next(&mut supplier).await["code"],
        "FORBIDDEN",
        "no bid, no seat"
    );
    send(&mut supplier, json!({"type": "subscribe", "room": "lobby"})).await;
    assert_eq!(next(&mut supplier).await["code"], "NOT_FOUND");
    supplier
        .send(Message::Text("{not json".into()))
        .await
        .unwrap();
    assert_eq!(next(&mut supplier).await["code"], "MALFORMED_JSON");
    send(&mut supplier, json!({"type": "ping"})).await;
    assert_eq!(next(&mut supplier).await["type"], "pong");

    let mut finance = connect(&app, "finance").await;
    send(&mut finance, json!({"type": "subscribe", "room": room})).await;
    while next(&mut finance).await["type"] != "subscribed" {}
    let mut agency = connect(&app, "agency").await;
    send(&mut agency, json!({"type": "subscribe", "room": room})).await;
    while next(&mut agency).await["type"] != "subscribed" {}

    // supplier1 bids: finance sees the event live, the agency does not before the deadline.
    let s = app.login("supplier1").await;
    s.register_keys().await;
    let (_, start) = crate::bids::start_bid(&s, &tender).await;
    let container = crate::bids::seal(&start, "x", b"doc", 1024);
    let (status, _) =
        crate::bids::upload_all(&s, start["bid_id"].as_str().unwrap(), &container, 4096).await;
    assert_eq!(status, StatusCode::OK);
    // (First the documents it obtained to bid, in the same register.)
    let e = next(&mut finance).await;
    assert_eq!(e["event"]["kind"], "documents_obtained");
    let e = next(&mut finance).await;
    assert_eq!(e["event"]["kind"], "bid_submitted");
    send(&mut agency, json!({"type": "ping"})).await;
    assert_eq!(
        next(&mut agency).await["type"],
        "pong",
        "the bid is withheld from the agency"
    );

    // Now a bidder, supplier1 may watch; everyone in the room sees who is present.
    send(&mut supplier, json!({"type": "subscribe", "room": room})).await;
    let sub = loop {
        let v = next(&mut supplier).await;
        if v["type"] == "subscribed" {
            break v;
        }
        assert_ne!(
            v["event"]["kind"], "bid_submitted",
            "bidders see no bid events yet"
        );
    };
    assert!(sub["withheld_until"].as_i64().is_some());
    let present = loop {
        let p = next_presence(&mut finance).await;
        let names: Vec<String> = p["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap().to_string())
            .collect();
        if names.contains(&"supplier".to_string()) {
            break names;
        }
    };
    assert!(present.contains(&"agency".to_string()) && present.contains(&"finance".to_string()));
}

#[tokio::test]
async fn a_watcher_that_stops_reading_is_cut_from_live_fan_out_and_told_to_resync() {
    let (app, _clock) = spawn_app_at(T0).await;
    let tender = app.school_tender_id().await;
    let room = format!("opening:{tender}");
    let mut slow = connect(&app, "finance").await;
    let mut fast = connect(&app, "oversight").await;
    for ws in [&mut slow, &mut fast] {
        send(
            ws,
            json!({"type": "subscribe", "room": room, "since_seq": 0}),
        )
        .await;
        next_where(ws, |v| v["type"] == "subscribed").await;
    }
    // Far more than a subscriber's queue and the socket buffers hold, paced so that a
    // watcher that reads keeps up; `slow` reads nothing meanwhile.
    let n: i64 = 20_000;
    let big = "x".repeat(4000);
    let reader = tokio::spawn(async move {
        let mut got = 0;
        while got < n {
            let v = next_where(&mut fast, |v| {
                v["type"] == "progress" || v["type"] == "resync"
            })
            .await;
            assert_eq!(v["type"], "progress", "the reading watcher is never cut");
            got += 1;
        }
        got
    });
    for i in 0..n {
        app.state.rooms.progress(&tender, "revealing", i, n, &big);
        if i % 100 == 99 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    assert_eq!(
        reader.await.unwrap(),
        n,
        "every frame reached the reading watcher"
    );
    // The slow one gets what was queued for it, then a resync pointing at the ledger.
    let mut before = 0;
    loop {
        let v = next_where(&mut slow, |v| {
            v["type"] == "progress" || v["type"] == "resync"
        })
        .await;
        if v["type"] == "resync" {
            assert_eq!(v["since_seq"], 2, "resume from the last event it had");
            break;
        }
        before += 1;
    }
    assert!(before < n, "cut from live fan-out after {before} frames");
    // And it can subscribe again from there.
    send(
        &mut slow,
        json!({"type": "subscribe", "room": room, "since_seq": 2}),
    )
    .await;
    next_where(&mut slow, |v| v["type"] == "subscribed").await;
}

/// A WebSocket upgrade with the browser's cookie from `origin`: the HTTP status refused
/// with, or the connection.
async fn cookie_upgrade(
    app: &TestApp,
    user: &str,
    origin: Option<&str>,
    with_csrf: bool,
) -> Result<Ws, u16> {
    let r = crate::common::client()
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let headers = r.headers().clone();
    let body: Value = r.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("kb_session="))
        .expect("a session cookie");
    let query = if with_csrf {
        format!("?csrf={csrf}")
    } else {
        String::new()
    };
    let mut req = format!("{}/api/hub{query}", app.base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test]
async fn a_cookie_connection_from_another_site_is_refused_at_the_upgrade() {
    let (app, _clock) = spawn_app_at(T0).await;
    // A page of evil.example opening the hub with finance's cookie could seed a draw.
    assert_eq!(
        cookie_upgrade(&app, "finance", Some("https://evil.example"), true)
            .await
            .err(),
        Some(403)
    );
    assert_eq!(
        cookie_upgrade(&app, "finance", None, true).await.err(),
        Some(403),
        "a browser always sends Origin"
    );
    let own = app.base.clone();
    assert_eq!(
        cookie_upgrade(&app, "finance", Some(&own), false)
            .await
            .err(),
        Some(403),
        "commands need the session's CSRF token, as POSTs do"
    );
    let mut ws = cookie_upgrade(&app, "finance", Some(&own), true)
        .await
        .expect("the platform's own pages connect");
    send(&mut ws, json!({"type": "ping"})).await;
    assert_eq!(next(&mut ws).await["type"], "pong");
}

/// Refusals over the hub read as over HTTP and keep the frame's `id`; a stale
/// `since_seq` past the head loses nothing that comes after.
#[tokio::test]
async fn hub_refusals_name_the_field_and_keep_the_id_and_a_resume_past_the_head_misses_nothing() {
    let (app, _clock) = spawn_app_at(T0).await;
    let tender = app.school_tender_id().await;
    let room = format!("opening:{tender}");
    let mut ws = connect(&app, "agency").await;

    // A command whose body does not fit its type: VALIDATION naming the field, with the
    // command's id, and the same answer as the HTTP route gives.
    let share = json!({"type": "share", "index": "one", "value": "00"});
    send(
        &mut ws,
        json!({"type": "command", "id": "c1", "room": room, "command": share}),
    )
    .await;
    let e = next(&mut ws).await;
    assert_eq!(
        (e["type"].as_str(), e["id"].as_str(), e["code"].as_str()),
        (Some("error"), Some("c1"), Some("VALIDATION")),
        "{e}"
    );
    assert!(e["fields"]["index"][0].is_string(), "{e}");
    let s = app.login("agency").await;
    let (status, http) = s
        .post(&format!("/api/tenders/{tender}/opening"), share)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(http["fields"], e["fields"]);

    // A command without fields given one is refused as such, not run (before the deadline
    // `start` itself would be ILLEGAL_TRANSITION).
    send(
        &mut ws,
        json!({"type": "command", "id": "c2", "room": room,
               "command": {"type": "start", "extra": 1}}),
    )
    .await;
    let e = next(&mut ws).await;
    assert_eq!(
        (e["id"].as_str(), e["code"].as_str()),
        (Some("c2"), Some("VALIDATION")),
        "{e}"
    );

    // A frame of no known type keeps its id.
    send(&mut ws, json!({"type": "hello", "id": "h1"})).await;
    let e = next(&mut ws).await;
    assert_eq!(
        (e["id"].as_str(), e["code"].as_str()),
        (Some("h1"), Some("VALIDATION")),
        "{e}"
    );

    // Subscribing from past the head (seq 2): told the head, then the next event arrives.
    send(
        &mut ws,
        json!({"type": "subscribe", "room": room, "since_seq": 1000}),
    )
    .await;
    let sub = next(&mut ws).await;
    assert_eq!(
        (sub["type"].as_str(), sub["seq"].as_i64()),
        (Some("subscribed"), Some(2)),
        "{sub}"
    );
    let (status, _) = s
        .post(
            &format!("/api/tenders/{tender}/amendments"),
            json!({"reason": "更正联系人", "changes": {"description": "联系人:王磊"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let live = next(&mut ws).await;
    assert_eq!(
        (live["type"].as_str(), live["event"]["seq"].as_i64()),
        (Some("event"), Some(3)),
        "{live}"
    );
}

/// A session ended with no signal to this node's hub — a logout at another node killed
/// before it told the others, or a user disabled in the database — still closes its hub
/// connections: the hub checks its sessions every `SESSIONS_CHECKED_EVERY`. The other
/// sessions' connections stay.
#[tokio::test]
async fn a_session_ended_without_a_signal_closes_its_hub_connection() {
    let (app, _clock) = spawn_app_at(T0).await;
    let ended = token(&app, "finance").await;
    let mut gone = connect_with_token(&app, &ended).await;
    let mut stays = connect(&app, "oversight").await;
    for ws in [&mut gone, &mut stays] {
        send(ws, json!({"type": "ping", "t": 1})).await;
        next_where(ws, |v| v["type"] == "pong").await;
    }
    // Revoked as a logout revokes it, and nothing told the hub.
    sqlx::query("UPDATE sessions SET revoked = 1 WHERE id = $1")
        .bind(kaibiao::auth::service::token_hash(&ended))
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let wait = kaibiao::hub::SESSIONS_CHECKED_EVERY * 3;
    let closed = tokio::time::timeout(wait, async {
        loop {
            match gone.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the ended session's connection closed");
    send(&mut stays, json!({"type": "ping", "t": 2})).await;
    let pong = next_where(&mut stays, |v| v["type"] == "pong").await;
    assert_eq!(pong["t"], 2, "another session's connection is still served");
}
