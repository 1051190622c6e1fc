//! The SFU: rooms of participants, each with one peer connection to the SFU. A publisher's
//! tracks are forwarded to every other participant of its room through per-subscriber local
//! tracks (own SSRC, payload type set from the negotiated parameters) fed by one bounded
//! queue per subscriber, so a slow subscriber loses its own packets and nobody else's.
//!
//! Negotiation: the client offers first (`handle_offer`); afterwards only the SFU offers,
//! whenever the tracks a participant should receive change (`SignalOut::Offer`, answered by
//! `handle_answer`).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters,
    RTCRtpEncodingParameters, RtpCodecKind,
};
use serde::Serialize;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    configure_nack, configure_rtcp_reports, MediaEngine, PeerConnection, PeerConnectionBuilder,
    PeerConnectionEventHandler, RTCConfigurationBuilder, RTCIceCandidateInit, RTCIceCandidateType,
    RTCIceServer, RTCPeerConnectionIceEvent, RTCPeerConnectionState, RTCSessionDescription,
    SettingEngineBuilder,
};
use webrtc::rtp_transceiver::RtpSender;

use crate::keyframe::{KeyframeCallback, KeyframeRequests};
use crate::record::{RecorderHandle, Recording};
use crate::signal::{IceCandidate, SignalIn, SignalOut};
use crate::{MediaConfig, MediaError, MediaKind};

/// Payload type the SFU uses for VP8 in its own offers.
pub const VP8_PAYLOAD_TYPE: u8 = 96;
/// Payload type the SFU uses for Opus in its own offers.
pub const OPUS_PAYLOAD_TYPE: u8 = 111;
const SIGNAL_QUEUE: usize = 256;
const KEYFRAME_MIN_INTERVAL: Duration = Duration::from_millis(250);

/// What a participant may do in its room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Publishes audio and video and receives everyone else's (an expert in a committee
    /// room, the host of an opening hall).
    Publisher,
    /// Receive-only (a supervisor, a supplier watching the opening): shown as watching.
    Subscriber,
}

/// The codecs the SFU forwards: VP8 and Opus, nothing else, so the payload types of its
/// offers are known.
pub fn media_engine() -> Result<MediaEngine, MediaError> {
    let mut me = MediaEngine::default();
    let video_fb = [("nack", ""), ("nack", "pli"), ("ccm", "fir")]
        .into_iter()
        .map(|(typ, parameter)| RTCPFeedback {
            typ: typ.into(),
            parameter: parameter.into(),
        })
        .collect();
    me.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: vp8_codec(video_fb),
            payload_type: VP8_PAYLOAD_TYPE,
        },
        RtpCodecKind::Video,
    )
    .map_err(internal)?;
    me.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: opus_codec(),
            payload_type: OPUS_PAYLOAD_TYPE,
        },
        RtpCodecKind::Audio,
    )
    .map_err(internal)?;
    Ok(me)
}

fn vp8_codec(rtcp_feedback: Vec<RTCPFeedback>) -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "video/VP8".into(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback,
    }
}

fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "audio/opus".into(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".into(),
        rtcp_feedback: vec![],
    }
}

/// The interceptors of every SFU connection: NACK, RTCP reports, and the keyframe-request
/// watcher (called with the SSRC a peer wants a keyframe for). Test peers use it too.
pub fn interceptors(me: &mut MediaEngine, on_keyframe: Option<KeyframeCallback>) -> Registry {
    let mut r = configure_rtcp_reports(configure_nack(Registry::new(), me));
    if let Some(cb) = on_keyframe {
        r = r.with(KeyframeRequests::slot(), KeyframeRequests::new(cb));
    }
    r
}

fn internal(e: impl std::fmt::Display) -> MediaError {
    MediaError::Internal(e.to_string())
}

fn kind_of(mime: &str) -> Option<MediaKind> {
    match mime.to_ascii_lowercase().as_str() {
        "video/vp8" => Some(MediaKind::Video),
        "audio/opus" => Some(MediaKind::Audio),
        _ => None,
    }
}

/// A room as the hub shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct RoomInfo {
    pub room: String,
    pub participants: Vec<ParticipantInfo>,
}

/// One participant of a [`RoomInfo`].
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ParticipantInfo {
    pub id: String,
    pub role: Role,
    /// Tracks this participant publishes.
    pub publishing: Vec<TrackInfo>,
    /// Receive-only: watching, not publishing (supervisors).
    pub watching: bool,
    /// `new`, `connecting`, `connected`, `disconnected`, `failed` or `closed`.
    pub connection: String,
    /// Packets forwarded to this participant.
    pub forwarded: u64,
    /// Packets dropped for this participant because its queue was full.
    pub dropped: u64,
}

/// One published track of a [`ParticipantInfo`].
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct TrackInfo {
    pub track_id: String,
    pub kind: MediaKind,
    /// RTP packets received from the publisher.
    pub packets: u64,
    /// Participants this track is being forwarded to.
    pub subscribers: usize,
    /// Keyframe requests sent to the publisher.
    pub keyframe_requests: u64,
}

