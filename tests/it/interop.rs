//! The published specifications are enough for an independent client: `tests/interop/`,
//! a Python client written from docs/ and tests/vectors/ alone, checks every vector, then
//! against the real server registers device keys, seals and submits bids, unseals its `kb`
//! and a custodian's share at the opening — over HTTP and over the hub, whose every event
//! it checks against the hash chain — and watches the reading-out live over the hub; the
//! prices it sealed are read out. Its key files open in Rust (and in the CLI), the demo's
//! Rust-written key file opens in Python.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::bids::{custodian_share, sheet};
use crate::ceremony::bids_with;
use crate::common::{in_ci, spawn_app_at, DeviceKeys, PASSWORD};

const T0: i64 = 1_796_086_800_000;
const PASSPHRASE: &str = "独立客户端的口令 passphrase";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether python3 with the pinned modules is here (tests/interop/requirements.txt).
fn python_ready() -> Result<(), String> {
    let out = Command::new("python3")
        .args(["-c", "import pyhpke, jsonschema, cryptography, websockets"])
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        Err(stderr.lines().last().unwrap_or("import failed").to_string())
    }
}

/// Runs `python3 ARGS` in the repository (off the runtime: the server runs on it) and
/// returns its stdout; fails the test, with the client's stderr, if it fails.
async fn python(args: Vec<String>, passphrase: &str) -> String {
    let passphrase = passphrase.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args(&args)
            .current_dir(repo())
            .env("KAIBIAO_KEY_PASSPHRASE", passphrase)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "python3 failed:\n{stdout}\n{stderr}");
    eprint!("{stderr}");
    stdout
}

/// The arguments of `tests/interop/bid.py COMMAND` against the app as `user`.
fn bid_args(base: &str, command: &str, user: &str, tender: &str, more: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["tests/interop/bid.py", command, "--server", base]
        .into_iter()
        .chain([
            "--username",
            user,
            "--password",
            PASSWORD,
            "--tender",
            tender,
        ])
        .map(String::from)
        .collect();
    args.extend(more.iter().map(|s| s.to_string()));
    args
}

/// `tests/interop/bid.py COMMAND` against the app as `user`; its JSON summary.
async fn bid_py(base: &str, command: &str, user: &str, tender: &str, more: &[&str]) -> Value {
    let args = bid_args(base, command, user, tender, more);
    let passphrase = if command == "share" {
        PASSWORD // the demo custodians' key files
    } else {
        PASSPHRASE
    };
    let out = python(args, passphrase).await;
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// `bid.py watch` running beside the test: started, it has subscribed to the hall (its
/// stderr says so); `finish` waits for its summary.
struct Watcher {
    child: std::process::Child,
    stderr: std::thread::JoinHandle<()>,
}

impl Watcher {
    async fn start(args: Vec<String>) -> Watcher {
        let mut child = Command::new("python3")
            .args(&args)
            .current_dir(repo())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let stderr = std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stderr).lines() {
                let line = line.unwrap_or_default();
                eprintln!("watch: {line}");
                if line.starts_with("subscribed to ") {
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(());
                    }
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .expect("bid.py watch subscribes within 60 s")
            .expect("bid.py watch subscribed (see its stderr above)");
        Watcher { child, stderr }
    }

    async fn finish(self) -> Value {
        let Watcher { child, stderr } = self;
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        stderr.join().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "bid.py watch failed: {stdout}");
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }
}

fn sha256_of_b64(public_key: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(public_key)
        .unwrap();
    kaibiao::crypto::sha256_hex(&bytes)
}

/// Opens a key file Python wrote with the Rust reader (the one `--key-file` uses) and
/// checks it holds the keys Python registered.
fn open_in_rust(file: &Path, user_id: &str, summary: &Value) {
    use kaibiao::pki::types::KeyPurpose;
    let text = std::fs::read_to_string(file).unwrap();
    let (owner, keys) = DeviceKeys::from_file(&text, PASSPHRASE).expect("Rust opens it");
    assert_eq!(owner.to_string(), user_id);
    for (purpose, id) in [
        (KeyPurpose::Signing, "signing_key_id"),
        (KeyPurpose::Encryption, "encryption_key_id"),
    ] {
        let (public_key, _proof) = keys.registration(user_id, purpose);
        let public_key = json!(public_key);
        assert_eq!(
            sha256_of_b64(public_key.as_str().unwrap()),
            summary[id].as_str().unwrap()
        );
    }
    assert!(DeviceKeys::from_file(&text, "wrong").is_err());
}

