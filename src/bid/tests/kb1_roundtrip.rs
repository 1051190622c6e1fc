//! KB1 round trips, boundaries and the checks a server makes without keys.

use crate::crypto::kb1::{self, Expect, Header, OpenReader, SealParams, Sealer};
use crate::crypto::{keys, CryptoError};

use super::{det_key, public_of};

pub(crate) struct Parties {
    pub bidder: p256::SecretKey,
    pub tender: p256::SecretKey,
    pub bidder_pub: Vec<u8>,
    pub tender_pub: Vec<u8>,
}

pub(crate) fn parties() -> Parties {
    let bidder = det_key("bidder");
    let tender = det_key("tender");
    Parties {
        bidder_pub: public_of(&bidder),
        tender_pub: public_of(&tender),
        bidder,
        tender,
    }
}

pub(crate) fn params(p: &Parties, segment_size: u32) -> SealParams<'_> {
    SealParams {
        tender_id: "01936f00-0000-7000-8000-000000000001",
        lot_no: 1,
        bidder_org_id: "01936f00-0000-7000-8000-0000000000b1",
        bid_id: "01936f00-0000-7000-8000-0000000000d1",
        bidder_public_sec1: &p.bidder_pub,
        tender_public_sec1: &p.tender_pub,
        segment_size,
    }
}

pub(crate) fn seal(p: &Parties, segment_size: u32, plaintext: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    kb1::seal_stream(&params(p, segment_size), plaintext, &mut out).unwrap();
    out
}

/// Opens with both streaming paths and checks they agree.
pub(crate) fn open(p: &Parties, container: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let (h, hb, off) = kb1::parse_header(&container[..container.len().min(kb1::MAX_PREFIX_LEN)])?;
    kb1::check_length(&h, (container.len() - off) as u64)?;
    let kb = kb1::unseal_kb(&h, &p.bidder)?;
    let kt = kb1::unseal_kt(&h, &p.tender)?;
    let mut a = Vec::new();
    let ra = kb1::open_stream(&h, &hb, &kb, &kt, &container[off..], &mut a);
    let mut reader = OpenReader::new(&h, &hb, &kb, &kt, &container[off..])?;
    let mut b = Vec::new();
    let rb = std::io::copy(&mut reader, &mut b).map_err(CryptoError::from);
    match (ra, rb) {
        (Ok(n), Ok(m)) => {
            assert_eq!((n, m), (a.len() as u64, b.len() as u64));
            assert_eq!(a, b);
            Ok(a)
        }
        (Err(e1), Err(e2)) => {
            assert_eq!(e1, e2);
            Err(e1)
        }
        (x, y) => panic!("open_stream {x:?} and OpenReader {y:?} disagree"),
    }
}

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn roundtrip_at_segment_boundaries() {
    let p = parties();
    for n in [0, 1, 63, 64, 65, 127, 128, 129, 1000] {
        let pt = data(n);
        let c = seal(&p, 64, &pt);
        let (h, _, off) = kb1::parse_header(&c).unwrap();
        let expected_segments = if n == 0 { 1 } else { n.div_ceil(64) as u64 };
        assert_eq!(
            kb1::check_length(&h, (c.len() - off) as u64),
            Ok(expected_segments),
            "n={n}"
        );
        assert_eq!(c.len() - off, n + 16 * expected_segments as usize);
        assert_eq!(open(&p, &c).unwrap(), pt, "n={n}");
    }
    let pt = data(3 * 1024 * 1024 + 5);
    assert_eq!(
        open(&p, &seal(&p, kb1::DEFAULT_SEGMENT_SIZE, &pt)).unwrap(),
        pt
    );
}

#[test]
fn sealer_segment_api_matches_stream() {
    let p = parties();
    let (mut s, prefix) = Sealer::new(&params(&p, 64)).unwrap();
    assert_eq!(s.segment_size(), 64);
    let pt = data(150);
    let mut c = prefix;
    c.extend(s.seal_segment(&pt[..64], false).unwrap());
    let mut buf = pt[64..128].to_vec();
    s.seal_segment_in_place(&mut buf, false).unwrap();
    c.extend(buf);
    c.extend(s.seal_segment(&pt[128..], true).unwrap());
    assert!(s.is_finished());
    assert_eq!(open(&p, &c).unwrap(), pt);
}

