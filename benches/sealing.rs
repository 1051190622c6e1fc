//! Sealing throughput and server ingest, each as a ratio against raw AES-256-GCM (ring, the
//! backend of KB1 segments) and
//! SHA-256 measured in the same run on the same machine.
//!
//! Run: `cargo bench --bench sealing` (sizes: KAIBIAO_BENCH_MIB, default 256 MiB for
//! sealing; 20 uploads of KAIBIAO_BENCH_UPLOAD_MIB, default 50 MiB, for ingest).

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::Aes256Gcm;
use kaibiao::bid::package::{self, DocumentEntry, Manifest, OpeningSheet};
use kaibiao::crypto::kb1::{self, SealParams};
use kaibiao::pki::keyfile::DeviceKeys;
use kaibiao::pki::types::KeyPurpose;
use serde_json::{json, Value};
use sha2::Digest;

const MIB: usize = 1 << 20;

fn env_mib(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mb_s(bytes: usize, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

fn raw_aes_gcm(total: usize) -> f64 {
    let aead = Aes256Gcm::new(&[7u8; 32].into());
    let mut buf = vec![1u8; MIB];
    let start = Instant::now();
    for i in 0..total / MIB {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let tag = aead
            .encrypt_inout_detached(&nonce.into(), b"aad", buf.as_mut_slice().into())
            .unwrap();
        std::hint::black_box(&tag);
    }
    mb_s(total, start.elapsed().as_secs_f64())
}

/// The backend KB1 segments use (ring), one core.
fn raw_ring(total: usize) -> f64 {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());
    let mut buf = vec![1u8; MIB];
    let start = Instant::now();
    for i in 0..total / MIB {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(b"aad"),
                &mut buf,
            )
            .unwrap();
        std::hint::black_box(&tag);
    }
    mb_s(total, start.elapsed().as_secs_f64())
}

fn raw_sha256(total: usize) -> f64 {
    let buf = vec![3u8; MIB];
    let start = Instant::now();
    let mut h = sha2::Sha256::new();
    for _ in 0..total / MIB {
        h.update(&buf);
    }
    std::hint::black_box(h.finalize());
    mb_s(total, start.elapsed().as_secs_f64())
}

fn sheet() -> OpeningSheet {
    OpeningSheet {
        total_price_fen: 123_456_789,
        total_price_words: package::amount_in_words(123_456_789),
        delivery_days: 30,
        warranty_months: 36,
        enterprise_size: "small".into(),
        special_status: None,
        notes: String::new(),
        brand: None,
        products: Vec::new(),
        consortium_small_micro_share_bp: None,
    }
}

/// A package of one document of `size` bytes.
fn package_bytes(size: usize) -> Vec<u8> {
    let doc: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let manifest = Manifest {
        opening_sheet: sheet(),
        documents: vec![DocumentEntry {
            name: "doc.bin".into(),
            size: size as u64,
            media_type: "application/octet-stream".into(),
        }],
    };
    let mut out = Vec::with_capacity(size + 4096);
    package::write_package(&manifest, vec![Box::new(&doc[..])], &mut out).unwrap();
    out
}

fn seal(start: &Value, pkg: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let d = |k: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(start[k].as_str().unwrap())
            .unwrap()
    };
    let (bidder, tender) = (d("bidder_key"), d("tender_key"));
    let params = SealParams {
        tender_id: start["tender_id"].as_str().unwrap(),
        lot_no: start["lot_no"].as_u64().unwrap() as u32,
        bidder_org_id: start["bidder_org_id"].as_str().unwrap(),
        bid_id: start["bid_id"].as_str().unwrap(),
        bidder_public_sec1: &bidder,
        tender_public_sec1: &tender,
        segment_size: 1 << 20,
    };
    let mut out = Vec::with_capacity(pkg.len() + pkg.len() / 1000 + 4096);
    kb1::seal_stream(&params, pkg, &mut out).unwrap();
    out
}

