//! Drivers: what makes the hall's room fan events out while the watchers listen.
//!
//! - `amend`: the demo agency amends a published tender again and again; each amendment is
//!   a `tender_amended` ledger event.
//! - `opening`: a real opening of a sealed demo tender: the host starts it, every demo
//!   bidder decrypts its `kb` with its key file, two custodians send their shares, and
//!   the bids are read out as `bid_read_out` events.
//! - `baseline`: asks the baseline server (`baseline.rs`) for a burst of frames.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::cli::client::{api_error, Client};
use crate::ledger::Kind;

/// Logs in a demo user with the shared demo password.
pub async fn login(server: &str, user: &str, password: &str) -> anyhow::Result<Client> {
    Client::login(server, user, password, "kaibiao-load")
        .await
        .with_context(|| format!("logging in as {user}"))
}

/// The tender's ledger head seq as `client` may see it.
pub async fn ledger_head(client: &Client, tender: &str) -> anyhow::Result<i64> {
    let l: Value = client
        .call(Method::GET, &format!("/api/tenders/{tender}/ledger"), None)
        .await?;
    Ok(l["events"]
        .as_array()
        .and_then(|e| e.last())
        .and_then(|e| e["seq"].as_i64())
        .unwrap_or(0))
}

/// Seqs of the ledger events of `kind` after `after`.
pub async fn ledger_seqs(
    client: &Client,
    tender: &str,
    kind: &str,
    after: i64,
) -> anyhow::Result<Vec<i64>> {
    let l: Value = client
        .call(Method::GET, &format!("/api/tenders/{tender}/ledger"), None)
        .await?;
    Ok(l["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == kind)
        .filter_map(|e| e["seq"].as_i64())
        .filter(|&s| s > after)
        .collect())
}

/// A published tender whose bid deadline is still ahead (amendments need one).
pub async fn published_tender(client: &Client) -> anyhow::Result<String> {
    let list: Vec<Value> = client.call(Method::GET, "/api/tenders", None).await?;
    let now = chrono::Utc::now().timestamp_millis();
    list.iter()
        .filter(|t| t["status"] == "published" && t["bid_deadline"].as_i64() > Some(now + 60_000))
        .filter_map(|t| t["id"].as_str())
        .next()
        .map(str::to_string)
        .context("no published tender with its deadline ahead: start the server with --demo")
}

/// Amends `tender` `events` times as its agency, one every `interval` (back to back when
/// zero); returns the seqs of the `tender_amended` events made.
pub async fn amend(
    agency: &Client,
    tender: &str,
    events: usize,
    interval: Duration,
    head: i64,
) -> anyhow::Result<Vec<i64>> {
    let view: Value = agency
        .call(Method::GET, &format!("/api/tenders/{tender}"), None)
        .await?;
    let description = view["description"].as_str().unwrap_or_default();
    // Earlier runs' marks are dropped, so repeated runs do not grow the text.
    let base = description.split(" [负载测试").next().unwrap_or_default();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let start = tokio::time::Instant::now();
    for i in 0..events {
        if !interval.is_zero() {
            tokio::time::sleep_until(start + interval * i as u32).await;
        }
        let body = json!({
            "reason": format!("负载测试更正 {} / load test amendment {}", i + 1, i + 1),
            "changes": {"description": format!("{base} [负载测试 {} #{}]", &run[..8], i + 1)},
        });
        let _: Value = agency
            .call(
                Method::POST,
                &format!("/api/tenders/{tender}/amendments"),
                Some(body),
            )
            .await
            .with_context(|| format!("amendment {}", i + 1))?;
    }
    ledger_seqs(agency, tender, Kind::TenderAmended.as_str(), head).await
}

/// Asks the baseline server for `events` frames of about `bytes` each, `per_request` in
/// each request, the next request sent once the last was answered (or at its time, one
/// every `interval`); returns their seqs.
pub async fn baseline(
    url: &str,
    events: usize,
    per_request: usize,
    interval: Duration,
    bytes: usize,
) -> anyhow::Result<Vec<i64>> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    let per_request = per_request.clamp(1, events.max(1));
    // A burst of several paces its own frames; one frame per request is paced here.
    let (server_interval, pace) = if per_request > 1 {
        (interval, Duration::ZERO)
    } else {
        (Duration::ZERO, interval)
    };
    let start = tokio::time::Instant::now();
    let mut seqs = Vec::with_capacity(events);
    while seqs.len() < events {
        if !pace.is_zero() {
            tokio::time::sleep_until(start + pace * seqs.len() as u32).await;
        }
        let n = per_request.min(events - seqs.len());
        let cmd = json!({"type": "burst", "events": n,
            "interval_ms": server_interval.as_millis() as u64, "bytes": bytes});
        ws.send(Message::Text(cmd.to_string().into())).await?;
        seqs.extend(baseline_ack(&mut ws).await?);
    }
    Ok(seqs)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next frame of `kind` the baseline server sends on `ws`.
async fn reply_of(ws: &mut Socket, kind: &str) -> anyhow::Result<Value> {
    while let Some(m) = ws.next().await {
        if let Message::Text(t) = m? {
            let v: Value = serde_json::from_str(t.as_str())?;
            if v["type"] == kind {
                return Ok(v);
            }
        }
    }
    bail!("the baseline server closed without a {kind}")
}

/// The seqs of the frames the baseline server acknowledges sending.
async fn baseline_ack(ws: &mut Socket) -> anyhow::Result<std::ops::RangeInclusive<i64>> {
    let v = reply_of(ws, "ack").await?;
    let (first, last) = (v["first"].as_i64(), v["last"].as_i64());
    Ok(first.unwrap_or(1)..=last.unwrap_or(0))
}

/// The baseline server's current seq (watchers subscribe from there).
pub async fn baseline_head(url: &str) -> anyhow::Result<i64> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await?;
    ws.send(Message::Text(r#"{"type":"head"}"#.into())).await?;
    reply_of(&mut ws, "head").await?["seq"]
        .as_i64()
        .context("seq")
}

/// The opening driver's view of the demo: the server, the shared password, and the
/// demo key files (`<data-dir>/demo-keys/<user>.kbkey`).
pub struct Opening {
    pub server: String,
    pub password: String,
    pub key_dir: PathBuf,
    pub host: Client,
}

fn key_files(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "kbkey") {
            if let Some(user) = p.file_stem().and_then(|s| s.to_str()) {
                out.push((user.to_string(), p.clone()));
            }
        }
    }
    out.sort();
    Ok(out)
}

