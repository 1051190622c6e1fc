//! The supervisors' console (docs/console.md): while one tender is being opened and another
//! evaluated, oversight sees both rooms with their phases and who is in them (real hub
//! connections), filters by region and method, sees the escalated alert of an unanswered
//! question and follows it to its tender, and joins the evaluation room to watch; someone
//! entering a room shows up without a reload. Nobody but supervisors reads the console.

use futures_util::StreamExt;
use kaibiao::clock::Clock as _;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{code, spawn_app_at, TestApp};
use crate::evaluation::{evaluating, T0};
use crate::hub::{connect, next_where, send};

/// `user` enters `room` over the hub and stays, answering pings, until the test ends.
async fn enter(app: &TestApp, user: &str, room: &str) {
    let mut ws = connect(app, user).await;
    send(&mut ws, json!({"type": "subscribe", "room": room})).await;
    next_where(&mut ws, |v| v["type"] == "presence").await;
    tokio::spawn(async move { while let Some(Ok(_)) = ws.next().await {} });
}

pub(crate) fn room_of<'a>(v: &'a Value, tender: &str, kind: &str) -> &'a Value {
    v["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tender"]["id"] == tender && r["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} room of {tender} in {v}"))
}

#[tokio::test]
async fn oversight_watches_an_opening_and_an_evaluation_live_and_follows_an_alert_to_its_tender() {
    let (app, clock) = spawn_app_at(T0).await;
    let school = app.school_tender().await;
    let school_id = school["id"].as_str().unwrap().to_string();
    // A question on the school tender that nobody answers: escalated when it is late.
    let s4 = app.login("supplier4").await;
    s4.post(
        &format!("/api/tenders/{school_id}/documents/obtain"),
        json!({}),
    )
    .await;
    let (status, q) = s4
        .post(
            &format!("/api/tenders/{school_id}/questions"),
            json!({"text": "交互式智能黑板是否接受同等档次品牌?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{q}");

    // The demo's opening tender is opened and goes to evaluation.
    let (evaluated, _) = evaluating(&app, &clock, &[100_000_000, 105_000_000, 111_000_000]).await;
    // Three bids on the school tender; at its deadline the agency starts the opening.
    for i in 1..=3 {
        let s = app.login(&format!("supplier{i}")).await;
        s.register_keys().await;
        let (status, start) = crate::bids::start_bid(&s, &school_id).await;
        assert_eq!(status, StatusCode::CREATED, "{start}");
        let container = crate::bids::seal_sheet(
            &start,
            crate::bids::sheet(150_000_000 + i * 1_000_000, "bid"),
            b"proposal",
            1024,
        );
        let bid = start["bid_id"].as_str().unwrap();
        let (status, v) = crate::bids::upload_all(&s, bid, &container, 4096).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    clock.set(school["bid_deadline"].as_i64().unwrap());
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    let (status, v) = app
        .login("agency")
        .await
        .post(
            &format!("/api/tenders/{school_id}/opening"),
            json!({"type": "start"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    crate::alerts::run(&app).await;

    // The host in the hall, finance in the evaluation room.
    enter(&app, "agency", &format!("opening:{school_id}")).await;
    enter(&app, "finance", &format!("evaluation:{evaluated}")).await;

    let oversight = app.login("oversight").await;
    let (status, v) = oversight.get("/api/console").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let hall = room_of(&v, &school_id, "opening");
    assert_eq!(hall["phase"], "decrypting");
    assert!(hall["ends_at"].as_i64().unwrap() > clock.now_ms(), "{hall}");
    assert_eq!(hall["link"], format!("/opening.html?tender={school_id}"));
    let agency_name = hall["present"][0]["display_name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(hall["present"][0]["role"], "agency", "{hall}");
    let room = room_of(&v, &evaluated, "evaluation");
    assert_eq!(room["present"][0]["role"], "finance", "{room}");
    assert_eq!(room["tender"]["region_name"], "黄石市市直");
    // The question escalated to oversight when it was late, with its tender.
    let alert = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["rule"] == "R-CHAL-1")
        .unwrap_or_else(|| panic!("no question alert in {v}"))
        .clone();
    assert_eq!(alert["stage"], "overdue");
    assert_eq!(alert["tender"]["id"], school_id.as_str());
    assert_eq!(alert["link"], format!("/documents.html?tender={school_id}"));
    // The evaluated tender's bids were sealed on one device: its warnings wait.
    let warned = &v["warnings"][0];
    assert_eq!(warned["tender"]["id"], evaluated.as_str());
    assert!(warned["tally"]["open"].as_u64().unwrap() > 0, "{warned}");

    // Filters: a district with nothing live, a method, a wrong value refused by name.
    let (_, v) = oversight.get("/api/console?region=420202").await;
    assert_eq!(v["rooms"], json!([]), "{v}");
    assert_eq!(v["alerts"], json!([]), "{v}");
    let (_, v) = oversight
        .get("/api/console?region=420200&method=open_tendering&category=goods")
        .await;
    assert_eq!(v["rooms"].as_array().unwrap().len(), 2, "{v}");
    for (q, field) in [
        ("region=nowhere", "region"),
        ("method=auction", "method"),
        ("from=2026-13-01", "from"),
    ] {
        let (status, v) = oversight.get(&format!("/api/console?{q}")).await;
        assert_eq!(
            (status, code(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
            "{q}"
        );
        assert!(v["fields"][field].is_array(), "{v}");
    }
    for user in ["supplier1", "agency", "purchaser", "expert1"] {
        let (status, _) = app.login(user).await.get("/api/console").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
    }

    // In Chromium: oversight opens the console from its navigation.
    let Some(driver) = crate::browser::browser().await else {
        return;
    };
    let c = &driver.client;
    crate::browser::login(c, &app, "oversight").await;
    crate::browser::click_long(c, "a.nav-link[data-nav='console']").await;
    let hall_row =
        format!("#console-rooms-table .room-row[data-id='{school_id}'][data-kind='opening']");
    let text = crate::hall::wait_text(c, &hall_row, "投标人解密").await;
    assert!(
        text.contains("开标大厅") && text.contains(&agency_name),
        "{text}"
    );
    let eval_row =
        format!("#console-rooms-table .room-row[data-id='{evaluated}'][data-kind='evaluation']");
    let text = crate::hall::wait_text(c, &eval_row, "评标室").await;
    assert!(text.contains("财政监管部门 1"), "{text}");
    let alert = crate::hall::wait_text(c, "#console-alerts .alert-row", "逾期").await;
    assert!(alert.contains("R-CHAL-1"), "{alert}");
    crate::browser::screenshots(c, "console", "#console").await;

    // Someone enters the hall: the page shows it without a reload.
    enter(&app, "supplier1", &format!("opening:{school_id}")).await;
    crate::hall::wait_text(c, &hall_row, "供应商 1").await;

    // The district filter empties the rooms; clearing it brings them back.
    crate::browser::set_value(c, "#console-region", "420202").await;
    crate::browser::wait_long(c, "#console-no-rooms").await;
    crate::browser::click_long(c, "#console-clear").await;
    crate::browser::wait_long(c, &hall_row).await;

    // Joining the evaluation room: the room's page, to watch.
    crate::browser::click_long(c, &format!("{eval_row} .room-link")).await;
    crate::browser::wait_long(c, "#warnings-link").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .ends_with(&format!("/evaluation.html?tender={evaluated}")));

    // Back to the console, and the alert to its tender's page.
    c.goto(&app.url("/console.html")).await.unwrap();
    crate::browser::click_long(c, "#console-alerts .alert-row .alert-link").await;
    crate::hall::wait_text(c, "main", "黄石市第一中学智慧教室设备采购项目").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .ends_with(&format!("/documents.html?tender={school_id}")));
    driver.close().await;
}
