//! The public listener: accepts TCP connections up to a limit kept below the process's
//! file handles, and from one address up to a share of it; gives a TLS handshake and each
//! request's headers a deadline (also while a kept-alive connection waits for its next
//! request); serves the router over HTTP/1.1 with WebSocket upgrades; drains on shutdown.
//! A connection over the limit gets a plain `503` (or, under TLS, is closed) at once, so
//! `/healthz` and everyone else keep being served while someone holds thousands open.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// How long this project's own clients (the CLI, the demo's walk, the tests) keep an idle
/// pooled connection: under the server's 15 s for starting the next request on a
/// kept-alive connection, so that a client never sends a request on a connection the
/// server is closing at that moment (the request would fail with nothing answered).
pub const CLIENT_IDLE: Duration = Duration::from_secs(10);

/// How many connections, and for how long they may dawdle.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections open at once; 0: from the open-file limit (see [`Limits::resolve`]).
    pub max_connections: usize,
    /// Connections open at once from one address (127.0.0.1 and ::1 excepted: a reverse
    /// proxy on the same machine speaks for everyone behind it, so limit at the proxy).
    pub max_per_ip: usize,
    /// Time to send a request's headers, and to start the next on a kept-alive connection.
    pub header_timeout: Duration,
    pub tls_handshake_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client (see [`TrustedProxies`]).
    pub trusted_proxies: TrustedProxies,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 0,
            max_per_ip: 1024,
            header_timeout: Duration::from_secs(15),
            tls_handshake_timeout: Duration::from_secs(10),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// The reverse proxies (addresses or CIDR ranges) allowed to say who the client is. A
/// request from one of them is the client that its `X-Forwarded-For` names: the last
/// address there that is not itself a trusted proxy (each proxy appends the address it
/// was reached from, so what the client wrote itself, to the left, is not believed). From
/// anyone else the header is ignored. Throttling, the audit log and the collusion
/// evidence (R-COL-1's same address) all read the address resolved here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(std::net::IpAddr, u8)>);

impl TrustedProxies {
    /// From `10.0.0.5`, `10.1.0.0/16`, `::1`, `fd00::/8`.
    pub fn parse(items: &[String]) -> anyhow::Result<Self> {
        let mut out = Vec::new();
        for item in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item, None),
            };
            let ip: std::net::IpAddr = addr
                .parse()
                .map_err(|_| anyhow::anyhow!("trusted proxy {item:?}: not an address"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| anyhow::anyhow!("trusted proxy {item:?}: bad prefix"))?,
                None => max,
            };
            out.push((ip, bits));
        }
        Ok(TrustedProxies(out))
    }

    fn bits(ip: std::net::IpAddr) -> (u128, u8) {
        match ip {
            std::net::IpAddr::V4(a) => (u128::from(u32::from(a)) << 96, 32),
            std::net::IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => (u128::from(u32::from(v4)) << 96, 32),
                None => (u128::from(a), 128),
            },
        }
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let (addr, family) = Self::bits(ip);
        self.0.iter().any(|(net, prefix)| {
            let (net, net_family) = Self::bits(*net);
            let mask = if *prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(*prefix))
            };
            family == net_family && (addr & mask) == (net & mask)
        })
    }

    /// The client of a request that reached us from `peer` with these headers.
    pub fn client(&self, peer: SocketAddr, headers: &axum::http::HeaderMap) -> SocketAddr {
        if self.0.is_empty() || !self.contains(peer.ip()) {
            return peer;
        }
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in forwarded.iter().rev() {
            let Ok(ip) = hop.trim_matches(['[', ']']).parse::<std::net::IpAddr>() else {
                return peer;
            };
            if !self.contains(ip) {
                return SocketAddr::new(ip, peer.port());
            }
        }
        peer
    }
}

/// File handles kept for what is not a client connection: the database, blobs, uploads,
/// media sockets, logs.
const RESERVED_FILES: u64 = 1024;

impl Limits {
    /// The connection limit in force: the configured one, or 80 % of the open-file limit
    /// (raised to its hard maximum first) less what the server needs for itself.
    pub fn resolve(mut self) -> Limits {
        if self.max_connections == 0 {
            let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
            let usable = files.saturating_sub(RESERVED_FILES).max(64) * 8 / 10;
            self.max_connections = usize::try_from(usable).unwrap_or(usize::MAX);
        }
        self
    }
}

