//! Signalling messages between a client and the SFU, as the hub forwards them (JSON).

use serde::{Deserialize, Serialize};

/// A trickled ICE candidate, in the browser's `RTCIceCandidateInit` shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(default)]
    pub sdp_mid: Option<String>,
    #[serde(default, rename = "sdpMLineIndex")]
    pub sdp_mline_index: Option<u16>,
    #[serde(default)]
    pub username_fragment: Option<String>,
}

/// Client → SFU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SignalIn {
    /// The client's offer (its first, or a later one of its own).
    Offer { sdp: String },
    /// The client's answer to an [`SignalOut::Offer`] of the SFU.
    Answer { sdp: String },
    /// One of the client's ICE candidates; `None` candidate text ends gathering.
    Candidate { candidate: IceCandidate },
    /// The client lost a video frame and asks the publishers for a keyframe.
    KeyframeRequest,
}

/// SFU → client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SignalOut {
    /// The SFU's answer to the client's offer (also returned by `handle_offer`).
    Answer { sdp: String },
    /// The SFU renegotiates: tracks were added or removed. Reply with [`SignalIn::Answer`].
    Offer { sdp: String },
    /// One of the SFU's ICE candidates.
    Candidate { candidate: IceCandidate },
    /// Something the client sent was refused after the call returned (e.g. a track from a
    /// receive-only participant).
    Error {
        code: String,
        message: String,
        message_en: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_the_hub_shape() {
        let m = SignalOut::Candidate {
            candidate: IceCandidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
                username_fragment: None,
            },
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["type"], "candidate");
        assert_eq!(v["candidate"]["sdpMid"], "0");
        assert_eq!(v["candidate"]["sdpMLineIndex"], 0);
        let back: SignalIn = serde_json::from_str(r#"{"type":"offer","sdp":"v=0"}"#).unwrap();
        assert_eq!(back, SignalIn::Offer { sdp: "v=0".into() });
        let k: SignalIn = serde_json::from_str(r#"{"type":"keyframe_request"}"#).unwrap();
        assert_eq!(k, SignalIn::KeyframeRequest);
    }
}
