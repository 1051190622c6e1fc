//! Content-addressed blob storage (bid ciphertexts, documents, recordings): a local folder
//! through `object_store` by default (shared by a mount when there are several nodes), or
//! a NATS JetStream object store every node reaches (`--blob-store nats://…`). Blobs are
//! named by their SHA-256, checked on the way out; rows hold the hash, never the bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use async_nats::jetstream::object_store as nats;
use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// A half-stored blob this long untouched was left by a run that stopped.
const STAGING_IDLE: std::time::Duration = std::time::Duration::from_secs(3600);

/// The bucket of `--blob-store nats://host:port` when the address names none.
pub const DEFAULT_BUCKET: &str = "kaibiao-blobs";

/// `/healthz` writes its probe object to NATS at most this often.
const NATS_PROBE_EVERY_MS: i64 = 10_000;

/// Parts read at a time from a file or a NATS object.
const PART: usize = 256 << 10;

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
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    /// A folder, where a finished file can simply be moved in and read where it lies.
    Local {
        store: Arc<dyn ObjectStore>,
        root: PathBuf,
    },
    /// A NATS JetStream object store (objects named `sha256/<hash>`), and this node's
    /// folder for copies of blobs that must be files (see [`BlobStore::file`]).
    Nats {
        bucket: Box<nats::ObjectStore>,
        /// The bucket's stream (`OBJ_<bucket>`) and name, to sweep what a crash left.
        stream: Box<async_nats::jetstream::stream::Stream>,
        name: String,
        /// The connection (whether it is up, for `/healthz`) and when `/healthz` last
        /// wrote its probe object.
        client: async_nats::Client,
        probed_at: Arc<std::sync::atomic::AtomicI64>,
        scratch: PathBuf,
        copies: Arc<std::sync::Mutex<Copies>>,
    },
}

/// The blobs copied to this node's scratch folder lately, kept for the next reader (an
/// expert paging through a PDF renders each page from the file), at most [`COPIES_BYTES`]
/// in all; a copy leaves the folder once evicted and no reader holds it.
struct Copies {
    files: lru::LruCache<String, (Arc<tempfile::TempPath>, u64)>,
    bytes: u64,
}

/// What the copies of blobs may take of a node's disk.
const COPIES_BYTES: u64 = 512 << 20;

impl Copies {
    fn get(&mut self, hash: &str) -> Option<Arc<tempfile::TempPath>> {
        self.files.get(hash).map(|(copy, _)| copy.clone())
    }

    fn keep(&mut self, hash: &str, copy: Arc<tempfile::TempPath>, size: u64) {
        if let Some((_, old)) = self.files.put(hash.to_string(), (copy, size)) {
            self.bytes -= old;
        }
        self.bytes += size;
        while self.bytes > COPIES_BYTES {
            let Some((_, (_, dropped))) = self.files.pop_lru() else {
                break;
            };
            self.bytes -= dropped;
        }
    }
}

/// A blob as a file on this node's disk: where a local store keeps it, or a copy (kept a
/// while for the next reader, removed once evicted and dropped).
pub struct BlobFile {
    path: PathBuf,
    _copy: Option<Arc<tempfile::TempPath>>,
}

impl std::ops::Deref for BlobFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

/// Where a local store keeps the blob named `hash`.
fn local_file(root: &Path, hash: &str) -> PathBuf {
    root.join("sha256").join(&hash[..2]).join(hash)
}

fn nats_name(hash: &str) -> String {
    format!("sha256/{hash}")
}

fn not_found(e: &nats::GetError) -> bool {
    e.kind() == nats::GetErrorKind::NotFound
}

