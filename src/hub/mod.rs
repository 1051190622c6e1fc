//! The real-time hub: a WebSocket at `/api/hub` with typed JSON messages. A client
//! subscribes to a room (`<kind>:<tender id>`: `opening:…`, `evaluation:…`) with the last
//! ledger seq it saw, gets the missed events replayed from the ledger, then live ones as
//! they are committed. The kinds are registered by the areas that own them (`kind.rs`);
//! each checks role and membership on every subscription and command. One task owns
//! each room (see `room.rs`).
//! Connections are pinged and closed when they stop answering, when their session ends
//! (logout) or expires, so presence follows the people really there.

pub mod caps;
pub mod kind;
pub mod media;
pub mod presence;
pub mod relay;
pub mod room;
pub mod routes;
pub mod types;

use std::collections::HashMap;

use kind::RoomKind;
use room::{RoomCmd, RoomHandle};

/// How often, with other nodes, every live room checks that it sent all its tender's
/// ledger holds ([`Hub::catch_up`]): the longest a lost signal delays an event.
pub const CATCH_UP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// How often the hub checks that the sessions of its connections are still live
/// ([`Hub::end_ended_sessions`]).
pub const SESSIONS_CHECKED_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Room ids of bidders start with this (a pseudonym; see [`Hub::participant_id`]).
pub const BIDDER_PREFIX: &str = "bidder-";

/// The threads the hub's connections run on, apart from the requests' and the rooms'.
/// An event wakes every watcher's task at once; on the requests' threads the next
/// request (the host's next step, the next score) and every database answer it waits
/// for would queue behind all of them — 10,000 watchers made each amendment wait ~100 ms.
/// One for the process (tests start many servers in one), never dropped; as many threads
/// as [`size_connection_threads`] said, else one per core.
pub fn connection_threads() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if let Some(&n) = CONNECTION_THREADS.get().filter(|n| **n > 0) {
            builder.worker_threads(n);
        }
        builder
            .thread_name("kaibiao-hub")
            .enable_all()
            .build()
            .expect("starting the hub's threads")
    })
}

static CONNECTION_THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// How many threads [`connection_threads`] runs (0: one per core). Call before the first
/// connection (`kaibiao serve --hub-threads` does, at start); false when it is too late
/// or was said already.
pub fn size_connection_threads(n: usize) -> bool {
    CONNECTION_THREADS.set(n).is_ok()
}

pub struct Hub {
    /// The kinds of room, registered by the areas that own them.
    kinds: Vec<Box<dyn RoomKind>>,
    rooms: std::sync::Mutex<HashMap<String, RoomHandle>>,
    /// Keys bidders' pseudonyms: unlinkable across rooms and restarts.
    pseudonyms: ring::hmac::Key,
    /// Sessions that ended (logout): their connections close.
    ended: tokio::sync::broadcast::Sender<String>,
    /// Open connections per user.
    connections: std::sync::Mutex<HashMap<String, usize>>,
    /// Open connections per session (by its id).
    sessions: std::sync::Mutex<HashMap<String, usize>>,
    /// With other nodes: users a connection of whom closed since their count was last
    /// written for the other nodes ([`caps`]).
    closed: std::sync::Mutex<std::collections::HashSet<String>>,
    /// Whether there are other nodes to write the counts for.
    counted_elsewhere: std::sync::atomic::AtomicBool,
    /// Set when the node stops: every connection is told to go to another node.
    draining: tokio::sync::watch::Sender<bool>,
    /// Where rooms run: the requests' runtime (their reads of the ledger must not wait
    /// behind the connections they fan out to; see [`connection_threads`]).
    rooms_on: Option<tokio::runtime::Handle>,
    /// Media rooms this node ran and found run by another node since (`relay::keep`):
    /// their sessions here tell their clients to join again.
    media_lost: tokio::sync::broadcast::Sender<String>,
}

/// A user's place among the hub's connections; given back when dropped.
pub struct Admission {
    hub: std::sync::Arc<Hub>,
    user: String,
    session: String,
}