/// The SFU. Cheap to clone; all clones share the rooms.
#[derive(Clone)]
pub struct Sfu {
    inner: Arc<SfuInner>,
}

struct SfuInner {
    config: MediaConfig,
    rooms: Mutex<HashMap<String, Arc<Room>>>,
    ports_in_use: Mutex<HashSet<u16>>,
    port_cursor: AtomicU32,
    runtime: Option<tokio::runtime::Handle>,
    /// The last join's number ([`Session`]).
    joins: AtomicU64,
}

/// One join of a participant: joining again under the same id replaces the earlier
/// session, and only the session the SFU holds may take the participant out
/// ([`Sfu::leave_session`]), so that an earlier one ending late (a second tab closed, a
/// reconnection elsewhere noticed late) leaves the later one in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session(u64);

/// A participant's place in a room ([`Sfu::join`]): the SFU's messages for it, and which
/// of its sessions this is.
#[derive(Debug)]
pub struct Joined {
    /// Answer the SFU's offers, send its candidates; poll from the task that calls
    /// [`Sfu::handle_offer`].
    pub signals: mpsc::Receiver<SignalOut>,
    pub session: Session,
}

struct Room {
    id: String,
    participants: Mutex<HashMap<String, Arc<Participant>>>,
    tracks: Mutex<Vec<Arc<PublishedTrack>>>,
    recordings: Mutex<Vec<Recording>>,
}

#[derive(Default)]
struct Negotiation {
    /// The client's first offer has been answered.
    answered: bool,
    /// An offer of the SFU awaits the client's answer.
    awaiting_answer: bool,
}

struct Participant {
    id: String,
    session: Session,
    role: Role,
    room: Weak<Room>,
    sfu: Weak<SfuInner>,
    pc: Arc<dyn PeerConnection>,
    port: u16,
    signal_tx: mpsc::Sender<SignalOut>,
    neg: tokio::sync::Mutex<Negotiation>,
    wake: Arc<Notify>,
    /// Tracks forwarded to this participant, by source key.
    outs: Mutex<HashMap<String, Arc<OutTrack>>>,
    queue_tx: mpsc::Sender<Fwd>,
    forwarded: AtomicU64,
    dropped: Arc<AtomicU64>,
    state: AtomicU8,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// A track of a publisher as the SFU receives it.
struct PublishedTrack {
    key: String,
    publisher: String,
    track_id: String,
    kind: MediaKind,
    media_ssrc: u32,
    remote: Arc<dyn TrackRemote>,
    sinks: RwLock<Arc<Vec<Sink>>>,
    recorder: Mutex<Option<RecorderHandle>>,
    last_keyframe_request: Mutex<Option<Instant>>,
    packets: AtomicU64,
    keyframe_requests: AtomicU64,
}

/// One subscriber's copy of a published track.
#[derive(Clone)]
struct Sink {
    subscriber: String,
    out: Arc<OutTrack>,
    queue: mpsc::Sender<Fwd>,
    dropped: Arc<AtomicU64>,
}

/// The local track that carries a published track to one subscriber.
struct OutTrack {
    source: Weak<PublishedTrack>,
    ssrc: u32,
    payload_type: AtomicU8,
    active: AtomicBool,
    track: Arc<TrackLocalStaticRTP>,
    sender: Mutex<Option<Arc<dyn RtpSender>>>,
}

struct Fwd {
    out: Arc<OutTrack>,
    pkt: rtp::Packet,
}

fn state_code(s: RTCPeerConnectionState) -> u8 {
    match s {
        RTCPeerConnectionState::New => 0,
        RTCPeerConnectionState::Connecting => 1,
        RTCPeerConnectionState::Connected => 2,
        RTCPeerConnectionState::Disconnected => 3,
        RTCPeerConnectionState::Failed => 4,
        RTCPeerConnectionState::Closed => 5,
        _ => 0,
    }
}

fn state_name(c: u8) -> &'static str {
    [
        "new",
        "connecting",
        "connected",
        "disconnected",
        "failed",
        "closed",
    ]
    .get(c as usize)
    .copied()
    .unwrap_or("new")
}

impl Sfu {
    /// An SFU whose connections run on the caller's runtime.
    pub fn new(config: MediaConfig) -> Sfu {
        Sfu::build(config, None)
    }

    /// An SFU whose connections (drivers, sockets, forwarding tasks) all run on `runtime`,
    /// e.g. a runtime of its own so media never competes with the HTTP and hub tasks.
    pub fn new_on(config: MediaConfig, runtime: tokio::runtime::Handle) -> Sfu {
        Sfu::build(config, Some(runtime))
    }

    fn build(config: MediaConfig, runtime: Option<tokio::runtime::Handle>) -> Sfu {
        Sfu {
            inner: Arc::new(SfuInner {
                config,
                rooms: Mutex::new(HashMap::new()),
                ports_in_use: Mutex::new(HashSet::new()),
                port_cursor: AtomicU32::new(0),
                joins: AtomicU64::new(0),
                runtime,
            }),
        }
    }

