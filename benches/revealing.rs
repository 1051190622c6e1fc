//! Revealing at the opening: N sealed bids on disk decrypted by the revealing pipeline
//! (`opening::reveal::open_file` on tokio's blocking pool, as many at once as there are
//! cores, each streamed from disk through KB1 and the package reader), as a ratio against
//! raw AES-256-GCM decryption of the same number of bytes on the same cores in the same
//! run (ring, the fastest backend here; RustCrypto `aes-gcm` shown for reference).
//!
//! Run: `cargo bench --bench revealing` (KAIBIAO_BENCH_BIDS, default 100, of
//! KAIBIAO_BENCH_BID_MIB, default 50 MiB; needs bids × size of free disk in the temp dir).

use std::time::Instant;

use futures_util::StreamExt;
use kaibiao::bid::package::{self, DocumentEntry, Manifest, OpeningSheet};
use kaibiao::crypto::kb1::{self, SealParams};
use kaibiao::pki::keyfile::DeviceKeys;

const MIB: usize = 1 << 20;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn mb_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

/// Raw AES-256-GCM decryption (ring) of `total` bytes in 1 MiB segments on `threads`.
fn raw_ring(total: u64, threads: usize) -> f64 {
    use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
    let per = total / threads as u64 / MIB as u64;
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());
                let mut buf = vec![t as u8; MIB];
                // Seal once to get a valid tag, then time decryption of the segment.
                let mut sealed = buf.clone();
                let nonce = |i: u64| {
                    let mut n = [0u8; 12];
                    n[..8].copy_from_slice(&i.to_be_bytes());
                    Nonce::assume_unique_for_key(n)
                };
                let tag = key
                    .seal_in_place_separate_tag(nonce(0), Aad::from(b"aad"), &mut sealed)
                    .unwrap();
                for _ in 0..per {
                    buf.copy_from_slice(&sealed);
                    key.open_in_place_separate_tag(nonce(0), Aad::from(b"aad"), tag, &mut buf, 0..)
                        .unwrap();
                    std::hint::black_box(&buf);
                }
            });
        }
    });
    mb_s(
        per * threads as u64 * MIB as u64,
        start.elapsed().as_secs_f64(),
    )
}

/// The same with RustCrypto's `aes-gcm`, for reference.
fn raw_aes_gcm(total: u64, threads: usize) -> f64 {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    let per = total / threads as u64 / MIB as u64;
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(move || {
                let aead = aes_gcm::Aes256Gcm::new(&[7u8; 32].into());
                let mut buf = vec![1u8; MIB];
                for i in 0..per {
                    let mut nonce = [0u8; 12];
                    nonce[..8].copy_from_slice(&i.to_be_bytes());
                    let tag = aead
                        .encrypt_inout_detached(&nonce.into(), b"aad", buf.as_mut_slice().into())
                        .unwrap();
                    std::hint::black_box(&tag);
                }
            });
        }
    });
    mb_s(
        per * threads as u64 * MIB as u64,
        start.elapsed().as_secs_f64(),
    )
}

/// Seals a bid of one `size`-byte document to `path`; returns kb.
fn seal_to(
    path: &std::path::Path,
    i: usize,
    size: usize,
    bidder: &[u8],
    tender: &[u8],
    keys: &DeviceKeys,
) -> [u8; 32] {
    let manifest = Manifest {
        opening_sheet: OpeningSheet {
            total_price_fen: 100_000_000 + i as i64,
            total_price_words: package::amount_in_words(100_000_000 + i as i64),
            delivery_days: 30,
            warranty_months: 36,
            enterprise_size: "small".into(),
            special_status: None,
            notes: String::new(),
            brand: None,
            products: Vec::new(),
            consortium_small_micro_share_bp: None,
        },
        documents: vec![DocumentEntry {
            name: "doc.bin".into(),
            size: size as u64,
            media_type: "application/octet-stream".into(),
        }],
    };
    let bid_id = format!("bench-bid-{i}");
    let params = SealParams {
        tender_id: "bench-tender",
        lot_no: 1,
        bidder_org_id: "bench-org",
        bid_id: &bid_id,
        bidder_public_sec1: bidder,
        tender_public_sec1: tender,
        segment_size: MIB as u32,
    };
    let file = std::io::BufWriter::with_capacity(4 * MIB, std::fs::File::create(path).unwrap());
    let mut w = kb1::SealWriter::new(&params, file).unwrap();
    let header = w.header().clone();
    let doc = std::io::Read::take(std::io::repeat(i as u8), size as u64);
    package::write_package(&manifest, vec![Box::new(doc)], &mut w).unwrap();
    // Durable before measuring, so no writeback competes with the revealing.
    w.finish()
        .unwrap()
        .into_inner()
        .unwrap()
        .sync_all()
        .unwrap();
    kb1::unseal_kb(&header, &keys.encryption).unwrap()
}

