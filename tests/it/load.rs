//! The real `kaibiao-load` binary against the app: a handful of watchers in a tender's
//! hall, the amend driver, and a report that every event reached every watcher once.
//! A correctness check of the tool, not a timing.

use serde_json::Value;

use crate::common::{spawn_app, PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_kaibiao-load");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_generator_reports_every_amendment_delivered_to_every_watcher() {
    let app = spawn_app().await;
    let tender = app.school_tender_id().await;
    let args = [
        "--server",
        &app.base,
        "--watchers",
        "6",
        "--drive",
        "amend",
        "--tender",
        &tender,
        "--events",
        "3",
        "--concurrency",
        "3",
        "--settle-ms",
        "50",
        "--deliver-secs",
        "30",
        "--server-pid",
        &std::process::id().to_string(),
        "--json",
    ]
    .map(str::to_string);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(BIN)
            .args(args)
            .env("KAIBIAO_DEMO_PASSWORD", PASSWORD)
            .output()
            .expect("kaibiao-load runs")
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "kaibiao-load failed: {stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["kind"], "tender_amended");
    assert_eq!(report["connected"], 6, "{stderr}");
    assert_eq!(report["failed"], 0);
    assert_eq!(report["events"].as_array().unwrap().len(), 3);
    assert_eq!(report["expected_deliveries"], 18);
    assert_eq!(report["deliveries"], 18);
    assert_eq!(report["missing"], 0);
    assert_eq!(report["duplicates"], 0);
    assert_eq!(report["all_delivered"], true);
    assert!(report["memory"]["rss_before_kib"].as_u64().is_some());

    // The events it counted are the tender's amendments, as the ledger has them.
    let (_, ledger) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/tenders/{tender}/ledger"),
            None,
        )
        .await;
    let amended: Vec<&Value> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "tender_amended")
        .map(|e| &e["seq"])
        .collect();
    assert_eq!(
        report["events"]
            .as_array()
            .unwrap()
            .iter()
            .collect::<Vec<_>>(),
        amended
    );
}
