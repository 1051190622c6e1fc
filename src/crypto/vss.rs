//! Feldman verifiable secret sharing over the P-256 scalar field: the tender opening key is
//! split t-of-n among custodians; each can check their share against the published
//! commitments, and any t shares rebuild the key.
//!
//! `f(x) = a_0 + a_1 x + … + a_{t-1} x^{t-1}` with `a_0` the secret; share `i` is
//! `(i, f(i))` for `i = 1..=n`; commitments `C_j = a_j·G` (so `C_0` is the public key); share
//! `i` is valid iff `f(i)·G = Σ_j i^j·C_j`.

use std::fmt;

use p256::elliptic_curve::ff::PrimeField;
use p256::elliptic_curve::Generate;
use p256::{NonZeroScalar, ProjectivePoint, Scalar};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::keys;
use super::CryptoError;

/// One custodian's share. JSON `{"index": 1, "value": "<64 hex>"}`.
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Share {
    /// 1..=n
    pub index: u32,
    /// f(index), a big-endian scalar.
    #[serde(with = "super::hex32")]
    pub value: [u8; 32],
}

// Debug never prints the value: shares end up in logs through `{:?}` otherwise.
impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share")
            .field("index", &self.index)
            .field("value", &"<redacted>")
            .finish()
    }
}

/// Splits `secret` t-of-n. Returns the shares (indices 1..=n) and the commitments
/// `C_j = a_j·G`, j = 0..t, each SEC1 uncompressed (`C_0 = secret·G`, the public key).
pub fn split(
    secret: &NonZeroScalar,
    t: usize,
    n: usize,
) -> Result<(Vec<Share>, Vec<Vec<u8>>), CryptoError> {
    if t == 0 || t > n || u32::try_from(n).is_err() {
        return Err(CryptoError::InvalidArgument(format!(
            "cannot split {t}-of-{n}"
        )));
    }
    let mut rng = super::os_rng();
    // Non-zero coefficients keep the degree exactly t-1.
    let mut coeffs: Vec<NonZeroScalar> = Vec::with_capacity(t);
    coeffs.push(*secret);
    coeffs.extend((1..t).map(|_| NonZeroScalar::generate_from_rng(&mut rng)));

    let commitments = coeffs
        .iter()
        .map(|a| keys::public_sec1(&p256::PublicKey::from_secret_scalar(a)))
        .collect();
    let shares = (1..=n as u32)
        .map(|i| {
            let x = Scalar::from(u64::from(i));
            // Horner: f(x) = (…(a_{t-1} x + a_{t-2}) x + …) x + a_0
            let mut y = Scalar::ZERO;
            for a in coeffs.iter().rev() {
                y = y * x + **a;
            }
            let share = Share {
                index: i,
                value: y.to_repr().into(),
            };
            y.zeroize();
            share
        })
        .collect();
    coeffs.zeroize();
    Ok((shares, commitments))
}

/// Checks `f(i)·G == Σ_j i^j·C_j`. False for index 0, a non-canonical value, or any
/// commitment that is not a valid SEC1 uncompressed point.
pub fn verify_share(share: &Share, commitments: &[Vec<u8>]) -> bool {
    if share.index == 0 || commitments.is_empty() {
        return false;
    }
    let Some(y) = Option::<Scalar>::from(Scalar::from_repr(share.value.into())) else {
        return false;
    };
    let x = Scalar::from(u64::from(share.index));
    let mut rhs = ProjectivePoint::IDENTITY;
    for c in commitments.iter().rev() {
        let Ok(point) = keys::parse_public(c) else {
            return false;
        };
        rhs = rhs * x + point.to_projective();
    }
    ProjectivePoint::GENERATOR * y == rhs
}

