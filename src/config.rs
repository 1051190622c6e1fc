//! Run-time configuration, from flags and `KAIBIAO_*` environment variables (see main.rs).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// SQLite file (unless `database_url` is set) and the blob folder live here.
    pub data_dir: PathBuf,
    /// `postgres://...` or `sqlite://...`; `None` means `<data_dir>/kaibiao.db`.
    pub database_url: Option<String>,
    /// What every node of a deployment must see the same: the blob store, the platform's
    /// keys, uploads under way (a mount all nodes reach); `None`: the data dir.
    pub shared_dir: Option<PathBuf>,
    /// The platform's CA and signing key (every node the same); `None`: `keys/` of the
    /// shared dir, made there at the first start.
    pub keys_dir: Option<PathBuf>,
    /// Where the other nodes reach this one (`http://host:port` on their network), for
    /// the media rooms this node runs; `None`: the listener's address when it names one.
    pub node_url: Option<String>,
    /// `nats://host:port[/bucket][?replicas=N]`: blobs in a NATS JetStream object store every node
    /// reaches; `None`: the `blobs` folder of the shared dir.
    pub blob_store: Option<String>,
    /// Seed the demo city into an empty database.
    pub demo: bool,
    /// The demo users' password; random (and printed once) when `None`.
    pub demo_password: Option<String>,
    pub tls: Option<TlsFiles>,
    /// Browser sessions expire after this many minutes.
    pub session_ttl_mins: i64,
    /// CLI bearer tokens expire after this many days.
    pub token_ttl_days: i64,
    /// Quorums and windows of the opening (`KAIBIAO_MIN_BIDDERS`).
    pub opening: OpeningRules,
    /// The media plane: UDP ports, STUN/TURN servers, recordings (docs/media.md).
    pub media: kaibiao_media::MediaConfig,
    /// The hub pings each connection this often and closes one silent for 3 intervals.
    pub hub_ping: std::time::Duration,
    /// Where `/metrics` is served (an internal address); not served when `None`. Never on
    /// the public listener: request counts per route would tell how many bids came in.
    pub metrics_listen: Option<SocketAddr>,
    /// Connections the public listener holds at once, in all and per address; timeouts.
    pub limits: crate::serve::Limits,
    /// Hub connections one user may hold at once.
    pub hub_connections_per_user: usize,
    /// Whether seated experts may download bid documents; otherwise they read them in the
    /// room's reader only (docs/evaluation.md).
    pub expert_downloads: bool,
    /// With `demo`: also make the 36 demo experts' key files (2 s of key derivation).
    pub demo_expert_keys: bool,
    /// With `demo`: also carry five tenders through the chain at earlier dates, one at
    /// each stage after the award (a few seconds at the first start).
    pub demo_history: bool,
    /// The operator's official calendar (docs/deadlines.md); the shipped one when `None`.
    pub calendar_file: Option<PathBuf>,
    /// The operator's deadline periods by rule code; the defaults when `None`.
    pub deadline_periods_file: Option<PathBuf>,
    /// The operator's table of the procurement methods' rules (docs/methods.md); the
    /// shipped one when `None`. Loaded and checked at start (`tender::service::
    /// load_method_rules`) and kept as a run-time part, like the calendar.
    pub method_rules_file: Option<PathBuf>,
    /// The open-tendering threshold (公开招标数额标准, set by the province), in fen: a plan
    /// at or above it with another method needs finance's approval (R-METH-1), and from it
    /// a method table's panel with `large_from = "open_tendering_threshold"` is a large
    /// project's (R-METH-2). Default 4,000,000 yuan (M: check the province's current
    /// standard).
    pub open_tendering_threshold_fen: i64,
    /// Whether publication and amendments are held to the statutory periods (R-METH-2,
    /// R-DOC-1, R-DOC-2). Off only in a training deployment (the demo city, whose opening
    /// tender closes minutes after it is published) and in tests of other stages.
    pub statutory_periods: bool,
    /// Whether every tender is created from a filed procurement plan (R-PLAN-2); off only
    /// where plans are kept elsewhere.
    pub require_plan: bool,
    /// The shortest round of offers a negotiation may open (docs/rounds.md): suppliers
    /// must have time to seal. 5 minutes; less only for tests.
    pub round_min_secs: i64,
}

