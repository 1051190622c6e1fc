//! In-process WebRTC peers (real ICE, DTLS and SRTP over loopback) for the tests and
//! benchmarks of the SFU and of the hub that signals for it: a publisher sending a VP8 test
//! pattern and Opus, receivers counting what arrives. The peer talks to the SFU through a
//! [`Signalling`]: directly ([`connect`]) or over any other transport ([`connect_with`]).

use std::io::Cursor;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::{
    interceptors, media_engine, IceCandidate, MediaError, Role, Sfu, SignalOut, OPUS_PAYLOAD_TYPE,
    VP8_PAYLOAD_TYPE,
};
use bytes::Bytes;
use rtc::media::io::ivf_reader::IVFReader;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCIceCandidateInit,
    RTCPeerConnectionIceEvent, RTCSessionDescription, SettingEngineBuilder,
};

pub const VP8_FIXTURE: &[u8] = include_bytes!("../tests/fixtures/testsrc-64x48.ivf");
/// A 20 ms Opus frame of silence (CELT, fullband): TOC 0xf8 then an empty-frame body.
pub const OPUS_SILENCE: [u8; 3] = [0xf8, 0xff, 0xfe];

/// What one peer received, counted by kind, with the SSRCs and payload types seen.
#[derive(Default)]
pub struct Received {
    pub video: AtomicU64,
    pub audio: AtomicU64,
    pub bad_payload_type: AtomicU64,
    pub tracks: AtomicU64,
    pub remote: std::sync::Mutex<Vec<Arc<dyn TrackRemote>>>,
}

pub struct Peer {
    pub id: String,
    pub pc: Arc<dyn PeerConnection>,
    pub received: Arc<Received>,
    /// Keyframe requests (PLI/FIR) this peer received for its own tracks.
    pub keyframe_requests: Arc<AtomicU64>,
    /// Turn off to stop reading received tracks (a stalled subscriber).
    pub reading: Arc<AtomicBool>,
    pub tracks: Vec<Arc<TrackLocalStaticRTP>>,
    pub tasks: Vec<JoinHandle<()>>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

struct PeerHandler {
    candidates: mpsc::UnboundedSender<IceCandidate>,
    received: Arc<Received>,
    reading: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for PeerHandler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(c) = event.candidate.to_json() {
            let _ = self.candidates.send(IceCandidate {
                candidate: c.candidate,
                sdp_mid: c.sdp_mid,
                sdp_mline_index: c.sdp_mline_index,
                username_fragment: c.username_fragment,
            });
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let received = self.received.clone();
        let reading = self.reading.clone();
        received.tracks.fetch_add(1, Ordering::Relaxed);
        received.remote.lock().unwrap().push(track.clone());
        tokio::spawn(async move {
            loop {
                if !reading.load(Ordering::Relaxed) {
                    // Stalled: stop draining the track; its queue fills and the stack drops.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                let Some(evt) = track.poll().await else {
                    return;
                };
                if let TrackRemoteEvent::OnRtpPacket(p) = evt {
                    match p.header.payload_type {
                        VP8_PAYLOAD_TYPE => received.video.fetch_add(1, Ordering::Relaxed),
                        OPUS_PAYLOAD_TYPE => received.audio.fetch_add(1, Ordering::Relaxed),
                        _ => received.bad_payload_type.fetch_add(1, Ordering::Relaxed),
                    };
                }
            }
        });
    }
}

fn local_track(kind: RtpCodecKind, ssrc: u32, id: &str) -> Arc<TrackLocalStaticRTP> {
    let codec = match kind {
        RtpCodecKind::Video => RTCRtpCodec {
            mime_type: "video/VP8".into(),
            clock_rate: 90_000,
            ..Default::default()
        },
        _ => RTCRtpCodec {
            mime_type: "audio/opus".into(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
            ..Default::default()
        },
    };
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        format!("{id}-stream"),
        format!(
            "{id}-{}",
            if kind == RtpCodecKind::Video {
                "video"
            } else {
                "audio"
            }
        ),
        id.to_owned(),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            active: true,
            codec,
            ..Default::default()
        }],
    )))
}

/// How a test peer offers.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// VP8 + Opus, sending.
    Send,
    /// Audio and video recvonly transceivers.
    Receive,
}

/// How a peer reaches the SFU: its offer (answered), its answers to the SFU's offers, its
/// candidates.
#[async_trait::async_trait]
pub trait Signalling: Send + Sync + 'static {
    async fn offer(&self, sdp: String) -> Result<String, MediaError>;
    async fn answer(&self, sdp: String) -> Result<(), MediaError>;
    async fn candidate(&self, candidate: IceCandidate);
}

