//! One task per live room owns its state (single writer): the last ledger seq it has sent,
//! who is present, and two fan-out channels — everything, for supervisors, and what the
//! public may see (bid events are withheld until the deadline, as in the ledger API).
//! Each event is serialised once and shared; a receiver that falls behind its bounded
//! queue is told to resync from the ledger and never slows the room. Commands queued
//! together are handled together (one ledger read for a burst of notifications) and
//! presence frames are coalesced, so a room's cost grows with its watchers, not their
//! square.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use super::types::{PresenceEntry, ServerMsg};
use crate::state::AppState;

/// Frames queued per subscriber before it is cut from live fan-out.
pub const QUEUE: usize = 1024;

/// At most one presence frame per this interval. Every frame goes to every subscriber, so
/// a frame per join would cost O(N²) deliveries while N watchers arrive (50 million for
/// 10,000) and cut the slowest from live fan-out.
pub const PRESENCE_EVERY: Duration = Duration::from_millis(250);

/// When the room's presence frame is next due: at once after a quiet spell, otherwise
/// once at the end of the interval with everything that changed within it.
#[derive(Default)]
struct Presence {
    last_sent: Option<Instant>,
    due: Option<Instant>,
}

impl Presence {
    /// Presence changed: true if a frame should go now; otherwise one is scheduled.
    fn changed(&mut self) -> bool {
        if self.due.is_some() {
            return false;
        }
        match self.last_sent {
            Some(t) if t.elapsed() < PRESENCE_EVERY => {
                self.due = Some(t + PRESENCE_EVERY);
                false
            }
            _ => {
                self.last_sent = Some(Instant::now());
                true
            }
        }
    }

    fn pending(&self) -> bool {
        self.due.is_some()
    }

    async fn due(&self) {
        match self.due {
            Some(t) => tokio::time::sleep_until(t).await,
            None => std::future::pending().await,
        }
    }

    fn sent(&mut self) {
        self.due = None;
        self.last_sent = Some(Instant::now());
    }
}

#[derive(Clone, Debug)]
pub struct Frame {
    pub seq: i64,
    pub text: Utf8Bytes,
}

pub enum RoomCmd {
    /// New ledger events may have been committed.
    Refresh,
    Join(PresenceEntry),
    Leave(String),
}

#[derive(Clone)]
pub struct RoomHandle {
    pub cmd: mpsc::UnboundedSender<RoomCmd>,
    pub full: broadcast::Sender<Frame>,
    pub public: broadcast::Sender<Frame>,
}

pub fn frame(seq: i64, msg: &ServerMsg<'_>) -> Frame {
    Frame {
        seq,
        text: Utf8Bytes::from(serde_json::to_string(msg).unwrap_or_default()),
    }
}

/// Starts the task of room `name` for tender `tender_id`, at ledger seq `seq`.
pub fn spawn(state: AppState, name: String, tender_id: String, seq: i64) -> RoomHandle {
    let (cmd, mut rx) = mpsc::unbounded_channel();
    let (full, _) = broadcast::channel(QUEUE);
    let (public, _) = broadcast::channel(QUEUE);
    let handle = RoomHandle {
        cmd,
        full: full.clone(),
        public: public.clone(),
    };
    tokio::spawn(async move {
        let mut last = seq;
        // The public stream's last seq: behind `last` while bid events are withheld.
        let mut public_last = seq;
        let mut present: BTreeMap<String, (PresenceEntry, usize)> = BTreeMap::new();
        let mut presence = Presence::default();
        loop {
            let first = tokio::select! {
                c = rx.recv() => match c {
                    Some(c) => c,
                    None => break,
                },
                _ = presence.due(), if presence.pending() => {
                    presence.sent();
                    send_presence(&name, &present, &full, &public);
                    continue;
                }
            };
            // Take every command already queued, so that a burst of notifications (one per
            // subscriber, or one per bid read out) costs one ledger read, not one each.
            let mut refresh_due = false;
            let mut changed = false;
            let mut next = Some(first);
            while let Some(c) = next.take() {
                match c {
                    RoomCmd::Refresh => refresh_due = true,
                    RoomCmd::Join(p) => {
                        present.entry(p.user_id.clone()).or_insert((p, 0)).1 += 1;
                        changed = true;
                    }
                    RoomCmd::Leave(user) => {
                        if let Some(e) = present.get_mut(&user) {
                            e.1 -= 1;
                            if e.1 == 0 {
                                present.remove(&user);
                            }
                        }
                        changed = true;
                    }
                }
                next = rx.try_recv().ok();
            }
            if refresh_due {
                let seqs = (&mut last, &mut public_last);
                if let Err(e) = refresh(&state, &name, &tender_id, seqs, &full, &public).await {
                    tracing::warn!(room = %name, error = %e, "room refresh failed");
                }
            }
            if changed && presence.changed() {
                send_presence(&name, &present, &full, &public);
            }
            // Nobody left listening: end the task; the next subscriber starts a new one.
            if present.is_empty() && state.hub.forget(&name) {
                break;
            }
        }
    });
    handle
}

fn send_presence(
    room: &str,
    present: &BTreeMap<String, (PresenceEntry, usize)>,
    full: &broadcast::Sender<Frame>,
    public: &broadcast::Sender<Frame>,
) {
    let members: Vec<PresenceEntry> = present.values().map(|(p, _)| p.clone()).collect();
    let f = frame(
        -1,
        &ServerMsg::Presence {
            room,
            members: &members,
        },
    );
    let _ = full.send(f.clone());
    let _ = public.send(f);
}

async fn refresh(
    state: &AppState,
    room: &str,
    tender_id: &str,
    (last, public_last): (&mut i64, &mut i64),
    full: &broadcast::Sender<Frame>,
    public: &broadcast::Sender<Frame>,
) -> anyhow::Result<()> {
    let ledger = crate::ledger::repo::load(&state.db.pool, tender_id).await?;
    let head = crate::tender::repo::head(&state.db.pool, tender_id).await?;
    let withholding = head.is_some_and(|h| state.clock.now_ms() < h.bid_deadline);
    if !withholding && *public_last < *last {
        // The deadline has passed: what was withheld is public now; fetch it from the ledger.
        let f = frame(
            *last,
            &ServerMsg::Resync {
                room,
                since_seq: *public_last,
            },
        );
        let _ = public.send(f);
        *public_last = *last;
    }
    let from = *last;
    for e in ledger.events.iter().filter(|e| e.seq > from) {
        let f = frame(e.seq, &ServerMsg::Event { room, event: e });
        let _ = full.send(f.clone());
        // As in the ledger API, the public stream stops at the first bid event until the
        // deadline, so that what it shows is a verifiable prefix of the chain.
        if !(withholding && (e.kind.starts_with("bid_") || *public_last < *last)) {
            let _ = public.send(f);
            *public_last = e.seq;
        }
        *last = e.seq;
    }
    Ok(())
}
