//! What the law keeps secret, asserted as its readers would probe it: before the deadline
//! nobody but supervisors learns who has bid or how many (GPL art. 22, R-DOC-3) — not
//! through any route, the ledger, the hub's frames, presence, sequence numbers or times —
//! and presence follows the connection (logout, a peer gone silent).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::bids::{seal, start_bid, upload_all};
use crate::common::{spawn_app_at, spawn_app_at_with, spawn_app_configured, Session, TestApp};
use crate::hub::{connect, next_where, send, Ws};

const T0: i64 = 1_796_086_800_000;

/// Frames a connection receives, kept as text by a task that reads all of them.
pub type Frames = Arc<Mutex<Vec<String>>>;

/// Reads every frame of `ws` into the returned list, until the connection ends.
pub fn record_frames<S>(ws: S) -> Frames
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
        + Unpin
        + Send
        + 'static,
{
    let frames: Frames = Arc::default();
    let keep = frames.clone();
    tokio::spawn(async move {
        let mut ws = ws;
        while let Some(Ok(m)) = ws.next().await {
            if let Message::Text(t) = m {
                keep.lock().unwrap().push(t.to_string());
            }
        }
    });
    frames
}

/// A hub connection whose every frame is recorded, and which the test can still write to.
struct Watcher {
    sink: futures_util::stream::SplitSink<Ws, Message>,
    frames: Frames,
}

impl Watcher {
    async fn new(app: &TestApp, user: &str, room: &str) -> Watcher {
        let ws = connect(app, user).await;
        let (sink, stream) = ws.split();
        let frames = record_frames(stream);
        let mut w = Watcher { sink, frames };
        w.send(json!({"type": "subscribe", "room": room, "since_seq": 0}))
            .await;
        w.wait(|f| f["type"] == "subscribed" || f["type"] == "error")
            .await;
        w
    }

