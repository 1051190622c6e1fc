//! The listener under abuse, from real TCP clients: headers that never finish, idle
//! connections, floods from one address, and one user holding many hub connections. Each
//! loop is bounded; each client is on loopback (127.0.0.2 plays a remote address).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{spawn_app_configured, TestApp};

/// A TCP connection to the app from loopback address `from`.
async fn tcp_from(app: &TestApp, from: [u8; 4]) -> TcpStream {
    let server: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("loopback alias");
    socket.connect(server).await.unwrap()
}

/// What the server sends before closing, or `None` if it neither answers nor closes
/// within `secs`.
async fn read_until_closed(tcp: &mut TcpStream, secs: u64) -> Option<String> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, tcp.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn slow_headers_and_idle_connections_are_closed_and_floods_refused_at_once() {
    let app = spawn_app_configured(|c| {
        c.limits.header_timeout = Duration::from_secs(1);
        c.limits.max_per_ip = 20;
    })
    .await;

    // Headers that never finish: closed after the header timeout (slowloris).
    let mut slow = tcp_from(&app, [127, 0, 0, 2]).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let start = Instant::now();
    assert!(read_until_closed(&mut slow, 5).await.is_some(), "closed");
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );

    // A kept-alive connection that sends nothing more: closed too.
    let mut idle = tcp_from(&app, [127, 0, 0, 2]).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let said = read_until_closed(&mut idle, 5)
        .await
        .expect("closed when idle");
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");

    // 20 connections from one address are all it may hold; the 21st is told at once,
    // while everyone else is served.
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(tcp_from(&app, [127, 0, 0, 2]).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = tcp_from(&app, [127, 0, 0, 2]).await;
    let said = read_until_closed(&mut extra, 3)
        .await
        .expect("refused at once");
    assert!(
        said.starts_with("HTTP/1.1 503") && said.contains("SERVER_BUSY"),
        "{said}"
    );
    let r = crate::common::client()
        .get(app.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK, "others are served");
    // The held ones send nothing: they are closed, and the address may connect again.
    for mut c in held {
        assert!(read_until_closed(&mut c, 5).await.is_some());
    }
    let mut again = tcp_from(&app, [127, 0, 0, 2]).await;
    again
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let said = read_until_closed(&mut again, 5).await.unwrap();
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
}

#[tokio::test]
async fn one_user_holds_a_bounded_number_of_hub_connections() {
    let app = spawn_app_configured(|c| c.hub_connections_per_user = 3).await;
    let token = crate::hub::token(&app, "finance").await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(crate::hub::connect_with_token(&app, &token).await);
    }
    let url = format!("{}/api/hub", app.base.replace("http://", "ws://"));
    let refused = async {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = url.clone().into_client_request().unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        tokio_tungstenite::connect_async(req).await
    };
    match refused.await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status(), 429);
            let body: serde_json::Value =
                serde_json::from_slice(r.body().as_deref().unwrap_or_default()).unwrap();
            assert_eq!(body["code"], "RATE_LIMITED");
            // When to come back, in the header every client reads as well as in the body.
            assert_eq!(
                r.headers().get("retry-after").map(|v| v.to_str().unwrap()),
                Some(body["retry_after_secs"].to_string().as_str())
            );
        }
        other => panic!("a fourth connection: {:?}", other.map(|_| ())),
    }
    // Another user is not affected; a closed connection gives its place back.
    crate::hub::connect(&app, "oversight").await;
    drop(open.pop());
    let mut ok = false;
    for _ in 0..50 {
        let mut req =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                url.clone(),
            )
            .unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        if tokio_tungstenite::connect_async(req).await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "the place is given back");
}

#[tokio::test]
async fn nul_characters_and_absurd_deadlines_are_refused_at_the_edge() {
    let app = crate::common::spawn_app().await;
    let s = app.login("agency").await;
    let now = chrono::Utc::now().timestamp_millis();
    let tenders = app.rows("tenders").await;
    // The same answer on SQLite and PostgreSQL (which cannot store NUL), nothing written.
    let body = app.tender_body("含\u{0}字符的项目", now).await;
    let (status, v) = s.post("/api/tenders", body).await;
    assert_eq!(
        (status, crate::common::code(&v)),
        (reqwest::StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
        "{v}"
    );
    let mut body = app.tender_body("截止时间过远的项目", now).await;
    body["bid_deadline"] = serde_json::json!(i64::MAX);
    let (status, v) = s.post("/api/tenders", body).await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["fields"]["bid_deadline"].is_array(), "{v}");
    assert_eq!(app.rows("tenders").await, tenders);
    // A backslash followed by "u0000" is ordinary text.
    let body = app.tender_body(r"路径 C:\u0000 的项目", now).await;
    let (status, v) = s.post("/api/tenders", body).await;
    assert!(status.is_success(), "{v}");

    // Over the hub too.
    let mut ws = crate::hub::connect(&app, "agency").await;
    crate::hub::send(
        &mut ws,
        serde_json::json!({"type": "command", "id": "n", "room": "opening:x",
                           "command": {"type": "answer", "text": "a\u{0}b"}}),
    )
    .await;
    let reply = crate::hub::next(&mut ws).await;
    assert_eq!(reply["code"], "VALIDATION", "{reply}");
    assert!(
        reply["fields"]["body"].is_array(),
        "fields, as over HTTP: {reply}"
    );
}

