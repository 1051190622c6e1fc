//! The SFU with real in-process WebRTC peers over loopback (ICE, DTLS, SRTP).

mod common;

use std::sync::atomic::Ordering;

use common::{connect, start_sending, wait_for, Offer};
use kaibiao_media::{MediaConfig, Role, Sfu};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publisher_reaches_two_subscribers_and_a_watching_supervisor() {
    let sfu = Sfu::new(MediaConfig::loopback());
    let room = "evaluation:s1";
    let expert = connect(&sfu, room, "expert-1", Role::Publisher, Offer::Send)
        .await
        .unwrap();
    let send = start_sending(&expert, 30);
    let a = connect(&sfu, room, "expert-2", Role::Publisher, Offer::Receive)
        .await
        .unwrap();
    let b = connect(&sfu, room, "expert-3", Role::Publisher, Offer::Receive)
        .await
        .unwrap();
    let sup = connect(&sfu, room, "finance-1", Role::Subscriber, Offer::Receive)
        .await
        .unwrap();
    for p in [&a, &b, &sup] {
        let r = p.received.clone();
        assert!(
            wait_for(10, || r.video.load(Ordering::Relaxed) > 20
                && r.audio.load(Ordering::Relaxed) > 20)
            .await,
            "{} received video {} audio {}",
            p.id,
            r.video.load(Ordering::Relaxed),
            r.audio.load(Ordering::Relaxed)
        );
        assert_eq!(r.bad_payload_type.load(Ordering::Relaxed), 0);
    }
    // Joining subscribers made the SFU ask the publisher for keyframes.
    assert!(expert.keyframe_requests.load(Ordering::Relaxed) >= 1);
    let info = sfu.room(room).unwrap();
    let sup_info = info
        .participants
        .iter()
        .find(|p| p.id == "finance-1")
        .unwrap();
    assert!(sup_info.watching);
    assert!(sup_info.publishing.is_empty());
    let pub_info = info
        .participants
        .iter()
        .find(|p| p.id == "expert-1")
        .unwrap();
    assert_eq!(pub_info.publishing.len(), 2);
    assert!(!pub_info.watching);
    send.abort();
    sfu.close_room(room).await;
}
