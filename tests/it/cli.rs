//! The real binary: `kaibiao serve --demo` as the README runs it, HTTPS with a
//! self-signed certificate, and `kaibiao verify` on a sound and a tampered ledger.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::{Method, StatusCode};

use crate::common::{spawn_app, PASSWORD};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_kaibiao");

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    pub(crate) stdout: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `kaibiao serve ARGS` on a free port and reads its output until it says where
/// it listens.
fn start(args: &[&str], data_dir: &std::path::Path) -> Server {
    start_with(args, data_dir, None, None)
}

/// As `start`, on the given database, with its log (stderr, at debug level) in `log`.
pub(crate) fn start_with(
    args: &[&str],
    data_dir: &std::path::Path,
    database_url: Option<&str>,
    log: Option<&std::path::Path>,
) -> Server {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve");
    if !args.contains(&"--listen") {
        cmd.args(["--listen", "127.0.0.1:0"]);
    }
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("KAIBIAO_DEMO_PASSWORD", PASSWORD)
        // The tests of the binary make tenders without plans.
        .env("KAIBIAO_REQUIRE_PLAN", "false")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    match log {
        Some(path) => {
            cmd.env("RUST_LOG", "debug")
                .stderr(std::fs::File::create(path).unwrap());
        }
        None => {
            cmd.stderr(Stdio::null());
        }
    }
    let mut child = cmd.spawn().expect("kaibiao starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = Vec::new();
    let base = loop {
        let line = lines
            .next()
            .expect("kaibiao printed where it listens")
            .unwrap();
        stdout.push(line.clone());
        if let Some(rest) = line.split("running at ").nth(1) {
            break rest.trim_end_matches('/').to_string();
        }
    };
    Server {
        child,
        base,
        stdout,
    }
}

pub(crate) fn terminate(server: &mut Server) -> std::process::ExitStatus {
    let pid = server.child.id().to_string();
    Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    server.child.wait().unwrap()
}

#[tokio::test]
async fn serve_demo_seeds_once_prints_logins_and_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(&["--demo"], dir.path());
    let out = server.stdout.join("\n");
    assert!(out.contains("演示账号 / demo logins"), "{out}");
    for user in [
        "admin",
        "finance",
        "oversight",
        "purchaser",
        "agency",
        "supplier8",
        "expert1",
    ] {
        assert!(out.contains(user), "{user} in {out}");
    }
    let http = crate::common::client();
    let r = http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let list: serde_json::Value = http
        .get(format!("{}/api/announcements", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Two open for weeks, the opening, consultation and enquiry played live, and the
    // five of the past, each printed with who acts next.
    assert_eq!(list.as_array().unwrap().len(), 10);
    assert!(out.contains("授标之后 / after the award"), "{out}");
    assert!(out.contains("bank 审批融资申请"), "{out}");
    let orgs = http
        .post(format!("{}/api/auth/login", server.base))
        .json(&serde_json::json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(orgs.status(), StatusCode::OK);
    // A custodian checks their share of the opening key with their key file.
    let tender = school(&list);
    let tender = tender.as_str();
    // Every demo expert has a key file to sign a report with.
    for i in [1, 36] {
        assert!(dir
            .path()
            .join(format!("demo-keys/expert{i}.kbkey"))
            .exists());
    }
    // The README's line, as written, but for the binary, the data folder and the port.
    let readme = include_str!("../../README.md");
    let line = readme
        .lines()
        .map(str::trim)
        .find(|l| l.contains("share check --key-file data/demo-keys/"))
        .expect("the README's share check line");
    let line = line
        .replace("<demo password>", PASSWORD)
        .replace("<tender id>", tender)
        .replace("data/", &format!("{}/", dir.path().display()));
    let (env, args) = line
        .split_once(" cargo run --release -- ")
        .expect("env, then the command");
    let env: Vec<(&str, &str)> = env
        .split_whitespace()
        .map(|kv| kv.split_once('=').unwrap())
        .chain([("KAIBIAO_SERVER", server.base.as_str())])
        .collect();
    let args: Vec<&str> = args.split_whitespace().collect();
    // Without the password in the environment and no terminal to ask on: said plainly.
    let no_tty = Command::new(BIN)
        .args(&args)
        .envs(
            env.iter()
                .filter(|(k, _)| *k != "KAIBIAO_PASSWORD")
                .copied(),
        )
        .env_remove("KAIBIAO_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!no_tty.status.success());
    assert!(
        String::from_utf8_lossy(&no_tty.stderr).contains("set KAIBIAO_PASSWORD"),
        "{}",
        String::from_utf8_lossy(&no_tty.stderr)
    );
    let out = run(&args, &env);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("matches the announced commitments"), "{said}");
    assert!(
        said.contains("threshold 2 of 3"),
        "3 custodians, 2 needed: {said}"
    );
    assert!(terminate(&mut server).success(), "graceful exit on SIGTERM");
    assert!(
        dir.path().join("kaibiao.db").exists(),
        "SQLite file under the data dir"
    );

    // A second start on the same data seeds nothing and prints no logins.
    let mut again = start(&["--demo"], dir.path());
    assert!(!again.stdout.join("\n").contains("demo logins"));
    let list: serde_json::Value = http
        .get(format!("{}/api/announcements", again.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        10,
        "still the same ten tenders"
    );
    terminate(&mut again);
}

#[tokio::test]
async fn serves_https_with_a_self_signed_certificate() {
    kaibiao::tls::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(&["--tls-self-signed"], dir.path());
    assert!(
        server.base.starts_with("https://localhost:"),
        "{}",
        server.base
    );
    let pem = std::fs::read(dir.path().join("tls/cert.pem")).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let r = http
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Plain HTTP to the TLS port is not served.
    let plain = server.base.replace("https://", "http://");
    assert!(
        crate::common::client()
            .get(format!("{plain}/healthz"))
            .send()
            .await
            .is_err()
            || crate::common::client()
                .get(format!("{plain}/healthz"))
                .send()
                .await
                .unwrap()
                .status()
                != StatusCode::OK
    );
    terminate(&mut server);
}

#[tokio::test]
async fn verify_accepts_a_sound_ledger_and_names_the_edited_event() {
    let app = spawn_app().await;
    let s = app.login("agency").await;
    // The school's tender: created and published.
    let id = &app.school_tender_id().await;
    // One more event: an amendment.
    let (status, _) = s
        .post(
            &format!("/api/tenders/{id}/amendments"),
            serde_json::json!({"reason": "更正联系人", "changes": {"description": "联系人:王磊"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, mut ledger) = app
        .call(Method::GET, &format!("/api/tenders/{id}/ledger"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ledger["events"].as_array().unwrap().len(), 3);

    let file = app.dir.path().join("ledger.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&ledger).unwrap()).unwrap();
    let out = verify(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 events"));

    // Edit one event (the published budget) and verify names it.
    ledger["events"][1]["body"]["lots"][0]["budget_fen"] = serde_json::json!(1);
    std::fs::write(&file, serde_json::to_vec_pretty(&ledger).unwrap()).unwrap();
    let out = verify(&file);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("event 2"), "{err}");

    // Not a ledger at all.
    std::fs::write(&file, "hello").unwrap();
    let out = verify(&file);
    assert_eq!(out.status.code(), Some(2));
}

/// The id of the demo's smart-classroom tender in a list of announcements.
fn school(list: &serde_json::Value) -> String {
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == crate::common::SCHOOL_TENDER)
        .expect("the demo's school tender")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Signed documents the platform wrote before the modules were layered (tests/fixtures/
/// d365dad): each verifies now, and fails with one figure changed.
#[test]
fn records_written_before_the_layering_still_verify() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/d365dad");
    let scratch = tempfile::tempdir().unwrap();
    for (file, says, edit) in [
        (
            "opening-record.json",
            "opening record verified",
            &["record", "bids", "0", "sheet", "total_price_fen"][..],
        ),
        (
            "evaluation-report.json",
            "5 expert signatures",
            &["report", "scores", "0", "items", "技术方案"][..],
        ),
        ("ledger.json", "", &["events", "2", "at"][..]),
    ] {
        let path = dir.join(file);
        let out = verify(&path);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{file}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(says), "{file}: {stdout}");
        // One figure changed: refused.
        let mut doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut at = &mut doc;
        for key in edit {
            at = match key.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[*key],
            };
        }
        assert!(!at.is_null(), "{file}: {edit:?} names a value");
        *at = match at.as_i64() {
            Some(n) => serde_json::json!(n + 1),
            None => serde_json::json!(format!("{}0", at.as_str().unwrap_or_default())),
        };
        let forged = scratch.path().join(file);
        std::fs::write(&forged, doc.to_string()).unwrap();
        assert_eq!(verify(&forged).status.code(), Some(1), "{file} forged");
    }
}

/// `kaibiao verify FILE` (a ledger or an opening record), whatever its exit code.
pub(crate) fn verify(file: &std::path::Path) -> std::process::Output {
    Command::new(BIN).arg("verify").arg(file).output().unwrap()
}

/// Runs the command line with `envs`, whatever it returns.
fn run_any(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .envs(envs.iter().copied())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs the command line with `envs`; it must succeed.
pub(crate) fn run(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let out = run_any(args, envs);
    assert!(
        out.status.success(),
        "kaibiao {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test]
async fn cli_seals_submits_after_a_server_crash_and_verifies_the_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    let mut server = start(&["--demo", "--listen", &listen], &data);
    let base = server.base.clone();
    assert!(base.ends_with(&port), "{base}");

    let key_file = dir.path().join("supplier4.kbkey");
    let key = key_file.to_str().unwrap();
    let env = [
        ("KAIBIAO_PASSWORD", PASSWORD),
        ("KAIBIAO_KEY_PASSPHRASE", "我的口令 passphrase"),
        ("KAIBIAO_SERVER", base.as_str()),
        ("KAIBIAO_USER", "supplier4"),
    ];
    run(&["keys", "init", "--key-file", key], &env);
    assert!(std::fs::metadata(&key_file).unwrap().len() > 0);

    let list: serde_json::Value = crate::common::client()
        .get(format!("{base}/api/announcements"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tender = school(&list);
    let sheet = dir.path().join("sheet.toml");
    std::fs::write(
        &sheet,
        "total_price = \"1234567.89\"\ndelivery_days = 45\nwarranty_months = 36\nenterprise_size = \"micro\"\nnotes = \"含税价\"\n",
    )
    .unwrap();
    let doc = dir.path().join("技术方案.bin");
    let bytes: Vec<u8> = (0..(3u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(&doc, &bytes).unwrap();
    let sealed = dir.path().join("bid.kb1");
    // The personnel declaration goes in as a document by its name; one that would not be
    // read after the opening is refused before anything is sealed.
    let people = dir.path().join("personnel.json");
    std::fs::write(&people, r#"{"agent": "王强"}"#).unwrap();
    let args = [
        "bid",
        "seal",
        "--key-file",
        key,
        "--tender",
        &tender,
        "--sheet",
        sheet.to_str().unwrap(),
        "--doc",
        doc.to_str().unwrap(),
        "--doc",
        people.to_str().unwrap(),
        "--out",
        sealed.to_str().unwrap(),
    ];
    let refused = run_any(&args, &env);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("is not a personnel declaration"),
        "{stderr}"
    );
    assert!(!sealed.exists());
    std::fs::write(
        &people,
        r#"{"agent": {"name": "王强", "id_number": "11010519491231002X"}}"#,
    )
    .unwrap();
    let out = run(&args, &env);
    assert!(String::from_utf8_lossy(&out.stdout).contains("sealed"));
    let side: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("bid.kb1.bid.json")).unwrap())
            .unwrap();
    let container = std::fs::read(&sealed).unwrap();
    assert_eq!(side["size"], container.len());
    assert!(
        !container
            .windows("含税价".len())
            .any(|w| w == "含税价".as_bytes()),
        "the sheet is sealed"
    );
    assert!(
        !container
            .windows("王强".len())
            .any(|w| w == "王强".as_bytes()),
        "the declaration is sealed"
    );

    // An earlier attempt got 1 MiB through before the server died (SIGKILL).
    let s = crate::common::login_at(&base, "supplier4").await;
    let bid = side["bid_id"].as_str().unwrap();
    let (status, _) = crate::bids::put_chunk(&s, bid, 0, &container[..1 << 20]).await;
    assert_eq!(status, StatusCode::OK);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut server = start(&["--listen", &listen], &data);

    // The CLI resumes from what the restarted server holds and checks the receipt.
    let out = run(
        &[
            "bid",
            "submit",
            "--file",
            sealed.to_str().unwrap(),
            "--key-file",
            key,
            "--chunk-mib",
            "1",
        ],
        &env,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("(0/"), "resumed, not restarted: {stderr}");
    assert!(stderr.contains(&format!("({}/", 2 << 20)), "{stderr}");
    let receipt: kaibiao::bid::types::SignedReceipt =
        serde_json::from_slice(&std::fs::read(dir.path().join("bid.kb1.receipt.json")).unwrap())
            .unwrap();
    assert_eq!(
        receipt.receipt.ciphertext_sha256,
        side["sha256"].as_str().unwrap()
    );
    let out = run(&["bid", "status", "--bid", bid], &env);
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"submitted\""));
    let out = run(&["bid", "withdraw", "--bid", bid], &env);
    assert!(String::from_utf8_lossy(&out.stdout).contains("withdrawn"));
    terminate(&mut server);
}
