//! One task per live room owns its state (single writer): the last ledger seq it has sent,
//! who is present, and one fan-out channel per [`Audience`]. Ledger events go to every
//! audience alike (the tender's chain holds nothing secret; bids are in the bid register,
//! whose events go to supervisors only). What differs is who is shown present: bidders
//! and drawn experts are kept from those the law keeps them from ([`presence_view`]).
//! Each frame is serialised once per audience and shared; a receiver that falls behind
//! its bounded queue is told to resync from the ledger and never slows the room. Commands
//! queued together are handled together (one ledger read for a burst of notifications)
//! and presence frames are coalesced, so a room's cost grows with its watchers, not their
//! square.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;

use super::presence;
use super::types::{PresenceEntry, ServerMsg};
use super::Hub;
use crate::state::AppState;

/// Frames queued per subscriber before it is cut from live fan-out.
pub const QUEUE: usize = 1024;

/// At most one presence frame per this interval. Every frame goes to every subscriber, so
/// a frame per join would cost O(N²) deliveries while N watchers arrive (50 million for
/// 10,000) and cut the slowest from live fan-out.
pub const PRESENCE_EVERY: Duration = Duration::from_millis(250);

/// Who a subscriber is to the room, for what it may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Finance, oversight, admin: everyone by name, the bid register live.
    Supervisor = 0,
    /// The agency hosting the opening: bidders by name once the deadline has passed.
    Host = 1,
    /// Everyone else: the purchaser, custodians, bidders, experts.
    Member = 2,
}

impl Audience {
    pub const ALL: [Audience; 3] = [Audience::Supervisor, Audience::Host, Audience::Member];
}

/// Whether a present member is kept from some audiences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Hidden {
    No,
    /// A supplier in an opening hall: before the deadline no one but supervisors learns
    /// who has bid or how many (GPL art. 22, R-DOC-3); after it the host sees names and
    /// the others a count, never another bidder's name.
    Bidder,
    /// A drawn expert: their seat only, until the award (R-EVAL-2). One not seated (yet)
    /// is not shown at all.
    Expert {
        seat: i64,
        seated: bool,
    },
}

/// What the room's secrecy depends on, read from the tender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Secrecy {
    /// Before the bid deadline.
    pub bids: bool,
    /// Before the award.
    pub experts: bool,
}

impl Secrecy {
    pub fn of(head: &crate::tender::repo::TenderHead, now_ms: i64) -> Secrecy {
        Secrecy {
            bids: head.bids_secret(now_ms),
            experts: head.experts_secret(),
        }
    }
}

/// A member present in the room, as everyone allowed sees them, and how they are hidden.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Present {
    pub entry: PresenceEntry,
    pub hidden: Hidden,
}

/// The presence list `audience` may see, and the number of bidders present when it may
/// know how many but not who.
pub fn presence_view(
    audience: Audience,
    secrecy: Secrecy,
    present: &[&Present],
) -> (Vec<PresenceEntry>, Option<usize>) {
    let mut shown = Vec::new();
    for p in present {
        if audience == Audience::Supervisor {
            shown.push(p.entry.clone());
            continue;
        }
        match p.hidden {
            Hidden::No => shown.push(p.entry.clone()),
            Hidden::Bidder if audience == Audience::Host && !secrecy.bids => {
                shown.push(p.entry.clone())
            }
            Hidden::Bidder => {}
            Hidden::Expert { .. } if !secrecy.experts => shown.push(p.entry.clone()),
            Hidden::Expert { seated: false, .. } => {}
            Hidden::Expert { seat, .. } => shown.push(PresenceEntry {
                user_id: p.entry.user_id.clone(),
                display_name: format!("第 {seat} 席"),
                role: p.entry.role.clone(),
                seat: Some(seat),
            }),
        }
    }
    // In the order of what is shown, never of the hidden ids behind it: seats listed by
    // real user id would tell which seat is the older account.
    shown.sort_by(|a, b| (a.seat, &a.user_id).cmp(&(b.seat, &b.user_id)));
    // After the deadline the others may know how many bidders watch, never who.
    let bidders = (audience == Audience::Member && !secrecy.bids).then(|| {
        present
            .iter()
            .filter(|p| p.hidden == Hidden::Bidder)
            .count()
    });
    (shown, bidders)
}

