//! Benchmark (issue #5): 200 committee rooms (评标室) in `scoring`, each with its 7 seated
//! experts and 3 supervisors (oversight, finance, admin) on the hub; every expert scores
//! the 3 bids of its room at once, and each score's acknowledgement latency is measured
//! from the send to the `ack` with the same id. Baseline, same run, same connections: the
//! hub's `ping` → `pong` round trip, which touches no database. Server and clients share
//! this process and its two worker threads. Prints figures; asserts only correctness.
//!
//! `cargo test --release --test it -- --ignored --nocapture committee_rooms`

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::Barrier;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{spawn_app_at_with, TestApp};
use crate::evaluation::{evaluating, expert_user, T0};
use crate::hub::{open, send, token, Ws};
use kaibiao::load::stats::{percentile, rss_kib};

const ROOMS: usize = 200;
const EXPERTS: usize = 7;
const OBSERVERS: [&str; 3] = ["oversight", "finance", "admin"];
/// Handshakes and subscriptions in flight while the rooms fill.
const CONNECTING: usize = 64;
/// Long enough for a loaded machine; a frame later than this is a failure, not a figure.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

const TECH: &str = "技术方案";
const SERVICE: &str = "售后服务";
const RECORD: &str = "类似业绩";

/// POSTs an evaluation command over HTTP as `user`; returns the acknowledgement.
async fn eval_cmd(app: &TestApp, user: &str, tender: &str, cmd: Value) -> Value {
    let (status, v) = app
        .login(user)
        .await
        .post(&format!("/api/tenders/{tender}/evaluation"), cmd)
        .await;
    assert_eq!(status, StatusCode::OK, "{user}: {v}");
    v
}

/// The demo opening tender through a real opening, draw (a panel of 7), seating,
/// qualification and compliance review: `scoring`. Returns (tender, bid ids, the seated
/// experts' user names in seat order).
async fn to_scoring(
    app: &TestApp,
    clock: &kaibiao::clock::ManualClock,
) -> (String, Vec<String>, Vec<String>) {
    let (tender, bids) = evaluating(app, clock, &[100_000_000, 105_000_000, 110_000_000]).await;
    let r = eval_cmd(
        app,
        "agency",
        &tender,
        json!({"type": "request_draw", "specialty": "environmental", "committee_size": 7}),
    )
    .await;
    assert_eq!(r["committee_size"], 7, "{r}");
    let r = eval_cmd(
        app,
        "finance",
        &tender,
        json!({"type": "draw", "nonce": "评标室基准 committee rooms"}),
    )
    .await;
    assert_eq!(r["panel"], EXPERTS, "{r}");
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT expert_id FROM evaluation_panel WHERE tender_id = $1 ORDER BY seat",
    )
    .bind(&tender)
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
    let mut experts = Vec::new();
    for id in &ids {
        experts.push(expert_user(app, id).await);
    }
    for user in &experts {
        let accept = crate::evaluation::accept(app, user, &tender).await;
        eval_cmd(app, user, &tender, accept).await;
    }
    for bid in &bids {
        eval_cmd(
            app,
            "purchaser",
            &tender,
            json!({"type": "qualify", "bid_id": bid, "pass": true}),
        )
        .await;
    }
    for user in &experts {
        for bid in &bids {
            eval_cmd(
                app,
                user,
                &tender,
                json!({"type": "review", "bid_id": bid, "pass": true}),
            )
            .await;
        }
    }
    let (_, v) = app
        .login("oversight")
        .await
        .get(&format!("/api/tenders/{tender}/evaluation"))
        .await;
    assert_eq!(v["phase"], "scoring", "{v}");
    (tender, bids, experts)
}

/// The tables that hold a tender in `scoring`, parents first, with the column naming the
/// tender. The ledger is appended afresh (its hashes cover the tender id).
const CLONED: [(&str, &str); 9] = [
    ("tenders", "id"),
    ("tender_lots", "tender_id"),
    ("bids", "tender_id"),
    ("openings", "tender_id"),
    ("opening_bids", "tender_id"),
    ("evaluations", "tender_id"),
    ("evaluation_panel", "tender_id"),
    ("evaluation_qualification", "tender_id"),
    ("evaluation_reviews", "tender_id"),
];

