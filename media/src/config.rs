//! What a deployment sets for the SFU: where it binds, which ports, which STUN/TURN servers.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A STUN or TURN server, in the browser's `RTCIceServer` shape so the hub can hand the same
/// list to clients (e.g. a coturn at `turn:turn.example.org:3478?transport=udp`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub credential: String,
}

/// The SFU's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MediaConfig {
    /// Address the per-connection UDP sockets bind. `0.0.0.0` means every non-loopback
    /// interface; tests use `127.0.0.1`.
    pub bind_ip: IpAddr,
    /// First UDP port of the range (inclusive). webrtc 0.21 has no single-port mux, so each
    /// peer connection takes one port of this range: open it in the firewall.
    pub udp_port_min: u16,
    /// Last UDP port of the range (inclusive).
    pub udp_port_max: u16,
    /// STUN/TURN servers the SFU itself uses to gather candidates.
    pub ice_servers: Vec<IceServer>,
    /// Public addresses to advertise instead of `bind_ip` behind a 1:1 NAT.
    pub nat_1to1_ips: Vec<String>,
    /// Where recordings are written; `None` turns recording off.
    pub recording_dir: Option<PathBuf>,
    /// Most participants in one room.
    pub max_participants_per_room: usize,
    /// Packets queued per subscriber before that subscriber's packets are dropped.
    pub subscriber_queue: usize,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            bind_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            udp_port_min: 50_000,
            udp_port_max: 50_999,
            ice_servers: Vec::new(),
            nat_1to1_ips: Vec::new(),
            recording_dir: None,
            max_participants_per_room: 64,
            subscriber_queue: 512,
        }
    }
}

impl MediaConfig {
    /// Loopback settings for tests and benchmarks: `127.0.0.1`, ports 0 (any), no STUN.
    pub fn loopback() -> Self {
        MediaConfig {
            bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            udp_port_min: 0,
            udp_port_max: 0,
            ..MediaConfig::default()
        }
    }
}
