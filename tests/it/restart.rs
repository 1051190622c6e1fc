//! Restart safety of the opening with the real binary: the server is killed (SIGKILL) in
//! every state of an opening and started again; the opening completes with the same
//! record as an uninterrupted run, nothing lost, nothing read out twice, the window's
//! clock unchanged.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::bids::{seal_sheet, sheet, start_bid, upload_all};
use crate::cli::{free_port, run as cli, start_with, Server};
use crate::common::{login_at, Session, PASSWORD};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub(crate) struct Run {
    pub server: Server,
    pub dir: tempfile::TempDir,
    listen: String,
    pub kill: bool,
    pub kills: Vec<&'static str>,
    /// Arguments every start takes (the first adds `--demo`).
    args: Vec<String>,
    /// The PostgreSQL database, when not SQLite.
    pub db: Option<String>,
}

impl Run {
    async fn start(kill: bool) -> Run {
        Run::start_args(kill, &[]).await
    }

    /// A demo server started with `args` too, every time; on a fresh PostgreSQL database
    /// when the tests have one (`KAIBIAO_TEST_DATABASE_URL`), else SQLite in its data.
    pub(crate) async fn start_args(kill: bool, args: &[&str]) -> Run {
        let db = crate::common::fresh_database_url().await;
        let dir = tempfile::tempdir().unwrap();
        let listen = format!("127.0.0.1:{}", free_port());
        let mut first = vec!["--demo", "--listen", &listen];
        first.extend_from_slice(args);
        // Every start logs at debug level to its own file beside the data, so a test can
        // look for what must never be logged.
        let log = log_path(dir.path(), 0);
        let server = start_with(&first, dir.path(), db.as_deref(), Some(&log));
        Run {
            server,
            dir,
            listen,
            kill,
            kills: Vec::new(),
            args: args.iter().map(|a| a.to_string()).collect(),
            db,
        }
    }

    pub(crate) fn base(&self) -> String {
        self.server.base.clone()
    }

    /// In the killing run: SIGKILL now, in `state`, and start again on the same port.
    /// Everyone logs in again (their connections died with the server).
    pub(crate) async fn crash(&mut self, state: &'static str, users: &mut Users) {
        if !self.kill {
            return;
        }
        self.kill_now();
        self.restart(state, users).await;
    }

    /// SIGKILL, without starting again: what the server left on disk may be read.
    pub(crate) fn kill_now(&mut self) {
        self.server.child.kill().unwrap();
        self.server.child.wait().unwrap();
    }

    /// Start again after `kill_now`, on the same port and data, logging to a new file.
    pub(crate) async fn restart(&mut self, state: &'static str, users: &mut Users) {
        self.kills.push(state);
        let mut args = vec!["--listen", &self.listen];
        args.extend(self.args.iter().map(String::as_str));
        let log = log_path(self.dir.path(), self.kills.len());
        self.server = start_with(&args, self.dir.path(), self.db.as_deref(), Some(&log));
        for (name, s) in users.0.iter_mut() {
            *s = login_at(&self.server.base, name).await;
        }
    }
}

/// The log of the `n`th start of a run's server.
fn log_path(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    dir.join(format!("server-{n}.log"))
}

/// The sessions of the people in the opening, by user name.
pub(crate) struct Users(pub std::collections::BTreeMap<String, Session>);

impl Users {
    pub(crate) fn get(&self, name: &str) -> &Session {
        &self.0[name]
    }
}

