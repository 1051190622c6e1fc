//! Media rooms across nodes (docs/nodes.md, "Media rooms"). A room's audio and video run
//! on one node's SFU, its owner: the first node a participant joins at claims the room in
//! `media_owner`. A participant connected to another node joins through a link its node
//! opens to the owner (a WebSocket on [`LINK_PATH`], shown the nodes' token): its
//! signalling goes over the link and the owner's answers come back as the very frames the
//! client would have had from the owner itself; the media then flows between the client
//! and the owner's SFU directly. Who may join in which role is decided where the client is
//! connected (it holds the session), exactly as for a room run here.
//!
//! The owner refreshes its rows every few seconds while its rooms have people ([`keep`])
//! and removes a row when its room empties; a row not refreshed for
//! [`presence::GONE_AFTER`] is a stopped node's, and a node that cannot reach the owner at
//! all takes the room over. Who is in the media is told to every node's hub room through
//! the rooms' signals (`Rooms::media`). On SQLite, or with no address the other nodes
//! reach, every room runs here.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use kaibiao_media::{MediaError, Role, SignalIn, SignalOut};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite;

use super::presence;
use super::types::ServerMsg;
use super::Hub;
use crate::cluster::Cluster;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Where a node opens its links to the owner of a room: not a user's route (not under
/// `/api`), the other nodes show the token every node derives from the CA.
pub const LINK_PATH: &str = "/nodes/media";
/// The header a node shows its token in.
const TOKEN_HEADER: &str = "x-kaibiao-node";
/// Signalling frames are small (an offer of a few KiB), as on the hub.
const MAX_FRAME: usize = 64 * 1024;
/// Frames queued each way on a link: beyond it a client's signals are refused, and the
/// owner's frames wait for the client's connection to take them.
const LINK_QUEUE: usize = 64;
/// How long a node waits for the owner to take a link.
const LINK_TIMEOUT: Duration = Duration::from_secs(10);

/// What the node at the client's end asks of the owner, in the link's first frame.
#[derive(Serialize, Deserialize)]
struct Hello {
    room: String,
    participant: String,
    role: Role,
}

/// The owner's first frame when it took the participant in.
const LINKED: &str = r#"{"type":"linked"}"#;

/// A connection's place in a room's media: the SFU here, or a link to the owner.
pub enum Plane {
    /// The SFU here: its messages, which of the participant's sessions this is, and the
    /// rooms this node finds it lost.
    Here(
        mpsc::Receiver<SignalOut>,
        kaibiao_media::Session,
        tokio::sync::broadcast::Receiver<String>,
    ),
    There {
        to: mpsc::Sender<String>,
        from: mpsc::Receiver<String>,
    },
}

impl Plane {
    /// The next frame for the client (the SFU's message, or the owner's frame as it is);
    /// `None` when the room's media ended for this connection.
    pub async fn next(&mut self, room: &str) -> Option<String> {
        match self {
            Plane::Here(rx, _, lost) => {
                tokio::select! {
                    // Told before the SFU lets the participant go (`lose`).
                    biased;
                    () = lost_room(lost, room) => Some(super::routes::error_text(&AppError::Media(
                        MediaError::Unreachable(room.into()),
                    ))),
                    out = rx.recv() => out.map(|out| media_frame(room, &out)),
                }
            }
            Plane::There { from, .. } => from.recv().await,
        }
    }

    /// Hands one of the client's signals to the room; frames to send back at once.
    pub async fn signal(
        &mut self,
        state: &AppState,
        room: &str,
        participant: &str,
        signal: SignalIn,
    ) -> Vec<String> {
        match self {
            Plane::Here(..) => answer_here(state, room, participant, signal).await,
            Plane::There { to, .. } => {
                // The owner answers over the link; a closed link ends the plane instead. A
                // client sending faster than the link takes its signals is refused them
                // (never waited for: the link may be waiting for this connection).
                match to.try_send(serde_json::to_string(&signal).unwrap_or_default()) {
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        vec![super::routes::error_text(&AppError::RateLimited {
                            what: "media_signals",
                            retry_after_secs: 1,
                        })]
                    }
                    _ => Vec::new(),
                }
            }
        }
    }

    /// Leaves the room's media: here, keeping what it recorded; there, by closing the
    /// link (the owner does the rest).
    pub async fn leave(self, state: &AppState, room: &str, participant: &str) {
        if let Plane::Here(_, session, _) = self {
            leave_here(state, room, participant, session).await;
        }
    }
}

/// Resolves when this node finds it lost `room` (never on another room's loss).
async fn lost_room(lost: &mut tokio::sync::broadcast::Receiver<String>, room: &str) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match lost.recv().await {
            Ok(r) if r == room => return,
            Ok(_) | Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => std::future::pending().await,
        }
    }
}

