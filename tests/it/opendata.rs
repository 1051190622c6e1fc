//! Open data (docs/opendata.md) over HTTP with the demo city and its past: OCDS releases a
//! page at a time, one tender's, the bulk download; nothing about bids before the opening;
//! the export validated by open-contracting's own validator (libcoveocds, installed by
//! .ci/run) with no error; and `kaibiao screen` reads it back.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::bids::{seal_sheet, sheet, start_bid, upload_all};
use crate::common::{in_ci, spawn_app_at_with, TestApp};
use crate::evaluation::{demo_opening_tender, T0};

async fn public_get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    app.call(Method::GET, path, None).await
}

/// The releases of every page, following `links.next`.
/// The bulk download, as anyone gets it.
pub(crate) async fn bulk(app: &TestApp) -> String {
    reqwest::get(app.url("/api/ocds/bulk.jsonl"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub(crate) async fn all_releases(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = "/api/ocds/releases".to_string();
    loop {
        let (status, p) = public_get(app, &path).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        assert_eq!(p["version"], "1.1");
        out.extend(p["releases"].as_array().unwrap().iter().cloned());
        match p["links"]["next"].as_str() {
            Some(next) => path = next[next.find("/api/").unwrap()..].to_string(),
            None => break,
        }
    }
    out
}

fn by_title<'a>(releases: &'a [Value], title: &str) -> &'a Value {
    releases
        .iter()
        .find(|r| {
            r["tender"]["title"]
                .as_str()
                .unwrap_or_default()
                .contains(title)
        })
        .unwrap_or_else(|| panic!("no release titled {title}"))
}

#[tokio::test]
async fn ocds_releases_say_only_what_is_public_and_validate_with_libcoveocds() {
    let (app, clock) = spawn_app_at_with(T0, |c| c.demo_history = true).await;

    // A bid sealed before the deadline changes nothing in the tender's release.
    let t = demo_opening_tender(&app).await;
    let tender = t["id"].as_str().unwrap();
    let code = t["code"].as_str().unwrap();
    let path = format!("/api/ocds/releases/{code}");
    let (status, before) = public_get(&app, &path).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    let s = app.login("supplier1").await;
    s.register_keys().await;
    let (status, start) = start_bid(&s, tender).await;
    assert_eq!(status, StatusCode::CREATED, "{start}");
    let container = seal_sheet(&start, sheet(95_000_000, "supplier1"), b"bid", 1024);
    let bid = start["bid_id"].as_str().unwrap();
    let (status, v) = upload_all(&s, bid, &container, 4096).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, after) = public_get(&app, &path).await;
    assert_eq!(
        before["releases"], after["releases"],
        "a bid before the opening shows"
    );
    let r = &after["releases"][0];
    assert!(
        r.get("bids").is_none() && r["tender"].get("tenderers").is_none(),
        "{r}"
    );
    assert!(!after.to_string().contains(bid));

    // The city: every published tender, none of the drafts.
    let releases = all_releases(&app).await;
    let (_, published): (StatusCode, Value) = public_get(&app, "/api/announcements").await;
    assert!(releases.len() >= 6, "{} releases", releases.len());
    let drafts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenders WHERE status = 'draft'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenders")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(releases.len() as i64, total - drafts, "{published}");

    // The paid tender of the demo's past: bids, the award, the contract and its payment.
    let paid = by_title(&releases, "病房区保洁");
    assert_eq!(paid["tender"]["status"], "complete");
    assert!(paid["bids"]["statistics"][0]["value"].as_i64().unwrap() >= 3);
    let award = &paid["awards"][0];
    let supplier = award["suppliers"][0]["id"].as_str().unwrap();
    assert!(supplier.starts_with("CN-USCC-"), "{supplier}");
    let contract = &paid["contracts"][0];
    assert_eq!(contract["awardID"], award["id"]);
    let paid_total: f64 = contract["implementation"]["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["value"]["amount"].as_f64().unwrap())
        .sum();
    assert_eq!(paid_total, contract["value"]["amount"].as_f64().unwrap());
    let roles = |id: &str| -> Vec<String> {
        let p = paid["parties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap();
        serde_json::from_value(p["roles"].clone()).unwrap()
    };
    for role in ["tenderer", "supplier", "payee"] {
        assert!(roles(supplier).contains(&role.to_string()), "{role}");
    }
    // A contract not yet published is not there (the one the demo left to sign).
    let unsigned = by_title(&releases, "理化生实验室家具");
    assert!(unsigned.get("contracts").is_none(), "{unsigned}");
    assert!(unsigned.get("awards").is_some());

    // The bulk download: the same releases, a line each.
    let (status, _) = public_get(&app, "/api/ocds/releases?page=0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let bulk = bulk(&app).await;
    assert_eq!(bulk.lines().count(), releases.len());
    // Anyone may ask for it: it is made at most once a minute. The agency publishes the
    // result of the demo tender waiting for it: the bulk catches up a minute later.
    let awaiting = by_title(&releases, "办公计算机");
    assert!(
        awaiting.get("awards").is_none(),
        "no award before its notice"
    );
    let awaiting_code = awaiting["tender"]["id"].as_str().unwrap().to_string();
    let awaiting_id: String = sqlx::query_scalar("SELECT id FROM tenders WHERE code = $1")
        .bind(&awaiting_code)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    crate::challenges::ok_publish(&app, &awaiting_id).await;
    assert_eq!(
        crate::opendata::bulk(&app).await,
        bulk,
        "the same minute, the same download"
    );
    let (_, now) = public_get(&app, &format!("/api/ocds/releases/{awaiting_code}")).await;
    assert!(
        now["releases"][0]["awards"].is_array(),
        "the page is current"
    );
    clock.advance(61_000);
    let later = crate::opendata::bulk(&app).await;
    let line = later.lines().find(|l| l.contains(&awaiting_code)).unwrap();
    assert!(
        line.contains("\"awards\""),
        "a minute later the bulk has the award"
    );

    let dir = tempfile::tempdir().unwrap();
    let lines = dir.path().join("releases.jsonl");
    std::fs::write(&lines, &bulk).unwrap();

    // `kaibiao screen` reads the platform's own export.
    let out = std::process::Command::new(crate::cli::BIN)
        .args(["screen", lines.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let screened: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        screened.to_string().contains(code),
        "the screen reads every process"
    );

    // The records: one per tender, its release compiled and linked to its package; the
    // record package validates too.
    let (status, records) = public_get(&app, "/api/ocds/records").await;
    assert_eq!(status, StatusCode::OK, "{records}");
    let list = records["records"].as_array().unwrap();
    let current = all_releases(&app).await;
    assert_eq!(list.len(), current.len());
    for (record, release) in list.iter().zip(&current) {
        assert_eq!(record["ocid"], release["ocid"]);
        assert_eq!(&record["compiledRelease"], release);
        let url = record["releases"][0]["url"].as_str().unwrap();
        assert!(
            url.ends_with(&format!(
                "/api/ocds/releases/{}#{}",
                release["tender"]["id"].as_str().unwrap(),
                release["id"].as_str().unwrap()
            )),
            "{url}"
        );
    }
    let code = current[0]["tender"]["id"].as_str().unwrap();
    let (status, one) = public_get(&app, &format!("/api/ocds/records/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["records"][0], list[0]);
    let (status, _) = public_get(&app, "/api/ocds/records/no-such-tender").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = public_get(&app, "/api/ocds/records?page=0").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let file = dir.path().join("records.json");
    std::fs::write(&file, records.to_string()).unwrap();
    validate_records(&file);

    // open-contracting's validator: no error in the whole export as one package.
    validate_export(&app, releases, dir.path()).await;
}

/// Runs open-contracting's validator over `releases` as one package (the first page's
/// package with them all), written in `dir`.
pub(crate) async fn validate_export(app: &TestApp, releases: Vec<Value>, dir: &std::path::Path) {
    let (_, first) = public_get(app, "/api/ocds/releases").await;
    let mut package = first.clone();
    package["releases"] = Value::Array(releases);
    package.as_object_mut().unwrap().remove("links");
    let file = dir.join("package.json");
    std::fs::write(&file, package.to_string()).unwrap();
    validate(&file);
}

/// Validates the record package in `file` against OCDS 1.1.5's record-package schema
/// (vendored), with `jsonschema` (libcoveocds' own validator library). libcoveocds itself
/// resolves the versioned release schema of a record package over the network, which
/// CI does not have; the records' compiled releases are the releases `validate` checks.
fn validate_records(file: &std::path::Path) {
    const CHECK: &str = "import json, sys, zipfile\n\
        from jsonschema import Draft4Validator\n\
        from referencing import Registry, Resource\n\
        from referencing.jsonschema import DRAFT4\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        load = lambda n: json.loads(z.read('standard-1__1__5/schema/' + n))\n\
        names = ['release-schema.json', 'versioned-release-validation-schema.json']\n\
        registry = Registry().with_resources([('https://standard.open-contracting.org/schema/1__1__5/' + n, Resource.from_contents(load(n), default_specification=DRAFT4)) for n in names])\n\
        v = Draft4Validator(load('record-package-schema.json'), registry=registry)\n\
        print(json.dumps([f'{list(e.path)}: {e.message}' for e in v.iter_errors(json.load(open(sys.argv[2])))]))";
    let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ocds/standard-1__1__5-schema.zip");
    let out = match std::process::Command::new("python3")
        .args(["-c", CHECK])
        .arg(&schema)
        .arg(file)
        .output()
    {
        Ok(out) if out.status.success() => out,
        other => {
            assert!(
                !in_ci(),
                "CI=true but jsonschema cannot check the records (pip install -r tests/requirements.txt): {other:?}"
            );
            eprintln!("skipped: jsonschema is not installed");
            return;
        }
    };
    let errors: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(errors.is_empty(), "OCDS record package errors: {errors:?}");
}

/// Runs libcoveocds on `file` with the vendored 1.1.5 schema; fails on any validation
/// error. Skipped, with a message, when libcoveocds is not installed — except under CI.
fn validate(file: &std::path::Path) {
    let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ocds/standard-1__1__5-schema.zip");
    let out_dir = file.with_extension("cove");
    let run = std::process::Command::new("libcoveocds")
        .arg("--delete")
        .arg("--output-dir")
        .arg(&out_dir)
        .arg("--standard-zip")
        .arg(&schema)
        .arg(file)
        .output();
    let out = match run {
        Ok(out) => out,
        Err(e) => {
            assert!(
                !in_ci(),
                "CI=true but libcoveocds is missing (pip install -r tests/requirements.txt): {e}"
            );
            eprintln!("skipped: libcoveocds is not installed");
            return;
        }
    };
    assert!(
        out.status.success(),
        "libcoveocds: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("libcoveocds' JSON");
    assert_eq!(
        report["validation_errors"],
        serde_json::json!([]),
        "OCDS validation errors"
    );
    let invalid = &report["extensions"]["invalid_extension"];
    if invalid.as_object().is_some_and(|o| !o.is_empty()) {
        eprintln!("libcoveocds could not fetch the extensions (validated against the core schema): {invalid}");
    }
    println!(
        "libcoveocds: {} releases, no validation error; additional fields: {}",
        report["count"], report["additional_fields_count"]
    );
}
