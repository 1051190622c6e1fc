//! RTP packets forwarded per SFU core-second as subscribers grow.
//!
//! The SFU runs on a tokio runtime of its own (one worker; its threads are named `sfu-*`),
//! the in-process peers on another, so the SFU's CPU time is read per thread from
//! /proc/self/task. Real ICE, DTLS and SRTP over loopback. The baseline is the offered
//! load measured in the same run: packets the publishers sent times the participants each
//! packet goes to; the ratio is how much of it the subscribers received.
//!
//! cargo bench -p kaibiao-media --bench forwarding

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{connect, Offer, Peer};
use kaibiao_media::{MediaConfig, Role, Sfu, OPUS_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE};
use rtc::rtp;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::Track;

const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(4);

/// CPU seconds used so far by this process's threads whose name starts with `prefix`.
fn thread_cpu(prefix: &str) -> f64 {
    let tick = 100.0; // USER_HZ on Linux
    let mut total = 0u64;
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    for t in dir.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        // Fields after the ")" that closes the command name: utime is 14th, stime 15th.
        if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ut: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
            let st: u64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
            total += ut + st;
        }
    }
    total as f64 / tick
}

fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Sends `video_pps` 1,000-byte VP8 packets and 50 Opus packets a second, in 10 ms bursts.
fn send_load(
    peer: &Peer,
    video_pps: u32,
    sent: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> tokio::task::JoinHandle<()> {
    let video = peer.tracks[0].clone();
    let audio = peer.tracks[1].clone();
    tokio::spawn(async move {
        let vssrc = video.ssrcs().await[0];
        let assrc = audio.ssrcs().await[0];
        let mut payload = vec![0u8; 1000];
        payload[0] = 0x10;
        let payload = Bytes::from(payload);
        let (mut vseq, mut aseq) = (0u16, 0u16);
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        let mut n = 0u64;
        let per_tick = (video_pps / 100).max(1);
        loop {
            tick.tick().await;
            n += 1;
            for i in 0..per_tick {
                vseq = vseq.wrapping_add(1);
                let pkt = rtp::Packet {
                    header: rtp::header::Header {
                        version: 2,
                        marker: i + 1 == per_tick,
                        payload_type: VP8_PAYLOAD_TYPE,
                        sequence_number: vseq,
                        timestamp: (n * 900) as u32,
                        ssrc: vssrc,
                        ..Default::default()
                    },
                    payload: payload.clone(),
                };
                if video.write_rtp(pkt).await.is_ok() {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
            if n.is_multiple_of(2) {
                aseq = aseq.wrapping_add(1);
                let pkt = rtp::Packet {
                    header: rtp::header::Header {
                        version: 2,
                        payload_type: OPUS_PAYLOAD_TYPE,
                        sequence_number: aseq,
                        timestamp: u32::from(aseq) * 960,
                        ssrc: assrc,
                        ..Default::default()
                    },
                    payload: Bytes::from_static(&common::OPUS_SILENCE),
                };
                if audio.write_rtp(pkt).await.is_ok() {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    })
}

struct Scenario {
    name: &'static str,
    publishers: usize,
    subscribers: usize,
    video_pps: u32,
}

async fn run(sfu_rt: &tokio::runtime::Runtime, sc: &Scenario, round: usize) {
    let sfu = Sfu::new_on(MediaConfig::loopback(), sfu_rt.handle().clone());
    let room = format!("bench-{round}-{}", sc.name);
    let rss0 = rss_bytes();
    let mut pubs = Vec::new();
    for i in 0..sc.publishers {
        pubs.push(
            connect(
                &sfu,
                &room,
                &format!("pub-{i}"),
                Role::Publisher,
                Offer::Send,
            )
            .await
            .unwrap(),
        );
    }
    let mut subs = Vec::new();
    for i in 0..sc.subscribers {
        subs.push(
            connect(
                &sfu,
                &room,
                &format!("sub-{i}"),
                Role::Subscriber,
                Offer::Receive,
            )
            .await
            .unwrap(),
        );
    }
    let participants = sc.publishers + sc.subscribers;
    // Each packet goes to every participant but its publisher.
    let fanout = (participants - 1) as u64;
    let want_tracks = (2 * sc.publishers) as u64;
    let deadline = Instant::now() + Duration::from_secs(60);
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let senders: Vec<_> = pubs
        .iter()
        .map(|p| send_load(p, sc.video_pps, sent.clone()))
        .collect();
    loop {
        let ready = pubs
            .iter()
            .all(|p| p.received.tracks.load(Ordering::Relaxed) == want_tracks - 2)
            && subs
                .iter()
                .all(|p| p.received.tracks.load(Ordering::Relaxed) == want_tracks);
        if ready || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(WARMUP).await;
    let rss1 = rss_bytes();
    let received = |ps: &[Peer]| -> u64 {
        ps.iter()
            .map(|p| {
                p.received.video.load(Ordering::Relaxed) + p.received.audio.load(Ordering::Relaxed)
            })
            .sum()
    };
    let fwd = |sfu: &Sfu| -> (u64, u64) {
        let info = sfu.room(&room).unwrap();
        (
            info.participants.iter().map(|p| p.forwarded).sum(),
            info.participants.iter().map(|p| p.dropped).sum(),
        )
    };
    let (sent0, recv0, (fwd0, drop0), cpu0, t0) = (
        sent.load(Ordering::Relaxed),
        received(&pubs) + received(&subs),
        fwd(&sfu),
        thread_cpu("sfu"),
        Instant::now(),
    );
    tokio::time::sleep(MEASURE).await;
    let (sent1, recv1, (fwd1, drop1), cpu1, t1) = (
        sent.load(Ordering::Relaxed),
        received(&pubs) + received(&subs),
        fwd(&sfu),
        thread_cpu("sfu"),
        Instant::now(),
    );
    for s in senders {
        s.abort();
    }
    let secs = (t1 - t0).as_secs_f64();
    let cpu = cpu1 - cpu0;
    let forwarded = fwd1 - fwd0;
    let offered = (sent1 - sent0) * fanout;
    let got = recv1 - recv0;
    let per_core = forwarded as f64 / cpu.max(1e-9);
    println!(
        "{:<22} {:>4} conns  offered {:>7.0}/s  forwarded {:>7.0}/s  received {:>7.0}/s  ratio {:.3}  dropped {:>5}  SFU cores {:.2}  per SFU core-second {:>7.0}  SFU CPU/conn {:.4} cores  RSS/conn {:.2} MB",
        sc.name,
        participants,
        offered as f64 / secs,
        forwarded as f64 / secs,
        got as f64 / secs,
        got as f64 / offered.max(1) as f64,
        drop1 - drop0,
        cpu / secs,
        per_core,
        cpu / secs / participants as f64,
        (rss1.saturating_sub(rss0)) as f64 / participants as f64 / 1e6,
    );
    drop(pubs);
    drop(subs);
    sfu.close_room(&room).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
}

fn main() {
    let sfu_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("sfu-rt")
        .enable_all()
        .build()
        .unwrap();
    let peer_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("peer-rt")
        .enable_all()
        .build()
        .unwrap();
    let scenarios = [
        Scenario {
            name: "1 -> 1",
            publishers: 1,
            subscribers: 1,
            video_pps: 5_000,
        },
        Scenario {
            name: "1 -> 10",
            publishers: 1,
            subscribers: 10,
            video_pps: 3_000,
        },
        Scenario {
            name: "1 -> 50",
            publishers: 1,
            subscribers: 50,
            video_pps: 1_000,
        },
        Scenario {
            name: "9 experts + 3 observers",
            publishers: 9,
            subscribers: 3,
            video_pps: 300,
        },
    ];
    println!("SFU: 1 tokio worker (threads sfu-*), peers: 1 worker (peer-*); {}s per scenario after {}s warm-up", MEASURE.as_secs(), WARMUP.as_secs());
    peer_rt.block_on(async {
        for (round, sc) in scenarios.iter().enumerate() {
            run(&sfu_rt, sc, round).await;
        }
    });
}