/// Counts connections, in all and per address.
struct Gate {
    limits: Limits,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// A connection's place; given back when dropped.
struct Ticket {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self.gate.open.lock().unwrap_or_else(|e| e.into_inner());
        open.0 -= 1;
        if let Some(n) = open.1.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

impl Gate {
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Ticket> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if open.0 >= self.limits.max_connections {
            return None;
        }
        let per_ip = open.1.entry(ip).or_insert(0);
        if !local_proxy(ip) && *per_ip >= self.limits.max_per_ip {
            return None;
        }
        *per_ip += 1;
        open.0 += 1;
        Some(Ticket {
            gate: self.clone(),
            ip,
        })
    }
}

/// 127.0.0.1 and ::1, where a reverse proxy on this machine connects from.
fn local_proxy(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4 == std::net::Ipv4Addr::LOCALHOST,
        IpAddr::V6(v6) => v6 == std::net::Ipv6Addr::LOCALHOST,
    }
}

const BUSY_BODY: &str = r#"{"code":"SERVER_BUSY","message":"连接过多,请稍后再试","message_en":"Too many connections; try again shortly","retry_after_secs":5}"#;

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish
/// (for at most 10 s).
pub async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let gate = Arc::new(Gate {
        limits: limits.resolve(),
        open: Mutex::new((0, HashMap::new())),
    });
    tracing::info!(
        max_connections = gate.limits.max_connections,
        max_per_ip = gate.limits.max_per_ip,
        "connection limits"
    );
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file handles, say: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(ticket) = gate.admit(remote.ip()) else {
            tokio::spawn(refuse(tcp, tls.is_some()));
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        let stop = stop.clone();
        let limits = gate.limits.clone();
        tokio::spawn(async move {
            let _ticket = ticket;
            match tls {
                None => connection(tcp, remote, app, &limits, stop).await,
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(tcp));
                    if let Ok(Ok(stream)) = handshake.await {
                        connection(stream, remote, app, &limits, stop).await;
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Requests under way finish; idle connections close at once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while gate.open.lock().unwrap_or_else(|e| e.into_inner()).0 > 0 {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!("connections still open after 10 s; closing");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Tells a client over the limit to come back, without reading its request.
async fn refuse(mut tcp: tokio::net::TcpStream, tls: bool) {
    if !tls {
        let reply = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
             Retry-After: 5\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{BUSY_BODY}",
            BUSY_BODY.len()
        );
        let _ = tokio::time::timeout(Duration::from_secs(1), tcp.write_all(reply.as_bytes())).await;
    }
    let _ = tcp.shutdown().await;
}

async fn connection<S>(
    stream: S,
    remote: SocketAddr,
    app: Router,
    limits: &Limits,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let proxies = limits.trusted_proxies.clone();
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            let client = proxies.client(remote, req.headers());
            req.extensions_mut().insert(ConnectInfo(client));
            let mut app = app.clone();
            async move {
                use tower::Service;
                app.call(req.map(axum::body::Body::new)).await
            }
        });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024);
    let conn = http
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let ended = tokio::select! {
        ended = conn.as_mut() => ended,
        _ = async { stop.wait_for(|s| *s).await.map(|_| ()) } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = ended {
        tracing::debug!(error = %e, "connection ended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> axum::http::HeaderMap {
        let mut h = axum::http::HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client_and_only_its_own_hop_counts() {
        let proxies = TrustedProxies::parse(&["10.0.0.5".into(), "172.16.0.0/12".into()]).unwrap();
        let from = |ip: &str| SocketAddr::new(ip.parse().unwrap(), 40000);
        let client =
            |peer: &str, xff: &[&str]| proxies.client(from(peer), &headers(xff)).ip().to_string();
        // The proxy appended the client's address; what the client wrote itself is not believed.
        assert_eq!(client("10.0.0.5", &["6.6.6.6, 58.19.1.2"]), "58.19.1.2");
        // Two proxies in a row, over two headers.
        assert_eq!(
            client("10.0.0.5", &["6.6.6.6", "58.19.1.2, 172.20.1.1"]),
            "58.19.1.2"
        );
        // Anyone else's header is ignored.
        assert_eq!(client("58.19.1.2", &["1.2.3.4"]), "58.19.1.2");
        // Nothing usable: the proxy itself.
        assert_eq!(client("10.0.0.5", &[]), "10.0.0.5");
        assert_eq!(client("10.0.0.5", &["not-an-address"]), "10.0.0.5");
        // IPv4 reached over IPv6 (mapped) is the same proxy.
        assert_eq!(client("::ffff:10.0.0.5", &["58.19.1.2"]), "58.19.1.2");
        assert!(TrustedProxies::parse(&["10.0.0.0/33".into()]).is_err());
        assert!(TrustedProxies::parse(&["proxy".into()]).is_err());
        assert_eq!(
            TrustedProxies::default().client(from("10.0.0.5"), &headers(&["1.1.1.1"])),
            from("10.0.0.5")
        );
    }
}
