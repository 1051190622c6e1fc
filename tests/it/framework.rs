//! A framework agreement (框架协议采购, 财政部令第110号): five suppliers answer the call, the
//! panel ranks them by lowest evaluated price, the award stands; the agency admits (入围)
//! four — a fifth eliminated — at their prices; the purchaser places call-offs by direct
//! selection, in rotation and by secondary competition, each in the ledger; refusals
//! change nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{b64, code, spawn_app_at, Session, TestApp};
use crate::evaluation::T0;
use crate::rounds::reviewed;
use kaibiao::clock::Clock;

const DAY: i64 = 86_400_000;

async fn ok(s: &Session, path: &str, cmd: Value) -> Value {
    let (status, v) = s.post(path, cmd.clone()).await;
    assert_eq!(status, StatusCode::OK, "{cmd} → {v}");
    v
}

/// A framework tender of five suppliers (prices 1,000,000.00 … 1,200,000.00), ranked by the
/// lowest evaluated price, the report signed and the winner confirmed: awarded. Returns
/// the app, its clock and the tender.
pub async fn awarded_framework() -> (TestApp, std::sync::Arc<kaibiao::clock::ManualClock>, String) {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, experts) = reviewed(
        &app,
        &clock,
        "framework_agreement",
        json!({"method": "lowest_evaluated_price", "sme_rate_bp": 1000}),
        &[
            100_000_000,
            105_000_000,
            98_000_000,
            120_000_000,
            103_000_000,
        ],
    )
    .await;
    let evaluation = format!("/api/tenders/{tender}/evaluation");
    let framework = format!("/api/tenders/{tender}/framework");
    let agency = app.login("agency").await;
    let purchaser = app.login("purchaser").await;
    // Before the award: nothing to establish.
    let (status, v) = agency
        .post(
            &framework,
            json!({"type": "establish", "admitted": 4, "valid_until": T0 + 300 * DAY}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION"),
        "{v}"
    );

    crate::evaluation::elect_and_finish(&app, &tender, &experts[0]).await;
    let (_, ev) = agency.get(&evaluation).await;
    let sha = ev["report"]["sha256"].as_str().unwrap().to_string();
    for e in &experts {
        let s = app.login(e).await;
        let reg = s.register_keys().await;
        let (_, me) = s.get(&evaluation).await;
        let seat = me["report"]["signing"]["expert_id"]
            .as_str()
            .unwrap()
            .to_string();
        let payload = kaibiao::committee::service::signing_payload(&tender, &sha, &seat, "");
        let sig = b64(&reg.keys.sign(payload.as_bytes()));
        ok(
            &s,
            &evaluation,
            json!({"type": "sign", "key_id": reg.signing_key_id, "signature": sig}),
        )
        .await;
    }
    ok(&purchaser, &evaluation, json!({"type": "confirm_winner"})).await;

    (app, clock, tender)
}