fn media_frame(room: &str, out: &SignalOut) -> String {
    serde_json::to_string(&ServerMsg::Media { room, signal: out }).unwrap_or_default()
}

async fn answer_here(
    state: &AppState,
    room: &str,
    participant: &str,
    signal: SignalIn,
) -> Vec<String> {
    match state.media.signal(room, participant, signal).await {
        Ok(Some(out)) => vec![media_frame(room, &out)],
        Ok(None) => Vec::new(),
        Err(e) => vec![super::routes::error_text(&AppError::Media(e))],
    }
}

/// Tells every node's hub room who is in its media now (each audience what it may see).
pub fn announce(state: &AppState, room: &str) {
    if let Some(info) = state.media.room(room) {
        state.rooms.media(room, &info);
    }
}

/// Ends session `session` of the participant in the SFU here and tells the room (unless
/// a later join replaced the session, or the room went to another node, whose list the
/// room shows), keeps what it recorded, and gives up the room's ownership when nobody is
/// left.
async fn leave_here(
    state: &AppState,
    room: &str,
    participant: &str,
    session: kaibiao_media::Session,
) {
    let current = state.media.leave_session(room, participant, session).await;
    if let Err(e) = super::media::store_recordings(state, room).await {
        tracing::error!(error = ?e, %room, "storing recordings failed");
    }
    if current {
        announce(state, room);
    }
    let empty = state
        .media
        .room(room)
        .is_none_or(|r| r.participants.is_empty());
    let cluster = state.runtime::<Cluster>();
    if empty && cluster.shared() {
        let released = sqlx::query("DELETE FROM media_owner WHERE room = $1 AND node_id = $2")
            .bind(room)
            .bind(cluster.node())
            .execute(&state.db.pool)
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, %room, "giving up a media room");
        }
    }
}

/// Joins `participant` to the room's media in `role`, here or through a link to the node
/// that runs it; a refusal is the frame to send the client.
pub async fn join(
    state: &AppState,
    room: &str,
    participant: &str,
    role: Role,
) -> Result<Plane, String> {
    let refusal = |e: MediaError| super::routes::error_text(&AppError::Media(e));
    let internal = |e: AppError| super::routes::error_text(&e);
    let mut at = owner(state, room).await.map_err(internal)?;
    // Twice at most: a node that cannot be reached at all is taken over once.
    for _ in 0..2 {
        let Some((node, url)) = at else {
            let lost = Hub::of(state).media_losses();
            let joined = state
                .media
                .join(room, participant, role)
                .await
                .map_err(refusal)?;
            announce(state, room);
            return Ok(Plane::Here(joined.signals, joined.session, lost));
        };
        let hello = Hello {
            room: room.into(),
            participant: participant.into(),
            role,
        };
        match open_link(state, &url, &hello).await {
            Ok(Ok(plane)) => return Ok(plane),
            Ok(Err(frame)) => return Err(frame),
            Err(e) => {
                tracing::warn!(error = %e, %room, %url, "the media room's node is unreachable: taking it over");
                take_over(state, room, &node).await.map_err(internal)?;
                at = owner(state, room).await.map_err(internal)?;
            }
        }
    }
    Err(refusal(MediaError::Unreachable(room.into())))
}

/// The node that runs `room`'s media if not this one (its id and address), claiming the
/// room for this node when nobody live holds it.
async fn owner(state: &AppState, room: &str) -> AppResult<Option<(String, String)>> {
    let cluster = state.runtime::<Cluster>();
    if !cluster.shared() {
        return Ok(None);
    }
    let pool = &state.db.pool;
    let now = state.clock.now_ms();
    let live_since = now - presence::GONE_AFTER.as_millis() as i64;
    // A stopping node claims nothing: its rooms are being taken over elsewhere.
    let claiming = cluster
        .reached_at()
        .filter(|_| !Hub::of(state).is_draining());
    if let Some(url) = claiming {
        sqlx::query(
            "INSERT INTO media_owner (room, node_id, url, seen_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (room) DO UPDATE SET node_id = excluded.node_id, url = excluded.url, \
             seen_at = excluded.seen_at \
             WHERE media_owner.seen_at < $5 OR media_owner.node_id = excluded.node_id",
        )
        .bind(room)
        .bind(cluster.node())
        .bind(url)
        .bind(now)
        .bind(live_since)
        .execute(pool)
        .await?;
    }
    let row = sqlx::query("SELECT node_id, url, seen_at FROM media_owner WHERE room = $1")
        .bind(room)
        .fetch_optional(pool)
        .await?;
    Ok(row.and_then(|r| {
        let node: String = r.get("node_id");
        let seen_at: i64 = r.get("seen_at");
        (node != cluster.node() && seen_at >= live_since).then(|| (node, r.get("url")))
    }))
}