    pub fn config(&self) -> &MediaConfig {
        &self.inner.config
    }

    /// Adds `participant` to `room` (made on first join) and opens its peer connection.
    /// Joining again under the same id replaces the earlier session (a reconnect). Returns
    /// the participant's outgoing signalling: answer the SFU's offers, send its candidates.
    /// Poll it from the task that calls [`Sfu::handle_offer`], so the client gets the
    /// answer before the SFU's candidates and offers.
    #[tracing::instrument(skip(self), err)]
    pub async fn join(
        &self,
        room: &str,
        participant: &str,
        role: Role,
    ) -> Result<Joined, MediaError> {
        match &self.inner.runtime {
            Some(rt) => {
                let (this, room, participant) =
                    (self.clone(), room.to_owned(), participant.to_owned());
                rt.spawn(async move { this.join_here(&room, &participant, role).await })
                    .await
                    .map_err(internal)?
            }
            None => self.join_here(room, participant, role).await,
        }
    }

    async fn join_here(
        &self,
        room: &str,
        participant: &str,
        role: Role,
    ) -> Result<Joined, MediaError> {
        let room_arc = {
            let mut rooms = self.inner.rooms.lock().expect("rooms lock");
            rooms
                .entry(room.to_owned())
                .or_insert_with(|| {
                    Arc::new(Room {
                        id: room.to_owned(),
                        participants: Mutex::new(HashMap::new()),
                        tracks: Mutex::new(Vec::new()),
                        recordings: Mutex::new(Vec::new()),
                    })
                })
                .clone()
        };
        let previous = room_arc
            .participants
            .lock()
            .expect("participants lock")
            .get(participant)
            .cloned();
        if previous.is_some() {
            self.remove(&room_arc, participant).await;
        }
        let max = self.inner.config.max_participants_per_room;
        if room_arc
            .participants
            .lock()
            .expect("participants lock")
            .len()
            >= max
        {
            return Err(MediaError::RoomFull {
                room: room.to_owned(),
                max,
            });
        }

        let (signal_tx, signal_rx) = mpsc::channel(SIGNAL_QUEUE);
        let (kf_tx, kf_rx) = mpsc::channel::<u32>(64);
        let slot: Arc<OnceLock<Weak<Participant>>> = Arc::new(OnceLock::new());
        let handler = Arc::new(Handler {
            participant: slot.clone(),
            signal_tx: signal_tx.clone(),
        });
        let on_keyframe: KeyframeCallback = Arc::new(move |ssrc| {
            let _ = kf_tx.try_send(ssrc);
        });
        let (pc, port) = self.build_pc(handler, on_keyframe).await?;

        let (queue_tx, queue_rx) = mpsc::channel(self.inner.config.subscriber_queue.max(1));
        let session = Session(self.inner.joins.fetch_add(1, Ordering::Relaxed) + 1);
        let p = Arc::new(Participant {
            id: participant.to_owned(),
            session,
            role,
            room: Arc::downgrade(&room_arc),
            sfu: Arc::downgrade(&self.inner),
            pc,
            port,
            signal_tx,
            neg: tokio::sync::Mutex::new(Negotiation::default()),
            wake: Arc::new(Notify::new()),
            outs: Mutex::new(HashMap::new()),
            queue_tx,
            forwarded: AtomicU64::new(0),
            dropped: Arc::new(AtomicU64::new(0)),
            state: AtomicU8::new(0),
            tasks: Mutex::new(Vec::new()),
        });
        let _ = slot.set(Arc::downgrade(&p));
        {
            let w = Arc::downgrade(&p);
            let writer = tokio::spawn(write_loop(w.clone(), queue_rx));
            let negotiator = tokio::spawn(negotiate_loop(w.clone(), p.wake.clone()));
            let feedback = tokio::spawn(keyframe_loop(w, kf_rx));
            p.tasks
                .lock()
                .expect("tasks lock")
                .extend([writer, negotiator, feedback]);
        }
        room_arc
            .participants
            .lock()
            .expect("participants lock")
            .insert(participant.to_owned(), p);
        Ok(Joined {
            signals: signal_rx,
            session,
        })
    }

