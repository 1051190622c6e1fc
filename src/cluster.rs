//! Several `kaibiao serve` nodes on one PostgreSQL. A client may connect to any node:
//! what it reads is in the database, and the ledger is the source of truth for the live
//! rooms (a subscriber replays from its last seq on whichever node it reaches). What the
//! nodes must tell each other travels over PostgreSQL's LISTEN/NOTIFY on the database
//! they share, so that a deployment needs no server beyond the one it already runs:
//!
//! - **Signals to the rooms.** Every [`Rooms`] call an area makes after a commit (new
//!   ledger events, a grown bid register, the reading-out's progress, a session that
//!   ended) is done on this node's hub and published; every other node does it on its own
//!   hub. A ledger signal only makes a room read its ledger from the last seq it sent, so
//!   a signal twice costs one read; a lost one is made good within a second by the rooms'
//!   check of their ledger's head (`Hub::catch_up`), and by a resync of every room
//!   whenever the listening connection was lost.
//! - **The scheduler's work once** ([`Cluster::lead`]): the node holding a session-level
//!   advisory lock runs the due work; when it dies its connection closes, the lock is
//!   free, and another node takes over at its next tick.
//! - **Work one node does at a time** ([`Cluster::claim`]): e.g. revealing a tender;
//!   held on a connection of its own, so a killed node's claim ends with it.
//!
//! On SQLite there is one node: nothing is published, this node leads and claims alone.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnection, PgListener};
use sqlx::Connection;
use tokio::sync::mpsc;

use crate::state::Rooms;

/// The NOTIFY channel the nodes of one database speak on.
const CHANNEL: &str = "kaibiao_nodes";
/// At most this many signals in one round trip.
const BATCH: usize = 256;
/// A NOTIFY payload is shorter than this (PostgreSQL's limit).
const MAX_PAYLOAD: usize = 8000;
/// A media list longer than a payload goes in parts of this many bytes of its JSON (each
/// at most twice as long escaped, well under [`MAX_PAYLOAD`]).
const PART_BYTES: usize = 3000;
/// At most this many parts to a list (768 KB): more is not a room's list.
const MAX_PARTS: u32 = 256;

/// What one node tells the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
enum Signal {
    Ledger {
        t: String,
    },
    Bids {
        t: String,
    },
    Progress {
        t: String,
        phase: String,
        done: i64,
        total: i64,
        current: String,
    },
    /// A session (its id is the token's hash) ended.
    End {
        s: String,
    },
    /// Who is in a room's media now, from the node whose SFU runs it.
    Media {
        r: String,
        info: kaibiao_media::RoomInfo,
    },
    /// Part `i` of `of` of a [`Signal::Media`] too long for one payload: its info's JSON,
    /// cut. A transaction's notifications arrive together and in order, so a node's
    /// parts of one list are never mixed with its other signals.
    MediaPart {
        r: String,
        i: u32,
        of: u32,
        part: String,
    },
}

/// A signal as sent: from which node.
#[derive(Serialize, Deserialize)]
struct Note {
    n: String,
    #[serde(flatten)]
    signal: Signal,
}

/// This node among the others: its id, its link to them, and its scheduler lease.
pub struct Cluster {
    node: String,
    /// The PostgreSQL URL, when there can be other nodes.
    url: Option<String>,
    /// Where the other nodes reach this one (`--node-url`), when there can be others.
    reached_at: Option<String>,
    publish: Option<mpsc::UnboundedSender<Signal>>,
    lease: tokio::sync::Mutex<Option<PgConnection>>,
    leading: std::sync::atomic::AtomicBool,
}

impl Cluster {
    /// A node on the database at `url` (`None` or SQLite: alone), reached by the other
    /// nodes at `reached_at` (where it has one).
    pub fn new(url: Option<&str>, reached_at: Option<String>) -> Cluster {
        let url = url
            .filter(|u| u.starts_with("postgres:") || u.starts_with("postgresql:"))
            .map(str::to_string);
        Cluster {
            node: uuid::Uuid::new_v4().simple().to_string(),
            reached_at: reached_at.filter(|_| url.is_some()),
            url,
            publish: None,
            lease: Default::default(),
            leading: Default::default(),
        }
    }

    /// This node's id (in the log, and in what it publishes).
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Where the other nodes reach this node, if they can (and there can be others).
    pub fn reached_at(&self) -> Option<&str> {
        self.reached_at.as_deref()
    }

