//! Submission rules. The server never sees a key or plaintext: it streams the upload to a
//! partial file, checks the visible header against the tender and the bidder as soon as
//! the header has arrived, hashes and stores the finished container as a blob, and signs
//! a receipt by its own clock (R-TIME-2: nothing finishes after the deadline).

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use tokio::io::AsyncWriteExt;

use super::partial::{self, CHUNK_SUFFIX};
use super::repo::{self, BidRow, NewBid};
use super::types::{
    BidStatus, BidView, CompleteBidRequest, Receipt, SignedReceipt, StartBidRequest,
    StartBidResponse,
};
use crate::auth::types::ClientInfo;
use crate::auth::CurrentUser;
use crate::crypto::kb1::{self, Expect, Header};
use crate::error::{AppError, AppResult};
use crate::ledger::{BidSubmitted, BidWithdrawn, LedgerEvent};
use crate::state::AppState;
use crate::tender::repo as tender_repo;
use crate::tender::types::TenderStatus;

/// Segment size the sealing side is told to use.
pub const SEGMENT_SIZE: u32 = 1 << 20;
/// Largest container accepted.
pub const MAX_BID_BYTES: u64 = 8 << 30;
/// Largest chunk of one upload request.
pub const MAX_CHUNK_BYTES: usize = 16 << 20;
/// Unfinished uploads one bidder may have open on one tender.
pub const MAX_OPEN_UPLOADS: usize = 5;
/// Bids one bidder may start on one tender within an hour.
pub const MAX_BID_STARTS_PER_HOUR: i64 = 20;
/// Largest document metadata (names, sizes, types the bidder declares) of a bid.
pub const MAX_DOCUMENTS_META_BYTES: usize = 16 * 1024;

/// What is kept in memory while an upload runs: the SHA-256 of the bytes received so far
/// (so completion need not read the file again) and whether the header has been checked.
/// Lost on a restart, and then rebuilt from the partial file.
#[derive(Default)]
pub struct UploadState {
    hashed: Option<(sha2::Sha256, i64)>,
    header_checked: bool,
}

type SharedUpload = Arc<tokio::sync::Mutex<UploadState>>;

/// Upload requests one user may have in flight at once.
pub const MAX_UPLOADS_PER_USER: usize = 4;

/// One async lock per bid being uploaded, so chunks of one upload apply in order while
/// different uploads proceed in parallel. Entries live while someone holds them. And the
/// upload requests in flight per user, at most [`MAX_UPLOADS_PER_USER`].
#[derive(Default)]
pub struct UploadLocks(
    std::sync::Mutex<HashMap<String, Weak<tokio::sync::Mutex<UploadState>>>>,
    std::sync::Mutex<HashMap<String, usize>>,
);

/// A user's place among the uploads in flight; given back when dropped.
pub struct UploadSlot<'a> {
    locks: &'a UploadLocks,
    user: String,
}

impl Drop for UploadSlot<'_> {
    fn drop(&mut self) {
        let mut map = self.locks.1.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.user);
            }
        }
    }
}

impl UploadLocks {
    /// A place for one more upload request of `user`, or `RATE_LIMITED`.
    pub fn slot(&self, user: &str) -> AppResult<UploadSlot<'_>> {
        let mut map = self.1.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(user.to_string()).or_insert(0);
        if *n >= MAX_UPLOADS_PER_USER {
            return Err(AppError::RateLimited {
                what: "uploads",
                retry_after_secs: 1,
            });
        }
        *n += 1;
        Ok(UploadSlot {
            locks: self,
            user: user.to_string(),
        })
    }

    pub fn get(&self, id: &str) -> SharedUpload {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(l) = map.get(id).and_then(Weak::upgrade) {
            return l;
        }
        map.retain(|_, w| w.strong_count() > 0);
        let l = Arc::new(tokio::sync::Mutex::new(UploadState::default()));
        map.insert(id.to_string(), Arc::downgrade(&l));
        l
    }
}

/// A chunk file nobody wrote to for this long was left by a node that stopped.
const CHUNK_IDLE: std::time::Duration = std::time::Duration::from_secs(3600);

/// The bid, if it belongs to the caller's organisation (others get `NOT_FOUND`).
pub(crate) async fn own_bid(
    state: &AppState,
    user: &CurrentUser,
    bid_id: &str,
) -> AppResult<BidRow> {
    match repo::get(&state.db.pool, bid_id).await? {
        Some(b) if Some(&b.bidder_org_id) == user.org_id.as_ref() => Ok(b),
        _ => Err(AppError::NotFound),
    }
}