    async fn build_pc(
        &self,
        handler: Arc<Handler>,
        on_keyframe: KeyframeCallback,
    ) -> Result<(Arc<dyn PeerConnection>, u16), MediaError> {
        let cfg = &self.inner.config;
        let (lo, hi) = (cfg.udp_port_min, cfg.udp_port_max.max(cfg.udp_port_min));
        let span = u32::from(hi - lo) + 1;
        let mut last_err = String::from("range empty");
        for _ in 0..span {
            let port = if lo == 0 {
                0
            } else {
                let off = self.inner.port_cursor.fetch_add(1, Ordering::Relaxed) % span;
                let port = lo + off as u16;
                if !self
                    .inner
                    .ports_in_use
                    .lock()
                    .expect("ports lock")
                    .insert(port)
                {
                    continue;
                }
                port
            };
            let mut me = media_engine()?;
            let registry = interceptors(&mut me, Some(on_keyframe.clone()));
            let ice_servers = cfg
                .ice_servers
                .iter()
                .map(|s| RTCIceServer {
                    urls: s.urls.clone(),
                    username: s.username.clone(),
                    credential: s.credential.clone(),
                })
                .collect();
            let mut se = SettingEngineBuilder::new();
            if !cfg.nat_1to1_ips.is_empty() {
                se = se.with_nat_1to1_ips(cfg.nat_1to1_ips.clone(), RTCIceCandidateType::Host);
            }
            if cfg.bind_ip.is_loopback() {
                se = se.with_include_loopback_candidate(true);
            }
            let built = PeerConnectionBuilder::new()
                .with_configuration(
                    RTCConfigurationBuilder::new()
                        .with_ice_servers(ice_servers)
                        .build(),
                )
                .with_media_engine(me)
                .with_interceptor_registry(registry)
                .with_setting_engine(se.build())
                .with_handler(handler.clone() as Arc<dyn PeerConnectionEventHandler>)
                .with_udp_addrs(vec![SocketAddr::new(cfg.bind_ip, port)])
                .build()
                .await;
            match built {
                Ok(pc) => return Ok((Arc::new(pc), port)),
                Err(e) => {
                    last_err = e.to_string();
                    if port != 0 {
                        self.inner.release_port(port);
                    }
                    if lo == 0 {
                        break;
                    }
                }
            }
        }
        if lo == 0 {
            Err(internal(last_err))
        } else {
            Err(MediaError::NoPort(format!("{lo}-{hi}: {last_err}")))
        }
    }

    fn participant(&self, room: &str, participant: &str) -> Result<Arc<Participant>, MediaError> {
        let not_member = || MediaError::NotAMember {
            room: room.to_owned(),
            participant: participant.to_owned(),
        };
        let r = self
            .inner
            .rooms
            .lock()
            .expect("rooms lock")
            .get(room)
            .cloned()
            .ok_or_else(not_member)?;
        let p = r
            .participants
            .lock()
            .expect("participants lock")
            .get(participant)
            .cloned()
            .ok_or_else(not_member)?;
        Ok(p)
    }

    /// Answers the client's offer. A receive-only participant's offer must not send media.
    #[tracing::instrument(skip(self, sdp), err)]
    pub async fn handle_offer(
        &self,
        room: &str,
        participant: &str,
        sdp: String,
    ) -> Result<String, MediaError> {
        let p = self.participant(room, participant)?;
        let summary = crate::sdp::summarise(&sdp)?;
        if p.role == Role::Subscriber && summary.sending > 0 {
            return Err(MediaError::ReceiveOnly(participant.to_owned()));
        }
        if summary.media > 0 && !summary.has_supported_codec {
            return Err(MediaError::UnsupportedCodec(
                "neither VP8 nor Opus offered".into(),
            ));
        }
        let mut neg = p.neg.lock().await;
        if neg.awaiting_answer {
            return Err(MediaError::WrongState(
                "an offer of the SFU awaits the client's answer".into(),
            ));
        }
        let desc = RTCSessionDescription::offer(sdp)
            .map_err(|e| MediaError::MalformedSdp(e.to_string()))?;
        p.pc.set_remote_description(desc)
            .await
            .map_err(|e| MediaError::MalformedSdp(e.to_string()))?;
        let answer = p.pc.create_answer(None).await.map_err(internal)?;
        p.pc.set_local_description(answer).await.map_err(internal)?;
        let sdp =
            p.pc.local_description()
                .await
                .ok_or_else(|| internal("no local description"))?
                .sdp;
        neg.answered = true;
        drop(neg);
        p.wake.notify_one();
        Ok(sdp)
    }

    /// Takes the client's answer to the SFU's last offer.
    #[tracing::instrument(skip(self, sdp), err)]
    pub async fn handle_answer(
        &self,
        room: &str,
        participant: &str,
        sdp: String,
    ) -> Result<(), MediaError> {
        let p = self.participant(room, participant)?;
        crate::sdp::summarise(&sdp)?;
        let mut neg = p.neg.lock().await;
        if !neg.awaiting_answer {
            return Err(MediaError::WrongState(
                "no offer of the SFU is pending".into(),
            ));
        }
        let desc = RTCSessionDescription::answer(sdp)
            .map_err(|e| MediaError::MalformedSdp(e.to_string()))?;
        p.pc.set_remote_description(desc)
            .await
            .map_err(|e| MediaError::MalformedSdp(e.to_string()))?;
        neg.awaiting_answer = false;
        p.activate_outs().await;
        drop(neg);
        p.wake.notify_one();
        Ok(())
    }

