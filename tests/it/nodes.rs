//! Three nodes (real `kaibiao serve` processes) on one PostgreSQL and one shared folder:
//! bidders, host, custodians and watchers spread over them run a whole opening; the node
//! reading out is SIGKILLed in the middle; its people and watchers go on at another node,
//! and every watcher ends with every ledger event exactly once and the same signed record
//! as an uninterrupted run. A session logged out at one node loses its hub connection at
//! another. Only on PostgreSQL (several nodes need it).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::cli::{start_with, Server};
use crate::common::{login_at, Session, PASSWORD};
use crate::restart::{
    bid_three, bids_with_result, command, decrypt_by_cli, essence, published_tender, share_by_cli,
    verifies_offline, wait_for,
};

/// A fresh PostgreSQL database for a test of several nodes, or `None` (said) on the
/// SQLite pass: several nodes need PostgreSQL, and the PostgreSQL pass runs them.
pub(crate) async fn postgres_or_skip() -> Option<String> {
    let db = crate::common::fresh_database_url().await;
    if db.is_none() {
        eprintln!("several nodes need PostgreSQL: this test runs on the PostgreSQL pass");
    }
    db
}

/// Three nodes: the first started alone with the demo city (it takes the scheduler's
/// lease), then two more on the same database and shared folder; blobs in the shared
/// folder or, given `blob_store`, in that NATS server.
struct Nodes {
    shared: tempfile::TempDir,
    dirs: Vec<tempfile::TempDir>,
    servers: Vec<Option<Server>>,
    bases: Vec<String>,
}