async fn command(client: &Client, tender: &str, cmd: Value) -> anyhow::Result<Value> {
    client
        .call(
            Method::POST,
            &format!("/api/tenders/{tender}/opening"),
            Some(cmd),
        )
        .await
}

impl Opening {
    /// The sealed tender to open: `tender` if given, else the demo tender with bids whose
    /// deadline is nearest; waits up to `wait` for its deadline to pass and the seal.
    pub async fn sealed_tender(
        &self,
        tender: Option<&str>,
        wait: Duration,
    ) -> anyhow::Result<String> {
        let end = Instant::now() + wait;
        loop {
            let list: Vec<Value> = self.host.call(Method::GET, "/api/tenders", None).await?;
            let pick = list
                .iter()
                .filter(|t| tender.is_none_or(|id| t["id"] == id))
                .filter(|t| matches!(t["status"].as_str(), Some("published" | "sealed")))
                .min_by_key(|t| t["bid_deadline"].as_i64().unwrap_or(i64::MAX));
            let Some(t) = pick else {
                bail!("no published or sealed tender to open");
            };
            let id = t["id"].as_str().unwrap_or_default().to_string();
            if t["status"] == "sealed" {
                return Ok(id);
            }
            if Instant::now() >= end {
                bail!(
                    "tender {id} is not sealed yet (deadline {})",
                    t["bid_deadline"]
                );
            }
            let left =
                t["bid_deadline"].as_i64().unwrap_or(0) - chrono::Utc::now().timestamp_millis();
            eprintln!(
                "  waiting for tender {id} to be sealed ({} s to its deadline)",
                (left / 1000).max(0)
            );
            tokio::time::sleep(Duration::from_secs(if left > 20_000 { 10 } else { 1 })).await;
        }
    }