#[tokio::test]
async fn r_meth_2_a_framework_admits_four_of_five_and_calls_off_directly_in_rotation_and_by_competition(
) {
    let (app, clock, tender) = awarded_framework().await;
    let framework = format!("/api/tenders/{tender}/framework");
    let agency = app.login("agency").await;
    let purchaser = app.login("purchaser").await;
    // Admission: at least 2, and a fifth eliminated under the price-priority method.
    let now = clock.now_ms();
    let valid_until = now + 300 * DAY;
    let before = crate::evaluation::events_in(&app, &tender).await;
    for (n, who) in [(5, &agency), (1, &agency), (4, &purchaser)] {
        let (status, v) = who
            .post(
                &framework,
                json!({"type": "establish", "admitted": n, "valid_until": valid_until}),
            )
            .await;
        let want = if who.user["role"] == "purchaser" {
            "FORBIDDEN"
        } else {
            "ADMISSION_INVALID"
        };
        assert_eq!(code(&v), want, "{n}: {status} {v}");
    }
    assert_eq!(crate::evaluation::events_in(&app, &tender).await, before);
    let r = ok(
        &agency,
        &framework,
        json!({"type": "establish", "admitted": 4, "valid_until": valid_until}),
    )
    .await;
    assert_eq!(r["admitted"], 4);
    let (_, v) = purchaser.get(&framework).await;
    let admitted: Vec<(String, i64)> = v["admitted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["org_id"].as_str().unwrap().to_string(),
                a["price_fen"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(admitted.len(), 4, "{v}");
    // The one eliminated offered the highest price: 1,200,000.00.
    assert!(admitted.iter().all(|(_, p)| *p != 120_000_000), "{v}");
    let out_org = app.org_id("supplier4").await;
    assert!(admitted.iter().all(|(o, _)| *o != out_org));

    // Direct selection of an admitted supplier; one not admitted is refused.
    let (status, v) = purchaser
        .post(
            &framework,
            json!({"type": "call_off", "mode": "direct", "org_id": out_org,
                                 "amount_fen": 5_000_000, "description": "办公桌 10 张"}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "NOT_ADMITTED"),
        "{v}"
    );
    let r = ok(
        &purchaser,
        &framework,
        json!({"type": "call_off", "mode": "direct",
        "org_id": admitted[2].0, "amount_fen": 5_000_000, "description": "办公桌 10 张"}),
    )
    .await;
    assert_eq!(r["call_off_no"], 1);

    // Rotation: first, then second in admission order.
    for (i, no) in [(0usize, 2), (1, 3)] {
        let r = ok(
            &purchaser,
            &framework,
            json!({"type": "call_off", "mode": "rotation",
            "amount_fen": 3_000_000, "description": "会议椅 20 把"}),
        )
        .await;
        assert_eq!(
            (
                r["org_id"].as_str().unwrap(),
                r["call_off_no"].as_i64().unwrap()
            ),
            (admitted[i].0.as_str(), no)
        );
    }
    let (_, v) = purchaser.get(&framework).await;
    assert_eq!(v["next_in_rotation"], admitted[2].0.as_str());

    // Secondary competition: the lowest quote wins; a supplier not admitted may not quote.
    let (status, v) = purchaser
        .post(&framework, json!({"type": "call_off", "mode": "competition", "description": "文件柜 30 组",
            "quotes": [{"org_id": admitted[0].0, "price_fen": 2_000_000}, {"org_id": out_org, "price_fen": 1_000_000}]}))
        .await;
    assert_eq!(code(&v), "QUOTES_INVALID", "{status} {v}");
    let r = ok(
        &purchaser,
        &framework,
        json!({"type": "call_off", "mode": "competition",
        "description": "文件柜 30 组",
        "quotes": [{"org_id": admitted[0].0, "price_fen": 2_000_000},
                   {"org_id": admitted[3].0, "price_fen": 1_850_000},
                   {"org_id": admitted[1].0, "price_fen": 1_900_000}]}),
    )
    .await;
    assert_eq!(
        (
            r["org_id"].as_str().unwrap(),
            r["amount_fen"].as_i64().unwrap()
        ),
        (admitted[3].0.as_str(), 1_850_000)
    );

    // A supplier may not place a call-off; an admitted one sees its own; after the term,
    // none.
    let supplier = app.login("supplier1").await;
    let (status, _) = supplier
        .post(
            &framework,
            json!({"type": "call_off", "mode": "rotation", "amount_fen": 1, "description": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let s1_org = app.org_id("supplier1").await;
    let (status, v) = supplier.get(&framework).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(
        v["call_offs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["org_id"] == s1_org.as_str()),
        "{v}"
    );
    clock.set(valid_until);
    let purchaser = app.login("purchaser").await;
    let (_, v) = purchaser
        .post(&framework, json!({"type": "call_off", "mode": "rotation", "amount_fen": 1, "description": "到期后"}))
        .await;
    assert_eq!(code(&v), "FRAMEWORK_EXPIRED", "{v}");

    let ledger = crate::evaluation::ledger_of(&app, &tender).await;
    let kinds: Vec<&str> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|k| *k == "framework_established" || *k == "call_off_placed")
        .collect();
    assert_eq!(
        kinds,
        [
            "framework_established",
            "call_off_placed",
            "call_off_placed",
            "call_off_placed",
            "call_off_placed"
        ]
    );
}

#[tokio::test]
async fn the_agency_admits_and_the_purchaser_calls_off_in_rotation_from_the_page() {
    use crate::browser::{as_user, browser, click_long, set_value, wait_long};
    use crate::hall::wait_text;
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    c.update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
        Some(std::time::Duration::from_secs(60)),
        Some(std::time::Duration::from_secs(60)),
        None,
    ))
    .await
    .unwrap();
    let (app, _clock, tender) = awarded_framework().await;
    let page = app.url(&format!("/framework.html?tender={tender}"));

    // The agency admits four of the five from the page.
    as_user(c, &app, "agency").await;
    c.goto(&page).await.unwrap();
    wait_long(c, "#fw-establish-form").await;
    set_value(c, "#fw-count", "4").await;
    click_long(c, "#fw-establish").await;
    wait_text(c, "#fw-status", "已订立").await;
    let admitted = wait_text(c, "#fw-admitted-table", "1,000,000.00").await;
    assert!(!admitted.contains("1,200,000.00"), "{admitted}");

    // The purchaser orders in rotation: the first admitted supplies, the second is next.
    let (_, v) = app
        .login("purchaser")
        .await
        .get(&format!("/api/tenders/{tender}/framework"))
        .await;
    let first = v["admitted"][0]["name"].as_str().unwrap().to_string();
    let second = v["admitted"][1]["name"].as_str().unwrap().to_string();
    as_user(c, &app, "purchaser").await;
    c.goto(&page).await.unwrap();
    wait_long(c, "#fw-call-off-form").await;
    set_value(c, "#fw-mode", "rotation").await;
    set_value(c, "#fw-amount", "30000").await;
    set_value(c, "#fw-description", "会议椅 20 把").await;
    click_long(c, "#fw-call-off").await;
    let table = wait_text(c, "#fw-call-off-table", "会议椅 20 把").await;
    assert!(
        table.contains("顺序轮候") && table.contains("30,000.00") && table.contains(&first),
        "{table}"
    );
    let next = wait_text(c, "#fw-next", &second).await;
    assert!(next.contains(&second), "{next}");
}