/// The same file reading and KB1 decryption, without the package reader and its SHA-256
/// of every document: what the plaintext-hash check costs.
fn decrypt_only(path: &std::path::Path, kb: &[u8; 32], secret: &p256::SecretKey) -> u64 {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).unwrap();
    let mut prefix = Vec::new();
    (&mut file)
        .take(kb1::MAX_PREFIX_LEN as u64)
        .read_to_end(&mut prefix)
        .unwrap();
    let (header, header_bytes, offset) = kb1::parse_header(&prefix).unwrap();
    let kt = kb1::unseal_kt(&header, secret).unwrap();
    file.seek(SeekFrom::Start(offset as u64)).unwrap();
    let reader = std::io::BufReader::with_capacity(header.segment_size as usize + 16, file);
    kb1::open_stream(&header, &header_bytes, kb, &kt, reader, std::io::sink()).unwrap()
}

/// Runs `f` over every job, `threads` at a time on the blocking pool; returns seconds.
fn timed<F>(
    rt: &tokio::runtime::Runtime,
    jobs: &[(std::path::PathBuf, [u8; 32])],
    threads: usize,
    f: F,
) -> f64
where
    F: Fn(&std::path::Path, &[u8; 32]) + Send + Sync + Clone + 'static,
{
    let start = Instant::now();
    rt.block_on(async {
        futures_util::stream::iter(jobs.to_vec())
            .map(|(path, kb)| {
                let f = f.clone();
                tokio::task::spawn_blocking(move || f(&path, &kb))
            })
            .buffered(threads)
            .for_each(|r| async move { r.unwrap() })
            .await
    });
    start.elapsed().as_secs_f64()
}

fn main() {
    let bids = env_num("KAIBIAO_BENCH_BIDS", 100);
    let size = env_num("KAIBIAO_BENCH_BID_MIB", 50) * MIB;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let dir = tempfile::tempdir().unwrap();
    let keys = DeviceKeys::generate();
    let bidder = keys.encryption_public();
    let tender_keys = DeviceKeys::generate();
    let secret = tender_keys.encryption.clone();
    let tender = tender_keys.encryption_public();

    println!(
        "revealing: {bids} bids of {} MiB, {threads} cores",
        size / MIB
    );
    let t = Instant::now();
    let mut jobs = Vec::new();
    for i in 0..bids {
        let path = dir.path().join(format!("bid-{i}.kb1"));
        let kb = seal_to(&path, i, size, &bidder, &tender, &keys);
        jobs.push((path, kb));
    }
    let total: u64 = jobs
        .iter()
        .map(|(p, _)| std::fs::metadata(p).unwrap().len())
        .sum();
    println!(
        "  sealed {:.0} MB in {:.1} s (setup, not measured)",
        total as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let ring = raw_ring(total, threads);
    let rust = raw_aes_gcm(total.min(2 << 30), threads);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = secret.clone();
    let secs = timed(&rt, &jobs, threads, move |path, kb| {
        kaibiao::opening::reveal::open_file(path, kb, &key, None).expect("every bid opens");
    });
    let reveal = mb_s(total, secs);
    let key = secret.clone();
    let decrypt_secs = timed(&rt, &jobs, threads, move |path, kb| {
        decrypt_only(path, kb, &key);
    });
    let decrypt = mb_s(total, decrypt_secs);
    let sha = {
        use sha2::Digest;
        let buf = vec![5u8; MIB];
        let t = Instant::now();
        let mut h = sha2::Sha256::new();
        for _ in 0..512 {
            h.update(&buf);
        }
        std::hint::black_box(h.finalize());
        mb_s(512 * MIB as u64, t.elapsed().as_secs_f64())
    };
    println!("  baseline  raw AES-256-GCM (ring), {threads} threads:      {ring:>8.0} MB/s");
    println!("  reference raw AES-256-GCM (aes-gcm), {threads} threads:   {rust:>8.0} MB/s");
    let ring_sha = {
        let buf = vec![5u8; MIB];
        let t = Instant::now();
        let mut h = ring::digest::Context::new(&ring::digest::SHA256);
        for _ in 0..512 {
            h.update(&buf);
        }
        std::hint::black_box(h.finish());
        mb_s(512 * MIB as u64, t.elapsed().as_secs_f64())
    };
    println!("  reference raw SHA-256 (sha2), one thread:        {sha:>8.0} MB/s");
    println!("  reference raw SHA-256 (ring), one thread:        {ring_sha:>8.0} MB/s");
    println!(
        "  revealing {bids} bids ({:.0} MB) in {secs:.2} s:            {reveal:>8.0} MB/s = {:.2}× ring",
        total as f64 / 1e6,
        reveal / ring
    );
    println!(
        "    of which KB1 decryption alone, in {decrypt_secs:.2} s:     {decrypt:>8.0} MB/s = {:.2}× ring",
        decrypt / ring
    );
}
