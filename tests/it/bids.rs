//! Sealed bids end to end: sealed on the "device" (this test, through the same code the
//! CLI uses), uploaded in chunks with resume, checked by the server without reading them,
//! receipted, replaced, withdrawn, refused when late or wrong, and opened only with the
//! bidder's half-key and the custodians' shares.

use kaibiao::bid::package::{self, DocumentEntry, Manifest, OpeningSheet};
use kaibiao::crypto::kb1::{self, SealParams};
use kaibiao::crypto::sha256_hex as sha256;
use kaibiao::crypto::{hpke, vss};
use kaibiao::tender::opening_key::{share_aad, SHARE_INFO};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{code, spawn_app_at, DeviceKeys, Registered, Session, TestApp, PASSWORD};

const T0: i64 = 1_796_086_800_000;

fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// The opening sheet the tests seal unless they say otherwise.
pub fn sheet(price_fen: i64, notes: &str) -> OpeningSheet {
    OpeningSheet {
        total_price_fen: price_fen,
        total_price_words: package::amount_in_words(price_fen),
        delivery_days: 30,
        warranty_months: 36,
        enterprise_size: "small".into(),
        special_status: None,
        notes: notes.into(),
        brand: None,
        products: Vec::new(),
        consortium_small_micro_share_bp: None,
    }
}

/// Seals a bid as the supplier's device does.
pub fn seal(start: &Value, notes: &str, document: &[u8], segment_size: u32) -> Vec<u8> {
    seal_sheet(start, sheet(98_765_400, notes), document, segment_size)
}

/// Seals a bid with the given opening sheet.
pub fn seal_sheet(
    start: &Value,
    opening_sheet: OpeningSheet,
    document: &[u8],
    segment_size: u32,
) -> Vec<u8> {
    seal_documents(
        start,
        opening_sheet,
        &[("技术响应文件.txt", "text/plain", document)],
        segment_size,
    )
}

