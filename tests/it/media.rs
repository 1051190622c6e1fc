//! The media plane on the hub: real WebRTC peers (ICE, DTLS, SRTP over loopback) signal over
//! the hub's WebSocket. The opening's host publishes VP8 and Opus; a supervisor and a bidder
//! receive; a supervisor cannot publish, a non-member and a malformed SDP are refused with
//! their codes; when the host leaves, the recordings are blobs listed in the ledger, and
//! they open with ffprobe.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use kaibiao_media::testing::{connect_with, start_sending, wait_for, Offer, Peer, Signalling};
use kaibiao_media::{IceCandidate, MediaError, SignalOut};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::common::{spawn_app, TestApp};
use crate::hub::connect;

/// One user's hub connection used for media: frames out, replies routed back.
pub(crate) struct HubMedia {
    room: String,
    pub(crate) out: mpsc::UnboundedSender<Value>,
    /// The reply awaited by `join` or `offer`: the frame itself (`media_joined`, an answer,
    /// or an error).
    pending: Arc<Mutex<Option<oneshot::Sender<Value>>>>,
    /// The room's media as last announced.
    pub(crate) room_info: Arc<Mutex<Value>>,
    pub(crate) errors: Arc<Mutex<Vec<String>>>,
}

impl HubMedia {
    /// Connects `user` to the hub and subscribes to the room (refused for non-members);
    /// returns the handle and the SFU's messages for it.
    async fn open(
        app: &TestApp,
        user: &str,
        room: &str,
    ) -> (Arc<HubMedia>, mpsc::Receiver<SignalOut>) {
        let ws = connect(app, user).await;
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<Value>();
        let (sig_tx, sig_rx) = mpsc::channel(256);
        let hub = Arc::new(HubMedia {
            room: room.to_string(),
            out,
            pending: Arc::default(),
            room_info: Arc::new(Mutex::new(Value::Null)),
            errors: Arc::default(),
        });
        tokio::spawn(async move {
            while let Some(v) = out_rx.recv().await {
                if sink
                    .send(Message::Text(v.to_string().into()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        let h = hub.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = stream.next().await {
                let Message::Text(t) = m else { continue };
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                let reply = |v: Value| {
                    if let Some(tx) = h.pending.lock().unwrap().take() {
                        let _ = tx.send(v);
                    }
                };
                match v["type"].as_str() {
                    Some("media_joined") | Some("subscribed") => reply(v),
                    Some("media_room") => *h.room_info.lock().unwrap() = v["info"].clone(),
                    Some("error") => {
                        h.errors
                            .lock()
                            .unwrap()
                            .push(v["code"].as_str().unwrap_or("").to_string());
                        reply(v);
                    }
                    Some("media") if v["signal"]["type"] == "answer" => reply(v),
                    Some("media") => {
                        let s: SignalOut = serde_json::from_value(v["signal"].clone()).unwrap();
                        let _ = sig_tx.send(s).await;
                    }
                    _ => {}
                }
            }
        });
        // In the hub room too, as a page is: the room's media is announced there.
        hub.request(json!({"type": "subscribe", "room": room, "since_seq": 0}))
            .await;
        (hub, sig_rx)
    }

    async fn request(&self, frame: Value) -> Value {
        let (tx, rx) = oneshot::channel();
        *self.pending.lock().unwrap() = Some(tx);
        self.out.send(frame).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), rx)
            .await
            .expect("a reply within 10 s")
            .unwrap()
    }

    /// Leaves the room's media; returns once the hub has done it (the connection answers
    /// the next frame after it).
    pub(crate) async fn leave(&self) {
        self.out
            .send(json!({"type": "media_leave", "room": self.room}))
            .unwrap();
        self.request(json!({"type": "subscribe", "room": self.room, "since_seq": 0}))
            .await;
    }

    async fn join(&self) -> Value {
        self.request(json!({"type": "media_join", "room": self.room}))
            .await
    }

    fn send(&self, signal: Value) {
        self.out
            .send(json!({"type": "media", "room": self.room, "signal": signal}))
            .unwrap();
    }
}

#[async_trait::async_trait]
impl Signalling for HubMedia {
    async fn offer(&self, sdp: String) -> Result<String, MediaError> {
        let r = self
            .request(json!({"type": "media", "room": self.room,
                            "signal": {"type": "offer", "sdp": sdp}}))
            .await;
        match r["signal"]["sdp"].as_str() {
            Some(answer) => Ok(answer.to_string()),
            None => Err(MediaError::Internal(
                r["code"].as_str().unwrap_or("").into(),
            )),
        }
    }
    async fn answer(&self, sdp: String) -> Result<(), MediaError> {
        self.send(json!({"type": "answer", "sdp": sdp}));
        Ok(())
    }
    async fn candidate(&self, candidate: IceCandidate) {
        self.send(json!({"type": "candidate", "candidate": candidate}));
    }
}

/// `user` joins the room's media over the hub and negotiates `offer`.
pub(crate) async fn peer(
    app: &TestApp,
    user: &str,
    room: &str,
    offer: Offer,
) -> (Arc<HubMedia>, Result<Peer, MediaError>, Value) {
    let (hub, signals) = HubMedia::open(app, user, room).await;
    let joined = hub.join().await;
    if joined["type"] != "media_joined" {
        return (hub, Err(MediaError::Internal("not joined".into())), joined);
    }
    let p = connect_with(user, offer, hub.clone(), signals).await;
    (hub, p, joined)
}

pub(crate) fn code_of(e: &MediaError) -> String {
    match e {
        MediaError::Internal(code) => code.clone(),
        other => other.code().to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_is_seen_and_heard_over_the_hub_and_the_recording_is_in_the_ledger() {
    let app = spawn_app().await;
    let tender = app.school_tender_id().await;
    let room = format!("opening:{tender}");
    // supplier1 bids (a member of the hall); supplier6 does not.
    crate::secrecy::bid(&app, "supplier1", &tender, true).await;

    // The host publishes; a supervisor and a bidder receive.
    let (host_hub, host, joined) = peer(&app, "agency", &room, Offer::Send).await;
    assert_eq!(joined["role"], "publisher", "{joined}");
    let host = host.unwrap();
    let sending = start_sending(&host, 30);
    let (finance_hub, finance, joined) = peer(&app, "finance", &room, Offer::Receive).await;
    assert_eq!(joined["role"], "subscriber");
    let finance = finance.unwrap();
    let (_s1_hub, bidder, _) = peer(&app, "supplier1", &room, Offer::Receive).await;
    let bidder = bidder.unwrap();
    for p in [&finance, &bidder] {
        let r = p.received.clone();
        assert!(
            wait_for(15, || r.video.load(Ordering::Relaxed) > 30
                && r.audio.load(Ordering::Relaxed) > 30)
            .await,
            "{} received video {} audio {}",
            p.id,
            r.video.load(Ordering::Relaxed),
            r.audio.load(Ordering::Relaxed)
        );
    }
    assert!(host.keyframe_requests.load(Ordering::Relaxed) >= 1);
    // The room shows the supervisor watching.
    let info = finance_hub.room_info.lock().unwrap().clone();
    let finance_id = app.user_id("finance").await;
    let me = info["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == finance_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(me["watching"], true, "{info}");

    // Refusals. A supervisor may not publish.
    let (_h, sup_send, _) = peer(&app, "oversight", &room, Offer::Send).await;
    assert_eq!(code_of(&sup_send.err().unwrap()), "RECEIVE_ONLY");
    // A supplier without a bid is no member: refused at the join, and its offer too.
    let (outsider, signals) = HubMedia::open(&app, "supplier6", &room).await;
    assert_eq!(outsider.join().await["code"], "FORBIDDEN");
    let r = connect_with("supplier6", Offer::Receive, outsider.clone(), signals).await;
    assert_eq!(code_of(&r.err().unwrap()), "NOT_A_MEMBER");
    // A malformed SDP.
    let (bad, _signals) = HubMedia::open(&app, "purchaser", &room).await;
    assert_eq!(bad.join().await["type"], "media_joined");
    let r = bad
        .request(json!({"type": "media", "room": room,
                        "signal": {"type": "offer", "sdp": "v=0\r\nthis is not sdp"}}))
        .await;
    assert_eq!(r["code"], "MALFORMED_SDP", "{r}");

    // The host leaves: its two tracks' recordings are stored and listed in the ledger.
    sending.abort();
    host_hub.leave().await;
    drop(host);
    let mut events = Vec::new();
    for _ in 0..100 {
        let (_, ledger) = app
            .call(
                reqwest::Method::GET,
                &format!("/api/tenders/{tender}/ledger"),
                None,
            )
            .await;
        events = ledger["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "recording_stored")
            .cloned()
            .collect();
        if events.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(events.len(), 2, "a video and an audio recording");
    for e in &events {
        let sha = e["body"]["sha256"].as_str().unwrap();
        let path = app
            .dir
            .path()
            .join("blobs/sha256")
            .join(&sha[..2])
            .join(sha);
        let (hash, size) = kaibiao_media::hash_file(&path).unwrap();
        assert_eq!(
            (hash.as_str(), size),
            (sha, e["body"]["bytes"].as_u64().unwrap())
        );
        assert!(e["body"]["packets"].as_u64().unwrap() > 10);
        match std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=codec_name",
                "-of",
                "csv=p=0",
            ])
            .arg(&path)
            .output()
        {
            Ok(out) => {
                let codec = String::from_utf8_lossy(&out.stdout).trim().to_string();
                let want = if e["body"]["kind"] == "video" {
                    "vp8"
                } else {
                    "opus"
                };
                assert!(
                    out.status.success() && codec.starts_with(want),
                    "{codec}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Err(_) if !crate::common::in_ci() => {
                eprintln!("ffprobe not installed: recording not probed")
            }
            Err(e) => panic!("ffprobe is required under CI: {e}"),
        }
    }
}

/// Recordings a killed server left unfinished are kept at the next start: each file in
/// the recording folder becomes a blob and a `recording_stored` event marked salvaged,
/// once; a file of an unknown tender is left alone.
#[tokio::test]
async fn recordings_left_by_a_killed_server_are_kept_at_the_next_start() {
    let (app, _clock) = crate::common::spawn_app_at(1_796_086_800_000).await;
    let tender = app.school_tender_id().await;
    let dir = app
        .state
        .config
        .media
        .recording_dir
        .clone()
        .expect("recording on");
    let room = dir.join(format!("opening_{tender}"));
    std::fs::create_dir_all(&room).unwrap();
    // An Ogg stream cut off mid-page, as a killed writer leaves it.
    let cut: Vec<u8> = b"OggS\0\x02".iter().copied().chain(0..200u8).collect();
    let file = room.join("u1-audio0-1796086800000.ogg");
    std::fs::write(&file, &cut).unwrap();
    let stray = dir.join("opening_no-such-tender");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::write(stray.join("x.ivf"), b"DKIF").unwrap();

    let kept = kaibiao::hub::media::salvage_recordings(&app.state)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    assert!(!file.exists(), "moved into the blob store");
    assert!(stray.join("x.ivf").exists(), "left where it is");
    let sha = kaibiao::crypto::sha256_hex(&cut);
    assert_eq!(
        app.state.blobs.get(&sha).await.unwrap().unwrap().as_ref(),
        cut.as_slice()
    );
    let ledger = crate::evaluation::ledger_of(&app, &tender).await;
    let stored: Vec<&serde_json::Value> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "recording_stored")
        .collect();
    assert_eq!(stored.len(), 1, "{ledger}");
    let body = &stored[0]["body"];
    assert_eq!(body["salvaged"], true);
    assert_eq!(body["sha256"], sha.as_str());
    assert_eq!(body["room"], format!("opening:{tender}"));
    assert_eq!(body["content_type"], "audio/ogg");
    assert_eq!(body["bytes"], cut.len());
    // Once: nothing is left to keep the next time.
    assert_eq!(
        kaibiao::hub::media::salvage_recordings(&app.state)
            .await
            .unwrap(),
        0
    );
}

/// A participant who joins a room's media again (a second tab, a reconnection) replaces
/// the earlier session; the earlier one leaving afterwards does not take the new one out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_session_leaving_keeps_the_participant_who_joined_again() {
    let app = spawn_app().await;
    let tender = app.school_tender_id().await;
    let room = format!("opening:{tender}");
    let finance = app.user_id("finance").await;
    let (first, _) = HubMedia::open(&app, "finance", &room).await;
    assert_eq!(first.join().await["type"], "media_joined");
    let (second, _) = HubMedia::open(&app, "finance", &room).await;
    assert_eq!(second.join().await["type"], "media_joined");
    first.leave().await;
    let ids: Vec<String> = app
        .state
        .media
        .room(&room)
        .map(|r| r.participants.into_iter().map(|p| p.id).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![finance.clone()], "the second session is still in");
    second.leave().await;
    assert!(app
        .state
        .media
        .room(&room)
        .is_none_or(|r| r.participants.is_empty()));
}