struct Counting(usize);
impl Write for Counting {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len();
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn bench_sealing(aes: f64) {
    let total = env_mib("KAIBIAO_BENCH_MIB", 256) * MIB;
    let pkg = package_bytes(total);
    let bidder = DeviceKeys::generate();
    let tender = DeviceKeys::generate();
    let start_info = json!({
        "tender_id": "bench-tender", "lot_no": 1, "bidder_org_id": "bench-org", "bid_id": "bench-bid",
        "bidder_key": kaibiao_b64(&bidder.encryption_public()),
        "tender_key": kaibiao_b64(&tender.encryption_public()),
    });
    let t = Instant::now();
    let container = seal(&start_info, &pkg);
    let seal_rate = mb_s(pkg.len(), t.elapsed().as_secs_f64());

    let (h, hb, off) = kb1::parse_header(&container).unwrap();
    let kb = kb1::unseal_kb(&h, &bidder.encryption).unwrap();
    let kt = kb1::unseal_kt(&h, &tender.encryption).unwrap();
    let t = Instant::now();
    let mut sink = Counting(0);
    let mut reader = kb1::OpenReader::new(&h, &hb, &kb, &kt, &container[off..]).unwrap();
    let mut buf = vec![0u8; MIB];
    loop {
        let n = reader.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        sink.write_all(&buf[..n]).unwrap();
    }
    let open_rate = mb_s(sink.0, t.elapsed().as_secs_f64());
    println!(
        "seal  {:>5} MiB: {seal_rate:>7.0} MB/s = {:.2} x raw AES-256-GCM (ring)",
        total / MIB,
        seal_rate / aes
    );
    println!(
        "open  {:>5} MiB: {open_rate:>7.0} MB/s = {:.2} x raw AES-256-GCM (ring)",
        total / MIB,
        open_rate / aes
    );
}

fn kaibiao_b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The disk's own speed for what the server must do with each upload: write it in 8 MiB
/// pieces, each made durable (fdatasync) before it is acknowledged.
fn raw_durable_writes(dir: &std::path::Path, total: usize) -> f64 {
    let buf = vec![5u8; 8 * MIB];
    let path = dir.join("baseline.bin");
    let start = Instant::now();
    let mut f = std::fs::File::create(&path).unwrap();
    for _ in 0..total / buf.len() {
        f.write_all(&buf).unwrap();
        f.sync_data().unwrap();
    }
    let rate = mb_s(total, start.elapsed().as_secs_f64());
    std::fs::remove_file(path).unwrap();
    rate
}

async fn bench_ingest(sha: f64) {
    let per = env_mib("KAIBIAO_BENCH_UPLOAD_MIB", 50) * MIB;
    // In the target folder, so on the same disk as a data dir would be (not a tmpfs).
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let disk = raw_durable_writes(dir.path(), 20 * per);
    println!("baseline  durable 8 MiB writes to this disk:  {disk:>7.0} MB/s");
    let mut config = kaibiao::config::Config::new(dir.path());
    config.demo = true;
    config.demo_password = Some("bench-password-1".into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = kaibiao::startup::build(config, listener, async {
        let _ = rx.await;
    })
    .await
    .unwrap();
    let base = format!("http://{}", app.addr);
    tokio::spawn(app.run());
    kaibiao::tls::install_crypto_provider();
    let http = reqwest::Client::new();
    let tenders: Value = http
        .get(format!("{base}/api/announcements"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Two of the demo city's tenders still taking bids.
    let now = kaibiao::clock::Clock::now_ms(&kaibiao::clock::SystemClock);
    let tenders: Vec<String> = tenders
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "published" && t["bid_deadline"].as_i64() > Some(now))
        .take(2)
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        tenders.len(),
        2,
        "the demo city has two tenders taking bids"
    );
    // 10 suppliers x 2 tenders = 20 bidders, each with keys made "on its device".
    let pkg = package_bytes(per);
    let mut uploads = Vec::new();
    let mut clients = Vec::new();
    for i in 1..=10 {
        let c = kaibiao::cli::client::Client::login(
            &base,
            &format!("supplier{i}"),
            "bench-password-1",
            "bench",
        )
        .await
        .unwrap();
        let me: Value = c.call(reqwest::Method::GET, "/api/me", None).await.unwrap();
        let keys = DeviceKeys::generate();
        for purpose in [KeyPurpose::Signing, KeyPurpose::Encryption] {
            let (public_key, proof) =
                keys.registration(me["user"]["id"].as_str().unwrap(), purpose);
            let _: Value = c
                .call(
                    reqwest::Method::POST,
                    "/api/keys",
                    Some(json!({"purpose": purpose, "public_key": public_key, "proof": proof})),
                )
                .await
                .unwrap();
        }
        for t in &tenders {
            let _: Value = c
                .call(
                    reqwest::Method::POST,
                    &format!("/api/tenders/{t}/documents/obtain"),
                    Some(json!({})),
                )
                .await
                .unwrap();
            // The bid deposit the tender asks (R-DEP-1), if any, recorded first.
            let tender: Value = c
                .call(
                    reqwest::Method::GET,
                    &format!("/api/announcements/{t}"),
                    None,
                )
                .await
                .unwrap();
            if let Some(amount) = tender["deposit_fen"].as_i64() {
                let _: Value = c
                    .call(
                        reqwest::Method::POST,
                        &format!("/api/tenders/{t}/deposit"),
                        Some(json!({"kind": "payment", "amount_fen": amount,
                            "payer_name": format!("供应商{i}"), "bank": "中国工商银行黄石分行",
                            "account_no": format!("6222 0210 0900 {i:04}"),
                            "transfer_ref": format!("TRX-BENCH-{i}")})),
                    )
                    .await
                    .unwrap();
            }
            let start: Value = c
                .call(
                    reqwest::Method::POST,
                    &format!("/api/tenders/{t}/bids"),
                    Some(json!({"lot_no": 1})),
                )
                .await
                .unwrap();
            let container = seal(&start, &pkg);
            uploads.push((
                clients.len(),
                start["bid_id"].as_str().unwrap().to_string(),
                bytes::Bytes::from(container),
            ));
        }
        clients.push(Arc::new(c));
    }
    let total: usize = uploads.iter().map(|(_, _, c)| c.len()).sum();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for (i, bid, container) in uploads {
        let c = clients[i].clone();
        tasks.push(tokio::spawn(async move {
            let mut off = 0;
            while off < container.len() {
                let end = (off + 8 * MIB).min(container.len());
                let _: Value = c
                    .put_bytes(
                        &format!("/api/bids/{bid}/content?offset={off}"),
                        container.slice(off..end),
                    )
                    .await
                    .unwrap();
                off = end;
            }
            let sha = hex::encode(sha2::Sha256::digest(&container));
            let done: Value = c
                .call(
                    reqwest::Method::POST,
                    &format!("/api/bids/{bid}/complete"),
                    Some(json!({"size": container.len(), "sha256": sha})),
                )
                .await
                .unwrap();
            assert_eq!(done["status"], "submitted");
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    let rate = mb_s(total, secs);
    println!(
        "ingest 20 x {} MiB concurrent: {secs:.2} s, {rate:>7.0} MB/s = {:.2} x raw SHA-256 (one core) = {:.2} x durable disk writes",
        per / MIB,
        rate / sha,
        rate / disk
    );
    let _ = tx.send(());
}

fn main() {
    let aes = raw_ring(1024 * MIB);
    let rust_aes = raw_aes_gcm(512 * MIB);
    let sha = raw_sha256(512 * MIB);
    println!("baseline  AES-256-GCM (ring, one core):    {aes:>7.0} MB/s");
    println!("reference AES-256-GCM (aes-gcm, one core): {rust_aes:>7.0} MB/s");
    println!("baseline  SHA-256 (sha2, one core):        {sha:>7.0} MB/s");
    bench_sealing(aes);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(bench_ingest(sha));
}
