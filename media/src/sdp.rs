//! Checks on a client's SDP before it reaches the WebRTC stack: that it parses, and what it
//! would send.

use std::io::Cursor;

use rtc::sdp::description::session::SessionDescription;

use crate::error::MediaError;

/// What an offer asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferSummary {
    /// Media sections (audio/video) with which the client would send.
    pub sending: usize,
    /// Media sections of kind audio or video.
    pub media: usize,
    /// Whether any audio section offers Opus or any video section offers VP8.
    pub has_supported_codec: bool,
}

/// Parses `sdp` and summarises its media sections.
pub fn summarise(sdp: &str) -> Result<OfferSummary, MediaError> {
    if !sdp.trim_start().starts_with("v=0") {
        return Err(MediaError::MalformedSdp("does not start with v=0".into()));
    }
    let desc = SessionDescription::unmarshal(&mut Cursor::new(sdp.as_bytes()))
        .map_err(|e| MediaError::MalformedSdp(e.to_string()))?;
    let session_dir = direction_of(|k| desc.has_attribute(k));
    let mut summary = OfferSummary {
        sending: 0,
        media: 0,
        has_supported_codec: false,
    };
    for m in &desc.media_descriptions {
        let kind = m.media_name.media.as_str();
        if kind != "audio" && kind != "video" {
            continue;
        }
        summary.media += 1;
        let dir = direction_of(|k| m.has_attribute(k))
            .or(session_dir)
            .unwrap_or("sendrecv");
        // A port of 0 rejects the section outright.
        if (dir == "sendrecv" || dir == "sendonly") && m.media_name.port.value != 0 {
            summary.sending += 1;
        }
        let wanted = if kind == "audio" { "opus/" } else { "vp8/" };
        if m.attributes.iter().any(|a| {
            a.key == "rtpmap"
                && a.value
                    .as_deref()
                    .is_some_and(|v| v.to_ascii_lowercase().contains(wanted))
        }) {
            summary.has_supported_codec = true;
        }
    }
    Ok(summary)
}

fn direction_of(has: impl Fn(&str) -> bool) -> Option<&'static str> {
    ["sendrecv", "sendonly", "recvonly", "inactive"]
        .into_iter()
        .find(|d| has(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECV: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:96 VP8/90000\r\na=recvonly\r\n";

    #[test]
    fn recvonly_offer_sends_nothing() {
        let s = summarise(RECV).unwrap();
        assert_eq!(s.media, 1);
        assert_eq!(s.sending, 0);
        assert!(s.has_supported_codec);
    }

    #[test]
    fn missing_direction_means_sendrecv() {
        let s = summarise(&RECV.replace("a=recvonly\r\n", "")).unwrap();
        assert_eq!(s.sending, 1);
    }

    #[test]
    fn garbage_is_malformed() {
        for bad in ["", "hello", "v=0\r\nthis is not sdp\r\n"] {
            let e = summarise(bad).unwrap_err();
            assert_eq!(e.code(), "MALFORMED_SDP", "{bad:?}");
        }
    }
}