/// Signalling straight into an [`Sfu`] (no hub in between).
struct Direct {
    sfu: Sfu,
    room: String,
    id: String,
}

#[async_trait::async_trait]
impl Signalling for Direct {
    async fn offer(&self, sdp: String) -> Result<String, MediaError> {
        self.sfu.handle_offer(&self.room, &self.id, sdp).await
    }
    async fn answer(&self, sdp: String) -> Result<(), MediaError> {
        self.sfu.handle_answer(&self.room, &self.id, sdp).await
    }
    async fn candidate(&self, candidate: IceCandidate) {
        let _ = self
            .sfu
            .add_candidate(&self.room, &self.id, candidate)
            .await;
    }
}

/// Joins `room` as `id` and negotiates; returns once the SFU answered.
pub async fn connect(
    sfu: &Sfu,
    room: &str,
    id: &str,
    role: Role,
    offer: Offer,
) -> Result<Peer, MediaError> {
    let signals = sfu.join(room, id, role).await?.signals;
    let direct = Arc::new(Direct {
        sfu: sfu.clone(),
        room: room.to_owned(),
        id: id.to_owned(),
    });
    connect_with(id, offer, direct, signals).await
}

/// Negotiates through `signalling`, with `signals` the SFU's messages for this peer
/// (candidates, renegotiation offers); returns once the SFU answered.
pub async fn connect_with(
    id: &str,
    offer: Offer,
    signalling: Arc<dyn Signalling>,
    mut signals: mpsc::Receiver<SignalOut>,
) -> Result<Peer, MediaError> {
    let received = Arc::new(Received::default());
    let reading = Arc::new(AtomicBool::new(true));
    let keyframe_requests = Arc::new(AtomicU64::new(0));
    let (cand_tx, mut cand_rx) = mpsc::unbounded_channel();
    let mut me = media_engine()?;
    let kf = keyframe_requests.clone();
    let registry = interceptors(
        &mut me,
        Some(Arc::new(move |_| {
            kf.fetch_add(1, Ordering::Relaxed);
        })),
    );
    let pc: Arc<dyn PeerConnection> = Arc::new(
        PeerConnectionBuilder::new()
            .with_media_engine(me)
            .with_interceptor_registry(registry)
            .with_setting_engine(
                SettingEngineBuilder::new()
                    .with_include_loopback_candidate(true)
                    .build(),
            )
            .with_handler(Arc::new(PeerHandler {
                candidates: cand_tx,
                received: received.clone(),
                reading: reading.clone(),
            }) as Arc<dyn PeerConnectionEventHandler>)
            .with_udp_addrs(vec!["127.0.0.1:0".to_string()])
            .build()
            .await
            .map_err(|e| MediaError::Internal(e.to_string()))?,
    );
    let mut tracks = Vec::new();
    match offer {
        Offer::Send => {
            let base: u32 = rand::random::<u32>() | 1;
            for (kind, ssrc) in [
                (RtpCodecKind::Video, base),
                (RtpCodecKind::Audio, base ^ 0x100),
            ] {
                let t = local_track(kind, ssrc, id);
                pc.add_track(t.clone() as Arc<dyn TrackLocal>)
                    .await
                    .expect("add_track");
                tracks.push(t);
            }
        }
        Offer::Receive => {
            for kind in [RtpCodecKind::Audio, RtpCodecKind::Video] {
                pc.add_transceiver_from_kind(
                    kind,
                    Some(RTCRtpTransceiverInit {
                        direction: RTCRtpTransceiverDirection::Recvonly,
                        ..Default::default()
                    }),
                )
                .await
                .expect("transceiver");
            }
        }
    }
    let o = pc.create_offer(None).await.expect("offer");
    pc.set_local_description(o).await.expect("local offer");
    let sdp = pc.local_description().await.expect("sdp").sdp;
    let answer = signalling.offer(sdp).await?;
    pc.set_remote_description(RTCSessionDescription::answer(answer).expect("answer"))
        .await
        .expect("remote answer");

    let mut tasks = Vec::new();
    {
        let signalling = signalling.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(c) = cand_rx.recv().await {
                signalling.candidate(c).await;
            }
        }));
    }
    {
        let pc = pc.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(msg) = signals.recv().await {
                match msg {
                    SignalOut::Candidate { candidate } => {
                        let _ = pc
                            .add_ice_candidate(RTCIceCandidateInit {
                                candidate: candidate.candidate,
                                sdp_mid: candidate.sdp_mid,
                                sdp_mline_index: candidate.sdp_mline_index,
                                username_fragment: candidate.username_fragment,
                                ..Default::default()
                            })
                            .await;
                    }
                    SignalOut::Offer { sdp } => {
                        let desc = RTCSessionDescription::offer(sdp).expect("sfu offer");
                        pc.set_remote_description(desc).await.expect("remote offer");
                        let a = pc.create_answer(None).await.expect("answer");
                        pc.set_local_description(a).await.expect("local answer");
                        let sdp = pc.local_description().await.expect("sdp").sdp;
                        signalling
                            .answer(sdp)
                            .await
                            .expect("answer to the SFU's offer");
                    }
                    SignalOut::Answer { .. } | SignalOut::Error { .. } => {}
                }
            }
        }));
    }
    Ok(Peer {
        id: id.to_owned(),
        pc,
        received,
        keyframe_requests,
        reading,
        tracks,
        tasks,
    })
}

