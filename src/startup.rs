//! Building the application: shared by `kaibiao serve` and every test, which bind their
//! own listener (port 0) and pass their own shutdown future.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{MatchedPath, State};
use axum::http::{header, HeaderName, HeaderValue, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{Api, RouteSpec};
use crate::blob::BlobStore;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::db::{Backend, Database};
use crate::demo::DemoLogins;
use crate::state::AppState;
use crate::telemetry::Metrics;

type ServeFuture = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

pub struct Application {
    pub addr: SocketAddr,
    /// Where `/metrics` is served, when `metrics_listen` asked for it.
    pub metrics_addr: Option<SocketAddr>,
    pub state: AppState,
    /// Set when this start seeded the demo city: the logins, to print once.
    pub demo_logins: Option<DemoLogins>,
    /// With `--demo`: the opening tender's bids, sent over HTTP once the server serves.
    demo_bids: Option<crate::demo::OpeningBids>,
    server: ServeFuture,
}

impl Application {
    /// Serves until the shutdown future resolves, then drains open requests.
    pub async fn run(self) -> std::io::Result<()> {
        // The task ends with the server (dropping its handle aborts it).
        let _bids = self.demo_bids.map(crate::demo::OpeningBids::spawn);
        self.server.await
    }

    /// Takes the demo opening's bids out of `run`, to send them another way (a test that
    /// waits for them) or not at all (tests that count rows).
    pub fn take_demo_bids(&mut self) -> Option<crate::demo::OpeningBids> {
        self.demo_bids.take()
    }
}

/// All API routes with their access declarations.
pub fn api() -> Api {
    Api::default()
        .merge(crate::auth::routes::api())
        .merge(crate::org::routes::api())
        .merge(crate::plan::routes::api())
        .merge(crate::approval::routes::api())
        .merge(crate::supplier::routes::api())
        .merge(crate::documents::routes::api())
        .merge(crate::deposits::routes::api())
        .merge(crate::tender::routes::api())
        .merge(crate::dashboard::api())
        .merge(crate::keys::routes::api())
        .merge(crate::bid::routes::api())
        .merge(crate::hub::routes::api())
        .merge(crate::opening::routes::api())
        .merge(crate::committee::routes::api())
        .merge(crate::rounds::routes::api())
        .merge(crate::framework::routes::api())
        .merge(crate::award::routes::api())
        .merge(crate::challenge::routes::api())
        .merge(crate::contract::routes::api())
        .merge(crate::acceptance::routes::api())
        .merge(crate::payment::routes::api())
        .merge(crate::rating::routes::api())
        .merge(crate::financing::routes::api())
        .merge(crate::collusion::routes::api())
        .merge(crate::opendata::routes::api())
        .merge(crate::analytics::routes::api())
        .merge(crate::console::routes::api())
        .merge(crate::apidoc::api())
        .merge(crate::alerts::routes::api())
}

/// The access declaration of every API route (for the route × role matrix test).
pub fn route_specs() -> Vec<RouteSpec> {
    api().specs
}

pub async fn build(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Application> {
    build_with_clock(config, Arc::new(SystemClock), listener, shutdown).await
}

pub async fn build_with_clock(
    config: Config,
    clock: Arc<dyn Clock>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Application> {
    crate::tls::install_crypto_provider();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    let db = Database::connect(config.database_url.as_deref(), &config.data_dir).await?;
    db.migrate().await?;
    crate::org::repo::ensure_regions(&db.pool).await?;
    // The platform's keys, before anything of the node starts (its links to other nodes):
    // a node given no keys where the others have some is told so before it makes its own.
    if !config.keys().join("ca-cert.pem").exists() {
        if let Some(ca) = crate::pki::repo::recorded_ca(&db.pool).await? {
            anyhow::bail!(
                "no platform keys in {}, and this database's nodes share the CA {ca}: \
                 give this node their keys (--keys-dir, or --shared-dir), e.g. a copy of \
                 keys/ from the first node",
                config.keys().display()
            );
        }
    }
    let pki = crate::pki::Authority::load_or_create(&config.keys())?;
    crate::pki::repo::same_ca(&db.pool, &pki.ca_der, &config.keys(), clock.now_ms()).await?;
    let blobs = match &config.blob_store {
        Some(url) => BlobStore::nats(url, &config.data_dir.join("blob-copies")).await?,
        None => BlobStore::local(&config.shared().join("blobs"))?,
    };
    // The live rooms, each kind registered by the area that owns it.
    let hub = Arc::new(crate::hub::Hub::new(vec![
        Box::new(crate::opening::room::OpeningRoom),
        Box::new(crate::committee::room::EvaluationRoom),
        Box::new(crate::rounds::room::RoundsRoom),
    ]));
    // The due work and the link to other nodes run as long as the server: they stop when
    // the shutdown future resolves, or when the server future is dropped.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    if let Some(url) = config
        .node_url
        .as_deref()
        .filter(|u| !u.starts_with("http://"))
    {
        anyhow::bail!(
            "--node-url {url}: give http://host:port on the nodes' own network \
             (the links between nodes are plain WebSockets)"
        );
    }
    let at = listener.local_addr()?;
    // Other nodes reach this one at its listener's address if it names one (not
    // 0.0.0.0); behind TLS, only at the address given.
    let node_url = config.node_url.clone().or_else(|| {
        (config.tls.is_none() && !at.ip().is_unspecified()).then(|| format!("http://{at}"))
    });
    let mut cluster = crate::cluster::Cluster::new(config.database_url.as_deref(), node_url);
    let rooms = cluster.link(hub.clone(), stop_rx.clone());
    tracing::info!(node = cluster.node(), shared = cluster.shared(), "node");
    let state = AppState {
        config: Arc::new(config.clone()),
        db,
        blobs,
        clock,
        metrics: Metrics::new()?,
        pki: Arc::new(pki),
        rooms,
        runtimes: Arc::new(
            crate::state::Runtimes::default()
                .with(hub)
                .with(Arc::new(cluster))
                .with(Arc::new(crate::bid::service::UploadLocks::default()))
                .with(Arc::new(crate::opening::reveal::Running::default()))
                .with(Arc::new(load_deadlines(&config)?))
                .with(Arc::new(crate::tender::service::load_method_rules(
                    &config,
                )?))
                .with(Arc::new(crate::alerts::Engine::default()))
                .with(Arc::new(
                    crate::collusion::service::DocumentFindings::default(),
                ))
                .with(Arc::new(crate::collusion::service::Indexing::default()))
                .with(Arc::new(crate::apidoc::ApiDescription::of(&route_specs())))
                .with(Arc::new(crate::opendata::routes::BulkCache::default()))
                .with(Arc::new(crate::auth::SessionPurge::default()))
                .with(Arc::new(crate::auth::service::AttemptLocks::default()))
                .with(Arc::new(crate::auth::service::PasswordChecks::default()))
                .with(Arc::new(crate::committee::scores::Writer::default())),
        ),
        media: kaibiao_media::Sfu::new(config.media.clone()),
    };
    tokio::spawn(crate::hub::Hub::of(&state).keep_up(state.clone(), stop_rx.clone()));
    tokio::spawn(state.db.clone().checkpoints(stop_rx.clone()));
    // Before anything that may score (the demo's history).
    crate::committee::scores::start(&state, stop_rx.clone()).await?;
    let swept = crate::bid::service::sweep_uploads(&state).await?;
    if swept > 0 {
        tracing::info!(
            files = swept,
            "partial upload files no upload needs removed"
        );
    }
    state.blobs.sweep_staging().await?;
    crate::hub::media::salvage_recordings(&state).await?;
    let demo_logins = if config.demo {
        crate::demo::seed_if_empty(&state).await?
    } else {
        None
    };

    // The due work of every area (deadlines, windows), on the node that leads.
    tokio::spawn(crate::jobs::run(
        state.clone(),
        // The alerts after the stages, so that a tick sees what the stages just did.
        [
            crate::auth::jobs(),
            crate::opening::jobs(),
            crate::committee::jobs(),
            crate::rounds::jobs(),
            crate::collusion::jobs(),
            crate::alerts::jobs(),
        ]
        .into_iter()
        .flatten()
        .collect(),
        stop_rx.clone(),
    ));
    let hub = crate::hub::Hub::of(&state);
    let stopping = state.clone();
    let shutdown = async move {
        shutdown.await;
        // The live connections first, so that they go to another node at once; the media
        // rooms run here are given up before, so that their people take them over there.
        hub.begin_draining();
        crate::hub::relay::give_up(&stopping).await;
        hub.drain(std::time::Duration::from_secs(5)).await;
        let _ = stop_tx.send(true);
    };

    let metrics_addr = match config.metrics_listen {
        Some(at) => Some(serve_metrics(state.clone(), at, stop_rx.clone()).await?),
        None => None,
    };
    let app = router(state.clone());
    let addr = at;
    let demo_bids = config.demo.then(|| {
        let cert = config.tls.as_ref().map(|t| t.cert.clone());
        crate::demo::OpeningBids::new(state.clone(), addr, cert, stop_rx)
    });
    let tls = match &config.tls {
        None => None,
        Some(files) => Some(crate::tls::acceptor(files)?),
    };
    let server: ServeFuture = Box::pin(crate::serve::serve(
        listener,
        tls,
        app,
        config.limits.clone(),
        shutdown,
    ));
    tracing::info!(%addr, backend = ?state.db.backend, tls = config.tls.is_some(), "kaibiao listening");
    Ok(Application {
        addr,
        metrics_addr,
        state,
        demo_logins,
        demo_bids,
        server,
    })
}

fn router(state: AppState) -> Router {
    let tls = state.config.tls.is_some();
    let request_id = HeaderName::from_static("x-request-id");
    let api = api().router;
    Router::new()
        .route("/healthz", get(healthz))
        .route(crate::hub::relay::LINK_PATH, get(crate::hub::relay::link))
        .merge(api)
        .fallback(crate::web::asset)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::policy::resolve_user,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            crate::telemetry::track,
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default();
                let rid = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                tracing::info_span!("http", method = %req.method(), route, request_id = rid)
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 connect-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // Under TLS, browsers are told to use nothing else for a year.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            tls.then(|| HeaderValue::from_static("max-age=31536000")),
        ))
        .with_state(state)
}

/// 200 while the database answers reads and takes writes (and, on SQLite, is still the
/// file it opened) and the blob store takes writes; 503 with what failed otherwise, so a
/// balancer stops sending traffic to a node that would lose it.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let backend = match state.db.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let (now, limit) = (state.clock.now_ms(), std::time::Duration::from_secs(3));
    let mut health = state.db.health(now, limit).await;
    if health == crate::db::Health::Ok {
        let blobs = tokio::time::timeout(limit, state.blobs.probe(now)).await;
        if !matches!(blobs, Ok(Ok(()))) {
            health = crate::db::Health::StorageWriteFailed;
        }
    }
    let status = if health == crate::db::Health::Ok {
        StatusCode::OK
    } else {
        tracing::error!(?health, "health check failed");
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = if status == StatusCode::OK {
        "ok"
    } else {
        "unavailable"
    };
    (
        status,
        axum::Json(serde_json::json!({"status": word, "database": backend, "check": health})),
    )
}

/// Serves `/metrics` on its own (internal) listener until the server stops.
async fn serve_metrics(
    state: AppState,
    at: SocketAddr,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(at)
        .await
        .with_context(|| format!("binding the metrics listener {at}"))?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
    });
    tracing::info!(%addr, "metrics listening");
    Ok(addr)
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// The calendar and deadline periods: the operator's files, else the shipped ones. A file
/// that does not read or does not check stops the start with the reason.
fn load_deadlines(config: &Config) -> anyhow::Result<crate::calendar::Deadlines> {
    let read = |p: &Option<std::path::PathBuf>| -> anyhow::Result<Option<String>> {
        p.as_ref()
            .map(|p| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display())))
            .transpose()
    };
    let (calendar, periods) = (
        read(&config.calendar_file)?,
        read(&config.deadline_periods_file)?,
    );
    let d = crate::calendar::Deadlines::from_texts(calendar.as_deref(), periods.as_deref())?;
    let year = chrono::Datelike::year(&chrono::Utc::now());
    for y in [year, year + 1] {
        if !d.calendar.covers(y) {
            tracing::warn!(
                year = y,
                "the official calendar does not cover this year: working days count weekends only"
            );
        }
    }
    Ok(d)
}
