//! Keyframe requests (PLI, FIR) arriving from a peer.
//!
//! In webrtc 0.21 inbound RTCP reaches the application only if an interceptor marks it for
//! delivery, so this interceptor watches every RTCP packet read on a connection and reports
//! the media SSRC each PLI or FIR names. It passes everything on untouched.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use rtc::interceptor::{Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

/// Called with the media SSRC a peer wants a keyframe for. Runs on the connection's driver:
/// keep it short (a `try_send`).
pub type KeyframeCallback = Arc<dyn Fn(u32) + Send + Sync>;

/// The interceptor; register it with [`KeyframeRequests::slot`].
pub struct KeyframeRequests {
    on_request: KeyframeCallback,
    reads: VecDeque<TaggedPacket>,
    writes: VecDeque<TaggedPacket>,
}

impl KeyframeRequests {
    pub fn new(on_request: KeyframeCallback) -> Self {
        KeyframeRequests {
            on_request,
            reads: VecDeque::new(),
            writes: VecDeque::new(),
        }
    }

    /// First in the read chain, so it sees RTCP before any other interceptor consumes it.
    pub fn slot() -> rtc::interceptor::Slot {
        rtc::interceptor::Slot::Custom(100)
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for KeyframeRequests {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            for p in packets {
                let any = p.as_any();
                if let Some(pli) = any.downcast_ref::<PictureLossIndication>() {
                    (self.on_request)(pli.media_ssrc);
                } else if let Some(fir) = any.downcast_ref::<FullIntraRequest>() {
                    for entry in &fir.fir {
                        (self.on_request)(entry.ssrc);
                    }
                }
            }
        }
        self.reads.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<TaggedPacket> {
        self.reads.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Error> {
        self.writes.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.writes.pop_front()
    }
}

impl Interceptor for KeyframeRequests {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
