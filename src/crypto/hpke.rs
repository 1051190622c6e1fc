//! RFC 9180 HPKE, base mode, single-shot, in the one suite KB1 uses:
//! DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM. A thin wrapper over the `hpke`
//! crate that speaks SEC1 bytes and `p256` keys and returns `CryptoError`s.

use ::hpke as rfc9180;
use rfc9180::{Deserializable, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::CryptoError;

type Kem = rfc9180::kem::DhP256HkdfSha256;
type Kdf = rfc9180::kdf::HkdfSha256;
type Aead = rfc9180::aead::AesGcm256;
type PublicKey = <Kem as rfc9180::Kem>::PublicKey;
type PrivateKey = <Kem as rfc9180::Kem>::PrivateKey;
type EncappedKey = <Kem as rfc9180::Kem>::EncappedKey;

/// An HPKE ciphertext: `enc` (65-byte encapsulated key) and `ct` (ciphertext || 16-byte
/// tag). JSON `{"ct":"<b64url>","enc":"<b64url>"}`.
// Fields in sorted order: KB1 headers serialise them canonically in declaration order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    #[serde(with = "super::b64url")]
    pub ct: Vec<u8>,
    #[serde(with = "super::b64url")]
    pub enc: Vec<u8>,
}

/// Seals `pt` to the 65-byte SEC1 uncompressed public key `recipient_sec1`.
pub fn seal(
    recipient_sec1: &[u8],
    info: &[u8],
    aad: &[u8],
    pt: &[u8],
) -> Result<Sealed, CryptoError> {
    seal_with_rng(recipient_sec1, info, aad, pt, &mut super::os_rng())
}

/// `seal` with the ephemeral key drawn from `rng` (32 bytes, RFC 9180 DeriveKeyPair), so
/// known-answer tests and our own KB1 vectors can be reproduced.
pub(crate) fn seal_with_rng(
    recipient_sec1: &[u8],
    info: &[u8],
    aad: &[u8],
    pt: &[u8],
    rng: &mut impl rand_core::CryptoRng,
) -> Result<Sealed, CryptoError> {
    // Checked by our own parser first so both sides accept exactly the same keys.
    super::keys::parse_public(recipient_sec1)?;
    let pk = PublicKey::from_bytes(recipient_sec1).map_err(|_| CryptoError::InvalidPublicKey)?;
    let (enc, ct) = rfc9180::single_shot_seal_with_rng::<Aead, Kdf, Kem>(
        &OpModeS::Base,
        &pk,
        info,
        pt,
        aad,
        rng,
    )
    .map_err(|e| CryptoError::InvalidArgument(format!("HPKE seal: {e}")))?;
    Ok(Sealed {
        ct,
        enc: enc.to_bytes().to_vec(),
    })
}

/// Opens a single-shot HPKE ciphertext with the recipient's private key.
pub fn open(
    recipient: &p256::SecretKey,
    info: &[u8],
    aad: &[u8],
    sealed: &Sealed,
) -> Result<Vec<u8>, CryptoError> {
    let mut sk_bytes = recipient.to_bytes();
    let sk = PrivateKey::from_bytes(&sk_bytes);
    sk_bytes.zeroize();
    let sk = sk.map_err(|_| CryptoError::HpkeOpenFailed)?;
    let enc = EncappedKey::from_bytes(&sealed.enc).map_err(|_| CryptoError::HpkeOpenFailed)?;
    rfc9180::single_shot_open::<Aead, Kdf, Kem>(&OpModeR::Base, &sk, &enc, info, &sealed.ct, aad)
        .map_err(|_| CryptoError::HpkeOpenFailed)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Deterministic randomness for known-answer tests and vector generation only.

    use std::convert::Infallible;

    /// Yields the given bytes, then panics: a test that asks for more randomness than it
    /// planned for is a broken test.
    pub struct FixedRng {
        bytes: Vec<u8>,
        pos: usize,
    }

    impl FixedRng {
        pub fn new(bytes: &[u8]) -> Self {
            FixedRng {
                bytes: bytes.to_vec(),
                pos: 0,
            }
        }
    }

    impl rand_core::TryRng for FixedRng {
        type Error = Infallible;

        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            let mut b = [0u8; 4];
            self.try_fill_bytes(&mut b)?;
            Ok(u32::from_le_bytes(b))
        }

        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            let mut b = [0u8; 8];
            self.try_fill_bytes(&mut b)?;
            Ok(u64::from_le_bytes(b))
        }

        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            let end = self.pos + dst.len();
            assert!(end <= self.bytes.len(), "FixedRng exhausted");
            dst.copy_from_slice(&self.bytes[self.pos..end]);
            self.pos = end;
            Ok(())
        }
    }

    impl rand_core::TryCryptoRng for FixedRng {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys;
    use p256::elliptic_curve::Generate;

    #[test]
    fn seal_open_roundtrip_and_binding() {
        let sk = p256::SecretKey::generate_from_rng(&mut crate::crypto::os_rng());
        let pk = keys::public_sec1(&sk.public_key());
        let sealed = seal(&pk, b"info", b"aad", b"secret").unwrap();
        assert_eq!(sealed.enc.len(), 65);
        assert_eq!(sealed.ct.len(), 6 + 16);
        assert_eq!(open(&sk, b"info", b"aad", &sealed).unwrap(), b"secret");
        assert_eq!(
            open(&sk, b"info", b"other", &sealed),
            Err(CryptoError::HpkeOpenFailed)
        );
        assert_eq!(
            open(&sk, b"other", b"aad", &sealed),
            Err(CryptoError::HpkeOpenFailed)
        );
        let other = p256::SecretKey::generate_from_rng(&mut crate::crypto::os_rng());
        assert_eq!(
            open(&other, b"info", b"aad", &sealed),
            Err(CryptoError::HpkeOpenFailed)
        );
        let json = serde_json::to_string(&sealed).unwrap();
        assert!(
            json.starts_with("{\"ct\":\"") && json.contains("\",\"enc\":\""),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Sealed>(&json).unwrap(), sealed);
    }

    #[test]
    fn seal_rejects_bad_keys() {
        assert_eq!(
            seal(&[4u8; 65], b"", b"", b"x"),
            Err(CryptoError::InvalidPublicKey)
        );
        assert_eq!(
            seal(&[], b"", b"", b"x"),
            Err(CryptoError::InvalidPublicKey)
        );
    }
}