#[test]
fn sealer_rejects_misuse() {
    let p = parties();
    let code = |r: Result<Vec<u8>, CryptoError>| r.unwrap_err().code();
    let (mut s, _) = Sealer::new(&params(&p, 64)).unwrap();
    assert_eq!(code(s.seal_segment(&[0; 65], true)), "INVALID_ARGUMENT");
    assert_eq!(code(s.seal_segment(&[0; 10], false)), "INVALID_ARGUMENT");
    s.seal_segment(&[0; 64], false).unwrap();
    assert_eq!(code(s.seal_segment(&[], true)), "INVALID_ARGUMENT");
    s.seal_segment(&[0; 1], true).unwrap();
    assert_eq!(code(s.seal_segment(&[0; 1], true)), "INVALID_ARGUMENT");

    for size in [0, 32, 63, 96, 1 << 25] {
        assert_eq!(
            Sealer::new(&params(&p, size)).err().unwrap().code(),
            "INVALID_ARGUMENT",
            "{size}"
        );
    }
    let mut bad = params(&p, 64);
    bad.bid_id = "a\nb";
    assert_eq!(Sealer::new(&bad).err().unwrap().code(), "INVALID_ARGUMENT");
    let mut bad = params(&p, 64);
    bad.tender_id = "";
    assert_eq!(Sealer::new(&bad).err().unwrap().code(), "INVALID_ARGUMENT");
    let compressed = vec![2u8; 33];
    let mut bad = params(&p, 64);
    bad.tender_public_sec1 = &compressed;
    assert_eq!(
        Sealer::new(&bad).err().unwrap(),
        CryptoError::InvalidPublicKey
    );
}

#[test]
fn header_is_canonical_and_checked() {
    let p = parties();
    let c = seal(&p, 64, b"hello");
    let (h, hb, off) = kb1::parse_header(&c).unwrap();
    assert_eq!(off, 12 + hb.len());
    assert_eq!(h.to_bytes(), hb);
    // Keys sorted at every depth.
    let text = String::from_utf8(hb.clone()).unwrap();
    let order = [
        "\"bid_id\"",
        "\"bidder_key\"",
        "\"bidder_org_id\"",
        "\"kb_sealed\":{\"ct\"",
        "\"enc\"",
        "\"kb_sha256\"",
        "\"kt_sealed\":{\"ct\"",
        "\"lot_no\"",
        "\"nonce_prefix\"",
        "\"segment_size\"",
        "\"suite\"",
        "\"tender_id\"",
        "\"tender_key\"",
        "\"version\"",
    ];
    let mut at = 0;
    for key in order {
        at += text[at..]
            .find(key)
            .unwrap_or_else(|| panic!("{key} after {at} in {text}"));
    }
    assert_eq!(h.bidder_key, keys::key_id(&p.bidder_pub));
    assert_eq!(h.tender_key, keys::key_id(&p.tender_pub));

    let ok = Expect {
        tender_id: &h.tender_id,
        lot_no: 1,
        bidder_org_id: &h.bidder_org_id,
        bid_id: &h.bid_id,
        tender_key: &h.tender_key,
        bidder_key: &h.bidder_key,
    };
    assert_eq!(h.check(&ok), Ok(()));
    assert_eq!(
        h.check(&Expect { lot_no: 2, ..ok }),
        Err(CryptoError::HeaderMismatch { field: "lot_no" })
    );
    assert_eq!(
        h.check(&Expect { bid_id: "x", ..ok }),
        Err(CryptoError::HeaderMismatch { field: "bid_id" })
    );
    assert_eq!(
        h.check(&Expect {
            tender_key: &h.bidder_key,
            ..ok
        }),
        Err(CryptoError::HeaderMismatch {
            field: "tender_key"
        })
    );
}

/// Re-wraps an edited header (as JSON text) in front of the original segments.
fn with_header(c: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let n = u32::from_be_bytes(c[8..12].try_into().unwrap()) as usize;
    let mut v: serde_json::Value = serde_json::from_slice(&c[12..12 + n]).unwrap();
    edit(&mut v);
    let bytes = serde_json::to_vec(&v).unwrap();
    let mut out = kb1::MAGIC.to_vec();
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(&bytes);
    out.extend_from_slice(&c[12 + n..]);
    out
}

fn parse_code(c: &[u8]) -> &'static str {
    kb1::parse_header(c).unwrap_err().code()
}