impl Drop for Admission {
    fn drop(&mut self) {
        for (map, key) in [
            (&self.hub.connections, &self.user),
            (&self.hub.sessions, &self.session),
        ] {
            let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = map.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(key);
                }
            }
        }
        if self
            .hub
            .counted_elsewhere
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            self.hub
                .closed
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(self.user.clone());
        }
    }
}

impl Hub {
    /// A hub serving rooms of `kinds`.
    pub fn new(kinds: Vec<Box<dyn RoomKind>>) -> Hub {
        let rng = ring::rand::SystemRandom::new();
        Hub {
            kinds,
            rooms: Default::default(),
            pseudonyms: ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &rng)
                .expect("the system's random source"),
            ended: tokio::sync::broadcast::channel(1024).0,
            connections: Default::default(),
            closed: Default::default(),
            counted_elsewhere: Default::default(),
            sessions: Default::default(),
            draining: tokio::sync::watch::channel(false).0,
            rooms_on: tokio::runtime::Handle::try_current().ok(),
            media_lost: tokio::sync::broadcast::channel(16).0,
        }
    }
}

/// The hub is how areas' commits reach the rooms (`state.rooms`).
impl crate::state::Rooms for Hub {
    /// Tells a tender's rooms, if anyone is in them, that new ledger events were committed.
    /// Call after the transaction that appended them commits.
    fn notify(&self, tender_id: &str) {
        self.tell(tender_id, || RoomCmd::Refresh);
    }

    fn appended(&self, tender_id: &str, events: &[crate::ledger::Event]) {
        self.tell(tender_id, || RoomCmd::Appended(events.to_vec()));
    }

    /// Tells a tender's opening room that its bid register grew (supervisors see it).
    fn notify_bids(&self, tender_id: &str) {
        if let Some(r) = self.rooms().get(&format!("opening:{tender_id}")) {
            let _ = r.cmd.send(RoomCmd::RefreshBids);
        }
    }

    /// Sends a transient frame (not a ledger event) to everyone in a tender's room: the
    /// progress of long work such as revealing.
    fn progress(&self, tender_id: &str, phase: &str, done: i64, total: i64, current: &str) {
        let room = format!("opening:{tender_id}");
        self.transient(
            &room,
            &types::ServerMsg::Progress {
                room: &room,
                phase,
                done,
                total,
                current,
            },
        );
    }

    /// Closes the hub connections of a session (logout).
    fn end_session(&self, session_id: &str) {
        let _ = self.ended.send(session_id.to_string());
    }

    fn media(&self, room: &str, info: &kaibiao_media::RoomInfo) {
        self.media_room(room, info.clone());
    }

    fn resync(&self) {
        for r in self.rooms().values() {
            let _ = r.cmd.send(RoomCmd::Refresh);
            let _ = r.cmd.send(RoomCmd::RefreshBids);
        }
    }
}

impl Hub {
    /// This server's hub (start-up puts it among the runtimes).
    pub fn of(state: &crate::state::AppState) -> std::sync::Arc<Hub> {
        state.runtimes.get_arc::<Hub>()
    }