/// A copy of `src` with fresh tender and bid ids, in the same phase, with the same panel:
/// rows copied by `INSERT ... SELECT`, every text column's ids replaced, and the
/// ledger re-appended with the ids replaced so that its chain verifies. Returns (tender,
/// bid ids).
async fn clone_tender(
    app: &TestApp,
    src: &str,
    bids: &[String],
    n: usize,
) -> (String, Vec<String>) {
    let new_id = kaibiao::org::service::new_id;
    let mut pairs = vec![(src.to_string(), new_id())];
    pairs.extend(bids.iter().map(|b| (b.clone(), new_id())));
    let code_suffix = format!("-B{n:03}");
    let mut tx = app.state.db.begin().await.unwrap();
    for (table, key) in CLONED {
        let columns = match app.state.db.backend {
            kaibiao::db::Backend::Sqlite => {
                "SELECT name, type FROM pragma_table_info($1) ORDER BY cid"
            }
            kaibiao::db::Backend::Postgres => {
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_name = $1 AND table_schema = current_schema() \
                 ORDER BY ordinal_position"
            }
        };
        let cols: Vec<(String, String)> = sqlx::query_as(columns)
            .bind(table)
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        // $1 is the source tender, then (old, new) pairs from $2, then the code suffix.
        let suffix_arg = 2 + 2 * pairs.len();
        let exprs: Vec<String> = cols
            .iter()
            .map(|(name, ty)| {
                if table == "tenders" && name == "code" {
                    format!("code || ${suffix_arg}")
                } else if ty.eq_ignore_ascii_case("TEXT") {
                    (0..pairs.len()).fold(name.clone(), |e, i| {
                        format!("REPLACE({e}, ${}, ${})", 2 + 2 * i, 3 + 2 * i)
                    })
                } else {
                    name.clone()
                }
            })
            .collect();
        let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) SELECT {} FROM {table} WHERE {key} = $1",
            names.join(", "),
            exprs.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(src);
        for (old, new) in &pairs {
            q = q.bind(old).bind(new);
        }
        let done = q.bind(&code_suffix).execute(&mut *tx).await.unwrap();
        assert!(done.rows_affected() > 0, "{table}: nothing to copy");
    }
    let ledger = kaibiao::ledger::repo::load(&mut *tx, src).await.unwrap();
    let to = &pairs[0].1;
    for e in ledger.events {
        let body = pairs
            .iter()
            .fold(e.body.to_string(), |s, (old, new)| s.replace(old, new));
        let kind = kaibiao::ledger::Kind::parse(&e.kind).expect("a kind this version writes");
        let event =
            kaibiao::ledger::LedgerEvent::parse(kind, &serde_json::from_str(&body).unwrap())
                .expect("a body this version writes");
        kaibiao::ledger::repo::append(&mut tx, to, e.at, &e.actor, &event)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    (
        to.clone(),
        pairs[1..].iter().map(|(_, b)| b.clone()).collect(),
    )
}

/// A hub connection with a bearer token, subscribed to `room` (ledger replayed).
async fn join(base: &str, bearer: &str, room: &str) -> Ws {
    let url = format!("{}/api/hub", base.replace("http://", "ws://"));
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {bearer}").parse().unwrap());
    let mut ws = open(req).await;
    send(
        &mut ws,
        json!({"type": "subscribe", "room": room, "since_seq": 0}),
    )
    .await;
    let v = next_where(&mut ws, |v| {
        v["type"] == "subscribed" || v["type"] == "error"
    })
    .await;
    assert_eq!(v["type"], "subscribed", "{v}");
    ws
}

/// The next text frame for which `want` holds; a `resync` (cut from live fan-out) fails.
async fn next_where(ws: &mut Ws, want: impl Fn(&Value) -> bool) -> Value {
    loop {
        let m = tokio::time::timeout(READ_TIMEOUT, ws.next())
            .await
            .expect("a frame in time")
            .expect("the connection stays open")
            .expect("a frame");
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            assert_ne!(v["type"], "resync", "cut from live fan-out");
            if want(&v) {
                return v;
            }
        }
    }
}

struct Timings {
    ping_us: Vec<i64>,
    score_us: Vec<i64>,
}

