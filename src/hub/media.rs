//! The media plane on the hub (docs/media.md): who may join a room's audio and video and
//! as what, and the recordings kept when publishers leave, stored as blobs and listed in
//! the tender's ledger (`recording_stored`).

use serde_json::json;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use kaibiao_media::Role;

/// The role `user` takes in the media of `room` (`opening:<id>` or `evaluation:<id>`):
/// the opening's host and the committee's seated experts (and the agency running it)
/// publish; supervisors, bidders and the purchaser receive only. Non-members are refused
/// as for every other command.
pub async fn role_for(state: &AppState, user: &CurrentUser, room: &str) -> AppResult<Role> {
    let (kind, tender) = room.split_once(':').ok_or(AppError::NotFound)?;
    match kind {
        "opening" => {
            let m = crate::opening::access::member(state, user, tender).await?;
            Ok(if m.host {
                Role::Publisher
            } else {
                Role::Subscriber
            })
        }
        "evaluation" => {
            let m = crate::committee::access::member(state, user, tender).await?;
            if m.seat.is_some() && m.expert().is_none() {
                return Err(crate::committee::types::EvalRoomError::NotOnPanel.into());
            }
            Ok(if m.expert().is_some() || m.host {
                Role::Publisher
            } else {
                Role::Subscriber
            })
        }
        _ => Err(AppError::NotFound),
    }
}

/// Stores the room's finished recordings not yet in the ledger: each file becomes a blob
/// named by its SHA-256 and a `recording_stored` event lists it. Called when someone
/// leaves the room's media (a publisher's tracks finish then).
pub async fn store_recordings(state: &AppState, room: &str) -> AppResult<usize> {
    let Some((_, tender)) = room.split_once(':') else {
        return Ok(0);
    };
    let mut stored = 0;
    for rec in state.media.recordings(room) {
        let now = state.clock.now_ms();
        let mut tx = state.db.begin().await?;
        crate::tender::repo::lock(&mut tx, tender)
            .await?
            .ok_or(AppError::NotFound)?;
        let known: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM ledger_events WHERE tender_id = $1 AND kind = 'recording_stored' \
             AND body LIKE $2",
        )
        .bind(tender)
        .bind(format!("%\"sha256\":\"{}\"%", rec.sha256))
        .fetch_one(&mut *tx)
        .await?;
        if known > 0 || !rec.path.exists() {
            continue;
        }
        state.blobs.adopt_file(&rec.path, &rec.sha256).await?;
        crate::ledger::repo::append(
            &mut tx,
            tender,
            now,
            "recording_stored",
            &rec.participant,
            json!({
                "room": room,
                "participant": rec.participant,
                "track_id": rec.track_id,
                "kind": rec.kind,
                "content_type": rec.content_type,
                "sha256": rec.sha256,
                "bytes": rec.bytes,
                "packets": rec.packets,
                "dropped": rec.dropped,
            }),
        )
        .await?;
        tx.commit().await?;
        stored += 1;
    }
    if stored > 0 {
        state.rooms.notify(tender);
    }
    Ok(stored)
}
