//! RFC 9180 known-answer tests for the one suite KB1 uses, from the official vectors
//! (tests/vectors/hpke-rfc9180.json: mode 0, kem 16, kdf 1, aead 2).

use ::hpke as rfc9180;
use rfc9180::{Deserializable, Kem as _, OpModeR, Serializable};
use serde::Deserialize;

use crate::crypto::hpke::{self, testing::FixedRng, Sealed};

type Kem = rfc9180::kem::DhP256HkdfSha256;

#[derive(Deserialize)]
struct File {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Vector {
    mode: u8,
    kem_id: u16,
    kdf_id: u16,
    aead_id: u16,
    info: String,
    ikmR: String,
    ikmE: String,
    skRm: String,
    skEm: String,
    pkRm: String,
    pkEm: String,
    enc: String,
    encryptions: Vec<Encryption>,
}

#[derive(Deserialize)]
struct Encryption {
    aad: String,
    ct: String,
    pt: String,
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn rfc9180_base_p256_sha256_aes256gcm() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/hpke-rfc9180.json"
    ))
    .unwrap();
    let file: File = serde_json::from_str(&text).unwrap();
    assert!(!file.vectors.is_empty());
    for v in &file.vectors {
        assert_eq!((v.mode, v.kem_id, v.kdf_id, v.aead_id), (0, 16, 1, 2));
        let info = h(&v.info);

        // DeriveKeyPair from ikmR / ikmE.
        let (sk_r, pk_r) = Kem::derive_keypair(&h(&v.ikmR));
        assert_eq!(sk_r.to_bytes().to_vec(), h(&v.skRm));
        assert_eq!(pk_r.to_bytes().to_vec(), h(&v.pkRm));
        let (sk_e, pk_e) = Kem::derive_keypair(&h(&v.ikmE));
        assert_eq!(sk_e.to_bytes().to_vec(), h(&v.skEm));
        assert_eq!(pk_e.to_bytes().to_vec(), h(&v.pkEm));
        assert_eq!(h(&v.enc), h(&v.pkEm), "enc is the ephemeral public key");

        // Our seal with the vector's ephemeral randomness gives the vector's enc and ct.
        let first = &v.encryptions[0];
        let sealed = hpke::seal_with_rng(
            &h(&v.pkRm),
            &info,
            &h(&first.aad),
            &h(&first.pt),
            &mut FixedRng::new(&h(&v.ikmE)),
        )
        .unwrap();
        assert_eq!(sealed.enc, h(&v.enc));
        assert_eq!(sealed.ct, h(&first.ct));

        // Our single-shot open (sequence 0) with skRm.
        let sk = p256::SecretKey::from_slice(&h(&v.skRm)).unwrap();
        let pt = hpke::open(
            &sk,
            &info,
            &h(&first.aad),
            &Sealed {
                ct: h(&first.ct),
                enc: h(&v.enc),
            },
        )
        .unwrap();
        assert_eq!(pt, h(&first.pt));

        // Every encryption, in sequence, through the crate's receiver context.
        let enc = <Kem as rfc9180::Kem>::EncappedKey::from_bytes(&h(&v.enc)).unwrap();
        let sk_r = <Kem as rfc9180::Kem>::PrivateKey::from_bytes(&h(&v.skRm)).unwrap();
        let mut ctx = rfc9180::setup_receiver::<
            rfc9180::aead::AesGcm256,
            rfc9180::kdf::HkdfSha256,
            Kem,
        >(&OpModeR::Base, &sk_r, &enc, &info)
        .unwrap();
        for (seq, e) in v.encryptions.iter().enumerate() {
            assert_eq!(
                ctx.open(&h(&e.ct), &h(&e.aad)).unwrap(),
                h(&e.pt),
                "encryption {seq}"
            );
        }
    }
}
