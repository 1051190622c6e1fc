//! A recorded session opens with ffprobe and its reported hash is the file's.

use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use kaibiao_media::testing::{connect, start_sending, wait_for, Offer};
use kaibiao_media::{hash_file, MediaConfig, MediaKind, Role, Sfu};

fn ffprobe_available() -> bool {
    let found = Command::new("ffprobe")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("ffprobe is required in CI (Debian package ffmpeg)");
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_session_opens_with_ffprobe_and_its_hash_matches() {
    if !ffprobe_available() {
        eprintln!("skipped: ffprobe not installed (apt-get install ffmpeg)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sfu = Sfu::new(MediaConfig {
        recording_dir: Some(dir.path().to_path_buf()),
        ..MediaConfig::loopback()
    });
    let room = "evaluation:rec";
    let expert = connect(&sfu, room, "expert-1", Role::Publisher, Offer::Send)
        .await
        .unwrap();
    let send = start_sending(&expert, 30);
    let watcher = connect(&sfu, room, "oversight-1", Role::Subscriber, Offer::Receive)
        .await
        .unwrap();
    // Record until the watcher has seen a second of both tracks (a loaded machine takes
    // longer to connect; a fixed sleep would record too little).
    let r = watcher.received.clone();
    assert!(
        wait_for(30, || r.video.load(Ordering::Relaxed) > 30
            && r.audio.load(Ordering::Relaxed) > 30)
        .await
    );
    send.abort();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let recs = sfu.close_room(room).await;
    assert_eq!(recs.len(), 2, "{recs:?}");
    for rec in &recs {
        assert!(rec.packets > 10, "{rec:?}");
        let (sha, bytes) = hash_file(&rec.path).unwrap();
        assert_eq!(sha, rec.sha256);
        assert_eq!(bytes, rec.bytes);
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "stream=codec_name,width,height",
                "-of",
                "csv=p=0",
            ])
            .arg(&rec.path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "ffprobe failed on {:?}: {}",
            rec.path,
            String::from_utf8_lossy(&out.stderr)
        );
        match rec.kind {
            MediaKind::Video => assert!(text.starts_with("vp8,64,48"), "{text}"),
            MediaKind::Audio => assert!(text.starts_with("opus"), "{text}"),
        }
        // The whole file decodes.
        let dec = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&rec.path)
            .args(["-f", "null", "-"])
            .output()
            .unwrap();
        assert!(
            dec.status.success(),
            "{}",
            String::from_utf8_lossy(&dec.stderr)
        );
    }
}
