//! The keys users registered, as the platform checks them: the certificate chains to the
//! platform CA, is valid now and not revoked, and certifies the key it stands beside.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

use super::authority::{check_chain, verify_signature};
use super::repo;
use super::types::{KeyPurpose, KeyView};
use crate::error::{AppError, AppResult};

/// What checking a user's key needs: the database, the platform CA and the time
/// (`AppState::keyring`).
pub struct Keyring<'a> {
    pub pool: &'a sqlx::AnyPool,
    pub ca_der: &'a [u8],
    pub now_ms: i64,
}

impl Keyring<'_> {
    /// The public key a stored certificate certifies, after checking the chain to the
    /// platform CA, its validity now, and that it is not revoked.
    pub fn certified_public_key(&self, key: &KeyView) -> AppResult<Vec<u8>> {
        if key.status == "revoked" {
            return Err(AppError::KeyRevoked);
        }
        let public = check_chain(&key.certificate_pem, self.ca_der, self.now_ms).map_err(|e| {
            tracing::warn!(key = %key.key_id, error = %e, "certificate does not verify");
            AppError::SignatureInvalid
        })?;
        if B64.encode(&public) != key.public_key {
            return Err(AppError::SignatureInvalid);
        }
        Ok(public)
    }

    /// Checks that `signature` over `message` was made by `user_id`'s certified, unrevoked
    /// signing key `key_id`.
    pub async fn verify_user_signature(
        &self,
        user_id: &str,
        key_id: &str,
        message: &[u8],
        signature_b64: &str,
    ) -> AppResult<()> {
        let (owner, key) = repo::by_id(self.pool, key_id)
            .await?
            .ok_or(AppError::SignatureInvalid)?;
        if owner != user_id || key.purpose != KeyPurpose::Signing.as_str() {
            return Err(AppError::SignatureInvalid);
        }
        let public = self.certified_public_key(&key)?;
        let sig = B64
            .decode(signature_b64.trim())
            .map_err(|_| AppError::SignatureInvalid)?;
        if verify_signature(&public, message, &sig) {
            Ok(())
        } else {
            Err(AppError::SignatureInvalid)
        }
    }

    /// The active, certified encryption key of a user (for sealing to them), if any.
    pub async fn encryption_key(&self, user_id: &str) -> AppResult<Option<(String, Vec<u8>)>> {
        match repo::active(self.pool, user_id, KeyPurpose::Encryption.as_str()).await? {
            Some(k) => Ok(Some((k.key_id.clone(), self.certified_public_key(&k)?))),
            None => Ok(None),
        }
    }
}
