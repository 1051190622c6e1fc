//! The `kaibiao` command: a thin shim over the library.

/// mimalloc gives freed memory back to the system: after thousands of connections close,
/// the server shrinks again (glibc's allocator kept it; BENCHMARKS.md, "What one client
/// can hold").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use kaibiao::config::{Config, TlsFiles};

#[derive(Parser)]
#[command(
    name = "kaibiao",
    version,
    about = "开标 — online government procurement platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform (the default).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(ServeArgs),
    /// Check a downloaded ledger (GET /api/tenders/{id}/ledger), opening record or expert
    /// draw record offline; a ledger's `experts_drawn` events are replayed too.
    Verify {
        /// The ledger JSON file.
        file: PathBuf,
    },
    /// The collusion red flags and price screens over OCDS 1.1 data published elsewhere:
    /// compiled releases as JSON lines, or a release or record package (docs/collusion.md).
    Screen {
        /// The OCDS file.
        file: PathBuf,
        /// `json` (every finding with its evidence) or `csv` (a row per process).
        #[arg(long, default_value = "json", value_parser = ["json", "csv"])]
        format: String,
        /// Where to write; standard output when absent.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Device keys: make, register and keep them in a passphrase-protected file.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Sealed bids (投标文件制作工具): seal on this machine, submit, status, withdraw.
    #[command(subcommand)]
    Bid(BidCommand),
    /// Opening-key custodians: check your share against the announced commitments.
    #[command(subcommand)]
    Share(ShareCommand),
}

#[derive(Subcommand)]
enum ShareCommand {
    /// Unseal your share of a tender's opening key with your key file and check it.
    Check {
        #[command(flatten)]
        login: Login,
        #[arg(long, env = "KAIBIAO_KEY_FILE")]
        key_file: PathBuf,
        #[arg(long)]
        tender: String,
    },
    /// At the opening: unseal your share with your key file, check it, and send it.
    Submit {
        #[command(flatten)]
        login: Login,
        #[arg(long, env = "KAIBIAO_KEY_FILE")]
        key_file: PathBuf,
        #[arg(long)]
        tender: String,
    },
}

#[derive(Args, Clone)]
struct Login {
    /// The platform's address, e.g. https://zfcg.example.gov.cn
    #[arg(long, env = "KAIBIAO_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Your user name (the password comes from KAIBIAO_PASSWORD or is asked for).
    #[arg(long, env = "KAIBIAO_USER")]
    user: String,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a signing and an encryption key here and register their public halves
    /// (the passphrase comes from KAIBIAO_KEY_PASSPHRASE or is asked for).
    Init {
        #[command(flatten)]
        login: Login,
        #[arg(long, env = "KAIBIAO_KEY_FILE")]
        key_file: PathBuf,
    },
}