/// The room's media as `audience` may see it: bidders watching are left out for all but
/// supervisors (and the host after the deadline), as in [`presence_view`]; experts are
/// known by their seat already.
pub fn media_view(
    audience: Audience,
    secrecy: Secrecy,
    info: &kaibiao_media::RoomInfo,
) -> kaibiao_media::RoomInfo {
    let mut info = info.clone();
    let sees_bidders =
        audience == Audience::Supervisor || (audience == Audience::Host && !secrecy.bids);
    if !sees_bidders {
        info.participants
            .retain(|p| !p.id.starts_with(super::BIDDER_PREFIX));
    }
    info
}

/// When the room's presence frame is next due: at once after a quiet spell, otherwise
/// once at the end of the interval with everything that changed within it.
#[derive(Default)]
struct Pacing {
    last_sent: Option<Instant>,
    due: Option<Instant>,
}

impl Pacing {
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
    /// These ledger events were committed, and nothing else a room shows changed with them
    /// ([`crate::state::Rooms::appended`]): sent as they are when they follow on from the
    /// last sent, else as for `Refresh`.
    Appended(Vec<crate::ledger::Event>),
    /// New bid register events may have been committed (supervisors only see them).
    RefreshBids,
    /// The tender's ledger and bid register are at these seqs now: read whatever this room
    /// has not sent (a signal from another node may have been lost).
    CatchUp {
        seq: i64,
        bid_seq: i64,
    },
    /// A connection joined; the key is the user id (one entry per user, counted). The
    /// reply is the presence frame its audience sees now, to show at once.
    Join(String, Present, Audience, oneshot::Sender<Utf8Bytes>),
    Leave(String),
    /// Who is present, as supervisors see them (the supervisors' console).
    Snapshot(oneshot::Sender<Vec<PresenceEntry>>),
    /// The room's media changed.
    Media(kaibiao_media::RoomInfo),
    /// The other nodes' rows of this room now (`presence::heads`): read their members
    /// if they are not those the room shows.
    OthersHeads(Vec<presence::Head>),
    /// The other nodes' people in this room, read at these heads; `None` if the read
    /// failed (the room reads again at the next heads).
    Others(Option<(Vec<presence::Head>, presence::Members)>),
}

#[derive(Clone)]
pub struct RoomHandle {
    pub cmd: mpsc::UnboundedSender<RoomCmd>,
    /// One channel per [`Audience`], in the order of `Audience::ALL`.
    pub out: [broadcast::Sender<Frame>; 3],
}

impl RoomHandle {
    /// Sends the same frame to every audience.
    pub fn send_all(&self, f: Frame) {
        for tx in &self.out {
            let _ = tx.send(f.clone());
        }
    }

    pub fn receivers(&self) -> usize {
        self.out.iter().map(|tx| tx.receiver_count()).sum()
    }
}

pub fn frame(seq: i64, msg: &ServerMsg<'_>) -> Frame {
    Frame {
        seq,
        text: Utf8Bytes::from(serde_json::to_string(msg).unwrap_or_default()),
    }
}

/// An audience's presence frame: its version, and the version last broadcast.
#[derive(Default)]
struct View {
    version: u64,
    sent: u64,
    text: Utf8Bytes,
}

/// The room task's state.
struct Room {
    state: AppState,
    name: String,
    tender_id: String,
    handle: RoomHandle,
    /// The last ledger seq sent.
    last: i64,
    /// The last bid register seq sent (to supervisors).
    last_bid: i64,
    secrecy: Secrecy,
    present: BTreeMap<String, (Present, usize)>,
    /// With other nodes: the people present at them, by user id, and the heads of their
    /// rows these were read at; whether a read is under way; where this node's own people
    /// go to be written for the others (`presence::keep_row`).
    others: BTreeMap<String, Present>,
    others_heads: Vec<presence::Head>,
    reading_others: bool,
    row: Option<tokio::sync::watch::Sender<presence::Members>>,
    /// This node's people changed since they were last written.
    present_changed: bool,
    /// What each audience sees present.
    views: [View; 3],
    media: Option<kaibiao_media::RoomInfo>,
}

