//! kaibiao's media plane: a selective forwarding unit (SFU) on webrtc-rs, and its recorder.
//!
//! It knows rooms, participants and tracks, never procurement: the hub decides who may join
//! which room in which role and forwards signalling ([`SignalIn`], [`SignalOut`]) over its
//! WebSocket; this crate answers offers, forwards each publisher's RTP to every other
//! participant, and records the published tracks.

mod config;
mod error;
mod keyframe;
mod record;
mod sdp;
mod sfu;
mod signal;
pub mod testing;

pub use config::{IceServer, MediaConfig};
pub use error::{ErrorBody, MediaError};
pub use keyframe::{KeyframeCallback, KeyframeRequests};
pub use record::{hash_file, Recording};
pub use sfu::{
    interceptors, media_engine, Joined, ParticipantInfo, Role, RoomInfo, Session, Sfu, TrackInfo,
    OPUS_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE,
};
pub use signal::{IceCandidate, SignalIn, SignalOut};

use serde::{Deserialize, Serialize};

/// Audio or video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Audio,
    Video,
}
