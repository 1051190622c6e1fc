//! The tender opening key (DESIGN.md, sealed-bid protocol step 2): made at publication,
//! its private scalar split t-of-n by Feldman VSS among the custodians, each share
//! HPKE-sealed to the custodian's certified encryption key, the commitments published with
//! the announcement, and the private key erased. Nobody, the platform included, holds it
//! again until t custodians bring their shares to the opening.

use p256::elliptic_curve::Generate;
use serde::Serialize;
use sqlx::Row;

use crate::crypto::{hpke, keys, vss};
use crate::db::Tx;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::state::AppState;

pub const SHARE_INFO: &[u8] = b"kaibiao/KB1/share";

/// The HPKE associated data binding a sealed share to its tender and index.
pub fn share_aad(tender_id: &str, index: u32) -> Vec<u8> {
    format!("{tender_id}\n{index}").into_bytes()
}

#[derive(Debug, Clone, Serialize)]
pub struct OpeningKeyView {
    /// SEC1 uncompressed, base64url.
    pub public_key: String,
    pub key_id: String,
    pub threshold: i64,
    pub commitments: Vec<String>,
}

/// A custodian's own sealed share, to check against the commitments and later unseal.
#[derive(Debug, Clone, Serialize)]
pub struct MyShare {
    pub tender_id: String,
    pub index: i64,
    pub custodian_key_id: String,
    pub sealed: hpke::Sealed,
    pub opening_key: OpeningKeyView,
}

/// Custodians' certified encryption keys, in position order, or the field errors naming
/// those who have none.
pub async fn custodian_keys(
    state: &AppState,
    custodians: &[String],
) -> AppResult<Vec<(String, Vec<u8>)>> {
    let mut keys = Vec::new();
    let mut errors = FieldErrors::new();
    for (i, user) in custodians.iter().enumerate() {
        match state.keyring().encryption_key(user).await? {
            Some(k) => keys.push(k),
            None => {
                errors.entry(format!("custodian_ids[{i}]")).or_default().push(
                    "该保管人尚未登记加密密钥,无法生成开标密钥 / this custodian has no registered encryption key yet".into(),
                );
            }
        }
    }
    if errors.is_empty() {
        Ok(keys)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Makes the opening key, seals the shares and stores the public parts in `tx`. Returns
/// the key as the ledger's `tender_published` describes it.
pub async fn create(
    tx: &mut Tx,
    tender_id: &str,
    threshold: i64,
    custodians: &[String],
    custodian_keys: &[(String, Vec<u8>)],
    now: i64,
) -> AppResult<crate::ledger::OpeningKey> {
    let t = usize::try_from(threshold)
        .map_err(|_| AppError::field("custodian_threshold", "invalid"))?;
    // The secret lives only inside this block; shares and scalar zeroize on drop.
    let (public, commitments, sealed) = {
        let secret = p256::NonZeroScalar::generate_from_rng(&mut crate::crypto::os_rng());
        let (shares, commitments) = vss::split(&secret, t, custodians.len())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("splitting the opening key: {e}")))?;
        let mut sealed = Vec::with_capacity(shares.len());
        for (share, (_, pk)) in shares.iter().zip(custodian_keys) {
            let s = hpke::seal(
                pk,
                SHARE_INFO,
                &share_aad(tender_id, share.index),
                &share.value,
            )
            .map_err(|e| AppError::Internal(anyhow::anyhow!("sealing a share: {e}")))?;
            sealed.push((share.index, s));
        }
        (commitments[0].clone(), commitments, sealed)
    };
    let b64 = crate::crypto::b64url::encode;
    let view = OpeningKeyView {
        public_key: b64(&public),
        key_id: keys::key_id(&public),
        threshold,
        commitments: commitments.iter().map(|c| b64(c)).collect(),
    };
    sqlx::query(
        "INSERT INTO tender_opening_keys (tender_id, public_key, key_id, threshold, commitments, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(tender_id)
    .bind(&view.public_key)
    .bind(&view.key_id)
    .bind(threshold)
    .bind(serde_json::to_string(&view.commitments).map_err(anyhow::Error::from)?)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let mut shares = Vec::new();
    for ((index, s), (user, (key_id, _))) in
        sealed.iter().zip(custodians.iter().zip(custodian_keys))
    {
        let json = serde_json::to_string(s).map_err(anyhow::Error::from)?;
        sqlx::query(
            "INSERT INTO tender_key_shares (tender_id, share_index, custodian_user_id, \
             custodian_key_id, sealed) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(tender_id)
        .bind(i64::from(*index))
        .bind(user)
        .bind(key_id)
        .bind(&json)
        .execute(&mut **tx)
        .await?;
        shares.push(crate::ledger::SealedShare {
            index: *index,
            custodian: user.clone(),
            custodian_key: key_id.clone(),
            sealed_sha256: crate::crypto::sha256_hex(json.as_bytes()),
        });
    }
    Ok(crate::ledger::OpeningKey {
        public_key: view.public_key,
        key_id: view.key_id,
        threshold,
        commitments: view.commitments,
        shares,
    })
}

pub async fn view<'e, E>(exec: E, tender_id: &str) -> sqlx::Result<Option<OpeningKeyView>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let Some(r) = sqlx::query(
        "SELECT public_key, key_id, threshold, commitments FROM tender_opening_keys \
         WHERE tender_id = $1",
    )
    .bind(tender_id)
    .fetch_optional(exec)
    .await?
    else {
        return Ok(None);
    };
    let commitments: String = r.try_get("commitments")?;
    Ok(Some(OpeningKeyView {
        public_key: r.try_get("public_key")?,
        key_id: r.try_get("key_id")?,
        threshold: r.try_get("threshold")?,
        commitments: serde_json::from_str(&commitments).unwrap_or_default(),
    }))
}

/// The calling custodian's sealed share of a tender's opening key.
pub async fn my_share(state: &AppState, user_id: &str, tender_id: &str) -> AppResult<MyShare> {
    let r = sqlx::query(
        "SELECT share_index, custodian_key_id, sealed FROM tender_key_shares \
         WHERE tender_id = $1 AND custodian_user_id = $2",
    )
    .bind(tender_id)
    .bind(user_id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(AppError::NotFound)?;
    let opening_key = view(&state.db.pool, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let sealed: String = r.try_get("sealed")?;
    Ok(MyShare {
        tender_id: tender_id.to_string(),
        index: r.try_get("share_index")?,
        custodian_key_id: r.try_get("custodian_key_id")?,
        sealed: serde_json::from_str(&sealed).map_err(anyhow::Error::from)?,
        opening_key,
    })
}
