//! `GET /api/hub`: the WebSocket endpoint and each connection's task.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::kind::Standing;
use super::relay::Plane;
use super::room::{self, Frame, Present, RoomCmd, RoomHandle, Secrecy};
use super::types::{ClientMsg, PresenceEntry, ServerMsg};
use super::Hub;
use crate::auth::{Access, Api, CurrentUser};
use crate::error::AppError;
use crate::state::AppState;

pub fn api() -> Api {
    Api::default().route(Method::GET, "/api/hub", Access::AnyUser, hub)
}

/// Whether a WebSocket upgrade may use the browser's cookie: only from a page of this
/// site. Browsers always send `Origin` with a WebSocket and scripts cannot forge it, so a
/// cookie-authenticated upgrade from another origin (or none) is a cross-site hijack
/// attempt; clients with a bearer token (the CLI, other programs) are not at risk.
fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(origin) = header("origin") else {
        return false;
    };
    let authority = origin
        .split_once("://")
        .map_or("", |(_, rest)| rest.trim_end_matches('/'));
    [header("x-forwarded-host"), header("host")]
        .into_iter()
        .flatten()
        .any(|host| !authority.is_empty() && authority.eq_ignore_ascii_case(host))
}

/// Whether the upgrade carries the session's CSRF token (`?csrf=`): a WebSocket cannot
/// send headers, and commands over it change things as POSTs do.
fn csrf_in_query(query: Option<&str>, token: &str) -> bool {
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|kv| kv.split_once('='))
        .any(|(k, v)| {
            k == "csrf"
                && !token.is_empty()
                && crate::auth::policy::constant_time_eq(v.as_bytes(), token.as_bytes())
        })
}

/// Upgrades to a WebSocket; a plain GET gets a short description of the protocol.
async fn hub(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: axum::http::HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if ws.is_ok() && user.via_cookie {
        if !same_origin(&headers) {
            return AppError::Forbidden.into_response();
        }
        if !csrf_in_query(query.as_deref(), &user.csrf_token) {
            return AppError::CsrfFailed.into_response();
        }
    }
    match ws {
        Ok(ws) => {
            // Held by the connection's task: one user cannot take every handle, at this
            // node or over all of them.
            let elsewhere = super::caps::elsewhere(&state, &user.id)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "reading hub connections at other nodes");
                    0
                });
            let max = state.config.hub_connections_per_user;
            let Some(admitted) =
                Hub::of(&state).admit(&user.id, &user.session_id, max.saturating_sub(elsewhere))
            else {
                return AppError::RateLimited {
                    what: "hub_connections",
                    retry_after_secs: 5,
                }
                .into_response();
            };
            if let Err(e) = super::caps::record(&state, &user.id).await {
                tracing::warn!(error = %e, "writing hub connections for the other nodes");
            }
            ws
                // Clients send small frames (a subscription, a score; a media offer of a
                // few KiB takes two reads), and each connection keeps its read buffer for
                // its whole life: 4 KiB of it, not tungstenite's 128 KiB.
                .read_buffer_size(4 * 1024)
                .max_message_size(64 * 1024)
                .on_upgrade(move |socket| async move {
                    let task = super::connection_threads().spawn(async move {
                        let _admitted = admitted;
                        connection(state, user, socket).await
                    });
                    let _ = task.await;
                })
        }
        Err(_) => axum::Json(serde_json::json!({
            "hub": "connect with a WebSocket upgrade",
            "commands": ["subscribe {room, since_seq}", "unsubscribe", "ping",
                         "command {id, room, command} (docs/opening.md, docs/evaluation.md)"],
            "rooms": ["opening:<tender id>", "evaluation:<tender id>"],
        }))
        .into_response(),
    }
}

struct Subscription {
    name: String,
    room: RoomHandle,
    rx: tokio::sync::broadcast::Receiver<Frame>,
    delivered: i64,
}

/// Frames written per flush at most when a subscriber has several queued.
const BATCH: usize = 64;

pub(super) fn error_text(e: &AppError) -> String {
    error_reply(None, e)
}

fn error_reply(id: Option<&str>, e: &AppError) -> String {
    let (message, message_en) = e.messages();
    let fields = match e {
        AppError::Validation(f) => Some(f),
        _ => None,
    };
    serde_json::to_string(&ServerMsg::Error {
        id,
        code: e.code(),
        message,
        message_en,
        fields,
    })
    .unwrap_or_default()
}

