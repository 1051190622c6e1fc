//! Recording: each published track written to a file while the session runs — VP8 to IVF,
//! Opus to Ogg, both containers a standard player (ffmpeg, VLC) opens — and, when the track
//! ends, the file's SHA-256 so the caller can store it as a blob and list it in the ledger.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};

use rtc::media::io::ivf_reader::IVFFileHeader;
use rtc::media::io::ivf_writer::IVFWriter;
use rtc::media::io::ogg_writer::OggWriter;
use rtc::media::io::Writer;
use rtc::rtp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::MediaKind;

/// A finished recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recording {
    pub room: String,
    pub participant: String,
    pub track_id: String,
    pub kind: MediaKind,
    /// `video/ivf` (VP8) or `audio/ogg` (Opus).
    pub content_type: &'static str,
    pub path: PathBuf,
    /// Lower-case hex SHA-256 of the whole file.
    pub sha256: String,
    pub bytes: u64,
    /// RTP packets handed to the writer.
    pub packets: u64,
    /// Packets lost because the writer fell behind (its queue was full).
    pub dropped: u64,
}

/// A recorder running on the blocking pool; feed it with [`RecorderHandle::push`].
pub(crate) struct RecorderHandle {
    tx: mpsc::Sender<rtp::Packet>,
    pub(crate) dropped: std::sync::atomic::AtomicU64,
    pub(crate) task: JoinHandle<Result<Recording, String>>,
}

const RECORDER_QUEUE: usize = 2048;

impl RecorderHandle {
    pub(crate) fn start(
        dir: &Path,
        room: &str,
        participant: &str,
        track_id: &str,
        kind: MediaKind,
    ) -> std::io::Result<RecorderHandle> {
        let room_dir = dir.join(sanitize(room));
        std::fs::create_dir_all(&room_dir)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let ext = match kind {
            MediaKind::Video => "ivf",
            MediaKind::Audio => "ogg",
        };
        let path = room_dir.join(format!(
            "{}-{}-{stamp}.{ext}",
            sanitize(participant),
            sanitize(track_id)
        ));
        let (tx, rx) = mpsc::channel(RECORDER_QUEUE);
        let meta = Recording {
            room: room.to_owned(),
            participant: participant.to_owned(),
            track_id: track_id.to_owned(),
            kind,
            content_type: match kind {
                MediaKind::Video => "video/ivf",
                MediaKind::Audio => "audio/ogg",
            },
            path,
            sha256: String::new(),
            bytes: 0,
            packets: 0,
            dropped: 0,
        };
        let task = tokio::task::spawn_blocking(move || run(meta, rx));
        Ok(RecorderHandle {
            tx,
            dropped: Default::default(),
            task,
        })
    }

    /// Never waits: a full queue drops the packet and counts it.
    pub(crate) fn push(&self, pkt: &rtp::Packet) {
        if self.tx.try_send(pkt.clone()).is_err() {
            self.dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Closes the file and hashes it.
    pub(crate) async fn finish(self) -> Result<Recording, String> {
        let dropped = self.dropped.load(std::sync::atomic::Ordering::Relaxed);
        drop(self.tx);
        let mut rec = self.task.await.map_err(|e| e.to_string())??;
        rec.dropped = dropped;
        Ok(rec)
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Width and height from a VP8 keyframe's RTP payload (RFC 7741 descriptor, then the
/// RFC 6386 frame header), or `None` if this packet does not start a keyframe.
pub(crate) fn vp8_keyframe_size(payload: &[u8]) -> Option<(u16, u16)> {
    let first = *payload.first()?;
    let start_of_partition = first & 0x10 != 0 && first & 0x07 == 0;
    if !start_of_partition {
        return None;
    }
    let mut i = 1;
    if first & 0x80 != 0 {
        let x = *payload.get(i)?;
        i += 1;
        if x & 0x80 != 0 {
            let pid = *payload.get(i)?;
            i += if pid & 0x80 != 0 { 2 } else { 1 };
        }
        if x & 0x40 != 0 {
            i += 1;
        }
        if x & 0x30 != 0 {
            i += 1;
        }
    }
    let f = payload.get(i..i + 10)?;
    let keyframe = f[0] & 0x01 == 0;
    if !keyframe || f[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let w = u16::from_le_bytes([f[6], f[7]]) & 0x3fff;
    let h = u16::from_le_bytes([f[8], f[9]]) & 0x3fff;
    Some((w, h))
}

fn run(mut meta: Recording, mut rx: mpsc::Receiver<rtp::Packet>) -> Result<Recording, String> {
    let shown = meta_path(&meta);
    let err = |e: &dyn std::fmt::Display| format!("{shown}: {e}");
    let mut writer: Option<Box<dyn Writer>> = None;
    if meta.kind == MediaKind::Audio {
        let file = File::create(&meta.path).map_err(|e| err(&e))?;
        writer = Some(Box::new(
            OggWriter::new(BufWriter::new(file), 48_000, 2).map_err(|e| err(&e))?,
        ));
    }
    while let Some(pkt) = rx.blocking_recv() {
        if writer.is_none() {
            // IVF needs the frame size in its header: wait for the first keyframe.
            let Some((width, height)) = vp8_keyframe_size(&pkt.payload) else {
                continue;
            };
            let file = File::create(&meta.path).map_err(|e| err(&e))?;
            let header = IVFFileHeader {
                signature: *b"DKIF",
                version: 0,
                header_size: 32,
                four_cc: *b"VP80",
                width,
                height,
                // The writer stamps frames by count, so the timebase is one frame at 30 fps.
                timebase_denominator: 30,
                timebase_numerator: 1,
                num_frames: 0,
                unused: 0,
            };
            writer = Some(Box::new(
                IVFWriter::new(BufWriter::new(file), &header).map_err(|e| err(&e))?,
            ));
        }
        if let Some(w) = writer.as_mut() {
            meta.packets += 1;
            if let Err(e) = w.write_rtp(&pkt) {
                tracing::debug!(error = %e, "recorder skipped a packet");
            }
        }
    }
    let Some(mut w) = writer else {
        return Err(format!("{}: no keyframe was received", meta_path(&meta)));
    };
    w.close().map_err(|e| err(&e))?;
    drop(w);
    let (sha256, bytes) = hash_file(&meta.path).map_err(|e| err(&e))?;
    meta.sha256 = sha256;
    meta.bytes = bytes;
    Ok(meta)
}

fn meta_path(meta: &Recording) -> String {
    meta.path.display().to_string()
}

/// SHA-256 (hex) and length of a file.
pub fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((hex::encode(h.finalize()), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_size_of_a_vp8_keyframe() {
        // Descriptor 0x10 (start of partition 0), then a keyframe header for 64x48.
        let p = [0x10, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 64, 0, 48, 0, 0];
        assert_eq!(vp8_keyframe_size(&p), Some((64, 48)));
        let mut inter = p;
        inter[1] |= 1;
        assert_eq!(vp8_keyframe_size(&inter), None);
        assert_eq!(vp8_keyframe_size(&p[..5]), None);
    }
}
