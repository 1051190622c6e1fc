//! The cryptographic core of sealed bids: keys and key ids, RFC 9180 HPKE, Feldman
//! verifiable secret sharing of tender opening keys and the KB1 container
//! (docs/bid-format.md, normative). It knows bytes, keys and containers only: what a bid
//! package holds (the manifest, the opening sheet, amounts in words) is `bid::package`.
//!
//! No primitive is written here: HPKE comes from the `hpke` crate, curve arithmetic from
//! `p256`, AES-256-GCM from `aes-gcm`. Secrets (kb, kt, the DEK, shares, scalars) are
//! zeroized when dropped. Everything that reads untrusted bytes returns a `CryptoError`
//! with a stable code and never panics.

pub mod error;
pub mod hpke;
pub mod kb1;
pub mod keys;
pub mod vss;

mod segment;

#[cfg(test)]
mod tests;

pub use error::CryptoError;

/// The operating system's CSPRNG (rand_core 0.10's counterpart of `OsRng`). It panics only
/// if the OS cannot give randomness at all, as `OsRng` did.
pub(crate) fn os_rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// Serde helpers: base64url without padding, as every binary field of KB1 JSON.
pub(crate) mod b64url {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn encode(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Strict: no padding, no whitespace, no non-zero trailing bits, so each byte string
    /// has exactly one encoding (the header must be canonical).
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD.decode(s).ok()
    }

    pub fn serialize<S: Serializer, T: AsRef<[u8]>>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&encode(v.as_ref()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: TryFrom<Vec<u8>>>(
        d: D,
    ) -> Result<T, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = decode(&s).ok_or_else(|| serde::de::Error::custom("invalid base64url"))?;
        let len = bytes.len();
        T::try_from(bytes).map_err(|_| serde::de::Error::custom(format!("unexpected length {len}")))
    }
}

/// Serde helper: a 32-byte value as 64 lower-case hex characters.
pub(crate) mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&s, &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}

/// Lower-case hex of SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// True for exactly 64 lower-case hex characters (a SHA-256 or key id as KB1 writes it).
pub(crate) fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(crate) fn read_full(r: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// One byte, or None at the end of the input.
pub(crate) fn read_byte(r: &mut impl std::io::Read) -> std::io::Result<Option<u8>> {
    let mut b = [0u8; 1];
    Ok((read_full(r, &mut b)? == 1).then_some(b[0]))
}
