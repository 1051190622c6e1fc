//! Where a bid's bytes wait until the bidder completes it: the next chunk may reach any
//! node, so they wait where every node reaches them. With blobs in a folder, a file per
//! bid in the shared folder's `uploads/` (`<bid>.part`, appended in place); with blobs in
//! NATS, one object per chunk in the same bucket (`upload/<bid>/<offset>`), so that nodes
//! need no shared folder for uploads. Either holds ciphertext only, as the blob does later.

use std::path::{Path, PathBuf};

use tokio::io::AsyncReadExt;

use crate::blob::Named;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// What names a chunk still streaming (or left by a node killed while it streamed).
pub(super) const CHUNK_SUFFIX: &str = ".chunk";

pub(super) enum Partial<'a> {
    /// The shared folder's `uploads/`.
    Folder(PathBuf),
    Nats(Named<'a>),
}

/// A chunk in the file of its own it streams into, until it is appended to its bid's
/// bytes: two requests for one offset (a retry sent to another node while the first still
/// streams) never write into the same file. Removed when dropped.
pub(super) struct IncomingChunk(pub(super) PathBuf);

impl Drop for IncomingChunk {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn internal(e: impl Into<anyhow::Error>) -> AppError {
    AppError::Internal(e.into())
}

/// What the names of upload parts in NATS start with: `upload/<bid>/<offset>`.
const PARTS: &str = "upload/";

fn part_name(bid_id: &str, at: u64) -> String {
    format!("{PARTS}{bid_id}/{at}")
}

/// The bytes of an upload under way from this offset on are no longer where they were put:
/// a part gone from NATS (removed behind the nodes' backs, a server that lost data), or a
/// partial file shorter than counted or gone (a disk that lost its tail, a folder restored
/// from a backup). The bidder sends them again from there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Lost(pub(super) u64);

/// A read of what has been received: the bytes, or where they stop being there.
pub(super) type Read<T> = AppResult<Result<T, Lost>>;

/// A bid's bytes put together as one file: the partial file itself, or a copy made from
/// the parts in NATS (removed when dropped) with its SHA-256, computed on the way.
pub(super) struct Whole {
    pub(super) path: PathBuf,
    pub(super) sha256: Option<String>,
    _copy: Option<tempfile::TempPath>,
}

pub(super) fn of(state: &AppState) -> Partial<'_> {
    match state.blobs.named() {
        Some(named) => Partial::Nats(named),
        None => Partial::Folder(state.config.shared().join("uploads")),
    }
}

impl Partial<'_> {
    fn file(dir: &Path, bid_id: &str) -> PathBuf {
        dir.join(format!("{bid_id}.part"))
    }

    /// Where the next chunk of `bid_id` streams in: the uploads folder, or this node's
    /// scratch folder when the parts go to NATS.
    pub(super) fn incoming(&self, bid_id: &str) -> IncomingChunk {
        let dir = match self {
            Partial::Folder(dir) => dir.as_path(),
            Partial::Nats(named) => named.scratch(),
        };
        IncomingChunk(dir.join(format!(
            "{bid_id}.{}{CHUNK_SUFFIX}",
            uuid::Uuid::new_v4().simple()
        )))
    }

    /// Makes room for a new upload's bytes.
    pub(super) async fn begin(&self, bid_id: &str) -> AppResult<()> {
        if let Partial::Folder(dir) = self {
            tokio::fs::create_dir_all(dir).await.map_err(internal)?;
            tokio::fs::File::create(Self::file(dir, bid_id))
                .await
                .map_err(internal)?;
        }
        Ok(())
    }

    /// Adds the chunk in the file `chunk` at offset `at`, in place of anything a crash left
    /// there (bytes written but never counted); stored before it is counted. [`Lost`] if the
    /// partial file no longer reaches `at` (the parts in NATS are checked when read).
    pub(super) async fn append(&self, bid_id: &str, at: u64, chunk: &Path) -> Read<()> {
        match self {
            Partial::Folder(dir) => {
                let file = Self::file(dir, bid_id);
                if let Err(lost) = held(bid_id, &file, at).await? {
                    return Ok(Err(lost));
                }
                append_chunk(file, at, chunk).await.map(Ok)
            }
            Partial::Nats(named) => {
                if tokio::fs::metadata(chunk).await.map_err(internal)?.len() == 0 {
                    return Ok(Ok(()));
                }
                named
                    .put(&part_name(bid_id, at), chunk)
                    .await
                    .map_err(internal)
                    .map(Ok)
            }
        }
    }

    /// The first `n` bytes of what has been received (`received` of them).
    pub(super) async fn prefix(&self, bid_id: &str, received: u64, n: usize) -> Read<Vec<u8>> {
        let mut buf = Vec::with_capacity(n);
        match self {
            Partial::Folder(dir) => {
                let file = Self::file(dir, bid_id);
                if let Err(lost) = held(bid_id, &file, received).await? {
                    return Ok(Err(lost));
                }
                let f = tokio::fs::File::open(file).await.map_err(internal)?;
                f.take(n as u64)
                    .read_to_end(&mut buf)
                    .await
                    .map_err(internal)?;
            }
            Partial::Nats(named) => {
                let mut at = 0;
                while at < received && buf.len() < n {
                    let Some((size, part)) = open_part(named, bid_id, at).await? else {
                        return Ok(Err(Lost(at)));
                    };
                    part.take((n - buf.len()) as u64)
                        .read_to_end(&mut buf)
                        .await
                        .map_err(internal)?;
                    at += size;
                }
            }
        }
        Ok(Ok(buf))
    }

    /// The `received` bytes as one file.
    pub(super) async fn whole(&self, bid_id: &str, received: u64) -> Read<Whole> {
        let named = match self {
            Partial::Folder(dir) => {
                let path = Self::file(dir, bid_id);
                return Ok(held(bid_id, &path, received).await?.map(|()| Whole {
                    path,
                    sha256: None,
                    _copy: None,
                }));
            }
            Partial::Nats(named) => named,
        };
        use sha2::Digest;
        use tokio::io::AsyncWriteExt;
        let copy = tempfile::NamedTempFile::new_in(named.scratch())
            .map_err(internal)?
            .into_temp_path();
        let mut out = tokio::fs::File::create(&copy).await.map_err(internal)?;
        let mut hasher = sha2::Sha256::new();
        let mut at = 0;
        while at < received {
            let Some((size, mut part)) = open_part(named, bid_id, at).await? else {
                return Ok(Err(Lost(at)));
            };
            crate::blob::copy_hashing(&mut part, &mut out, &mut hasher)
                .await
                .map_err(internal)?;
            at += size;
        }
        out.flush().await.map_err(internal)?;
        if at != received {
            return Err(internal(anyhow::anyhow!(
                "the parts of bid {bid_id} end at {at}, not {received}"
            )));
        }
        Ok(Ok(Whole {
            path: copy.to_path_buf(),
            sha256: Some(hex::encode(hasher.finalize())),
            _copy: Some(copy),
        }))
    }

    /// Drops the bid's bytes (stored as a blob, or no longer wanted).
    pub(super) async fn remove(&self, bid_id: &str) -> AppResult<()> {
        match self {
            Partial::Folder(dir) => {
                let _ = tokio::fs::remove_file(Self::file(dir, bid_id)).await;
            }
            // Part after part, up to the first missing: that takes the one a crash may
            // have left at the offset reached, too.
            Partial::Nats(named) => {
                let mut at = 0;
                while let Some(size) = named
                    .remove(&part_name(bid_id, at))
                    .await
                    .map_err(internal)?
                {
                    if size == 0 {
                        break;
                    }
                    at += size;
                }
            }
        }
        Ok(())
    }
}