    /// Adds a candidate the client trickled.
    pub async fn add_candidate(
        &self,
        room: &str,
        participant: &str,
        candidate: IceCandidate,
    ) -> Result<(), MediaError> {
        let p = self.participant(room, participant)?;
        if candidate.candidate.is_empty() {
            return Ok(()); // end of the client's gathering
        }
        p.pc.add_ice_candidate(RTCIceCandidateInit {
            candidate: candidate.candidate,
            sdp_mid: candidate.sdp_mid,
            sdp_mline_index: candidate.sdp_mline_index,
            username_fragment: candidate.username_fragment,
            ..Default::default()
        })
        .await
        .map_err(|e| MediaError::BadCandidate(e.to_string()))
    }

    /// Asks every publisher whose video `participant` receives for a keyframe.
    pub async fn request_keyframes(&self, room: &str, participant: &str) -> Result<(), MediaError> {
        let p = self.participant(room, participant)?;
        let sources: Vec<_> = p
            .outs
            .lock()
            .expect("outs lock")
            .values()
            .filter_map(|o| o.source.upgrade())
            .collect();
        for s in sources {
            s.request_keyframe(true).await;
        }
        Ok(())
    }

    /// One entry point for a client's signalling message: an offer gives `Some(answer)`.
    pub async fn signal(
        &self,
        room: &str,
        participant: &str,
        msg: SignalIn,
    ) -> Result<Option<SignalOut>, MediaError> {
        match msg {
            SignalIn::Offer { sdp } => Ok(Some(SignalOut::Answer {
                sdp: self.handle_offer(room, participant, sdp).await?,
            })),
            SignalIn::Answer { sdp } => self
                .handle_answer(room, participant, sdp)
                .await
                .map(|_| None),
            SignalIn::Candidate { candidate } => self
                .add_candidate(room, participant, candidate)
                .await
                .map(|_| None),
            SignalIn::KeyframeRequest => self
                .request_keyframes(room, participant)
                .await
                .map(|_| None),
        }
    }

    /// Removes `participant` from `room`: closes its connection, stops forwarding its
    /// tracks (finishing their recordings) and renegotiates the others.
    #[tracing::instrument(skip(self), err)]
    pub async fn leave(&self, room: &str, participant: &str) -> Result<(), MediaError> {
        let p = self.participant(room, participant)?;
        if let Some(r) = p.room.upgrade() {
            self.remove(&r, participant).await;
        }
        Ok(())
    }

    /// Ends `session` of `participant`: leaves `room` as [`Sfu::leave`] does if that is the
    /// session the SFU holds; whether it was (not when a later join replaced it, or the
    /// participant is gone).
    pub async fn leave_session(&self, room: &str, participant: &str, session: Session) -> bool {
        let Ok(p) = self.participant(room, participant) else {
            return false;
        };
        match p.room.upgrade() {
            // Compared and taken out under the room's lock: a join replacing the session
            // in between is not taken out instead.
            Some(r) => self.remove_if(&r, participant, Some(session)).await,
            None => false,
        }
    }

    async fn remove(&self, room: &Arc<Room>, participant: &str) {
        self.remove_if(room, participant, None).await;
    }

    /// Takes `participant` out of `room` (only while its session is `session`, if given):
    /// whether it did.
    async fn remove_if(
        &self,
        room: &Arc<Room>,
        participant: &str,
        session: Option<Session>,
    ) -> bool {
        let Some(p) = ({
            let mut participants = room.participants.lock().expect("participants lock");
            let holds = participants
                .get(participant)
                .is_some_and(|p| session.is_none_or(|s| p.session == s));
            if holds {
                participants.remove(participant)
            } else {
                None
            }
        }) else {
            return false;
        };
        for t in p.tasks.lock().expect("tasks lock").drain(..) {
            t.abort();
        }
        let outs: Vec<_> = p.outs.lock().expect("outs lock").drain().collect();
        for (_, out) in outs {
            if let Some(src) = out.source.upgrade() {
                src.remove_sink(&p.id);
            }
        }
        let gone: Vec<_> = {
            let mut tracks = room.tracks.lock().expect("tracks lock");
            let (gone, kept) = tracks.drain(..).partition(|t| t.publisher == p.id);
            *tracks = kept;
            gone
        };
        for t in &gone {
            t.sinks
                .write()
                .expect("sinks lock")
                .clone_from(&Arc::new(Vec::new()));
        }
        if let Err(e) = p.pc.close().await {
            tracing::debug!(error = %e, "closing a peer connection");
        }
        self.inner.release_port(p.port);
        for t in gone {
            let rec = t.recorder.lock().expect("recorder lock").take();
            if let Some(rec) = rec {
                match rec.finish().await {
                    Ok(r) => room.recordings.lock().expect("recordings lock").push(r),
                    Err(e) => tracing::warn!(error = %e, "recording not kept"),
                }
            }
        }
        room.wake_all();
        true
    }