/// Lagrange interpolation at 0 from distinct shares. The caller passes at least t shares it
/// has verified; with fewer, the result is some other (wrong) key, not an error.
pub fn combine(shares: &[Share]) -> Result<NonZeroScalar, CryptoError> {
    if shares.is_empty() {
        return Err(CryptoError::InvalidArgument("no shares".into()));
    }
    let mut points: Vec<(Scalar, Scalar)> = Vec::with_capacity(shares.len());
    for s in shares {
        if s.index == 0
            || points
                .iter()
                .any(|(x, _)| *x == Scalar::from(u64::from(s.index)))
        {
            return Err(CryptoError::InvalidArgument(format!(
                "share index {} is 0 or repeated",
                s.index
            )));
        }
        let y = Option::<Scalar>::from(Scalar::from_repr(s.value.into())).ok_or_else(|| {
            CryptoError::InvalidArgument(format!("share {} is not a scalar", s.index))
        })?;
        points.push((Scalar::from(u64::from(s.index)), y));
    }
    let mut secret = Scalar::ZERO;
    for (i, (xi, yi)) in points.iter().enumerate() {
        // λ_i = Π_{j≠i} x_j / (x_j - x_i)
        let mut num = Scalar::ONE;
        let mut den = Scalar::ONE;
        for (j, (xj, _)) in points.iter().enumerate() {
            if i != j {
                num *= xj;
                den *= *xj - xi;
            }
        }
        let inv = Option::<Scalar>::from(den.invert())
            .expect("distinct indices give a non-zero denominator");
        secret += *yi * num * inv;
    }
    for (_, y) in points.iter_mut() {
        y.zeroize();
    }
    let out = Option::from(NonZeroScalar::new(secret))
        .ok_or_else(|| CryptoError::InvalidArgument("shares combine to zero".into()));
    secret.zeroize();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
        (0u32..1 << n)
            .filter(|m| m.count_ones() as usize == k)
            .map(|m| (0..n).filter(|i| m & (1 << i) != 0).collect())
            .collect()
    }

    fn check_t_of_n(t: usize, n: usize) {
        let secret = NonZeroScalar::generate_from_rng(&mut crate::crypto::os_rng());
        let (shares, commitments) = split(&secret, t, n).unwrap();
        assert_eq!(shares.len(), n);
        assert_eq!(commitments.len(), t);
        assert!(commitments.iter().all(|c| c.len() == 65));
        let public = keys::public_sec1(&p256::PublicKey::from_secret_scalar(&secret));
        assert_eq!(commitments[0], public, "C_0 is the public key");
        for s in &shares {
            assert!(verify_share(s, &commitments), "share {} verifies", s.index);
        }
        for k in t..=n {
            for subset in subsets(n, k) {
                let picked: Vec<Share> = subset.iter().map(|&i| shares[i].clone()).collect();
                let got = combine(&picked).unwrap();
                assert_eq!(got.to_repr(), secret.to_repr(), "{subset:?} recombine");
                assert_eq!(
                    keys::public_sec1(&p256::PublicKey::from_secret_scalar(&got)),
                    commitments[0]
                );
            }
        }
        for subset in subsets(n, t - 1).into_iter().filter(|s| !s.is_empty()) {
            let picked: Vec<Share> = subset.iter().map(|&i| shares[i].clone()).collect();
            let got = combine(&picked).unwrap();
            assert_ne!(
                got.to_repr(),
                secret.to_repr(),
                "{subset:?}: fewer than t shares"
            );
        }
    }

    #[test]
    fn two_of_three() {
        check_t_of_n(2, 3);
    }

    #[test]
    fn three_of_five() {
        check_t_of_n(3, 5);
    }

    #[test]
    fn tampered_share_fails_verification() {
        let secret = NonZeroScalar::generate_from_rng(&mut crate::crypto::os_rng());
        let (shares, commitments) = split(&secret, 2, 3).unwrap();
        let mut bad = shares[1].clone();
        bad.value[31] ^= 1;
        assert!(!verify_share(&bad, &commitments));
        let mut moved = shares[1].clone();
        moved.index = 3;
        assert!(!verify_share(&moved, &commitments));
        let mut zero = shares[0].clone();
        zero.index = 0;
        assert!(!verify_share(&zero, &commitments));
        assert!(!verify_share(
            &Share {
                index: 1,
                value: [0xff; 32]
            },
            &commitments
        ));
        let mut bad_commitments = commitments.clone();
        bad_commitments[1][64] ^= 1;
        assert!(!verify_share(&shares[0], &bad_commitments));
        assert!(!verify_share(&shares[0], &[]));
    }

    #[test]
    fn bad_parameters_and_inputs() {
        let secret = NonZeroScalar::generate_from_rng(&mut crate::crypto::os_rng());
        assert_eq!(split(&secret, 0, 3).unwrap_err().code(), "INVALID_ARGUMENT");
        assert_eq!(split(&secret, 4, 3).unwrap_err().code(), "INVALID_ARGUMENT");
        let (shares, _) = split(&secret, 2, 3).unwrap();
        assert_eq!(combine(&[]).unwrap_err().code(), "INVALID_ARGUMENT");
        let dup = [shares[0].clone(), shares[0].clone()];
        assert_eq!(combine(&dup).unwrap_err().code(), "INVALID_ARGUMENT");
        // 1-of-1: the share is the secret itself.
        let (one, c) = split(&secret, 1, 1).unwrap();
        assert!(verify_share(&one[0], &c));
        assert_eq!(combine(&one).unwrap().to_repr(), secret.to_repr());
    }

    #[test]
    fn share_json_and_debug() {
        let s = Share {
            index: 2,
            value: [0xab; 32],
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            format!("{{\"index\":2,\"value\":\"{}\"}}", "ab".repeat(32))
        );
        assert_eq!(serde_json::from_str::<Share>(&json).unwrap(), s);
        assert!(!format!("{s:?}").contains("abab"));
    }
}
