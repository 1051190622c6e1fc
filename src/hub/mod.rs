//! The real-time hub: a WebSocket at `/api/hub` with typed JSON messages. A client
//! subscribes to a room (`opening:<tender id>`, `evaluation:<tender id>`) with the last
//! ledger seq it saw, gets the
//! missed events replayed from the ledger, then live ones as they are committed. Role and
//! membership are checked on every command; one task owns each room (see `room.rs`).

pub mod room;
pub mod routes;
pub mod types;

use std::collections::HashMap;

use room::{RoomCmd, RoomHandle};

/// The kinds of room; each streams its tender's ledger and takes its own commands.
pub const ROOM_KINDS: [&str; 2] = ["opening", "evaluation"];

#[derive(Default)]
pub struct Hub {
    rooms: std::sync::Mutex<HashMap<String, RoomHandle>>,
}

impl Hub {
    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, RoomHandle>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tells a tender's room, if anyone is in it, that new ledger events were committed.
    /// Call after the transaction that appended them commits.
    pub fn notify(&self, tender_id: &str) {
        let rooms = self.rooms();
        for kind in ROOM_KINDS {
            if let Some(r) = rooms.get(&format!("{kind}:{tender_id}")) {
                let _ = r.cmd.send(RoomCmd::Refresh);
            }
        }
    }

    /// Sends a transient frame (not a ledger event) to everyone in a tender's room: the
    /// progress of long work such as revealing.
    pub fn progress(&self, tender_id: &str, phase: &str, done: i64, total: i64, current: &str) {
        let room = format!("opening:{tender_id}");
        if let Some(r) = self.rooms().get(&room) {
            let f = room::frame(
                -1,
                &types::ServerMsg::Progress {
                    room: &room,
                    phase,
                    done,
                    total,
                    current,
                },
            );
            let _ = r.full.send(f.clone());
            let _ = r.public.send(f);
        }
    }

    /// The room's handle with receivers taken under the map's lock, so a room that is
    /// ending cannot be handed out. `start` gives the seq a new room begins at.
    pub(crate) fn join(
        &self,
        name: &str,
        start: impl FnOnce() -> RoomHandle,
        supervisor: bool,
    ) -> (RoomHandle, tokio::sync::broadcast::Receiver<room::Frame>) {
        let mut rooms = self.rooms();
        let handle = rooms.entry(name.to_string()).or_insert_with(start).clone();
        let rx = if supervisor {
            handle.full.subscribe()
        } else {
            handle.public.subscribe()
        };
        (handle, rx)
    }

    /// Removes a room whose last listener has gone; false if someone joined meanwhile.
    pub(crate) fn forget(&self, name: &str) -> bool {
        let mut rooms = self.rooms();
        match rooms.get(name) {
            Some(r) if r.full.receiver_count() == 0 && r.public.receiver_count() == 0 => {
                rooms.remove(name);
                true
            }
            _ => false,
        }
    }

    /// Rooms live now (for supervisors' overview and tests).
    pub fn room_names(&self) -> Vec<String> {
        self.rooms().keys().cloned().collect()
    }
}