    /// Closes a room: everyone leaves; returns every recording the room made.
    pub async fn close_room(&self, room: &str) -> Vec<Recording> {
        let Some(r) = self
            .inner
            .rooms
            .lock()
            .expect("rooms lock")
            .get(room)
            .cloned()
        else {
            return Vec::new();
        };
        let ids: Vec<String> = r
            .participants
            .lock()
            .expect("participants lock")
            .keys()
            .cloned()
            .collect();
        for id in ids {
            self.remove(&r, &id).await;
        }
        self.inner.rooms.lock().expect("rooms lock").remove(room);
        let recs = std::mem::take(&mut *r.recordings.lock().expect("recordings lock"));
        recs
    }

    /// Recordings finished so far in `room` (tracks whose publisher left).
    pub fn recordings(&self, room: &str) -> Vec<Recording> {
        self.inner
            .rooms
            .lock()
            .expect("rooms lock")
            .get(room)
            .map(|r| r.recordings.lock().expect("recordings lock").clone())
            .unwrap_or_default()
    }

    /// Who is in `room`, publishing what, watching, connected.
    pub fn room(&self, room: &str) -> Option<RoomInfo> {
        let r = self
            .inner
            .rooms
            .lock()
            .expect("rooms lock")
            .get(room)
            .cloned()?;
        Some(r.info())
    }

    /// Every room.
    pub fn rooms(&self) -> Vec<RoomInfo> {
        let rooms: Vec<_> = self
            .inner
            .rooms
            .lock()
            .expect("rooms lock")
            .values()
            .cloned()
            .collect();
        let mut v: Vec<_> = rooms.iter().map(|r| r.info()).collect();
        v.sort_by(|a, b| a.room.cmp(&b.room));
        v
    }
}

impl SfuInner {
    fn release_port(&self, port: u16) {
        if port != 0 {
            self.ports_in_use.lock().expect("ports lock").remove(&port);
        }
    }
}

impl Room {
    fn wake_all(&self) {
        for p in self
            .participants
            .lock()
            .expect("participants lock")
            .values()
        {
            p.wake.notify_one();
        }
    }

    fn info(&self) -> RoomInfo {
        let tracks = self.tracks.lock().expect("tracks lock").clone();
        let mut participants: Vec<ParticipantInfo> = self
            .participants
            .lock()
            .expect("participants lock")
            .values()
            .map(|p| ParticipantInfo {
                id: p.id.clone(),
                role: p.role,
                publishing: tracks
                    .iter()
                    .filter(|t| t.publisher == p.id)
                    .map(|t| TrackInfo {
                        track_id: t.track_id.clone(),
                        kind: t.kind,
                        packets: t.packets.load(Ordering::Relaxed),
                        subscribers: t.sinks.read().expect("sinks lock").len(),
                        keyframe_requests: t.keyframe_requests.load(Ordering::Relaxed),
                    })
                    .collect(),
                watching: p.role == Role::Subscriber,
                connection: state_name(p.state.load(Ordering::Relaxed)).to_owned(),
                forwarded: p.forwarded.load(Ordering::Relaxed),
                dropped: p.dropped.load(Ordering::Relaxed),
            })
            .collect();
        participants.sort_by(|a, b| a.id.cmp(&b.id));
        RoomInfo {
            room: self.id.clone(),
            participants,
        }
    }
}

impl Participant {
    fn send(&self, msg: SignalOut) {
        if self.signal_tx.try_send(msg).is_err() {
            tracing::warn!(participant = %self.id, "signalling queue full or closed; message lost");
        }
    }

