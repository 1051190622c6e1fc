//! The baseline: a trivial tokio-tungstenite broadcast server with the hub's shape and none
//! of its work (no auth, no database, no ledger). Each frame is built once and shared
//! through a broadcast channel; each connection's task writes it out. The same watchers
//! measure it in the same run, so the hub's figures can be read as a ratio against it.
//!
//! Protocol (a subset of the hub's): `subscribe {since_seq}` → the missed frames, then
//! `subscribed {seq}`; `burst {events, interval_ms, bytes}` → that many `event` frames of
//! about `bytes` each, then `ack {first, last}` to the sender; `head` → `head {seq}`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Frames queued per connection before it is cut from live fan-out (as the hub's rooms).
const QUEUE: usize = 1024;

#[derive(Clone, Debug)]
struct Frame {
    seq: i64,
    text: Utf8Bytes,
}

struct Server {
    live: broadcast::Sender<Frame>,
    /// Every frame sent, for catching up after a resync (index: seq − 1).
    history: Mutex<Vec<Utf8Bytes>>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Command {
    Subscribe {
        #[serde(default)]
        since_seq: i64,
    },
    Burst {
        events: usize,
        #[serde(default)]
        interval_ms: u64,
        #[serde(default = "default_bytes")]
        bytes: usize,
    },
    /// The current seq, without subscribing.
    Head,
    Ping,
}

fn default_bytes() -> usize {
    700
}

/// Serves until the process ends.
pub async fn serve(listener: TcpListener) -> anyhow::Result<()> {
    let (live, _) = broadcast::channel(QUEUE);
    let server = Arc::new(Server {
        live,
        history: Mutex::new(Vec::new()),
    });
    loop {
        let (stream, _) = listener.accept().await?;
        let server = server.clone();
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            if let Err(e) = connection(server, stream).await {
                tracing::debug!(error = %e, "baseline connection ended");
            }
        });
    }
}

fn head(server: &Server) -> i64 {
    server.history.lock().map_or(0, |h| h.len() as i64)
}

/// One event frame shaped like the hub's, padded to about `bytes`.
fn event_frame(seq: i64, bytes: usize) -> Utf8Bytes {
    let at = chrono::Utc::now().timestamp_millis();
    let mut v = json!({"type": "event", "room": "opening:baseline", "event": {
        "seq": seq, "at": at, "kind": "baseline", "actor": "baseline", "body": {"pad": ""},
        "prev_hash": "0".repeat(64), "hash": "0".repeat(64)}});
    let len = v.to_string().len();
    v["event"]["body"]["pad"] = json!("x".repeat(bytes.saturating_sub(len)));
    Utf8Bytes::from(v.to_string())
}

async fn burst(server: &Server, events: usize, interval_ms: u64, bytes: usize) -> (i64, i64) {
    let first = head(server) + 1;
    let mut tick = tokio::time::interval(Duration::from_millis(interval_ms.max(1)));
    for _ in 0..events {
        if interval_ms > 0 {
            tick.tick().await;
        }
        // Append and send under the lock, so history and live order agree.
        let mut h = server.history.lock().unwrap_or_else(|e| e.into_inner());
        let seq = h.len() as i64 + 1;
        let text = event_frame(seq, bytes);
        h.push(text.clone());
        let _ = server.live.send(Frame { seq, text });
    }
    (first, head(server))
}

async fn next_frame(rx: &mut Option<broadcast::Receiver<Frame>>) -> Result<Frame, RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn connection(server: Arc<Server>, stream: TcpStream) -> anyhow::Result<()> {
    let config = WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0);
    let ws = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await?;
    let (mut sink, mut stream) = ws.split();
    let mut rx: Option<broadcast::Receiver<Frame>> = None;
    let mut delivered = 0i64;
    loop {
        tokio::select! {
            m = stream.next() => {
                let text = match m {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(()),
                    Some(Ok(_)) => continue,
                };
                match serde_json::from_str::<Command>(text.as_str()) {
                    Ok(Command::Subscribe { since_seq }) => {
                        rx = Some(server.live.subscribe());
                        let missed: Vec<Utf8Bytes> = {
                            let h = server.history.lock().unwrap_or_else(|e| e.into_inner());
                            delivered = h.len() as i64;
                            h[since_seq.clamp(0, delivered) as usize..].to_vec()
                        };
                        for t in missed {
                            sink.feed(Message::Text(t)).await?;
                        }
                        let s = json!({"type": "subscribed", "room": "opening:baseline", "seq": delivered});
                        sink.send(Message::Text(s.to_string().into())).await?;
                    }
                    Ok(Command::Burst { events, interval_ms, bytes }) => {
                        let (first, last) = burst(&server, events, interval_ms, bytes).await;
                        let a = json!({"type": "ack", "first": first, "last": last});
                        sink.send(Message::Text(a.to_string().into())).await?;
                    }
                    Ok(Command::Head) => {
                        let h = json!({"type": "head", "seq": head(&server)});
                        sink.send(Message::Text(h.to_string().into())).await?;
                    }
                    Ok(Command::Ping) => sink.send(Message::Text(r#"{"type":"pong"}"#.into())).await?,
                    Err(e) => {
                        let err = json!({"type": "error", "code": "MALFORMED_JSON", "message": e.to_string()});
                        sink.send(Message::Text(err.to_string().into())).await?;
                    }
                }
            }
            f = next_frame(&mut rx) => match f {
                Ok(f) if f.seq <= delivered => {}
                Ok(f) => {
                    delivered = f.seq;
                    sink.send(Message::Text(f.text)).await?;
                }
                Err(RecvError::Lagged(_)) => {
                    rx = None;
                    let r = json!({"type": "resync", "room": "opening:baseline", "since_seq": delivered});
                    sink.send(Message::Text(r.to_string().into())).await?;
                }
                Err(RecvError::Closed) => rx = None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_frames_are_padded_to_the_size_asked() {
        let f = event_frame(3, 900);
        assert!((900..910).contains(&f.len()), "{}", f.len());
        let v: serde_json::Value = serde_json::from_str(f.as_str()).unwrap();
        assert_eq!(v["event"]["seq"], 3);
    }
}