    /// Runs the opening to the end of revealing; returns the seqs of `bid_read_out`.
    pub async fn run(&self, tender: &str, head: i64) -> anyhow::Result<Vec<i64>> {
        let started = Instant::now();
        let r = command(&self.host, tender, json!({"type": "start"})).await?;
        eprintln!("  opening started: {}", r["phase"].as_str().unwrap_or("?"));
        let keys = key_files(&self.key_dir)?;

        // Every demo bidder with a key file decrypts its own bids' kb.
        let mut decrypted = 0;
        for (user, path) in keys.iter().filter(|(u, _)| u.starts_with("supplier")) {
            let client = login(&self.server, user, &self.password).await?;
            let state: anyhow::Result<Value> = client
                .call(Method::GET, &format!("/api/tenders/{tender}/opening"), None)
                .await;
            let Ok(state) = state else { continue };
            let ids: Vec<String> = state["me"]["bid_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|b| b.as_str().map(str::to_string))
                .collect();
            if ids.is_empty() {
                continue;
            }
            let dk = device_keys(path, &self.password).await?;
            for bid in ids {
                let h: Value = client
                    .call(
                        Method::POST,
                        &format!("/api/bids/{bid}/decryption"),
                        Some(serde_json::json!({})),
                    )
                    .await?;
                let header: crate::crypto::kb1::Header =
                    serde_json::from_value(h["header"].clone()).context("bid header")?;
                let kb = crate::crypto::kb1::unseal_kb(&header, &dk.encryption)
                    .map_err(|e| anyhow::anyhow!("unsealing kb of {bid}: {}", e.code()))?;
                let cmd = json!({"type": "decrypt", "bid_id": bid,
                    "kb": crate::crypto::b64url::encode(&kb)});
                command(&client, tender, cmd).await?;
                decrypted += 1;
            }
        }
        eprintln!("  {decrypted} bids decrypted");

        // Two custodians with key files send their shares.
        let mut shares = 0;
        for (user, path) in keys.iter().filter(|(u, _)| !u.starts_with("supplier")) {
            if shares == 2 {
                break;
            }
            let client = login(&self.server, user, &self.password).await?;
            let mine: anyhow::Result<Value> = client
                .call(
                    Method::GET,
                    &format!("/api/tenders/{tender}/my-share"),
                    None,
                )
                .await;
            let Ok(mine) = mine else { continue };
            let dk = device_keys(path, &self.password).await?;
            let index = mine["index"].as_u64().context("share index")? as u32;
            let sealed: crate::crypto::hpke::Sealed =
                serde_json::from_value(mine["sealed"].clone())?;
            let value = crate::crypto::hpke::open(
                &dk.encryption,
                crate::tender::opening_key::SHARE_INFO,
                &crate::tender::opening_key::share_aad(tender, index),
                &sealed,
            )
            .map_err(|e| anyhow::anyhow!("unsealing {user}'s share: {}", e.code()))?;
            let cmd = json!({"type": "share", "index": index, "value": hex::encode(value)});
            match command(&client, tender, cmd).await {
                Ok(_) => shares += 1,
                Err(e) if api_error(&e).is_some_and(|a| a.code == "ILLEGAL_TRANSITION") => break,
                Err(e) => return Err(e),
            }
        }
        eprintln!("  {shares} shares sent");

        // Revealing runs on the server; wait for it to end.
        loop {
            let s: Value = self
                .host
                .call(Method::GET, &format!("/api/tenders/{tender}/opening"), None)
                .await?;
            match s["phase"].as_str() {
                Some("confirming" | "closed" | "failed") => break,
                _ if started.elapsed() > Duration::from_secs(300) => {
                    bail!("the opening did not finish revealing: {}", s["phase"])
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        ledger_seqs(&self.host, tender, Kind::BidReadOut.as_str(), head).await
    }
}

/// Opens a demo key file (argon2: on the blocking pool).
async fn device_keys(
    path: &Path,
    passphrase: &str,
) -> anyhow::Result<crate::pki::keyfile::DeviceKeys> {
    let file = std::fs::read_to_string(path)?;
    let pass = passphrase.to_string();
    let (_, keys) = tokio::task::spawn_blocking(move || {
        crate::pki::keyfile::DeviceKeys::from_file(&file, &pass)
    })
    .await??;
    Ok(keys)
}
