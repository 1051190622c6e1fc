//! The platform CA and receipt-signing key, kept as PEM files under `<data-dir>/keys`
//! (made on first start, readable by the service account only).

use std::path::Path;

use anyhow::Context;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

const CA_NAME: &str = "黄石市政府采购电子交易平台 CA";
const SIGNER_NAME: &str = "黄石市政府采购电子交易平台 回执签名";

/// A P-256 public key given as its SEC1 point, for rcgen to certify.
pub struct Sec1PublicKey(pub Vec<u8>);

impl rcgen::PublicKeyData for Sec1PublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

pub struct Authority {
    ca_key: rcgen::KeyPair,
    ca_issuer: rcgen::Certificate,
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    signer: EcdsaKeyPair,
    pub signer_pem: String,
    pub signer_public: Vec<u8>,
    rng: SystemRandom,
    /// HMAC key for identity numbers (`identity_tag`), derived from the CA's key.
    identity: ring::hmac::Key,
    /// What one node shows another on their link (hex), derived from the CA's key: every
    /// node holds it, nobody else.
    node_link: String,
}

fn read_or_make(
    path: &Path,
    make: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    if path.exists() {
        return std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()));
    }
    // Made aside and linked in, so that of nodes starting together on one shared folder
    // the first one's key is everyone's.
    let pem = make()?;
    let aside = path.with_extension(format!("new-{}", uuid::Uuid::new_v4().simple()));
    crate::tls::write_private(&aside, pem.as_bytes())?;
    let linked = std::fs::hard_link(&aside, path);
    let _ = std::fs::remove_file(&aside);
    match linked {
        Ok(()) => Ok(pem),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
        }
        Err(e) => Err(e).with_context(|| format!("writing {}", path.display())),
    }
}

pub fn pem_to_der(pem: &str) -> anyhow::Result<Vec<u8>> {
    use rustls::pki_types::pem::PemObject;
    Ok(
        rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| anyhow::anyhow!("bad certificate PEM: {e:?}"))?
            .to_vec(),
    )
}