#[test]
fn parse_header_errors() {
    let p = parties();
    let c = seal(&p, 64, b"hello");
    let n = u32::from_be_bytes(c[8..12].try_into().unwrap()) as usize;

    assert_eq!(parse_code(b""), "CONTAINER_TRUNCATED");
    assert_eq!(parse_code(b"KAIBI"), "CONTAINER_TRUNCATED");
    assert_eq!(parse_code(b"KAIBIX"), "CONTAINER_MAGIC");
    assert_eq!(parse_code(b"PK\x03\x04 zip file"), "CONTAINER_MAGIC");
    assert_eq!(parse_code(&c[..10]), "CONTAINER_TRUNCATED");
    assert_eq!(parse_code(&c[..12 + n - 1]), "CONTAINER_TRUNCATED");
    let mut zero = c.clone();
    zero[8..12].copy_from_slice(&0u32.to_be_bytes());
    assert_eq!(parse_code(&zero), "CONTAINER_HEADER");
    let mut huge = c.clone();
    huge[8..12].copy_from_slice(&65537u32.to_be_bytes());
    assert_eq!(parse_code(&huge), "CONTAINER_HEADER");

    // Not canonical: pretty-printed, or keys reordered.
    let pretty = {
        let v: serde_json::Value = serde_json::from_slice(&c[12..12 + n]).unwrap();
        let bytes = serde_json::to_vec_pretty(&v).unwrap();
        let mut out = kb1::MAGIC.to_vec();
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(&bytes);
        out
    };
    assert_eq!(parse_code(&pretty), "CONTAINER_HEADER");
    let (h, _, _) = kb1::parse_header(&c).unwrap();
    let (ct, enc) = (
        crate::crypto::b64url::encode(&h.kb_sealed.ct),
        crate::crypto::b64url::encode(&h.kb_sealed.enc),
    );
    let text = String::from_utf8(c[12..12 + n].to_vec()).unwrap();
    let swapped = text.replacen(
        &format!("{{\"ct\":\"{ct}\",\"enc\":\"{enc}\"}}"),
        &format!("{{\"enc\":\"{enc}\",\"ct\":\"{ct}\"}}"),
        1,
    );
    assert_ne!(swapped, text);
    let mut reordered = c[..12].to_vec();
    reordered.extend_from_slice(swapped.as_bytes());
    assert_eq!(parse_code(&reordered), "CONTAINER_HEADER");
    // Unicode escapes are not canonical either.
    let escaped = text.replacen("\"suite\":\"KB1\"", "\"suite\":\"\\u004bB1\"", 1);
    let mut esc = kb1::MAGIC.to_vec();
    esc.extend_from_slice(&(escaped.len() as u32).to_be_bytes());
    esc.extend_from_slice(escaped.as_bytes());
    assert_eq!(parse_code(&esc), "CONTAINER_HEADER");

    type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("CONTAINER_SUITE", Box::new(|v| v["suite"] = "KB2".into())),
        ("CONTAINER_SUITE", Box::new(|v| v["version"] = 2.into())),
        ("CONTAINER_HEADER", Box::new(|v| v["version"] = "1".into())),
        ("CONTAINER_HEADER", Box::new(|v| v["extra"] = 1.into())),
        (
            "CONTAINER_HEADER",
            Box::new(|v| drop(v.as_object_mut().unwrap().remove("lot_no"))),
        ),
        (
            "CONTAINER_HEADER",
            Box::new(|v| v["segment_size"] = 96.into()),
        ),
        (
            "CONTAINER_HEADER",
            Box::new(|v| v["segment_size"] = 32.into()),
        ),
        (
            "CONTAINER_HEADER",
            Box::new(|v| v["segment_size"] = (32u32 << 20).into()),
        ),
        (
            "CONTAINER_HEADER",
            Box::new(|v| v["nonce_prefix"] = "AAAAAAAA".into()),
        ),
        (
            "CONTAINER_HEADER",
            Box::new(|v| v["nonce_prefix"] = "AAAAAAAAAA==".into()),
        ),
        (
            "CONTAINER_HEADER",
            Box::new(|v| v["kb_sealed"]["ct"] = "AAAA".into()),
        ),
        (
            "CONTAINER_HEADER",
            Box::new(|v| v["kt_sealed"]["enc"] = "AAAA".into()),
        ),
        (
            "CONTAINER_HEADER",
            Box::new(|v| v["kt_sealed"]["enc"] = crate::crypto::b64url::encode(&[4u8; 65]).into()),
        ),
        (
            "CONTAINER_HEADER",
            Box::new(|v| v["tender_key"] = "ABCD".into()),
        ),
        (
            "CONTAINER_HEADER",
            Box::new(|v| v["kb_sha256"] = "A".repeat(64).into()),
        ),
        (
            "CONTAINER_HEADER",
            Box::new(|v| v["bid_id"] = "a\nb".into()),
        ),
        (
            "CONTAINER_HEADER",
            Box::new(|v| v["bidder_org_id"] = "".into()),
        ),
        ("CONTAINER_HEADER", Box::new(|v| v["lot_no"] = (-1).into())),
        (
            "CONTAINER_HEADER",
            Box::new(|v| *v = serde_json::json!([1, 2])),
        ),
    ];
    for (code, edit) in cases {
        let edited = with_header(&c, edit);
        assert_eq!(
            parse_code(&edited),
            code,
            "{}",
            String::from_utf8_lossy(&edited[12..edited.len().min(400)])
        );
    }
    // An edit that keeps the header valid parses, and then fails at the segments.
    let edited = with_header(&c, |v| v["lot_no"] = 2.into());
    let (h, _, _) = kb1::parse_header(&edited).unwrap();
    assert_eq!(h.lot_no, 2);
    assert_eq!(
        open(&p, &edited),
        Err(CryptoError::SegmentAuthFailed { segment: 0 })
    );
}