/// The fixture's VP8 frames (64x48 test pattern, keyframe every 10 frames).
pub fn vp8_frames() -> Vec<Bytes> {
    let (mut r, _) = IVFReader::new(Cursor::new(VP8_FIXTURE)).expect("ivf");
    let mut frames = Vec::new();
    while let Ok((f, _)) = r.parse_next_frame() {
        frames.push(f.freeze());
    }
    frames
}

/// Sends VP8 at `fps` frames a second and Opus every 20 ms from a `connect`ed publisher,
/// until aborted. Packets are sent with the publisher's own SSRC and payload types.
pub fn start_sending(peer: &Peer, fps: u32) -> JoinHandle<()> {
    let video = peer.tracks[0].clone();
    let audio = peer.tracks[1].clone();
    tokio::spawn(async move {
        let frames = vp8_frames();
        let (vssrc, assrc) = (ssrc_of(&video).await, ssrc_of(&audio).await);
        let mut vseq: u16 = 1;
        let mut aseq: u16 = 1;
        let mut n: u64 = 0;
        let start = tokio::time::Instant::now();
        let audio_every = Duration::from_millis(20);
        let video_every = Duration::from_secs(1) / fps;
        let mut next_video = start;
        let mut next_audio = start;
        loop {
            let now = tokio::time::Instant::now();
            if now >= next_video {
                let frame = &frames[(n as usize) % frames.len()];
                let ts = (n as u32).wrapping_mul(90_000 / fps);
                let chunks: Vec<&[u8]> = frame.chunks(1000).collect();
                for (i, c) in chunks.iter().enumerate() {
                    let mut payload = Vec::with_capacity(c.len() + 1);
                    payload.push(if i == 0 { 0x10 } else { 0x00 });
                    payload.extend_from_slice(c);
                    let pkt = rtp::Packet {
                        header: rtp::header::Header {
                            version: 2,
                            marker: i + 1 == chunks.len(),
                            payload_type: VP8_PAYLOAD_TYPE,
                            sequence_number: vseq,
                            timestamp: ts,
                            ssrc: vssrc,
                            ..Default::default()
                        },
                        payload: Bytes::from(payload),
                    };
                    vseq = vseq.wrapping_add(1);
                    let _ = video.write_rtp(pkt).await;
                }
                n += 1;
                next_video += video_every;
            }
            if now >= next_audio {
                let pkt = rtp::Packet {
                    header: rtp::header::Header {
                        version: 2,
                        payload_type: OPUS_PAYLOAD_TYPE,
                        sequence_number: aseq,
                        timestamp: u32::from(aseq).wrapping_mul(960),
                        ssrc: assrc,
                        ..Default::default()
                    },
                    payload: Bytes::from_static(&OPUS_SILENCE),
                };
                aseq = aseq.wrapping_add(1);
                let _ = audio.write_rtp(pkt).await;
                next_audio += audio_every;
            }
            tokio::time::sleep_until(next_video.min(next_audio)).await;
        }
    })
}

async fn ssrc_of(t: &TrackLocalStaticRTP) -> u32 {
    use webrtc::media_stream::Track;
    t.ssrcs().await[0]
}

/// Waits until `cond` holds, up to `secs` seconds.
pub async fn wait_for(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

/// Sends a PLI for every video track `peer` receives, as a browser does on frame loss.
pub async fn send_pli(peer: &Peer) -> usize {
    use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
    let tracks = peer.received.remote.lock().unwrap().clone();
    let mut n = 0;
    for t in tracks {
        if t.kind().await != RtpCodecKind::Video {
            continue;
        }
        for ssrc in t.ssrcs().await {
            let pli = PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc: ssrc,
            };
            if t.write_rtcp(vec![Box::new(pli)]).await.is_ok() {
                n += 1;
            }
        }
    }
    n
}
