//! The bulk cipher of KB1 segments behind one small type, so another AES-256-GCM backend
//! can be measured and swapped in without touching the format code.
//!
//! `nonce = nonce_prefix (7) || u32be(i) || last`, `aad = H || u32be(i)`.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};

pub(crate) const TAG_LEN: usize = 16;

/// Encrypts and decrypts segments in place for one container (one DEK, nonce prefix, H).
pub(crate) struct SegmentCipher {
    // Zeroizes its key schedule on drop (aes-gcm's `zeroize` feature).
    aead: Aes256Gcm,
    nonce_prefix: [u8; 7],
    header_hash: [u8; 32],
}

impl SegmentCipher {
    pub(crate) fn new(dek: &[u8; 32], nonce_prefix: [u8; 7], header_hash: [u8; 32]) -> Self {
        SegmentCipher {
            aead: Aes256Gcm::new(dek.into()),
            nonce_prefix,
            header_hash,
        }
    }

    fn nonce_aad(&self, index: u32, last: bool) -> (Nonce<aes_gcm::aead::consts::U12>, [u8; 36]) {
        let mut nonce = [0u8; 12];
        nonce[..7].copy_from_slice(&self.nonce_prefix);
        nonce[7..11].copy_from_slice(&index.to_be_bytes());
        nonce[11] = u8::from(last);
        let mut aad = [0u8; 36];
        aad[..32].copy_from_slice(&self.header_hash);
        aad[32..].copy_from_slice(&index.to_be_bytes());
        (nonce.into(), aad)
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(&self, index: u32, last: bool, buf: &mut [u8]) -> [u8; TAG_LEN] {
        let (nonce, aad) = self.nonce_aad(index, last);
        let tag = self
            .aead
            .encrypt_inout_detached(&nonce, &aad, buf.into())
            // Only fails for plaintexts over 64 GiB; a segment is at most 16 MiB.
            .expect("segment within AES-GCM limits");
        tag.into()
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
        let tag = Tag::from(*tag);
        self.aead
            .decrypt_inout_detached(&nonce, &aad, buf.into(), &tag)
            .map_err(|_| ())
    }
}
