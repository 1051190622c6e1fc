//! Public keys as KB1 writes them: P-256 points, SEC1 uncompressed (65 bytes), identified
//! by the lower-case hex SHA-256 of those 65 bytes.

use p256::elliptic_curve::sec1::ToSec1Point;

use super::CryptoError;

/// Length of a SEC1 uncompressed P-256 point: `0x04 || X || Y`.
pub const SEC1_LEN: usize = 65;

/// Lower-case hex SHA-256 of the SEC1 uncompressed point.
pub fn key_id(public_sec1: &[u8]) -> String {
    super::sha256_hex(public_sec1)
}

/// Accepts the 65-byte uncompressed encoding only (the compressed form would give the same
/// key two ids).
pub fn parse_public(sec1: &[u8]) -> Result<p256::PublicKey, CryptoError> {
    if sec1.len() != SEC1_LEN || sec1[0] != 0x04 {
        return Err(CryptoError::InvalidPublicKey);
    }
    p256::PublicKey::from_sec1_bytes(sec1).map_err(|_| CryptoError::InvalidPublicKey)
}

/// The 65-byte SEC1 uncompressed encoding.
pub fn public_sec1(pk: &p256::PublicKey) -> Vec<u8> {
    pk.as_affine().to_sec1_point(false).as_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::Generate;

    #[test]
    fn roundtrip_and_reject_compressed() {
        let sk = p256::SecretKey::generate_from_rng(&mut crate::crypto::os_rng());
        let pk = sk.public_key();
        let sec1 = public_sec1(&pk);
        assert_eq!(sec1.len(), 65);
        assert_eq!(parse_public(&sec1).unwrap(), pk);
        assert_eq!(key_id(&sec1).len(), 64);
        let compressed = pk.as_affine().to_sec1_point(true);
        assert_eq!(
            parse_public(compressed.as_bytes()),
            Err(CryptoError::InvalidPublicKey)
        );
        let mut off_curve = sec1.clone();
        off_curve[64] ^= 1;
        assert_eq!(parse_public(&off_curve), Err(CryptoError::InvalidPublicKey));
    }
}