/// The part of `bid_id` at offset `at` (size, reader); `None` if it is missing.
async fn open_part(
    named: &Named<'_>,
    bid_id: &str,
    at: u64,
) -> AppResult<Option<(u64, async_nats::jetstream::object_store::Object)>> {
    match named.open(&part_name(bid_id, at)).await.map_err(internal)? {
        Some((size, part)) if size > 0 => Ok(Some((size, part))),
        _ => {
            tracing::warn!(bid = %bid_id, at, "an upload's part is missing");
            Ok(None)
        }
    }
}

/// Whether the partial file `path` still holds the first `received` bytes: [`Lost`] from
/// where it ends if it is shorter, from 0 if it is gone.
async fn held(bid_id: &str, path: &Path, received: u64) -> Read<()> {
    let len = match tokio::fs::metadata(path).await {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(internal(e)),
    };
    if len < received {
        tracing::warn!(bid = %bid_id, len, received, "an upload's partial file is shorter than counted");
        return Ok(Err(Lost(len)));
    }
    Ok(Ok(()))
}

/// Appends `chunk` to the partial file at `at`, cutting first what lies past `at` (bytes
/// a crash wrote but never counted), and syncs it: on disk before it is counted.
async fn append_chunk(part: PathBuf, at: u64, chunk: &Path) -> AppResult<()> {
    let chunk = chunk.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        // Created again if it was lost at 0 (see [`held`]).
        let mut to = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(part)?;
        to.set_len(at)?;
        to.seek(SeekFrom::Start(at))?;
        // A copy within the kernel (copy_file_range) where the file system allows.
        std::io::copy(&mut std::fs::File::open(chunk)?, &mut to)?;
        to.sync_data()
    })
    .await
    .map_err(internal)?
    .map_err(internal)
}

/// Removes the parts in NATS of bids no longer being uploaded (a crash between storing
/// the blob and removing them; or of no bid at all). Reads the description of every part:
/// run in the background at start. How many parts went.
pub(super) async fn sweep_nats(state: &AppState) -> anyhow::Result<usize> {
    let Some(named) = state.blobs.named() else {
        return Ok(0);
    };
    let mut live = std::collections::HashMap::new();
    let mut removed = 0;
    for name in named.list(PARTS).await? {
        let Some(bid) = name.strip_prefix(PARTS).and_then(|n| n.split('/').next()) else {
            continue;
        };
        let keep = match live.get(bid) {
            Some(keep) => *keep,
            None => {
                let keep = super::repo::get(&state.db.pool, bid)
                    .await?
                    .is_some_and(|b| b.status == super::types::BidStatus::Uploading);
                live.insert(bid.to_string(), keep);
                keep
            }
        };
        if !keep && named.remove(&name).await?.is_some() {
            removed += 1;
        }
    }
    Ok(removed)
}
