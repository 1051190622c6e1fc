//! Throughput of sealing and opening against raw AES-256-GCM on the same core, printed as
//! ratios (never pass/fail). Best of three runs each. Run optimised:
//! `cargo test --release --lib bid::tests::throughput -- --ignored --nocapture`.

use std::time::Instant;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::Aes256Gcm;

use crate::crypto::kb1;

use super::kb1_roundtrip::{params, parties};

fn best_of_3(bytes: usize, mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            bytes as f64 / t.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

#[test]
#[ignore = "benchmark; run with --release --ignored --nocapture"]
fn kb1_throughput() {
    const MIB: usize = 1024 * 1024;
    let total = 128 * MIB;
    let p = parties();
    let plaintext = vec![0x5au8; total];

    // Raw AES-256-GCM over 1 MiB chunks in place: the ceiling.
    let aead = Aes256Gcm::new(&[7u8; 32].into());
    let mut buf = vec![0u8; MIB];
    let raw = best_of_3(total, || {
        for i in 0..total / MIB {
            let mut nonce = [0u8; 12];
            nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
            std::hint::black_box(
                aead.encrypt_inout_detached(&nonce.into(), b"", (&mut buf[..]).into())
                    .unwrap(),
            );
        }
    });

    let mut container = Vec::with_capacity(total + total / MIB * 16 + 4096);
    let sealing = best_of_3(total, || {
        container.clear();
        kb1::seal_stream(
            &params(&p, kb1::DEFAULT_SEGMENT_SIZE),
            &plaintext[..],
            &mut container,
        )
        .unwrap();
    });

    let (h, hb, off) = kb1::parse_header(&container).unwrap();
    let kb = kb1::unseal_kb(&h, &p.bidder).unwrap();
    let kt = kb1::unseal_kt(&h, &p.tender).unwrap();
    let opening = best_of_3(total, || {
        let n = kb1::open_stream(&h, &hb, &kb, &kt, &container[off..], std::io::sink()).unwrap();
        assert_eq!(n as usize, total);
    });

    let gb = |x: f64| x / 1e9;
    println!(
        "raw AES-256-GCM {:.2} GB/s; seal_stream {:.2} GB/s ({:.2}x raw); open_stream {:.2} GB/s ({:.2}x raw)",
        gb(raw),
        gb(sealing),
        sealing / raw,
        gb(opening),
        opening / raw
    );
}