/// The descriptions of the objects in `stream` (bucket `name`) whose names start with
/// `prefix`, deleted ones left out. Read subject by subject — the stream's description
/// subjects, then the last message of each that matches — not by NATS's own listing: that
/// counts the descriptions pending when it starts and waits for the last of them, for ever
/// when another node removes one in between (two nodes sweeping, or one removing the parts
/// it stored while another lists them).
pub async fn object_infos(
    stream: &async_nats::jetstream::stream::Stream,
    name: &str,
    prefix: &str,
) -> anyhow::Result<Vec<nats::ObjectInfo>> {
    use async_nats::jetstream::stream::LastRawMessageErrorKind;
    use base64::Engine;
    use futures_util::StreamExt;
    let meta = format!("$O.{name}.M.");
    let mut matching = Vec::new();
    let mut subjects = stream.info_with_subjects(format!("{meta}>")).await?;
    while let Some(subject) = subjects.next().await {
        let (subject, _) = subject?;
        let object = subject
            .strip_prefix(&meta)
            .and_then(|encoded| {
                base64::engine::general_purpose::URL_SAFE
                    .decode(encoded)
                    .ok()
            })
            .and_then(|raw| String::from_utf8(raw).ok());
        if object.is_some_and(|o| o.starts_with(prefix)) {
            matching.push(subject);
        }
    }
    let mut infos = Vec::with_capacity(matching.len());
    for subject in matching {
        match stream.get_last_raw_message_by_subject(&subject).await {
            Ok(message) => {
                let info: nats::ObjectInfo = serde_json::from_slice(&message.payload)
                    .with_context(|| format!("the description at {subject}"))?;
                if !info.deleted {
                    infos.push(info);
                }
            }
            // Removed since the subjects were read.
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(infos)
}

/// Purges the chunks in `stream` (bucket `name`) of objects that have no description —
/// what a node killed while storing a blob leaves — once untouched for `idle`: a node
/// storing a blob now has written chunks and not yet their description. Returns how many
/// objects' chunks went.
pub async fn sweep_nats(
    stream: &async_nats::jetstream::stream::Stream,
    name: &str,
    idle: std::time::Duration,
) -> anyhow::Result<usize> {
    use async_nats::jetstream::stream::LastRawMessageErrorKind;
    use futures_util::StreamExt;
    let described: std::collections::HashSet<String> = object_infos(stream, name, "")
        .await?
        .into_iter()
        .map(|info| info.nuid)
        .collect();
    let prefix = format!("$O.{name}.C.");
    let mut orphans = Vec::new();
    let mut subjects = stream.info_with_subjects(format!("{prefix}>")).await?;
    while let Some(subject) = subjects.next().await {
        let (subject, _) = subject?;
        if subject
            .strip_prefix(&prefix)
            .is_some_and(|nuid| !described.contains(nuid))
        {
            orphans.push(subject);
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let mut removed = 0;
    for subject in orphans {
        let last = match stream.get_last_raw_message_by_subject(&subject).await {
            Ok(last) => last,
            // Purged since (another node sweeping too).
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => continue,
            Err(e) => return Err(e.into()),
        };
        if now - last.time.unix_timestamp() >= idle.as_secs() as i64 {
            stream.purge().filter(&subject).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Copies what `from` gives to `to` in parts of [`PART`], each fed to `hasher` on the way.
pub async fn copy_hashing(
    from: &mut (impl AsyncRead + Unpin),
    to: &mut (impl tokio::io::AsyncWrite + Unpin),
    hasher: &mut Sha256,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; PART];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n]).await?;
    }
}

/// The SHA-256 (hex) of a file, streamed, off the async threads.
pub async fn hash_file(path: &Path) -> std::io::Result<String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || kaibiao_media::hash_file(&path))
        .await
        .map_err(std::io::Error::other)?
        .map(|(hash, _)| hash)
}

/// Stores what `data` gives under `hash` unless the bucket has it already (the same
/// name is the same bytes).
async fn put_nats(
    bucket: &nats::ObjectStore,
    hash: &str,
    data: &mut (impl AsyncRead + Unpin),
) -> anyhow::Result<()> {
    let name = nats_name(hash);
    if bucket.info(&name).await.is_ok_and(|i| !i.deleted) {
        return Ok(());
    }
    bucket.put(name.as_str(), data).await?;
    Ok(())
}

fn object_path(hash: &str) -> ObjectPath {
    ObjectPath::from(format!("sha256/{}/{}", &hash[..2], hash))
}

fn is_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// `--blob-store nats://[user:password@]host:port[/bucket][?replicas=N]`: the server, the
/// bucket (`kaibiao-blobs` unless named) and, for a bucket made now, how many servers of a
/// JetStream cluster keep each blob (1 unless given; an existing bucket keeps its own).
#[derive(Debug, PartialEq)]
pub struct NatsAddress<'a> {
    /// `[user:password@]host:port`.
    pub server: &'a str,
    pub bucket: &'a str,
    pub replicas: usize,
}