#[tokio::test]
async fn healthz_tells_when_writes_fail_or_the_database_file_is_gone() {
    use sqlx::Connection;
    let app = crate::common::spawn_app().await;
    let health = || async {
        let r = crate::common::client()
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json::<serde_json::Value>().await.unwrap())
    };
    let (status, v) = health().await;
    assert_eq!(status, reqwest::StatusCode::OK, "{v}");
    if app.database_url.is_some() {
        return; // the rest is about the SQLite file
    }
    // Another process holds the write lock: reads work, writes wait; the node says so.
    let file = app.dir.path().join("kaibiao.db");
    let mut other =
        sqlx::sqlite::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut other)
        .await
        .unwrap();
    let (status, v) = health().await;
    assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["check"], "write_failed");
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    drop(other);
    let (status, _) = health().await;
    assert_eq!(
        status,
        reqwest::StatusCode::OK,
        "back once the lock is gone"
    );

    // The file deleted under the running server: everything it writes now is lost.
    std::fs::remove_file(&file).unwrap();
    let (status, v) = health().await;
    assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["check"], "file_gone");
    // And it will not start again on an empty database in its place.
    let (dir, _) = app.stop();
    let mut config = kaibiao::config::Config::new(dir.path());
    config.demo = true;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = kaibiao::startup::build(config, listener, std::future::pending())
        .await
        .err()
        .expect("refuses to start");
    assert!(format!("{err:#}").contains("is missing"), "{err:#}");
    assert!(!file.exists(), "no empty database made");
}

/// SQLite's write-ahead log is copied into the database file by the server's own task
/// within a second, not left to the commit that takes it past its limit (which would then
/// wait for the copy): 6 MB written stay in the log until a checkpoint moves them. The
/// log file is then cut back to 4 MiB by the next write, not left at its largest.
#[tokio::test]
async fn the_sqlite_log_is_checkpointed_in_the_background() {
    let app = crate::common::spawn_app().await;
    if app.database_url.is_some() {
        return; // about the SQLite file
    }
    let file = app.dir.path().join("kaibiao.db");
    let pool = &app.state.db.pool;
    sqlx::query("CREATE TABLE checkpoint_probe (x BLOB)")
        .execute(pool)
        .await
        .unwrap();
    // Whatever start-up wrote is in the file before the 6 MB go into the log.
    tokio::time::sleep(2 * kaibiao::db::CHECKPOINT_EVERY).await;
    let before = std::fs::metadata(&file).unwrap().len();
    sqlx::query("INSERT INTO checkpoint_probe VALUES (zeroblob(6000000))")
        .execute(pool)
        .await
        .unwrap();
    let waited = Instant::now();
    let mut grown = 0;
    while waited.elapsed() < Duration::from_secs(5) {
        grown = std::fs::metadata(&file)
            .unwrap()
            .len()
            .saturating_sub(before);
        if grown >= 6_000_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        grown >= 6_000_000,
        "the database file grew by {grown} bytes in 5 s: the log was not checkpointed"
    );
    // A small write after the checkpoint starts the log again from its beginning and cuts
    // the file back (once no reader is still on the old log: tried for 5 s).
    let wal = app.dir.path().join("kaibiao.db-wal");
    let mut size = std::fs::metadata(&wal).unwrap().len();
    assert!(size > 6_000_000, "the log held the 6 MB: {size}");
    let waited = Instant::now();
    while size > 4 << 20 && waited.elapsed() < Duration::from_secs(5) {
        sqlx::query("INSERT INTO checkpoint_probe VALUES (x'00')")
            .execute(pool)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        size = std::fs::metadata(&wal).unwrap().len();
    }
    assert!(size <= 4 << 20, "the log file stays at {size} bytes");
}

/// Behind a trusted reverse proxy the audit log (and throttling, and the collusion
/// evidence) sees the client its X-Forwarded-For names; from anyone else the header is
/// ignored, so a client cannot choose the address it is known by.
#[tokio::test]
async fn a_trusted_proxy_names_the_client_and_nobody_else_can() {
    let app = spawn_app_configured(|c| {
        c.limits.trusted_proxies =
            kaibiao::serve::TrustedProxies::parse(&["127.0.0.1".into()]).unwrap();
    })
    .await;
    let login_from = |local: [u8; 4]| {
        let base = app.base.clone();
        async move {
            let client = reqwest::Client::builder()
                .local_address(std::net::IpAddr::from(local))
                .build()
                .unwrap();
            let r = client
                .post(format!("{base}/api/auth/login"))
                .header("x-forwarded-for", "6.6.6.6, 58.19.1.2")
                .json(&serde_json::json!({"username": "finance", "password": crate::common::PASSWORD}))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
        }
    };
    let last_ip = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT ip FROM audit_log WHERE username = 'finance' ORDER BY id DESC LIMIT 1",
        )
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
    };
    login_from([127, 0, 0, 1]).await;
    assert_eq!(
        last_ip().await,
        "58.19.1.2",
        "the proxy's hop, not the client's claim"
    );
    login_from([127, 0, 0, 2]).await;
    assert_eq!(
        last_ip().await,
        "127.0.0.2",
        "not a proxy: the header is ignored"
    );
}