    /// Whether other nodes may share the database.
    pub fn shared(&self) -> bool {
        self.url.is_some()
    }

    /// Links this node's `local` rooms to the other nodes' until `stop`: returns the
    /// [`Rooms`] the areas call, which does each call here and publishes it; and listens
    /// for the other nodes' calls, done on `local`.
    pub fn link(
        &mut self,
        local: Arc<dyn Rooms>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Arc<dyn Rooms> {
        let Some(url) = self.url.clone() else {
            return local;
        };
        let (tx, rx) = mpsc::unbounded_channel();
        self.publish = Some(tx.clone());
        tokio::spawn(publisher(url.clone(), self.node.clone(), rx, stop.clone()));
        tokio::spawn(listener(url, self.node.clone(), local.clone(), stop));
        Arc::new(Linked { local, publish: tx })
    }

    /// Whether this node runs the scheduler's work now: it holds (or just took) the
    /// lease. Alone, always. Checked on every tick, so a lost connection is a lost lease.
    pub async fn lead(&self) -> bool {
        let Some(url) = &self.url else {
            return true;
        };
        let mut lease = self.lease.lock().await;
        let was = self.leading.load(std::sync::atomic::Ordering::Relaxed);
        let now = match try_lease(&mut lease, url, was).await {
            Ok(now) => now,
            Err(e) => {
                tracing::warn!(error = %e, "scheduler lease: the database did not answer");
                *lease = None;
                false
            }
        };
        if now != was {
            tracing::info!(node = %self.node, leading = now, "scheduler lease");
            self.leading
                .store(now, std::sync::atomic::Ordering::Relaxed);
        }
        now
    }

    /// Work named `key` for this node alone while the returned claim lives, waiting (at
    /// most `limit`) while another node has it: one at a time over all the nodes. Alone,
    /// granted at once (the caller serialises within the node).
    pub async fn hold(&self, key: &str, limit: std::time::Duration) -> anyhow::Result<Claim> {
        let Some(url) = &self.url else {
            return Ok(Claim { _held: None });
        };
        let mut conn = PgConnection::connect(url).await?;
        tokio::time::timeout(
            limit,
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(lock_key(key))
                .execute(&mut conn),
        )
        .await
        .map_err(|_| anyhow::anyhow!("{key} held elsewhere for over {limit:?}"))??;
        Ok(Claim { _held: Some(conn) })
    }

    /// Holds `key` over all the nodes until `tx` ends (a transaction-scoped advisory
    /// lock): for a short check-and-write that must not interleave with another node's.
    /// Alone, nothing (the caller serialises within the node; SQLite's `BEGIN IMMEDIATE`
    /// serialises writers anyway).
    pub async fn hold_in(&self, tx: &mut crate::db::Tx, key: &str) -> sqlx::Result<()> {
        if self.url.is_some() {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(lock_key(key))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Work named `key` for this node alone while the returned claim lives; `None` when
    /// another node has it. Alone, always granted.
    pub async fn claim(&self, key: &str) -> anyhow::Result<Option<Claim>> {
        let Some(url) = &self.url else {
            return Ok(Some(Claim { _held: None }));
        };
        let mut conn = PgConnection::connect(url).await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(lock_key(key))
            .fetch_one(&mut conn)
            .await?;
        if got {
            Ok(Some(Claim { _held: Some(conn) }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }
}

/// Work claimed by this node ([`Cluster::claim`], [`Cluster::hold`]); given back when
/// dropped (its connection closes, and the lock with it).
pub struct Claim {
    _held: Option<PgConnection>,
}

impl Claim {
    /// Gives the work back now (dropping it does too, when its connection closes).
    pub async fn release(self) {
        if let Some(conn) = self._held {
            let _ = conn.close().await;
        }
    }
}

/// The advisory lock's number for `key` (both lock functions take a bigint).
fn lock_key(key: &str) -> i64 {
    let d = Sha256::digest(format!("kaibiao:{key}").as_bytes());
    i64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Keeps or takes the scheduler's lease on `lease`'s connection.
async fn try_lease(lease: &mut Option<PgConnection>, url: &str, held: bool) -> sqlx::Result<bool> {
    if lease.is_none() {
        *lease = Some(PgConnection::connect(url).await?);
    }
    let conn = lease.as_mut().expect("connected above");
    if held {
        // Still ours while this connection lives.
        conn.ping().await?;
        return Ok(true);
    }
    sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(lock_key("scheduler"))
        .fetch_one(conn)
        .await
}

/// The rooms the areas call on a node with others: here, then published.
struct Linked {
    local: Arc<dyn Rooms>,
    publish: mpsc::UnboundedSender<Signal>,
}

impl Rooms for Linked {
    fn notify(&self, tender_id: &str) {
        self.local.notify(tender_id);
        let _ = self.publish.send(Signal::Ledger {
            t: tender_id.into(),
        });
    }

    /// Here with the events; the other nodes read them (a signal carries no event).
    fn appended(&self, tender_id: &str, events: &[crate::ledger::Event]) {
        self.local.appended(tender_id, events);
        let _ = self.publish.send(Signal::Ledger {
            t: tender_id.into(),
        });
    }

    fn notify_bids(&self, tender_id: &str) {
        self.local.notify_bids(tender_id);
        let _ = self.publish.send(Signal::Bids {
            t: tender_id.into(),
        });
    }

    fn progress(&self, tender_id: &str, phase: &str, done: i64, total: i64, current: &str) {
        self.local.progress(tender_id, phase, done, total, current);
        let _ = self.publish.send(Signal::Progress {
            t: tender_id.into(),
            phase: phase.into(),
            done,
            total,
            current: current.into(),
        });
    }

    fn end_session(&self, session_id: &str) {
        self.local.end_session(session_id);
        let _ = self.publish.send(Signal::End {
            s: session_id.into(),
        });
    }

    fn media(&self, room: &str, info: &kaibiao_media::RoomInfo) {
        self.local.media(room, info);
        let _ = self.publish.send(Signal::Media {
            r: room.into(),
            info: info.clone(),
        });
    }

    fn resync(&self) {
        self.local.resync();
    }
}

/// Does a signal from another node on this node's rooms.
fn apply(local: &dyn Rooms, signal: Signal) {
    match signal {
        Signal::Ledger { t } => local.notify(&t),
        Signal::Bids { t } => local.notify_bids(&t),
        Signal::Progress {
            t,
            phase,
            done,
            total,
            current,
        } => local.progress(&t, &phase, done, total, &current),
        Signal::End { s } => local.end_session(&s),
        Signal::Media { r, info } => local.media(&r, &info),
        // Put together by the listener's `Parts` before they get here.
        Signal::MediaPart { .. } => {}
    }
}

/// The payloads that carry `signal` from `node`: one, or a media list in parts; none (and
/// a warning) for anything else too long for PostgreSQL, which would refuse the burst.
fn payloads(node: &str, signal: Signal) -> Vec<String> {
    let one = |signal| {
        serde_json::to_string(&Note {
            n: node.to_string(),
            signal,
        })
        .ok()
    };
    let Some(whole) = one(signal.clone()) else {
        return Vec::new();
    };
    if whole.len() < MAX_PAYLOAD {
        return vec![whole];
    }
    let parts = match signal {
        Signal::Media { r, info } => serde_json::to_string(&info).ok().map(|json| (r, json)),
        _ => None,
    };
    let sent: Option<Vec<String>> = parts.and_then(|(r, json)| {
        let pieces = cut(&json, PART_BYTES);
        let n = u32::try_from(pieces.len())
            .ok()
            .filter(|n| *n <= MAX_PARTS)?;
        (0..n)
            .zip(pieces)
            .map(|(i, part)| {
                one(Signal::MediaPart {
                    r: r.clone(),
                    i,
                    of: n,
                    part: part.to_string(),
                })
                .filter(|p| p.len() < MAX_PAYLOAD)
            })
            .collect()
    });
    sent.unwrap_or_else(|| {
        tracing::warn!(
            bytes = whole.len(),
            "a signal too long to publish was left out"
        );
        Vec::new()
    })
}

/// `text` in pieces of at most `max` bytes, cut between characters.
fn cut(text: &str, max: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (piece, tail) = rest.split_at(end);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// Media lists arriving in parts, put together per sending node: a node's parts of one
/// list come one after another (one transaction), so each node has at most one list open
/// and anything else it sends meanwhile means the list will not be completed.
#[derive(Default)]
struct Parts {
    /// Per node: the room, the next part's index, the text so far.
    open: std::collections::HashMap<String, (String, u32, String)>,
}

impl Parts {
    /// The signal to do for `signal` from `node`: itself, or once its last part has come
    /// (in order, none missing), the whole media list; `None` meanwhile or when a part is
    /// missing (a lost connection: the next list is sent whole again).
    fn take(&mut self, node: &str, signal: Signal) -> Option<Signal> {
        let Signal::MediaPart { r, i, of, part } = signal else {
            self.open.remove(node);
            return Some(signal);
        };
        if i == 0 {
            self.open
                .insert(node.to_string(), (r.clone(), 0, String::new()));
        }
        let (room, next, text) = self.open.get_mut(node)?;
        if *room != r || *next != i || of > MAX_PARTS {
            self.open.remove(node);
            return None;
        }
        *next += 1;
        text.push_str(&part);
        if i + 1 < of {
            return None;
        }
        let (r, _, text) = self.open.remove(node)?;
        match serde_json::from_str(&text) {
            Ok(info) => Some(Signal::Media { r, info }),
            Err(e) => {
                tracing::warn!(error = %e, "a media list from another node not understood");
                None
            }
        }
    }
}

/// Takes what is queued (up to [`BATCH`]), without repeating a ledger or bid signal of
/// the same tender; progress keeps its order.
fn batch(first: Signal, rx: &mut mpsc::UnboundedReceiver<Signal>) -> Vec<Signal> {
    let mut out = vec![first];
    while out.len() < BATCH {
        match rx.try_recv() {
            Ok(s) => {
                let repeat =
                    matches!(s, Signal::Ledger { .. } | Signal::Bids { .. }) && out.contains(&s);
                if !repeat {
                    out.push(s);
                }
            }
            Err(_) => break,
        }
    }
    out
}

/// Sends what this node's areas did to the other nodes, a burst in one round trip.
async fn publisher(
    url: String,
    node: String,
    mut rx: mpsc::UnboundedReceiver<Signal>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut conn: Option<PgConnection> = None;
    loop {
        let first = tokio::select! {
            s = rx.recv() => match s {
                Some(s) => s,
                None => break,
            },
            _ = stop.changed() => break,
        };
        let payloads: Vec<String> = batch(first, &mut rx)
            .into_iter()
            .flat_map(|signal| payloads(&node, signal))
            .collect();
        // Once more on a new connection if the kept one failed; then the burst is dropped
        // (the other nodes' rooms find its events at their next check of the heads).
        for attempt in 0..2 {
            if conn.is_none() {
                match PgConnection::connect(&url).await {
                    Ok(c) => conn = Some(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "publishing to the other nodes: no connection");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue;
                    }
                }
            }
            let sent = sqlx::query("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p")
                .bind(CHANNEL)
                .bind(&payloads)
                .execute(conn.as_mut().expect("connected above"))
                .await;
            match sent {
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "publishing to the other nodes failed");
                    conn = None;
                }
            }
        }
    }
}

/// Does the other nodes' signals on this node's rooms.
async fn listener(
    url: String,
    node: String,
    local: Arc<dyn Rooms>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut listening: Option<PgListener> = None;
    let mut parts = Parts::default();
    loop {
        if listening.is_none() {
            let started = async {
                let mut l = PgListener::connect(&url).await?;
                l.listen(CHANNEL).await?;
                Ok::<_, sqlx::Error>(l)
            };
            match started.await {
                Ok(l) => {
                    listening = Some(l);
                    // Whatever was said while we were not listening: read it again.
                    local.resync();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listening to the other nodes: no connection");
                    tokio::select! {
                        _ = stop.changed() => break,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            }
        }
        let l = listening.as_mut().expect("listening above");
        let got = tokio::select! {
            got = l.try_recv() => got,
            _ = stop.changed() => break,
        };
        match got {
            Ok(Some(n)) => match serde_json::from_str::<Note>(n.payload()) {
                Ok(note) if note.n != node => {
                    if let Some(signal) = parts.take(&note.n, note.signal) {
                        apply(local.as_ref(), signal);
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "a signal from another node not understood"),
            },
            // The connection was lost; the next call reconnects and listens again.
            Ok(None) => {
                parts = Parts::default();
                local.resync();
            }
            Err(e) => {
                tracing::warn!(error = %e, "listening to the other nodes failed");
                listening = None;
                parts = Parts::default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_sent_once_per_tender_and_progress_in_order() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let ledger = |t: &str| Signal::Ledger { t: t.into() };
        let progress = |done| Signal::Progress {
            t: "a".into(),
            phase: "reading".into(),
            done,
            total: 3,
            current: String::new(),
        };
        for s in [
            ledger("a"),
            progress(1),
            ledger("b"),
            ledger("a"),
            progress(2),
        ] {
            tx.send(s).unwrap();
        }
        let first = rx.try_recv().unwrap();
        assert_eq!(
            batch(first, &mut rx),
            vec![ledger("a"), progress(1), ledger("b"), progress(2)]
        );
    }

    #[test]
    fn notes_name_their_node_and_read_back() {
        let note = Note {
            n: "n1".into(),
            signal: Signal::End { s: "abc".into() },
        };
        let text = serde_json::to_string(&note).unwrap();
        assert_eq!(text, r#"{"n":"n1","k":"end","s":"abc"}"#);
        let back: Note = serde_json::from_str(&text).unwrap();
        assert_eq!(back.signal, Signal::End { s: "abc".into() });
        assert_ne!(lock_key("scheduler"), lock_key("reveal:t1"));
    }

    /// A room's media list of `n` watchers (and a name that is not ASCII).
    fn big_list(n: usize) -> kaibiao_media::RoomInfo {
        let participants: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                serde_json::json!({
                    "id": format!("{:08}-aaaa-bbbb-cccc-dddddddddddd", i),
                    "role": "subscriber", "publishing": [], "watching": true,
                    "connection": "connected", "forwarded": 123456, "dropped": 0,
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "room": "opening:某市第一中学食堂设备采购项目", "participants": participants,
        }))
        .unwrap()
    }

    fn read(payload: &str) -> (String, Signal) {
        let note: Note = serde_json::from_str(payload).unwrap();
        (note.n, note.signal)
    }

    #[test]
    fn a_media_list_too_long_for_one_payload_goes_in_parts_and_comes_back_whole() {
        let list = big_list(300);
        let media = Signal::Media {
            r: "opening:t1".into(),
            info: list.clone(),
        };
        let sent = payloads("n1", media.clone());
        assert!(sent.len() > 5, "{} payloads", sent.len());
        assert!(sent.iter().all(|p| p.len() < MAX_PAYLOAD));
        // Another node's signal in between does not disturb the list.
        let mut parts = Parts::default();
        let mut done = Vec::new();
        for (i, p) in sent.iter().enumerate() {
            let (node, signal) = read(p);
            done.extend(parts.take(&node, signal));
            if i == 2 {
                let other = Signal::End { s: "x".into() };
                done.extend(parts.take("n2", other.clone()));
            }
        }
        assert_eq!(done, vec![Signal::End { s: "x".into() }, media.clone()]);
        // Another signal of the same node in the middle of a list (which one transaction
        // never sends): the list is dropped, the signal done.
        for (i, p) in sent.iter().enumerate() {
            let (node, signal) = read(p);
            assert_eq!(parts.take(&node, signal), None);
            if i == 1 {
                let end = Signal::End { s: "y".into() };
                assert_eq!(parts.take("n1", end.clone()), Some(end));
            }
        }
        // A part lost (the connection dropped): nothing is done with the rest, and the
        // next list comes through whole.
        for p in sent.iter().skip(1) {
            let (node, signal) = read(p);
            assert_eq!(parts.take(&node, signal), None);
        }
        let mut again = Vec::new();
        for p in &sent {
            let (node, signal) = read(p);
            again.extend(parts.take(&node, signal));
        }
        assert_eq!(again, vec![media]);
        // A short list stays one payload.
        let small = payloads(
            "n1",
            Signal::Media {
                r: "r".into(),
                info: big_list(3),
            },
        );
        assert_eq!(small.len(), 1);
        assert!(matches!(read(&small[0]).1, Signal::Media { .. }));
    }

    #[tokio::test]
    async fn alone_it_leads_and_claims() {
        let c = Cluster::new(Some("sqlite://x.db"), None);
        assert!(!c.shared());
        assert!(c.lead().await);
        assert!(c.claim("reveal:t").await.unwrap().is_some());
    }
}
