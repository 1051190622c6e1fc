//! Audio and video (web/js/media.js) in two real Chromiums with fake cameras. In the
//! evaluation room two seated experts join from their pages, each sees the other's video
//! playing (frames decoded, time advancing) and their own tile, and both see that the
//! finance supervisor is watching. In the opening hall the host publishes and a bidder,
//! receive-only, sees and hears the host. Two experts whose pages two nodes serve see each
//! other as well (PostgreSQL pass).

use std::time::{Duration, Instant};

use fantoccini::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::browser::{browser_with, click, js, login, wait_css, wait_long, Driver, FAKE_MEDIA};
use crate::common::{Session, TestApp};

async fn eval_command(s: &Session, tender: &str, cmd: Value) {
    let (status, v) = s
        .post(&format!("/api/tenders/{tender}/evaluation"), cmd.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{cmd} → {v}");
}

/// A tender in evaluation with its panel drawn and seated; the seated experts' user names.
pub(crate) async fn seated(
    app: &TestApp,
    clock: &kaibiao::clock::ManualClock,
) -> (String, Vec<String>) {
    let (tender, _) =
        crate::evaluation::evaluating(app, clock, &[100_000_000, 105_000_000, 95_000_000]).await;
    let experts = seat_panel(app, &tender).await;
    (tender, experts)
}

/// The agency asks for a panel, finance draws it, every expert drawn accepts: the seated
/// experts' user names.
pub(crate) async fn seat_panel(app: &TestApp, tender: &str) -> Vec<String> {
    eval_command(
        &app.login("agency").await,
        tender,
        json!({"type": "request_draw", "specialty": "environmental"}),
    )
    .await;
    let finance = app.login("finance").await;
    eval_command(&finance, tender, json!({"type": "draw", "nonce": "x"})).await;
    let (_, v) = finance
        .get(&format!("/api/tenders/{tender}/evaluation"))
        .await;
    let mut experts = Vec::new();
    for seat in v["panel"].as_array().unwrap() {
        let user = crate::evaluation::expert_user(app, seat["expert_id"].as_str().unwrap()).await;
        let accept = crate::evaluation::accept(app, &user, tender).await;
        eval_command(&app.login(&user).await, tender, accept).await;
        experts.push(user);
    }
    experts
}

/// What the page shows of the other participant's video: frames decoded and the time.
async fn other_video(c: &Client) -> Value {
    js(
        c,
        "const v = document.querySelector('.media-tile[data-own=\"false\"] video'); \
         if (!v) return null; \
         const q = v.getVideoPlaybackQuality(); \
         return {frames: q.totalVideoFrames, time: v.currentTime, width: v.videoWidth, \
                 paused: v.paused, muted: v.muted, \
                 name: v.closest('.media-tile').querySelector('.media-name').textContent};",
        vec![],
    )
    .await
}

/// Waits until the other participant's video plays: frames keep coming and time advances.
async fn sees_the_other_playing(c: &Client, who: &str) -> Value {
    let started = Instant::now();
    let mut first: Option<Value> = None;
    loop {
        let v = other_video(c).await;
        if v.is_object() && v["frames"].as_u64().unwrap_or(0) > 0 {
            match &first {
                None => first = Some(v.clone()),
                Some(f) => {
                    if v["frames"].as_u64() >= f["frames"].as_u64().map(|n| n + 20)
                        && v["time"].as_f64() > f["time"].as_f64()
                    {
                        return v;
                    }
                }
            }
        }
        if started.elapsed() > Duration::from_secs(60) {
            let page = js(
                c,
                "return document.querySelector('.media-panel')?.innerText",
                vec![],
            )
            .await;
            panic!("{who} never saw the other's video play: {v} (first {first:?}); panel: {page}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn open_room_and_join(c: &Client, app: &TestApp, user: &str, page: &str, tender: &str) {
    login(c, app, user).await;
    c.goto(&app.url(&format!("/{page}?tender={tender}")))
        .await
        .unwrap();
    wait_long(c, "#media-join").await;
    click(c, "#media-join").await;
    wait_css(c, ".media-panel[data-state='joined']").await;
}

#[tokio::test]
async fn two_seated_experts_see_and_hear_each_other_in_the_evaluation_room() {
    let Some(a) = browser_with(FAKE_MEDIA).await else {
        return;
    };
    let Some(b) = browser_with(FAKE_MEDIA).await else {
        return;
    };
    let (app, clock) = crate::common::spawn_app_at(crate::evaluation::T0).await;
    let (tender, experts) = seated(&app, &clock).await;
    assert!(experts.len() >= 2, "{experts:?}");

    // The finance supervisor watches, on a hub connection of its own.
    let room = format!("evaluation:{tender}");
    let mut finance = crate::hub::connect(&app, "finance").await;
    crate::hub::send(
        &mut finance,
        json!({"type": "subscribe", "room": room, "since_seq": 0}),
    )
    .await;
    crate::hub::next_where(&mut finance, |v| v["type"] == "subscribed").await;

    let drivers: [&Driver; 2] = [&a, &b];
    for (d, user) in drivers.iter().zip(&experts) {
        open_room_and_join(&d.client, &app, user, "evaluation.html", &tender).await;
    }
    crate::hub::send(&mut finance, json!({"type": "media_join", "room": room})).await;
    let joined = crate::hub::next_where(&mut finance, |v| v["type"] == "media_joined").await;
    assert_eq!(joined["role"], "subscriber", "{joined}");

    for (d, user) in drivers.iter().zip(&experts) {
        let c = &d.client;
        let v = sees_the_other_playing(c, user).await;
        assert!(v["width"].as_u64().unwrap_or(0) > 0, "{user}: {v}");
        assert_eq!(v["paused"], false, "{user}: {v}");
        // The other's sound plays; one's own is muted and mirrored.
        assert_eq!(v["muted"], false, "{user}: {v}");
        let own = js(
            c,
            "const v = document.querySelector('.media-tile[data-own=\"true\"] video'); \
             return v && {muted: v.muted, transform: getComputedStyle(v).transform, \
                          frames: v.getVideoPlaybackQuality().totalVideoFrames};",
            vec![],
        )
        .await;
        assert_eq!(own["muted"], true, "{user}: {own}");
        assert!(
            own["transform"]
                .as_str()
                .unwrap_or("")
                .starts_with("matrix(-1"),
            "{user}: {own}"
        );
        // The other's sound arrives: Chromium's fake microphone beeps, and the tile's level
        // meter (what lights up a speaker) moves.
        let started = Instant::now();
        loop {
            let level = js(
                c,
                "return Math.max(...Array.from(document.querySelectorAll(                    '.media-tile[data-own=\"false\"]'), t => parseFloat(t.dataset.level || '0')))",
                vec![],
            )
            .await;
            if level.as_f64().unwrap_or(0.0) > 0.01 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{user} never heard the other: level {level}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // One tile for each of the two publishers present, and the supervisor is watching.
        wait_css(c, ".media-watching[data-count='1']:not([hidden])").await;
        let tiles = js(
            c,
            "return document.querySelectorAll('.media-tile').length",
            vec![],
        )
        .await;
        assert_eq!(tiles, 2, "{user}");
        let status = js(
            c,
            "return document.querySelector('.media-status').dataset.conn",
            vec![],
        )
        .await;
        assert_eq!(status, "connected", "{user}");
    }

    // Camera off turns the sending track off, and on again.
    let c = &a.client;
    click(c, ".media-tile[data-own='true'] .media-camera").await;
    wait_css(
        c,
        ".media-tile[data-own='true'].video-off .media-camera[aria-pressed='true']",
    )
    .await;
    click(c, ".media-tile[data-own='true'] .media-camera").await;
    wait_css(c, ".media-tile[data-own='true']:not(.video-off)").await;
    let enabled = js(c, "return document.querySelector('.media-tile[data-own=\"true\"] video').srcObject.getVideoTracks()[0].enabled", vec![]).await;
    assert_eq!(enabled, true);

    if let Ok(dir) = std::env::var("KAIBIAO_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        for (width, height) in [(1280, 900), (390, 844)] {
            c.set_window_size(width, height).await.unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            js(
                c,
                "document.querySelector('.media-panel').scrollIntoView({block: 'start'}); \
                 window.scrollBy(0, -8);",
                vec![],
            )
            .await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let png = c.screenshot().await.unwrap();
            std::fs::write(format!("{dir}/evaluation-media-{width}.png"), png).unwrap();
        }
        c.set_window_size(1280, 900).await.unwrap();
    }

    // Leaving takes the tile away on the other side.
    click(c, "#media-leave").await;
    wait_css(c, ".media-panel[data-state='idle'] #media-join").await;
    let other = &b.client;
    let started = Instant::now();
    while js(
        other,
        "return document.querySelectorAll('.media-tile[data-own=\"false\"]').length",
        vec![],
    )
    .await
        != 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the other's tile stayed after they left"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for d in [a, b] {
        d.close().await;
    }
}

#[tokio::test]
async fn a_bidder_watches_the_host_in_the_opening_hall() {
    let Some(host) = browser_with(FAKE_MEDIA).await else {
        return;
    };
    let Some(bidder) = browser_with(FAKE_MEDIA).await else {
        return;
    };
    let (app, clock) = crate::common::spawn_app_at(crate::evaluation::T0).await;
    let (tender, _) =
        crate::evaluation::evaluating(&app, &clock, &[100_000_000, 105_000_000, 95_000_000]).await;
    open_room_and_join(&host.client, &app, "agency", "opening.html", &tender).await;
    open_room_and_join(&bidder.client, &app, "supplier1", "opening.html", &tender).await;

    let c = &bidder.client;
    wait_css(c, ".media-role[data-role='subscriber']").await;
    let v = sees_the_other_playing(c, "supplier1").await;
    assert!(v["width"].as_u64().unwrap_or(0) > 0, "{v}");
    assert_eq!(v["muted"], false, "{v}");
    // Receive-only: no camera asked for, no tile of one's own.
    let own = js(
        c,
        "return document.querySelectorAll('.media-tile[data-own=\"true\"]').length",
        vec![],
    )
    .await;
    assert_eq!(own, 0);

    // The host sees the bidder among those watching, and no one else's tile.
    let h = &host.client;
    wait_css(h, ".media-role[data-role='publisher']").await;
    wait_css(h, ".media-watching[data-count='1']:not([hidden])").await;
    let tiles = js(
        h,
        "return document.querySelectorAll('.media-tile').length",
        vec![],
    )
    .await;
    assert_eq!(tiles, 1);
    for d in [host, bidder] {
        d.close().await;
    }
}

/// Two seated experts whose pages are served by two nodes on one PostgreSQL see and hear
/// each other: the room's media runs at the node the first joined at, and the other's
/// signalling is relayed to it (docs/nodes.md, "Media rooms"). PostgreSQL pass only.
#[tokio::test]
async fn two_experts_at_two_nodes_see_and_hear_each_other() {
    if std::env::var("KAIBIAO_TEST_DATABASE_URL").is_err() {
        eprintln!("several nodes need PostgreSQL: this test runs on the PostgreSQL pass");
        return;
    }
    let Some(a) = browser_with(FAKE_MEDIA).await else {
        return;
    };
    let Some(b) = browser_with(FAKE_MEDIA).await else {
        return;
    };
    let (app, clock) = crate::common::spawn_app_at(crate::evaluation::T0).await;
    // A second node on the same database, sharing the first one's folder.
    let shared = app.dir.path().to_path_buf();
    let (other, _) = crate::common::spawn_demo_with(
        tempfile::tempdir().unwrap(),
        app.database_url.clone(),
        clock.clone(),
        move |c| c.shared_dir = Some(shared),
    )
    .await;
    let (tender, experts) = seated(&app, &clock).await;
    open_room_and_join(&a.client, &app, &experts[0], "evaluation.html", &tender).await;
    open_room_and_join(&b.client, &other, &experts[1], "evaluation.html", &tender).await;
    for (c, user) in [(&a.client, &experts[0]), (&b.client, &experts[1])] {
        let v = sees_the_other_playing(c, user).await;
        assert!(v["width"].as_u64().unwrap_or(0) > 0, "{user}: {v}");
        assert_eq!(v["muted"], false, "{user}: {v}");
    }
    // One media room, at the node the first expert joined at.
    let room = format!("evaluation:{tender}");
    assert_eq!(
        app.state.media.room(&room).map(|r| r.participants.len()),
        Some(2)
    );
    assert!(other.state.media.room(&room).is_none());

    // The other node takes the room over (as it does when it cannot reach the first): the
    // first node lets its people go, and both pages say they are reconnecting (a leave
    // button, no join button to press) and join again by themselves — both now in the
    // other node's room, each seeing the other again.
    let other_url = crate::nodes::node_url(&other);
    crate::nodes::hand_media_room(&app, &room, &crate::nodes::node_id(&other), &other_url).await;
    let panel = "const p = document.querySelector('.media-panel'); \
                 return p && p.querySelector('#media-leave') && !p.querySelector('#media-join') \
                 ? p.innerText : ''";
    let started = Instant::now();
    loop {
        let text = js(&a.client, panel, vec![]).await;
        if text
            .as_str()
            .unwrap_or("")
            .contains("音视频已转到另一台服务器，正在重新连接")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the first expert's page was never told: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if let Ok(dir) = std::env::var("KAIBIAO_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        js(
            &a.client,
            "document.querySelector('.media-panel').scrollIntoView({block: 'start'})",
            vec![],
        )
        .await;
        let png = a.client.screenshot().await.unwrap();
        std::fs::write(format!("{dir}/evaluation-media-moved.png"), png).unwrap();
    }
    for (c, user) in [(&a.client, &experts[0]), (&b.client, &experts[1])] {
        let v = sees_the_other_playing(c, user).await;
        assert!(v["width"].as_u64().unwrap_or(0) > 0, "{user}: {v}");
    }
    assert_eq!(
        other.state.media.room(&room).map(|r| r.participants.len()),
        Some(2)
    );
    assert!(app
        .state
        .media
        .room(&room)
        .is_none_or(|r| r.participants.is_empty()));
}