    async fn send(&mut self, v: Value) {
        self.sink
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    /// Waits for a frame for which `want` holds (seen before or after the call).
    async fn wait(&self, want: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..500 {
            let found = self
                .frames
                .lock()
                .unwrap()
                .iter()
                .map(|f| serde_json::from_str::<Value>(f).unwrap())
                .find(|v| want(v));
            if let Some(v) = found {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no such frame in {:?}", self.frames.lock().unwrap());
    }

    /// Everything received so far, then cleared.
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.frames.lock().unwrap())
    }

    /// Round-trips a ping, so that whatever the server sent before has arrived; returns
    /// what arrived meanwhile, without the pong.
    async fn settle(&mut self, n: &str) -> Vec<String> {
        // `n` names the watcher in a failure message only.
        // A presence frame is paced (at most one per 250 ms): let a pending one go.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let _ = n;
        self.send(json!({"type": "ping"})).await;
        self.wait(|f| f["type"] == "pong").await;
        self.take()
            .into_iter()
            .filter(|f| !f.contains(r#""type":"pong""#))
            .collect()
    }
}

/// The GET routes of the API for one tender, as `who` gets them, with what changes by
/// itself (the server's clock) taken out.
async fn snapshot(s: Option<&Session>, app: &TestApp, tender: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for spec in kaibiao::startup::route_specs() {
        if spec.method != Method::GET
            || spec.path.starts_with("/api/bids/")
            || spec.path == "/api/hub"
            || spec.path.contains("{sha256}")
        {
            continue;
        }
        let path = spec.path.replace("{id}", tender);
        let (status, mut v) = match s {
            Some(s) => s.get(&path).await,
            None => app.call(Method::GET, &path, None).await,
        };
        strip_clock(&mut v);
        out.insert(
            spec.path.to_string(),
            json!({"status": status.as_u16(), "body": v}),
        );
    }
    out
}

fn strip_clock(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("server_time");
            m.remove("now");
            m.remove("request_id");
            for x in m.values_mut() {
                strip_clock(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip_clock),
        _ => {}
    }
}

pub(crate) async fn bid(app: &TestApp, user: &str, tender: &str, finish: bool) -> String {
    bid_with_keys(app, user, tender, finish).await.0
}

/// As [`bid`], with the bidder's keys.
async fn bid_with_keys(
    app: &TestApp,
    user: &str,
    tender: &str,
    finish: bool,
) -> (String, crate::common::Registered) {
    let s = app.login(user).await;
    let keys = s.register_keys().await;
    let (status, start) = start_bid(&s, tender).await;
    assert_eq!(status, StatusCode::CREATED, "{start}");
    let id = start["bid_id"].as_str().unwrap().to_string();
    let container = seal(&start, user, b"technical proposal", 1024);
    if finish {
        let (status, v) = upload_all(&s, &id, &container, 4096).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    } else {
        let (status, _) = crate::bids::put_chunk(&s, &id, 0, &container[..100]).await;
        assert_eq!(status, StatusCode::OK);
    }
    (id, keys)
}

#[tokio::test]
async fn r_doc_3_before_the_deadline_nothing_tells_who_has_bid_or_how_many() {
    // Sign-in (签到) open all along, so that a bidder's signing in is among what is hidden.
    let (app, clock) = spawn_app_at_with(T0, |c| c.opening.sign_in_mins = 1_000_000).await;
    let tender = app.school_tender_id().await;
    let room = format!("opening:{tender}");

    // supplier2 has bid already: it watches the others as a bidder can.
    bid(&app, "supplier2", &tender, true).await;
    let viewers = ["agency", "purchaser", "supplier2", "supplier3", "expert1"];
    let mut sessions = Vec::new();
    for v in viewers {
        sessions.push(app.login(v).await);
    }
    let mut watchers = Vec::new();
    for who in ["agency", "purchaser", "supplier2"] {
        watchers.push((who, Watcher::new(&app, who, &room).await));
    }
    let mut supervisor = Watcher::new(&app, "finance", &room).await;
    for (who, w) in &mut watchers {
        w.settle(who).await;
    }
    let mut before = Vec::new();
    for s in &sessions {
        before.push(snapshot(Some(s), &app, &tender).await);
    }
    let anonymous_before = snapshot(None, &app, &tender).await;
    let (_, replay_before) = replay(&app, "agency", &room).await;

    // A minute later (so that a time moved by a bid would show), three more suppliers:
    // one bids, one only starts an upload (it may not enter the
    // room by that), one bids and withdraws; the first also watches the hall.
    clock.set(T0 + 60_000);
    let (b1, keys1) = bid_with_keys(&app, "supplier1", &tender, true).await;
    bid(&app, "supplier4", &tender, false).await;
    let b5 = bid(&app, "supplier5", &tender, true).await;
    let (status, _) = app
        .login("supplier5")
        .await
        .post(&format!("/api/bids/{b5}/withdraw"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut bidder = Watcher::new(&app, "supplier1", &room).await;
    // supplier1 signs in from the hall, with its key.
    let (_, state) = app
        .login("supplier1")
        .await
        .get(&format!("/api/tenders/{tender}/opening"))
        .await;
    let statement = state["me"]["sign_in"]["statement"].as_str().unwrap();
    let signature = crate::common::b64(&keys1.keys.sign(statement.as_bytes()));
    bidder
        .send(
            json!({"type": "command", "id": "s1", "room": room, "command":
            {"type": "sign_in", "key_id": keys1.signing_key_id, "signature": signature}}),
        )
        .await;
    let ack = bidder.wait(|f| f["id"] == "s1").await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let mut partial = connect(&app, "supplier4").await;
    send(&mut partial, json!({"type": "subscribe", "room": room})).await;
    assert_eq!(
        next_where(&mut partial, |v| v["type"] == "error").await["code"],
        "FORBIDDEN",
        "an unfinished upload opens no room"
    );

    // Supervisors see it live: the register's events, and the bidder present.
    supervisor
        .wait(|f| f["type"] == "bid_event" && f["event"]["body"]["bid_id"] == b1.as_str())
        .await;
    supervisor
        .wait(|f| f["type"] == "bid_event" && f["event"]["kind"] == "signed_in")
        .await;
    supervisor
        .wait(|f| {
            f["type"] == "presence"
                && f["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["role"] == "supplier")
        })
        .await;
    supervisor.settle("s").await;

    // Nobody else received a single frame meanwhile: no event, no presence, no gap.
    for (who, w) in &mut watchers {
        let got = w.settle(who).await;
        assert!(got.is_empty(), "{who} received {got:?}");
    }
    // Every route answers as before, to every one of them and to the public.
    for (s, (who, was)) in sessions.iter().zip(viewers.iter().zip(&before)) {
        let now = snapshot(Some(s), &app, &tender).await;
        for (path, v) in &now {
            assert_eq!(&was[path], v, "{path} as {who} changed with the bids");
        }
    }
    assert_eq!(anonymous_before, snapshot(None, &app, &tender).await);
    // A new subscriber is told exactly what one was told before the bids.
    let (_, replay_after) = replay(&app, "agency", &room).await;
    assert_eq!(replay_before, replay_after);
    // The bidder itself sees only who is not a bidder, however many others watch.
    let shown = bidder.wait(|f| f["type"] == "presence").await;
    assert!(shown["members"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["role"] != "supplier"));
    assert!(shown.get("bidders").is_none(), "not even a count");
}

/// What a fresh subscriber of `room` is sent up to its first presence frame, clock-free.
async fn replay(app: &TestApp, user: &str, room: &str) -> (Ws, Vec<Value>) {
    let mut ws = connect(app, user).await;
    send(&mut ws, json!({"type": "subscribe", "room": room})).await;
    let mut got = Vec::new();
    loop {
        let v = next_where(&mut ws, |_| true).await;
        let last = v["type"] == "presence";
        got.push(v);
        if last {
            return (ws, got);
        }
    }
}

#[tokio::test]
async fn after_the_deadline_the_host_sees_bidders_by_name_and_the_others_a_count() {
    let (app, clock) = spawn_app_at(T0).await;
    let tender = app.school_tender().await;
    let id = tender["id"].as_str().unwrap().to_string();
    let room = format!("opening:{id}");
    bid(&app, "supplier1", &id, true).await;
    bid(&app, "supplier2", &id, true).await;
    clock.set(tender["bid_deadline"].as_i64().unwrap());
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();

    let host = Watcher::new(&app, "agency", &room).await;
    let purchaser = Watcher::new(&app, "purchaser", &room).await;
    let _b1 = Watcher::new(&app, "supplier1", &room).await;
    let b2 = Watcher::new(&app, "supplier2", &room).await;
    let names = |f: &Value| -> Vec<String> {
        f["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["display_name"].as_str().unwrap().to_string())
            .collect()
    };
    let shown = host
        .wait(|f| {
            f["type"] == "presence"
                && f["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|m| m["role"] == "supplier")
                    .count()
                    == 2
        })
        .await;
    assert!(shown.get("bidders").is_none());
    assert!(
        shown["members"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "supplier")
            .all(|m| m["user_id"]
                .as_str()
                .unwrap()
                .starts_with(kaibiao::hub::BIDDER_PREFIX)),
        "a bidder's id in the room is a pseudonym: {shown}"
    );
    for w in [&purchaser, &b2] {
        let f = w
            .wait(|f| f["type"] == "presence" && f["bidders"] == 2)
            .await;
        assert!(
            f["members"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["role"] != "supplier"),
            "a count, never names: {:?}",
            names(&f)
        );
    }
}

#[tokio::test]
async fn presence_follows_logout_and_drops_a_connection_that_stops_answering() {
    let app = spawn_app_configured(|c| c.hub_ping = Duration::from_millis(200)).await;
    let tender = app.school_tender_id().await;
    let room = format!("opening:{tender}");
    let finance = Watcher::new(&app, "finance", &room).await;

    let present = |role: &'static str, yes: bool| {
        move |f: &Value| {
            f["type"] == "presence"
                && f["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["role"] == role)
                    == yes
        }
    };
    // The purchaser logs out elsewhere: its connection closes and it leaves the room.
    let token = crate::hub::token(&app, "purchaser").await;
    let purchaser = crate::hub::connect_with_token(&app, &token).await;
    let (mut sink, mut stream) = purchaser.split();
    sink.send(Message::Text(
        json!({"type": "subscribe", "room": room})
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    // Read (and so answer pings) in the background.
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    finance.wait(present("purchaser", true)).await;
    finance.take();
    let r = crate::common::client()
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let gone = tokio::time::Instant::now();
    finance.wait(present("purchaser", false)).await;
    assert!(gone.elapsed() < Duration::from_secs(3));
    tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .expect("the logged-out connection was closed")
        .unwrap();

    // Oversight's client stops reading (a closed laptop): unanswered pings drop it.
    let mut silent = connect(&app, "oversight").await;
    send(&mut silent, json!({"type": "subscribe", "room": room})).await;
    next_where(&mut silent, |v| v["type"] == "subscribed").await;
    finance.wait(present("oversight", true)).await;
    finance.take();
    let quiet = tokio::time::Instant::now();
    finance.wait(present("oversight", false)).await;
    assert!(
        quiet.elapsed() < Duration::from_secs(5),
        "dropped after {:?}",
        quiet.elapsed()
    );
    drop(silent);
}
