//! A user's device keys — a P-256 signing key and a P-256 encryption key — made on the
//! user's own machine (the CLI, the demo's stand-in devices) and kept in a
//! passphrase-protected file: argon2id turns the passphrase into an AES-256-GCM key.
//! The server only ever sees the public halves and proofs of possession.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Tag};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use p256::elliptic_curve::Generate;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::types::{registration_statement, KeyPurpose};

pub const FORMAT: &str = "kaibiao-keyfile-1";

pub struct DeviceKeys {
    signing_pkcs8: Zeroizing<Vec<u8>>,
    signing: EcdsaKeyPair,
    pub encryption: p256::SecretKey,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: String,
    user_id: String,
    signing_public: String,
    encryption_public: String,
    kdf: Kdf,
    nonce: String,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kdf {
    alg: String,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct Secrets {
    signing_pkcs8: String,
    encryption_secret: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyFileError {
    #[error("not a kaibiao key file")]
    Format,
    #[error("wrong passphrase or damaged key file")]
    Passphrase,
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut b).expect("OS randomness");
    b
}

fn derive(passphrase: &str, kdf: &Kdf) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    let salt = B64.decode(&kdf.salt).map_err(|_| KeyFileError::Format)?;
    let params =
        argon2::Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32)).map_err(|_| KeyFileError::Format)?;
    let mut key = Zeroizing::new([0u8; 32]);
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), &salt, key.as_mut())
        .map_err(|_| KeyFileError::Format)?;
    Ok(key)
}

impl DeviceKeys {
    pub fn generate() -> DeviceKeys {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("P-256 key generation");
        let signing_pkcs8 = Zeroizing::new(pkcs8.as_ref().to_vec());
        let signing =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &signing_pkcs8, &rng)
                .expect("a key just made");
        let encryption = p256::SecretKey::generate_from_rng(&mut crate::crypto::os_rng());
        DeviceKeys {
            signing_pkcs8,
            signing,
            encryption,
        }
    }

    pub fn signing_public(&self) -> Vec<u8> {
        self.signing.public_key().as_ref().to_vec()
    }

    pub fn encryption_public(&self) -> Vec<u8> {
        crate::crypto::keys::public_sec1(&self.encryption.public_key())
    }

    /// ECDSA P-256 / SHA-256, 64-byte r‖s.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signing
            .sign(&SystemRandom::new(), message)
            .expect("signing")
            .as_ref()
            .to_vec()
    }

    /// `(public_key, proof)` for `POST /api/keys`, both base64url.
    pub fn registration(&self, user_id: &str, purpose: KeyPurpose) -> (String, String) {
        let public = match purpose {
            KeyPurpose::Signing => B64.encode(self.signing_public()),
            KeyPurpose::Encryption => B64.encode(self.encryption_public()),
        };
        let proof = self.sign(registration_statement(user_id, purpose, &public).as_bytes());
        (public, B64.encode(proof))
    }

    /// The key file's JSON, the secrets sealed under `passphrase`.
    pub fn to_file(&self, user_id: &str, passphrase: &str) -> String {
        let kdf = Kdf {
            alg: "argon2id".into(),
            m_kib: 19 * 1024,
            t: 2,
            p: 1,
            salt: B64.encode(random::<16>()),
        };
        let key = derive(passphrase, &kdf).expect("valid parameters");
        let secrets = Zeroizing::new(
            serde_json::to_vec(&Secrets {
                signing_pkcs8: B64.encode(&*self.signing_pkcs8),
                encryption_secret: B64.encode(self.encryption.to_bytes()),
            })
            .expect("serialisable"),
        );
        let nonce = random::<12>();
        let mut buf = secrets.to_vec();
        let tag = Aes256Gcm::new((&*key).into())
            .encrypt_inout_detached(
                &nonce.into(),
                aad(user_id).as_bytes(),
                buf.as_mut_slice().into(),
            )
            .expect("small plaintext");
        buf.extend_from_slice(&tag);
        let file = KeyFile {
            format: FORMAT.into(),
            user_id: user_id.into(),
            signing_public: B64.encode(self.signing_public()),
            encryption_public: B64.encode(self.encryption_public()),
            kdf,
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(&buf),
        };
        serde_json::to_string_pretty(&file).expect("serialisable")
    }

    /// Reads a key file; returns the user id it belongs to and the keys.
    pub fn from_file(json: &str, passphrase: &str) -> Result<(String, DeviceKeys), KeyFileError> {
        let file: KeyFile = serde_json::from_str(json).map_err(|_| KeyFileError::Format)?;
        if file.format != FORMAT || file.kdf.alg != "argon2id" {
            return Err(KeyFileError::Format);
        }
        let key = derive(passphrase, &file.kdf)?;
        let nonce: [u8; 12] = B64
            .decode(&file.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or(KeyFileError::Format)?;
        let mut buf = Zeroizing::new(
            B64.decode(&file.ciphertext)
                .map_err(|_| KeyFileError::Format)?,
        );
        if buf.len() < 16 {
            return Err(KeyFileError::Format);
        }
        let split = buf.len() - 16;
        let tag: [u8; 16] = buf[split..].try_into().map_err(|_| KeyFileError::Format)?;
        buf.truncate(split);
        Aes256Gcm::new((&*key).into())
            .decrypt_inout_detached(
                &nonce.into(),
                aad(&file.user_id).as_bytes(),
                buf.as_mut_slice().into(),
                &Tag::from(tag),
            )
            .map_err(|_| KeyFileError::Passphrase)?;
        let secrets: Secrets = serde_json::from_slice(&buf).map_err(|_| KeyFileError::Format)?;
        let pkcs8 = Zeroizing::new(
            B64.decode(&secrets.signing_pkcs8)
                .map_err(|_| KeyFileError::Format)?,
        );
        let signing = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &pkcs8,
            &SystemRandom::new(),
        )
        .map_err(|_| KeyFileError::Format)?;
        let secret = Zeroizing::new(
            B64.decode(&secrets.encryption_secret)
                .map_err(|_| KeyFileError::Format)?,
        );
        let encryption = p256::SecretKey::from_slice(&secret).map_err(|_| KeyFileError::Format)?;
        let keys = DeviceKeys {
            signing_pkcs8: pkcs8,
            signing,
            encryption,
        };
        // The readable public halves must be those of the sealed secrets: a file whose
        // labels were swapped would otherwise show one key and sign with another.
        if file.signing_public != B64.encode(keys.signing_public())
            || file.encryption_public != B64.encode(keys.encryption_public())
        {
            return Err(KeyFileError::Format);
        }
        Ok((file.user_id, keys))
    }
}