impl Nodes {
    async fn start(db: &str, blob_store: Option<&str>) -> Nodes {
        let shared = tempfile::tempdir().unwrap();
        let shared_arg = shared.path().to_str().unwrap().to_string();
        let (mut dirs, mut servers, mut bases) = (Vec::new(), Vec::new(), Vec::new());
        for n in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let mut args = vec!["--shared-dir", &shared_arg];
            if let Some(url) = blob_store {
                args.extend(["--blob-store", url]);
            }
            if n == 0 {
                args.push("--demo");
            }
            let log = dir.path().join("server.log");
            let server = start_with(&args, dir.path(), Some(db), Some(&log));
            bases.push(server.base.clone());
            servers.push(Some(server));
            dirs.push(dir);
        }
        Nodes {
            shared,
            dirs,
            servers,
            bases,
        }
    }

    fn kill(&mut self, n: usize) {
        let mut server = self.servers[n].take().expect("running");
        server.child.kill().unwrap();
        server.child.wait().unwrap();
    }

    fn log(&self, n: usize) -> String {
        std::fs::read_to_string(self.dirs[n].path().join("server.log")).unwrap_or_default()
    }

    /// Whether node `n` said it took the scheduler's lease.
    fn led(&self, n: usize) -> bool {
        self.log(n)
            .lines()
            .any(|l| l.contains("scheduler lease") && l.contains("leading=true"))
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn hub_at(base: &str, token: &str) -> Option<Ws> {
    let mut req = format!("{}/api/hub", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req)
        .await
        .ok()
        .map(|(ws, _)| ws)
}

async fn token_at(base: &str, user: &str) -> String {
    let r = crate::common::client()
        .post(format!("{base}/api/auth/tokens"))
        .json(&json!({"username": user, "password": PASSWORD, "label": "watcher"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Watches the opening room from seq 0 until the opening closes, at the first of `bases`
/// that answers: when its node goes, it subscribes again at the next with the last seq it
/// saw. Every event it was sent, in order, as (seq, kind); and how often it reconnected.
/// [`QUIET`] without an event ends it too (the test then says what it missed).
const QUIET: Duration = Duration::from_secs(30);

async fn watch(token: String, bases: Vec<String>, room: String) -> (Vec<(i64, String)>, usize) {
    let mut seen: Vec<(i64, String)> = Vec::new();
    let mut reconnects = 0;
    let mut at = 0;
    loop {
        let mut ws = None;
        for _ in 0..200 {
            ws = hub_at(&bases[at], &token).await;
            if ws.is_some() {
                break;
            }
            at = (at + 1) % bases.len();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut ws = ws.expect("some node answers");
        let since = seen.last().map_or(0, |(seq, _)| *seq);
        ws.send(Message::Text(
            json!({"type": "subscribe", "room": room, "since_seq": since})
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
        let mut quiet_until = tokio::time::Instant::now() + QUIET;
        loop {
            // No event for this long: what it saw is all it will see (the test compares).
            let Ok(m) = tokio::time::timeout_at(quiet_until, ws.next()).await else {
                return (seen, reconnects);
            };
            let Some(Ok(m)) = m else { break };
            let Message::Text(t) = m else { continue };
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            assert_ne!(v["type"], "error", "{v}");
            if v["type"] == "event" {
                quiet_until = tokio::time::Instant::now() + QUIET;
                let kind = v["event"]["kind"].as_str().unwrap().to_string();
                seen.push((v["event"]["seq"].as_i64().unwrap(), kind.clone()));
                if kind == "opening_closed" {
                    return (seen, reconnects);
                }
            }
        }
        reconnects += 1;
    }
}

/// One whole opening over three nodes; with `kill`, the node reading out dies after the
/// first bid is read out; with `blob_store`, the bids and their documents are kept in
/// that NATS server. The record's essence and what every watcher was sent.
async fn scenario(db: String, kill: bool, blob_store: Option<String>) -> Value {
    let mut nodes = Nodes::start(&db, blob_store.as_deref()).await;
    let (a, b, c) = (
        nodes.bases[0].clone(),
        nodes.bases[1].clone(),
        nodes.bases[2].clone(),
    );
    let mut users = std::collections::BTreeMap::<&str, Session>::new();
    for (name, base) in [
        ("agency", &a),
        ("purchaser", &b),
        ("finance", &c),
        ("supplier1", &a),
        ("supplier2", &b),
        ("supplier3", &c),
    ] {
        users.insert(name, login_at(base, name).await);
    }
    let agency = &users["agency"];
    let custodians = ["agency", "purchaser", "finance"].map(|n| &users[n]);
    let tender = published_tender(custodians, "多节点开标", 15_000).await;

    // Watchers on every node; those on the first go on at another when it dies. The
    // supervisors and the host from before the bids, the bidders once they have bid.
    let room = format!("opening:{tender}");
    let mut watchers = Vec::new();
    let watchers_of = |list: Vec<(&'static str, Vec<String>)>| {
        let room = room.clone();
        async move {
            let mut started = Vec::new();
            for (user, bases) in list {
                let token = token_at(&bases[0], user).await;
                started.push(tokio::spawn(watch(token, bases, room.clone())));
            }
            started
        }
    };
    watchers.extend(
        watchers_of(vec![
            ("finance", vec![a.clone(), b.clone()]),
            ("finance", vec![b.clone()]),
            ("finance", vec![c.clone()]),
            ("agency", vec![c.clone(), b.clone()]),
        ])
        .await,
    );

    // Each bidder seals and uploads at its own node (the parts land in the shared folder).
    let sessions = ["supplier1", "supplier2", "supplier3"].map(|n| &users[n]);
    let bidders = bid_three(sessions, &tender, "多节点", 512 << 10, nodes.shared.path()).await;

    watchers.extend(
        watchers_of(vec![
            ("supplier1", vec![a.clone(), c.clone()]),
            ("supplier2", vec![b.clone()]),
        ])
        .await,
    );

    // Sealed at the deadline by whichever node leads (the first: it started alone).
    let mut status = Value::Null;
    for _ in 0..300 {
        status = users["finance"]
            .get(&format!("/api/tenders/{tender}"))
            .await
            .1["status"]
            .clone();
        if status == "sealed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "sealed");
    assert!(nodes.led(0), "the first node took the scheduler's lease");
    assert!(!nodes.led(1) && !nodes.led(2), "and no other node ran it");
    command(agency, &tender, json!({"type": "start"})).await;

    // Each bidder decrypts at its own node; the custodians' shares: the purchaser's at the
    // second node, the finance bureau's (the last, which starts the reading-out) at the first.
    for ((name, bid, key_file), base) in bidders.iter().zip([&a, &b, &c]) {
        decrypt_by_cli(base, name, key_file, bid);
    }
    for (who, base) in [("purchaser", &b), ("finance", &a)] {
        share_by_cli(base, who, nodes.shared.path(), &tender);
    }

    if kill {
        // The first bid read out (bids are read out one every 1.5 s): the first node dies.
        let v = wait_for(&users["finance"], &tender, |v| {
            v["bids"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["result"] == "read_out")
        })
        .await;
        nodes.kill(0);
        let done = bids_with_result(&v);
        assert!(done < 3, "killed in the middle of the reading-out: {v}");
        eprintln!("first node killed with {done} of 3 bids read out");
        // Their sessions are the database's: the first node's people go on at the second.
        for name in ["agency", "supplier1"] {
            users.get_mut(name).unwrap().base = b.clone();
        }
    }

    let v = wait_for(&users["finance"], &tender, |v| v["phase"] == "confirming").await;
    assert!(v["bids"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["result"] == "read_out"));
    if kill {
        assert!(
            nodes.led(1) || nodes.led(2),
            "another node took the lease over"
        );
    }
    for name in ["supplier1", "supplier2", "supplier3"] {
        command(&users[name], &tender, json!({"type": "confirm"})).await;
    }
    wait_for(&users["finance"], &tender, |v| v["phase"] == "closed").await;
    let (status, bundle) = users["finance"]
        .get(&format!("/api/tenders/{tender}/opening/record"))
        .await;
    assert_eq!(status, StatusCode::OK, "{bundle}");
    verifies_offline(&bundle, nodes.shared.path());

    // Every watcher: every event of the ledger, once, in order.
    let ledger: Vec<(i64, String)> = bundle["ledger"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let closed = ledger
        .iter()
        .position(|(_, k)| k == "opening_closed")
        .unwrap();
    let ledger = &ledger[..=closed];
    let mut reconnects = Vec::new();
    for (i, w) in watchers.into_iter().enumerate() {
        let (seen, again) = w.await.unwrap();
        assert_eq!(seen, ledger, "watcher {i}: every event exactly once");
        reconnects.push(again);
    }
    if kill {
        // The two watchers on the first node went on elsewhere; nobody else had to.
        assert_eq!(reconnects, [1, 0, 0, 0, 1, 0]);
    } else {
        assert_eq!(reconnects, [0; 6]);
    }
    let sealed = ledger.iter().filter(|(_, k)| k == "bids_sealed").count();
    assert_eq!(sealed, 1, "the deadline sealed once under three nodes");
    if blob_store.is_some() {
        // Nothing stored in the shared folder: the sealed bids went to NATS at the node
        // that took them and were read from it at the node that read them out.
        assert!(!nodes.shared.path().join("blobs").exists());
    }
    if !kill {
        logout_at_one_node_closes_the_hub_at_another(&a, &c).await;
    }
    essence(&bundle)
}

/// A browser session's hub connection at node `there` closes when the session logs out
/// at node `here`.
async fn logout_at_one_node_closes_the_hub_at_another(here: &str, there: &str) {
    let r = crate::common::client()
        .post(format!("{here}/api/auth/login"))
        .json(&json!({"username": "oversight", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("kb_session="))
        .expect("a session cookie");
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut req = format!("{}/api/hub?csrf={csrf}", there.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    req.headers_mut().insert("origin", there.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws.send(Message::Text(json!({"type": "ping"}).to_string().into()))
        .await
        .unwrap();
    assert!(matches!(ws.next().await, Some(Ok(Message::Text(_)))));

    let r = reqwest::Client::new()
        .post(format!("{here}/api/auth/logout"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the other node closed the ended session's hub"
    );
}

#[tokio::test]
async fn three_nodes_run_an_opening_and_survive_the_reading_node_killed() {
    let (Some(calm_db), Some(killed_db)) = (
        crate::common::fresh_database_url().await,
        crate::common::fresh_database_url().await,
    ) else {
        eprintln!("several nodes need PostgreSQL: this test runs on the PostgreSQL pass");
        return;
    };
    // The killed run keeps its blobs in NATS (where the server is installed: CI's is).
    let nats = crate::blobstore::nats_server();
    let (calm, killed) = tokio::join!(
        scenario(calm_db, false, None),
        scenario(killed_db, true, nats.as_ref().map(|n| n.url.clone()))
    );
    assert_eq!(
        killed, calm,
        "the same record with the reading node killed and the blobs in NATS"
    );
    let read_out = calm["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| *k == "bid_read_out")
        .count();
    assert_eq!(read_out, 3, "each bid read out exactly once");
}

/// A commit whose signal to the other nodes was lost — its node killed between the
/// commit and the publish — still reaches the watchers of this node: every live room
/// checks the ledger's head every `hub::CATCH_UP_EVERY`, and sends the event once, in
/// order. (Not three processes: the lost signal is a ledger event appended here, on the
/// database the node shares, with no signal at all.)
#[tokio::test]
async fn an_event_whose_signal_was_lost_still_reaches_the_watchers() {
    let Some(db) = postgres_or_skip().await else {
        return;
    };
    let app = node_on(db).await;
    let (_sessions, tender) = published_at(&app.base, "信号丢失").await;
    let mut ws = hub_at(&app.base, &token_at(&app.base, "finance").await)
        .await
        .unwrap();
    let sub = json!({"type": "subscribe", "room": format!("opening:{tender}"), "since_seq": 0});
    ws.send(Message::Text(sub.to_string().into()))
        .await
        .unwrap();
    let pool = &app.state.db.pool;
    let head = kaibiao::ledger::repo::head_seq(pool, &tender)
        .await
        .unwrap();
    let mut seqs = Vec::new();
    // The next event within `wait`.
    let mut next_event = async |wait| loop {
        let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout(wait, ws.next()).await else {
            return None;
        };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        if v["type"] == "event" {
            return Some((
                v["event"]["seq"].as_i64().unwrap(),
                v["event"]["kind"].clone(),
            ));
        }
    };
    while seqs.last() != Some(&head) {
        let (seq, _) = next_event(Duration::from_secs(5))
            .await
            .expect("the replay up to the head");
        seqs.push(seq);
    }

    let agency: String = sqlx::query_scalar("SELECT id FROM users WHERE username = 'agency'")
        .fetch_one(pool)
        .await
        .unwrap();
    let amended = kaibiao::ledger::LedgerEvent::TenderAmended(kaibiao::ledger::TenderAmended {
        amendment: 1,
        reason: "另一节点提交后即被终止".into(),
        changes: Default::default(),
        affects_bids: Some(false),
    });
    let mut tx = app.state.db.begin().await.unwrap();
    kaibiao::ledger::repo::append(
        &mut tx,
        &tender,
        app.state.clock.now_ms(),
        &agency,
        &amended,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let sent = std::time::Instant::now();

    let got = next_event(Duration::from_secs(5)).await;
    assert_eq!(
        got,
        Some((head + 1, json!("tender_amended"))),
        "the event committed without a signal reaches the watcher"
    );
    println!("arrived after {:?} without a signal", sent.elapsed());
    // Two more checks of the head, and nothing more is sent.
    assert_eq!(
        next_event(2 * kaibiao::hub::CATCH_UP_EVERY).await,
        None,
        "and only once"
    );
}

/// The agency, purchaser and finance logged in at `base`, and a tender of theirs published
/// there with an hour to its deadline.
async fn published_at(base: &str, title: &str) -> ([Session; 3], String) {
    let sessions = [
        login_at(base, "agency").await,
        login_at(base, "purchaser").await,
        login_at(base, "finance").await,
    ];
    let tender =
        published_tender([&sessions[0], &sessions[1], &sessions[2]], title, 3_600_000).await;
    (sessions, tender)
}

/// A node in this process on database `db`, on the system's clock.
async fn node_on(db: String) -> crate::common::TestApp {
    crate::common::spawn_app_on(
        tempfile::tempdir().unwrap(),
        Some(db),
        std::sync::Arc::new(kaibiao::clock::SystemClock),
    )
    .await
}

/// Two nodes in this process on database `db` and one shared folder (returned, to keep).
async fn two_nodes(db: &str) -> (tempfile::TempDir, [crate::common::TestApp; 2]) {
    two_nodes_with(db, |_| {}).await
}

/// As `two_nodes`, each node's configuration adjusted by `configure` first.
async fn two_nodes_with(
    db: &str,
    configure: impl Fn(&mut kaibiao::config::Config),
) -> (tempfile::TempDir, [crate::common::TestApp; 2]) {
    let shared = tempfile::tempdir().unwrap();
    let node = async || {
        let folder = shared.path().to_path_buf();
        crate::common::spawn_demo_with(
            tempfile::tempdir().unwrap(),
            Some(db.to_string()),
            std::sync::Arc::new(kaibiao::clock::SystemClock),
            |config| {
                config.shared_dir = Some(folder);
                configure(config);
            },
        )
        .await
        .0
    };
    let nodes = [node().await, node().await];
    (shared, nodes)
}

/// On the PostgreSQL pass: two nodes (as `two_nodes`) and the school tender's opening
/// room.
async fn two_nodes_in_a_room() -> Option<(tempfile::TempDir, [crate::common::TestApp; 2], String)> {
    let db = postgres_or_skip().await?;
    let (shared, nodes) = two_nodes(&db).await;
    let tender = nodes[0].school_tender_id().await;
    Some((shared, nodes, format!("opening:{tender}")))
}

/// Guesses of one user name sent to two nodes at the same instant pass the throttle's
/// count once between them, as they would at one node: with four failures behind it,
/// one of six guesses (three at each node) is tried and the five others must wait.
#[tokio::test]
async fn guesses_sent_to_two_nodes_at_once_pass_the_throttle_once() {
    use crate::auth::{guess, login_from};
    use kaibiao::auth::service::MAX_FAILURES_PER_PAIR;
    let Some(db) = postgres_or_skip().await else {
        return;
    };
    let (_shared, nodes) = two_nodes(&db).await;
    let [a, b] = &nodes;
    let guesser = [127, 0, 0, 3];
    guess(a, guesser, "supplier1", MAX_FAILURES_PER_PAIR - 1).await;
    let tries = (0..6).map(|i| {
        login_from(
            if i % 2 == 0 { a } else { b },
            guesser,
            "supplier1",
            "guess",
        )
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(tries)
        .await
        .into_iter()
        .map(|(status, _)| status)
        .collect();
    let tried = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let waited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((tried, waited), (1, 5), "{statuses:?}");
}

/// Two chunks for one offset of one bid, streaming at once into two nodes (a retry sent
/// to another node while the first still streams): the one that ends first is taken, the
/// other is told the offset is past, and the bid completes with exactly the bytes sealed.
/// "Submit" clicked twice with the clicks at both nodes at once submits once: one
/// receipt for both. Run with the uploads in the shared folder, then with blobs in NATS
/// and no shared folder at all (the parts wait in NATS, the nodes share a keys folder);
/// a node with keys of its own is then refused.
#[tokio::test]
async fn two_nodes_take_one_of_two_chunks_sent_at_once_for_one_offset() {
    // Bounded: a step that never ends fails the test with a message, not the suite.
    let bounded = Duration::from_secs(300);
    tokio::time::timeout(bounded, chunks_sent_at_once())
        .await
        .expect("the two nodes' uploads, with NATS and without, done within 5 minutes");
}

async fn chunks_sent_at_once() {
    let Some(db) = postgres_or_skip().await else {
        return;
    };
    let (shared, nodes) = two_nodes(&db).await;
    one_of_two_chunks(&nodes, "两节点同时上传", None).await;
    let left: Vec<_> = std::fs::read_dir(shared.path().join("uploads"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "nothing left in uploads/: {left:?}");
    drop(nodes);

    let Some(nats) = crate::blobstore::nats_server() else {
        return;
    };
    let db = postgres_or_skip().await.unwrap();
    let keys = tempfile::tempdir().unwrap();
    let configure = |config: &mut kaibiao::config::Config| {
        config.blob_store = Some(nats.url.clone());
        config.keys_dir = Some(keys.path().to_path_buf());
    };
    let node = async || {
        crate::common::spawn_demo_with(
            tempfile::tempdir().unwrap(),
            Some(db.clone()),
            std::sync::Arc::new(kaibiao::clock::SystemClock),
            configure,
        )
        .await
        .0
    };
    let nodes = [node().await, node().await];
    let js = async_nats::jetstream::new(async_nats::connect(&nats.url).await.unwrap());
    let bucket = js
        .get_object_store(kaibiao::blob::DEFAULT_BUCKET)
        .await
        .unwrap();
    let stream = js
        .get_stream(format!("OBJ_{}", kaibiao::blob::DEFAULT_BUCKET))
        .await
        .unwrap();
    let (s, tender) = one_of_two_chunks(&nodes, "两节点同时上传（NATS）", Some(&stream)).await;
    assert_eq!(
        upload_parts(&stream).await,
        Vec::<String>::new(),
        "the parts removed once stored"
    );
    // An upload withdrawn takes its parts along; the parts of a bid no longer being
    // uploaded (a node killed before it removed them) go at the next node's start.
    let mut started = Vec::new();
    for _ in 0..2 {
        let (status, start) = crate::bids::start_bid(&s, &tender).await;
        assert_eq!(status, StatusCode::CREATED, "{start}");
        let bid = start["bid_id"].as_str().unwrap().to_string();
        let sealed = crate::bids::seal(&start, "留下的", &[b'y'; 4096], 1 << 20);
        let (status, v) = crate::bids::put_chunk(&s, &bid, 0, &sealed[..2048]).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        started.push(bid);
    }
    assert_eq!(upload_parts(&stream).await.len(), 2);
    let (status, v) = s
        .post(&format!("/api/bids/{}/withdraw", started[0]), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        upload_parts(&stream).await,
        [format!("upload/{}/0", started[1])]
    );
    sqlx::query("UPDATE bids SET status = 'withdrawn' WHERE id = $1")
        .bind(&started[1])
        .execute(&nodes[0].state.db.pool)
        .await
        .unwrap();
    let third = node().await;
    let mut left = upload_parts(&stream).await;
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = upload_parts(&stream).await;
    }
    assert_eq!(
        left,
        Vec::<String>::new(),
        "swept at the third node's start"
    );
    drop(third);
    // Parts lost from NATS behind the nodes' backs: "submit" is told how much the server
    // still has (UPLOAD_INCOMPLETE with `received`), the bidder sends the rest again from
    // there, and the bid completes with exactly the bytes sealed. A lost first part (the
    // header) takes the upload back to 0.
    let (status, start) = crate::bids::start_bid(&s, &tender).await;
    assert_eq!(status, StatusCode::CREATED, "{start}");
    let bid = start["bid_id"].as_str().unwrap().to_string();
    let sealed = crate::bids::seal(&start, "丢失的部分", &[b'z'; 8192], 1 << 20);
    let half = sealed.len() / 2;
    let chunks = [(0, &sealed[..half]), (half, &sealed[half..])];
    for (at, bytes) in chunks {
        let (status, v) = crate::bids::put_chunk(&s, &bid, at, bytes).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let sha = kaibiao::crypto::sha256_hex(&sealed);
    let path = format!("/api/bids/{bid}/complete");
    let complete = json!({"size": sealed.len(), "sha256": sha});
    for lost in [half, 0] {
        bucket.delete(format!("upload/{bid}/{lost}")).await.unwrap();
        let (status, v) = s.post(&path, complete.clone()).await;
        assert_eq!(
            (status, v["code"].as_str(), v["received"].as_u64()),
            (
                StatusCode::CONFLICT,
                Some("UPLOAD_INCOMPLETE"),
                Some(lost as u64)
            ),
            "{v}"
        );
        for (at, bytes) in chunks.iter().filter(|(at, _)| *at >= lost) {
            let (status, v) = crate::bids::put_chunk(&s, &bid, *at, bytes).await;
            assert_eq!(status, StatusCode::OK, "{v}");
        }
    }
    let (status, v) = s.post(&path, complete).await;
    assert_eq!(
        (status, &v["status"]),
        (StatusCode::OK, &json!("submitted")),
        "{v}"
    );
    assert_eq!(v["receipt"]["receipt"]["ciphertext_sha256"], json!(sha));
    assert_eq!(upload_parts(&stream).await, Vec::<String>::new());
    for n in &nodes {
        let folder = n.dir.path().join("uploads");
        let left: Vec<_> = std::fs::read_dir(&folder)
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "nothing in {}: {left:?}", folder.display());
    }

    // A node given no keys is refused at start, and makes none; so is one with keys of
    // its own.
    let refused = async |keys: Option<std::path::PathBuf>| {
        let dir = tempfile::tempdir().unwrap();
        let mut config = kaibiao::config::Config::new(dir.path());
        config.database_url = Some(db.clone());
        config.blob_store = Some(nats.url.clone());
        config.keys_dir = keys;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let said = match kaibiao::startup::build(config, listener, std::future::pending()).await {
            Ok(_) => panic!("a node without the platform's keys started"),
            Err(e) => format!("{e:#}"),
        };
        assert!(!dir.path().join("keys").exists(), "no keys made");
        said
    };
    let said = refused(None).await;
    assert!(
        said.contains("no platform keys in") && said.contains("--keys-dir"),
        "{said}"
    );
    let own = tempfile::tempdir().unwrap();
    kaibiao::pki::Authority::load_or_create(own.path()).unwrap();
    let said = refused(Some(own.path().to_path_buf())).await;
    assert!(
        said.contains("is not the one this database was started with")
            && said.contains("--keys-dir"),
        "{said}"
    );
}

/// The names of the upload parts in a NATS bucket.
async fn upload_parts(stream: &async_nats::jetstream::stream::Stream) -> Vec<String> {
    let infos = kaibiao::blob::object_infos(stream, kaibiao::blob::DEFAULT_BUCKET, "upload/");
    let mut names: Vec<String> = infos.await.unwrap().into_iter().map(|i| i.name).collect();
    names.sort();
    names
}

/// One bid uploaded to two nodes (see above); with `nats`, the chunk taken is checked to
/// be there.
async fn one_of_two_chunks(
    nodes: &[crate::common::TestApp; 2],
    title: &str,
    nats: Option<&async_nats::jetstream::stream::Stream>,
) -> (Session, String) {
    use crate::bids::{put_chunk, seal, stalled_put, start_bid, status_within};
    use tokio::io::AsyncWriteExt;
    let [a, b] = nodes;
    let (_sessions, tender) = published_at(&a.base, title).await;
    let s = a.login("supplier1").await;
    s.register_keys().await;
    let (status, start) = start_bid(&s, &tender).await;
    assert_eq!(status, StatusCode::CREATED, "{start}");
    let bid = start["bid_id"].as_str().unwrap().to_string();
    let container = seal(&start, title, &vec![b'x'; 3 << 20], 1 << 20);
    let (long, short) = (2 << 20, 1 << 20);

    // Both requests are in, each with half its bytes: both passed the offset check.
    let token_a = crate::hub::token(a, "supplier1").await;
    let token_b = crate::hub::token(b, "supplier1").await;
    let mut at_a = stalled_put(a, &token_a, &bid, long, &container[..long / 2]).await;
    let mut at_b = stalled_put(b, &token_b, &bid, short, &container[..short / 2]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    at_b.write_all(&container[short / 2..short]).await.unwrap();
    assert_eq!(
        status_within(&mut at_b, 10).await,
        Some(200),
        "the chunk that ends first is taken"
    );
    at_a.write_all(&container[long / 2..long]).await.unwrap();
    assert_eq!(
        status_within(&mut at_a, 10).await,
        Some(409),
        "the other finds its offset already taken (UPLOAD_OFFSET)"
    );
    let (_, v) = s.get(&format!("/api/bids/{bid}")).await;
    assert_eq!(v["received"], json!(short), "{v}");
    if let Some(stream) = nats {
        // Taken at the second node: in NATS, on neither node's disk.
        assert_eq!(upload_parts(stream).await, [format!("upload/{bid}/0")]);
    }

    // The rest at the first node, and the receipt names exactly the bytes sealed.
    let (status, v) = put_chunk(&s, &bid, short, &container[short..]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let sha = kaibiao::crypto::sha256_hex(&container);
    // "Submit" clicked twice, the clicks reaching both nodes at once: one submission,
    // both given its receipt.
    let at_b = Session {
        client: s.client.clone(),
        csrf: s.csrf.clone(),
        base: b.base.clone(),
        user: s.user.clone(),
    };
    let path = format!("/api/bids/{bid}/complete");
    let body = json!({"size": container.len(), "sha256": sha});
    let ((status, v), (status_b, v_b)) =
        tokio::join!(s.post(&path, body.clone()), at_b.post(&path, body.clone()));
    assert_eq!(
        (status, status_b),
        (StatusCode::OK, StatusCode::OK),
        "{v} {v_b}"
    );
    assert_eq!(v["status"], "submitted", "{v}");
    assert_eq!(v["receipt"]["receipt"]["ciphertext_sha256"], json!(sha));
    assert_eq!(v["receipt"], v_b["receipt"], "one receipt for both clicks");
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM bids WHERE id = $1")
        .bind(&bid)
        .fetch_all(&a.state.db.pool)
        .await
        .unwrap();
    assert_eq!(statuses, ["submitted"], "not replaced by itself");
    // The blob stored is exactly the bytes sealed, read back at the other node.
    let stored = b.state.blobs.get(&sha).await.unwrap().expect("stored");
    assert_eq!(stored.len(), container.len());
    (s, tender)
}

/// Presence across nodes: who is in a room at one node is shown at another through the
/// same secrecy — before the deadline a supervisor at the second node sees the bidder
/// watching at the first, a member there sees the host but neither the bidder nor a count —
/// and one who leaves at the first is gone at the second.
#[tokio::test]
async fn who_is_in_a_room_at_one_node_is_shown_at_another_within_the_law() {
    use crate::hub::{connect, next_where, send};
    let Some(db) = postgres_or_skip().await else {
        return;
    };
    let (_shared, nodes) = two_nodes(&db).await;
    let [a, b] = &nodes;
    let (_sessions, tender) = published_at(&a.base, "两节点在场").await;
    let supplier = a.login("supplier1").await;
    supplier.register_keys().await;
    let (status, start) = crate::bids::start_bid(&supplier, &tender).await;
    assert_eq!(status, StatusCode::CREATED, "{start}");
    let sealed = crate::bids::seal(&start, "两节点在场", b"technical response", 1 << 16);
    let bid = start["bid_id"].as_str().unwrap();
    let (status, v) = crate::bids::upload_all(&supplier, bid, &sealed, 1 << 20).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let sub = json!({"type": "subscribe", "room": format!("opening:{tender}"), "since_seq": 0});
    let roles = |v: &Value| -> Vec<String> {
        v["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap().to_string())
            .collect()
    };

    // Watching at the second node: finance (a supervisor) and the purchaser (a member).
    let mut finance = connect(b, "finance").await;
    send(&mut finance, sub.clone()).await;
    let mut purchaser = connect(b, "purchaser").await;
    send(&mut purchaser, sub.clone()).await;
    // At the first: the host and the bidder.
    let mut host = connect(a, "agency").await;
    send(&mut host, sub.clone()).await;
    let mut bidder = connect(a, "supplier1").await;
    send(&mut bidder, sub.clone()).await;
    let started = std::time::Instant::now();
    let seen = next_where(&mut finance, |v| {
        v["type"] == "presence"
            && ["agency", "supplier"]
                .iter()
                .all(|r| roles(v).contains(&r.to_string()))
    })
    .await;
    println!(
        "the first node's people shown at the second after {:?}",
        started.elapsed()
    );
    assert!(roles(&seen).contains(&"purchaser".to_string()), "{seen}");

    // The purchaser at the second node: the host, never the bidder nor how many.
    let shown = next_where(&mut purchaser, |v| {
        v["type"] == "presence" && roles(v).contains(&"agency".to_string())
    })
    .await;
    tokio::time::sleep(2 * kaibiao::hub::CATCH_UP_EVERY).await;
    let mut frames = vec![shown];
    while let Ok(Some(Ok(Message::Text(t)))) =
        tokio::time::timeout(Duration::from_millis(300), purchaser.next()).await
    {
        frames.push(serde_json::from_str(t.as_str()).unwrap());
    }
    for f in frames.iter().filter(|f| f["type"] == "presence") {
        assert!(!roles(f).contains(&"supplier".to_string()), "{f}");
        assert!(f["bidders"].is_null(), "no count before the deadline: {f}");
    }

    // The host leaves at the first node: gone at the second.
    host.close(None).await.unwrap();
    let left = next_where(&mut finance, |v| {
        v["type"] == "presence" && !roles(v).contains(&"agency".to_string())
    })
    .await;
    assert!(roles(&left).contains(&"supplier".to_string()), "{left}");

    // Nobody left at the second node (its room ends there): its supervisors' console still
    // shows the room, with the bidder watching at the first.
    finance.close(None).await.unwrap();
    purchaser.close(None).await.unwrap();
    let hub_b = kaibiao::hub::Hub::of(&b.state);
    let room = format!("opening:{tender}");
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while hub_b.room_names().contains(&room) {
        assert!(
            std::time::Instant::now() < until,
            "the room ends at the second node"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, console) = b.login("oversight").await.get("/api/console").await;
    assert_eq!(status, StatusCode::OK, "{console}");
    let hall = crate::console::room_of(&console, &tender, "opening");
    assert_eq!(hall["present"].as_array().unwrap().len(), 1, "{hall}");
    assert_eq!(hall["present"][0]["role"], "supplier", "{hall}");
    drop(bidder);
}

/// Benchmark (BENCHMARKS.md, "Several nodes"): what a node's once-a-second catch-up reads
/// with many live rooms — the ledger and bid-register heads and the other nodes' presence
/// heads of N rooms (`ledger::repo::last_seqs`, `hub::presence::heads`; two other nodes
/// have a presence row in every room) — against as many `SELECT 1` round trips as it makes
/// statements, in the same run. The tenders' ids are new (no ledger rows), so the heads
/// read is an index probe per tender, as for a tender whose head is cached.
///
///   KAIBIAO_TEST_DATABASE_URL=postgres://… cargo test --release --test it -- --ignored \
///       --nocapture nodes::catch_up_reads
#[tokio::test]
#[ignore = "benchmark: run on demand"]
async fn catch_up_reads() {
    let Some(db) = postgres_or_skip().await else {
        return;
    };
    let app = node_on(db).await;
    let pool = &app.state.db.pool;
    let now = kaibiao::clock::Clock::now_ms(&*app.state.clock);
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    println!("| rooms | statements | catch-up reads p50 | SELECT 1 × statements p50 | ratio |");
    println!("| --- | --- | --- | --- | --- |");
    for n in [100usize, 1_000, 10_000] {
        let tenders: Vec<String> = (0..n).map(|_| uuid::Uuid::now_v7().to_string()).collect();
        let rooms: Vec<String> = tenders.iter().map(|t| format!("opening:{t}")).collect();
        for chunk in rooms.chunks(200) {
            let mut tx = pool.begin().await.unwrap();
            for room in chunk {
                for other in ["node-b", "node-c"] {
                    sqlx::query(
                        "INSERT INTO room_presence (node_id, room, instance, members, changed_at, \
                         seen_at) VALUES ($1, $2, 'i', '[]', $3, $3)",
                    )
                    .bind(other)
                    .bind(room)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                }
            }
            tx.commit().await.unwrap();
        }
        let ids: Vec<&str> = tenders.iter().map(String::as_str).collect();
        let names: Vec<&str> = rooms.iter().map(String::as_str).collect();
        // The ledger and bid-register heads: one statement each per 500 tenders; the
        // presence heads: one per 500 rooms, or a single pass beyond 500.
        let per = kaibiao::db::IDS_PER_STATEMENT;
        let statements = 2 * n.div_ceil(per) + if n > per { 1 } else { n.div_ceil(per) };
        // As autovacuum would have by then: the planner knows the rows just written.
        sqlx::query("ANALYZE room_presence")
            .execute(pool)
            .await
            .unwrap();
        let (mut reads, mut pings, mut ledger) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..21 {
            let t = std::time::Instant::now();
            kaibiao::ledger::repo::last_seqs(pool, &ids).await.unwrap();
            ledger.push(t.elapsed());
            let heads = kaibiao::hub::presence::heads(pool, "node-a", &names, now)
                .await
                .unwrap();
            reads.push(t.elapsed());
            assert_eq!(heads.len(), n);
            let t = std::time::Instant::now();
            for _ in 0..statements {
                sqlx::query("SELECT 1").execute(pool).await.unwrap();
            }
            pings.push(t.elapsed());
        }
        let (read, ping, ledger) = (median(reads), median(pings), median(ledger));
        println!(
            "| {n} | {statements} | {read:.2?} (ledger heads {ledger:.2?}) | {ping:.2?} | {:.1}× |",
            read.as_secs_f64() / ping.as_secs_f64()
        );
    }
}

/// A TCP proxy in front of the nodes, as a load balancer is: each connection goes to the
/// node `to` names when it is made. Its base URL.
async fn proxy(to: std::sync::Arc<std::sync::Mutex<String>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let node = to.lock().unwrap().clone();
            tokio::spawn(async move {
                if let Ok(mut out) = tokio::net::TcpStream::connect(&node).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                }
            });
        }
    });
    base
}

/// A supervisor watches the opening hall in Chromium through a proxy to one node; that
/// node stops (its hub closes every connection with 1012) and the proxy sends new
/// connections to the other: the page reconnects there by itself, and an amendment made at
/// the first node after the move appears in its feed — every ledger event in the feed
/// exactly once, nothing reloaded.
#[tokio::test]
async fn a_browser_follows_a_stopping_node_to_another() {
    let Some(db) = postgres_or_skip().await else {
        return;
    };
    let Some(driver) = crate::browser::patient_browser().await else {
        return;
    };
    let c = &driver.client;
    let (_shared, nodes) = two_nodes(&db).await;
    let [a, b] = &nodes;
    let (sessions, tender) = published_at(&a.base, "浏览器随节点迁移").await;
    let to = std::sync::Arc::new(std::sync::Mutex::new(
        a.base.trim_start_matches("http://").to_string(),
    ));
    let front = proxy(to.clone()).await;

    crate::browser::login_at(c, &front, "finance").await;
    c.goto(&format!("{front}/opening.html?tender={tender}"))
        .await
        .unwrap();
    crate::browser::wait_long(c, "#hall-conn[data-status='live']").await;
    let head = kaibiao::ledger::repo::head_seq(&a.state.db.pool, &tender)
        .await
        .unwrap();
    crate::browser::wait_long(c, &format!("li.feed-item[data-seq='{head}']")).await;
    let hub = |n: &crate::common::TestApp| kaibiao::hub::Hub::of(&n.state).open_connections();
    assert_eq!(
        (hub(a), hub(b)),
        (1, 0),
        "the page's hub connection is at the first node"
    );

    // The first node stops: from now on the proxy sends new connections to the second.
    *to.lock().unwrap() = b.base.trim_start_matches("http://").to_string();
    kaibiao::hub::Hub::of(&a.state)
        .drain(Duration::from_secs(5))
        .await;
    let since = std::time::Instant::now();
    while hub(b) == 0 {
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "the page reconnected to the second node by itself"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(hub(a), 0, "and none is left at the first");
    crate::browser::wait_long(c, "#hall-conn[data-status='live']").await;

    // An amendment at the first node reaches the page at the second, once.
    let (status, v) = sessions[0]
        .post(
            &format!("/api/tenders/{tender}/amendments"),
            json!({"reason": "节点迁移后的更正", "changes": {"description": "迁移后更正"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let amended = head + 1;
    crate::browser::wait_long(c, &format!("li.feed-item[data-seq='{amended}']")).await;
    let mut seqs = Vec::new();
    for li in c
        .find_all(fantoccini::Locator::Css("li.feed-item"))
        .await
        .unwrap()
    {
        let seq = li.attr("data-seq").await.unwrap().unwrap();
        seqs.push(seq.parse::<i64>().unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=amended).collect::<Vec<_>>(),
        "every event in the feed once"
    );
    driver.close().await;
}

/// Benchmark (BENCHMARKS.md, "Several nodes"): how much later an event reaches a watcher
/// on another node than one on the node that committed it. Three nodes on the tests'
/// PostgreSQL; the host amends a tender `KAIBIAO_BENCH_EVENTS` times (default 200) at the
/// first node, one after the other; a supervisor watches at the first node and one at the
/// second. Prints each watcher's delay from the amendment's request to its event (the
/// commit included), and the ratio.
///
///   KAIBIAO_TEST_DATABASE_URL=postgres://… cargo test --release --test it -- --ignored \
///       --nocapture nodes::cross_node_delivery
#[tokio::test]
#[ignore = "benchmark: run on demand"]
async fn cross_node_delivery() {
    let Some(db) = postgres_or_skip().await else {
        return;
    };
    let events: usize = std::env::var("KAIBIAO_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let nodes = Nodes::start(&db, None).await;
    let (a, b) = (nodes.bases[0].clone(), nodes.bases[1].clone());
    let (sessions, tender) = published_at(&a, "跨节点送达").await;
    let room = format!("opening:{tender}");
    let mut watchers = Vec::new();
    for base in [&a, &b] {
        let mut ws = hub_at(base, &token_at(base, "finance").await)
            .await
            .unwrap();
        let sub = json!({"type": "subscribe", "room": room, "since_seq": 2});
        ws.send(Message::Text(sub.to_string().into()))
            .await
            .unwrap();
        // Each event's arrival, by seq.
        watchers.push(tokio::spawn(async move {
            let mut at = std::collections::BTreeMap::new();
            while at.len() < events {
                let Some(Ok(Message::Text(t))) = ws.next().await else {
                    break;
                };
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] == "event" {
                    at.insert(
                        v["event"]["seq"].as_i64().unwrap(),
                        std::time::Instant::now(),
                    );
                }
            }
            at
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut sent = Vec::new();
    for i in 0..events {
        sent.push(std::time::Instant::now());
        let (status, v) = sessions[0]
            .post(
                &format!("/api/tenders/{tender}/amendments"),
                json!({"reason": format!("第{i}次更正"), "changes": {"description": format!("更正{i}")}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        // One at a time, as people amend: the delay is not a queue's.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut p99s = Vec::new();
    for (name, w) in ["same node", "other node"].into_iter().zip(watchers) {
        let at = w.await.unwrap();
        assert_eq!(at.len(), events, "{name}: every event arrived");
        let mut us: Vec<i64> = at
            .values()
            .zip(&sent)
            .map(|(got, sent)| got.saturating_duration_since(*sent).as_micros() as i64)
            .collect();
        us.sort_unstable();
        let p = |q| kaibiao::load::stats::percentile(&us, q) as f64 / 1000.0;
        println!(
            "{name:<10} n={events}  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
            p(50.0),
            p(99.0),
            *us.last().unwrap() as f64 / 1000.0
        );
        p99s.push(p(99.0));
    }
    println!(
        "other node / same node, p99: {:.2}×, +{:.2} ms",
        p99s[1] / p99s[0].max(0.001),
        p99s[1] - p99s[0]
    );
}

/// A node stopped (SIGTERM, as an upgrade does) closes its hub connections with 1012,
/// "service restart", so that clients go to another node at once, then exits cleanly.
/// It runs its hub's connections on the threads `--hub-threads` asked for.
#[tokio::test]
async fn a_stopping_node_sends_its_watchers_elsewhere() {
    let db = crate::common::fresh_database_url().await;
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_with(
        &["--demo", "--hub-threads", "5"],
        dir.path(),
        db.as_deref(),
        None,
    );
    let mut ws = hub_at(&server.base, &token_at(&server.base, "finance").await)
        .await
        .unwrap();
    ws.send(Message::Text(json!({"type": "ping"}).to_string().into()))
        .await
        .unwrap();
    assert!(matches!(ws.next().await, Some(Ok(Message::Text(_)))));
    // A thread is named once it runs: on a busy machine the last may not be yet.
    let pid = server.child.id();
    let hub_threads = || {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .filter(|t| {
                let comm = t.as_ref().unwrap().path().join("comm");
                std::fs::read_to_string(comm).is_ok_and(|c| c.trim() == "kaibiao-hub")
            })
            .count()
    };
    assert!(
        kaibiao_media::testing::wait_for(10, || hub_threads() == 5).await,
        "the hub's connections on --hub-threads: {} threads",
        hub_threads()
    );
    let stopping = std::thread::spawn(move || crate::cli::terminate(&mut server));
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("no close frame: {other:?}"),
        }
    };
    let close = close.expect("a close frame with a code");
    assert_eq!(u16::from(close.code), 1012);
    assert!(close.reason.contains("reconnect"), "{}", close.reason);
    assert!(stopping.join().unwrap().success(), "a clean exit");
}

/// The node that runs `room`'s media, as `media_owner` says.
async fn media_owner(app: &crate::common::TestApp, room: &str) -> Option<String> {
    sqlx::query_scalar("SELECT node_id FROM media_owner WHERE room = $1")
        .bind(room)
        .fetch_optional(&app.state.db.pool)
        .await
        .unwrap()
}

/// Makes `media_owner` name node `node` at `url` as the holder of `room`, seen now (as a
/// node taking the room over writes it).
pub(crate) async fn hand_media_room(
    app: &crate::common::TestApp,
    room: &str,
    node: &str,
    url: &str,
) {
    sqlx::query("UPDATE media_owner SET node_id = $1, url = $2, seen_at = $3 WHERE room = $4")
        .bind(node)
        .bind(url)
        .bind(app.state.clock.now_ms())
        .bind(room)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
}

/// An address nobody answers at (a port just closed).
async fn nobody_at() -> String {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    format!("http://{}", closed.local_addr().unwrap())
}

/// Where the other nodes reach `app`.
pub(crate) fn node_url(app: &crate::common::TestApp) -> String {
    app.state
        .runtime::<kaibiao::cluster::Cluster>()
        .reached_at()
        .unwrap()
        .to_string()
}

/// The node id of `app`.
pub(crate) fn node_id(app: &crate::common::TestApp) -> String {
    app.state
        .runtime::<kaibiao::cluster::Cluster>()
        .node()
        .to_string()
}

/// Whether `peer` receives video and audio (30 packets of each) within 15 s, and what it
/// received, for the message.
async fn receives_both(peer: &kaibiao_media::testing::Peer) -> (bool, String) {
    use std::sync::atomic::Ordering;
    let r = peer.received.clone();
    let (video, audio) = (
        || r.video.load(Ordering::Relaxed),
        || r.audio.load(Ordering::Relaxed),
    );
    let ok = kaibiao_media::testing::wait_for(15, || video() > 30 && audio() > 30).await;
    (ok, format!("video {} audio {}", video(), audio()))
}

/// Whether `hub`'s client is told to join the media again (`MEDIA_NODE_UNREACHABLE`)
/// within 10 s.
async fn told_to_join_again(hub: &crate::media::HubMedia) -> bool {
    let errors = hub.errors.clone();
    kaibiao_media::testing::wait_for(10, || {
        errors
            .lock()
            .unwrap()
            .iter()
            .any(|c| c == "MEDIA_NODE_UNREACHABLE")
    })
    .await
}

/// Whether nobody is in `room`'s media at `app`'s SFU.
fn nobody_in_media(app: &crate::common::TestApp, room: &str) -> bool {
    app.state
        .media
        .room(room)
        .is_none_or(|r| r.participants.is_empty())
}

/// The ids of the participants in a `media_room` frame's info.
fn media_ids(info: &Value) -> Vec<String> {
    info["participants"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// People of one room connected to two nodes are in one media room, run by the node the
/// first of them joined at: a supervisor at the other node receives the host's video and
/// audio, its signalling relayed; that node's hub room lists both; a refusal by the owner
/// reaches the client at the other node with its code; leaving there leaves the owner's
/// room. A node whose owner cannot be reached takes the room over. The nodes' link is
/// refused without their token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_of_one_room_at_two_nodes_share_one_media_room() {
    use crate::media::{code_of, peer};
    use kaibiao_media::testing::{start_sending, wait_for, Offer};
    let Some((_shared, nodes, room)) = two_nodes_in_a_room().await else {
        return;
    };
    let [a, b] = &nodes;

    let (_host_hub, host, joined) = peer(a, "agency", &room, Offer::Send).await;
    assert_eq!(joined["role"], "publisher", "{joined}");
    let host = host.unwrap();
    let sending = start_sending(&host, 30);
    let (finance_hub, finance, joined) = peer(b, "finance", &room, Offer::Receive).await;
    assert_eq!(joined["type"], "media_joined", "{joined}");
    assert_eq!(joined["role"], "subscriber");
    let finance = finance.unwrap();
    let (received, what) = receives_both(&finance).await;
    assert!(received, "finance at the other node received {what}");
    // One SFU room, at the node the host joined at.
    let finance_id = b.user_id("finance").await;
    let host_id = a.user_id("agency").await;
    let at_a = media_ids(&serde_json::to_value(a.state.media.room(&room).unwrap()).unwrap());
    assert_eq!(at_a.len(), 2, "{at_a:?}");
    assert!(at_a.contains(&finance_id) && at_a.contains(&host_id));
    assert!(
        b.state.media.room(&room).is_none(),
        "no media room at the other node"
    );
    // The other node's hub room is told who is in the media.
    let info = finance_hub.room_info.clone();
    assert!(
        wait_for(10, || {
            let ids = media_ids(&info.lock().unwrap());
            ids.contains(&finance_id) && ids.contains(&host_id)
        })
        .await,
        "{}",
        info.lock().unwrap()
    );
    // A list too long for one notification (a big hall watching) reaches it too, in parts.
    let mut big = a.state.media.room(&room).unwrap();
    let watcher = big.participants[0].clone();
    big.participants
        .extend((0..150).map(|i| kaibiao_media::ParticipantInfo {
            id: format!("watcher-{i:04}-{}", "x".repeat(30)),
            ..watcher.clone()
        }));
    assert!(serde_json::to_string(&big).unwrap().len() > 16_000);
    a.state.rooms.media(&room, &big);
    assert!(
        wait_for(10, || media_ids(&info.lock().unwrap()).len() == 152).await,
        "the long list at the other node: {} ids",
        media_ids(&info.lock().unwrap()).len()
    );
    a.state
        .rooms
        .media(&room, &a.state.media.room(&room).unwrap());

    // The owner's refusal reaches a client at the other node as it would at the owner.
    let (_sup_hub, sup, _) = peer(b, "oversight", &room, Offer::Send).await;
    assert_eq!(code_of(&sup.err().unwrap()), "RECEIVE_ONLY");
    // Leaving at the other node leaves the owner's room.
    finance_hub.leave().await;
    let sfu = a.state.media.clone();
    let room_at_a = room.clone();
    let finance_gone = finance_id.clone();
    assert!(
        wait_for(10, || sfu.room(&room_at_a).is_some_and(|r| r
            .participants
            .iter()
            .all(|p| p.id != finance_gone)))
        .await,
        "finance still in the owner's room"
    );
    sending.abort();
    drop(host);

    // An owner that cannot be reached (its address refuses connections) is taken over.
    hand_media_room(b, &room, "gone", &nobody_at().await).await;
    let (_p_hub, purchaser, joined) = peer(b, "purchaser", &room, Offer::Receive).await;
    assert_eq!(joined["type"], "media_joined", "{joined}");
    assert!(purchaser.is_ok());
    assert!(
        b.state.media.room(&room).is_some(),
        "the room runs at the node that took it over"
    );
    assert_eq!(media_owner(b, &room).await, Some(node_id(b)));

    // The link between nodes wants their token.
    let refused = crate::common::client()
        .get(format!("{}/nodes/media", a.base))
        .header("x-kaibiao-node", "0".repeat(64))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

/// A node that ran a media room and finds another node holding it (it took the room over
/// while it could not reach this one: a split between the nodes) lets it go at its next
/// refresh once that node answers: its people are told `MEDIA_NODE_UNREACHABLE` and leave
/// its SFU, and joining again takes them to the node that holds the room, so the room is
/// one room again. While the holder does not answer, they stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_lost_a_media_room_sends_its_people_to_the_node_that_holds_it() {
    use crate::media::peer;
    use kaibiao_media::testing::{start_sending, Offer};
    let Some((_shared, nodes, room)) = two_nodes_in_a_room().await else {
        return;
    };
    let [a, b] = &nodes;
    let host_id = a.user_id("agency").await;

    let (host_hub, host, _) = peer(a, "agency", &room, Offer::Send).await;
    let host = host.unwrap();
    assert_eq!(media_owner(a, &room).await, Some(node_id(a)));
    // A node that does not answer took the room (each side of a split takes it): the
    // host stays here past a refresh.
    hand_media_room(a, &room, "split", &nobody_at().await).await;
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert!(host_hub.errors.lock().unwrap().is_empty());
    assert!(
        !nobody_in_media(a, &room),
        "the host stays while the holder does not answer"
    );
    // The other node takes the room over, as it does when it cannot reach this one.
    let b_url = node_url(b);
    hand_media_room(b, &room, &node_id(b), &b_url).await;
    let took = std::time::Instant::now();
    assert!(
        told_to_join_again(&host_hub).await,
        "the host was not told: {:?}",
        host_hub.errors.lock().unwrap()
    );
    eprintln!("told after {:?}", took.elapsed());
    assert!(nobody_in_media(a, &room), "the host left this node's SFU");
    assert_eq!(
        media_owner(a, &room).await,
        Some(node_id(b)),
        "the row is left to B"
    );
    drop(host);

    // Joining again at the same node goes to the node that holds the room; a supervisor
    // there receives the host.
    let (_again_hub, again, joined) = peer(a, "agency", &room, Offer::Send).await;
    assert_eq!(joined["role"], "publisher", "{joined}");
    let again = again.unwrap();
    let sending = start_sending(&again, 30);
    let (_f_hub, finance, _) = peer(b, "finance", &room, Offer::Receive).await;
    let finance = finance.unwrap();
    let (received, what) = receives_both(&finance).await;
    assert!(received, "finance received {what}");
    let at_b = media_ids(&serde_json::to_value(b.state.media.room(&room).unwrap()).unwrap());
    assert!(at_b.contains(&host_id), "{at_b:?}");
    assert!(
        nobody_in_media(a, &room),
        "nobody in the media at the node that lost the room"
    );
    sending.abort();
}

/// The status a hub upgrade at `base` is answered with (101 when it is taken), and the
/// connection.
async fn hub_status(base: &str, token: &str) -> (StatusCode, Option<Ws>) {
    let mut req = format!("{}/api/hub", base.replace("http://", "ws://"))
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, r)) => (r.status(), Some(ws)),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => (r.status(), None),
        Err(e) => panic!("hub upgrade at {base}: {e}"),
    }
}

/// One user's hub connections are capped over all the nodes, not at each: with a cap of
/// two held at one node, the other node refuses a third (429, `RATE_LIMITED`); once one
/// closes, the other node admits one within the next write of the counts (a second).
#[tokio::test]
async fn a_users_hub_connections_are_capped_over_all_the_nodes() {
    let Some(db) = postgres_or_skip().await else {
        return;
    };
    let (_shared, nodes) = two_nodes_with(&db, |c| c.hub_connections_per_user = 2).await;
    let [a, b] = &nodes;
    let token = token_at(&a.base, "finance").await;
    let (first, c1) = hub_status(&a.base, &token).await;
    let (second, _c2) = hub_status(&a.base, &token).await;
    assert_eq!(
        (first, second),
        (
            StatusCode::SWITCHING_PROTOCOLS,
            StatusCode::SWITCHING_PROTOCOLS
        )
    );
    let (third, _) = hub_status(&b.base, &token).await;
    assert_eq!(
        third,
        StatusCode::TOO_MANY_REQUESTS,
        "a third at the other node"
    );

    // One closes at the first node: the other node admits one, once it knows.
    let mut c1 = c1.unwrap();
    c1.close(None).await.unwrap();
    let closed = std::time::Instant::now();
    let mut at_b = None;
    while closed.elapsed() < Duration::from_secs(5) && at_b.is_none() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        at_b = hub_status(&b.base, &token).await.1;
    }
    assert!(at_b.is_some(), "the other node admits one after a close");
    eprintln!(
        "admitted at the other node {:?} after the close",
        closed.elapsed()
    );
    // Two held again (one at each): the first node refuses a third.
    let (again, _) = hub_status(&a.base, &token).await;
    assert_eq!(
        again,
        StatusCode::TOO_MANY_REQUESTS,
        "a third at the first node"
    );
}

/// A node stopping hands its media rooms over: the people of a room it ran, connected at
/// another node, are told `MEDIA_NODE_UNREACHABLE` as it stops, the room is no longer
/// claimed by it, and when they join again (the host too, reconnected) the other node runs
/// the room and the supervisor sees and hears the host again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_node_hands_its_media_rooms_to_another() {
    use crate::media::peer;
    use kaibiao_media::testing::{start_sending, wait_for, Offer};
    use std::sync::atomic::Ordering;
    let Some(db) = postgres_or_skip().await else {
        return;
    };
    let (_shared, [a, b]) = two_nodes(&db).await;
    let tender = a.school_tender_id().await;
    let room = format!("opening:{tender}");
    let (_host_hub, host, _) = peer(&a, "agency", &room, Offer::Send).await;
    let host = host.unwrap();
    let sending = start_sending(&host, 30);
    let (finance_hub, finance, _) = peer(&b, "finance", &room, Offer::Receive).await;
    let finance = finance.unwrap();
    let r = finance.received.clone();
    assert!(wait_for(15, || r.video.load(Ordering::Relaxed) > 30).await);

    let a_node = node_id(&a);
    let stopped = std::time::Instant::now();
    a.terminate().await;
    assert!(
        told_to_join_again(&finance_hub).await,
        "the supervisor at the other node is told: {:?}",
        finance_hub.errors.lock().unwrap()
    );
    eprintln!("stopped and told in {:?}", stopped.elapsed());
    assert_ne!(
        media_owner(&b, &room).await,
        Some(a_node),
        "the stopped node gave the room up"
    );
    sending.abort();
    drop((host, finance));

    // Both join again at the node still running: it runs the room now.
    let (_host_hub, host, joined) = peer(&b, "agency", &room, Offer::Send).await;
    assert_eq!(joined["role"], "publisher", "{joined}");
    let host = host.unwrap();
    let _sending = start_sending(&host, 30);
    let (_finance_hub, finance, _) = peer(&b, "finance", &room, Offer::Receive).await;
    let finance = finance.unwrap();
    let (received, what) = receives_both(&finance).await;
    assert!(
        received,
        "{what} after the hand-over; the room at the other node: {:?}",
        b.state.media.room(&room)
    );
    assert_eq!(
        b.state.media.room(&room).map(|r| r.participants.len()),
        Some(2)
    );
    assert_eq!(media_owner(&b, &room).await, Some(node_id(&b)));
}

/// With more live rooms than one statement names, the other nodes' presence heads are read
/// in one pass, and are what the read by statements gives: each room's rows of the other
/// live nodes, none of this node's, none of a stopped node's, none of rooms not live here.
#[tokio::test]
async fn presence_heads_of_many_rooms_are_those_of_the_other_live_nodes() {
    use kaibiao::hub::presence::heads;
    let Some(db) = postgres_or_skip().await else {
        return;
    };
    let app = node_on(db).await;
    let pool = &app.state.db.pool;
    let now = kaibiao::clock::Clock::now_ms(&*app.state.clock);
    let n = kaibiao::db::IDS_PER_STATEMENT + 100;
    let rooms: Vec<String> = (0..=n).map(|i| format!("opening:many-{i}")).collect();
    let mut tx = pool.begin().await.unwrap();
    for (i, room) in rooms.iter().enumerate() {
        // This node, a live other node, and (for some rooms) a node stopped a minute ago.
        let mut rows = vec![("node-a", now), ("node-b", now)];
        if i % 7 == 0 {
            rows.push(("node-gone", now - 60_000));
        }
        for (node, seen) in rows {
            sqlx::query(
                "INSERT INTO room_presence (node_id, room, instance, members, changed_at, \
                 seen_at) VALUES ($1, $2, 'i', '[]', $3, $4)",
            )
            .bind(node)
            .bind(room)
            .bind(i as i64)
            .bind(seen)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();
    // The last room is not live here.
    let live: Vec<&str> = rooms[..n].iter().map(String::as_str).collect();
    let many = heads(pool, "node-a", &live, now).await.unwrap();
    assert_eq!(many.len(), n);
    for (i, room) in live.iter().enumerate() {
        assert_eq!(
            many[*room],
            vec![("node-b".to_string(), i as i64)],
            "{room}"
        );
    }
    // A few rooms, read by statement: the same heads.
    let few = heads(pool, "node-a", &live[..50], now).await.unwrap();
    assert_eq!(few.len(), 50);
    assert!(few.iter().all(|(room, h)| many[room] == *h));
}