/// Starts the task of room `name` for tender `tender_id`, at ledger seq `seq` and bid
/// register seq `bid_seq`.
pub fn spawn(
    state: AppState,
    name: String,
    tender_id: String,
    (seq, bid_seq): (i64, i64),
    secrecy: Secrecy,
) -> RoomHandle {
    let (cmd, mut rx) = mpsc::unbounded_channel();
    let handle = RoomHandle {
        cmd,
        out: std::array::from_fn(|_| broadcast::channel(QUEUE).0),
    };
    let mut room = Room {
        state,
        name,
        tender_id,
        handle: handle.clone(),
        last: seq,
        last_bid: bid_seq,
        secrecy,
        present: BTreeMap::new(),
        others: BTreeMap::new(),
        others_heads: Vec::new(),
        reading_others: false,
        row: None,
        present_changed: false,
        views: Default::default(),
        media: None,
    };
    let hub = Hub::of(&room.state);
    let cluster = room.state.runtimes.get_arc::<crate::cluster::Cluster>();
    if cluster.shared() {
        let (row, rx) = tokio::sync::watch::channel(Vec::new());
        room.row = Some(row);
        hub.spawn_room(presence::keep_row(
            room.state.clone(),
            cluster.node().to_string(),
            room.name.clone(),
            rx,
        ));
    }
    hub.spawn_room(async move {
        let mut pacing = Pacing::default();
        loop {
            let first = tokio::select! {
                c = rx.recv() => match c {
                    Some(c) => c,
                    None => break,
                },
                _ = pacing.due(), if pacing.pending() => {
                    pacing.sent();
                    room.send_presence();
                    continue;
                }
            };
            // Take every command already queued, so that a burst of notifications (one per
            // subscriber, or one per bid read out) costs one ledger read, not one each.
            let (mut refresh, mut refresh_bids, mut changed) = (false, false, false);
            let mut appended = Vec::new();
            let mut next = Some(first);
            while let Some(c) = next.take() {
                match c {
                    RoomCmd::Refresh => refresh = true,
                    RoomCmd::Appended(events) => appended.extend(events),
                    RoomCmd::RefreshBids => refresh_bids = true,
                    RoomCmd::CatchUp { seq, bid_seq } => {
                        refresh |= seq > room.last;
                        refresh_bids |= bid_seq > room.last_bid;
                    }
                    RoomCmd::Join(user, p, audience, reply) => {
                        room.present.entry(user).or_insert((p, 0)).1 += 1;
                        room.update_views();
                        let _ = reply.send(room.views[audience as usize].text.clone());
                        room.present_changed = true;
                        changed = true;
                    }
                    RoomCmd::Leave(user) => {
                        if let Some(e) = room.present.get_mut(&user) {
                            e.1 -= 1;
                            if e.1 == 0 {
                                room.present.remove(&user);
                            }
                        }
                        room.present_changed = true;
                        changed = true;
                    }
                    RoomCmd::Snapshot(reply) => {
                        let (members, _) = presence_view(
                            Audience::Supervisor,
                            room.secrecy,
                            &everyone(&room.present, &room.others),
                        );
                        let _ = reply.send(members);
                    }
                    RoomCmd::OthersHeads(heads) => room.read_others(heads),
                    RoomCmd::Others(read) => {
                        room.reading_others = false;
                        if let Some((heads, members)) = read {
                            room.others_heads = heads;
                            room.others = members.into_iter().collect();
                            changed = true;
                        }
                    }
                    RoomCmd::Media(info) => {
                        room.media = Some(info);
                        room.send_media();
                    }
                }
                next = rx.try_recv().ok();
            }
            if !refresh && !appended.is_empty() {
                refresh = !room.send_appended(&appended);
            }
            if refresh {
                match room.refresh().await {
                    Ok(true) => {
                        // Who may be shown changed (the deadline, the award): show it now.
                        room.send_presence();
                        room.send_media();
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!(room = %room.name, error = %e, "room refresh failed"),
                }
            }
            if refresh_bids {
                if let Err(e) = room.refresh_bids().await {
                    tracing::warn!(room = %room.name, error = %e, "bid register refresh failed");
                }
            }
            if changed && pacing.changed() {
                room.send_presence();
            }
            // Nobody left listening: end the task; the next subscriber starts a new one.
            if room.present.is_empty() && Hub::of(&room.state).forget(&room.name) {
                break;
            }
        }
    });
    handle
}

/// Everyone present: this node's people, then the other nodes' not connected here too.
fn everyone<'a>(
    here: &'a BTreeMap<String, (Present, usize)>,
    others: &'a BTreeMap<String, Present>,
) -> Vec<&'a Present> {
    let mut all: Vec<&Present> = here.values().map(|(p, _)| p).collect();
    all.extend(
        others
            .iter()
            .filter(|(user, _)| !here.contains_key(*user))
            .map(|(_, p)| p),
    );
    all
}

