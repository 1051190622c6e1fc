//! The blob store in NATS JetStream (`--blob-store nats://…`), against a real
//! `nats-server -js` this test starts (Debian's `nats-server`): blobs named by their hash,
//! whole or streamed or copied to a file, and an object altered in the bucket refused.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use bytes::Bytes;
use futures_util::StreamExt;
use kaibiao::blob::{BlobStore, DEFAULT_BUCKET};
use tokio::io::AsyncReadExt;

/// A `nats-server` with JetStream on, on a port of its choosing, its store in a folder of
/// its own; stopped when dropped.
pub struct NatsServer {
    child: Child,
    _dir: tempfile::TempDir,
    /// `nats://127.0.0.1:<port>`
    pub url: String,
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts one, or `None` where the server is not installed (a failure under CI=true).
pub fn nats_server() -> Option<NatsServer> {
    let binary = [
        "nats-server",
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
    ]
    .into_iter()
    .find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(binary) = binary else {
        assert!(
            !crate::common::in_ci(),
            "CI=true but nats-server is missing (apt-get install nats-server)"
        );
        eprintln!("nats-server is not installed: the NATS blob store is not tested");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(binary)
        .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting nats-server");
    // It says where it listens, then that it is ready.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut port = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some((_, at)) = line.split_once("Listening for client connections on ") {
            port = at.trim().rsplit(':').next().map(str::to_string);
        }
        if line.contains("Server is ready") {
            break;
        }
    }
    // Keep reading what it says, so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let port = port.expect("nats-server said where it listens");
    Some(NatsServer {
        child,
        _dir: dir,
        url: format!("nats://127.0.0.1:{port}"),
    })
}

async fn read_all(store: &BlobStore, hash: &str) -> std::io::Result<(u64, Vec<u8>)> {
    let (size, mut parts) = store.stream(hash).await.unwrap().unwrap();
    let mut got = Vec::new();
    while let Some(p) = parts.next().await {
        got.extend_from_slice(&p?);
    }
    Ok((size, got))
}

/// What `/healthz`'s probe object in the default bucket holds now.
async fn probe_object(url: &str) -> String {
    let client = async_nats::connect(url).await.unwrap();
    let bucket = async_nats::jetstream::new(client)
        .get_object_store(DEFAULT_BUCKET)
        .await
        .unwrap();
    let mut text = String::new();
    bucket
        .get("health/probe")
        .await
        .unwrap()
        .read_to_string(&mut text)
        .await
        .unwrap();
    text
}