#[derive(Subcommand)]
enum BidCommand {
    /// Start a bid on the server and seal the opening sheet and documents into FILE.
    Seal {
        #[command(flatten)]
        login: Login,
        #[arg(long, env = "KAIBIAO_KEY_FILE")]
        key_file: PathBuf,
        #[arg(long)]
        tender: String,
        #[arg(long, default_value_t = 1)]
        lot: u32,
        /// The opening sheet (开标一览表), TOML or JSON.
        #[arg(long)]
        sheet: PathBuf,
        /// A bid document (repeatable).
        #[arg(long = "doc")]
        docs: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Upload a sealed FILE (resuming where the server is), and check the receipt.
    Submit {
        #[arg(long, env = "KAIBIAO_USER")]
        user: String,
        #[arg(long)]
        file: PathBuf,
        /// The key file, whose pinned CA checks the receipt.
        #[arg(long, env = "KAIBIAO_KEY_FILE")]
        key_file: Option<PathBuf>,
        #[arg(long, default_value_t = 8)]
        chunk_mib: usize,
    },
    /// Show a bid's state and receipt.
    Status {
        #[command(flatten)]
        login: Login,
        #[arg(long)]
        bid: String,
    },
    /// At the opening: unseal your bid's kb with your key file and send it.
    Decrypt {
        #[command(flatten)]
        login: Login,
        #[arg(long, env = "KAIBIAO_KEY_FILE")]
        key_file: PathBuf,
        #[arg(long)]
        bid: String,
    },
    /// Withdraw a bid before the deadline.
    Withdraw {
        #[command(flatten)]
        login: Login,
        #[arg(long)]
        bid: String,
    },
}

#[derive(Args, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KAIBIAO_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Folder for the SQLite database and the blob store.
    #[arg(long, env = "KAIBIAO_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// postgres://... to use PostgreSQL; default: SQLite under the data dir.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Folder every node of a deployment reaches (a shared mount): the blob store, the
    /// platform's keys, uploads under way. Default: the data dir. Several nodes share one
    /// PostgreSQL (`--database-url`) and this folder, or, with --blob-store and
    /// --keys-dir, no folder at all; see README, "Several nodes".
    #[arg(long, env = "KAIBIAO_SHARED_DIR")]
    shared_dir: Option<PathBuf>,
    /// Folder with the platform's CA and signing key (ca-key.pem, ca-cert.pem,
    /// signer-key.pem, signer-cert.pem), the same on every node: e.g. a copy of keys/ from
    /// the first node's data dir, kept in the data centre's secret store. Made there if
    /// empty. A node whose CA is not the one the database was started with refuses to
    /// start. Default: keys/ of the shared dir.
    #[arg(long, env = "KAIBIAO_KEYS_DIR")]
    keys_dir: Option<PathBuf>,
    /// Where the other nodes reach this one, e.g. http://10.0.0.2:8080 (plain HTTP on the
    /// nodes' own network): a committee room's audio and video run on one node, and the
    /// others relay their participants' signalling to it. Default: the --listen address,
    /// unless it is 0.0.0.0 or [::] (then give it).
    #[arg(long, env = "KAIBIAO_NODE_URL")]
    node_url: Option<String>,
    /// Where blobs (sealed bids, opened documents, recordings) are kept instead of the
    /// shared folder: nats://[user:password@]host:port[/bucket][?replicas=N], a NATS
    /// server with JetStream on (`nats-server -js`) that every node reaches; the bucket
    /// (default kaibiao-blobs) is made at the first start, kept by N servers of a JetStream
    /// cluster (default 1).
    #[arg(long, env = "KAIBIAO_BLOB_STORE", hide_env_values = true)]
    blob_store: Option<String>,
    /// Seed the demo city into an empty database and print its logins.
    #[arg(long, env = "KAIBIAO_DEMO")]
    demo: bool,
    /// Password for all demo accounts (default: random, printed once).
    #[arg(long, env = "KAIBIAO_DEMO_PASSWORD", hide_env_values = true)]
    demo_password: Option<String>,
    /// TLS certificate chain (PEM); serve HTTPS with --tls-key.
    #[arg(long, env = "KAIBIAO_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "KAIBIAO_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Make (once) and use a self-signed certificate under <data-dir>/tls, for a LAN demo.
    #[arg(long, env = "KAIBIAO_TLS_SELF_SIGNED", conflicts_with = "tls_cert")]
    tls_self_signed: bool,
    /// Extra host names or IP addresses for the self-signed certificate (repeatable).
    #[arg(long = "tls-host", env = "KAIBIAO_TLS_HOSTS", value_delimiter = ',')]
    tls_hosts: Vec<String>,
    /// Browser session lifetime in minutes.
    #[arg(long, env = "KAIBIAO_SESSION_TTL_MINS", default_value_t = 480)]
    session_ttl_mins: i64,
    /// Minimum bidders per lot by method for the opening's quorum, e.g.
    /// "open_tendering=3,single_source=1" (R-OPEN-2), over the method table's minimums;
    /// unnamed methods keep the table's.
    #[arg(long, env = "KAIBIAO_MIN_BIDDERS", default_value = "")]
    min_bidders: String,
    /// Address the media plane's UDP sockets bind (0.0.0.0: every LAN interface).
    #[arg(long, env = "KAIBIAO_MEDIA_BIND", default_value = "0.0.0.0")]
    media_bind: std::net::IpAddr,
    /// UDP ports for audio and video, one per participant: open them in the firewall.
    #[arg(long, env = "KAIBIAO_MEDIA_PORTS", default_value = "50000-50999")]
    media_ports: String,
    /// Public addresses to advertise behind a 1:1 NAT (comma-separated).
    #[arg(long, env = "KAIBIAO_MEDIA_PUBLIC_IPS", value_delimiter = ',')]
    media_public_ips: Vec<String>,
    /// STUN/TURN servers as JSON, in the browser's RTCIceServer shape, e.g.
    /// '[{"urls":["turn:turn.example.org:3478"],"username":"kaibiao","credential":"…"}]'.
    #[arg(
        long,
        env = "KAIBIAO_ICE_SERVERS",
        default_value = "[]",
        hide_env_values = true
    )]
    ice_servers: String,
    /// Serve Prometheus `/metrics` on this internal address (e.g. 127.0.0.1:9090); not
    /// served at all without it, and never on the public listener.
    #[arg(long, env = "KAIBIAO_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Connections held at once (0: 80 % of the open-file limit less a reserve); one more
    /// is answered 503 at once.
    #[arg(long, env = "KAIBIAO_MAX_CONNECTIONS", default_value_t = 0)]
    max_connections: usize,
    /// Connections held at once from one address (loopback, i.e. a local reverse proxy,
    /// excepted).
    #[arg(long, env = "KAIBIAO_MAX_CONNECTIONS_PER_IP", default_value_t = 1024)]
    max_connections_per_ip: usize,
    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For
    /// names the client: throttling, the audit log and the collusion evidence then see the
    /// client's address, not the proxy's. Without it the header is ignored.
    #[arg(long, env = "KAIBIAO_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<String>,
    /// Let seated experts download bid documents (by default they read them in the
    /// evaluation room's reader, page by page, and nothing reaches their disk).
    #[arg(long, env = "KAIBIAO_EXPERT_DOWNLOADS", default_value_t = false, action = clap::ArgAction::Set)]
    expert_downloads: bool,
    /// Hub (WebSocket) connections one user may hold at once.
    #[arg(long, env = "KAIBIAO_HUB_CONNECTIONS_PER_USER", default_value_t = 64)]
    hub_connections_per_user: usize,
    /// Threads the hub's connections run on, apart from the requests' (0: one per core).
    /// Fewer leave cores to the requests and the database on a shared machine.
    #[arg(long, env = "KAIBIAO_HUB_THREADS", default_value_t = 0)]
    hub_threads: usize,
    /// Milliseconds between two bids read out at an opening (唱标), each seen by all
    /// before the next.
    #[arg(long, env = "KAIBIAO_READING_INTERVAL_MS", default_value_t = 1500)]
    reading_interval_ms: u64,
    /// Minutes before the bid deadline from which bidders may sign in to the opening hall
    /// (签到); it closes when the host starts the opening.
    #[arg(long, env = "KAIBIAO_SIGN_IN_MINS", default_value_t = 60)]
    sign_in_mins: i64,
    /// The official calendar of working days, holidays and make-up days (docs/deadlines.md);
    /// the shipped one (2025–2027) when absent.
    #[arg(long, env = "KAIBIAO_CALENDAR_FILE")]
    calendar_file: Option<std::path::PathBuf>,
    /// Deadline periods by rule code, overriding the defaults (docs/deadlines.md).
    #[arg(long, env = "KAIBIAO_DEADLINE_PERIODS_FILE")]
    deadline_periods_file: Option<std::path::PathBuf>,
    /// The procurement methods' rules (response periods, panels, minimum suppliers,
    /// evaluation, offers) as a TOML file of the shipped table's shape (docs/methods.md);
    /// the shipped table when absent. Checked at start.
    #[arg(long, env = "KAIBIAO_METHOD_RULES")]
    method_rules: Option<std::path::PathBuf>,
    /// The province's open-tendering threshold in yuan: a plan at or above it with another
    /// method needs finance's approval (R-METH-1); from it a negotiation's, consultation's
    /// or enquiry's panel is 5 or more (R-METH-2, docs/methods.md).
    #[arg(
        long,
        env = "KAIBIAO_OPEN_TENDERING_THRESHOLD_YUAN",
        default_value_t = 4_000_000
    )]
    open_tendering_threshold_yuan: i64,
    /// Hold publication and amendments to the statutory periods (R-METH-2, R-DOC-1,
    /// R-DOC-2): on by default, off by default with `--demo` (a training city whose
    /// opening tender closes minutes after publication).
    #[arg(long, env = "KAIBIAO_STATUTORY_PERIODS")]
    statutory_periods: Option<bool>,
    /// Create every tender from a filed procurement plan (R-PLAN-2).
    #[arg(long, env = "KAIBIAO_REQUIRE_PLAN", default_value_t = true, action = clap::ArgAction::Set)]
    require_plan: bool,
    /// The shortest round of offers, in seconds (docs/rounds.md).
    #[arg(long, env = "KAIBIAO_ROUND_MIN_SECS", default_value_t = 300)]
    round_min_secs: i64,
}

