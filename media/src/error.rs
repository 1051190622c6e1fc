//! The media plane's errors: each has a stable code the hub sends as `{type: "error", code,
//! message}`, and a message in Chinese and English.

use serde::Serialize;

/// Why the SFU refused a call.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The SDP could not be parsed, or the WebRTC stack would not accept it.
    #[error("malformed SDP: {0}")]
    MalformedSdp(String),
    /// The participant has not joined this room (or has left it).
    #[error("participant {participant} is not a member of room {room}")]
    NotAMember { room: String, participant: String },
    /// A receive-only participant offered to send media, or sent a track.
    #[error("participant {0} is receive-only and may not publish")]
    ReceiveOnly(String),
    /// The room already holds its configured maximum of participants.
    #[error("room {room} is full ({max} participants)")]
    RoomFull { room: String, max: usize },
    /// An answer arrived with no offer of ours outstanding, or an offer while ours is.
    #[error("signalling out of order: {0}")]
    WrongState(String),
    /// The offer carries no VP8 video or Opus audio the SFU can forward.
    #[error("unsupported codec: {0}")]
    UnsupportedCodec(String),
    /// Every UDP port of the configured range is taken.
    #[error("no free UDP port in {0}")]
    NoPort(String),
    /// A trickled ICE candidate was refused.
    #[error("bad ICE candidate: {0}")]
    BadCandidate(String),
    /// Anything else; details are logged, never sent.
    #[error("the node running the room's media is unreachable: {0}")]
    Unreachable(String),
    #[error("internal media error: {0}")]
    Internal(String),
}

/// What the hub sends a client for a [`MediaError`].
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    pub message_en: String,
}

impl MediaError {
    /// The stable code, e.g. `MALFORMED_SDP`.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::MalformedSdp(_) => "MALFORMED_SDP",
            MediaError::NotAMember { .. } => "NOT_A_MEMBER",
            MediaError::ReceiveOnly(_) => "RECEIVE_ONLY",
            MediaError::RoomFull { .. } => "ROOM_FULL",
            MediaError::WrongState(_) => "WRONG_SIGNALLING_STATE",
            MediaError::UnsupportedCodec(_) => "UNSUPPORTED_CODEC",
            MediaError::NoPort(_) => "NO_MEDIA_PORT",
            MediaError::BadCandidate(_) => "BAD_ICE_CANDIDATE",
            MediaError::Unreachable(_) => "MEDIA_NODE_UNREACHABLE",
            MediaError::Internal(_) => "MEDIA_INTERNAL",
        }
    }

    /// The message for a person, in Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            MediaError::MalformedSdp(_) => {
                "会话描述（SDP）格式错误，请刷新页面后重新加入音视频".into()
            }
            MediaError::NotAMember { .. } => "您不是该音视频房间的成员".into(),
            MediaError::ReceiveOnly(_) => "您的角色只能观看，不能发送音视频".into(),
            MediaError::RoomFull { max, .. } => format!("音视频房间已满（最多 {max} 人）"),
            MediaError::WrongState(_) => "音视频协商顺序错误，请稍后重试".into(),
            MediaError::UnsupportedCodec(_) => {
                "浏览器未提供 VP8 视频或 Opus 音频，请更换浏览器".into()
            }
            MediaError::NoPort(_) => "音视频服务繁忙（端口已用尽），请稍后重试".into(),
            MediaError::BadCandidate(_) => "网络候选地址无效".into(),
            MediaError::Unreachable(_) => "音视频所在的服务节点已断开，请重新加入音视频".into(),
            MediaError::Internal(_) => "音视频服务内部错误".into(),
        }
    }

    /// The message for a person, in English.
    pub fn message_en(&self) -> String {
        match self {
            MediaError::MalformedSdp(_) => {
                "The session description (SDP) is malformed; reload the page and rejoin".into()
            }
            MediaError::NotAMember { .. } => "You are not a member of this media room".into(),
            MediaError::ReceiveOnly(_) => "Your role may watch but not send audio or video".into(),
            MediaError::RoomFull { max, .. } => format!("The media room is full ({max} at most)"),
            MediaError::WrongState(_) => "Media negotiation out of order; try again".into(),
            MediaError::UnsupportedCodec(_) => {
                "The browser offers neither VP8 video nor Opus audio; use another browser".into()
            }
            MediaError::NoPort(_) => "The media service is busy (no free port); try again".into(),
            MediaError::BadCandidate(_) => "The network candidate is invalid".into(),
            MediaError::Unreachable(_) => {
                "The server node running this room's media is gone; join the media again".into()
            }
            MediaError::Internal(_) => "Internal media error".into(),
        }
    }

    /// Code and both messages, ready to serialise.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code(),
            message: self.message_zh(),
            message_en: self.message_en(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_code_and_both_messages() {
        let all = [
            MediaError::MalformedSdp(String::new()),
            MediaError::NotAMember {
                room: "r".into(),
                participant: "p".into(),
            },
            MediaError::ReceiveOnly("p".into()),
            MediaError::RoomFull {
                room: "r".into(),
                max: 3,
            },
            MediaError::WrongState(String::new()),
            MediaError::UnsupportedCodec(String::new()),
            MediaError::NoPort(String::new()),
            MediaError::BadCandidate(String::new()),
            MediaError::Unreachable(String::new()),
            MediaError::Internal(String::new()),
        ];
        let mut codes = std::collections::HashSet::new();
        for e in &all {
            let b = e.body();
            assert!(codes.insert(b.code), "duplicate code {}", b.code);
            assert!(!b.message.is_empty() && !b.message_en.is_empty());
            assert_eq!(b.code, b.code.to_ascii_uppercase());
        }
    }
}