    /// Brings the set of forwarded tracks in line with the room's published tracks, and
    /// offers the change to the client.
    async fn renegotiate(self: &Arc<Self>) -> Result<(), MediaError> {
        let Some(room) = self.room.upgrade() else {
            return Ok(());
        };
        let mut neg = self.neg.lock().await;
        if !neg.answered || neg.awaiting_answer {
            return Ok(());
        }
        let wanted: Vec<Arc<PublishedTrack>> = room
            .tracks
            .lock()
            .expect("tracks lock")
            .iter()
            .filter(|t| t.publisher != self.id)
            .cloned()
            .collect();
        let wanted_keys: HashSet<&str> = wanted.iter().map(|t| t.key.as_str()).collect();
        let mut changed = false;

        let stale: Vec<(String, Arc<OutTrack>)> = {
            let outs = self.outs.lock().expect("outs lock");
            outs.iter()
                .filter(|(k, _)| !wanted_keys.contains(k.as_str()))
                .map(|(k, o)| (k.clone(), o.clone()))
                .collect()
        };
        for (key, out) in stale {
            self.outs.lock().expect("outs lock").remove(&key);
            if let Some(src) = out.source.upgrade() {
                src.remove_sink(&self.id);
            }
            out.active.store(false, Ordering::Relaxed);
            let sender = out.sender.lock().expect("sender lock").take();
            if let Some(sender) = sender {
                if let Err(e) = self.pc.remove_track(&sender).await {
                    tracing::debug!(error = %e, "remove_track");
                }
            }
            changed = true;
        }

        for src in wanted {
            if self.outs.lock().expect("outs lock").contains_key(&src.key) {
                continue;
            }
            let ssrc = loop {
                let s: u32 = rand::random();
                if s != 0 {
                    break s;
                }
            };
            let (kind, codec) = match src.kind {
                MediaKind::Video => (RtpCodecKind::Video, vp8_codec(vec![])),
                MediaKind::Audio => (RtpCodecKind::Audio, opus_codec()),
            };
            let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
                src.publisher.clone(),
                format!("{}-{}", src.publisher, src.track_id),
                src.track_id.clone(),
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
            )));
            let sender = self
                .pc
                .add_track(track.clone() as Arc<dyn TrackLocal>)
                .await
                .map_err(internal)?;
            let out = Arc::new(OutTrack {
                source: Arc::downgrade(&src),
                ssrc,
                payload_type: AtomicU8::new(match src.kind {
                    MediaKind::Video => VP8_PAYLOAD_TYPE,
                    MediaKind::Audio => OPUS_PAYLOAD_TYPE,
                }),
                active: AtomicBool::new(false),
                track,
                sender: Mutex::new(Some(sender)),
            });
            self.outs
                .lock()
                .expect("outs lock")
                .insert(src.key.clone(), out);
            changed = true;
        }
        if !changed {
            return Ok(());
        }
        let offer = self.pc.create_offer(None).await.map_err(internal)?;
        self.pc
            .set_local_description(offer)
            .await
            .map_err(internal)?;
        let sdp = self
            .pc
            .local_description()
            .await
            .ok_or_else(|| internal("no local description"))?
            .sdp;
        neg.awaiting_answer = true;
        self.send(SignalOut::Offer { sdp });
        Ok(())
    }

    /// After an answer: new outgoing tracks take the negotiated payload type, start
    /// receiving packets, and ask their publisher for a keyframe.
    async fn activate_outs(self: &Arc<Self>) {
        let pending: Vec<Arc<OutTrack>> = self
            .outs
            .lock()
            .expect("outs lock")
            .values()
            .filter(|o| !o.active.load(Ordering::Relaxed))
            .cloned()
            .collect();
        for out in pending {
            let sender = out.sender.lock().expect("sender lock").clone();
            if let Some(sender) = sender {
                if let Ok(params) = sender.get_parameters().await {
                    if let Some(c) = params.rtp_parameters.codecs.first() {
                        out.payload_type.store(c.payload_type, Ordering::Relaxed);
                    }
                }
            }
            out.active.store(true, Ordering::Relaxed);
            if let Some(src) = out.source.upgrade() {
                src.add_sink(Sink {
                    subscriber: self.id.clone(),
                    out: out.clone(),
                    queue: self.queue_tx.clone(),
                    dropped: self.dropped.clone(),
                });
                src.request_keyframe(true).await;
            }
        }
    }

    async fn publish(self: &Arc<Self>, remote: Arc<dyn TrackRemote>) {
        if self.role == Role::Subscriber {
            let e = MediaError::ReceiveOnly(self.id.clone());
            tracing::warn!(participant = %self.id, "track from a receive-only participant refused");
            let b = e.body();
            self.send(SignalOut::Error {
                code: b.code.into(),
                message: b.message,
                message_en: b.message_en,
            });
            return;
        }
        let Some(room) = self.room.upgrade() else {
            return;
        };
        let Some(&ssrc) = remote.ssrcs().await.first() else {
            return;
        };
        let Some(codec) = remote.codec(ssrc).await else {
            return;
        };
        let Some(kind) = kind_of(&codec.mime_type) else {
            tracing::warn!(mime = %codec.mime_type, "unsupported codec not forwarded");
            return;
        };
        let track_id = remote.track_id().await;
        let recorder = self.sfu.upgrade().and_then(|sfu| {
            let dir = sfu.config.recording_dir.as_ref()?;
            match RecorderHandle::start(dir, &room.id, &self.id, &track_id, kind) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::warn!(error = %e, "recording could not start");
                    None
                }
            }
        });
        let t = Arc::new(PublishedTrack {
            key: format!("{}/{}", self.id, track_id),
            publisher: self.id.clone(),
            track_id,
            kind,
            media_ssrc: ssrc,
            remote: remote.clone(),
            sinks: RwLock::new(Arc::new(Vec::new())),
            recorder: Mutex::new(recorder),
            last_keyframe_request: Mutex::new(None),
            packets: AtomicU64::new(0),
            keyframe_requests: AtomicU64::new(0),
        });
        room.tracks.lock().expect("tracks lock").push(t.clone());
        let reader = tokio::spawn(read_loop(t.clone()));
        self.tasks.lock().expect("tasks lock").push(reader);
        t.request_keyframe(true).await;
        room.wake_all();
    }
}

impl PublishedTrack {
    fn add_sink(&self, sink: Sink) {
        let mut g = self.sinks.write().expect("sinks lock");
        let mut v: Vec<Sink> = g
            .iter()
            .filter(|s| s.subscriber != sink.subscriber || !Arc::ptr_eq(&s.out, &sink.out))
            .cloned()
            .collect();
        v.push(sink);
        *g = Arc::new(v);
    }