    /// The kind and tender of room `name` (`<kind>:<tender id>`), if it is a kind served.
    pub fn parse_room<'n>(&self, name: &'n str) -> Option<(&dyn RoomKind, &'n str)> {
        let (kind, id) = name.split_once(':')?;
        let kind = self.kinds.iter().find(|k| k.name() == kind)?;
        (!id.is_empty()).then_some((kind.as_ref(), id))
    }

    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, RoomHandle>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tell(&self, tender_id: &str, cmd: impl Fn() -> RoomCmd) {
        let rooms = self.rooms();
        for kind in &self.kinds {
            if let Some(r) = rooms.get(&format!("{}:{tender_id}", kind.name())) {
                let _ = r.cmd.send(cmd());
            }
        }
    }

    /// Sends a transient frame (not a ledger event) to everyone in room `name`.
    pub fn transient(&self, name: &str, msg: &types::ServerMsg<'_>) {
        if let Some(r) = self.rooms().get(name) {
            r.send_all(room::frame(-1, msg));
        }
    }

    /// Tells room `name` who is in its media now; each audience sees what it may.
    pub fn media_room(&self, name: &str, info: kaibiao_media::RoomInfo) {
        if let Some(r) = self.rooms().get(name) {
            let _ = r.cmd.send(RoomCmd::Media(info));
        }
    }

    /// The id `user_id` has in room `room`, in presence and in the room's media: the user
    /// id, a seat for a drawn expert, a pseudonym for a bidder.
    pub fn participant_id(&self, room: &str, user_id: &str, hidden: room::Hidden) -> String {
        match hidden {
            room::Hidden::No => user_id.to_string(),
            room::Hidden::Expert { seat, seated: true } => format!("seat-{seat}"),
            room::Hidden::Expert { seat, .. } => format!("seat-{seat}-not-seated"),
            room::Hidden::Bidder => {
                let tag =
                    ring::hmac::sign(&self.pseudonyms, format!("{room}\n{user_id}").as_bytes());
                format!("{BIDDER_PREFIX}{}", hex::encode(&tag.as_ref()[..8]))
            }
        }
    }

    /// A place for one more connection of `user` in session `session`, if the user holds
    /// fewer than `max`.
    pub fn admit(
        self: &std::sync::Arc<Self>,
        user: &str,
        session: &str,
        max: usize,
    ) -> Option<Admission> {
        let mut map = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(user.to_string()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        *self
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(session.to_string())
            .or_insert(0) += 1;
        Some(Admission {
            hub: self.clone(),
            user: user.to_string(),
            session: session.to_string(),
        })
    }

    /// The user's open connections here.
    pub fn connections_of(&self, user: &str) -> usize {
        self.connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(user)
            .copied()
            .unwrap_or(0)
    }

    /// The users a connection of whom closed since the last call.
    fn closed_since(&self) -> Vec<String> {
        std::mem::take(&mut *self.closed.lock().unwrap_or_else(|e| e.into_inner()))
            .into_iter()
            .collect()
    }

    /// Users whose closed connections could not be written: again at the next call.
    fn closed_again(&self, users: &[String]) {
        self.closed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(users.iter().cloned());
    }

    /// Closes the connections of every session that ended in the database (logged out,
    /// or its user disabled): a logout at another node whose signal was lost ends here
    /// too, within [`SESSIONS_CHECKED_EVERY`]. One statement per
    /// [`crate::db::IDS_PER_STATEMENT`] sessions. (Each
    /// connection closes itself when its session expires.)
    pub async fn end_ended_sessions(&self, pool: &sqlx::AnyPool) -> sqlx::Result<()> {
        let open: Vec<String> = self
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        for chunk in open.chunks(crate::db::IDS_PER_STATEMENT) {
            let live = crate::auth::repo::unended_sessions(pool, chunk).await?;
            for id in chunk.iter().filter(|id| !live.contains(*id)) {
                let _ = self.ended.send(id.clone());
            }
        }
        Ok(())
    }

    /// Closes every connection with 1012 (service restart): the clients reconnect, through
    /// the proxy, to another node and resubscribe from their last seq. Waits up to
    /// `limit` for the connections to go.
    pub async fn drain(&self, limit: std::time::Duration) {
        self.begin_draining();
        let until = tokio::time::Instant::now() + limit;
        while self.open_connections() > 0 && tokio::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Marks the node stopping: connections are told to go elsewhere, nothing is claimed.
    pub fn begin_draining(&self) {
        let _ = self.draining.send(true);
    }

    /// Whether the node is stopping now.
    pub fn is_draining(&self) -> bool {
        *self.draining.borrow()
    }

    /// The rooms this node's media sessions are told they lost, from now on.
    pub(crate) fn media_losses(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.media_lost.subscribe()
    }

    /// Another node runs `room`'s media now: every session of it here ends (its client is
    /// told to join again).
    pub(crate) fn media_room_lost(&self, room: &str) {
        let _ = self.media_lost.send(room.to_string());
    }

    /// Whether the node is stopping, as it changes.
    pub(crate) fn draining(&self) -> tokio::sync::watch::Receiver<bool> {
        self.draining.subscribe()
    }

    /// Runs a room's task where rooms run.
    pub(crate) fn spawn_room(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        match &self.rooms_on {
            Some(rt) => drop(rt.spawn(task)),
            None => drop(tokio::spawn(task)),
        }
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }

    /// Sessions ended from now on.
    pub(crate) fn ended_sessions(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.ended.subscribe()
    }

    /// The room's handle with a receiver for `audience` taken under the map's lock, so a
    /// room that is ending cannot be handed out. `start` starts a new room.
    pub(crate) fn join(
        &self,
        name: &str,
        start: impl FnOnce() -> RoomHandle,
        audience: room::Audience,
    ) -> (RoomHandle, tokio::sync::broadcast::Receiver<room::Frame>) {
        let mut rooms = self.rooms();
        let handle = rooms.entry(name.to_string()).or_insert_with(start).clone();
        let rx = handle.out[audience as usize].subscribe();
        (handle, rx)
    }

    /// Removes a room whose last listener has gone; false if someone joined meanwhile.
    pub(crate) fn forget(&self, name: &str) -> bool {
        let mut rooms = self.rooms();
        match rooms.get(name) {
            Some(r) if r.receivers() == 0 => {
                rooms.remove(name);
                true
            }
            _ => false,
        }
    }

    /// Makes every live room send what its tender's ledger and bid register hold beyond
    /// what it sent: one read of the heads for all the rooms, and a read of the events only
    /// in a room that is behind. With other nodes, the signal of a commit can be lost (its
    /// node killed between the commit and the publish, a burst that could not be sent);
    /// run every [`CATCH_UP_EVERY`], this bounds how late such an event arrives.
    pub async fn catch_up(&self, state: &crate::state::AppState) -> sqlx::Result<()> {
        let pool = &state.db.pool;
        // The live rooms, taken under one lock; the database is read without it.
        let rooms: Vec<(String, tokio::sync::mpsc::UnboundedSender<RoomCmd>)> = self
            .rooms()
            .iter()
            .map(|(name, r)| (name.clone(), r.cmd.clone()))
            .collect();
        let mut tenders: Vec<&str> = rooms
            .iter()
            .filter_map(|(name, _)| Some(name.split_once(':')?.1))
            .collect();
        tenders.sort_unstable();
        tenders.dedup();
        if tenders.is_empty() {
            return Ok(());
        }
        let (seqs, bid_seqs) = crate::ledger::repo::last_seqs(pool, &tenders).await?;
        let names: Vec<&str> = rooms.iter().map(|(name, _)| name.as_str()).collect();
        let node = state.runtimes.get_arc::<crate::cluster::Cluster>();
        let mut others = presence::heads(pool, node.node(), &names, state.clock.now_ms()).await?;
        for (name, cmd) in &rooms {
            let Some((kind, tender)) = name.split_once(':') else {
                continue;
            };
            let _ = cmd.send(RoomCmd::CatchUp {
                seq: seqs.get(tender).copied().unwrap_or(0),
                // Only the opening room shows the bid register (see `notify_bids`).
                bid_seq: match kind {
                    "opening" => bid_seqs.get(tender).copied().unwrap_or(0),
                    _ => 0,
                },
            });
            let _ = cmd.send(RoomCmd::OthersHeads(
                others.remove(name).unwrap_or_default(),
            ));
        }
        Ok(())
    }

    /// Until `stop`: with other nodes, [`Hub::catch_up`] and the closed connections'
    /// counts ([`caps::flush`]) every [`CATCH_UP_EVERY`], and the heartbeat of the
    /// presence and connection rows and of the media rooms run here ([`relay::keep`])
    /// every [`presence::SEEN_EVERY`]; and [`Hub::end_ended_sessions`] every
    /// [`SESSIONS_CHECKED_EVERY`].
    pub async fn keep_up(
        self: std::sync::Arc<Self>,
        state: crate::state::AppState,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let pool = &state.db.pool;
        let node = state.runtimes.get_arc::<crate::cluster::Cluster>();
        let shared = node.shared();
        let mut rooms = tokio::time::interval(CATCH_UP_EVERY);
        let mut seen = tokio::time::interval(presence::SEEN_EVERY);
        let mut sessions = tokio::time::interval(SESSIONS_CHECKED_EVERY);
        for tick in [&mut rooms, &mut seen, &mut sessions] {
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        }
        self.counted_elsewhere
            .store(shared, std::sync::atomic::Ordering::Relaxed);
        loop {
            tokio::select! {
                _ = rooms.tick(), if shared => {
                    if let Err(e) = self.catch_up(&state).await {
                        tracing::warn!(error = %e, "rooms catching up with the ledger");
                    }
                    if let Err(e) = caps::flush(&state).await {
                        tracing::warn!(error = %e, "writing closed hub connections");
                    }
                }
                _ = seen.tick(), if shared => {
                    let now = state.clock.now_ms();
                    for table in ["room_presence", "hub_connections"] {
                        if let Err(e) = presence::heartbeat(pool, table, node.node(), now).await {
                            tracing::warn!(error = %e, table, "the nodes' rows heartbeat");
                        }
                    }
                    if let Err(e) = relay::keep(&state).await {
                        tracing::warn!(error = %e, "the media rooms' heartbeat");
                    }
                }
                _ = sessions.tick() => {
                    if let Err(e) = self.end_ended_sessions(pool).await {
                        tracing::warn!(error = %e, "checking the hub's sessions");
                    }
                }
                _ = stop.changed() => break,
            }
        }
    }

    /// Rooms live now (for supervisors' overview and tests).
    pub fn room_names(&self) -> Vec<String> {
        self.rooms().keys().cloned().collect()
    }

    /// Rooms someone is in now, at this node or (with other nodes) at another: for the
    /// supervisors' console.
    pub async fn live_rooms(&self, state: &crate::state::AppState) -> sqlx::Result<Vec<String>> {
        let mut names = self.room_names();
        let node = state.runtimes.get_arc::<crate::cluster::Cluster>();
        if node.shared() {
            let now = state.clock.now_ms();
            names.extend(presence::rooms_elsewhere(&state.db.pool, node.node(), now).await?);
            names.sort_unstable();
            names.dedup();
        }
        Ok(names)
    }

    /// Who is in room `name` now at any node, as supervisors see them; `None` when nobody
    /// is, or the room did not answer within a second.
    pub async fn present_anywhere(
        &self,
        state: &crate::state::AppState,
        name: &str,
    ) -> Option<Vec<types::PresenceEntry>> {
        // A room live here shows the other nodes' people too.
        if let Some(here) = self.present(name).await {
            return Some(here);
        }
        let node = state.runtimes.get_arc::<crate::cluster::Cluster>();
        if !node.shared() {
            return None;
        }
        let now = state.clock.now_ms();
        let (_, members) = presence::others(&state.db.pool, node.node(), name, now)
            .await
            .map_err(|e| tracing::warn!(room = name, error = %e, "reading a room's presence"))
            .ok()?;
        let members: std::collections::BTreeMap<String, room::Present> =
            members.into_iter().collect();
        let all: Vec<&room::Present> = members.values().collect();
        let (shown, _) = room::presence_view(room::Audience::Supervisor, Default::default(), &all);
        (!shown.is_empty()).then_some(shown)
    }

    /// Who is in room `name` now at this node (and, for a room live here, at the others),
    /// as supervisors see them; `None` when nobody is (the room has no task here) or it
    /// did not answer within a second.
    pub async fn present(&self, name: &str) -> Option<Vec<types::PresenceEntry>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.rooms()
            .get(name)?
            .cmd
            .send(RoomCmd::Snapshot(tx))
            .ok()?;
        tokio::time::timeout(std::time::Duration::from_secs(1), rx)
            .await
            .ok()?
            .ok()
    }
}
