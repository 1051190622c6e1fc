//! The load generator behind `kaibiao-load`: N watcher WebSocket connections in the
//! opening hall (`/api/hub`, room `opening:<tender>`), a driver that makes the room fan
//! out ledger events, and a report of how they were delivered: latency from each event's
//! ledger `at` to its receipt, p50/p99/max, deliveries per second during the burst,
//! connections made and failed, and the server's memory per connection.
//!
//! It runs in its own process (the open-file limit is per process) and can also serve a
//! trivial broadcast server (`baseline.rs`) to measure against in the same run.

pub mod baseline;
pub mod drive;
pub mod stats;
pub mod watch;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::ledger::Kind;

use stats::{Memory, Report};
use watch::Target;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Drive {
    /// The demo agency amends a published tender: `tender_amended` events.
    Amend,
    /// A real opening of a sealed demo tender: `bid_read_out` events.
    Opening,
    /// The baseline server (`kaibiao-load baseline-server`): plain frames, one request
    /// each, the next sent once the server answered (as the amendments are), or all in
    /// one request with `--baseline-burst`.
    Baseline,
}

#[derive(Args, Clone, Debug)]
pub struct RunArgs {
    /// The server: kaibiao's base URL, or the baseline server's `ws://` URL.
    #[arg(long, env = "KAIBIAO_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Watcher connections to open.
    #[arg(long, default_value_t = 1000)]
    pub watchers: usize,
    /// Spread the watchers over these nodes' base URLs, in turn (several nodes on one
    /// database); the driver stays on `--server`. Default: all on `--server`.
    #[arg(long, value_delimiter = ',')]
    pub watch_servers: Vec<String>,
    #[arg(long, value_enum, default_value_t = Drive::Amend)]
    pub drive: Drive,
    /// The tender whose hall to load (default: one the driver picks).
    #[arg(long)]
    pub tender: Option<String>,
    /// Events to make (amend, baseline; an opening makes one per bid).
    #[arg(long, default_value_t = 5)]
    pub events: usize,
    /// Time between events (0: back to back).
    #[arg(long, default_value_t = 0)]
    pub interval_ms: u64,
    /// Size of a baseline frame (match the hub's frames for a fair ratio).
    #[arg(long, default_value_t = 700)]
    pub frame_bytes: usize,
    /// Ask the baseline server for every frame in one request, sent back to back by the
    /// server itself, instead of one request per frame as the hub's drivers make their
    /// events. Compared with `--drive amend` it measures a burst against events made one
    /// after another, so its ratio is not the hub's overhead.
    #[arg(long)]
    pub baseline_burst: bool,
    /// The watchers' user (all share one bearer token); a supervisor sees every event.
    #[arg(long, default_value = "finance")]
    pub watch_user: String,
    /// The tender's agency (amends, hosts the opening).
    #[arg(long, default_value = "agency")]
    pub host_user: String,
    /// The demo users' password (the server's KAIBIAO_DEMO_PASSWORD).
    #[arg(long, env = "KAIBIAO_DEMO_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// The server's data folder, for the demo key files (`--drive opening`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// How long `--drive opening` waits for the demo tender's deadline and seal.
    #[arg(long, default_value_t = 900)]
    pub wait_sealed_secs: u64,
    /// Handshakes in flight at once.
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
    /// Spread connections over 127.0.0.1 … 127.0.0.K (when the server is on loopback).
    #[arg(long, default_value_t = 4)]
    pub source_addrs: usize,
    /// The server's process id, to read its memory from /proc/<pid>/status.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// A file holding the server's process id.
    #[arg(long, conflicts_with = "server_pid")]
    pub pid_file: Option<PathBuf>,
    /// Pause after connecting, before driving (lets presence updates settle).
    #[arg(long, default_value_t = 1000)]
    pub settle_ms: u64,
    /// How long to wait for the deliveries after the driver is done.
    #[arg(long, default_value_t = 60)]
    pub deliver_secs: u64,
    /// Print the report as one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Raises the open-file soft limit to the hard one; returns the new soft limit.
pub fn raise_nofile() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0)
}

fn ws_url(server: &str, path: &str) -> anyhow::Result<(reqwest::Url, String)> {
    let mut url = reqwest::Url::parse(server).with_context(|| format!("server URL {server}"))?;
    let scheme = match url.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => anyhow::bail!("the load generator speaks plain ws:// only"),
        s => anyhow::bail!("unknown scheme {s}"),
    };
    url.set_scheme(scheme)
        .map_err(|_| anyhow::anyhow!("bad URL"))?;
    if !path.is_empty() {
        url.set_path(path);
    }
    let s = url.to_string();
    Ok((url, s))
}

async fn resolve(url: &reqwest::Url) -> anyhow::Result<std::net::SocketAddr> {
    let host = url.host_str().context("no host")?;
    let port = url.port_or_known_default().unwrap_or(80);
    // `localhost` may resolve to ::1 first while the server listens on 127.0.0.1.
    let addrs: Vec<_> = tokio::net::lookup_host((host, port)).await?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .with_context(|| format!("cannot resolve {host}"))
}

fn server_pid(args: &RunArgs) -> anyhow::Result<Option<u32>> {
    if let Some(p) = args.server_pid {
        return Ok(Some(p));
    }
    match &args.pid_file {
        Some(f) => Ok(Some(
            std::fs::read_to_string(f)?
                .trim()
                .parse()
                .context("pid file")?,
        )),
        None => Ok(None),
    }
}

