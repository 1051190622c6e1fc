//! Property tests: random bytes and randomly mutated containers never panic the parsers or
//! the opener, and every failure carries a code from the opening table.

use std::sync::OnceLock;

use proptest::prelude::*;

use crate::bid::package;
use crate::crypto::kb1;

use super::assert_opening_code;
use super::kb1_roundtrip::{open, parties, seal, Parties};

struct Fixture {
    parties: Parties,
    container: Vec<u8>,
    plaintext: Vec<u8>,
}

/// One small valid container with a real package inside, sealed once.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let parties = parties();
        let manifest = package::Manifest {
            opening_sheet: package::OpeningSheet {
                total_price_fen: 100,
                total_price_words: package::amount_in_words(100),
                delivery_days: 1,
                warranty_months: 1,
                enterprise_size: "micro".into(),
                special_status: Some("prison".into()),
                notes: "n".into(),
                brand: None,
                products: Vec::new(),
                consortium_small_micro_share_bp: None,
            },
            documents: vec![package::DocumentEntry {
                name: "a".into(),
                size: 70,
                media_type: "x/y".into(),
            }],
        };
        let doc = [7u8; 70];
        let mut plaintext = Vec::new();
        package::write_package(&manifest, vec![Box::new(&doc[..])], &mut plaintext).unwrap();
        let container = seal(&parties, 64, &plaintext);
        Fixture {
            parties,
            container,
            plaintext,
        }
    })
}

/// The whole opening: container checks, keys, segments, package.
fn open_all(p: &Parties, c: &[u8]) -> Result<(), crate::crypto::CryptoError> {
    let pt = open(p, c)?;
    package::read_package(&pt[..], |_, _| Ok(())).map(|_| ())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Set { at: usize, byte: u8 },
    Truncate { len: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Remove { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..40)
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1usize..100).prop_map(|(at, len)| Mutation::Remove { at, len }),
    ]
}

fn apply(c: &mut Vec<u8>, m: &Mutation) {
    let n = c.len();
    match m {
        Mutation::Flip { at, bit } => c[at % n] ^= 1 << bit,
        Mutation::Set { at, byte } => c[at % n] = *byte,
        Mutation::Truncate { len } => c.truncate(len % n),
        Mutation::Insert { at, bytes } => {
            let at = at % (n + 1);
            c.splice(at..at, bytes.iter().copied());
        }
        Mutation::Remove { at, len } => {
            let at = at % n;
            c.drain(at..(at + len).min(n));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_parse(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        match kb1::parse_header(&bytes) {
            Ok(_) => prop_assert!(false, "random bytes parsed as a header"),
            Err(e) => assert_opening_code(&e),
        }
        let mut with_magic = kb1::MAGIC.to_vec();
        with_magic.extend_from_slice(&bytes);
        if let Err(e) = kb1::parse_header(&with_magic) {
            assert_opening_code(&e);
        }
    }

    #[test]
    fn random_segments_fail_cleanly(segments in proptest::collection::vec(any::<u8>(), 0..400), kb in any::<[u8; 32]>()) {
        let f = fixture();
        let (h, hb, _) = kb1::parse_header(&f.container).unwrap();
        if let Err(e) = kb1::check_length(&h, segments.len() as u64) {
            assert_opening_code(&e);
        }
        let e = kb1::open_stream(&h, &hb, &kb, &kb, &segments[..], std::io::sink()).unwrap_err();
        assert_opening_code(&e);
    }

    #[test]
    fn mutated_containers_fail_cleanly(mutations in proptest::collection::vec(mutation(), 1..4)) {
        let f = fixture();
        let mut c = f.container.clone();
        for m in &mutations {
            if c.is_empty() {
                break;
            }
            apply(&mut c, m);
        }
        match open_all(&f.parties, &c) {
            // Only a mutation that changed nothing (or cancelled out) may open.
            Ok(()) => prop_assert_eq!(&c, &f.container),
            Err(e) => assert_opening_code(&e),
        }
    }

    #[test]
    fn mutated_headers_fail_cleanly(at in any::<usize>(), byte in any::<u8>()) {
        // Edit one byte of the header JSON, keeping the declared length right.
        let f = fixture();
        let n = u32::from_be_bytes(f.container[8..12].try_into().unwrap()) as usize;
        let mut c = f.container.clone();
        c[12 + at % n] = byte;
        match kb1::parse_header(&c) {
            Ok((h, _, off)) => {
                if let Err(e) = kb1::check_length(&h, (c.len() - off) as u64) {
                    assert_opening_code(&e);
                }
                match open_all(&f.parties, &c) {
                    Ok(()) => prop_assert_eq!(&c, &f.container),
                    Err(e) => assert_opening_code(&e),
                }
            }
            Err(e) => assert_opening_code(&e),
        }
    }

    #[test]
    fn seal_open_roundtrip(len in 0usize..700, size_log in 6u32..9) {
        let f = fixture();
        let pt: Vec<u8> = (0..len).map(|i| (i % 256) as u8).collect();
        let c = seal(&f.parties, 1 << size_log, &pt);
        prop_assert_eq!(open(&f.parties, &c).unwrap(), pt);
    }

    #[test]
    fn random_packages_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..300), at in any::<usize>(), byte in any::<u8>()) {
        if let Err(e) = package::read_package(&bytes[..], |_, _| Ok(())) {
            assert_opening_code(&e);
        }
        let f = fixture();
        let mut pt = f.plaintext.clone();
        let i = at % pt.len();
        pt[i] = byte;
        if let Err(e) = package::read_package(&pt[..], |_, _| Ok(())) {
            assert_opening_code(&e);
        }
    }
}