/// One expert: three pings, then a score for each bid of its room, each waited for.
/// The barrier (all experts and the driver) starts and ends each phase together.
async fn expert(
    mut ws: Ws,
    room: String,
    tag: String,
    bids: Vec<String>,
    barrier: Arc<Barrier>,
) -> Timings {
    let mut t = Timings {
        ping_us: Vec::new(),
        score_us: Vec::new(),
    };
    barrier.wait().await;
    for _ in &bids {
        let start = Instant::now();
        send(&mut ws, json!({"type": "ping"})).await;
        next_where(&mut ws, |v| v["type"] == "pong").await;
        t.ping_us.push(start.elapsed().as_micros() as i64);
    }
    barrier.wait().await;
    barrier.wait().await;
    for (j, bid) in bids.iter().enumerate() {
        let id = format!("{tag}-{j}");
        let items = json!({ TECH: "85.00", SERVICE: "80.50", RECORD: "100.00" });
        let start = Instant::now();
        send(
            &mut ws,
            json!({"type": "command", "id": id, "room": room,
                   "command": {"type": "score", "bid_id": bid, "items": items}}),
        )
        .await;
        let reply = next_where(&mut ws, |v| v["id"] == id.as_str()).await;
        t.score_us.push(start.elapsed().as_micros() as i64);
        assert_eq!(reply["type"], "ack", "{reply}");
    }
    barrier.wait().await;
    t
}

/// One supervisor: reads the room's live events until every score of it has arrived.
async fn observer(mut ws: Ws, expected: usize) -> usize {
    let mut seen = 0;
    while seen < expected {
        next_where(&mut ws, |v| {
            v["type"] == "event" && v["event"]["kind"] == "scores_submitted"
        })
        .await;
        seen += 1;
    }
    seen
}

fn ms(us: i64) -> f64 {
    us as f64 / 1000.0
}

/// Prints the percentiles of `us`, and the rate over `secs` when given.
fn summary(name: &str, mut us: Vec<i64>, secs: Option<f64>) -> (i64, i64) {
    us.sort_unstable();
    let p = |q| percentile(&us, q);
    let rate = secs.map_or_else(String::new, |secs| {
        format!("  {:>8.0}/s ({secs:.2} s)", us.len() as f64 / secs)
    });
    println!(
        "{name:<10} n={:>5}  p50 {:>8.2} ms  p95 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms{rate}",
        us.len(),
        ms(p(50.0)),
        ms(p(95.0)),
        ms(p(99.0)),
        ms(us.last().copied().unwrap_or(0)),
    );
    (p(50.0), p(99.0))
}

