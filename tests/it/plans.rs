//! Budgets, plans and intentions through the API (R-PLAN-1, R-PLAN-2): finance records a
//! unit's budget line, the unit files plans within it and publishes their intentions, the
//! agency creates a tender from a plan within what is left of it and may publish it only
//! 30 days after the intention; refusals change nothing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{code, spawn_app_at, Session, TestApp};

const DAY: i64 = 86_400_000;
/// 2026-12-01 09:00 China Standard Time.
const T0: i64 = 1_796_086_800_000;
/// 2026-12-31 00:00 China Standard Time: 30 days after an intention of 2026-12-01.
const T0_PLUS_30_DAYS_MIDNIGHT: i64 = T0 - 9 * 3_600_000 + 30 * DAY;

async fn budget_line(app: &TestApp, finance: &Session, code: &str, yuan: i64) -> Value {
    let (status, line) = finance
        .post(
            "/api/budget-lines",
            json!({
                "org_id": app.org_id("purchaser").await, "year": 2026, "code": code,
                "title": "教学设备购置", "category": "goods",
                "funding_source": "general_budget", "amount_fen": yuan * 100,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{line}");
    line
}

fn plan_body(line: &Value, title: &str, yuan: i64) -> Value {
    json!({
        "budget_line_id": line["id"], "title": title, "method": "open_tendering",
        "amount_fen": yuan * 100, "expected_month": "2027-01",
    })
}

#[tokio::test]
async fn r_plan_2_plans_stay_within_their_budget_line_and_tenders_within_their_plan() {
    let (app, _clock) = spawn_app_at(T0).await;
    let finance = app.login("finance").await;
    let purchaser = app.login("purchaser").await;
    let agency = app.login("agency").await;
    let line = budget_line(&app, &finance, "2050201-99", 1_000_000).await;
    assert_eq!(line["left_fen"], 100_000_000);

    let (status, a) = purchaser
        .post("/api/plans", plan_body(&line, "实验室设备", 600_000))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a["status"], "filed");
    assert_eq!(a["category"], "goods");

    // Over what is left of the line: refused, saying how much is left; nothing written.
    let plans = app.rows("procurement_plans").await;
    let (status, v) = purchaser
        .post("/api/plans", plan_body(&line, "多媒体设备", 400_001))
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "PLAN_OVER_BUDGET_LINE"),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("400000.00"), "{v}");
    assert_eq!(app.rows("procurement_plans").await, plans);
    // To the last fen: accepted.
    let (status, b) = purchaser
        .post("/api/plans", plan_body(&line, "多媒体设备", 400_000))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    let (_, lines) = purchaser.get("/api/budget-lines?year=2026").await;
    let mine = lines
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == line["id"])
        .unwrap();
    assert_eq!(
        (mine["planned_fen"].clone(), mine["left_fen"].clone()),
        (json!(100_000_000), json!(0))
    );

    // Another unit cannot draw on the school's line, nor see its plans.
    let other = app.login("purchaser2").await;
    let (status, v) = other.post("/api/plans", plan_body(&line, "x", 1)).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
        "{v}"
    );
    let (status, _) = other
        .get(&format!("/api/plans/{}", a["id"].as_str().unwrap()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A tender over its plan: refused, no tender written.
    let mut body = app.tender_body("实验室设备采购", T0).await;
    body["plan_id"] = a["id"].clone();
    body["lots"] = json!([{"name": "第1包", "budget_fen": 40_000_000}, {"name": "第2包", "budget_fen": 20_000_001}]);
    let tenders = app.rows("tenders").await;
    let (status, v) = agency.post("/api/tenders", body.clone()).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "TENDER_OVER_PLAN"),
        "{v}"
    );
    assert_eq!(app.rows("tenders").await, tenders);
    // Within it: created, and the plan shows what is committed.
    body["lots"][1]["budget_fen"] = json!(20_000_000);
    let (status, t) = agency.post("/api/tenders", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    assert_eq!(t["plan_id"], a["id"]);
    // The tender's ledger names the plan it was made from.
    let tid = t["id"].as_str().unwrap();
    let (_, ledger) = agency.get(&format!("/api/tenders/{tid}/ledger")).await;
    assert_eq!(ledger["events"][0]["kind"], "tender_created");
    assert_eq!(ledger["events"][0]["body"]["plan_id"], a["id"], "{ledger}");
    let (_, p) = purchaser
        .get(&format!("/api/plans/{}", a["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        (p["committed_fen"].clone(), p["left_fen"].clone()),
        (json!(60_000_000), json!(0))
    );
    // A second tender on the spent plan is refused; a plan of another method does not fit.
    let (status, v) = agency.post("/api/tenders", body.clone()).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "TENDER_OVER_PLAN"),
        "{v}"
    );
    let mut other_method = body.clone();
    other_method["method"] = json!("inquiry");
    let (status, v) = agency.post("/api/tenders", other_method).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "PLAN_MISMATCH"),
        "{v}"
    );
    // A plan with a tender cannot be cancelled; cancelling the tender releases the plan.
    let (status, v) = purchaser
        .post(
            &format!("/api/plans/{}/cancel", a["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "PLAN_IN_USE"),
        "{v}"
    );
    let tid = t["id"].as_str().unwrap();
    let (status, v) = agency
        .post(
            &format!("/api/tenders/{tid}/cancel"),
            json!({"reason": "需求变更"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, p) = purchaser
        .get(&format!("/api/plans/{}", a["id"].as_str().unwrap()))
        .await;
    assert_eq!(p["committed_fen"], 0);

    // Finance sees execution by unit, region and category; the figures sum the raw rows.
    let (status, rows) = finance
        .get("/api/budget-execution?year=2026&group=unit")
        .await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    let school_id = app.org_id("purchaser").await;
    let school = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == school_id.as_str())
        .unwrap()
        .clone();
    let (_, all_lines) = finance.get("/api/budget-lines?year=2026").await;
    let school_budget: i64 = all_lines
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["org_id"] == school["key"])
        .map(|l| l["amount_fen"].as_i64().unwrap())
        .sum();
    assert_eq!(school["budget_fen"], school_budget);
    for group in ["region", "category"] {
        let (status, rows) = finance
            .get(&format!("/api/budget-execution?year=2026&group={group}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{rows}");
        let total: i64 = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["budget_fen"].as_i64().unwrap())
            .sum();
        let all: i64 = all_lines
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["amount_fen"].as_i64().unwrap())
            .sum();
        assert_eq!(total, all, "{group}");
    }
    // A purchasing unit does not see the city's execution.
    let (status, _) = purchaser.get("/api/budget-execution").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn r_plan_1_a_tender_goes_out_30_days_after_its_intention() {
    let (app, clock) = spawn_app_at(T0).await;
    let finance = app.login("finance").await;
    let purchaser = app.login("purchaser").await;
    let agency = app.login("agency").await;
    let line = budget_line(&app, &finance, "2050201-98", 500_000).await;
    let (_, plan) = purchaser
        .post("/api/plans", plan_body(&line, "录播教室设备", 300_000))
        .await;
    let plan_id = plan["id"].as_str().unwrap().to_string();
    assert_eq!(plan["publishable_from"], Value::Null);
    // Deadlines after the earliest publication, so only R-PLAN-1 stands in the way.
    let mut body = app.tender_body("录播教室设备采购", T0 + 31 * DAY).await;
    body["plan_id"] = json!(plan_id);
    let (status, t) = agency.post("/api/tenders", body).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let publish = format!("/api/tenders/{}/publish", t["id"].as_str().unwrap());

    // No intention yet.
    let (status, v) = agency.post(&publish, json!({})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "NO_INTENTION"),
        "{v}"
    );

    // The unit publishes the intention; the public finds it.
    let (status, p) = purchaser
        .post(
            &format!("/api/plans/{plan_id}/intention"),
            json!({"description": "录播教室 6 间:摄像、拾音、导播及存储设备。"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["publishable_from"], T0_PLUS_30_DAYS_MIDNIGHT);
    let (status, v) = purchaser
        .post(
            &format!("/api/plans/{plan_id}/intention"),
            json!({"description": "again"}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "INTENTION_ALREADY_PUBLISHED"),
        "{v}"
    );
    let (status, list) = app.call(Method::GET, "/api/intentions?q=录播", None).await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["org_name"], "黄石市第一中学");
    assert_eq!(list[0]["budget_fen"], 30_000_000);
    assert_eq!(list[0]["expected_month"], "2027-01");
    // The draft tender is nobody's business yet.
    assert_eq!(list[0]["announcements"], json!([]));
    let id = list[0]["id"].as_str().unwrap();
    let (status, one) = app
        .call(Method::GET, &format!("/api/intentions/{id}"), None)
        .await;
    assert_eq!(
        (status, one["title"].clone()),
        (StatusCode::OK, json!("录播教室设备"))
    );

    // The day before the 30th day: refused with the time it may go out; nothing changes.
    let ledger = app.rows("ledger_events").await;
    clock.set(T0_PLUS_30_DAYS_MIDNIGHT - 1);
    let agency = app.login("agency").await; // a month on: a new session
    let (status, v) = agency.post(&publish, json!({})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "INTENTION_TOO_RECENT"),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap().contains("2026-12-31 00:00"),
        "{v}"
    );
    assert_eq!(app.rows("ledger_events").await, ledger);
    // On it: published.
    clock.set(T0_PLUS_30_DAYS_MIDNIGHT);
    let (status, v) = agency.post(&publish, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "published");
    // The public follows the intention to its announcement.
    let (_, list) = app.call(Method::GET, "/api/intentions?q=录播", None).await;
    assert_eq!(
        list[0]["announcements"],
        json!([{"id": v["id"], "code": v["code"], "title": "录播教室设备采购"}])
    );
}

#[tokio::test]
async fn r_plan_1_a_recorded_exception_lets_the_tender_out_at_once() {
    let (app, _clock) = spawn_app_at(T0).await;
    let finance = app.login("finance").await;
    let purchaser = app.login("purchaser").await;
    let agency = app.login("agency").await;
    let line = budget_line(&app, &finance, "2050201-97", 500_000).await;
    let mut body = plan_body(&line, "防汛应急物资", 200_000);
    body["intention_exception"] = json!("urgent");
    // An exception needs its reason.
    let (status, v) = purchaser.post("/api/plans", body.clone()).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
        "{v}"
    );
    assert!(v["fields"]["exception_reason"].is_array(), "{v}");
    body["exception_reason"] = json!("汛期临近,校舍防汛物资须立即补充");
    let (status, plan) = purchaser.post("/api/plans", body).await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    assert_eq!(plan["intention_exception"], "urgent");
    let mut t = app.tender_body("防汛应急物资采购", T0).await;
    t["plan_id"] = plan["id"].clone();
    t["lots"] = json!([{"name": "第1包", "budget_fen": 20_000_000}]);
    let (status, t) = agency.post("/api/tenders", t).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let (status, v) = agency
        .post(
            &format!("/api/tenders/{}/publish", t["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
}
