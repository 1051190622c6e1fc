//! The bulk cipher of KB1 segments behind one small type, so another AES-256-GCM backend
//! can be measured and swapped in without touching the format code.
//!
//! `nonce = nonce_prefix (7) || u32be(i) || last`, `aad = H || u32be(i)`.
//!
//! Backend: ring's AES-256-GCM (BoringSSL's assembly, AES-NI + CLMUL/AVX), several times
//! the throughput of the pure-Rust `aes-gcm` here (BENCHMARKS.md); the opening's goal of
//! revealing at ≥0.7× raw AES-GCM of the fastest backend needs it. ring does not wipe its
//! key schedule on drop; the DEK it is made from is zeroized by the caller.

use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_256_GCM};

pub(crate) const TAG_LEN: usize = 16;

/// Encrypts and decrypts segments in place for one container (one DEK, nonce prefix, H).
pub(crate) struct SegmentCipher {
    key: LessSafeKey,
    nonce_prefix: [u8; 7],
    header_hash: [u8; 32],
}

impl SegmentCipher {
    pub(crate) fn new(dek: &[u8; 32], nonce_prefix: [u8; 7], header_hash: [u8; 32]) -> Self {
        SegmentCipher {
            key: LessSafeKey::new(
                UnboundKey::new(&AES_256_GCM, dek).expect("a 32-byte key is an AES-256 key"),
            ),
            nonce_prefix,
            header_hash,
        }
    }

    fn nonce_aad(&self, index: u32, last: bool) -> (Nonce, [u8; 36]) {
        let mut nonce = [0u8; 12];
        nonce[..7].copy_from_slice(&self.nonce_prefix);
        nonce[7..11].copy_from_slice(&index.to_be_bytes());
        nonce[11] = u8::from(last);
        let mut aad = [0u8; 36];
        aad[..32].copy_from_slice(&self.header_hash);
        aad[32..].copy_from_slice(&index.to_be_bytes());
        // Unique per (DEK, index, last): the format never repeats a segment index.
        (Nonce::assume_unique_for_key(nonce), aad)
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(&self, index: u32, last: bool, buf: &mut [u8]) -> [u8; TAG_LEN] {
        let (nonce, aad) = self.nonce_aad(index, last);
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(aad), buf)
            // Only fails for plaintexts over 64 GiB; a segment is at most 16 MiB.
            .expect("segment within AES-GCM limits");
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Decrypts `buf` in place if `tag` verifies; on failure `buf` holds no plaintext.
    pub(crate) fn open(
        &self,
        index: u32,
        last: bool,
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), ()> {
        let (nonce, aad) = self.nonce_aad(index, last);
        match self
            .key
            .open_in_place_separate_tag(nonce, Aad::from(aad), Tag::from(*tag), buf, 0..)
        {
            Ok(_) => Ok(()),
            Err(_) => {
                buf.fill(0);
                Err(())
            }
        }
    }
}