impl Authority {
    /// Loads the CA and signer from `dir`, making them on first use.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Authority> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let ca_key_pem = read_or_make(&dir.join("ca-key.pem"), || {
            Ok(rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?.serialize_pem())
        })?;
        let ca_key = rcgen::KeyPair::from_pem(&ca_key_pem)?;
        let ca_pem = read_or_make(&dir.join("ca-cert.pem"), || {
            let mut p = rcgen::CertificateParams::new(Vec::<String>::new())?;
            p.distinguished_name
                .push(rcgen::DnType::CommonName, CA_NAME);
            p.distinguished_name
                .push(rcgen::DnType::OrganizationName, "黄石市财政局");
            p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
            p.key_usages = vec![
                rcgen::KeyUsagePurpose::KeyCertSign,
                rcgen::KeyUsagePurpose::CrlSign,
                rcgen::KeyUsagePurpose::DigitalSignature,
            ];
            p.not_before = rcgen::date_time_ymd(2024, 1, 1);
            p.not_after = rcgen::date_time_ymd(2044, 1, 1);
            Ok(p.self_signed(&ca_key)?.pem())
        })?;
        // rcgen signs as an issuer through a `Certificate` with the CA's name and key.
        let ca_issuer =
            rcgen::CertificateParams::from_ca_cert_pem(&ca_pem)?.self_signed(&ca_key)?;

        let signer_key_pem = read_or_make(&dir.join("signer-key.pem"), || {
            Ok(rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?.serialize_pem())
        })?;
        let signer_rc = rcgen::KeyPair::from_pem(&signer_key_pem)?;
        let signer_pem = read_or_make(&dir.join("signer-cert.pem"), || {
            let mut p = rcgen::CertificateParams::new(Vec::<String>::new())?;
            p.distinguished_name
                .push(rcgen::DnType::CommonName, SIGNER_NAME);
            p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
            p.not_before = rcgen::date_time_ymd(2024, 1, 1);
            p.not_after = rcgen::date_time_ymd(2044, 1, 1);
            Ok(p.signed_by(&signer_rc, &ca_issuer, &ca_key)?.pem())
        })?;
        let rng = SystemRandom::new();
        let signer = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &signer_rc.serialize_der(),
            &rng,
        )
        .map_err(|e| anyhow::anyhow!("loading the signer key: {e}"))?;
        let signer_public = signer_rc.public_key_raw().to_vec();
        // The identity key comes from the CA's secret (HKDF-SHA256), so every node that
        // holds the CA compares identity numbers alike and no further secret is kept.
        // The nodes' link token comes from it alike.
        let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"kaibiao")
            .extract(&ca_key.serialize_der());
        let identity: ring::hmac::Key = prk
            .expand(&[b"identity-numbers v1"], ring::hmac::HMAC_SHA256)
            .map_err(|_| anyhow::anyhow!("deriving the identity key"))?
            .into();
        let mut link = [0u8; 32];
        prk.expand(&[b"node-link v1"], ring::hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut link))
            .map_err(|_| anyhow::anyhow!("deriving the nodes' link token"))?;
        Ok(Authority {
            identity,
            node_link: hex::encode(link),
            ca_der: pem_to_der(&ca_pem)?,
            ca_key,
            ca_issuer,
            ca_pem,
            signer,
            signer_pem,
            signer_public,
            rng,
        })
    }

    /// A keyed digest (hex HMAC-SHA256) of an identity number of `kind` (e.g. a resident
    /// identity number): equal numbers give equal tags, and the tag does not give the
    /// number back, even to one who tries every number, without the CA's key.
    pub fn identity_tag(&self, kind: &str, number: &str) -> String {
        hex::encode(ring::hmac::sign(
            &self.identity,
            format!("{kind}:{number}").as_bytes(),
        ))
    }

    /// The token one node shows another on the links between them (`hub::relay`).
    pub fn node_link(&self) -> &str {
        &self.node_link
    }

    /// Signs `message` with the platform key: ECDSA P-256 / SHA-256, 64-byte r‖s (the
    /// form WebCrypto verifies).
    pub fn sign(&self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        Ok(self
            .signer
            .sign(&self.rng, message)
            .map_err(|e| anyhow::anyhow!("signing: {e}"))?
            .as_ref()
            .to_vec())
    }

    /// Issues a certificate for a user's P-256 public key (SEC1, 65 bytes).
    pub fn certify(
        &self,
        public_sec1: &[u8],
        subject: &CertSubject,
        now_ms: i64,
    ) -> anyhow::Result<IssuedCert> {
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new())?;
        p.distinguished_name
            .push(rcgen::DnType::CommonName, subject.display_name.as_str());
        if let Some(org) = &subject.org_name {
            p.distinguished_name
                .push(rcgen::DnType::OrganizationName, org.as_str());
        }
        // userId (RFC 4519 uid) carries the platform's user id.
        p.distinguished_name.push(
            rcgen::DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]),
            subject.user_id.as_str(),
        );
        p.distinguished_name.push(
            rcgen::DnType::OrganizationalUnitName,
            subject.purpose.as_str(),
        );
        p.key_usages = match subject.purpose.as_str() {
            "signing" => vec![
                rcgen::KeyUsagePurpose::DigitalSignature,
                rcgen::KeyUsagePurpose::ContentCommitment,
            ],
            _ => vec![rcgen::KeyUsagePurpose::KeyAgreement],
        };
        let mut serial = [0u8; 16];
        ring::rand::SecureRandom::fill(&self.rng, &mut serial)
            .map_err(|_| anyhow::anyhow!("no randomness"))?;
        serial[0] &= 0x7f;
        p.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        let start = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
        let end = start + chrono::Duration::days(2 * 365);
        use chrono::Datelike;
        p.not_before = rcgen::date_time_ymd(start.year(), start.month() as u8, start.day() as u8);
        p.not_after = rcgen::date_time_ymd(end.year(), end.month() as u8, end.day() as u8);
        let cert = p.signed_by(
            &Sec1PublicKey(public_sec1.to_vec()),
            &self.ca_issuer,
            &self.ca_key,
        )?;
        Ok(IssuedCert {
            pem: cert.pem(),
            serial: hex::encode(serial),
            not_before: day_ms(start.year(), start.month(), start.day()),
            not_after: day_ms(end.year(), end.month(), end.day()),
        })
    }
}

fn day_ms(y: i32, m: u32, d: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(0, |t| t.and_utc().timestamp_millis())
}

pub struct CertSubject {
    pub user_id: String,
    pub display_name: String,
    pub org_name: Option<String>,
    pub purpose: String,
}

pub struct IssuedCert {
    pub pem: String,
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
}

/// Checks that `cert_pem` was issued by the CA `ca_der` and is valid at `now_ms`;
/// returns the certified SEC1 public key.
pub fn check_chain(cert_pem: &str, ca_der: &[u8], now_ms: i64) -> anyhow::Result<Vec<u8>> {
    let der = pem_to_der(cert_pem)?;
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| anyhow::anyhow!("parsing certificate: {e}"))?;
    let (_, ca) = x509_parser::parse_x509_certificate(ca_der)
        .map_err(|e| anyhow::anyhow!("parsing CA certificate: {e}"))?;
    anyhow::ensure!(cert.issuer() == ca.subject(), "issued by another CA");
    cert.verify_signature(Some(ca.public_key()))
        .map_err(|e| anyhow::anyhow!("certificate signature: {e}"))?;
    let at = x509_parser::time::ASN1Time::from_timestamp(now_ms / 1000)
        .map_err(|e| anyhow::anyhow!("time: {e}"))?;
    anyhow::ensure!(
        cert.validity().is_valid_at(at),
        "certificate expired or not yet valid"
    );
    Ok(cert.public_key().subject_public_key.data.to_vec())
}

/// Verifies an ECDSA P-256 / SHA-256 signature (64-byte r‖s) by a SEC1 public key.
pub fn verify_signature(public_sec1: &[u8], message: &[u8], signature: &[u8]) -> bool {
    ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, public_sec1)
        .verify(message, signature)
        .is_ok()
}
