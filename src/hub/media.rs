//! The media plane on the hub (docs/media.md): the recordings kept when publishers
//! leave, stored as blobs and listed in the tender's ledger (`recording_stored`). Who
//! publishes and who only receives is each room kind's `media_role`.

use crate::error::{AppError, AppResult};
use crate::ledger::{Kind, LedgerEvent, RecordingStored};
use crate::state::AppState;

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
            "SELECT COUNT(*) FROM ledger_events WHERE tender_id = $1 AND kind = $2 \
             AND body LIKE $3",
        )
        .bind(tender)
        .bind(Kind::RecordingStored.as_str())
        .bind(format!("%\"sha256\":\"{}\"%", rec.sha256))
        .fetch_one(&mut *tx)
        .await?;
        if known > 0 || !rec.path.exists() {
            continue;
        }
        state.blobs.adopt_file(&rec.path, &rec.sha256).await?;
        let event = LedgerEvent::RecordingStored(RecordingStored {
            room: room.to_string(),
            participant: rec.participant.clone(),
            track_id: rec.track_id.clone(),
            kind: match rec.kind {
                kaibiao_media::MediaKind::Audio => "audio",
                kaibiao_media::MediaKind::Video => "video",
            }
            .to_string(),
            content_type: rec.content_type.to_string(),
            sha256: rec.sha256.clone(),
            bytes: rec.bytes,
            packets: rec.packets,
            dropped: rec.dropped,
        });
        crate::ledger::repo::append(&mut tx, tender, now, &rec.participant, &event).await?;
        tx.commit().await?;
        stored += 1;
    }
    if stored > 0 {
        state.rooms.notify(tender);
    }
    Ok(stored)
}