#[test]
fn check_length_rules() {
    let p = parties();
    let c = seal(&p, 64, b"x");
    let (h, _, _) = kb1::parse_header(&c).unwrap();
    let ok = |n: u64| kb1::check_length(&h, n);
    let truncated = Err(CryptoError::ContainerTruncated);
    assert_eq!(ok(0), truncated);
    assert_eq!(ok(15), truncated);
    assert_eq!(ok(16), Ok(1)); // empty package
    assert_eq!(ok(17), Ok(1));
    assert_eq!(ok(80), Ok(1));
    assert_eq!(ok(81), truncated); // ends inside the second segment's tag
    assert_eq!(ok(95), truncated);
    assert_eq!(ok(96), truncated); // an empty segment after a full one
    assert_eq!(ok(97), Ok(2));
    assert_eq!(ok(160), Ok(2));
    assert_eq!(ok(80 * (1 << 32)), Ok(1 << 32));
    assert_eq!(ok(80 * (1 << 32) + 17), truncated);
}

#[test]
fn opening_failures() {
    let p = parties();
    let pt = data(300);
    let c = seal(&p, 64, &pt);
    let (h, hb, off) = kb1::parse_header(&c).unwrap();
    let kb = kb1::unseal_kb(&h, &p.bidder).unwrap();
    let kt = kb1::unseal_kt(&h, &p.tender).unwrap();
    assert_eq!(kb1::check_kb(&h, &kb), Ok(()));
    assert_eq!(kb1::check_kb(&h, &kt), Err(CryptoError::KbHashMismatch));
    // Keys swapped: each half opens only with its own key.
    assert_eq!(
        kb1::unseal_kb(&h, &p.tender),
        Err(CryptoError::KbUnsealFailed)
    );
    assert_eq!(
        kb1::unseal_kt(&h, &p.bidder),
        Err(CryptoError::KtUnsealFailed)
    );

    let segs = &c[off..];
    let open_with =
        |kb: &[u8; 32], segs: &[u8]| kb1::open_stream(&h, &hb, kb, &kt, segs, std::io::sink());
    assert_eq!(open_with(&kb, segs), Ok(300));
    let mut wrong = kb;
    wrong[0] ^= 1;
    assert_eq!(
        open_with(&wrong, segs),
        Err(CryptoError::SegmentAuthFailed { segment: 0 })
    );
    // Extra segment appended (a copy of segment 1), trailing byte, empty, short tag.
    let mut dup = segs.to_vec();
    dup.extend_from_slice(&segs[80..160]);
    assert_eq!(
        open_with(&kb, &dup),
        Err(CryptoError::SegmentAuthFailed { segment: 4 })
    );
    let mut extra = segs.to_vec();
    extra.push(0);
    assert_eq!(
        open_with(&kb, &extra),
        Err(CryptoError::SegmentAuthFailed { segment: 4 })
    );
    assert_eq!(open_with(&kb, &[]), Err(CryptoError::ContainerTruncated));
    assert_eq!(
        open_with(&kb, &segs[..80 * 3 + 15]),
        Err(CryptoError::ContainerTruncated)
    );
    let mut empty_last = segs[..80 * 3].to_vec();
    empty_last.extend_from_slice(&[0; 16]);
    assert_eq!(
        open_with(&kb, &empty_last),
        Err(CryptoError::ContainerTruncated)
    );
    // Header bytes are bound through H.
    let mut hb2 = hb.clone();
    hb2[0] = b' ';
    assert_eq!(
        kb1::open_stream(&h, &hb2, &kb, &kt, segs, std::io::sink()),
        Err(CryptoError::SegmentAuthFailed { segment: 0 })
    );

    // The reader's errors are sticky and carried through io::Error.
    let mut flipped = segs.to_vec();
    flipped[100] ^= 1;
    let mut r = OpenReader::new(&h, &hb, &kb, &kt, &flipped[..]).unwrap();
    let mut out = Vec::new();
    let e = std::io::Read::read_to_end(&mut r, &mut out).unwrap_err();
    assert_eq!(
        CryptoError::from(e),
        CryptoError::SegmentAuthFailed { segment: 1 }
    );
    assert_eq!(r.segments_opened(), 1);
    let e = std::io::Read::read(&mut r, &mut [0u8; 8]).unwrap_err();
    assert_eq!(
        CryptoError::from(e),
        CryptoError::SegmentAuthFailed { segment: 1 }
    );
}

