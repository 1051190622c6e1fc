//! The real binary: `kaibiao serve --demo` as the README runs it, HTTPS with a
//! self-signed certificate, and `kaibiao verify` on a sound and a tampered ledger.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::{Method, StatusCode};

use crate::common::{spawn_app, PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_kaibiao");

struct Server {
    child: Child,
    base: String,
    stdout: Vec<String>,
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
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .env("KAIBIAO_DEMO_PASSWORD", PASSWORD)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kaibiao starts");
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

fn terminate(server: &mut Server) -> std::process::ExitStatus {
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
    let http = reqwest::Client::new();
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
    assert_eq!(list.as_array().unwrap().len(), 2);
    let orgs = http
        .post(format!("{}/api/auth/login", server.base))
        .json(&serde_json::json!({"username": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(orgs.status(), StatusCode::OK);
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
        2,
        "still the same two tenders"
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
        reqwest::get(format!("{plain}/healthz")).await.is_err()
            || reqwest::get(format!("{plain}/healthz"))
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
    let (_, list) = s.get("/api/tenders").await;
    let id = list[0]["id"].as_str().unwrap();
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
    let out = Command::new(BIN).arg("verify").arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 events"));

    // Edit one event (the published budget) and verify names it.
    ledger["events"][1]["body"]["lots"][0]["budget_fen"] = serde_json::json!(1);
    std::fs::write(&file, serde_json::to_vec_pretty(&ledger).unwrap()).unwrap();
    let out = Command::new(BIN).arg("verify").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("event 2"), "{err}");

    // Not a ledger at all.
    std::fs::write(&file, "hello").unwrap();
    let out = Command::new(BIN).arg("verify").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