impl Room {
    /// The other nodes' rows are at `heads` now: if they are not those last read, read
    /// them (off the room's task; the result comes back as [`RoomCmd::Others`]).
    fn read_others(&mut self, heads: Vec<presence::Head>) {
        if heads == self.others_heads || self.reading_others {
            return;
        }
        if heads.is_empty() {
            let _ = self
                .handle
                .cmd
                .send(RoomCmd::Others(Some(Default::default())));
            return;
        }
        self.reading_others = true;
        let (state, room, cmd) = (
            self.state.clone(),
            self.name.clone(),
            self.handle.cmd.clone(),
        );
        tokio::spawn(async move {
            let node = state.runtimes.get_arc::<crate::cluster::Cluster>();
            let read = presence::others(&state.db.pool, node.node(), &room, state.clock.now_ms());
            let read = read.await.map_err(|e| {
                tracing::warn!(room = %room, error = %e, "reading the other nodes' presence");
            });
            let _ = cmd.send(RoomCmd::Others(read.ok()));
        });
    }

    /// Recomputes what each audience sees present; a view that changed gets the next
    /// version of that audience (only visible changes count, so versions tell nothing of
    /// who is hidden).
    fn update_views(&mut self) {
        let present = everyone(&self.present, &self.others);
        for audience in Audience::ALL {
            let (members, bidders) = presence_view(audience, self.secrecy, &present);
            let view = &mut self.views[audience as usize];
            let text = |version| {
                frame(
                    -1,
                    &ServerMsg::Presence {
                        room: &self.name,
                        members: &members,
                        bidders,
                        version,
                    },
                )
                .text
            };
            // Compare without the version: render once with the old one.
            if text(view.version) != view.text {
                view.version += 1;
                view.text = text(view.version);
            }
        }
    }

    /// Sends each audience its presence view if it changed since last sent: a frame that
    /// came when nothing visible changed would tell that someone hidden came or went.
    fn send_presence(&mut self) {
        if std::mem::take(&mut self.present_changed) {
            if let Some(row) = &self.row {
                row.send_replace(
                    self.present
                        .iter()
                        .map(|(user, (p, _))| (user.clone(), p.clone()))
                        .collect(),
                );
            }
        }
        self.update_views();
        for audience in Audience::ALL {
            let view = &mut self.views[audience as usize];
            if view.sent != view.version {
                view.sent = view.version;
                let _ = self.handle.out[audience as usize].send(Frame {
                    seq: -1,
                    text: view.text.clone(),
                });
            }
        }
    }

    fn send_media(&self) {
        let Some(info) = &self.media else {
            return;
        };
        for audience in Audience::ALL {
            let info = media_view(audience, self.secrecy, info);
            let f = frame(
                -1,
                &ServerMsg::MediaRoom {
                    room: &self.name,
                    info: &info,
                },
            );
            let _ = self.handle.out[audience as usize].send(f);
        }
    }