impl<'a> NatsAddress<'a> {
    pub fn parse(url: &'a str) -> anyhow::Result<NatsAddress<'a>> {
        const FORM: &str = "--blob-store must be nats://host:port[/bucket][?replicas=N]";
        // The value is not echoed: it may carry a password.
        let rest = url.strip_prefix("nats://").context(FORM)?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (server, bucket) = match rest.split_once('/') {
            Some((server, bucket)) if !bucket.is_empty() => (server, bucket),
            Some((server, _)) => (server, DEFAULT_BUCKET),
            None => (rest, DEFAULT_BUCKET),
        };
        anyhow::ensure!(!server.is_empty(), FORM);
        let mut replicas = 1;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("replicas", n)) => {
                    replicas = n
                        .parse()
                        .ok()
                        .filter(|n| (1..=5).contains(n))
                        .context("--blob-store: replicas is a number from 1 to 5")?;
                }
                _ => anyhow::bail!("{FORM}; unknown option {:?}", pair.split('=').next()),
            }
        }
        Ok(NatsAddress {
            server,
            bucket,
            replicas,
        })
    }

    /// The address as logs and errors show it: no user, no password.
    pub fn shown(&self) -> String {
        let host = self.server.rsplit_once('@').map_or(self.server, |(_, h)| h);
        format!("nats://{host}/{}", self.bucket)
    }
}