impl ServeArgs {
    fn config(&self) -> anyhow::Result<Config> {
        let mut c = Config::new(&self.data_dir);
        c.listen = self.listen;
        c.database_url = self.database_url.clone().filter(|u| !u.is_empty());
        c.shared_dir = self.shared_dir.clone();
        c.keys_dir = self.keys_dir.clone();
        c.node_url = self.node_url.clone().filter(|u| !u.is_empty());
        c.blob_store = self.blob_store.clone().filter(|u| !u.is_empty());
        c.demo = self.demo;
        c.demo_password = self.demo_password.clone();
        c.session_ttl_mins = self.session_ttl_mins;
        c.metrics_listen = self.metrics_listen;
        c.limits.max_connections = self.max_connections;
        c.limits.max_per_ip = self.max_connections_per_ip;
        c.limits.trusted_proxies = kaibiao::serve::TrustedProxies::parse(&self.trusted_proxies)?;
        c.hub_connections_per_user = self.hub_connections_per_user;
        c.expert_downloads = self.expert_downloads;
        c.opening.set_min_bidders(&self.min_bidders)?;
        c.opening.reading_interval_ms = self.reading_interval_ms;
        c.opening.sign_in_mins = self.sign_in_mins.max(0);
        c.calendar_file = self.calendar_file.clone();
        c.deadline_periods_file = self.deadline_periods_file.clone();
        c.method_rules_file = self.method_rules.clone();
        c.open_tendering_threshold_fen = self
            .open_tendering_threshold_yuan
            .checked_mul(100)
            .filter(|f| *f > 0)
            .ok_or_else(|| anyhow::anyhow!("--open-tendering-threshold-yuan: a positive amount"))?;
        c.statutory_periods = self.statutory_periods.unwrap_or(!self.demo);
        c.require_plan = self.require_plan;
        anyhow::ensure!(
            self.round_min_secs >= 1,
            "--round-min-secs: at least one second"
        );
        c.round_min_secs = self.round_min_secs;
        let (lo, hi) = self
            .media_ports
            .split_once('-')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
            .filter(|(a, b): &(u16, u16)| a <= b)
            .ok_or_else(|| anyhow::anyhow!("--media-ports: a range like 50000-50999"))?;
        c.media.bind_ip = self.media_bind;
        c.media.udp_port_min = lo;
        c.media.udp_port_max = hi;
        c.media.nat_1to1_ips = self.media_public_ips.clone();
        c.media.ice_servers = serde_json::from_str(&self.ice_servers)
            .map_err(|e| anyhow::anyhow!("--ice-servers: {e}"))?;
        c.tls = match (&self.tls_cert, &self.tls_key, self.tls_self_signed) {
            (Some(cert), Some(key), _) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (_, _, true) => Some(kaibiao::tls::self_signed(
                &self.data_dir.join("tls"),
                &self.tls_hosts,
            )?),
            _ => None,
        };
        Ok(c)
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    kaibiao::hub::size_connection_threads(args.hub_threads);
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let app = kaibiao::startup::build(config, listener, shutdown_signal()).await?;
    if let Some(logins) = &app.demo_logins {
        println!("{logins}");
    }
    let addr = app.addr;
    let host = if addr.ip().is_loopback() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    };
    println!("kaibiao 已启动 / running at {scheme}://{host}/");
    app.run().await?;
    Ok(())
}

