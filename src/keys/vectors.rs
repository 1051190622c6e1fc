//! The key vectors in tests/vectors/keys.json (docs/keys.md): a key file, the proofs of
//! possession that register its keys, a device-key login proof, and a tender opening key
//! split 2-of-3 with each custodian's sealed share. Signatures, salts and HPKE ephemerals
//! are random, so the file is written once (`cargo test --lib keys::vectors::write_key_vectors
//! -- --ignored`) and `key_vectors_hold` checks every committed value with the code the
//! server runs, as the independent client in tests/interop checks them with its own.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};

use crate::crypto::{hpke, keys, vss};
use crate::pki::authority::verify_signature;
use crate::pki::keyfile::{public_part, DeviceKeys, KeyFileError};
use crate::pki::types::{registration_statement, KeyPurpose};
use crate::tender::opening_key::{share_aad, SHARE_INFO};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/keys.json");
const USER_ID: &str = "01936f3a-6000-7abc-8def-0123456789c1";
const USERNAME: &str = "supplier1";
const PASSPHRASE: &str = "正确的口令 correct horse";
const TENDER_ID: &str = "01936f3a-5c00-7d21-9a7e-2b6a3d0c1e01";

fn det_key(label: &str) -> p256::SecretKey {
    use sha2::{Digest, Sha256};
    let d: [u8; 32] = Sha256::digest(format!("kaibiao key vectors/{label}").as_bytes()).into();
    p256::SecretKey::from_slice(&d).expect("a SHA-256 output is a valid scalar")
}

fn unb64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().expect("a string"))
        .expect("base64url")
}

#[test]
#[ignore = "rewrites tests/vectors/keys.json"]
fn write_key_vectors() {
    let device = DeviceKeys::generate();
    let key_file: Value = serde_json::from_str(&device.to_file(USER_ID, PASSPHRASE)).unwrap();
    let (sig_pub, sig_proof) = device.registration(USER_ID, KeyPurpose::Signing);
    let signing_id = keys::key_id(&device.signing_public());
    let (enc_pub, enc_proof) = device.registration(USER_ID, KeyPurpose::Encryption);
    let challenge = "1767225600000.5f3d9a0c1b2e4d6f8a7c9e0b1d3f5a7c";
    let login = B64.encode(
        device.sign(crate::auth::service::login_proof_message(USERNAME, challenge).as_bytes()),
    );

    let secret = det_key("opening key").to_nonzero_scalar();
    let (shares, commitments) = vss::split(&secret, 2, 3).unwrap();
    let custodians: Vec<Value> = shares
        .iter()
        .map(|s| {
            let sk = det_key(&format!("custodian {}", s.index));
            let pk = keys::public_sec1(&sk.public_key());
            let sealed =
                hpke::seal(&pk, SHARE_INFO, &share_aad(TENDER_ID, s.index), &s.value).unwrap();
            json!({
                "index": s.index,
                "encryption_private_hex": hex::encode(sk.to_bytes()),
                "encryption_public": B64.encode(&pk),
                "custodian_key_id": keys::key_id(&pk),
                "sealed": sealed,
                "share_value_hex": hex::encode(s.value),
            })
        })
        .collect();
    let public = &commitments[0];

    let file = json!({
        "description": "Key vectors of kaibiao (docs/keys.md): a device key file and its passphrase, the proofs of possession that register its two keys, a device-key login proof, and a tender opening key split 2-of-3 among custodians with each share HPKE-sealed to the custodian's encryption key. Binary values are base64url without padding, hashes and scalars lower-case hex. Checked by src/keys/vectors.rs with the server's code.",
        "key_file": {
            "passphrase": PASSPHRASE,
            "json": key_file,
            "user_id": USER_ID,
            "signing_public": sig_pub,
            "encryption_public": enc_pub,
            "encryption_private_hex": hex::encode(device.encryption.to_bytes()),
            "wrong_passphrase": "错误的口令",
        },
        "registration": [
            {
                "user_id": USER_ID, "purpose": "signing", "public_key": sig_pub,
                "statement": registration_statement(USER_ID, KeyPurpose::Signing, &sig_pub),
                "proof": sig_proof, "signed_by_key_id": signing_id, "valid": true,
                "note": "a signing key proves possession of itself",
            },
            {
                "user_id": USER_ID, "purpose": "encryption", "public_key": enc_pub,
                "statement": registration_statement(USER_ID, KeyPurpose::Encryption, &enc_pub),
                "proof": enc_proof, "signed_by_key_id": signing_id, "valid": true,
                "note": "an encryption key's proof is made by the user's signing key",
            },
            {
                "user_id": "01936f3a-6000-7abc-8def-0123456789c2", "purpose": "signing",
                "public_key": sig_pub,
                "statement": registration_statement("01936f3a-6000-7abc-8def-0123456789c2", KeyPurpose::Signing, &sig_pub),
                "proof": sig_proof, "signed_by_key_id": signing_id, "valid": false,
                "note": "the proof of registration[0], presented for another user: the statement differs",
            },
        ],
        "login_proof": {
            "username": USERNAME, "challenge": challenge,
            "message": crate::auth::service::login_proof_message(USERNAME, challenge),
            "key_id": keys::key_id(&B64.decode(&sig_pub).unwrap()),
            "signature": login,
        },
        "opening_key": {
            "tender_id": TENDER_ID,
            "threshold": 2,
            "info": String::from_utf8(SHARE_INFO.to_vec()).unwrap(),
            "public_key": B64.encode(public),
            "key_id": keys::key_id(public),
            "commitments": commitments.iter().map(|c| B64.encode(c)).collect::<Vec<_>>(),
            "private_hex": hex::encode(secret.to_bytes()),
            "custodians": custodians,
        },
    });
    std::fs::write(PATH, serde_json::to_string_pretty(&file).unwrap() + "\n").unwrap();
}

