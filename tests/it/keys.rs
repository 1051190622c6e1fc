//! Keys and certificates: proof of possession, certificates chained to the platform CA,
//! supersession and revocation, and signature checks that honour all of it.

use kaibiao::pki::types::{registration_statement, KeyPurpose};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{b64, code, spawn_app, DeviceKeys};

#[tokio::test]
async fn keys_are_certified_by_the_platform_ca_after_proof_of_possession() {
    let app = spawn_app().await;
    let s = app.login("supplier1").await;
    let user = s.user_id();
    let keys = DeviceKeys::generate();
    let epk = b64(&keys.encryption_public());

    // An encryption key needs a signing key first.
    let proof = keys.sign(registration_statement(&user, KeyPurpose::Encryption, &epk).as_bytes());
    let (status, v) = s
        .post(
            "/api/keys",
            json!({"purpose": "encryption", "public_key": epk, "proof": b64(&proof)}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&v), "SIGNING_KEY_REQUIRED");

    // Not a P-256 point; a proof over the wrong statement; a proof by another key.
    let (status, v) = s
        .post(
            "/api/keys",
            json!({"purpose": "signing", "public_key": b64(&[4u8; 65]), "proof": "AA"}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "KEY_INVALID")
    );
    let spk = b64(&keys.signing_public());
    let wrong =
        keys.sign(registration_statement("someone-else", KeyPurpose::Signing, &spk).as_bytes());
    let (status, v) = s
        .post(
            "/api/keys",
            json!({"purpose": "signing", "public_key": spk, "proof": b64(&wrong)}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "KEY_PROOF_FAILED")
    );
    let other = DeviceKeys::generate();
    let by_other = other.sign(registration_statement(&user, KeyPurpose::Signing, &spk).as_bytes());
    let (_, v) = s
        .post(
            "/api/keys",
            json!({"purpose": "signing", "public_key": spk, "proof": b64(&by_other)}),
        )
        .await;
    assert_eq!(code(&v), "KEY_PROOF_FAILED");
    let (_, mine) = s.get("/api/keys").await;
    assert_eq!(
        mine.as_array().unwrap().len(),
        0,
        "nothing registered by bad requests"
    );

    let keys = s.register_keys().await;
    let (status, mine) = s.get("/api/keys").await;
    assert_eq!(status, StatusCode::OK);
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 2);
    // Each certificate chains to the CA the platform publishes and certifies the key.
    let (_, certs) = app.call(Method::GET, "/api/pki/certificates", None).await;
    let ca_pem = certs["ca_pem"].as_str().unwrap();
    let ca_der = {
        use rustls::pki_types::pem::PemObject;
        rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes())
            .unwrap()
            .to_vec()
    };
    for k in mine {
        let pem = k["certificate_pem"].as_str().unwrap();
        let public = kaibiao::pki::authority::check_chain(
            pem,
            &ca_der,
            chrono::Utc::now().timestamp_millis(),
        )
        .expect("chains to the platform CA");
        let expected = if k["purpose"] == "signing" {
            keys.keys.signing_public()
        } else {
            keys.keys.encryption_public()
        };
        assert_eq!(public, expected);
        assert_eq!(k["status"], "active");
    }
    // A certificate from another CA does not chain.
    let other_app = spawn_app().await;
    let (_, other_certs) = other_app
        .call(Method::GET, "/api/pki/certificates", None)
        .await;
    assert!(kaibiao::pki::authority::check_chain(
        other_certs["signer_pem"].as_str().unwrap(),
        &ca_der,
        chrono::Utc::now().timestamp_millis()
    )
    .is_err());
}

#[tokio::test]
async fn revoked_keys_fail_signature_checks_and_are_published() {
    let app = spawn_app().await;
    let s = app.login("supplier2").await;
    let keys = s.register_keys().await;
    let msg = "我方确认开标记录无误".as_bytes();
    let sig = b64(&keys.keys.sign(msg));
    app.state
        .keyring()
        .verify_user_signature(&s.user_id(), &keys.signing_key_id, msg, &sig)
        .await
        .expect("a good signature verifies");
    let err = app
        .state
        .keyring()
        .verify_user_signature(
            &s.user_id(),
            &keys.signing_key_id,
            "我方有异议".as_bytes(),
            &sig,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "SIGNATURE_INVALID");

    // Another user cannot revoke it; the owner can, with a reason.
    let other = app.login("supplier3").await;
    let path = format!("/api/keys/{}/revoke", keys.signing_key_id);
    let (status, _) = other.post(&path, json!({"reason": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = s.post(&path, json!({"reason": "设备遗失"})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "revoked");
    let (status, v) = s.post(&path, json!({"reason": "again"})).await;
    assert_eq!((status, code(&v)), (StatusCode::CONFLICT, "KEY_REVOKED"));

    let err = app
        .state
        .keyring()
        .verify_user_signature(&s.user_id(), &keys.signing_key_id, msg, &sig)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "KEY_REVOKED");
    let (_, revoked) = app.call(Method::GET, "/api/pki/revoked", None).await;
    assert_eq!(revoked[0]["key_id"], keys.signing_key_id.as_str());
    assert_eq!(revoked[0]["reason"], "设备遗失");

    // A new key replaces it; registering again supersedes the previous active key.
    let again = s.register_keys().await;
    let (_, mine) = s.get("/api/keys").await;
    let statuses: Vec<(&str, &str)> = mine
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["key_id"].as_str().unwrap(), k["status"].as_str().unwrap()))
        .collect();
    assert!(statuses.contains(&(again.signing_key_id.as_str(), "active")));
    assert!(statuses.contains(&(keys.signing_key_id.as_str(), "revoked")));
    assert!(statuses.contains(&(keys.encryption_key_id.as_str(), "superseded")));
}