    fn remove_sink(&self, subscriber: &str) {
        let mut g = self.sinks.write().expect("sinks lock");
        let v: Vec<Sink> = g
            .iter()
            .filter(|s| s.subscriber != subscriber)
            .cloned()
            .collect();
        *g = Arc::new(v);
    }

    /// Hands one packet to the recorder and to every subscriber's queue, never waiting.
    fn fan_out(&self, pkt: rtp::Packet) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        if let Some(r) = self.recorder.lock().expect("recorder lock").as_ref() {
            r.push(&pkt);
        }
        let sinks = self.sinks.read().expect("sinks lock").clone();
        for s in sinks.iter() {
            let f = Fwd {
                out: s.out.clone(),
                pkt: pkt.clone(),
            };
            if let Err(mpsc::error::TrySendError::Full(_)) = s.queue.try_send(f) {
                s.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Sends the publisher a PLI (video only), at most once per 250 ms unless `force`.
    async fn request_keyframe(&self, force: bool) {
        if self.kind != MediaKind::Video {
            return;
        }
        {
            let mut last = self.last_keyframe_request.lock().expect("pli lock");
            let now = Instant::now();
            if !force && last.is_some_and(|l| now.duration_since(l) < KEYFRAME_MIN_INTERVAL) {
                return;
            }
            *last = Some(now);
        }
        self.keyframe_requests.fetch_add(1, Ordering::Relaxed);
        let pli = PictureLossIndication {
            sender_ssrc: 0,
            media_ssrc: self.media_ssrc,
        };
        if let Err(e) = self.remote.write_rtcp(vec![Box::new(pli)]).await {
            tracing::debug!(error = %e, "PLI not sent");
        }
    }
}

async fn read_loop(t: Arc<PublishedTrack>) {
    while let Some(evt) = t.remote.poll().await {
        match evt {
            TrackRemoteEvent::OnRtpPacket(pkt) => t.fan_out(pkt),
            TrackRemoteEvent::OnEnded => break,
            _ => {}
        }
    }
}

/// The subscriber's single writer: rewrites SSRC and payload type, drops header
/// extensions (their ids were negotiated with the publisher, not with this subscriber).
async fn write_loop(p: Weak<Participant>, mut rx: mpsc::Receiver<Fwd>) {
    let mut batch = Vec::with_capacity(64);
    while rx.recv_many(&mut batch, 64).await > 0 {
        let mut sent = 0u64;
        for Fwd { out, mut pkt } in batch.drain(..) {
            if !out.active.load(Ordering::Relaxed) {
                continue;
            }
            pkt.header.ssrc = out.ssrc;
            pkt.header.payload_type = out.payload_type.load(Ordering::Relaxed);
            pkt.header.extension = false;
            pkt.header.extensions.clear();
            if out.track.write_rtp(pkt).await.is_ok() {
                sent += 1;
            }
        }
        match p.upgrade() {
            Some(p) => {
                p.forwarded.fetch_add(sent, Ordering::Relaxed);
            }
            None => return,
        }
    }
}

async fn negotiate_loop(p: Weak<Participant>, wake: Arc<Notify>) {
    loop {
        wake.notified().await;
        let Some(strong) = p.upgrade() else { return };
        if let Err(e) = strong.renegotiate().await {
            tracing::warn!(participant = %strong.id, error = %e, "renegotiation failed");
        }
    }
}

/// Keyframe requests from this participant, by the SSRC of one of its outgoing tracks,
/// relayed to that track's publisher.
async fn keyframe_loop(p: Weak<Participant>, mut rx: mpsc::Receiver<u32>) {
    while let Some(ssrc) = rx.recv().await {
        let Some(strong) = p.upgrade() else { return };
        let src = strong
            .outs
            .lock()
            .expect("outs lock")
            .values()
            .find(|o| o.ssrc == ssrc)
            .and_then(|o| o.source.upgrade());
        drop(strong);
        if let Some(src) = src {
            src.request_keyframe(false).await;
        }
    }
}

struct Handler {
    participant: Arc<OnceLock<Weak<Participant>>>,
    signal_tx: mpsc::Sender<SignalOut>,
}

impl Handler {
    fn participant(&self) -> Option<Arc<Participant>> {
        self.participant.get().and_then(Weak::upgrade)
    }
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        let Ok(c) = event.candidate.to_json() else {
            return;
        };
        let msg = SignalOut::Candidate {
            candidate: IceCandidate {
                candidate: c.candidate,
                sdp_mid: c.sdp_mid,
                sdp_mline_index: c.sdp_mline_index,
                username_fragment: c.username_fragment,
            },
        };
        if self.signal_tx.try_send(msg).is_err() {
            tracing::warn!("signalling queue full or closed; candidate lost");
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        if let Some(p) = self.participant() {
            p.state.store(state_code(state), Ordering::Relaxed);
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        if let Some(p) = self.participant() {
            p.publish(track).await;
        }
    }
}