fn verify(file: &PathBuf) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("无法读取 / cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    if let Ok(bundle) = serde_json::from_str::<kaibiao::opening::record::RecordBundle>(&text) {
        return verify_record(&bundle);
    }
    if let Ok(bundle) = serde_json::from_str::<kaibiao::committee::report::ReportBundle>(&text) {
        return verify_report(&bundle);
    }
    if let Ok(record) = serde_json::from_str::<kaibiao::draw::DrawRecord>(&text) {
        return verify_draw(&record);
    }
    if let Ok(signed) = serde_json::from_str::<kaibiao::award::notice::SignedDocument>(&text) {
        return verify_signed(&signed);
    }
    if let Ok(contract) = serde_json::from_str::<kaibiao::contract::rules::ContractBundle>(&text) {
        return verify_contract(&contract);
    }
    let ledger: kaibiao::ledger::Ledger = match serde_json::from_str(&text) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("不是有效的事件链文件 / not a ledger file: {e}");
            return ExitCode::from(2);
        }
    };
    match kaibiao::ledger::verify(&ledger) {
        Ok(()) => {
            println!(
                "OK: 事件链完整 / ledger intact — tender {}, {} events, head {}",
                ledger.tender_id,
                ledger.events.len(),
                ledger.head
            );
            if !verify_ledger_draws(&ledger) {
                return ExitCode::from(1);
            }
            if let Some(r) = &ledger.bid_register {
                println!(
                    "OK: 投标登记链完整 / bid register intact — {} events, head {}",
                    r.events.len(),
                    r.head
                );
            }
            if let Some(until) = ledger.withheld_until {
                println!(
                    "投标登记在 {} 前不公开 / the bid register is withheld until {} (China time); this copy has none",
                    kaibiao::clock::format_cst(until),
                    kaibiao::clock::format_cst(until)
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            match e.seq() {
                Some(seq) => eprintln!("FAIL: 第 {seq} 号事件校验失败 / event {seq} is bad: {e}"),
                None => eprintln!("FAIL: {e}"),
            }
            ExitCode::from(1)
        }
    }
}

/// An expert draw record (R-EVAL-2): recompute it from its inputs.
/// A contract signed by both parties with their device keys.
fn verify_contract(b: &kaibiao::contract::rules::ContractBundle) -> ExitCode {
    match kaibiao::contract::rules::verify(b) {
        Ok(()) => {
            let ca = kaibiao::pki::authority::pem_to_der(&b.ca_pem).unwrap_or_default();
            println!(
                "OK: 政府采购合同 {} — 采购人与供应商签名有效 / signed by the purchaser and the \
                 supplier, SHA-256 {}\nCA 证书 SHA-256 / CA certificate SHA-256 {}",
                b.document["contract_no"].as_str().unwrap_or_default(),
                b.document_sha256,
                kaibiao::crypto::sha256_hex(&ca)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("FAIL: 合同校验失败 / the contract does not verify: {e}");
            ExitCode::from(1)
        }
    }
}

/// A document the platform signed: the result notice, an award or result letter.
fn verify_signed(d: &kaibiao::award::notice::SignedDocument) -> ExitCode {
    match kaibiao::award::notice::verify(d) {
        Ok(kind) => {
            let what = match kind.as_str() {
                "result_notice" => "结果公告 / result notice",
                "award_letter" => "中标(成交)通知书 / award letter",
                "result_letter" => "结果通知书 / result letter",
                _ => "平台签名文件 / signed document",
            };
            let ca = kaibiao::pki::authority::pem_to_der(&d.ca_pem).unwrap_or_default();
            println!(
                "OK: {what} — 平台签名有效 / signed by the platform, SHA-256 {}\n\
                 CA 证书 SHA-256 / CA certificate SHA-256 {} (与平台公布的 CA 比对 / compare \
                 with the platform's published CA)",
                d.document_sha256,
                kaibiao::crypto::sha256_hex(&ca)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("FAIL: 签名文件校验失败 / the signed document does not verify: {e}");
            ExitCode::from(1)
        }
    }
}

fn verify_draw(r: &kaibiao::draw::DrawRecord) -> ExitCode {
    match kaibiao::draw::replay(r) {
        Ok(()) => {
            println!(
                "OK: 专家抽取可重现 / expert draw replays — tender {}, seed {}, panel of {} experts",
                r.input.tender_id,
                r.seed,
                r.panel.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("FAIL: {}: {e}", e.code());
            ExitCode::from(1)
        }
    }
}

/// Replays every `experts_drawn` event of a sound ledger; false if any fails.
fn verify_ledger_draws(ledger: &kaibiao::ledger::Ledger) -> bool {
    let mut ok = true;
    for d in kaibiao::draw::replay_ledger(ledger) {
        match d.result {
            Ok(r) => println!(
                "OK: 第 {} 号事件的专家抽取可重现 / event {}: expert draw replays, panel of {}",
                d.seq,
                d.seq,
                r.panel.len()
            ),
            Err(e) => {
                ok = false;
                eprintln!(
                    "FAIL: 第 {} 号事件的专家抽取不可重现 / event {}: expert draw does not replay: {}: {e}",
                    d.seq,
                    d.seq,
                    e.code()
                );
            }
        }
    }
    ok
}

/// An opening record as downloaded: its ledger, its place in it, the platform signature.
fn verify_record(b: &kaibiao::opening::record::RecordBundle) -> ExitCode {
    match kaibiao::opening::record::verify(b) {
        Ok(seq) => {
            let r = &b.signed.record;
            println!(
                "OK: 开标记录签名有效,且为事件链第 {seq} 号事件所记载 / opening record verified — tender {} ({}), closed by event {seq}, ledger head {}",
                r["tender"]["code"].as_str().unwrap_or(""),
                r["tender"]["id"].as_str().unwrap_or(""),
                r["ledger_head"].as_str().unwrap_or("")
            );
            if let Ok(der) = kaibiao::pki::authority::pem_to_der(&b.ca_pem) {
                println!(
                    "签发 CA 证书指纹 / issuing CA certificate SHA-256: {} (compare with the platform's published CA)",
                    kaibiao::crypto::sha256_hex(&der)
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("FAIL: 开标记录校验失败 / the opening record does not verify: {e}");
            ExitCode::from(1)
        }
    }
}

/// An evaluation report as downloaded: its ledger, its place in it, every expert's signature.
fn verify_report(b: &kaibiao::committee::report::ReportBundle) -> ExitCode {
    match kaibiao::committee::report::verify(b) {
        Ok(n) => {
            println!(
                "OK: 评标报告有 {n} 位专家的有效签名,且记载于事件链 / evaluation report verified — tender {} ({}), {n} expert signatures, report SHA-256 {}",
                b.report["tender"]["code"].as_str().unwrap_or(""),
                b.report["tender"]["id"].as_str().unwrap_or(""),
                b.report_sha256
            );
            if let Ok(der) = kaibiao::pki::authority::pem_to_der(&b.ca_pem) {
                println!(
                    "签发 CA 证书指纹 / issuing CA certificate SHA-256: {} (compare with the platform's published CA)",
                    kaibiao::crypto::sha256_hex(&der)
                );
            }
            if !verify_ledger_draws(&b.ledger) {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("FAIL: 评标报告校验失败 / the evaluation report does not verify: {e}");
            ExitCode::from(1)
        }
    }
}

/// `kaibiao screen`: reads `file`, writes the report as `format` to `output` or stdout.
fn screen(file: &Path, format: &str, output: Option<&Path>) -> anyhow::Result<()> {
    use anyhow::Context;
    use kaibiao::collusion::ocds;
    let input = std::fs::File::open(file).with_context(|| format!("{}", file.display()))?;
    let report = ocds::screen_file(std::io::BufReader::new(input))
        .with_context(|| format!("{} is not OCDS data", file.display()))?;
    let out: Box<dyn std::io::Write> = match output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("{}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    if format == "csv" {
        ocds::write_csv(&report, out)
    } else {
        let mut out = out;
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
        Ok(())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Verify { file }) = &cli.command {
        return verify(file);
    }
    if let Some(Command::Screen {
        file,
        format,
        output,
    }) = &cli.command
    {
        return match screen(file, format, output.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    kaibiao::telemetry::init_tracing();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            None => serve(cli.serve).await,
            Some(Command::Serve(args)) => serve(args).await,
            Some(Command::Migrate(args)) => {
                let config = args.config()?;
                std::fs::create_dir_all(&config.data_dir)?;
                let db = kaibiao::db::Database::connect(
                    config.database_url.as_deref(),
                    &config.data_dir,
                )
                .await?;
                db.migrate().await?;
                println!("migrations applied ({:?})", db.backend);
                Ok(())
            }
            Some(Command::Verify { .. } | Command::Screen { .. }) => {
                unreachable!("handled above")
            }
            Some(Command::Keys(KeysCommand::Init { login, key_file })) => {
                kaibiao::cli::keys::init(&login.server, &login.user, &key_file).await
            }
            Some(Command::Share(ShareCommand::Check {
                login,
                key_file,
                tender,
            })) => kaibiao::cli::share::check(&login.server, &login.user, &key_file, &tender).await,
            Some(Command::Share(ShareCommand::Submit {
                login,
                key_file,
                tender,
            })) => {
                kaibiao::cli::share::submit(&login.server, &login.user, &key_file, &tender).await
            }
            Some(Command::Bid(cmd)) => match cmd {
                BidCommand::Seal {
                    login,
                    key_file,
                    tender,
                    lot,
                    sheet,
                    docs,
                    out,
                } => {
                    kaibiao::cli::bid::seal(
                        &login.server,
                        &login.user,
                        &key_file,
                        &tender,
                        lot,
                        &sheet,
                        &docs,
                        &out,
                    )
                    .await
                }
                BidCommand::Submit {
                    user,
                    file,
                    key_file,
                    chunk_mib,
                } => kaibiao::cli::bid::submit(&user, &file, key_file.as_deref(), chunk_mib).await,
                BidCommand::Status { login, bid } => {
                    kaibiao::cli::bid::status(&login.server, &login.user, &bid).await
                }
                BidCommand::Decrypt {
                    login,
                    key_file,
                    bid,
                } => kaibiao::cli::bid::decrypt(&login.server, &login.user, &key_file, &bid).await,
                BidCommand::Withdraw { login, bid } => {
                    kaibiao::cli::bid::withdraw(&login.server, &login.user, &bid).await
                }
            },
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