impl BlobStore {
    /// A store in the folder `dir`.
    pub fn local(dir: &Path) -> anyhow::Result<BlobStore> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let fs = LocalFileSystem::new_with_prefix(dir)?;
        Ok(BlobStore {
            backend: Backend::Local {
                store: Arc::new(fs),
                root: dir.to_path_buf(),
            },
        })
    }

    /// The store at `url` (see [`NatsAddress`]), the bucket made if it is not there, with
    /// this node's copies of blobs in `scratch`; what a stopped run left there is removed.
    pub async fn nats(url: &str, scratch: &Path) -> anyhow::Result<BlobStore> {
        let address = NatsAddress::parse(url)?;
        let shown = address.shown();
        let client = async_nats::ConnectOptions::new()
            .name("kaibiao")
            .connect(format!("nats://{}", address.server))
            .await
            .with_context(|| format!("connecting to the blob store at {shown}"))?;
        let jetstream = async_nats::jetstream::new(client.clone());
        // Nodes starting together may both find no bucket: whoever makes it second finds it.
        let bucket = match jetstream.get_object_store(address.bucket).await {
            Ok(b) => b,
            Err(_) => match jetstream
                .create_object_store(nats::Config {
                    bucket: address.bucket.to_string(),
                    description: Some("kaibiao: bids, documents, recordings by SHA-256".into()),
                    num_replicas: address.replicas,
                    ..Default::default()
                })
                .await
            {
                Ok(b) => b,
                Err(made) => jetstream
                    .get_object_store(address.bucket)
                    .await
                    .with_context(|| format!("the blob store {shown} (JetStream on?): {made}"))?,
            },
        };
        let stream = jetstream
            .get_stream(format!("OBJ_{}", address.bucket))
            .await
            .with_context(|| format!("the blob store {shown}: its stream"))?;
        let _ = tokio::fs::remove_dir_all(scratch).await;
        tokio::fs::create_dir_all(scratch)
            .await
            .with_context(|| format!("creating {}", scratch.display()))?;
        Ok(BlobStore {
            backend: Backend::Nats {
                bucket: Box::new(bucket),
                stream: Box::new(stream),
                name: address.bucket.to_string(),
                client,
                probed_at: Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN)),
                scratch: scratch.to_path_buf(),
                copies: Arc::new(std::sync::Mutex::new(Copies {
                    files: lru::LruCache::unbounded(),
                    bytes: 0,
                })),
            },
        })
    }

    /// Stores `bytes` and returns their SHA-256 (hex), which names them.
    pub async fn put(&self, bytes: Bytes) -> anyhow::Result<String> {
        let hash = crate::crypto::sha256_hex(&bytes);
        match &self.backend {
            Backend::Local { store, .. } => {
                store
                    .put(&object_path(&hash), PutPayload::from_bytes(bytes))
                    .await?;
            }
            Backend::Nats { bucket, .. } => put_nats(bucket, &hash, &mut bytes.as_ref()).await?,
        }
        Ok(hash)
    }

    /// Stores a file, streamed in parts, and returns its SHA-256 (hex), which names it.
    pub async fn put_file(&self, path: &Path) -> anyhow::Result<String> {
        match &self.backend {
            Backend::Local { store, .. } => {
                let staging = ObjectPath::from(format!("incoming/{}", uuid::Uuid::new_v4()));
                let mut upload = store.put_multipart(&staging).await?;
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
                store.rename(&staging, &object_path(&hash)).await?;
                Ok(hash)
            }
            Backend::Nats { bucket, .. } => {
                // The name comes first in NATS: the file is read twice, once to name it.
                let hash = hash_file(path).await?;
                let mut file = tokio::fs::File::open(path).await?;
                put_nats(bucket, &hash, &mut file).await?;
                Ok(hash)
            }
        }
    }

    /// Whether the store takes a write now: a small object written over the last one (a
    /// full disk or a read-only store fails it), for `/healthz`. In NATS, whether the
    /// connection is up at every call, and the write at most every [`NATS_PROBE_EVERY_MS`]
    /// (each write is a new version of the object and a purge of the last).
    pub async fn probe(&self, now_ms: i64) -> anyhow::Result<()> {
        let stamp = now_ms.to_string().into_bytes();
        match &self.backend {
            Backend::Local { store, .. } => {
                store
                    .put(&ObjectPath::from("health/probe"), PutPayload::from(stamp))
                    .await?;
            }
            Backend::Nats {
                bucket,
                client,
                probed_at,
                ..
            } => {
                use std::sync::atomic::Ordering;
                anyhow::ensure!(
                    client.connection_state() == async_nats::connection::State::Connected,
                    "the blob store is not connected"
                );
                let last = probed_at.load(Ordering::Relaxed);
                if now_ms.saturating_sub(last) >= NATS_PROBE_EVERY_MS || now_ms < last {
                    bucket.put("health/probe", &mut stamp.as_slice()).await?;
                    probed_at.store(now_ms, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    }

    /// Removes what a crash left half-stored, once nobody wrote to it for an hour (another
    /// node may be storing a blob now): a local store's staging (`incoming/`); in NATS, the
    /// chunks of objects whose description was never written, swept in the background
    /// (it reads every object's description). This node's copies went at start.
    pub async fn sweep_staging(&self) -> anyhow::Result<()> {
        if let Backend::Nats { stream, name, .. } = &self.backend {
            let (stream, name) = (stream.clone(), name.clone());
            tokio::spawn(async move {
                match sweep_nats(&stream, &name, STAGING_IDLE).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(objects = n, "half-stored blobs of an earlier run removed")
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "sweeping the blob store's half-stored blobs")
                    }
                }
            });
            return Ok(());
        }
        let Backend::Local { root, .. } = &self.backend else {
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
        if let Backend::Local { root, .. } = &self.backend {
            let target = local_file(root, hash);
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

    /// A blob as a file, for readers that need one (the opening decrypts bids from disk,
    /// poppler reads PDFs): a local store's own file, unchecked (and perhaps missing:
    /// opening it fails); from NATS, a copy in this node's scratch folder, checked against
    /// its name, `None` if there is no such blob.
    pub async fn file(&self, hash: &str) -> anyhow::Result<Option<BlobFile>> {
        if !is_hash(hash) {
            return Ok(None);
        }
        let (bucket, scratch, copies) = match &self.backend {
            Backend::Local { root, .. } => {
                return Ok(Some(BlobFile {
                    path: local_file(root, hash),
                    _copy: None,
                }));
            }
            Backend::Nats {
                bucket,
                scratch,
                copies,
                ..
            } => (bucket, scratch, copies),
        };
        let lock = || copies.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(copy) = lock().get(hash) {
            return Ok(Some(BlobFile {
                path: copy.to_path_buf(),
                _copy: Some(copy),
            }));
        }
        let mut object = match bucket.get(nats_name(hash)).await {
            Ok(o) => o,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let copy = tempfile::NamedTempFile::new_in(scratch)?.into_temp_path();
        let mut out = tokio::fs::File::create(&copy).await?;
        let mut hasher = Sha256::new();
        copy_hashing(&mut object, &mut out, &mut hasher).await?;
        out.flush().await?;
        anyhow::ensure!(
            hex::encode(hasher.finalize()) == hash,
            "blob {hash} does not match its hash"
        );
        let copy = Arc::new(copy);
        lock().keep(hash, copy.clone(), object.info.size as u64);
        Ok(Some(BlobFile {
            path: copy.to_path_buf(),
            _copy: Some(copy),
        }))
    }

    /// The first `n` bytes of a blob (fewer if it is shorter), unchecked: for headers
    /// that carry their own integrity.
    pub async fn get_prefix(&self, hash: &str, n: usize) -> anyhow::Result<Option<Vec<u8>>> {
        if !is_hash(hash) {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(n.min(PART));
        match &self.backend {
            Backend::Local { root, .. } => {
                let path = local_file(root, hash);
                let file = match tokio::fs::File::open(&path).await {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                file.take(n as u64).read_to_end(&mut out).await?;
            }
            Backend::Nats { bucket, .. } => {
                let object = match bucket.get(nats_name(hash)).await {
                    Ok(o) => o,
                    Err(e) if not_found(&e) => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                object.take(n as u64).read_to_end(&mut out).await?;
            }
        }
        Ok(Some(out))
    }

    /// Objects under names of the caller's, when the blobs are in NATS (see [`Named`]).
    pub fn named(&self) -> Option<Named<'_>> {
        match &self.backend {
            Backend::Local { .. } => None,
            Backend::Nats {
                bucket,
                stream,
                name,
                scratch,
                ..
            } => Some(Named {
                bucket,
                stream,
                name,
                scratch,
            }),
        }
    }

    /// The blob named `hash`, checked against its name on the way out.
    pub async fn get(&self, hash: &str) -> anyhow::Result<Option<Bytes>> {
        if !is_hash(hash) {
            return Ok(None);
        }
        let bytes = match &self.backend {
            Backend::Local { store, .. } => match store.get(&object_path(hash)).await {
                Ok(r) => r.bytes().await?,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e.into()),
            },
            Backend::Nats { bucket, .. } => match bucket.get(nats_name(hash)).await {
                Ok(mut object) => {
                    let mut out = Vec::with_capacity(object.info.size);
                    object.read_to_end(&mut out).await?;
                    Bytes::from(out)
                }
                Err(e) if not_found(&e) => return Ok(None),
                Err(e) => return Err(e.into()),
            },
        };
        anyhow::ensure!(
            crate::crypto::sha256_hex(&bytes) == hash,
            "blob {hash} does not match its hash"
        );
        Ok(Some(bytes))
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
        let (size, parts): (u64, BlobStream) = match &self.backend {
            // The file itself, read in large parts (object_store's stream reads 8 KiB at a
            // time, each on a blocking thread of its own: a quarter of the speed).
            Backend::Local { root, .. } => {
                match tokio::fs::File::open(local_file(root, hash)).await {
                    Ok(file) => (
                        file.metadata().await?.len(),
                        Box::pin(tokio_util::io::ReaderStream::with_capacity(file, PART)),
                    ),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e.into()),
                }
            }
            Backend::Nats { bucket, .. } => match bucket.get(nats_name(hash)).await {
                Ok(object) => (
                    object.info.size as u64,
                    Box::pin(tokio_util::io::ReaderStream::with_capacity(object, PART)),
                ),
                Err(e) if not_found(&e) => return Ok(None),
                Err(e) => return Err(e.into()),
            },
        };
        let hasher = Arc::new(std::sync::Mutex::new(Sha256::new()));
        let feed = hasher.clone();
        let want = hash.to_string();
        let parts = parts.map(move |part| {
            let part = part?;
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

/// With blobs in NATS, objects under names of the caller's (not hashes) in the same bucket:
/// the parts of uploads under way, which the next request may bring to any node. Not
/// checked against a hash: the caller checks the whole once it is put together.
pub struct Named<'a> {
    bucket: &'a nats::ObjectStore,
    stream: &'a async_nats::jetstream::stream::Stream,
    name: &'a str,
    scratch: &'a Path,
}

impl Named<'_> {
    /// This node's folder for files on their way in or out.
    pub fn scratch(&self) -> &Path {
        self.scratch
    }

    /// Stores the file at `path` as `name`, in place of what was there.
    pub async fn put(&self, name: &str, path: &Path) -> anyhow::Result<()> {
        let mut file = tokio::fs::File::open(path).await?;
        self.bucket.put(name, &mut file).await?;
        Ok(())
    }

    /// The object `name`, as (size, reader); `None` if there is none.
    pub async fn open(&self, name: &str) -> anyhow::Result<Option<(u64, nats::Object)>> {
        match self.bucket.get(name).await {
            Ok(object) => Ok(Some((object.info.size as u64, object))),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the object `name`, its chunks and its description, leaving no marker
    /// (NATS's own delete keeps one per name for good). Its size; `None` if there is none.
    pub async fn remove(&self, name: &str) -> anyhow::Result<Option<u64>> {
        use base64::Engine;
        let info = match self.bucket.info(name).await {
            Ok(info) if !info.deleted => info,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == nats::InfoErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        self.stream
            .purge()
            .filter(format!("$O.{}.C.{}", self.name, info.nuid))
            .await?;
        let meta = base64::engine::general_purpose::URL_SAFE.encode(name);
        self.stream
            .purge()
            .filter(format!("$O.{}.M.{meta}", self.name))
            .await?;
        Ok(Some(info.size as u64))
    }

    /// The names of the objects starting with `prefix` (reads the description of each).
    pub async fn list(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let infos = object_infos(self.stream, self.name, prefix).await?;
        Ok(infos.into_iter().map(|info| info.name).collect())
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

    #[test]
    fn a_nats_address_names_server_bucket_and_replicas_and_shows_no_password() {
        let a = NatsAddress::parse("nats://ops:s3cret@10.0.0.5:4222/city?replicas=3").unwrap();
        assert_eq!(
            a,
            NatsAddress {
                server: "ops:s3cret@10.0.0.5:4222",
                bucket: "city",
                replicas: 3
            }
        );
        assert_eq!(a.shown(), "nats://10.0.0.5:4222/city");
        let plain = NatsAddress::parse("nats://127.0.0.1:4222").unwrap();
        assert_eq!((plain.bucket, plain.replicas), (DEFAULT_BUCKET, 1));
        assert_eq!(
            NatsAddress::parse("nats://h:1/").unwrap().bucket,
            DEFAULT_BUCKET
        );
        for bad in [
            "s3://ops:s3cret@bucket",
            "nats://",
            "nats://h:1?replicas=0",
            "nats://h:1?replicas=x",
            "nats://h:1?password=s3cret",
        ] {
            let err = format!("{:#}", NatsAddress::parse(bad).unwrap_err());
            assert!(err.contains("--blob-store"), "{bad}: {err}");
            assert!(!err.contains("s3cret"), "{bad}: {err}");
        }
    }
}