/// Seals a bid with the given opening sheet and documents (name, media type, bytes).
pub fn seal_documents(
    start: &Value,
    opening_sheet: OpeningSheet,
    documents: &[(&str, &str, &[u8])],
    segment_size: u32,
) -> Vec<u8> {
    let manifest = Manifest {
        opening_sheet,
        documents: documents
            .iter()
            .map(|(name, media_type, bytes)| DocumentEntry {
                name: (*name).into(),
                size: bytes.len() as u64,
                media_type: (*media_type).into(),
            })
            .collect(),
    };
    let mut pkg = Vec::new();
    let readers: Vec<Box<dyn std::io::Read + '_>> = documents
        .iter()
        .map(|(_, _, bytes)| Box::new(*bytes) as Box<dyn std::io::Read + '_>)
        .collect();
    package::write_package(&manifest, readers, &mut pkg).unwrap();
    let bidder = unb64(start["bidder_key"].as_str().unwrap());
    let tender = unb64(start["tender_key"].as_str().unwrap());
    let params = SealParams {
        tender_id: start["tender_id"].as_str().unwrap(),
        lot_no: start["lot_no"].as_u64().unwrap() as u32,
        bidder_org_id: start["bidder_org_id"].as_str().unwrap(),
        bid_id: start["bid_id"].as_str().unwrap(),
        bidder_public_sec1: &bidder,
        tender_public_sec1: &tender,
        segment_size,
    };
    let mut out = Vec::new();
    kb1::seal_stream(&params, &pkg[..], &mut out).unwrap();
    out
}

/// Obtains the documents (as every bidder must, once) and starts a bid for lot 1.
pub async fn start_bid(s: &Session, tender: &str) -> (StatusCode, Value) {
    s.post(
        &format!("/api/tenders/{tender}/documents/obtain"),
        json!({}),
    )
    .await;
    s.post(
        &format!("/api/tenders/{tender}/bids"),
        json!({"lot_no": 1, "device_fingerprint": "test-device-1",
               "documents_meta": [{"creator": "张伟", "tool": "kaibiao-test"}]}),
    )
    .await
}

pub async fn put_chunk(s: &Session, bid: &str, offset: usize, bytes: &[u8]) -> (StatusCode, Value) {
    put_raw(
        s,
        &format!("/api/bids/{bid}/content?offset={offset}"),
        bytes,
    )
    .await
}

/// `PUT path` with raw bytes as the body.
pub async fn put_raw(s: &Session, path: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let r = s
        .client
        .put(format!("{}{path}", s.base))
        .header("x-csrf-token", &s.csrf)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// "Submit": completes the upload of `bytes` (its size and SHA-256).
pub async fn complete(s: &Session, bid: &str, bytes: &[u8]) -> (StatusCode, Value) {
    s.post(
        &format!("/api/bids/{bid}/complete"),
        json!({"size": bytes.len(), "sha256": sha256(bytes)}),
    )
    .await
}

/// Uploads in chunks and completes; returns the completion response.
pub async fn upload_all(s: &Session, bid: &str, bytes: &[u8], chunk: usize) -> (StatusCode, Value) {
    let mut offset = 0;
    while offset < bytes.len() {
        let end = (offset + chunk).min(bytes.len());
        let (status, v) = put_chunk(s, bid, offset, &bytes[offset..end]).await;
        if status != StatusCode::OK {
            return (status, v);
        }
        offset = end;
    }
    complete(s, bid, bytes).await
}

/// The tender's opening key rebuilt from two custodians' shares (their demo key files).
pub async fn tender_secret(app: &TestApp, tender: &str) -> p256::SecretKey {
    tender_secret_at(&app.base, app.dir.path(), tender).await
}

/// As `tender_secret`, for a server at `base` with its data in `data_dir`.
pub async fn tender_secret_at(
    base: &str,
    data_dir: &std::path::Path,
    tender: &str,
) -> p256::SecretKey {
    let mut shares = Vec::new();
    for name in ["agency", "purchaser"] {
        shares.push(custodian_share(base, data_dir, tender, name).await);
    }
    p256::SecretKey::from(vss::combine(&shares).unwrap())
}

/// A demo custodian's share, unsealed with its key file as the custodian's device does.
pub async fn custodian_share(
    base: &str,
    data_dir: &std::path::Path,
    tender: &str,
    name: &str,
) -> vss::Share {
    let (_, mine) = crate::common::login_at(base, name)
        .await
        .get(&format!("/api/tenders/{tender}/my-share"))
        .await;
    let file = std::fs::read_to_string(data_dir.join(format!("demo-keys/{name}.kbkey"))).unwrap();
    let (_, keys) = DeviceKeys::from_file(&file, PASSWORD).unwrap();
    let sealed: hpke::Sealed = serde_json::from_value(mine["sealed"].clone()).unwrap();
    let index = mine["index"].as_u64().unwrap() as u32;
    let value = hpke::open(
        &keys.encryption,
        SHARE_INFO,
        &share_aad(tender, index),
        &sealed,
    )
    .unwrap();
    vss::Share {
        index,
        value: value.try_into().unwrap(),
    }
}

/// The bidder's half-key, unsealed on the bidder's device.
pub fn bidder_kb(container: &[u8], bidder: &Registered) -> [u8; 32] {
    let (header, _, _) = kb1::parse_header(container).unwrap();
    kb1::unseal_kb(&header, &bidder.keys.encryption).unwrap()
}

#[tokio::test]
async fn a_bid_uploads_with_resume_gets_a_signed_receipt_and_opens_only_with_both_halves() {
    let (app, _clock) = spawn_app_at(T0).await;
    let tender = app.school_tender_id().await;
    let s = app.login("supplier1").await;

    // No encryption key yet: the page must make one first.
    let (status, v) = start_bid(&s, &tender).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ENCRYPTION_KEY_REQUIRED")
    );
    let keys = s.register_keys().await;

    let (status, start) = start_bid(&s, &tender).await;
    assert_eq!(status, StatusCode::CREATED, "{start}");
    let bid = start["bid_id"].as_str().unwrap().to_string();
    let document: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let container = seal(&start, "交货期 30 天", &document, 64 * 1024);

    // First part, then a "dropped connection": the client asks where to resume.
    let (status, v) = put_chunk(&s, &bid, 0, &container[..500_000]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = put_chunk(&s, &bid, 400_000, &container[400_000..600_000]).await;
    assert_eq!((status, code(&v)), (StatusCode::CONFLICT, "UPLOAD_OFFSET"));
    assert_eq!(v["received"], 500_000);
    let (_, st) = s.get(&format!("/api/bids/{bid}")).await;
    assert_eq!(st["received"], 500_000);
    assert_eq!(st["status"], "uploading");
    // Completing early says how far it got.
    let (status, v) = complete(&s, &bid, &container).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "UPLOAD_INCOMPLETE")
    );

    // The partial file lost its tail (a disk, a folder restored from a backup): the next
    // chunk is told how much is still there, and the upload resumes from it; a file gone
    // takes it back to 0.
    let part = app.dir.path().join(format!("uploads/{bid}.part"));
    let lost_tail = |len: u64| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&part)
            .unwrap()
            .set_len(len)
            .unwrap()
    };
    lost_tail(300_000);
    let (status, v) = put_chunk(&s, &bid, 500_000, &container[500_000..600_000]).await;
    assert_eq!(
        (status, code(&v), &v["received"]),
        (StatusCode::CONFLICT, "UPLOAD_OFFSET", &json!(300_000)),
        "{v}"
    );
    let (_, st) = s.get(&format!("/api/bids/{bid}")).await;
    assert_eq!(
        (&st["received"], &st["status"]),
        (&json!(300_000), &json!("uploading"))
    );
    let (status, v) = put_chunk(&s, &bid, 300_000, &container[300_000..500_000]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    std::fs::remove_file(&part).unwrap();
    let (status, v) = put_chunk(&s, &bid, 500_000, &container[500_000..600_000]).await;
    assert_eq!(
        (status, code(&v), &v["received"]),
        (StatusCode::CONFLICT, "UPLOAD_OFFSET", &json!(0)),
        "{v}"
    );
    let (status, v) = put_chunk(&s, &bid, 0, &container[..500_000]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // Lost after the last chunk: "submit" says how much is there.
    let (status, v) = put_chunk(&s, &bid, 500_000, &container[500_000..]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    lost_tail(900_000);
    let (status, v) = complete(&s, &bid, &container).await;
    assert_eq!(
        (status, code(&v), &v["received"]),
        (StatusCode::CONFLICT, "UPLOAD_INCOMPLETE", &json!(900_000)),
        "{v}"
    );

    // Resume from where the server is.
    let (status, done) = upload_all_from(&s, &bid, &container, 900_000).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "submitted");
    let receipt: kaibiao::bid::types::SignedReceipt =
        serde_json::from_value(done["receipt"].clone()).unwrap();
    assert_eq!(
        receipt.receipt.ciphertext_sha256,
        sha256(&container),
        "exactly the bytes sent"
    );
    assert_eq!(receipt.receipt.received_at, T0);
    assert!(kaibiao::bid::service::verify_receipt(
        &receipt,
        &app.state.pki.ca_der,
        T0
    ));
    let mut forged = receipt.clone();
    forged.receipt.received_at -= 1;
    assert!(!kaibiao::bid::service::verify_receipt(
        &forged,
        &app.state.pki.ca_der,
        T0
    ));

    // A second click gets the same receipt; the ledger has one submission, hashes only.
    let (status, again) = complete(&s, &bid, &container).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["receipt"], done["receipt"]);
    let (_, ledger) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}/ledger"))
        .await;
    let subs: Vec<&Value> = ledger["bid_register"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "bid_submitted")
        .collect();
    assert_eq!(subs.len(), 1);
    assert_eq!(
        subs[0]["body"]["ciphertext_sha256"],
        sha256(&container).as_str()
    );
    assert!(!subs[0]["body"]
        .to_string()
        .contains(start["bidder_org_id"].as_str().unwrap()));

    // Others see nothing of it.
    let (status, _) = app
        .login("supplier2")
        .await
        .get(&format!("/api/bids/{bid}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .login("agency")
        .await
        .get(&format!("/api/bids/{bid}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Opening: the bidder's kb and the custodians' rebuilt key open it; a wrong kb does not.
    let kb = bidder_kb(&container, &keys);
    let secret = tender_secret(&app, &tender).await;
    let opened = kaibiao::bid::open::open_bid(&app.state, &sha256(&container), kb, secret.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(opened.manifest.opening_sheet.notes, "交货期 30 天");
    assert_eq!(opened.manifest.opening_sheet.total_price_fen, 98_765_400);
    assert_eq!(opened.document_sha256, vec![sha256(&document)]);
    let err = kaibiao::bid::open::open_bid(&app.state, &sha256(&container), [7u8; 32], secret)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code(), "KB_HASH_MISMATCH");
}

async fn upload_all_from(s: &Session, bid: &str, bytes: &[u8], from: usize) -> (StatusCode, Value) {
    let mut offset = from;
    while offset < bytes.len() {
        let end = (offset + 256 * 1024).min(bytes.len());
        let (status, v) = put_chunk(s, bid, offset, &bytes[offset..end]).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        offset = end;
    }
    complete(s, bid, bytes).await
}

#[tokio::test]
async fn tampered_containers_are_refused_at_upload_or_detected_at_opening() {
    let (app, _clock) = spawn_app_at(T0).await;
    let tender = app.school_tender_id().await;
    let s = app.login("supplier2").await;
    let keys = s.register_keys().await;
    let secret = tender_secret(&app, &tender).await;
    let document = vec![42u8; 5000];

    // A header naming another tender is refused as soon as the header arrives.
    let (_, start) = start_bid(&s, &tender).await;
    let bid = start["bid_id"].as_str().unwrap();
    let mut other = start.clone();
    other["tender_id"] = json!("another-tender");
    let wrong = seal(&other, "x", &document, 1024);
    let (status, v) = put_chunk(&s, bid, 0, &wrong).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "HEADER_MISMATCH"),
        "{v}"
    );
    let (_, st) = s.get(&format!("/api/bids/{bid}")).await;
    assert_eq!(st["status"], "rejected");

    // kt sealed to a key other than the tender's: the header shows it, refused at upload.
    let (_, start) = start_bid(&s, &tender).await;
    let mut wrong_key = start.clone();
    wrong_key["tender_key"] = json!(crate::common::b64(
        &DeviceKeys::generate().encryption_public()
    ));
    let (status, v) = upload_all(
        &s,
        start["bid_id"].as_str().unwrap(),
        &seal(&wrong_key, "x", &document, 1024),
        4096,
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "HEADER_MISMATCH"),
        "{v}"
    );

    // A file cut so that its last segment cannot even hold a tag: its length shows it.
    let (_, start) = start_bid(&s, &tender).await;
    let good = seal(&start, "x", &document, 1024);
    let header_len = {
        let (_, _, offset) = kb1::parse_header(&good).unwrap();
        offset
    };
    let seg = 1024 + 16;
    let (status, v) = upload_all(
        &s,
        start["bid_id"].as_str().unwrap(),
        &good[..header_len + 2 * seg + 5],
        4096,
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "CONTAINER_TRUNCATED"),
        "{v}"
    );

    // Invisible to the server (it cannot decrypt): found at the opening, each by its code.
    let cut = {
        let (_, start) = start_bid(&s, &tender).await;
        let c = seal(&start, "x", &document, 1024);
        c[..c.len() - 100].to_vec()
    };
    let mut flipped = seal(&start_bid(&s, &tender).await.1, "x", &document, 1024);
    flipped[header_len + seg + 7] ^= 1;
    let mut swapped = seal(&start_bid(&s, &tender).await.1, "x", &document, 1024);
    let (a, b) = swapped[header_len..].split_at_mut(seg);
    a.swap_with_slice(&mut b[..seg]);
    let dropped_last = {
        let (_, start) = start_bid(&s, &tender).await;
        let c = seal(&start, "x", &vec![1u8; 4 * 1024 - 200], 1024);
        // The package does not fill its last segment; drop that whole segment.
        let (h, _, off) = kb1::parse_header(&c).unwrap();
        let segments = kb1::check_length(&h, (c.len() - off) as u64).unwrap();
        let full = off + (segments as usize - 1) * seg;
        (start, c[..full].to_vec(), c)
    };
    for (name, container, expected) in [
        ("flipped byte", flipped, "SEGMENT_AUTH_FAILED"),
        ("swapped segments", swapped, "SEGMENT_AUTH_FAILED"),
        (
            "last segment removed",
            dropped_last.1.clone(),
            "SEGMENT_AUTH_FAILED",
        ),
        ("cut inside a segment", cut, "SEGMENT_AUTH_FAILED"),
    ] {
        let (h, _, _) = kb1::parse_header(&container).unwrap();
        let bid = h.bid_id.clone();
        let (status, v) = upload_all(&s, &bid, &container, 4096).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{name}: the server cannot see it: {v}"
        );
        let kb = kb1::unseal_kb(&h, &keys.keys.encryption).unwrap();
        let err = kaibiao::bid::open::open_bid(&app.state, &sha256(&container), kb, secret.clone())
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err.code(), expected, "{name}");
    }
}