/// One load run: connect, drive, wait for the deliveries, report.
pub async fn run(args: RunArgs) -> anyhow::Result<Report> {
    let pid = server_pid(&args)?;
    let rss = || pid.and_then(stats::rss_kib);
    let password = || {
        args.password
            .clone()
            .context("the demo password: --password or KAIBIAO_DEMO_PASSWORD")
    };
    let http_base = args.server.replacen("ws://", "http://", 1);
    let mut report = Report {
        drive: format!("{:?}", args.drive).to_lowercase(),
        watchers: args.watchers,
        ..Report::default()
    };

    // Who watches what, and the driver's own clients.
    let mut host = None;
    let mut opening = None;
    let mut tender_id = String::new();
    let target = match args.drive {
        Drive::Baseline => {
            let (url, s) = ws_url(&args.server, "")?;
            Target {
                addr: resolve(&url).await?,
                url: s.clone(),
                bearer: None,
                room: "opening:baseline".into(),
                since_seq: drive::baseline_head(&s).await?,
                kind: "baseline".into(),
            }
        }
        Drive::Amend | Drive::Opening => {
            let pw = password()?;
            let watcher = drive::login(&http_base, &args.watch_user, &pw).await?;
            let h = drive::login(&http_base, &args.host_user, &pw).await?;
            let (tender, kind) = if args.drive == Drive::Amend {
                let t = match &args.tender {
                    Some(t) => t.clone(),
                    None => drive::published_tender(&h).await?,
                };
                host = Some(h);
                (t, Kind::TenderAmended.as_str())
            } else {
                let data_dir = args
                    .data_dir
                    .clone()
                    .context("--drive opening needs the server's --data-dir (demo key files)")?;
                let o = drive::Opening {
                    server: http_base.clone(),
                    password: pw.clone(),
                    key_dir: data_dir.join("demo-keys"),
                    host: h,
                };
                let wait = Duration::from_secs(args.wait_sealed_secs);
                let t = o.sealed_tender(args.tender.as_deref(), wait).await?;
                opening = Some(o);
                (t, Kind::BidReadOut.as_str())
            };
            let (url, s) = ws_url(&http_base, "/api/hub")?;
            let since_seq = drive::ledger_head(&watcher, &tender).await?;
            tender_id = tender.clone();
            Target {
                addr: resolve(&url).await?,
                url: s,
                bearer: Some(watcher.token().to_string()),
                room: format!("opening:{tender}"),
                since_seq,
                kind: kind.into(),
            }
        }
    };
    report.kind = target.kind.clone();
    eprintln!(
        "kaibiao-load: {} watchers on {} ({}), drive {}",
        args.watchers, target.url, target.room, report.drive
    );

    let mut memory = Memory {
        rss_before_kib: rss(),
        ..Memory::default()
    };
    let since = target.since_seq;
    let mut targets = Vec::new();
    for server in &args.watch_servers {
        let (url, s) = ws_url(server, "/api/hub")?;
        targets.push(Arc::new(Target {
            addr: resolve(&url).await?,
            url: s,
            ..target.clone()
        }));
    }
    let target = Arc::new(target);
    if targets.is_empty() {
        targets.push(target.clone());
    }
    let watchers =
        watch::open(&targets, args.watchers, args.concurrency, args.source_addrs).await?;
    report.connected = watchers.connected;
    report.failed = args.watchers - watchers.connected;
    report.failures = watchers.failures.clone();
    report.connect_secs = watchers.connect_secs;
    tokio::time::sleep(Duration::from_millis(args.settle_ms)).await;
    memory.rss_connected_kib = rss();
    if let (Some(a), Some(b)) = (memory.rss_before_kib, memory.rss_connected_kib) {
        if watchers.connected > 0 {
            memory.kib_per_connection = Some((b as f64 - a as f64) / watchers.connected as f64);
        }
    }

    eprintln!("  driving ({})", report.drive);
    let interval = Duration::from_millis(args.interval_ms);
    let events = match (args.drive, &host, &opening) {
        (Drive::Baseline, _, _) => {
            let per_request = if args.baseline_burst { args.events } else { 1 };
            drive::baseline(
                &target.url,
                args.events,
                per_request,
                interval,
                args.frame_bytes,
            )
            .await?
        }
        (Drive::Amend, Some(h), _) => {
            drive::amend(h, &tender_id, args.events, interval, since).await?
        }
        (Drive::Opening, _, Some(o)) => o.run(&tender_id, since).await?,
        _ => anyhow::bail!("no driver"),
    };
    let expected = (events.len() * watchers.connected) as u64;
    let complete = watchers
        .wait_for(expected, Duration::from_secs(args.deliver_secs))
        .await;
    if !complete {
        eprintln!(
            "  gave up waiting: {} of {expected} deliveries",
            watchers.shared.measured.load(Ordering::Relaxed)
        );
    }
    memory.rss_after_kib = rss();
    report.resyncs = watchers.shared.resyncs.load(Ordering::Relaxed);
    report.dropped = watchers.shared.dropped.load(Ordering::Relaxed);
    report.presence_frames = watchers.shared.presence.load(Ordering::Relaxed);
    let logs = watchers.finish().await;
    report.account(&events, &logs);
    report.memory = memory;
    Ok(report)
}