#[tokio::test]
async fn an_independent_python_client_checks_the_vectors_bids_and_takes_part_in_the_opening() {
    if let Err(why) = python_ready() {
        assert!(
            !in_ci(),
            "CI needs python3 with tests/interop/requirements.txt: {why}"
        );
        eprintln!("skipped: python3 with tests/interop/requirements.txt is missing ({why})");
        return;
    }
    let out = python(vec!["tests/interop/check_vectors.py".into()], PASSPHRASE).await;
    let last = out.lines().last().unwrap_or("");
    assert!(last.ends_with(" 0 failed"), "{out}");
    eprintln!("check_vectors.py: {last}");

    let (app, clock) = spawn_app_at(T0).await;
    let t = app.school_tender().await;
    let tender = t["id"].as_str().unwrap().to_string();
    let deadline = t["bid_deadline"].as_i64().unwrap();
    let dir = app.dir.path().to_path_buf();

    // One bid sealed by the Rust code (supplier1), two by Python (supplier3, supplier4);
    // supplier3 also logs in with its device key, and seals a document of its own.
    let rust = bids_with(&app, &tender, vec![sheet(95_000_000, "Rust")]).await;
    let document = dir.join("报价明细.bin");
    let bytes: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&document, &bytes).unwrap();
    let mut python_bids = Vec::new();
    for (user, price, more) in [
        (
            "supplier3",
            88_880_000_i64,
            vec!["--login-proof", "--document", document.to_str().unwrap()],
        ),
        ("supplier4", 123_456_789, vec!["--chunks", "3"]),
    ] {
        let key_file = dir.join(format!("{user}.kbkey"));
        let price_arg = price.to_string();
        let mut args = vec!["--lot", "1", "--price-fen", &price_arg];
        args.extend(["--key-file", key_file.to_str().unwrap()]);
        args.extend(more);
        let summary = bid_py(&app.base, "submit", user, &tender, &args).await;
        assert_eq!(summary["receipt_signature"], "verified");
        let (size, resumed) = (summary["size"].as_u64(), summary["resumed_from"].as_u64());
        assert!(resumed > Some(0) && resumed < size, "{summary}");
        open_in_rust(&key_file, &app.user_id(user).await, &summary);
        python_bids.push((user, price, key_file, summary));
    }
    assert_eq!(python_bids[0].3["login_proof"], "accepted");
    assert_eq!(python_bids[1].3["puts"], 3);

    // The deadline, by the server's clock: the register names each receipt by its hash
    // (of the signed receipt as sent, which docs/ledger.md does not define yet).
    clock.set(deadline);
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    let (_, ledger) = app
        .call(Method::GET, &format!("/api/tenders/{tender}/ledger"), None)
        .await;
    let register = ledger["bid_register"]["events"].as_array().unwrap();
    for (_, _, _, summary) in &python_bids {
        let event = register
            .iter()
            .find(|e| e["body"]["bid_id"] == summary["bid_id"])
            .expect("the Python bid is in the register");
        assert_eq!(
            event["body"]["ciphertext_sha256"],
            summary["ciphertext_sha256"]
        );
        assert_eq!(event["body"]["receipt_sha256"], summary["receipt_sha256"]);
    }

    // supplier4 follows the hall over the hub from before the start to the reading-out.
    let watcher = Watcher::start(bid_args(&app.base, "watch", "supplier4", &tender, &[])).await;

    let agency = app.login("agency").await;
    let (status, v) = agency
        .post(
            &format!("/api/tenders/{tender}/opening"),
            json!({"type": "start"}),
        )
        .await;
    assert_eq!(
        (status, &v["phase"]),
        (StatusCode::OK, &json!("decrypting")),
        "{v}"
    );

    // The bidders' halves: Rust's by the harness, supplier3's by Python from its key file,
    // supplier4's by the Rust CLI from the key file Python wrote.
    let (user, bid, kb) = &rust[0];
    let (status, v) = app
        .login(user)
        .await
        .post(
            &format!("/api/tenders/{tender}/opening"),
            json!({"type": "decrypt", "bid_id": bid, "kb": kb}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (user, _, key_file, summary) = &python_bids[0];
    let out = bid_py(
        &app.base,
        "decrypt",
        user,
        &tender,
        &["--key-file", key_file.to_str().unwrap(), "--over", "hub"],
    )
    .await;
    let decrypted = &out["decrypted"][0];
    assert_eq!(decrypted["bid_id"], summary["bid_id"]);
    assert_eq!(decrypted["decrypt_status"], "decrypted");
    // Over the hub: a spoilt copy refused first, the replay's chain checked, the bid
    // register (three bidders' documents obtained and their three bids, after the
    // deadline) too.
    assert_eq!(decrypted["spoilt_refused"], "VALIDATION", "{out}");
    assert!(decrypted["chain_checked"].as_u64() > Some(3), "{out}");
    assert_eq!(decrypted["register_checked"], 6, "{out}");
    let (user, _, key_file, summary) = &python_bids[1];
    let args: Vec<String> = ["bid", "decrypt", "--server", &app.base, "--user", user]
        .into_iter()
        .chain(["--key-file", key_file.to_str().unwrap()])
        .chain(["--bid", summary["bid_id"].as_str().unwrap()])
        .map(String::from)
        .collect();
    let cli = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::cli::run(
            &args,
            &[
                ("KAIBIAO_PASSWORD", PASSWORD),
                ("KAIBIAO_KEY_PASSPHRASE", PASSPHRASE),
            ],
        )
    })
    .await
    .unwrap();
    assert!(String::from_utf8_lossy(&cli.stdout).contains("decrypted"));

    // The custodians: agency with Python and the demo's (Rust-written) key file, finance
    // with the harness.
    let out = bid_py(
        &app.base,
        "share",
        "agency",
        &tender,
        &[
            "--key-file",
            dir.join("demo-keys/agency.kbkey").to_str().unwrap(),
            "--over",
            "hub",
        ],
    )
    .await;
    assert_eq!(out["result"]["accepted"], true, "{out}");
    assert_eq!(out["result"]["spoilt_refused"], "VALIDATION", "{out}");
    let share = custodian_share(&app.base, &dir, &tender, "finance").await;
    let (status, v) = app
        .login("finance")
        .await
        .post(
            &format!("/api/tenders/{tender}/opening"),
            json!({"type": "share", "index": share.index, "value": hex::encode(share.value)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // Read out: the prices Python sealed, in figures and words, and its document.
    let oversight = app.login("oversight").await;
    let mut view = Value::Null;
    for _ in 0..200 {
        let (_, v) = oversight
            .get(&format!("/api/tenders/{tender}/opening"))
            .await;
        if v["phase"] == "confirming" {
            view = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        view["phase"], "confirming",
        "the opening got to the read-out"
    );
    let bids = view["bids"].as_array().unwrap();
    assert_eq!(bids.len(), 3);
    for (_, price, _, summary) in &python_bids {
        let b = bids
            .iter()
            .find(|b| b["bid_id"] == summary["bid_id"])
            .unwrap();
        assert_eq!(b["result"], "read_out", "{b}");
        assert_eq!(b["sheet"]["total_price_fen"], *price, "{b}");
        assert_eq!(
            b["sheet"]["total_price_words"],
            kaibiao::bid::package::amount_in_words(*price),
            "Python's 大写 is the server's"
        );
    }
    // What supplier4 watched: every event linked and hashed as docs/ledger.md says, the
    // reading-out live, each price read out with its 大写 as Python computes it, and no
    // other bidder in its presence list.
    let watched = watcher.finish().await;
    assert!(watched["live"].as_u64() >= Some(5), "{watched}");
    let read_out = watched["read_out"].as_array().unwrap();
    assert_eq!(read_out.len(), 3, "{watched}");
    for r in read_out {
        assert_eq!(r["total_price_words"], r["words_as_computed"], "{r}");
        let b = bids.iter().find(|b| b["bid_id"] == r["bid_id"]).unwrap();
        assert_eq!(b["sheet"]["total_price_fen"], r["total_price_fen"]);
    }
    // Three bidders' documents obtained and their three bids.
    assert_eq!(watched["register_checked"], 6, "{watched}");
    let supplier4 = app.user_id("supplier4").await;
    for m in watched["presence"]["members"].as_array().unwrap() {
        assert!(
            m["role"] != "supplier" || m["user_id"] == supplier4.as_str(),
            "{m}"
        );
    }

    let rust_bid = bids.iter().find(|b| b["bid_id"] == rust[0].1).unwrap();
    assert_eq!(rust_bid["sheet"]["total_price_fen"], 95_000_000);
    let (_, ledger) = app
        .call(Method::GET, &format!("/api/tenders/{tender}/ledger"), None)
        .await;
    let events = ledger["events"].as_array().unwrap();
    let watched_head = events
        .iter()
        .find(|e| e["hash"] == watched["head"])
        .expect("the head supplier4 checked is in the ledger");
    assert_eq!(watched_head["kind"], "revealing_done");
    let read_out = events
        .iter()
        .find(|e| e["kind"] == "bid_read_out" && e["body"]["bid_id"] == python_bids[0].3["bid_id"])
        .expect("bid_read_out of supplier3's bid");
    assert_eq!(
        read_out["body"]["documents"],
        json!([{"name": "报价明细.bin", "size": bytes.len(), "media_type": "application/octet-stream",
                "sha256": kaibiao::crypto::sha256_hex(&bytes)}])
    );
}