    /// Sends the ledger events committed since the last; true if the secrecy changed.
    async fn refresh(&mut self) -> anyhow::Result<bool> {
        let pool = &self.state.db.pool;
        let events = crate::ledger::repo::load_since(pool, &self.tender_id, self.last).await?;
        let before = self.secrecy;
        if let Some(head) = crate::tender::repo::head(pool, &self.tender_id).await? {
            self.secrecy = Secrecy::of(&head, self.state.clock.now_ms());
        }
        for e in &events {
            self.send_event(e);
        }
        let seats_changed = if self.name.starts_with("evaluation:") && !events.is_empty() {
            self.update_seats().await?
        } else {
            false
        };
        Ok(self.secrecy != before || seats_changed)
    }

    /// Sends a ledger event to those who may see it, as the room's last.
    fn send_event(&mut self, e: &crate::ledger::Event) {
        let f = frame(
            e.seq,
            &ServerMsg::Event {
                room: &self.name,
                event: e,
            },
        );
        if self.secrecy.bids && e.kind.starts_with("bid_") {
            // A ledger from before the bid register kept bid events in the chain.
            let _ = self.handle.out[Audience::Supervisor as usize].send(f);
        } else {
            self.handle.send_all(f);
        }
        self.last = e.seq;
    }

    /// Sends events handed over by the transaction that wrote them, without reading the
    /// ledger; false when they do not follow on from the last sent (another commit came
    /// between, or a notice was missed): the ledger is read instead. Those sent already
    /// (read by a refresh first) are skipped.
    fn send_appended(&mut self, events: &[crate::ledger::Event]) -> bool {
        for e in events {
            if e.seq <= self.last {
                continue;
            }
            if e.seq != self.last + 1 {
                return false;
            }
            self.send_event(e);
        }
        true
    }

    /// Experts present take the seat and status the panel gives them now (an invited
    /// expert accepts, one declines and another takes the seat); true if any changed.
    async fn update_seats(&mut self) -> anyhow::Result<bool> {
        use sqlx::Row;
        if !self
            .present
            .values()
            .any(|(p, _)| matches!(p.hidden, Hidden::Expert { .. }))
        {
            return Ok(false);
        }
        let rows = sqlx::query(
            "SELECT e.user_id, p.seat, p.status FROM evaluation_panel p \
             JOIN experts e ON e.id = p.expert_id WHERE p.tender_id = $1",
        )
        .bind(&self.tender_id)
        .fetch_all(&self.state.db.pool)
        .await?;
        let mut changed = false;
        for r in rows {
            let user: Option<String> = r.try_get("user_id")?;
            let Some((p, _)) = user.and_then(|u| self.present.get_mut(&u)) else {
                continue;
            };
            let status: String = r.try_get("status")?;
            let hidden = Hidden::Expert {
                seat: r.try_get("seat")?,
                seated: status == "accepted",
            };
            if p.hidden != hidden {
                p.hidden = hidden;
                p.entry.user_id = Hub::of(&self.state).participant_id(&self.name, "", hidden);
                changed = true;
            }
        }
        Ok(changed)
    }