impl Config {
    /// Where what all nodes share lives ([`Config::shared_dir`], else the data dir).
    pub fn shared(&self) -> &std::path::Path {
        self.shared_dir.as_deref().unwrap_or(&self.data_dir)
    }

    /// Where the platform's CA and signing key are ([`Config::keys_dir`]).
    pub fn keys(&self) -> PathBuf {
        self.keys_dir
            .clone()
            .unwrap_or_else(|| self.shared().join("keys"))
    }

    /// Defaults for a listener chosen by the caller (tests, embedding).
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        let data_dir: PathBuf = data_dir.into();
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            // Loopback and any port until the operator says otherwise (`serve` does).
            media: kaibiao_media::MediaConfig {
                recording_dir: Some(data_dir.join("recordings")),
                ..kaibiao_media::MediaConfig::loopback()
            },
            data_dir,
            database_url: None,
            shared_dir: None,
            keys_dir: None,
            node_url: None,
            blob_store: None,
            demo: false,
            demo_password: None,
            tls: None,
            session_ttl_mins: 8 * 60,
            token_ttl_days: 30,
            opening: Default::default(),
            hub_ping: std::time::Duration::from_secs(15),
            metrics_listen: None,
            limits: Default::default(),
            hub_connections_per_user: 64,
            expert_downloads: false,
            demo_expert_keys: true,
            demo_history: true,
            calendar_file: None,
            deadline_periods_file: None,
            method_rules_file: None,
            open_tendering_threshold_fen: 400_000_000,
            statutory_periods: true,
            require_plan: true,
            round_min_secs: 300,
        }
    }
}

/// The opening's rule settings (R-OPEN-2, R-OPEN-5, custodians' alert).
#[derive(Debug, Clone)]
pub struct OpeningRules {
    /// The operator's minimums of bidders per lot by procurement method (R-OPEN-2), put
    /// over the method table's (`KAIBIAO_MIN_BIDDERS`); a method not named keeps the
    /// table's minimum (docs/methods.md).
    pub min_bidders: BTreeMap<String, i64>,
    /// Minutes bidders have to confirm or object after the reading-out (R-OPEN-5).
    pub confirm_window_mins: i64,
    /// Minutes of waiting for custodians before finance is alerted.
    pub custodian_alert_mins: i64,
    /// The pause between two bids read out (唱标), so that each is seen by all before the
    /// next (`KAIBIAO_READING_INTERVAL_MS`).
    pub reading_interval_ms: u64,
    /// Minutes before the bid deadline from which bidders may sign in to the hall (签到);
    /// sign-in closes when the host starts the opening.
    pub sign_in_mins: i64,
}

impl Default for OpeningRules {
    fn default() -> Self {
        OpeningRules {
            min_bidders: BTreeMap::new(),
            confirm_window_mins: 15,
            custodian_alert_mins: 10,
            reading_interval_ms: 1500,
            sign_in_mins: 60,
        }
    }
}

impl OpeningRules {
    /// Applies `method=n,method=n` (as `KAIBIAO_MIN_BIDDERS` gives it); the methods are
    /// checked against the method table at start.
    pub fn set_min_bidders(&mut self, spec: &str) -> anyhow::Result<()> {
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (m, n) = part
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("expected method=n, got {part}"))?;
            let n: i64 = n.trim().parse()?;
            anyhow::ensure!(n >= 1, "a minimum of bidders is at least 1");
            self.min_bidders.insert(m.trim().to_string(), n);
        }
        Ok(())
    }
}