#[tokio::test]
async fn late_uploads_are_refused_and_bids_are_replaced_or_withdrawn_before_the_deadline() {
    let (app, clock) = spawn_app_at(T0).await;
    let tender = app.school_tender_id().await;
    let (_, t) = app
        .login("agency")
        .await
        .get(&format!("/api/tenders/{tender}"))
        .await;
    let deadline = t["bid_deadline"].as_i64().unwrap();
    let s = app.login("supplier3").await;
    s.register_keys().await;
    let document = b"price list".to_vec();

    let (_, first) = start_bid(&s, &tender).await;
    let c1 = seal(&first, "first", &document, 1024);
    let (status, v) = upload_all(&s, first["bid_id"].as_str().unwrap(), &c1, 1000).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, second) = start_bid(&s, &tender).await;
    let c2 = seal(&second, "second", &document, 1024);
    let (status, v) = upload_all(&s, second["bid_id"].as_str().unwrap(), &c2, 1000).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["receipt"]["receipt"]["replaces"], first["bid_id"]);
    let (_, mine) = s.get(&format!("/api/tenders/{tender}/bids/mine")).await;
    let status_of = |id: &Value| {
        mine.as_array()
            .unwrap()
            .iter()
            .find(|b| b["bid_id"] == *id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of(&first["bid_id"]), "replaced");
    assert_eq!(status_of(&second["bid_id"]), "submitted");

    // Withdraw the current one; withdrawing twice is refused.
    let path = format!("/api/bids/{}/withdraw", second["bid_id"].as_str().unwrap());
    let (status, v) = s.post(&path, json!({})).await;
    assert_eq!(
        (status, v["status"].as_str()),
        (StatusCode::OK, Some("withdrawn"))
    );
    let (status, v) = s.post(&path, json!({})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION")
    );

    // A transmission still running at the deadline is refused (R-TIME-2).
    let (_, late) = start_bid(&s, &tender).await;
    let bid = late["bid_id"].as_str().unwrap().to_string();
    let c3 = seal(&late, "late", &document, 1024);
    let (status, _) = put_chunk(&s, &bid, 0, &c3[..c3.len() / 2]).await;
    assert_eq!(status, StatusCode::OK);
    clock.set(deadline);
    let s = app.login("supplier3").await;
    let (status, v) = put_chunk(&s, &bid, c3.len() / 2, &c3[c3.len() / 2..]).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "DEADLINE_PASSED")
    );
    let (_, st) = s.get(&format!("/api/bids/{bid}")).await;
    assert_eq!(st["status"], "late");
    let (status, v) = start_bid(&s, &tender).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "DEADLINE_PASSED")
    );
    let first_path = format!("/api/bids/{}/withdraw", first["bid_id"].as_str().unwrap());
    let (status, v) = s.post(&first_path, json!({})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION"),
        "replaced: {v}"
    );
    assert!(
        !app.dir.path().join(format!("uploads/{bid}.part")).exists(),
        "late bytes dropped"
    );
}

