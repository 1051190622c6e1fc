//! Starting the real app for a test: port 0, its own data dir, its own database
//! (a SQLite file, or a fresh PostgreSQL database when `KAIBIAO_TEST_DATABASE_URL` is set),
//! the demo city seeded with a known password.

use std::sync::Arc;

use kaibiao::clock::{Clock, ManualClock, SystemClock};
use kaibiao::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::Connection;

pub const PASSWORD: &str = "test-password-1";
/// The title of the demo's smart-classroom tender (the school has the demo opening's
/// tender too).
pub const SCHOOL_TENDER: &str = "黄石市第一中学智慧教室设备采购项目";

/// Whether a missing browser or server must fail rather than skip (CI=true).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

pub struct TestApp {
    pub base: String,
    /// The internal metrics listener's base URL, when the test asked for one.
    pub metrics: Option<String>,
    pub state: kaibiao::state::AppState,
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// The test databases an earlier run left, dropped once per run before the first is made
/// (a test's database outlives its app, which a restart test opens again, so they go
/// with the next run; two runs at once against one server would drop each other's).
static LEFT_OVER_DROPPED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

async fn drop_left_over(conn: &mut sqlx::postgres::PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'kb\\_test\\_%'")
            .fetch_all(&mut *conn)
            .await
            .expect("listing the test databases");
    for name in names {
        if let Err(e) = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut *conn)
            .await
        {
            eprintln!("could not drop the left-over test database {name}: {e}");
        }
    }
}

/// A fresh PostgreSQL database on the test server, or `None` for SQLite.
pub async fn fresh_database_url() -> Option<String> {
    let admin = std::env::var("KAIBIAO_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let name = format!("kb_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::postgres::PgConnection::connect(&admin)
        .await
        .expect("KAIBIAO_TEST_DATABASE_URL is set but PostgreSQL does not answer");
    LEFT_OVER_DROPPED
        .get_or_init(|| drop_left_over(&mut conn))
        .await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("creating the test database");
    let _ = conn.close().await;
    let (base, _) = admin.rsplit_once('/').expect("a URL with a database name");
    Some(format!("{base}/{name}"))
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with_clock(Arc::new(SystemClock)).await
}

pub async fn spawn_app_at(ms: i64) -> (TestApp, Arc<ManualClock>) {
    spawn_app_at_with(ms, |_| {}).await
}

/// As `spawn_app_at`, with the configuration adjusted by `configure` first.
pub async fn spawn_app_at_with(
    ms: i64,
    configure: impl FnOnce(&mut Config),
) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(ms));
    let dir = tempfile::tempdir().expect("temp dir");
    let db = fresh_database_url().await;
    let app = spawn_demo_with(dir, db, clock.clone(), configure).await.0;
    (app, clock)
}

pub async fn spawn_app_with_clock(clock: Arc<dyn Clock>) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = fresh_database_url().await;
    spawn_app_on(dir, db, clock).await
}

/// Starts the app on an existing data dir and database (a restart). The demo opening's
/// bids are not sent (tests count rows and requests); see `spawn_demo_on`.
pub async fn spawn_app_on(
    dir: tempfile::TempDir,
    database_url: Option<String>,
    clock: Arc<dyn Clock>,
) -> TestApp {
    spawn_demo_on(dir, database_url, clock).await.0
}

/// As `spawn_app_on`, handing back the demo opening's bids for the test to send (and
/// await) while the app serves, instead of the background task.
pub async fn spawn_demo_on(
    dir: tempfile::TempDir,
    database_url: Option<String>,
    clock: Arc<dyn Clock>,
) -> (TestApp, kaibiao::demo::OpeningBids) {
    spawn_demo_with(dir, database_url, clock, |_| {}).await
}

/// A fresh app whose configuration the test adjusts first.
pub async fn spawn_app_configured(configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = fresh_database_url().await;
    spawn_demo_with(dir, db, Arc::new(SystemClock), configure)
        .await
        .0
}

