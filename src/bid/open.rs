//! Opening one stored bid with its two key halves: `kb` (from the bidder, checked against
//! the header's hash) and the tender key rebuilt from custodians' shares (which unseals
//! `kt`). The opening ceremony drives this; it runs on the blocking pool.

use crate::bid::package;
use crate::bid::package::Manifest;
use crate::crypto::{kb1, CryptoError};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct OpenedBid {
    pub manifest: Manifest,
    pub document_sha256: Vec<String>,
}

/// Opens the container stored under `ciphertext_sha256`. Errors carry the format's codes
/// (`KB_HASH_MISMATCH`, `KT_UNSEAL_FAILED`, `SEGMENT_AUTH_FAILED`, ...).
pub async fn open_bid(
    state: &AppState,
    ciphertext_sha256: &str,
    kb: [u8; 32],
    tender_secret: p256::SecretKey,
) -> Result<Result<OpenedBid, CryptoError>, AppError> {
    let bytes = state
        .blobs
        .get(ciphertext_sha256)
        .await?
        .ok_or(AppError::NotFound)?;
    tokio::task::spawn_blocking(move || {
        let (header, header_bytes, offset) = kb1::parse_header(&bytes)?;
        kb1::check_length(&header, (bytes.len() - offset) as u64)?;
        kb1::check_kb(&header, &kb)?;
        let kt = kb1::unseal_kt(&header, &tender_secret)?;
        let reader = kb1::OpenReader::new(&header, &header_bytes, &kb, &kt, &bytes[offset..])?;
        let (manifest, document_sha256) = package::read_package(reader, |_, _| Ok(()))?;
        Ok(OpenedBid {
            manifest,
            document_sha256,
        })
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))
}
