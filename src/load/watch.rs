//! The watchers: N WebSocket connections that subscribe to one room and log every event
//! frame they receive. Connections are opened in batches with bounded concurrency, spread
//! over several loopback source addresses so that one destination's ~28k ephemeral ports
//! are not the limit.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::net::TcpSocket;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use super::stats::Delivery;

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Where and how the watchers connect.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    /// `ws://host:port/path` as sent in the handshake.
    pub url: String,
    pub bearer: Option<String>,
    pub room: String,
    /// Subscribe with this `since_seq` (the ledger head: nothing replayed).
    pub since_seq: i64,
    /// The event kind whose deliveries are counted while the run waits.
    pub kind: String,
}

/// Counters all watchers share while the run goes on.
#[derive(Default)]
pub struct Shared {
    /// Deliveries of the measured kind after the subscription's seq.
    pub measured: AtomicU64,
    pub resyncs: AtomicU64,
    pub dropped: AtomicU64,
    /// Presence frames received, from subscribing on (each is one delivery to the server).
    pub presence: AtomicU64,
}

pub struct Watchers {
    pub shared: Arc<Shared>,
    pub connected: usize,
    pub failures: HashMap<String, usize>,
    pub connect_secs: f64,
    stop: watch::Sender<bool>,
    /// Each watcher's task: its log, or `None` if it never connected.
    tasks: Vec<JoinHandle<Option<Vec<Delivery>>>>,
}

impl Watchers {
    /// Stops every watcher and hands back each connected one's log.
    pub async fn finish(self) -> Vec<Vec<Delivery>> {
        let _ = self.stop.send(true);
        let mut logs = Vec::with_capacity(self.tasks.len());
        for t in self.tasks {
            if let Ok(Some(log)) = t.await {
                logs.push(log);
            }
        }
        logs
    }

    /// Waits until `expected` measured deliveries have come, or `timeout` passes.
    pub async fn wait_for(&self, expected: u64, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        loop {
            if self.shared.measured.load(Ordering::Relaxed) >= expected {
                return true;
            }
            if Instant::now() >= end {
                return false;
            }
            tick.tick().await;
        }
    }
}

/// The source address of connection `i` (127.0.0.1 … 127.0.0.k) when the target is on
/// loopback; `None` lets the system choose.
pub fn source_addr(target: &SocketAddr, i: usize, sources: usize) -> Option<IpAddr> {
    match target.ip() {
        IpAddr::V4(v4) if v4.is_loopback() && sources > 0 => {
            let last = 1 + (i % sources.min(254)) as u8;
            Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        }
        _ => None,
    }
}

/// Opens `n` watchers over `targets` in turn, `concurrency` handshakes at a time, printing
/// progress to stderr.
/// Returns once every one has subscribed or failed.
pub async fn open(
    targets: &[Arc<Target>],
    n: usize,
    concurrency: usize,
    sources: usize,
) -> anyhow::Result<Watchers> {
    let shared = Arc::new(Shared::default());
    let (stop, stop_rx) = watch::channel(false);
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    let mut progress = Progress {
        n,
        step: (n / 10).clamp(1, 1000),
        started,
        connected: 0,
        failures: HashMap::new(),
    };
    for i in 0..n {
        let permit = permits.clone().acquire_owned().await?;
        let target = &targets[i % targets.len()];
        let source = source_addr(&target.addr, i, sources);
        let (target, shared, stop_rx, ready) = (
            target.clone(),
            shared.clone(),
            stop_rx.clone(),
            ready_tx.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let ws = tokio::time::timeout(
                Duration::from_secs(60),
                connect_and_subscribe(&target, source),
            )
            .await
            .unwrap_or_else(|_| Err(anyhow::anyhow!("timed out")));
            drop(permit);
            match ws {
                Ok((ws, subscribed)) => {
                    let _ = ready.send(Ok(()));
                    drop(ready);
                    Some(run(ws, &target, subscribed, &shared, stop_rx).await)
                }
                Err(e) => {
                    let _ = ready.send(Err(reason(&e)));
                    None
                }
            }
        }));
        while let Ok(r) = ready_rx.try_recv() {
            progress.note(r);
        }
    }
    drop(ready_tx);
    // Each task reports once, when it has subscribed or failed.
    while progress.done() < n {
        match ready_rx.recv().await {
            Some(r) => progress.note(r),
            None => break,
        }
    }
    Ok(Watchers {
        shared,
        connected: progress.connected,
        failures: progress.failures,
        connect_secs: started.elapsed().as_secs_f64(),
        stop,
        tasks,
    })
}

/// Connections made and failed so far, printed every tenth (at most every 1,000).
struct Progress {
    n: usize,
    step: usize,
    started: Instant,
    connected: usize,
    failures: HashMap<String, usize>,
}

impl Progress {
    fn done(&self) -> usize {
        self.connected + self.failures.values().sum::<usize>()
    }