async fn opening(s: &Session, tender: &str) -> Value {
    let (status, v) = s.get(&format!("/api/tenders/{tender}/opening")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

pub(crate) async fn command(s: &Session, tender: &str, cmd: Value) -> Value {
    let (status, v) = s.post(&format!("/api/tenders/{tender}/opening"), cmd).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// Polls until `done` holds for the opening's view (the scheduler's work is async).
pub(crate) async fn wait_for(s: &Session, tender: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        let v = opening(s, tender).await;
        if done(&v) {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the opening did not get there: {}",
        opening(s, tender).await
    );
}

/// A published open tender with a 1.2 million yuan lot and the three as custodians (two
/// of three needed), its bids due in `bid_in_ms`.
pub(crate) async fn published_tender(
    [agency, purchaser, finance]: [&Session; 3],
    title: &str,
    bid_in_ms: i64,
) -> String {
    let now = now_ms();
    let (status, t) = agency
        .post(
            "/api/tenders",
            json!({
                "title": title, "region_code": "420200",
                "purchaser_org_id": purchaser.user["org"]["id"],
                "category": "goods", "method": "open_tendering", "description": "",
                "lots": [{"name": "第1包", "budget_fen": 120_000_000}],
                "clarify_deadline": now + 5_000, "bid_deadline": now + bid_in_ms,
                "custodian_ids": [agency.user_id(), purchaser.user_id(), finance.user_id()],
                "custodian_threshold": 2
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let tender = t["id"].as_str().unwrap().to_string();
    let (status, v) = agency
        .post(&format!("/api/tenders/{tender}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    tender
}

/// The three suppliers' bids (prices 1,010,000, 995,000 and 1,032,500 yuan, a document of
/// `document_len` bytes), each sealed and uploaded by its session; with each its user
/// name, bid id and key file (written in `key_dir`, for `kaibiao bid decrypt`).
pub(crate) async fn bid_three(
    sessions: [&Session; 3],
    tender: &str,
    notes: &str,
    document_len: usize,
    key_dir: &std::path::Path,
) -> Vec<(String, String, std::path::PathBuf)> {
    let document = vec![b'x'; document_len];
    let segment = (1 << 20).min(document_len as u32);
    let mut bidders = Vec::new();
    for (s, price) in sessions
        .into_iter()
        .zip([101_000_000_i64, 99_500_000, 103_250_000])
    {
        let name = s.user["username"].as_str().unwrap().to_string();
        let reg = s.register_keys().await;
        let (status, start) = start_bid(s, tender).await;
        assert_eq!(status, StatusCode::CREATED, "{start}");
        let container = seal_sheet(&start, sheet(price, notes), &document, segment);
        let bid = start["bid_id"].as_str().unwrap().to_string();
        let (status, v) = upload_all(s, &bid, &container, segment as usize).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let key_file = key_dir.join(format!("{name}.kbkey"));
        std::fs::write(&key_file, reg.keys.to_file(&s.user_id(), PASSWORD)).unwrap();
        bidders.push((name, bid, key_file));
    }
    bidders
}

const CLI_ENV: [(&str, &str); 2] = [
    ("KAIBIAO_PASSWORD", PASSWORD),
    ("KAIBIAO_KEY_PASSPHRASE", PASSWORD),
];

/// `kaibiao bid decrypt` at `base`, as the bidder does with its key file.
pub(crate) fn decrypt_by_cli(base: &str, name: &str, key_file: &std::path::Path, bid: &str) {
    let key_file = key_file.to_str().unwrap();
    let args = [
        "bid",
        "decrypt",
        "--server",
        base,
        "--user",
        name,
        "--key-file",
        key_file,
        "--bid",
        bid,
    ];
    cli_says(&args, "decrypted");
}

/// `kaibiao share submit` at `base`, as custodian `who` does with the demo key file kept
/// under `dir`.
pub(crate) fn share_by_cli(base: &str, who: &str, dir: &std::path::Path, tender: &str) {
    let key_file = dir.join(format!("demo-keys/{who}.kbkey"));
    let key_file = key_file.to_str().unwrap();
    let args = [
        "share",
        "submit",
        "--server",
        base,
        "--user",
        who,
        "--key-file",
        key_file,
        "--tender",
        tender,
    ];
    cli_says(&args, "submitted");
}

/// Runs the CLI with the demo password and passphrase; its output must say `word`.
fn cli_says(args: &[&str], word: &str) {
    let out = cli(args, &CLI_ENV);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(word),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How many bids of an opening view have a result (read out or invalid).
pub(crate) fn bids_with_result(opening: &Value) -> usize {
    opening["bids"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| !b["result"].is_null())
        .count()
}

/// `kaibiao verify` accepts the record `bundle` (written in `dir`).
pub(crate) fn verifies_offline(bundle: &Value, dir: &std::path::Path) {
    let path = dir.join("record.json");
    std::fs::write(&path, bundle.to_string()).unwrap();
    let out = crate::cli::verify(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What must be the same whether or not the server was killed along the way.
pub(crate) fn essence(bundle: &Value) -> Value {
    let r = &bundle["record"];
    let list = |key: &str, f: &dyn Fn(&Value) -> Value| -> Value {
        r[key].as_array().unwrap().iter().map(f).collect()
    };
    json!({
        "outcome": r["outcome"],
        "lots": r["lots"],
        "bids": list("bids", &|b| json!([b["bidder_name"], b["lot_no"], b["decrypt_status"],
                                         b["result"], b["sheet"], b["cause"]["code"]])),
        "shares": list("custodian_shares", &|s| s["index"].clone()),
        "objections": list("objections", &|o| json!([o["bidder_name"], o["kind"], o["text"], o["answer"]])),
        "confirmations": list("confirmations", &|c| json!([c["bidder_name"], c["how"]])),
        "ledger": bundle["ledger"]["events"].as_array().unwrap().iter()
            .map(|e| e["kind"].clone()).collect::<Vec<_>>(),
    })
}

/// One whole opening; with `kill`, the server dies in each of its states.
async fn scenario(kill: bool) -> (Value, Vec<&'static str>) {
    let mut run = Run::start(kill).await;
    let base = run.base();
    let mut users = Users(Default::default());
    for name in [
        "agency",
        "purchaser",
        "finance",
        "supplier1",
        "supplier2",
        "supplier3",
    ] {
        users.0.insert(name.into(), login_at(&base, name).await);
    }
    let (agency, purchaser, finance) = (
        users.get("agency"),
        users.get("purchaser"),
        users.get("finance"),
    );
    let tender = published_tender([agency, purchaser, finance], "重启测试项目", 20_000).await;

    // Three bidders, with documents large enough that revealing takes a moment.
    let sessions = ["supplier1", "supplier2", "supplier3"].map(|n| users.get(n));
    let bidders = bid_three(sessions, &tender, "重启", 2 << 20, run.dir.path()).await;

    // Sealed at the deadline by the server's clock.
    for _ in 0..300 {
        let (_, t) = users
            .get("finance")
            .get(&format!("/api/tenders/{tender}"))
            .await;
        if t["status"] == "sealed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    run.crash("sealed", &mut users).await;

    let started = command(users.get("agency"), &tender, json!({"type": "start"})).await;
    let ends = started["decrypt_ends_at"].as_i64().unwrap();
    run.crash("decrypting", &mut users).await;
    let v = opening(users.get("finance"), &tender).await;
    assert_eq!(v["phase"], "decrypting");
    assert_eq!(v["decrypt_ends_at"], ends, "the window's clock survives");

    // Bidders and custodians use the CLI, each with their own key file.
    for (i, (name, bid, key_file)) in bidders.iter().enumerate() {
        decrypt_by_cli(&run.base(), name, key_file, bid);
        if i == 0 {
            run.crash("decrypting, one bid decrypted", &mut users).await;
        }
    }
    run.crash("unsealing", &mut users).await;

    for (i, who) in ["purchaser", "finance"].into_iter().enumerate() {
        share_by_cli(&run.base(), who, run.dir.path(), &tender);
        let state = if i == 0 {
            "unsealing, one share in"
        } else {
            "revealing"
        };
        run.crash(state, &mut users).await;
    }
    if run.kill {
        // Where the kill after the last share landed depends on timing: say where.
        let v = opening(users.get("finance"), &tender).await;
        let done = bids_with_result(&v);
        eprintln!(
            "after the kill at revealing: phase {}, {done} of 3 bids had a result",
            v["phase"]
        );
    }

    let v = wait_for(users.get("finance"), &tender, |v| {
        v["phase"] == "confirming"
    })
    .await;
    assert!(v["bids"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["result"] == "read_out"));
    command(users.get("supplier1"), &tender, json!({"type": "confirm"})).await;
    run.crash("confirming", &mut users).await;
    let o = command(
        users.get("supplier2"),
        &tender,
        json!({"type": "object", "kind": "recusal", "text": "请主持人说明是否与投标人有利害关系"}),
    )
    .await;
    run.crash("confirming, objection open", &mut users).await;
    command(
        users.get("agency"),
        &tender,
        json!({"type": "answer", "objection_id": o["objection_id"], "text": "主持人与各投标人均无利害关系。"}),
    )
    .await;
    command(users.get("supplier2"), &tender, json!({"type": "confirm"})).await;
    command(users.get("supplier3"), &tender, json!({"type": "confirm"})).await;
    wait_for(users.get("finance"), &tender, |v| v["phase"] == "closed").await;
    let (_, before) = users
        .get("finance")
        .get(&format!("/api/tenders/{tender}/opening/record"))
        .await;
    run.crash("closed", &mut users).await;
    let (status, bundle) = users
        .get("finance")
        .get(&format!("/api/tenders/{tender}/opening/record"))
        .await;
    assert_eq!(status, StatusCode::OK, "{bundle}");
    assert_eq!(
        bundle["record"], before["record"],
        "the record survives as signed"
    );

    verifies_offline(&bundle, run.dir.path());
    (essence(&bundle), run.kills)
}

#[tokio::test]
async fn sigkill_in_every_state_of_an_opening_changes_nothing_in_its_record() {
    let ((calm, none), (killed, kills)) = tokio::join!(scenario(false), scenario(true));
    assert!(none.is_empty());
    assert_eq!(kills.len(), 9, "{kills:?}");
    assert_eq!(killed, calm, "same record with and without the kills");
    let kinds = calm["ledger"].as_array().unwrap();
    let read_out = kinds.iter().filter(|k| *k == "bid_read_out").count();
    assert_eq!(read_out, 3, "each bid read out exactly once");
    assert_eq!(calm["bids"][1][4]["total_price_fen"], 99_500_000);
}