/// The public halves and the owner of a key file, readable without the passphrase.
pub fn public_part(json: &str) -> Result<(String, Vec<u8>, Vec<u8>), KeyFileError> {
    let file: KeyFile = serde_json::from_str(json).map_err(|_| KeyFileError::Format)?;
    let decode = |s: &str| B64.decode(s).map_err(|_| KeyFileError::Format);
    Ok((
        file.user_id,
        decode(&file.signing_public)?,
        decode(&file.encryption_public)?,
    ))
}

fn aad(user_id: &str) -> String {
    format!("{FORMAT}\n{user_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_opens_only_with_its_passphrase() {
        let keys = DeviceKeys::generate();
        let file = keys.to_file("user-1", "正确的口令 correct");
        assert!(!file.contains(&B64.encode(keys.encryption.to_bytes())));
        let (user, back) = DeviceKeys::from_file(&file, "正确的口令 correct").unwrap();
        assert_eq!(user, "user-1");
        assert_eq!(back.signing_public(), keys.signing_public());
        assert_eq!(back.encryption_public(), keys.encryption_public());
        assert_eq!(
            DeviceKeys::from_file(&file, "wrong").err(),
            Some(KeyFileError::Passphrase)
        );
        // The file is bound to its user: moving it to another user id breaks it.
        let moved = file.replace("user-1", "user-2");
        assert_eq!(
            DeviceKeys::from_file(&moved, "正确的口令 correct").err(),
            Some(KeyFileError::Passphrase)
        );
        assert_eq!(
            DeviceKeys::from_file("{}", "x").err(),
            Some(KeyFileError::Format)
        );
        // Public halves that are not the sealed secrets' (here swapped) are refused, as the
        // browser refuses them (KEYFILE_MISMATCH).
        let sig = B64.encode(keys.signing_public());
        let enc = B64.encode(keys.encryption_public());
        let swapped = file
            .replace(&sig, "SIG")
            .replace(&enc, &sig)
            .replace("SIG", &enc);
        assert_eq!(
            DeviceKeys::from_file(&swapped, "正确的口令 correct").err(),
            Some(KeyFileError::Format)
        );
    }
}