/// Every file under `dir`, recursively.
pub(crate) fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// No row of any table of the PostgreSQL database `url` holds `marker`; `table` is one of
/// them (so the scan did find the schema).
pub(crate) async fn no_marker_in_postgres(url: &str, marker: &str, table: &str) {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::postgres::PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query(
        "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get("t"))
    .collect();
    assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    for t in tables {
        let rows = sqlx::query(&format!("SELECT row_to_json(x)::text AS j FROM {t} x"))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        for r in rows {
            let j: String = r.get("j");
            assert!(!j.contains(marker), "content found in table {t}");
        }
    }
}

#[tokio::test]
async fn no_bid_content_in_the_database_blobs_or_logs_before_the_opening() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");
    let db_url = crate::common::fresh_database_url().await;
    let mut server = crate::cli::start_with(&["--demo"], &data, db_url.as_deref(), Some(&log));

    let marker = format!("KAIBIAO-MARKER-{}", uuid::Uuid::new_v4().simple());
    let s = crate::common::login_at(&server.base, "supplier5").await;
    let keys = s.register_keys().await;
    let (_, list) = s.get("/api/announcements").await;
    let tender = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == crate::common::SCHOOL_TENDER)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, start) = start_bid(&s, &tender).await;
    assert_eq!(status, StatusCode::CREATED, "{start}");
    let document = format!("技术方案 {marker} 报价 {marker}")
        .repeat(2000)
        .into_bytes();
    let container = seal(&start, &marker, &document, 64 * 1024);
    let (status, v) = upload_all(&s, start["bid_id"].as_str().unwrap(), &container, 100_000).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // The custodians' shares, fetched before the server stops (for the last check).
    let secret = tender_secret_at(&server.base, &data, &tender).await;
    // Stop the server so every log line and database page is on disk.
    assert!(crate::cli::terminate(&mut server).success());

    let forms = [
        marker.clone().into_bytes(),
        crate::common::b64(marker.as_bytes()).into_bytes(),
        hex::encode(marker.as_bytes()).into_bytes(),
    ];
    let mut scanned = 0;
    for f in files(&data).into_iter().chain([log.clone()]) {
        let bytes = std::fs::read(&f).unwrap();
        for form in &forms {
            assert!(
                !contains(&bytes, form),
                "bid content found in {}",
                f.display()
            );
        }
        scanned += bytes.len();
    }
    assert!(
        scanned > container.len(),
        "the blob and the database were scanned"
    );
    assert!(
        std::fs::read_to_string(&log).unwrap().contains("bid"),
        "the log was written"
    );
    if let Some(url) = &db_url {
        no_marker_in_postgres(url, &marker, "bids").await;
    }
    // And yet the stored bid is whole: both halves of the key open it.
    let blob = data
        .join("blobs/sha256")
        .join(&sha256(&container)[..2])
        .join(sha256(&container));
    let stored = std::fs::read(blob).unwrap();
    let (header, header_bytes, offset) = kb1::parse_header(&stored).unwrap();
    let kb = kb1::unseal_kb(&header, &keys.keys.encryption).unwrap();
    let kt = kb1::unseal_kt(&header, &secret).unwrap();
    let reader = kb1::OpenReader::new(&header, &header_bytes, &kb, &kt, &stored[offset..]).unwrap();
    let (manifest, _) = package::read_package(reader, |_, _| Ok(())).unwrap();
    assert_eq!(manifest.opening_sheet.notes, marker);
}