/// As `spawn_demo_on`, with the configuration adjusted by `configure` first.
pub async fn spawn_demo_with(
    dir: tempfile::TempDir,
    database_url: Option<String>,
    clock: Arc<dyn Clock>,
    configure: impl FnOnce(&mut Config),
) -> (TestApp, kaibiao::demo::OpeningBids) {
    let mut config = Config::new(dir.path());
    config.database_url = database_url.clone();
    config.demo = true;
    config.demo_password = Some(PASSWORD.into());
    // Tests hold hub connections they do not read while other parts of the test run:
    // pinging them at the real pace could drop one under a loaded CI machine.
    config.hub_ping = std::time::Duration::from_secs(60);
    // The experts' key files cost 2 s of key derivation per start; the binary's own
    // tests (cli, demo_opening) make them.
    config.demo_expert_keys = false;
    config.demo_history = false;
    // The demo's opening tender closes minutes after publication, and most tests publish
    // tenders due within hours; the statutory periods have their own tests.
    config.statutory_periods = false;
    // Most tests make tenders without a plan; `require_plan` has its own test.
    config.require_plan = false;
    // No pause between bids read out, but where a test asks for one.
    config.opening.reading_interval_ms = 0;
    configure(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut app = kaibiao::startup::build_with_clock(config, clock, listener, async {
        let _ = rx.await;
    })
    .await
    .expect("app starts");
    let bids = app.take_demo_bids().expect("demo bids with --demo");
    let base = format!("http://{}", app.addr);
    let metrics = app.metrics_addr.map(|a| format!("http://{a}"));
    let state = app.state.clone();
    let task = tokio::spawn(async move {
        let _ = app.run().await;
    });
    let app = TestApp {
        base,
        metrics,
        state,
        dir,
        database_url,
        shutdown: Some(tx),
        task: Some(task),
    };
    (app, bids)
}

/// A logged-in browser-like client: cookie jar plus the CSRF token.
pub struct Session {
    pub client: reqwest::Client,
    pub csrf: String,
    pub base: String,
    pub user: Value,
}

pub fn client() -> reqwest::Client {
    kaibiao::tls::install_crypto_provider();
    reqwest::Client::builder()
        .cookie_store(true)
        .pool_idle_timeout(kaibiao::serve::CLIENT_IDLE)
        .build()
        .unwrap()
}

impl TestApp {
    /// Stops the app as SIGTERM stops the binary: its hub connections are told to go
    /// elsewhere and drained, then the server ends (waited for, 20 s at most).
    pub async fn terminate(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(20), t).await;
        }
    }

    /// Stops the server (as a crash would: no drain) and hands back its data and database.
    pub fn stop(mut self) -> (tempfile::TempDir, Option<String>) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
        self.shutdown.take();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        (dir, self.database_url.take())
    }

    /// The value of the unlabelled series `kaibiao_<name>` as `/metrics` shows it now.
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.state
            .metrics
            .render()
            .lines()
            .find_map(|l| l.strip_prefix(&format!("kaibiao_{name} "))?.parse().ok())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn login(&self, username: &str) -> Session {
        login_at(&self.base, username).await
    }

    /// Anonymous request.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        send(client().request(method, self.url(path)), body).await
    }

    /// The demo's smart-classroom tender for 黄石市第一中学 (run by `agency`; `agency`,
    /// `purchaser` and `finance` hold its key shares), as the agency's list shows it.
    pub async fn school_tender(&self) -> Value {
        let (_, list) = self.login("agency").await.get("/api/tenders").await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|t| t["title"] == SCHOOL_TENDER)
            .expect("the demo's school tender")
            .clone()
    }

    pub async fn school_tender_id(&self) -> String {
        self.school_tender().await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// A user id by user name.
    pub async fn user_id(&self, username: &str) -> String {
        kaibiao::auth::repo::user_by_username(&self.state.db.pool, username)
            .await
            .unwrap()
            .unwrap()
            .id
    }

    pub async fn org_id(&self, username: &str) -> String {
        kaibiao::auth::repo::user_by_username(&self.state.db.pool, username)
            .await
            .unwrap()
            .unwrap()
            .org_id
            .unwrap()
    }

    /// Number of rows in a table (to show that nothing was written).
    pub async fn rows(&self, table: &'static str) -> i64 {
        kaibiao::org::repo::count(&self.state.db.pool, table)
            .await
            .unwrap()
    }

    /// A tender body that passes validation, for the `agency` user.
    pub async fn tender_body(&self, title: &str, now_ms: i64) -> Value {
        let day = 86_400_000i64;
        serde_json::json!({
            "title": title,
            "region_code": "420200",
            "purchaser_org_id": self.org_id("purchaser").await,
            "category": "goods",
            "method": "open_tendering",
            "description": "测试项目",
            "lots": [{"name": "第1包", "budget_fen": 12_345_600}],
            "clarify_deadline": now_ms + 5 * day,
            "bid_deadline": now_ms + 20 * day,
            "decrypt_window_mins": 30,
            "custodian_ids": [
                self.user_id("agency").await,
                self.user_id("purchaser").await,
                self.user_id("finance").await
            ],
            "custodian_threshold": 2
        })
    }
}

/// Logs in to the app at `base` (an in-process app or the real binary).
pub async fn login_at(base: &str, username: &str) -> Session {
    let client = client();
    let r = client
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "login {username}");
    let body: Value = r.json().await.unwrap();
    Session {
        client,
        csrf: body["csrf_token"].as_str().unwrap().to_string(),
        base: base.to_string(),
        user: body["user"].clone(),
    }
}

async fn send(req: reqwest::RequestBuilder, body: Option<Value>) -> (StatusCode, Value) {
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

impl Session {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("x-csrf-token", &self.csrf);
        send(req, body).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    /// The response itself (a download's bytes and headers).
    pub async fn raw_get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }
}

/// The `code` of an error body.
pub fn code(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("")
}

pub use kaibiao::pki::keyfile::DeviceKeys;

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Registered device keys with their key ids.
pub struct Registered {
    pub keys: DeviceKeys,
    pub signing_key_id: String,
    pub encryption_key_id: String,
}

impl Session {
    pub fn user_id(&self) -> String {
        self.user["id"].as_str().unwrap().to_string()
    }

    /// Makes and registers a signing and an encryption key, as the browser or CLI would.
    pub async fn register_keys(&self) -> Registered {
        use kaibiao::pki::types::KeyPurpose;
        let keys = DeviceKeys::generate();
        let mut ids = Vec::new();
        for purpose in [KeyPurpose::Signing, KeyPurpose::Encryption] {
            let (public_key, proof) = keys.registration(&self.user_id(), purpose);
            let (status, v) = self
                .post(
                    "/api/keys",
                    serde_json::json!({"purpose": purpose, "public_key": public_key, "proof": proof}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{v}");
            ids.push(v["key_id"].as_str().unwrap().to_string());
        }
        Registered {
            keys,
            signing_key_id: ids[0].clone(),
            encryption_key_id: ids[1].clone(),
        }
    }
}