/// Takes `room` from node `gone` (which cannot be reached), if it still holds it.
async fn take_over(state: &AppState, room: &str, gone: &str) -> AppResult<()> {
    let cluster = state.runtime::<Cluster>();
    let Some(url) = cluster.reached_at() else {
        // Not reachable either: the room runs here, unclaimed.
        sqlx::query("DELETE FROM media_owner WHERE room = $1 AND node_id = $2")
            .bind(room)
            .bind(gone)
            .execute(&state.db.pool)
            .await?;
        return Ok(());
    };
    sqlx::query(
        "UPDATE media_owner SET node_id = $1, url = $2, seen_at = $3 \
         WHERE room = $4 AND node_id = $5",
    )
    .bind(cluster.node())
    .bind(url)
    .bind(state.clock.now_ms())
    .bind(room)
    .bind(gone)
    .execute(&state.db.pool)
    .await?;
    Ok(())
}

/// Refreshes this node's claim on every media room it runs with people in it (claiming
/// again a room whose row went missing), lets go of the rooms other nodes hold now, and
/// removes rows long unseen.
pub async fn keep(state: &AppState) -> sqlx::Result<()> {
    let cluster = state.runtime::<Cluster>();
    let pool = &state.db.pool;
    let now = state.clock.now_ms();
    if let Some(url) = cluster
        .reached_at()
        .filter(|_| !Hub::of(state).is_draining())
    {
        let mut taken = Vec::new();
        for info in state.media.rooms() {
            if info.participants.is_empty() {
                continue;
            }
            let kept = sqlx::query(
                "INSERT INTO media_owner (room, node_id, url, seen_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (room) DO UPDATE SET seen_at = excluded.seen_at \
                 WHERE media_owner.node_id = excluded.node_id",
            )
            .bind(&info.room)
            .bind(cluster.node())
            .bind(url)
            .bind(now)
            .execute(pool)
            .await?;
            if kept.rows_affected() == 0 {
                taken.push(info);
            }
        }
        // Stale rows go even if letting go failed this pass (the next pass tries again).
        let let_go = let_go_where_the_holder_answers(state, taken).await;
        presence::remove_unseen(pool, "media_owner", now).await?;
        return let_go;
    }
    presence::remove_unseen(pool, "media_owner", now).await
}

/// Of the rooms other nodes took, lets go of those whose holder answers at its address.
/// While it does not (a split between the nodes: each side took the room), this node's
/// people stay here; they are sent there once it answers again. Each holder is tried once,
/// all at the same time, so that a split that took many rooms costs one pass a second at
/// most, not a second per room while this node's other rows go stale.
async fn let_go_where_the_holder_answers(
    state: &AppState,
    taken: Vec<kaibiao_media::RoomInfo>,
) -> sqlx::Result<()> {
    let mut by_holder: HashMap<String, Vec<kaibiao_media::RoomInfo>> = HashMap::new();
    for info in taken {
        let url: Option<String> = sqlx::query_scalar("SELECT url FROM media_owner WHERE room = $1")
            .bind(&info.room)
            .fetch_optional(&state.db.pool)
            .await?;
        if let Some(url) = url {
            by_holder.entry(url).or_default().push(info);
        }
    }
    let tried = by_holder.into_iter().map(|(url, rooms)| async move {
        let answers = match url.strip_prefix("http://") {
            Some(addr) => matches!(
                tokio::time::timeout(
                    Duration::from_secs(1),
                    tokio::net::TcpStream::connect(addr.trim_end_matches('/')),
                )
                .await,
                Ok(Ok(_))
            ),
            None => false,
        };
        (answers, rooms)
    });
    for (answers, rooms) in futures_util::future::join_all(tried).await {
        if answers {
            for info in &rooms {
                lose(state, info).await;
            }
        }
    }
    Ok(())
}

/// Another node holds `room` now: it took the room over while this node's claim was
/// stale or while it could not reach this node (a split between them), and its people
/// are there. Those here are told to join again (`MEDIA_NODE_UNREACHABLE`), which takes
/// them to that node; the SFU here lets them go and what they recorded is kept. Without
/// this the room would stay two rooms until everyone joined again.
async fn lose(state: &AppState, info: &kaibiao_media::RoomInfo) {
    let room = &info.room;
    tracing::warn!(%room, "another node runs this media room now: its people here join it there");
    // Their sessions first, so each is told before the SFU ends its messages.
    Hub::of(state).media_room_lost(room);
    for p in &info.participants {
        let _ = state.media.leave(room, &p.id).await;
    }
    if let Err(e) = super::media::store_recordings(state, room).await {
        tracing::error!(error = ?e, %room, "storing recordings failed");
    }
}