    /// Sends supervisors the bid register's new events.
    async fn refresh_bids(&mut self) -> anyhow::Result<()> {
        let pool = &self.state.db.pool;
        let events =
            crate::ledger::repo::register_since(pool, &self.tender_id, self.last_bid).await?;
        for e in &events {
            let f = frame(
                -1,
                &ServerMsg::BidEvent {
                    room: &self.name,
                    event: e,
                },
            );
            let _ = self.handle.out[Audience::Supervisor as usize].send(f);
            self.last_bid = e.seq;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: &str, role: &str, hidden: Hidden) -> Present {
        Present {
            entry: PresenceEntry {
                user_id: id.into(),
                display_name: format!("{id} 的名字"),
                role: role.into(),
                seat: None,
            },
            hidden,
        }
    }

    fn ids(v: &[PresenceEntry]) -> Vec<&str> {
        v.iter().map(|e| e.user_id.as_str()).collect()
    }

    #[test]
    fn bidders_are_shown_to_supervisors_only_before_the_deadline() {
        let all = [
            p("agency", "agency", Hidden::No),
            p("bidder-1", "supplier", Hidden::Bidder),
            p("bidder-2", "supplier", Hidden::Bidder),
        ];
        let present: Vec<&Present> = all.iter().collect();
        let before = Secrecy {
            bids: true,
            experts: true,
        };
        let (v, n) = presence_view(Audience::Supervisor, before, &present);
        assert_eq!((ids(&v), n), (vec!["agency", "bidder-1", "bidder-2"], None));
        for a in [Audience::Host, Audience::Member] {
            let (v, n) = presence_view(a, before, &present);
            assert_eq!(
                (ids(&v), n),
                (vec!["agency"], None),
                "{a:?}: not even a count"
            );
        }
        let after = Secrecy {
            bids: false,
            experts: true,
        };
        let (v, n) = presence_view(Audience::Host, after, &present);
        assert_eq!((ids(&v), n), (vec!["agency", "bidder-1", "bidder-2"], None));
        let (v, n) = presence_view(Audience::Member, after, &present);
        assert_eq!((ids(&v), n), (vec!["agency"], Some(2)), "a count, no names");
    }

    #[test]
    fn experts_are_seats_until_the_award() {
        let all = [
            p(
                "seat-1",
                "expert",
                Hidden::Expert {
                    seat: 1,
                    seated: true,
                },
            ),
            p(
                "e-invited",
                "expert",
                Hidden::Expert {
                    seat: 2,
                    seated: false,
                },
            ),
        ];
        let present: Vec<&Present> = all.iter().collect();
        let secret = Secrecy {
            bids: false,
            experts: true,
        };
        for a in [Audience::Host, Audience::Member] {
            let (v, _) = presence_view(a, secret, &present);
            assert_eq!(v.len(), 1, "{a:?}: the one not seated is not shown");
            assert_eq!(v[0].display_name, "第 1 席");
            assert_eq!(v[0].seat, Some(1));
            assert!(!serde_json::to_string(&v).unwrap().contains("名字"));
        }
        let seat_1 = |v: &[PresenceEntry]| {
            v.iter()
                .find(|e| e.user_id == "seat-1")
                .map(|e| e.display_name.clone())
        };
        let (v, _) = presence_view(Audience::Supervisor, secret, &present);
        assert_eq!(seat_1(&v).as_deref(), Some("seat-1 的名字"));
        let awarded = Secrecy {
            bids: false,
            experts: false,
        };
        let (v, _) = presence_view(Audience::Member, awarded, &present);
        assert_eq!(seat_1(&v).as_deref(), Some("seat-1 的名字"));
    }

    /// The room keeps who is present by real user id; seats shown in that order would tell
    /// which seat belongs to the older account (ids are time-ordered), so a name learnt at
    /// one tender would point at a seat in another. They are listed by seat.
    #[test]
    fn seats_are_listed_by_seat_not_by_the_hidden_user_id() {
        let expert = |id: &str, seat| {
            let mut e = p(id, "expert", Hidden::Expert { seat, seated: true });
            e.entry.user_id = format!("seat-{seat}");
            e
        };
        // In the room's order (by real id): the oldest account sits in seat 3.
        let all = [
            p("agency", "agency", Hidden::No),
            expert("0193-old", 3),
            expert("0194-mid", 1),
            expert("0195-new", 2),
        ];
        let present: Vec<&Present> = all.iter().collect();
        let secret = Secrecy {
            bids: false,
            experts: true,
        };
        for a in [Audience::Host, Audience::Member] {
            let (v, _) = presence_view(a, secret, &present);
            assert_eq!(
                ids(&v),
                vec!["agency", "seat-1", "seat-2", "seat-3"],
                "{a:?}"
            );
        }
    }
}