/// Starts `PUT /api/bids/{bid}/content` by hand: headers announcing `declared` bytes, then
/// only `sent` of them. Returns the connection, to keep open or drop.
pub(crate) async fn stalled_put(
    app: &TestApp,
    token: &str,
    bid: &str,
    declared: usize,
    sent: &[u8],
) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "PUT /api/bids/{bid}/content?offset=0 HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {declared}\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(sent).await.unwrap();
    tcp
}

/// The status of the response on `tcp`, if one comes within `secs`.
pub(crate) async fn status_within(tcp: &mut tokio::net::TcpStream, secs: u64) -> Option<u16> {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(secs), tcp.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&buf[..n]);
    text.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn uploads_are_checked_before_their_body_is_read_and_capped_per_user() {
    let (app, _clock) = spawn_app_at(T0).await;
    let tender = app.school_tender_id().await;
    let s = app.login("supplier1").await;
    s.register_keys().await;
    let (_, start) = start_bid(&s, &tender).await;
    let bid = start["bid_id"].as_str().unwrap().to_string();

    // Someone else's bid: refused at once, with 16 MiB announced and 1 KiB sent (a
    // server that read the body first would still be waiting for the rest).
    let other = crate::hub::token(&app, "supplier2").await;
    let mut tcp = stalled_put(&app, &other, &bid, 16 << 20, &[0u8; 1024]).await;
    assert_eq!(status_within(&mut tcp, 5).await, Some(404));

    // The owner: at most four requests in flight; the fifth is told to wait.
    let owner = crate::hub::token(&app, "supplier1").await;
    let mut held = Vec::new();
    for _ in 0..kaibiao::bid::service::MAX_UPLOADS_PER_USER {
        held.push(stalled_put(&app, &owner, &bid, 1 << 20, &[0u8; 1024]).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut fifth = stalled_put(&app, &owner, &bid, 1 << 20, &[0u8; 1024]).await;
    assert_eq!(status_within(&mut fifth, 5).await, Some(429));
    // Dropped connections give their places back, and nothing half-sent was counted.
    drop(held);
    let container = seal(&start, "x", b"doc", 1024);
    let mut ok = false;
    for _ in 0..50 {
        let (status, v) = put_chunk(&s, &bid, 0, &container[..100]).await;
        if status == StatusCode::OK {
            assert_eq!(v["received"], 100);
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "the upload resumes once the stalled requests are gone");
}

#[tokio::test]
async fn a_bidder_cannot_grow_the_database_or_the_disk_without_bound() {
    let (app, _clock) = spawn_app_at(T0).await;
    let tender = app.school_tender_id().await;
    let s = app.login("supplier1").await;
    s.register_keys().await;
    s.post(
        &format!("/api/tenders/{tender}/documents/obtain"),
        json!({}),
    )
    .await;
    let uploads = app.dir.path().join("uploads");

    // Metadata beyond 16 KiB, or a fingerprint cut mid-character: refused or bounded.
    let (status, v) = s
        .post(
            &format!("/api/tenders/{tender}/bids"),
            json!({"lot_no": 1, "device_fingerprint": "设".repeat(400),
                   "documents_meta": [{"creator": "张".repeat(20_000)}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["fields"]["documents_meta"].is_array(), "{v}");
    let (status, v) = s
        .post(
            &format!("/api/tenders/{tender}/bids"),
            json!({"lot_no": 1, "device_fingerprint": "设".repeat(400)}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a long fingerprint is cut, not a 500: {v}"
    );

    // A completed bid keeps no partial file: the blob holds it.
    let bid = v["bid_id"].as_str().unwrap().to_string();
    let container = seal(&v, "x", b"doc", 1024);
    let (status, _) = upload_all(&s, &bid, &container, 4096).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!uploads.join(format!("{bid}.part")).exists());

    // Start, withdraw, again and again: 20 an hour, then told to wait.
    let mut refused = None;
    for i in 0..30 {
        let (status, v) = start_bid(&s, &tender).await;
        if status != StatusCode::CREATED {
            refused = Some((i, status, v));
            break;
        }
        let id = v["bid_id"].as_str().unwrap();
        let (status, _) = s.post(&format!("/api/bids/{id}/withdraw"), json!({})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (i, status, v) = refused.expect("refused before 30");
    assert_eq!(
        (status, code(&v)),
        (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED")
    );
    assert_eq!(
        i as i64 + 1,
        kaibiao::bid::service::MAX_BID_STARTS_PER_HOUR,
        "the start above counts too; the refused one does not"
    );
}

#[tokio::test]
async fn a_restart_sweeps_partial_files_no_upload_needs() {
    let (app, clock) = spawn_app_at(T0).await;
    let tender = app.school_tender_id().await;
    let s = app.login("supplier1").await;
    s.register_keys().await;
    let (_, start) = start_bid(&s, &tender).await;
    let live = start["bid_id"].as_str().unwrap().to_string();
    let container = seal(&start, "x", b"doc", 1024);
    let (status, _) = put_chunk(&s, &live, 0, &container[..100]).await;
    assert_eq!(status, StatusCode::OK);
    let uploads = app.dir.path().join("uploads");
    // What a crash mid-completion, or before the file was removed, leaves behind.
    std::fs::write(uploads.join("not-a-bid.part"), vec![0u8; 1 << 20]).unwrap();
    let db = app.database_url.clone();
    let (dir, _) = app.stop();
    let app = crate::common::spawn_app_on(dir, db, clock).await;
    assert!(
        !uploads.join("not-a-bid.part").exists(),
        "the orphan is gone"
    );
    assert!(
        uploads.join(format!("{live}.part")).exists(),
        "an upload under way keeps its file"
    );
    let s = app.login("supplier1").await;
    let (status, v) = put_chunk(&s, &live, 100, &container[100..200]).await;
    assert_eq!(status, StatusCode::OK, "and resumes: {v}");
}