async fn subscribe(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    since: i64,
) -> Result<(Subscription, Vec<String>), AppError> {
    let hub = Hub::of(state);
    let (kind, tender_id) = hub.parse_room(name).ok_or(AppError::NotFound)?;
    let Standing { audience, hidden } = kind.standing(state, user, tender_id).await?;
    let pool = &state.db.pool;
    let head = crate::tender::repo::head(pool, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let secrecy = Secrecy::of(&head, state.clock.now_ms());
    let seqs = (
        crate::ledger::repo::head_seq(pool, tender_id).await?,
        crate::ledger::repo::register_seq(pool, tender_id).await?,
    );
    // A position past the head (a client's stale or made-up `since_seq`) would make the
    // next live events look delivered already: replay from the head instead.
    let since = since.clamp(0, seqs.0);
    let (handle, rx) = hub.join(
        name,
        || {
            room::spawn(
                state.clone(),
                name.to_string(),
                tender_id.to_string(),
                seqs,
                secrecy,
            )
        },
        audience,
    );
    // Joined before reading the ledger, so nothing committed in between is missed;
    // duplicates are skipped by seq.
    let replay = crate::tender::service::replay(state, user, &head, since).await?;
    let mut out = Vec::new();
    let mut delivered = since;
    for e in &replay.events {
        out.push(
            serde_json::to_string(&ServerMsg::Event {
                room: name,
                event: e,
            })
            .unwrap_or_default(),
        );
        delivered = e.seq;
    }
    for e in &replay.bid_events {
        out.push(
            serde_json::to_string(&ServerMsg::BidEvent {
                room: name,
                event: e,
            })
            .unwrap_or_default(),
        );
    }
    out.push(
        serde_json::to_string(&ServerMsg::Subscribed {
            room: name,
            seq: delivered,
            withheld_until: replay.withheld_until,
        })
        .unwrap_or_default(),
    );
    let present = Present {
        entry: PresenceEntry {
            user_id: hub.participant_id(name, &user.id, hidden),
            display_name: user.display_name.clone(),
            role: user.role.as_str().into(),
            seat: None,
        },
        hidden,
    };
    let (reply, now_present) = tokio::sync::oneshot::channel();
    let _ = handle
        .cmd
        .send(RoomCmd::Join(user.id.clone(), present, audience, reply));
    // The room may have been started at an older head: make it catch up.
    let _ = handle.cmd.send(RoomCmd::Refresh);
    if let Ok(text) = now_present.await {
        out.push(text.to_string());
    }
    Ok((
        Subscription {
            name: name.to_string(),
            room: handle,
            rx,
            delivered,
        },
        out,
    ))
}

/// Runs a room command; the reply is an `ack` or an `error` with the command's id.
async fn run_command(
    state: &AppState,
    user: &CurrentUser,
    id: Option<&str>,
    room: &str,
    command: serde_json::Value,
) -> String {
    let hub = Hub::of(state);
    let result = match hub.parse_room(room) {
        Some((kind, tender_id)) => kind.command(state, user, tender_id, command).await,
        None => Err(AppError::NotFound),
    };
    match result {
        Ok(result) => serde_json::to_string(&ServerMsg::Ack {
            id,
            result: &result,
        })
        .unwrap_or_default(),
        Err(e) => {
            if let AppError::Internal(err) = &e {
                tracing::error!(error = ?err, "hub command failed");
            }
            error_reply(id, &e)
        }
    }
}

/// A client frame, or the error to answer with the frame's `id` when it has a readable
/// one: text that is not JSON is `MALFORMED_JSON`; JSON that does not fit a frame (an
/// unknown `type`, a missing or mistyped field) is `VALIDATION` naming the field, as over
/// HTTP; a NUL character is `VALIDATION` of `body`.
fn read_frame(text: &str) -> Result<ClientMsg, (Option<String>, AppError)> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| (None, AppError::MalformedJson(e.to_string())))?;
    let id = value
        .get("id")
        .and_then(|i| i.as_str())
        .filter(|i| !i.contains('\0'))
        .map(str::to_owned);
    if crate::error::has_nul(text.as_bytes()) {
        return Err((id, crate::error::nul_error()));
    }
    crate::error::from_tagged(value).map_err(|e| (id, e))
}

fn resync_text(s: &Subscription) -> String {
    serde_json::to_string(&ServerMsg::Resync {
        room: &s.name,
        since_seq: s.delivered,
    })
    .unwrap_or_default()
}