fn illegal(b: &BidRow, action: &'static str) -> AppError {
    AppError::IllegalTransition {
        from: b.status.as_str().to_string(),
        action,
    }
}

#[tracing::instrument(skip_all, fields(tender = %tender_id), err)]
pub async fn start(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    req: StartBidRequest,
    client: &ClientInfo,
) -> AppResult<StartBidResponse> {
    let org = user.org_id.clone().ok_or(AppError::Forbidden)?;
    let head = tender_repo::head(&state.db.pool, tender_id)
        .await?
        .filter(|h| h.status != TenderStatus::Draft)
        .ok_or(AppError::NotFound)?;
    let now = state.clock.now_ms();
    if now >= head.bid_deadline {
        return Err(AppError::DeadlinePassed);
    }
    if head.status != TenderStatus::Published {
        return Err(AppError::IllegalTransition {
            from: head.status.as_str().to_string(),
            action: "submit_bid",
        });
    }
    let mut conn = state.db.pool.acquire().await?;
    let view = tender_repo::view(&mut conn, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    drop(conn);
    if !view.lots.iter().any(|l| l.lot_no == i64::from(req.lot_no)) {
        return Err(AppError::field("lot_no", "没有这个采购包 / no such lot"));
    }
    let opening_key = view.opening_key.ok_or(AppError::NotFound)?;
    let (bidder_key_id, bidder_key) = state
        .keyring()
        .encryption_key(&user.id)
        .await?
        .ok_or(AppError::EncryptionKeyRequired)?;
    let open = repo::for_bidder(&state.db.pool, tender_id, &org)
        .await?
        .into_iter()
        .filter(|b| b.status == BidStatus::Uploading)
        .count();
    if open >= MAX_OPEN_UPLOADS {
        return Err(AppError::Conflict(
            "未完成的上传过多,请先完成或撤回 / too many unfinished uploads",
        ));
    }
    let bid_id = crate::org::service::new_id();
    let meta = serde_json::to_string(&req.documents_meta).unwrap_or_else(|_| "null".into());
    if meta.len() > MAX_DOCUMENTS_META_BYTES {
        return Err(AppError::field(
            "documents_meta",
            "文件信息不超过 16 KiB / document metadata is at most 16 KiB",
        ));
    }
    let fp: String = req.device_fingerprint.chars().take(512).collect();
    // Starting a bid writes a row: a bidder cannot grow the database without bound by
    // starting and withdrawing over and over.
    let hour_ago = now - 60 * 60 * 1000;
    let started = repo::started_since(&state.db.pool, tender_id, &org, hour_ago).await?;
    if started >= MAX_BID_STARTS_PER_HOUR {
        return Err(AppError::RateLimited {
            what: "bid_starts",
            retry_after_secs: 60,
        });
    }
    crate::supplier::service::check_eligible(state, &org, tender_id, now).await?;
    // Only a supplier that obtained the documents may bid (获取采购文件).
    crate::documents::service::check_held(state, tender_id, &org).await?;
    crate::deposits::service::check_recorded(state, &org, tender_id).await?;
    let mut tx = state.db.begin().await?;
    repo::insert(
        &mut tx,
        &NewBid {
            id: &bid_id,
            tender_id,
            lot_no: req.lot_no,
            bidder_org_id: &org,
            submitted_by: &user.id,
            bidder_key_id: &bidder_key_id,
            tender_key_id: &opening_key.key_id,
            now,
            ip: &client.ip,
            user_agent: &client.user_agent,
            device_fingerprint: &fp,
            documents_meta: &meta,
        },
    )
    .await?;
    tx.commit().await?;
    partial::of(state).begin(&bid_id).await?;
    Ok(StartBidResponse {
        bid_id,
        tender_id: tender_id.to_string(),
        lot_no: req.lot_no,
        bidder_org_id: org,
        tender_key: opening_key.public_key,
        tender_key_id: opening_key.key_id,
        bidder_key: crate::crypto::b64url::encode(&bidder_key),
        bidder_key_id,
        segment_size: SEGMENT_SIZE,
        bid_deadline: head.bid_deadline,
    })
}

/// Ends an upload that can no longer finish, and drops its bytes.
async fn abandon(state: &AppState, bid: &BidRow, status: BidStatus) -> AppResult<()> {
    repo::set_status(&state.db.pool, &bid.id, status, state.clock.now_ms()).await?;
    drop_bytes(state, &bid.id).await;
    Ok(())
}

/// Drops the bytes of an upload that ended without a bid (withdrawn, refused, or cut off
/// at the deadline by the sealing); what fails to go is swept at a node's next start.
pub(crate) async fn drop_bytes(state: &AppState, bid_id: &str) {
    if let Err(e) = partial::of(state).remove(bid_id).await {
        tracing::warn!(bid = %bid_id, error = %e, "removing an ended upload's bytes");
    }
}

fn expect(b: &BidRow) -> Result<u32, AppError> {
    u32::try_from(b.lot_no).map_err(|_| AppError::Internal(anyhow::anyhow!("lot number")))
}

/// Reads the header from the start of the partial file and checks it against the bid.
/// `Ok(None)` while the header has not fully arrived.
async fn check_header(
    state: &AppState,
    b: &BidRow,
    complete: bool,
) -> AppResult<Option<(Header, Vec<u8>, usize)>> {
    let prefix = match partial::of(state)
        .prefix(&b.id, b.received as u64, kb1::MAX_PREFIX_LEN)
        .await?
    {
        Ok(prefix) => prefix,
        Err(lost) => return Err(resume_from(state, b, lost, complete).await?),
    };
    match kb1::parse_header(&prefix) {
        Err(crate::crypto::CryptoError::ContainerTruncated) if !complete => Ok(None),
        Err(e) => Err(e.into()),
        Ok((header, bytes, offset)) => {
            header.check(&Expect {
                tender_id: &b.tender_id,
                lot_no: expect(b)?,
                bidder_org_id: &b.bidder_org_id,
                bid_id: &b.id,
                tender_key: &b.tender_key_id,
                bidder_key: &b.bidder_key_id,
            })?;
            Ok(Some((header, bytes, offset)))
        }
    }
}

/// Bytes counted as received but no longer stored ([`partial::Lost`]): the upload goes
/// back to where they start, and the bidder is told to send them again from there — at a
/// chunk UPLOAD_OFFSET, at "submit" UPLOAD_INCOMPLETE, both with the bytes the server has
/// (the page and the CLI resume on their own). The error to answer.
async fn resume_from(
    state: &AppState,
    b: &BidRow,
    lost: partial::Lost,
    complete: bool,
) -> AppResult<AppError> {
    let mut tx = state.db.begin().await?;
    let locked = repo::lock(&mut tx, &b.id)
        .await?
        .ok_or(AppError::NotFound)?;
    if locked.status != BidStatus::Uploading {
        return Ok(illegal(&locked, "upload"));
    }
    let received = locked.received.min(lost.0 as i64);
    repo::set_received(&mut *tx, &b.id, received, state.clock.now_ms()).await?;
    tx.commit().await?;
    tracing::warn!(bid = %b.id, received, "an upload's stored bytes were lost; the bidder resumes");
    Ok(if complete {
        AppError::UploadIncomplete {
            received,
            size: b.received,
        }
    } else {
        AppError::UploadOffset { received }
    })
}

#[tracing::instrument(skip_all, fields(bid = %bid_id, offset), err)]
pub async fn append(
    state: &AppState,
    user: &CurrentUser,
    bid_id: &str,
    offset: u64,
    body: axum::body::Body,
) -> AppResult<BidView> {
    // Everything is checked before a byte of the body is read, and the body is written
    // to the file as it arrives: a request nobody may make costs no memory.
    own_bid(state, user, bid_id).await?;
    let _slot = state.runtime::<UploadLocks>().slot(&user.id)?;
    let lock = state.runtime::<UploadLocks>().get(bid_id);
    let mut upload = lock.lock().await;
    let b = own_bid(state, user, bid_id).await?;
    let head = tender_repo::head(&state.db.pool, &b.tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    // The deadline first: an upload the scheduler already cut off is late all the same.
    if state.clock.now_ms() >= head.bid_deadline
        && matches!(b.status, BidStatus::Uploading | BidStatus::Late)
    {
        if b.status == BidStatus::Uploading {
            abandon(state, &b, BidStatus::Late).await?;
        }
        return Err(AppError::DeadlinePassed);
    }
    if b.status != BidStatus::Uploading {
        return Err(illegal(&b, "upload"));
    }
    if offset as i64 != b.received {
        return Err(AppError::UploadOffset {
            received: b.received,
        });
    }
    let parts = partial::of(state);
    let incoming = parts.incoming(bid_id);
    let mut f = tokio::fs::File::create(&incoming.0)
        .await
        .map_err(anyhow::Error::from)?;
    // Keep the running hash if it covers exactly what came before this chunk.
    let mut hashed = match upload.hashed.take() {
        Some(h) if h.1 == b.received => Some(h.0),
        None if b.received == 0 => Some(sha2::Sha256::default()),
        _ => None,
    };
    let too_big = || {
        AppError::field(
            "body",
            "单次上传不超过 16 MiB,投标文件不超过 8 GiB / at most 16 MiB per request and 8 GiB a bid",
        )
    };
    let mut end = b.received;
    let mut stream = body.into_data_stream();
    use futures_util::StreamExt;
    while let Some(frame) = stream.next().await {
        let data =
            frame.map_err(|e| AppError::field("body", format!("上传中断 / upload broken: {e}")))?;
        end += data.len() as i64;
        if (end - b.received) as usize > MAX_CHUNK_BYTES || end as u64 > MAX_BID_BYTES {
            return Err(too_big());
        }
        f.write_all(&data).await.map_err(anyhow::Error::from)?;
        if let Some(h) = hashed.as_mut() {
            use sha2::Digest;
            h.update(&data);
        }
    }
    // (Not synced: only the partial file it is appended to must be on disk.)
    f.flush().await.map_err(anyhow::Error::from)?;
    drop(f);
    // Appended and counted under the bid's row lock, if no request (on any node) has
    // appended at this offset meanwhile; else told where the upload stands.
    let mut tx = state.db.begin().await?;
    let locked = repo::lock(&mut tx, bid_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if locked.status != BidStatus::Uploading {
        return Err(illegal(&locked, "upload"));
    }
    if locked.received != b.received {
        return Err(AppError::UploadOffset {
            received: locked.received,
        });
    }
    if let Err(lost) = parts.append(bid_id, b.received as u64, &incoming.0).await? {
        tx.rollback().await?;
        return Err(resume_from(state, &b, lost, false).await?);
    }
    repo::set_received(&mut *tx, bid_id, end, state.clock.now_ms()).await?;
    tx.commit().await?;
    upload.hashed = hashed.map(|h| (h, end));
    let b = BidRow { received: end, ..b };
    // Refuse what can be seen to be wrong as soon as the header is in.
    if !upload.header_checked {
        match check_header(state, &b, false).await {
            Ok(found) => upload.header_checked = found.is_some(),
            Err(e @ AppError::UploadOffset { .. }) => return Err(e),
            Err(e) => {
                abandon(state, &b, BidStatus::Rejected).await?;
                return Err(e);
            }
        }
    }
    Ok(b.view())
}

/// Removes partial upload files that no upload needs any more: of bids no longer being
/// uploaded (a crash between storing the blob and removing the file), of no bid at all,
/// and chunks a stopped node was receiving (untouched for [`CHUNK_IDLE`]); with blobs in
/// NATS, the same for the parts there, in the background. Run at start. Returns how many
/// files were removed.
pub async fn sweep_uploads(state: &AppState) -> anyhow::Result<usize> {
    if state.blobs.named().is_some() {
        let state = state.clone();
        tokio::spawn(async move {
            match partial::sweep_nats(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(parts = n, "upload parts no upload needs removed"),
                Err(e) => tracing::warn!(error = %e, "sweeping the upload parts in NATS"),
            }
        });
    }
    let dir = state.config.shared().join("uploads");
    let mut entries = match tokio::fs::read_dir(&dir).await {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut removed = 0;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(CHUNK_SUFFIX) {
            // Only what nobody wrote to for a while: another node may be receiving it.
            if crate::blob::remove_if_idle(&entry, CHUNK_IDLE).await {
                removed += 1;
            }
            continue;
        }
        let Some(bid_id) = name.strip_suffix(".part") else {
            continue;
        };
        let live = repo::get(&state.db.pool, bid_id)
            .await?
            .is_some_and(|b| b.status == BidStatus::Uploading);
        if !live {
            // Another node may have just taken it over (the upload finished there).
            match tokio::fs::remove_file(entry.path()).await {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(removed)
}

/// How long a completion waits for another node completing the same bid (storing a large
/// bid takes seconds).
const COMPLETE_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Completing or withdrawing the bid, one at a time over all the nodes as within one
/// (`UploadLocks`): a second click on "submit" that reaches another node waits for the
/// first and gets its receipt (it used to submit the bid again, replacing itself, or find
/// the stored part gone and reject the bid).
async fn alone_over_the_nodes(state: &AppState, bid_id: &str) -> AppResult<crate::cluster::Claim> {
    Ok(state
        .runtime::<crate::cluster::Cluster>()
        .hold(&format!("bid:{bid_id}"), COMPLETE_WAIT)
        .await?)
}

#[tracing::instrument(skip_all, fields(bid = %bid_id), err)]
pub async fn complete(
    state: &AppState,
    user: &CurrentUser,
    bid_id: &str,
    req: CompleteBidRequest,
) -> AppResult<BidView> {
    own_bid(state, user, bid_id).await?;
    let lock = state.runtime::<UploadLocks>().get(bid_id);
    let mut upload = lock.lock().await;
    let _alone = alone_over_the_nodes(state, bid_id).await?;
    let b = own_bid(state, user, bid_id).await?;
    match b.status {
        // A second click on "submit" gets the same receipt.
        BidStatus::Submitted => return Ok(b.view()),
        BidStatus::Uploading => {}
        BidStatus::Late => return Err(AppError::DeadlinePassed),
        _ => return Err(illegal(&b, "complete")),
    }
    if b.received != req.size as i64 {
        return Err(AppError::UploadIncomplete {
            received: b.received,
            size: req.size as i64,
        });
    }
    let checked = match check_header(state, &b, true).await {
        Ok(Some(h)) => h,
        Ok(None) => return Err(crate::crypto::CryptoError::ContainerTruncated.into()),
        Err(e @ AppError::UploadIncomplete { .. }) => return Err(e),
        Err(e) => {
            abandon(state, &b, BidStatus::Rejected).await?;
            return Err(e);
        }
    };
    let (header, header_bytes, seg_offset) = checked;
    if let Err(e) = kb1::check_length(&header, req.size - seg_offset as u64) {
        abandon(state, &b, BidStatus::Rejected).await?;
        return Err(e.into());
    }
    let parts = partial::of(state);
    let whole = match parts.whole(bid_id, b.received as u64).await? {
        Ok(whole) => whole,
        Err(lost) => return Err(resume_from(state, &b, lost, true).await?),
    };
    let path = &whole.path;
    // What arrived must be exactly what the sealing side sent.
    let sha = match (upload.hashed.take(), &whole.sha256) {
        (Some((h, len)), _) if len == b.received => {
            use sha2::Digest;
            hex::encode(h.finalize())
        }
        (_, Some(sha)) => sha.clone(),
        _ => crate::blob::hash_file(path)
            .await
            .map_err(|e| AppError::Internal(e.into()))?,
    };
    if !req.sha256.eq_ignore_ascii_case(&sha) {
        return Err(AppError::field(
            "sha256",
            "服务器收到的文件与本地文件哈希不一致,请重新上传 / the bytes received do not match your file's hash; upload again",
        ));
    }
    let stored = state.blobs.put_file(path).await?;
    if stored != sha {
        return Err(AppError::Internal(anyhow::anyhow!(
            "the file changed while stored"
        )));
    }

    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let head = tender_repo::lock(&mut tx, &b.tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if now >= head.bid_deadline || head.status != TenderStatus::Published {
        drop(tx);
        abandon(state, &b, BidStatus::Late).await?;
        return Err(AppError::DeadlinePassed);
    }
    let code = tender_repo::view(&mut tx, &b.tender_id)
        .await?
        .map(|v| v.code)
        .unwrap_or_default();
    let replaces = repo::current(&mut tx, &b.tender_id, b.lot_no, &b.bidder_org_id).await?;
    if let Some(old) = &replaces {
        repo::set_status(&mut *tx, old, BidStatus::Replaced, now).await?;
    }
    let receipt = Receipt {
        kind: "kaibiao.bid_receipt.v1".into(),
        bid_id: b.id.clone(),
        tender_id: b.tender_id.clone(),
        tender_code: code,
        lot_no: expect(&b)?,
        bidder_org_id: b.bidder_org_id.clone(),
        size: req.size,
        ciphertext_sha256: sha.clone(),
        header_sha256: crate::crypto::sha256_hex(&header_bytes),
        kb_sha256: header.kb_sha256.clone(),
        received_at: now,
        received_at_cst: crate::clock::format_cst(now),
        replaces: replaces.clone(),
    };
    let signed = sign_receipt(state, receipt)?;
    let signed_json = serde_json::to_string(&signed).map_err(anyhow::Error::from)?;
    repo::mark_submitted(
        &mut tx,
        &b.id,
        req.size as i64,
        &sha,
        &signed.receipt.header_sha256,
        &signed.receipt.kb_sha256,
        &signed_json,
        now,
    )
    .await?;
    // Into the bid register, hashes only: the tender's ledger, which its members watch,
    // shows nothing from which bids could be counted before the deadline.
    let event = LedgerEvent::BidSubmitted(BidSubmitted {
        bid_id: b.id.clone(),
        ciphertext_sha256: sha,
        size: req.size,
        replaces,
        receipt_sha256: receipt_sha256(&signed)?,
    });
    crate::ledger::repo::append_bid(&mut tx, &b.tender_id, now, &b.id, &event).await?;
    tx.commit().await?;
    // The blob holds it now: the partial bytes would double the disk they take.
    drop(whole);
    drop_bytes(state, bid_id).await;
    state.rooms.notify_bids(&b.tender_id);
    let b = repo::get(&state.db.pool, bid_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(b.view())
}

#[tracing::instrument(skip_all, fields(bid = %bid_id), err)]
pub async fn withdraw(state: &AppState, user: &CurrentUser, bid_id: &str) -> AppResult<BidView> {
    own_bid(state, user, bid_id).await?;
    let lock = state.runtime::<UploadLocks>().get(bid_id);
    let _upload = lock.lock().await;
    let _alone = alone_over_the_nodes(state, bid_id).await?;
    let b = own_bid(state, user, bid_id).await?;
    let now = state.clock.now_ms();
    match b.status {
        BidStatus::Uploading => {
            abandon(state, &b, BidStatus::Withdrawn).await?;
        }
        BidStatus::Submitted => {
            let mut tx = state.db.begin().await?;
            let head = tender_repo::lock(&mut tx, &b.tender_id)
                .await?
                .ok_or(AppError::NotFound)?;
            if now >= head.bid_deadline || head.status != TenderStatus::Published {
                return Err(AppError::DeadlinePassed);
            }
            repo::mark_withdrawn(&mut tx, &b.id, now).await?;
            let event = LedgerEvent::BidWithdrawn(BidWithdrawn {
                bid_id: b.id.clone(),
            });
            crate::ledger::repo::append_bid(&mut tx, &b.tender_id, now, &b.id, &event).await?;
            tx.commit().await?;
            state.rooms.notify_bids(&b.tender_id);
        }
        _ => return Err(illegal(&b, "withdraw")),
    }
    let b = repo::get(&state.db.pool, bid_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(b.view())
}

pub async fn status(state: &AppState, user: &CurrentUser, bid_id: &str) -> AppResult<BidView> {
    Ok(own_bid(state, user, bid_id).await?.view())
}

pub async fn mine(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<Vec<BidView>> {
    let org = user.org_id.as_deref().ok_or(AppError::Forbidden)?;
    Ok(repo::for_bidder(&state.db.pool, tender_id, org)
        .await?
        .iter()
        .map(BidRow::view)
        .collect())
}

fn receipt_message(r: &Receipt) -> AppResult<String> {
    Ok(crate::ledger::canonical_json(
        &serde_json::to_value(r).map_err(anyhow::Error::from)?,
    ))
}

pub(crate) fn sign_receipt(state: &AppState, receipt: Receipt) -> AppResult<SignedReceipt> {
    let sig = state.pki.sign(receipt_message(&receipt)?.as_bytes())?;
    Ok(SignedReceipt {
        receipt,
        signature: crate::crypto::b64url::encode(&sig),
        signer_pem: state.pki.signer_pem.clone(),
    })
}

/// What the bid register records of a receipt: the SHA-256 of the signed receipt's
/// canonical JSON, which a bidder recomputes from the receipt they hold.
pub fn receipt_sha256(signed: &SignedReceipt) -> AppResult<String> {
    let value = serde_json::to_value(signed).map_err(anyhow::Error::from)?;
    Ok(crate::crypto::sha256_hex(
        crate::ledger::canonical_json(&value).as_bytes(),
    ))
}

/// Checks a receipt offline: the signer's certificate chains to the platform CA
/// (`ca_der`) and the signature covers the receipt as shown.
pub fn verify_receipt(signed: &SignedReceipt, ca_der: &[u8], now_ms: i64) -> bool {
    let Ok(public) = crate::pki::authority::check_chain(&signed.signer_pem, ca_der, now_ms) else {
        return false;
    };
    let Some(sig) = crate::crypto::b64url::decode(&signed.signature) else {
        return false;
    };
    let Ok(msg) = receipt_message(&signed.receipt) else {
        return false;
    };
    crate::pki::authority::verify_signature(&public, msg.as_bytes(), &sig)
}