fn rss_mib() -> f64 {
    rss_kib(std::process::id()).unwrap_or(0) as f64 / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: cargo test --release --test it -- --ignored --nocapture committee_rooms"]
async fn committee_rooms_200_panels_of_7_experts_score_at_once_watched_by_3_supervisors() {
    let nofile = kaibiao::load::raise_nofile();
    // Each supervisor watches all 200 rooms, one connection each.
    let (app, clock) = spawn_app_at_with(T0, |c| c.hub_connections_per_user = 1_000).await;
    let setup = Instant::now();
    let (tender, bids, experts) = to_scoring(&app, &clock).await;
    let mut rooms = vec![(tender.clone(), bids.clone())];
    for n in 1..ROOMS {
        rooms.push(clone_tender(&app, &tender, &bids, n).await);
    }
    let in_scoring: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM evaluations WHERE phase = 'scoring'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(in_scoring, ROOMS as i64);
    println!(
        "setup: 1 tender to scoring + {} copies in {:.1} s",
        ROOMS - 1,
        setup.elapsed().as_secs_f64()
    );

    // One bearer token per user, shared by that user's connections (one per room).
    let users: Vec<String> = experts
        .iter()
        .cloned()
        .chain(OBSERVERS.iter().map(|s| s.to_string()))
        .collect();
    let mut tokens = Vec::new();
    for u in &users {
        tokens.push(token(&app, u).await);
    }
    let rss_before = rss_mib();
    let connecting = Instant::now();
    let wanted: Vec<(usize, usize)> = (0..ROOMS)
        .flat_map(|r| (0..users.len()).map(move |u| (r, u)))
        .collect();
    let base = app.base.clone();
    let rooms_ref = &rooms;
    let tokens_ref = &tokens;
    let base_ref = &base;
    let mut conns: Vec<(usize, usize, Ws)> = futures_util::stream::iter(wanted)
        .map(|(r, u)| async move {
            let room = format!("evaluation:{}", rooms_ref[r].0);
            (r, u, join(base_ref, &tokens_ref[u], &room).await)
        })
        .buffer_unordered(CONNECTING)
        .collect()
        .await;
    conns.sort_by_key(|(r, u, _)| (*r, *u));
    let connected = conns.len();
    println!(
        "connections: {connected} ({ROOMS} rooms × {} experts + {} supervisors), subscribed in \
         {:.1} s; open-file limit {nofile}; RSS {rss_before:.0} MiB before, {:.0} MiB after",
        EXPERTS,
        OBSERVERS.len(),
        connecting.elapsed().as_secs_f64(),
        rss_mib()
    );

    let n_experts = ROOMS * EXPERTS;
    let barrier = Arc::new(Barrier::new(n_experts + 1));
    let mut expert_tasks = Vec::new();
    let mut observer_tasks = Vec::new();
    for (r, u, ws) in conns {
        let (tender, bids) = rooms[r].clone();
        if u < EXPERTS {
            expert_tasks.push(tokio::spawn(expert(
                ws,
                format!("evaluation:{tender}"),
                format!("r{r}e{u}"),
                bids,
                barrier.clone(),
            )));
        } else {
            observer_tasks.push(tokio::spawn(observer(ws, EXPERTS * bids.len())));
        }
    }

    barrier.wait().await;
    let t = Instant::now();
    barrier.wait().await;
    let ping_secs = t.elapsed().as_secs_f64();
    barrier.wait().await;
    let t = Instant::now();
    barrier.wait().await;
    let score_secs = t.elapsed().as_secs_f64();
    let mut ping_us = Vec::new();
    let mut score_us = Vec::new();
    // By sheet: the first is sent by all 1,400 at once, each next one on its answer.
    let mut sheet_us: Vec<Vec<i64>> = vec![Vec::new(); bids.len()];
    for task in expert_tasks {
        let timings = task.await.unwrap();
        ping_us.extend(timings.ping_us);
        for (j, us) in timings.score_us.iter().enumerate() {
            sheet_us[j].push(*us);
        }
        score_us.extend(timings.score_us);
    }
    let mut seen = 0;
    for task in observer_tasks {
        seen += task.await.unwrap();
    }
    let rss_after = rss_mib();

    // Correctness: every submission acknowledged (asserted in each task), every score
    // stored, every event seen live by every supervisor, every ledger still a chain.
    let submissions = ROOMS * EXPERTS * bids.len();
    assert_eq!(score_us.len(), submissions);
    assert_eq!(seen, submissions * OBSERVERS.len());
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evaluation_scores")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, (submissions * 3) as i64, "3 items per score");
    for (tender, _) in &rooms {
        let ledger = kaibiao::ledger::repo::load(&app.state.db.pool, tender)
            .await
            .unwrap();
        kaibiao::ledger::verify(&ledger).unwrap();
        let scored = ledger
            .events
            .iter()
            .filter(|e| e.kind == "scores_submitted")
            .count();
        assert_eq!(scored, EXPERTS * bids.len());
    }

    println!(
        "{ROOMS} rooms, {n_experts} experts scoring, {} supervisors watching, {submissions} \
         score submissions ({} each), {connected} connections",
        ROOMS * OBSERVERS.len(),
        bids.len()
    );
    let (ping50, ping99) = summary("ping", ping_us, Some(ping_secs));
    let (score50, score99) = summary("score ack", score_us, Some(score_secs));
    for (j, us) in sheet_us.into_iter().enumerate() {
        summary(&format!("  sheet {}", j + 1), us, None);
    }
    println!(
        "ratio score ack / ping: p50 {:.1}×, p99 {:.1}×",
        score50 as f64 / ping50.max(1) as f64,
        score99 as f64 / ping99.max(1) as f64
    );
    // The writer's batches as /metrics shows them.
    if let (Some(n), Some(size), Some(secs)) = (
        app.metric("score_batch_size_count"),
        app.metric("score_batch_size_sum"),
        app.metric("score_batch_seconds_sum"),
    ) {
        println!(
            "score batches: {n}, {:.0} scores and {:.0} ms each on average",
            size / n,
            secs * 1000.0 / n
        );
    }
    println!(
        "live scores_submitted events read by supervisors: {seen}; RSS {rss_after:.0} MiB \
         ({:.1} KiB per connection over the start)",
        (rss_after - rss_before) * 1024.0 / connected as f64
    );
}

/// The panel reads large bid documents: 8 downloads at once of one 120 MB document, the
/// memory of the process (server and clients) sampled every 10 ms. Served whole, they
/// would need 8 × 120 MB; streamed from the blob store, a few buffers each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: cargo test --release --test it -- --ignored --nocapture document_downloads"]
async fn document_downloads_8_at_once_of_a_120_mb_document() {
    const SIZE: usize = 120_000_000;
    const PARALLEL: usize = 8;
    let (app, clock) = spawn_app_at_with(T0, |_| {}).await;
    let setup = Instant::now();
    let document: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
    let (tender, _) = crate::evaluation::evaluating_with(
        &app,
        &clock,
        &[100_000_000, 105_000_000, 95_000_000],
        &document,
    )
    .await;
    drop(document);
    let agency = app.login("agency").await;
    let (status, v) = agency
        .post(
            &format!("/api/tenders/{tender}/evaluation"),
            json!({"type": "request_draw", "specialty": "environmental"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, view) = agency
        .get(&format!("/api/tenders/{tender}/evaluation"))
        .await;
    let sha = view["bids"][0]["documents"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let url = app.url(&format!("/api/tenders/{tender}/evaluation/documents/{sha}"));
    println!(
        "setup: 3 bids of {} MB sealed, sent, opened in {:.1} s",
        SIZE / 1_000_000,
        setup.elapsed().as_secs_f64()
    );

    let download = || async {
        let mut r = agency.client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let mut n = 0;
        while let Some(c) = r.chunk().await.unwrap() {
            n += c.len();
        }
        n
    };
    for parallel in [1, PARALLEL] {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = rss_mib();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let done = done.clone();
            tokio::spawn(async move {
                let mut peak = 0f64;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    peak = peak.max(rss_mib());
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                peak
            })
        };
        let started = Instant::now();
        let sizes = futures_util::future::join_all((0..parallel).map(|_| download())).await;
        let secs = started.elapsed().as_secs_f64();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let peak = sampler.await.unwrap().max(before);
        assert!(sizes.iter().all(|n| *n == SIZE), "{sizes:?}");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let whole = (parallel * SIZE) as f64 / (1 << 20) as f64;
        println!(
            "{parallel} at once: {:.0} MB/s in all; RSS {before:.0} → peak {peak:.0} MiB \
             (+{:.0} MiB, {:.3} of the {whole:.0} MiB that serving whole would hold), \
             {:.0} MiB 2 s after",
            (parallel * SIZE) as f64 / 1e6 / secs,
            peak - before,
            (peak - before) / whole,
            rss_mib()
        );
    }
}

/// The evaluation room's reader: a PDF page rendered by poppler for the first expert who
/// opens it, then served from memory to the rest of the panel. Prints milliseconds per
/// page, cold and warm, and their ratio. Run alone: the render cache is the process's.
#[tokio::test]
#[ignore = "benchmark: cargo test --release --test it -- --ignored --nocapture reader_pages"]
async fn reader_pages_rendered_once_for_the_panel() {
    let (app, clock) = crate::common::spawn_app_at(T0).await;
    let (tender, sha, experts) = crate::reader::with_pdfs(&app, &clock).await;
    let base = format!("/api/tenders/{tender}/evaluation/documents/{sha}");
    const PAGES: u32 = 3;
    let mut per_expert = Vec::new();
    for user in &experts {
        let s = app.login(user).await;
        let started = Instant::now();
        for page in 1..=PAGES {
            let r = s
                .client
                .get(app.url(&format!("{base}/pages/{page}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            assert!(r.bytes().await.unwrap().starts_with(b"\x89PNG"));
        }
        per_expert.push(started.elapsed().as_secs_f64() * 1000.0 / f64::from(PAGES));
    }
    let cold = per_expert[0];
    let warm = per_expert[1..].iter().sum::<f64>() / (per_expert.len() - 1) as f64;
    println!(
        "reader pages ({} experts × {PAGES} pages): first expert {cold:.1} ms/page (rendered), \
         the others {warm:.1} ms/page (kept), ratio {:.1}×",
        experts.len(),
        cold / warm
    );
}