async fn next_frame(sub: &mut Option<Subscription>) -> Result<Frame, RecvError> {
    match sub {
        Some(s) => s.rx.recv().await,
        None => std::future::pending().await,
    }
}

/// A connection's place in a room's media: the room, its id there, and where the room's
/// media runs (`relay::Plane`).
struct MediaSession {
    room: String,
    participant: String,
    plane: Plane,
}

/// The next frame of the connection's media for the client.
async fn next_signal(media: &mut Option<MediaSession>) -> Option<String> {
    match media {
        Some(m) => m.plane.next(&m.room).await,
        None => std::future::pending().await,
    }
}

/// Leaves the room's media (here: keeping what it recorded).
async fn leave_media(state: &AppState, media: Option<MediaSession>) {
    if let Some(m) = media {
        m.plane.leave(state, &m.room, &m.participant).await;
    }
}

/// Joins the room's media in the role the user has there, at whichever node runs it; a
/// refusal is the frame to answer with.
async fn join_media(
    state: &AppState,
    user: &CurrentUser,
    room: &str,
) -> Result<(MediaSession, kaibiao_media::Role), String> {
    let hub = Hub::of(state);
    let (kind, tender_id) = hub
        .parse_room(room)
        .ok_or_else(|| error_text(&AppError::NotFound))?;
    let role = kind
        .media_role(state, user, tender_id)
        .await
        .map_err(|e| error_text(&e))?;
    let Standing { hidden, .. } = kind
        .standing(state, user, tender_id)
        .await
        .map_err(|e| error_text(&e))?;
    let participant = hub.participant_id(room, &user.id, hidden);
    let plane = super::relay::join(state, room, &participant, role).await?;
    Ok((
        MediaSession {
            room: room.to_string(),
            participant,
            plane,
        },
        role,
    ))
}

fn leave(sub: Option<Subscription>, user: &CurrentUser) {
    if let Some(s) = sub {
        drop(s.rx);
        let _ = s.room.cmd.send(RoomCmd::Leave(user.id.clone()));
    }
}

/// Answers one text frame from the client (boxed by the caller: the subscription, command
/// and media futures are large, and a connection's task holds its future for as long as
/// the connection lives — 10,000 watchers would each hold all of them).
async fn answer(
    state: &AppState,
    user: &CurrentUser,
    text: &str,
    sub: &mut Option<Subscription>,
    media: &mut Option<MediaSession>,
) -> Vec<String> {
    match read_frame(text) {
        Err((id, e)) => vec![error_reply(id.as_deref(), &e)],
        Ok(ClientMsg::Ping { t }) => vec![serde_json::to_string(&ServerMsg::Pong {
            t,
            now: state.clock.now_ms(),
        })
        .unwrap_or_default()],
        Ok(ClientMsg::Unsubscribe {}) => {
            leave(sub.take(), user);
            Vec::new()
        }
        Ok(ClientMsg::Command { id, room, command }) => {
            vec![run_command(state, user, id.as_deref(), &room, command).await]
        }
        Ok(ClientMsg::MediaJoin { room }) => match join_media(state, user, &room).await {
            Ok((m, role)) => {
                if media.as_ref().is_some_and(|old| old.room != room) {
                    leave_media(state, media.take()).await;
                }
                *media = Some(m);
                vec![serde_json::to_string(&ServerMsg::MediaJoined {
                    room: &room,
                    role,
                    ice_servers: &state.config.media.ice_servers,
                })
                .unwrap_or_default()]
            }
            Err(refusal) => vec![refusal],
        },
        Ok(ClientMsg::Media { room, signal }) => match media.as_mut().filter(|m| m.room == room) {
            Some(m) => m.plane.signal(state, &room, &m.participant, signal).await,
            None => vec![error_text(&AppError::Media(
                kaibiao_media::MediaError::NotAMember {
                    room: room.clone(),
                    participant: user.id.clone(),
                },
            ))],
        },
        Ok(ClientMsg::MediaLeave { room }) => {
            if media.as_ref().is_some_and(|m| m.room == room) {
                leave_media(state, media.take()).await;
            }
            Vec::new()
        }
        Ok(ClientMsg::Subscribe { room, since_seq }) => {
            match subscribe(state, user, &room, since_seq).await {
                Ok((s, out)) => {
                    leave(sub.replace(s), user);
                    out
                }
                Err(e) => vec![error_text(&e)],
            }
        }
    }
}

/// Why the hub closes a connection its client did not.
enum Stop {
    /// Its session ended (logout at any node).
    SessionEnded,
    /// The node is stopping: the client is to reconnect elsewhere.
    Draining,
}

