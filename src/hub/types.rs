//! Hub messages: typed JSON, `{"type": ...}`.

use serde::{Deserialize, Serialize};

/// What a client sends, `{"type": "<name>", <fields>}`, read by
/// [`crate::error::from_tagged`] (so the enum itself is externally tagged).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// Join a room, replaying the ledger events after `since_seq` (0: from the start).
    Subscribe {
        room: String,
        #[serde(default)]
        since_seq: i64,
    },
    /// Leave the current room.
    Unsubscribe {},
    /// Keeps the connection alive; with `t` (the client's clock, ms) the pong also
    /// carries the server's clock, so that the page shows the server's time.
    Ping {
        #[serde(default)]
        t: Option<i64>,
    },
    /// Join a room's audio and video (docs/media.md): publisher or receive-only by role.
    MediaJoin {
        room: String,
    },
    /// WebRTC signalling for the room joined: offer, answer, candidate, keyframe_request.
    Media {
        room: String,
        signal: kaibiao_media::SignalIn,
    },
    MediaLeave {
        room: String,
    },
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
    Resync { room: &'a str, since_seq: i64 },
    /// Who is present, as this subscriber may see them (see `room::presence_view`).
    Presence {
        room: &'a str,
        members: &'a [PresenceEntry],
        /// How many bidders are present, where the subscriber may know that but not who.
        #[serde(skip_serializing_if = "Option::is_none")]
        bidders: Option<usize>,
        /// Grows with each change this subscriber can see: an older frame (a subscriber's
        /// first, sent directly, may overtake one in flight) is to be ignored.
        version: u64,
    },
    /// An event of the tender's bid register (supervisors only before the deadline).
    BidEvent {
        room: &'a str,
        event: &'a crate::ledger::Event,
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
    /// Joined the room's media: the role, the STUN/TURN servers for the browser.
    MediaJoined {
        room: &'a str,
        role: kaibiao_media::Role,
        ice_servers: &'a [kaibiao_media::IceServer],
    },
    /// Signalling from the media plane: answer, offer, candidate, error.
    Media {
        room: &'a str,
        signal: &'a kaibiao_media::SignalOut,
    },
    /// Who is in the room's media, publishing what, watching (to everyone in the room).
    MediaRoom {
        room: &'a str,
        info: &'a kaibiao_media::RoomInfo,
    },
    /// The answer to a ping: the client's `t` back and the server's clock (`now`, ms),
    /// from which the page corrects its own clock by half the round trip.
    Pong {
        #[serde(skip_serializing_if = "Option::is_none")]
        t: Option<i64>,
        now: i64,
    },
    Error {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a str>,
        code: &'a str,
        message: String,
        message_en: String,
        /// Field → messages, for `VALIDATION`, as over HTTP.
        #[serde(skip_serializing_if = "Option::is_none")]
        fields: Option<&'a crate::error::FieldErrors>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct PresenceEntry {
    /// The member's id in this room: the user id, or for a bidder a pseudonym and for a
    /// drawn expert `seat-<n>` (the same id names them in the room's media).
    pub user_id: String,
    pub display_name: String,
    pub role: String,
    /// A drawn expert's seat, where their name is withheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seat: Option<i64>,
}