    fn note(&mut self, r: Result<(), String>) {
        match r {
            Ok(()) => self.connected += 1,
            Err(e) => *self.failures.entry(e).or_default() += 1,
        }
        let done = self.done();
        if done.is_multiple_of(self.step) || done == self.n {
            eprintln!(
                "  watchers: {done}/{} ({} connected, {} failed) {:.1} s",
                self.n,
                self.connected,
                done - self.connected,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}

/// A short, countable reason for a failed connection.
fn reason(e: &anyhow::Error) -> String {
    let s = format!("{e:#}");
    let s = s.split(" (os error").next().unwrap_or(&s).to_string();
    s.chars().take(120).collect()
}

async fn connect_and_subscribe(
    target: &Target,
    source: Option<IpAddr>,
) -> anyhow::Result<(Ws, i64)> {
    let socket = if target.addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = source {
        socket
            .bind(SocketAddr::new(ip, 0))
            .with_context(|| format!("bind {ip}"))?;
    }
    let stream = socket.connect(target.addr).await.context("connect")?;
    stream.set_nodelay(true)?;
    let mut req = target.url.as_str().into_client_request()?;
    if let Some(token) = &target.bearer {
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
    }
    // Watchers read small frames: keep the client's buffers small too.
    let config = WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
        .await
        .context("handshake")?;
    subscribe(&mut ws, target, target.since_seq).await?;
    loop {
        let Some(m) = ws.next().await else {
            anyhow::bail!("closed before subscribed");
        };
        if let Message::Text(t) = m.context("read")? {
            let f: Incoming<'_> = serde_json::from_str(t.as_str())?;
            match f.ty.as_ref() {
                "subscribed" => return Ok((ws, f.seq.unwrap_or(target.since_seq))),
                "error" => anyhow::bail!("subscribe refused: {}", f.code.unwrap_or_default()),
                _ => {}
            }
        }
    }
}

async fn subscribe(ws: &mut Ws, target: &Target, since: i64) -> anyhow::Result<()> {
    let msg = serde_json::json!({"type": "subscribe", "room": target.room, "since_seq": since});
    ws.send(Message::Text(msg.to_string().into()))
        .await
        .context("subscribe")
}

/// The parts of a hub frame the watcher reads; the rest is skipped.
#[derive(Deserialize)]
pub struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    pub ty: Cow<'a, str>,
    #[serde(default)]
    pub seq: Option<i64>,
    #[serde(default)]
    pub since_seq: Option<i64>,
    #[serde(default, borrow)]
    pub event: Option<EventHead<'a>>,
    #[serde(default)]
    pub code: Option<String>,
}

#[derive(Deserialize)]
pub struct EventHead<'a> {
    pub seq: i64,
    pub at: i64,
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
}

pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// Reads frames until told to stop; logs each event after the subscription's seq.
async fn run(
    mut ws: Ws,
    target: &Target,
    subscribed: i64,
    shared: &Shared,
    mut stop: watch::Receiver<bool>,
) -> Vec<Delivery> {
    let mut log = Vec::new();
    let mut last = subscribed;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            m = ws.next() => {
                let text = match m {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                        shared.dropped.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Some(Ok(_)) => continue,
                };
                let recv_us = now_us();
                let Ok(f) = serde_json::from_str::<Incoming<'_>>(text.as_str()) else {
                    continue;
                };
                match (f.ty.as_ref(), f.event) {
                    ("event", Some(e)) if e.seq > subscribed => {
                        if e.kind == target.kind {
                            shared.measured.fetch_add(1, Ordering::Relaxed);
                        }
                        last = last.max(e.seq);
                        log.push(Delivery { seq: e.seq, at_ms: e.at, recv_us, bytes: text.len() });
                    }
                    ("presence", _) => {
                        shared.presence.fetch_add(1, Ordering::Relaxed);
                    }
                    ("resync", _) => {
                        // Cut from live fan-out: catch up from the ledger, as a browser does.
                        shared.resyncs.fetch_add(1, Ordering::Relaxed);
                        let since = f.since_seq.unwrap_or(last).min(last);
                        if subscribe(&mut ws, target, since).await.is_err() {
                            shared.dropped.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_connections_spread_over_source_addresses() {
        let t: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let ips: Vec<_> = (0..5).map(|i| source_addr(&t, i, 4).unwrap()).collect();
        assert_eq!(ips[0].to_string(), "127.0.0.1");
        assert_eq!(ips[3].to_string(), "127.0.0.4");
        assert_eq!(ips[4].to_string(), "127.0.0.1");
        let remote: SocketAddr = "[::1]:8080".parse().unwrap();
        assert_eq!(source_addr(&remote, 1, 4), None);
    }

    #[test]
    fn reads_the_event_head_of_a_hub_frame() {
        let t = r#"{"type":"event","room":"opening:x","event":{"seq":7,"at":1700000000123,
            "kind":"bid_read_out","actor":"u","body":{"sheet":{"a":[1,2]}},"prev_hash":"0","hash":"1"}}"#;
        let f: Incoming<'_> = serde_json::from_str(t).unwrap();
        let e = f.event.unwrap();
        assert_eq!(
            (f.ty.as_ref(), e.seq, e.at, e.kind.as_ref()),
            ("event", 7, 1700000000123, "bid_read_out")
        );
        let s: Incoming<'_> =
            serde_json::from_str(r#"{"type":"subscribed","room":"r","seq":3}"#).unwrap();
        assert_eq!(s.seq, Some(3));
    }
}