/// Gives up every media room this node runs (it is stopping): their people, told by
/// their links closing or their hub connections, take them over at another node.
pub async fn give_up(state: &AppState) {
    let cluster = state.runtime::<Cluster>();
    if !cluster.shared() {
        return;
    }
    let given = sqlx::query("DELETE FROM media_owner WHERE node_id = $1")
        .bind(cluster.node())
        .execute(&state.db.pool)
        .await;
    if let Err(e) = given {
        tracing::warn!(error = %e, "giving up the media rooms at stop");
    }
}

/// Opens a link to the owner at `url` for `hello`: the plane, or the owner's refusal (a
/// frame for the client); an error when the owner cannot be reached.
async fn open_link(
    state: &AppState,
    url: &str,
    hello: &Hello,
) -> anyhow::Result<Result<Plane, String>> {
    use tungstenite::client::IntoClientRequest;
    let ws_url = format!(
        "{}{LINK_PATH}",
        url.trim_end_matches('/').replacen("http", "ws", 1)
    );
    let mut req = ws_url.into_client_request()?;
    req.headers_mut()
        .insert(TOKEN_HEADER, state.pki.node_link().parse()?);
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME))
        .max_frame_size(Some(MAX_FRAME));
    let (mut ws, _) = tokio::time::timeout(
        LINK_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(req, Some(config), true),
    )
    .await??;
    ws.send(tungstenite::Message::Text(
        serde_json::to_string(hello)?.into(),
    ))
    .await?;
    let first = loop {
        match tokio::time::timeout(LINK_TIMEOUT, ws.next()).await? {
            Some(Ok(tungstenite::Message::Text(t))) => break t.to_string(),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
            None => anyhow::bail!("the owner closed the link"),
        }
    };
    if first != LINKED {
        return Ok(Err(first));
    }
    let (to, mut to_rx) = mpsc::channel::<String>(LINK_QUEUE);
    let (from_tx, from) = mpsc::channel::<String>(LINK_QUEUE);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                out = to_rx.recv() => match out {
                    Some(text) => {
                        if ws.send(tungstenite::Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    None => {
                        // The participant left here: the owner takes it out.
                        let _ = ws.close(None).await;
                        return;
                    }
                },
                frame = ws.next() => match frame {
                    Some(Ok(tungstenite::Message::Text(t))) => {
                        if from_tx.send(t.to_string()).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
            }
        }
        // The owner went away: the client is told and may join again.
        let gone = MediaError::Unreachable(String::new());
        let _ = from_tx
            .send(super::routes::error_text(&AppError::Media(gone)))
            .await;
    });
    Ok(Ok(Plane::There { to, from }))
}

/// The owner's end of a link: another node's participant in a room run here.
pub async fn link(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let shown = headers
        .get(TOKEN_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !crate::auth::policy::constant_time_eq(shown, state.pki.node_link().as_bytes()) {
        return AppError::Forbidden.into_response();
    }
    if Hub::of(&state).is_draining() {
        return AppError::Media(MediaError::Unreachable(String::new())).into_response();
    }
    match ws {
        Ok(ws) => ws
            .max_message_size(MAX_FRAME)
            .on_upgrade(move |socket| serve_link(state, socket)),
        Err(e) => e.into_response(),
    }
}

async fn serve_link(state: AppState, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let hello: Hello = loop {
        match stream.next().await {
            Some(Ok(Message::Text(t))) => match serde_json::from_str(t.as_str()) {
                Ok(h) => break h,
                Err(_) => return,
            },
            Some(Ok(_)) => continue,
            _ => return,
        }
    };
    let Hello {
        room,
        participant,
        role,
    } = hello;
    let kaibiao_media::Joined {
        signals: mut rx,
        session,
    } = match state.media.join(&room, &participant, role).await {
        Ok(joined) => joined,
        Err(e) => {
            let _ = sink
                .send(Message::Text(
                    super::routes::error_text(&AppError::Media(e)).into(),
                ))
                .await;
            return;
        }
    };
    announce(&state, &room);
    let mut draining = Hub::of(&state).draining();
    if sink.send(Message::Text(LINKED.into())).await.is_ok() {
        loop {
            let frames = tokio::select! {
                // Stopping: the link closes, and the participant joins again elsewhere.
                _ = async { draining.wait_for(|d| *d).await.map(|_| ()) } => break,
                msg = stream.next() => match msg {
                    Some(Ok(Message::Text(t))) => match serde_json::from_str::<SignalIn>(t.as_str()) {
                        Ok(signal) => Box::pin(answer_here(&state, &room, &participant, signal)).await,
                        Err(_) => break,
                    },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                },
                out = rx.recv() => match out {
                    Some(out) => vec![media_frame(&room, &out)],
                    None => break,
                },
            };
            let mut sent = true;
            for f in frames {
                sent = sent && sink.send(Message::Text(f.into())).await.is_ok();
            }
            if !sent {
                break;
            }
        }
    }
    leave_here(&state, &room, &participant, session).await;
}