#[test]
fn key_vectors_hold() {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();

    // The key file opens with its passphrase only, to the keys it names.
    let kf = &v["key_file"];
    let text = kf["json"].to_string();
    let (user, device) = DeviceKeys::from_file(&text, kf["passphrase"].as_str().unwrap()).unwrap();
    assert_eq!(user, kf["user_id"].as_str().unwrap());
    assert_eq!(device.signing_public(), unb64(&kf["signing_public"]));
    assert_eq!(device.encryption_public(), unb64(&kf["encryption_public"]));
    assert_eq!(
        hex::encode(device.encryption.to_bytes()),
        kf["encryption_private_hex"].as_str().unwrap()
    );
    assert_eq!(public_part(&text).unwrap().1, device.signing_public());
    assert_eq!(
        DeviceKeys::from_file(&text, kf["wrong_passphrase"].as_str().unwrap()).err(),
        Some(KeyFileError::Passphrase)
    );

    // Proofs of possession: the statement as the server writes it, checked as it checks.
    let signing = unb64(&kf["signing_public"]);
    for r in v["registration"].as_array().unwrap() {
        let purpose = match r["purpose"].as_str().unwrap() {
            "signing" => KeyPurpose::Signing,
            _ => KeyPurpose::Encryption,
        };
        let statement = registration_statement(
            r["user_id"].as_str().unwrap(),
            purpose,
            r["public_key"].as_str().unwrap(),
        );
        assert_eq!(statement, r["statement"].as_str().unwrap());
        // Every proof here is made by the key file's signing key, named by its id.
        assert_eq!(r["signed_by_key_id"], keys::key_id(&signing).as_str());
        let proof = unb64(&r["proof"]);
        assert_eq!(
            verify_signature(&signing, statement.as_bytes(), &proof),
            r["valid"].as_bool().unwrap(),
            "{}",
            r["note"]
        );
    }

    let l = &v["login_proof"];
    let message = crate::auth::service::login_proof_message(
        l["username"].as_str().unwrap(),
        l["challenge"].as_str().unwrap(),
    );
    assert_eq!(message, l["message"].as_str().unwrap());
    assert_eq!(keys::key_id(&signing), l["key_id"].as_str().unwrap());
    assert!(verify_signature(
        &signing,
        message.as_bytes(),
        &unb64(&l["signature"])
    ));

    // Each custodian unseals its share, checks it against the commitments; any two give the
    // opening key.
    let o = &v["opening_key"];
    let tender = o["tender_id"].as_str().unwrap();
    assert_eq!(o["info"].as_str().unwrap().as_bytes(), SHARE_INFO);
    let commitments: Vec<Vec<u8>> = o["commitments"]
        .as_array()
        .unwrap()
        .iter()
        .map(unb64)
        .collect();
    assert_eq!(commitments[0], unb64(&o["public_key"]));
    let mut shares = Vec::new();
    for c in o["custodians"].as_array().unwrap() {
        let index = u32::try_from(c["index"].as_u64().unwrap()).unwrap();
        let sk = p256::SecretKey::from_slice(
            &hex::decode(c["encryption_private_hex"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        let sealed: hpke::Sealed = serde_json::from_value(c["sealed"].clone()).unwrap();
        let value = hpke::open(&sk, SHARE_INFO, &share_aad(tender, index), &sealed).unwrap();
        assert_eq!(hex::encode(&value), c["share_value_hex"].as_str().unwrap());
        // Sealed to another index or tender, it does not open.
        assert!(hpke::open(&sk, SHARE_INFO, &share_aad(tender, index + 1), &sealed).is_err());
        let share = vss::Share {
            index,
            value: value.try_into().unwrap(),
        };
        assert!(vss::verify_share(&share, &commitments));
        shares.push(share);
    }
    for pair in [[0, 1], [0, 2], [1, 2]] {
        let key = vss::combine(&[shares[pair[0]].clone(), shares[pair[1]].clone()]).unwrap();
        assert_eq!(
            hex::encode(key.to_bytes()),
            o["private_hex"].as_str().unwrap()
        );
        let public = keys::public_sec1(&p256::PublicKey::from_secret_scalar(&key));
        assert_eq!(public, commitments[0]);
        assert_eq!(keys::key_id(&public), o["key_id"].as_str().unwrap());
    }
}
