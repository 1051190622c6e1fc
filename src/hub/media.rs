//! The media plane on the hub (docs/media.md): the recordings kept when publishers
//! leave, stored as blobs and listed in the tender's ledger (`recording_stored`). Who
//! publishes and who only receives is each room kind's `media_role`.

use crate::error::{AppError, AppResult};
use crate::ledger::{Kind, LedgerEvent, RecordingStored};
use crate::state::AppState;

/// Whether the tender's ledger lists a recording of this SHA-256 already.
async fn listed(tx: &mut crate::db::Tx, tender: &str, sha256: &str) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ledger_events WHERE tender_id = $1 AND kind = $2 \
         AND body LIKE $3",
    )
    .bind(tender)
    .bind(Kind::RecordingStored.as_str())
    .bind(format!("%\"sha256\":\"{sha256}\"%"))
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
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
        if listed(&mut tx, tender, &rec.sha256).await? || !rec.path.exists() {
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
            salvaged: false,
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

/// Keeps, at start, the recordings a server left unfinished when it stopped mid-session
/// (killed, or the machine lost): each file still in the recording folder — a finished
/// one is moved into the blob store when it is listed — becomes a blob and a
/// `recording_stored` event marked `salvaged`, playable up to where it was cut. A file of
/// a room whose tender is unknown is left where it is. Returns how many were kept.
pub async fn salvage_recordings(state: &AppState) -> anyhow::Result<usize> {
    let Some(dir) = state.config.media.recording_dir.clone() else {
        return Ok(0);
    };
    let Ok(mut rooms) = tokio::fs::read_dir(&dir).await else {
        return Ok(0);
    };
    let mut kept = 0;
    while let Some(room_dir) = rooms.next_entry().await? {
        // The folder is the room's name made safe: `<kind>_<tender id>`.
        let folder = room_dir.file_name().to_string_lossy().into_owned();
        let Some((kind, tender)) = folder.split_once('_') else {
            continue;
        };
        if !["opening", "evaluation", "rounds"].contains(&kind) {
            continue;
        }
        let Ok(mut files) = tokio::fs::read_dir(room_dir.path()).await else {
            continue;
        };
        while let Some(file) = files.next_entry().await? {
            let path = file.path();
            let (media_kind, content_type) = match path.extension().and_then(|e| e.to_str()) {
                Some("ivf") => ("video", "video/ivf"),
                Some("ogg") => ("audio", "audio/ogg"),
                _ => continue,
            };
            let hashing = path.clone();
            let (sha256, bytes) = tokio::task::spawn_blocking(move || {
                let mut f = std::fs::File::open(&hashing)?;
                let mut h = sha2::Sha256::default();
                let n = std::io::copy(&mut f, &mut h)?;
                std::io::Result::Ok((hex::encode(sha2::Digest::finalize(h)), n))
            })
            .await??;
            let now = state.clock.now_ms();
            let mut tx = state.db.begin().await?;
            if crate::tender::repo::lock(&mut tx, tender).await?.is_none() {
                tracing::warn!(file = %path.display(), "a recording of an unknown tender is left where it is");
                continue;
            }
            // Stored and listed first, removed after: a stop in between finds it listed
            // next time and only removes it.
            if listed(&mut tx, tender, &sha256).await? {
                drop(tx);
                tokio::fs::remove_file(&path).await?;
                continue;
            }
            let stored = state.blobs.put_file(&path).await?;
            anyhow::ensure!(
                stored == sha256,
                "{} changed while it was kept",
                path.display()
            );
            let event = LedgerEvent::RecordingStored(RecordingStored {
                room: format!("{kind}:{tender}"),
                participant: file.file_name().to_string_lossy().into_owned(),
                track_id: String::new(),
                kind: media_kind.into(),
                content_type: content_type.into(),
                sha256,
                bytes,
                packets: 0,
                dropped: 0,
                salvaged: true,
            });
            crate::ledger::repo::append(&mut tx, tender, now, "platform", &event).await?;
            tx.commit().await?;
            tokio::fs::remove_file(&path).await?;
            kept += 1;
        }
    }
    if kept > 0 {
        tracing::warn!(
            recordings = kept,
            "recordings left unfinished by the last run kept as they were written"
        );
    }
    Ok(kept)
}
