//! Content-addressed blob storage (bid ciphertexts, documents, recordings) through
//! `object_store`: a local folder by default. Blobs are named by their SHA-256; rows hold
//! the hash, never the bytes.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};

/// A half-stored blob this long untouched was left by a run that stopped.
const STAGING_IDLE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes the file of `entry` if nobody wrote to it for `idle` (a folder other nodes
/// share holds files they are writing now); whether it did.
pub async fn remove_if_idle(entry: &tokio::fs::DirEntry, idle: std::time::Duration) -> bool {
    let untouched = entry
        .metadata()
        .await
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age >= idle);
    untouched && tokio::fs::remove_file(entry.path()).await.is_ok()
}

#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// The folder of a local store, where a finished file can simply be moved in.
    local_root: Option<std::path::PathBuf>,
}

fn object_path(hash: &str) -> ObjectPath {
    ObjectPath::from(format!("sha256/{}/{}", &hash[..2], hash))
}

fn is_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl BlobStore {
    pub fn local(dir: &Path) -> anyhow::Result<BlobStore> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let fs = LocalFileSystem::new_with_prefix(dir)?;
        Ok(BlobStore {
            store: Arc::new(fs),
            local_root: Some(dir.to_path_buf()),
        })
    }

    /// Stores `bytes` and returns their SHA-256 (hex), which names them.
    pub async fn put(&self, bytes: Bytes) -> anyhow::Result<String> {
        let hash = hex::encode(Sha256::digest(&bytes));
        self.store
            .put(&object_path(&hash), PutPayload::from_bytes(bytes))
            .await?;
        Ok(hash)
    }

    /// Stores a file, streamed in parts, and returns its SHA-256 (hex), which names it.
    pub async fn put_file(&self, path: &Path) -> anyhow::Result<String> {
        use tokio::io::AsyncReadExt;
        let staging = ObjectPath::from(format!("incoming/{}", uuid::Uuid::new_v4()));
        let mut upload = self.store.put_multipart(&staging).await?;
        let mut file = tokio::fs::File::open(path).await?;
        let mut hasher = Sha256::new();
        loop {
            let mut buf = vec![0u8; 8 << 20];
            let mut filled = 0;
            while filled < buf.len() {
                let n = file.read(&mut buf[filled..]).await?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                break;
            }
            buf.truncate(filled);
            hasher.update(&buf);
            upload.put_part(PutPayload::from(buf)).await?;
        }
        upload.complete().await?;
        let hash = hex::encode(hasher.finalize());
        self.store.rename(&staging, &object_path(&hash)).await?;
        Ok(hash)
    }

    /// Whether the store takes a write now: a small object written over the last one (a
    /// full disk or a read-only store fails it), for `/healthz`.
    pub async fn probe(&self, now_ms: i64) -> anyhow::Result<()> {
        self.store
            .put(
                &ObjectPath::from("health/probe"),
                PutPayload::from(now_ms.to_string().into_bytes()),
            )
            .await?;
        Ok(())
    }

    /// Removes what a crash left half-stored (`incoming/`, a local store's staging).
    pub async fn sweep_staging(&self) -> anyhow::Result<()> {
        let Some(root) = &self.local_root else {
            return Ok(());
        };
        let mut entries = match tokio::fs::read_dir(root.join("incoming")).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        // Only what nobody wrote to for a while: another node sharing the store may be
        // storing a file right now.
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await? {
            if remove_if_idle(&entry, STAGING_IDLE).await {
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(
                files = removed,
                "half-stored blobs of an earlier run removed"
            );
        }
        Ok(())
    }

    /// Takes over a finished file whose SHA-256 the caller has computed: a rename within a
    /// local store (no second copy of a large bid), a streamed upload otherwise.
    pub async fn adopt_file(&self, path: &Path, hash: &str) -> anyhow::Result<()> {
        anyhow::ensure!(is_hash(hash), "not a SHA-256: {hash}");
        if let Some(root) = &self.local_root {
            let target = root.join("sha256").join(&hash[..2]).join(hash);
            tokio::fs::create_dir_all(target.parent().expect("has a parent")).await?;
            if tokio::fs::rename(path, &target).await.is_ok() {
                return Ok(());
            }
        }
        let stored = self.put_file(path).await?;
        anyhow::ensure!(stored == hash, "the file changed while it was stored");
        tokio::fs::remove_file(path).await?;
        Ok(())
    }

    /// Where a blob of a local store lives, for readers that stream it from disk (the
    /// opening decrypts bids this way; nothing checks the hash on this path).
    pub fn local_path(&self, hash: &str) -> Option<std::path::PathBuf> {
        let root = self.local_root.as_ref()?;
        is_hash(hash).then(|| root.join("sha256").join(&hash[..2]).join(hash))
    }

    /// The first `n` bytes of a blob (fewer if it is shorter), unchecked: for headers
    /// that carry their own integrity.
    pub async fn get_prefix(&self, hash: &str, n: usize) -> anyhow::Result<Option<Vec<u8>>> {
        use tokio::io::AsyncReadExt;
        if let Some(path) = self.local_path(hash) {
            let file = match tokio::fs::File::open(&path).await {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e.into()),
            };
            let mut out = Vec::with_capacity(n);
            file.take(n as u64).read_to_end(&mut out).await?;
            return Ok(Some(out));
        }
        Ok(self.get(hash).await?.map(|b| b[..n.min(b.len())].to_vec()))
    }

    /// The blob named `hash`, checked against its name on the way out.
    pub async fn get(&self, hash: &str) -> anyhow::Result<Option<Bytes>> {
        if !is_hash(hash) {
            return Ok(None);
        }
        match self.store.get(&object_path(hash)).await {
            Ok(r) => {
                let bytes = r.bytes().await?;
                anyhow::ensure!(
                    hex::encode(Sha256::digest(&bytes)) == hash,
                    "blob {hash} does not match its hash"
                );
                Ok(Some(bytes))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A blob as a stream of parts, for serving large ones without holding them in memory:
    /// (size, parts). The hash is checked as the parts go by; a blob that does not match it
    /// ends the stream with an error, so the reader gets a broken download, never a wrong
    /// file that looks whole.
    pub async fn stream(&self, hash: &str) -> anyhow::Result<Option<(u64, BlobStream)>> {
        use futures_util::StreamExt;
        if !is_hash(hash) {
            return Ok(None);
        }
        let r = match self.store.get(&object_path(hash)).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let size = r.meta.size;
        let hasher = Arc::new(std::sync::Mutex::new(Sha256::new()));
        let feed = hasher.clone();
        let want = hash.to_string();
        let parts = r.into_stream().map(move |part| {
            let part = part.map_err(std::io::Error::other)?;
            feed.lock().unwrap_or_else(|e| e.into_inner()).update(&part);
            Ok(part)
        });
        let check = futures_util::stream::once(async move {
            let h = std::mem::take(&mut *hasher.lock().unwrap_or_else(|e| e.into_inner()));
            if hex::encode(h.finalize()) == want {
                Ok(Bytes::new())
            } else {
                tracing::error!(blob = %want, "blob does not match its hash");
                Err(std::io::Error::other("blob does not match its hash"))
            }
        });
        Ok(Some((size, Box::pin(parts.chain(check)))))
    }
}

/// The parts of a blob being read (see [`BlobStore::stream`]).
pub type BlobStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = std::io::Result<Bytes>> + Send>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_are_named_by_their_hash_and_checked_on_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::local(dir.path()).unwrap();
        let hash = store.put(Bytes::from_static(b"abc")).await.unwrap();
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(store.get(&hash).await.unwrap().unwrap(), &b"abc"[..]);
        assert!(store.get(&"0".repeat(64)).await.unwrap().is_none());
        assert!(store.get("../etc/passwd").await.unwrap().is_none());
        let read_all = |hash: String| {
            let store = store.clone();
            async move {
                use futures_util::StreamExt;
                let (size, mut parts) = store.stream(&hash).await.unwrap().unwrap();
                let mut got = Vec::new();
                while let Some(p) = parts.next().await {
                    got.extend_from_slice(&p?);
                }
                Ok::<_, std::io::Error>((size, got))
            }
        };
        assert_eq!(read_all(hash.clone()).await.unwrap(), (3, b"abc".to_vec()));
        // A blob altered on disk is refused, whole or streamed (the stream ends broken).
        let file = dir.path().join("sha256").join(&hash[..2]).join(&hash);
        std::fs::write(file, b"abd").unwrap();
        assert!(store.get(&hash).await.is_err());
        assert!(read_all(hash).await.is_err());
    }
}
