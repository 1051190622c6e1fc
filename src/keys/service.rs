//! Key registration (with proof of possession), certificates and revocation. Checking a
//! user's signature against their certified, unrevoked key is `pki::Keyring`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, AppResult};
use crate::pki::authority::{verify_signature, CertSubject};
use crate::pki::repo;
use crate::pki::types::{registration_statement, KeyPurpose, KeyView, RegisterKeyRequest};
use crate::state::AppState;

/// Decodes and checks a P-256 uncompressed public key given in base64url.
pub fn parse_public_key(b64: &str) -> AppResult<Vec<u8>> {
    let bytes = B64.decode(b64.trim()).map_err(|_| AppError::KeyInvalid)?;
    crate::crypto::keys::parse_public(&bytes).map_err(|_| AppError::KeyInvalid)?;
    Ok(bytes)
}

#[tracing::instrument(skip_all, fields(user = %user.username), err)]
pub async fn register(
    state: &AppState,
    user: &CurrentUser,
    req: RegisterKeyRequest,
) -> AppResult<KeyView> {
    let public = parse_public_key(&req.public_key)?;
    let public_b64 = B64.encode(&public);
    let proof = B64
        .decode(req.proof.trim())
        .map_err(|_| AppError::KeyProofFailed)?;
    let statement = registration_statement(&user.id, req.purpose, &public_b64);
    let prover = match req.purpose {
        KeyPurpose::Signing => public.clone(),
        KeyPurpose::Encryption => {
            let signing = repo::active(&state.db.pool, &user.id, KeyPurpose::Signing.as_str())
                .await?
                .ok_or(AppError::SigningKeyRequired)?;
            state.keyring().certified_public_key(&signing)?
        }
    };
    if !verify_signature(&prover, statement.as_bytes(), &proof) {
        return Err(AppError::KeyProofFailed);
    }
    let profile = crate::auth::repo::user_view(&state.db.pool, &user.id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let now = state.clock.now_ms();
    let issued = state.pki.certify(
        &public,
        &CertSubject {
            user_id: user.id.clone(),
            display_name: profile.display_name,
            org_name: profile.org.map(|o| o.name),
            purpose: req.purpose.as_str().into(),
        },
        now,
    )?;
    let key = KeyView {
        key_id: crate::crypto::keys::key_id(&public),
        purpose: req.purpose.as_str().into(),
        public_key: public_b64,
        status: "active".into(),
        serial: issued.serial,
        not_before: issued.not_before,
        not_after: issued.not_after,
        certificate_pem: issued.pem,
        created_at: now,
        revoked_at: None,
        revoke_reason: None,
    };
    let mut tx = state.db.begin().await?;
    if repo::by_id(&mut *tx, &key.key_id).await?.is_some() {
        return Err(AppError::Conflict("公钥已登记 / key already registered"));
    }
    repo::supersede(&mut tx, &user.id, req.purpose.as_str()).await?;
    repo::insert(&mut tx, &user.id, &key).await?;
    crate::auth::repo::audit(
        &mut *tx,
        now,
        Some(&user.id),
        &user.username,
        "key_registered",
        "",
        "",
        &format!("{} {}", key.purpose, key.key_id),
    )
    .await?;
    tx.commit().await?;
    Ok(key)
}

/// Revokes a key: its owner, or an admin.
pub async fn revoke(
    state: &AppState,
    user: &CurrentUser,
    key_id: &str,
    reason: &str,
) -> AppResult<KeyView> {
    if reason.trim().is_empty() {
        return Err(AppError::field(
            "reason",
            "须说明吊销理由 / a reason is required",
        ));
    }
    let (owner, _) = repo::by_id(&state.db.pool, key_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if owner != user.id && user.role != Role::Admin {
        return Err(AppError::NotFound);
    }
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    if repo::revoke(&mut tx, key_id, now, reason.trim()).await? == 0 {
        return Err(AppError::KeyRevoked);
    }
    crate::auth::repo::audit(
        &mut *tx,
        now,
        Some(&user.id),
        &user.username,
        "key_revoked",
        "",
        "",
        &format!("{key_id}: {}", reason.trim()),
    )
    .await?;
    tx.commit().await?;
    let (_, key) = repo::by_id(&state.db.pool, key_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(key)
}
