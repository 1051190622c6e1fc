//! The SFU with real in-process WebRTC peers over loopback (ICE, DTLS, SRTP).

use std::sync::atomic::Ordering;

use kaibiao_media::testing::{connect, start_sending, wait_for, Offer};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_offers_carry_their_codes() {
    let sfu = Sfu::new(MediaConfig {
        max_participants_per_room: 2,
        ..MediaConfig::loopback()
    });
    let room = "opening:t1";
    // A supervisor (receive-only) offering to send audio and video.
    let e = connect(&sfu, room, "finance-1", Role::Subscriber, Offer::Send)
        .await
        .err()
        .expect("receive-only may not publish");
    assert_eq!(e.code(), "RECEIVE_ONLY");
    // A participant the SFU does not know.
    let e = sfu
        .handle_offer(room, "stranger", "v=0\r\n".into())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "NOT_A_MEMBER");
    let e = sfu
        .handle_offer("opening:other", "finance-1", "v=0\r\n".into())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "NOT_A_MEMBER");
    // Malformed SDP from a member.
    for bad in ["hello", "v=0\r\nm=video\r\n", ""] {
        let e = sfu
            .handle_offer(room, "finance-1", bad.into())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "MALFORMED_SDP", "{bad:?}");
    }
    // An answer with no offer of ours pending.
    let e = sfu
        .handle_answer(
            room,
            "finance-1",
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n".into(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "WRONG_SIGNALLING_STATE");
    // A full room.
    let _host = sfu.join(room, "agency-1", Role::Publisher).await.unwrap();
    let e = sfu
        .join(room, "supplier-9", Role::Subscriber)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ROOM_FULL");
    assert!(!e.body().message.is_empty());
    sfu.close_room(room).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_does_not_hold_back_the_others() {
    let sfu = Sfu::new(MediaConfig::loopback());
    let room = "evaluation:s2";
    let host = connect(&sfu, room, "host", Role::Publisher, Offer::Send)
        .await
        .unwrap();
    // 100 video frames/s plus 50 audio packets/s.
    let send = start_sending(&host, 100);
    let stalled = connect(&sfu, room, "stalled", Role::Subscriber, Offer::Receive)
        .await
        .unwrap();
    let a = connect(&sfu, room, "a", Role::Subscriber, Offer::Receive)
        .await
        .unwrap();
    let b = connect(&sfu, room, "b", Role::Subscriber, Offer::Receive)
        .await
        .unwrap();
    for p in [&stalled, &a, &b] {
        let r = p.received.clone();
        assert!(
            wait_for(10, || r.video.load(Ordering::Relaxed) > 10).await,
            "{} never received",
            p.id
        );
    }
    stalled.reading.store(false, Ordering::Relaxed);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let before: Vec<u64> = [&a, &b]
        .iter()
        .map(|p| p.received.video.load(Ordering::Relaxed))
        .collect();
    let stalled_before = stalled.received.video.load(Ordering::Relaxed);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    for (p, b0) in [&a, &b].iter().zip(before) {
        let got = p.received.video.load(Ordering::Relaxed) - b0;
        // 100 packets/s were sent; allow for timer slack on a loaded 2-core machine.
        assert!(
            got >= 70,
            "{} received only {got} video packets in 1 s",
            p.id
        );
    }
    assert!(stalled.received.video.load(Ordering::Relaxed) - stalled_before < 5);
    send.abort();
    sfu.close_room(room).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_and_rejoining_receives_again_and_keyframes_are_relayed() {
    let sfu = Sfu::new(MediaConfig::loopback());
    let room = "evaluation:s3";
    let host = connect(&sfu, room, "expert-1", Role::Publisher, Offer::Send)
        .await
        .unwrap();
    let send = start_sending(&host, 30);
    let sub = connect(&sfu, room, "expert-2", Role::Publisher, Offer::Receive)
        .await
        .unwrap();
    let r = sub.received.clone();
    assert!(wait_for(10, || r.video.load(Ordering::Relaxed) > 10).await);

    // A subscriber's own PLI reaches the publisher through the SFU.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let kf_before = host.keyframe_requests.load(Ordering::Relaxed);
    assert!(kaibiao_media::testing::send_pli(&sub).await >= 1);
    let kf = host.keyframe_requests.clone();
    assert!(
        wait_for(5, || kf.load(Ordering::Relaxed) > kf_before).await,
        "the subscriber's PLI did not reach the publisher"
    );

    sfu.leave(room, "expert-2").await.unwrap();
    drop(sub);
    let info = sfu.room(room).unwrap();
    assert_eq!(info.participants.len(), 1);
    assert_eq!(info.participants[0].publishing[0].subscribers, 0);
    let e = sfu
        .handle_offer(room, "expert-2", "v=0\r\n".into())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "NOT_A_MEMBER");

    let again = connect(&sfu, room, "expert-2", Role::Publisher, Offer::Receive)
        .await
        .unwrap();
    let r = again.received.clone();
    assert!(
        wait_for(10, || r.video.load(Ordering::Relaxed) > 10
            && r.audio.load(Ordering::Relaxed) > 10)
        .await,
        "rejoined subscriber received nothing"
    );
    // Joining again under the same id replaces the session.
    let third = connect(&sfu, room, "expert-2", Role::Publisher, Offer::Receive)
        .await
        .unwrap();
    let r = third.received.clone();
    assert!(wait_for(10, || r.video.load(Ordering::Relaxed) > 10).await);
    assert_eq!(sfu.room(room).unwrap().participants.len(), 2);
    send.abort();
    sfu.close_room(room).await;
}

/// A participant who joins again (a second tab, a reconnection at another node) replaces
/// its earlier session, and only the session the SFU holds takes it out: the earlier one
/// ending late leaves the participant in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_session_the_sfu_holds_takes_a_participant_out() {
    let sfu = Sfu::new(MediaConfig::loopback());
    let room = "evaluation:t-1";
    let ids = |sfu: &Sfu| -> Vec<String> {
        sfu.room(room)
            .map(|r| r.participants.into_iter().map(|p| p.id).collect())
            .unwrap_or_default()
    };
    let first = sfu.join(room, "expert-1", Role::Publisher).await.unwrap();
    let again = sfu.join(room, "expert-1", Role::Publisher).await.unwrap();
    assert_ne!(first.session, again.session);
    assert!(!sfu.leave_session(room, "expert-1", first.session).await);
    assert_eq!(ids(&sfu), ["expert-1"], "the later session stays");
    assert!(sfu.leave_session(room, "expert-1", again.session).await);
    assert!(ids(&sfu).is_empty());
    assert!(
        !sfu.leave_session(room, "expert-1", again.session).await,
        "once"
    );
}
