//! Hub messages: typed JSON, `{"type": ...}`.

use serde::{Deserialize, Serialize};

/// What a client sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// Join a room, replaying the ledger events after `since_seq` (0: from the start).
    Subscribe {
        room: String,
        #[serde(default)]
        since_seq: i64,
    },
    /// Leave the current room.
    Unsubscribe,
    Ping,
    /// A command of the room's ceremony (docs/opening.md, docs/evaluation.md), answered
    /// by `ack` or `error` carrying the same `id`; parsed by the room's kind.
    Command {
        #[serde(default)]
        id: Option<String>,
        room: String,
        command: serde_json::Value,
    },
}

/// What the server sends (events are pre-serialised once per room, see `room.rs`).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg<'a> {
    Subscribed {
        room: &'a str,
        /// The last seq replayed; live events follow from here.
        seq: i64,
        /// Bid events withheld from this subscriber until this time (the deadline).
        #[serde(skip_serializing_if = "Option::is_none")]
        withheld_until: Option<i64>,
    },
    Event {
        room: &'a str,
        event: &'a crate::ledger::Event,
    },
    /// The subscriber fell behind the live stream: subscribe again with `since_seq`.
    Resync {
        room: &'a str,
        since_seq: i64,
    },
    Presence {
        room: &'a str,
        members: &'a [PresenceEntry],
    },
    /// Progress of long work in the room (not a ledger event).
    Progress {
        room: &'a str,
        phase: &'a str,
        done: i64,
        total: i64,
        current: &'a str,
    },
    Ack {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a str>,
        result: &'a serde_json::Value,
    },
    Pong,
    Error {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a str>,
        code: &'a str,
        message: String,
        message_en: String,
    },
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PresenceEntry {
    pub user_id: String,
    pub display_name: String,
    pub role: String,
}