#[tokio::test]
async fn blobs_in_nats_are_kept_by_their_hash_and_an_altered_one_is_refused() {
    let Some(nats) = nats_server() else { return };
    let scratch = tempfile::tempdir().unwrap();
    let store = BlobStore::nats(&nats.url, &scratch.path().join("copies"))
        .await
        .unwrap();

    // Small: whole, streamed, its first bytes; a name that is no blob's, and no hash.
    let hash = store.put(Bytes::from_static(b"abc")).await.unwrap();
    assert_eq!(
        hash,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(store.get(&hash).await.unwrap().unwrap(), &b"abc"[..]);
    assert_eq!(read_all(&store, &hash).await.unwrap(), (3, b"abc".to_vec()));
    assert_eq!(store.get_prefix(&hash, 2).await.unwrap().unwrap(), b"ab");
    assert!(store.get(&"0".repeat(64)).await.unwrap().is_none());
    assert!(store.file(&"0".repeat(64)).await.unwrap().is_none());
    assert!(store.get("../etc/passwd").await.unwrap().is_none());

    // Large (many of NATS's chunks), from a file: the same name a local store gives it,
    // and as a file on this node, a checked copy kept for the next reader.
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let path = scratch.path().join("big.bin");
    std::fs::write(&path, &big).unwrap();
    let local = tempfile::tempdir().unwrap();
    let local_hash = BlobStore::local(local.path())
        .unwrap()
        .put_file(&path)
        .await
        .unwrap();
    let big_hash = store.put_file(&path).await.unwrap();
    assert_eq!(big_hash, local_hash);
    assert_eq!(
        read_all(&store, &big_hash).await.unwrap(),
        (big.len() as u64, big.clone())
    );
    let file = store.file(&big_hash).await.unwrap().unwrap();
    assert_eq!(std::fs::read(&*file).unwrap(), big);
    let copy = file.to_path_buf();
    drop(file);
    let again = store.file(&big_hash).await.unwrap().unwrap();
    assert_eq!(again.to_path_buf(), copy, "copied once, read twice");
    assert_eq!(
        std::fs::read_dir(scratch.path().join("copies"))
            .unwrap()
            .count(),
        1
    );
    store.adopt_file(&path, &big_hash).await.unwrap();
    assert!(!path.exists(), "an adopted file is taken over");

    // A second node's store finds the bucket made and the blobs in it.
    let other_scratch = tempfile::tempdir().unwrap();
    let other = BlobStore::nats(
        &format!("{}/{DEFAULT_BUCKET}", nats.url),
        other_scratch.path(),
    )
    .await
    .unwrap();
    assert_eq!(other.get(&hash).await.unwrap().unwrap(), &b"abc"[..]);
    // /healthz's probe: written at the first call, not again within ten seconds.
    other.probe(1).await.unwrap();
    other.probe(2).await.unwrap();
    assert_eq!(probe_object(&nats.url).await, "1");
    other.probe(10_001).await.unwrap();
    assert_eq!(probe_object(&nats.url).await, "10001");

    // Someone with the bucket's credentials puts other bytes under the name: refused whole,
    // as a file, and streamed (the stream ends broken).
    let client = async_nats::connect(&nats.url).await.unwrap();
    let bucket = async_nats::jetstream::new(client)
        .get_object_store(DEFAULT_BUCKET)
        .await
        .unwrap();
    bucket
        .put(format!("sha256/{hash}").as_str(), &mut &b"abd"[..])
        .await
        .unwrap();
    let mut raw = Vec::new();
    bucket
        .get(format!("sha256/{hash}"))
        .await
        .unwrap()
        .read_to_end(&mut raw)
        .await
        .unwrap();
    assert_eq!(raw, b"abd", "the bucket holds the altered bytes");
    assert!(store.get(&hash).await.is_err());
    assert!(store.file(&hash).await.is_err());
    assert!(read_all(&store, &hash).await.is_err());

    // A node killed while storing a blob leaves chunks with no description: swept once
    // nobody wrote to them for an hour (not before: a node may be storing it now); the
    // blobs that are whole stay.
    let jetstream = async_nats::jetstream::new(async_nats::connect(&nats.url).await.unwrap());
    let stream = jetstream
        .get_stream(format!("OBJ_{DEFAULT_BUCKET}"))
        .await
        .unwrap();
    let orphan = format!("$O.{DEFAULT_BUCKET}.C.crashedmidway0000000");
    for _ in 0..3 {
        jetstream
            .publish(orphan.clone(), vec![7u8; 1000].into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let chunks_of = |subject: String| {
        let stream = stream.clone();
        async move {
            use futures_util::TryStreamExt;
            let subjects: Vec<(String, usize)> = stream
                .info_with_subjects(subject)
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            subjects.into_iter().map(|(_, n)| n).sum::<usize>()
        }
    };
    assert_eq!(chunks_of(orphan.clone()).await, 3);
    let hour = std::time::Duration::from_secs(3600);
    let swept = kaibiao::blob::sweep_nats(&stream, DEFAULT_BUCKET, hour).await;
    assert_eq!(swept.unwrap(), 0, "chunks written just now are left");
    let swept = kaibiao::blob::sweep_nats(&stream, DEFAULT_BUCKET, std::time::Duration::ZERO).await;
    assert_eq!(swept.unwrap(), 1);
    assert_eq!(chunks_of(orphan).await, 0);
    assert!(
        chunks_of(format!("$O.{DEFAULT_BUCKET}.C.>")).await > 3,
        "the whole blobs' chunks stay"
    );
    assert_eq!(read_all(&store, &big_hash).await.unwrap().1, big);

    // Three copies of each blob asked of a single server: the bucket is not made, and
    // the error says why.
    let err = BlobStore::nats(&format!("{}/three?replicas=3", nats.url), scratch.path())
        .await
        .err()
        .expect("one server keeps one copy");
    assert!(format!("{err:#}").contains("replicas"), "{err:#}");

    // A server that is not there: a clear error at start, the address's password not in it.
    store.probe(10_001).await.unwrap();
    drop(nats);
    // The server gone, the probe fails as soon as the connection is seen down, though it
    // would not write for ten seconds.
    let gone = std::time::Instant::now();
    while store.probe(10_002).await.is_ok() {
        assert!(
            gone.elapsed() < std::time::Duration::from_secs(10),
            "the probe still passes with the server gone"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let err = BlobStore::nats("nats://ops:s3cret@127.0.0.1:1", scratch.path())
        .await
        .err()
        .expect("no server, no store");
    let shown = format!("{err:#}");
    assert!(
        shown.contains("connecting to the blob store at nats://127.0.0.1:1/"),
        "{shown}"
    );
    assert!(!shown.contains("s3cret"), "{shown}");
    let err = BlobStore::nats("s3://bucket", scratch.path())
        .await
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("nats://host:port"), "{err:#}");
}

/// Storing and reading a large sealed bid through NATS JetStream against the local folder,
/// in the same run (BENCHMARKS.md, "Blobs in NATS against the local folder").
#[tokio::test]
#[ignore = "benchmark: cargo test --release --test it -- --ignored --nocapture blob_store_throughput"]
async fn blob_store_throughput() {
    use std::time::Instant;
    let Some(nats) = nats_server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mb = 100usize;
    let path = dir.path().join("bid.bin");
    let data: Vec<u8> = (0..mb << 20).map(|i| (i * 31 % 251) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    drop(data);
    let local = BlobStore::local(&dir.path().join("local")).unwrap();
    let remote = BlobStore::nats(&nats.url, &dir.path().join("copies"))
        .await
        .unwrap();
    println!("| store | put_file {mb} MB | MB/s | stream it back | MB/s | as a file (first) | as a file (again) |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let mut rates = Vec::new();
    for (name, store) in [("local folder", &local), ("NATS JetStream", &remote)] {
        let t = Instant::now();
        let hash = store.put_file(&path).await.unwrap();
        let put = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let (size, read) = read_all(store, &hash).await.unwrap();
        let stream = t.elapsed().as_secs_f64();
        assert_eq!((size as usize, read.len()), (mb << 20, mb << 20));
        drop(read);
        let t = Instant::now();
        let file = store.file(&hash).await.unwrap().unwrap();
        let first = t.elapsed().as_secs_f64();
        assert_eq!(std::fs::metadata(&*file).unwrap().len() as usize, mb << 20);
        drop(file);
        let t = Instant::now();
        let again = store.file(&hash).await.unwrap().unwrap();
        let second = t.elapsed().as_secs_f64();
        drop(again);
        let (put_rate, read_rate) = (mb as f64 / put, mb as f64 / stream);
        rates.push((put_rate, read_rate));
        println!(
            "| {name} | {:.0} ms | {put_rate:.0} | {:.0} ms | {read_rate:.0} | {:.0} ms | {:.1} ms |",
            put * 1e3,
            stream * 1e3,
            first * 1e3,
            second * 1e3
        );
    }
    println!(
        "ratio NATS / local: put {:.2}, stream {:.2}",
        rates[1].0 / rates[0].0,
        rates[1].1 / rates[0].1
    );
}

/// Listing the parts of uploads while another node removes them ends, each time with what
/// is left: NATS's own listing counted the descriptions when it started and waited for
/// ever for one removed before it came.
#[tokio::test]
async fn listing_named_objects_while_another_node_removes_them_ends() {
    let Some(nats) = nats_server() else { return };
    let (scratch_a, scratch_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = BlobStore::nats(&nats.url, &scratch_a.path().join("copies"))
        .await
        .unwrap();
    let b = BlobStore::nats(&nats.url, &scratch_b.path().join("copies"))
        .await
        .unwrap();
    let (at_a, at_b) = (a.named().unwrap(), b.named().unwrap());
    let part = scratch_a.path().join("part");
    std::fs::write(&part, b"a part of an upload").unwrap();
    const PARTS: usize = 40;
    for round in 0..20 {
        let prefix = format!("upload/{round}/");
        for i in 0..PARTS {
            at_a.put(&format!("{prefix}{i}"), &part).await.unwrap();
        }
        let remover = async {
            for i in 0..PARTS {
                let removed = at_b.remove(&format!("{prefix}{i}")).await.unwrap();
                assert_eq!(removed, Some(19), "{prefix}{i}");
            }
        };
        let lister = async {
            let mut counts = Vec::new();
            for _ in 0..5 {
                let listing = at_a.list(&prefix);
                let listed = tokio::time::timeout(std::time::Duration::from_secs(10), listing);
                counts.push(listed.await.expect("the listing ended").unwrap().len());
            }
            counts
        };
        let ((), counts) = tokio::join!(remover, lister);
        assert!(
            counts.windows(2).all(|w| w[0] >= w[1]) && counts[0] <= PARTS,
            "each listing shows what is left: {counts:?}"
        );
        assert_eq!(at_a.list(&prefix).await.unwrap(), Vec::<String>::new());
    }
}