/// Resolves when the connection must close for a reason of the hub's.
async fn must_stop(state: &AppState, session_id: &str) -> Stop {
    let hub = Hub::of(state);
    let mut ended = hub.ended_sessions();
    let mut draining = hub.draining();
    let mut drain_open = true;
    loop {
        tokio::select! {
            d = async { draining.wait_for(|d| *d).await.map(|_| ()) }, if drain_open => {
                if d.is_ok() {
                    return Stop::Draining;
                }
                drain_open = false;
            }
            e = ended.recv() => match e {
                Ok(id) if id == session_id => return Stop::SessionEnded,
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    // Too many logouts at once to tell: ask the database.
                    let live = Box::pin(crate::auth::repo::session_user(
                        &state.db.pool,
                        session_id,
                        state.clock.now_ms(),
                    ))
                    .await;
                    if !matches!(live, Ok(Some(_))) {
                        return Stop::SessionEnded;
                    }
                }
                Err(RecvError::Closed) => std::future::pending().await,
            },
        }
    }
}

async fn connection(state: AppState, user: CurrentUser, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let mut sub: Option<Subscription> = None;
    let mut media: Option<MediaSession> = None;
    // Made once for the connection's life (not on every frame written): waiting on the
    // hub's channels registers with them, and 10,000 connections re-registering per event
    // contend on their locks.
    let mut stop = Box::pin(must_stop(&state, &user.session_id));
    let every = state.config.hub_ping;
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_heard = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = heartbeat.tick() => {
                // A peer gone without closing (a closed laptop, a lost network) stops
                // answering pings: leave, so presence shows who is really there.
                if last_heard.elapsed() > every * 3 || state.clock.now_ms() >= user.expires_at {
                    break;
                }
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            reason = &mut stop => {
                let close = match reason {
                    Stop::Draining => Some(axum::extract::ws::CloseFrame {
                        code: axum::extract::ws::close_code::RESTART,
                        reason: "节点停止,请重新连接 / this node is stopping; reconnect".into(),
                    }),
                    Stop::SessionEnded => None,
                };
                let _ = sink.send(Message::Close(close)).await;
                break;
            }
            msg = stream.next() => {
                last_heard = tokio::time::Instant::now();
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let replies = Box::pin(answer(&state, &user, text.as_str(), &mut sub, &mut media)).await;
                for r in replies {
                    if sink.feed(Message::Text(r.into())).await.is_err() {
                        leave(sub.take(), &user);
                        Box::pin(leave_media(&state, media.take())).await;
                        return;
                    }
                }
                if sink.flush().await.is_err() {
                    break;
                }
            }
            signal = next_signal(&mut media) => {
                let Some(text) = signal else {
                    media = None;
                    continue;
                };
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            frame = next_frame(&mut sub) => {
                let s = sub.as_mut().expect("a frame comes from a subscription");
                match frame {
                    Ok(f) => {
                        // Write what is queued already in one go: feed each frame, flush once.
                        let mut queued = 0;
                        let mut lagged = false;
                        let mut next = Some(f);
                        while let Some(f) = next.take() {
                            if f.seq < 0 || f.seq > s.delivered {
                                if f.seq >= 0 {
                                    s.delivered = f.seq;
                                }
                                if sink.feed(Message::Text(f.text)).await.is_err() {
                                    leave(sub.take(), &user);
                                    Box::pin(leave_media(&state, media.take())).await;
                                    return;
                                }
                                queued += 1;
                            }
                            if queued < BATCH {
                                match s.rx.try_recv() {
                                    Ok(f) => next = Some(f),
                                    Err(TryRecvError::Lagged(_)) => lagged = true,
                                    Err(_) => {}
                                }
                            }
                        }
                        if lagged {
                            // Too slow for live fan-out: resume from the ledger instead.
                            let text = resync_text(s);
                            leave(sub.take(), &user);
                            if sink.feed(Message::Text(text.into())).await.is_err() {
                                break;
                            }
                            queued += 1;
                        }
                        if queued > 0 && sink.flush().await.is_err() {
                            break;
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        // Too slow for live fan-out: resume from the ledger instead.
                        let text = resync_text(s);
                        leave(sub.take(), &user);
                        if sink.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    Err(RecvError::Closed) => leave(sub.take(), &user),
                }
            }
        }
    }
    leave(sub.take(), &user);
    Box::pin(leave_media(&state, media.take())).await;
}