#[test]
fn header_serde_roundtrip() {
    let p = parties();
    let c = seal(&p, 64, b"x");
    let (h, hb, _) = kb1::parse_header(&c).unwrap();
    let back: Header = serde_json::from_slice(&hb).unwrap();
    assert_eq!(back, h);
    assert_eq!(h.nonce_prefix.len(), 7);
    assert_eq!(
        h.sealed_aad(),
        format!("{}\n{}", h.tender_id, h.bid_id).into_bytes()
    );
}

#[test]
fn seal_writer_matches_seal_stream() {
    use std::io::Write;

    let p = parties();
    let pt = data(64 * 5 + 7);
    // Same secrets and HPKE randomness: both sealers must produce the same bytes.
    let make = || {
        let secrets = kb1::SealSecrets {
            kb: [1; 32],
            kt: [2; 32],
            nonce_prefix: [3; 7],
        };
        Sealer::new_with(
            &params(&p, 64),
            &secrets,
            &mut crate::crypto::hpke::testing::FixedRng::new(&[9; 64]),
            |_| {},
        )
        .unwrap()
    };
    let (sealer, prefix) = make();
    let mut streamed = Vec::new();
    kb1::seal_stream_with(sealer, &prefix, &pt[..], &mut streamed).unwrap();
    for chunk in [1, 7, 64, 100, 1000] {
        let (sealer, prefix) = make();
        let mut w = kb1::SealWriter::from_parts(sealer, &prefix, Vec::new()).unwrap();
        for piece in pt.chunks(chunk) {
            w.write_all(piece).unwrap();
        }
        assert_eq!(w.finish().unwrap(), streamed, "chunks of {chunk}");
    }
    // Exact multiple of the segment size, and nothing at all.
    for n in [0, 128] {
        let pt = data(n);
        let mut w = kb1::SealWriter::new(&params(&p, 64), Vec::new()).unwrap();
        w.write_all(&pt).unwrap();
        let c = w.finish().unwrap();
        assert_eq!(open(&p, &c).unwrap(), pt);
    }
}

#[test]
fn package_through_seal_writer_and_open_reader() {
    use crate::bid::package;

    let p = parties();
    let manifest = package::Manifest {
        opening_sheet: package::OpeningSheet {
            total_price_fen: 1050,
            total_price_words: package::amount_in_words(1050),
            delivery_days: 10,
            warranty_months: 12,
            enterprise_size: "medium".into(),
            special_status: None,
            notes: String::new(),
            brand: None,
            products: Vec::new(),
            consortium_small_micro_share_bp: None,
        },
        documents: vec![package::DocumentEntry {
            name: "a.pdf".into(),
            size: 5000,
            media_type: "application/pdf".into(),
        }],
    };
    let doc = data(5000);
    let mut w = kb1::SealWriter::new(&params(&p, 1024), Vec::new()).unwrap();
    package::write_package(&manifest, vec![Box::new(&doc[..])], &mut w).unwrap();
    let c = w.finish().unwrap();

    let (h, hb, off) = kb1::parse_header(&c).unwrap();
    let kb = kb1::unseal_kb(&h, &p.bidder).unwrap();
    let kt = kb1::unseal_kt(&h, &p.tender).unwrap();
    let reader = OpenReader::new(&h, &hb, &kb, &kt, &c[off..]).unwrap();
    let mut got = Vec::new();
    let (m, hashes) = package::read_package(reader, |_, b| {
        got.extend_from_slice(b);
        Ok(())
    })
    .unwrap();
    assert_eq!(m, manifest);
    assert_eq!(got, doc);
    assert_eq!(hashes, vec![crate::crypto::sha256_hex(&doc)]);
}
