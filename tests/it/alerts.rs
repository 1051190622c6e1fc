//! Alerts (预警提示) through the API, on the test clock with the engine run directly: the
//! purchaser is told the working day before its deadline to confirm the winner and again at
//! the deadline, finance when it is missed (even though the deadline then confirms the
//! first-ranked candidate), nothing twice however often the engine runs, nothing more once
//! the winner is confirmed; finance is told when a single-source publicity ends, the unit
//! when its tender may be published; nobody sees another's alerts.

use chrono::TimeZone;
use kaibiao::clock::ManualClock;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{code, spawn_app_at, TestApp};
use crate::evalpage::{eval_command, view};

/// `y-m-d h:min` China Standard Time, in ms.
pub(crate) fn cst(y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    kaibiao::clock::cst()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .timestamp_millis()
}

/// The engine, as its job runs it every tick.
pub(crate) async fn run(app: &TestApp) {
    kaibiao::alerts::service::run_due(&app.state).await.unwrap();
}

/// `user`'s inbox (`query` as in `?unread=1`).
async fn inbox(app: &TestApp, user: &str, query: &str) -> Vec<Value> {
    let (status, v) = app
        .login(user)
        .await
        .get(&format!("/api/alerts{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v.as_array().unwrap().clone()
}

/// `user`'s alerts about `subject` (the demo's plans have theirs too), newest first.
pub(crate) async fn about(app: &TestApp, user: &str, subject: &str) -> Vec<Value> {
    inbox(app, user, "")
        .await
        .into_iter()
        .filter(|a| a["subject"]["id"] == subject)
        .collect()
}

/// `user`'s alerts about the confirmation of `subject`'s winner (R-EVAL-10): the award
/// starts the result notice's deadline (R-AWARD-1), whose alerts tests/it/award.rs reads.
async fn confirmation_alerts(app: &TestApp, user: &str, subject: &str) -> Vec<Value> {
    about(app, user, subject)
        .await
        .into_iter()
        .filter(|a| a["rule"] == "R-EVAL-10")
        .collect()
}

pub(crate) fn stages(alerts: &[Value]) -> Vec<&str> {
    alerts
        .iter()
        .map(|a| a["stage"].as_str().unwrap())
        .collect()
}

async fn unread(app: &TestApp, user: &str) -> i64 {
    let (status, v) = app.login(user).await.get("/api/alerts/count").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["unread"].as_i64().unwrap()
}

/// Rows the engine wrote for a deadline key.
async fn rows_for(app: &TestApp, key: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE deadline_key = $1")
        .bind(key)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

/// The demo's opening tender evaluated, scored, and signed by every expert at `at`: the
/// report reaches the purchaser then, who has 5 working days to confirm the winner
/// (R-EVAL-10). Returns the tender and its `confirm_due_at`.
pub(crate) async fn reported(app: &TestApp, clock: &ManualClock, at: i64) -> (String, i64) {
    let (tender, bids, experts, _) = crate::evalpage::scoring(app, clock).await;
    let oversight = app.login("oversight").await;
    let items = view(&oversight, &tender).await["terms"]["items"].clone();
    let sheet: serde_json::Map<String, Value> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let v = if i["objective"] == true { "100" } else { "80" };
            (i["name"].as_str().unwrap().to_string(), json!(v))
        })
        .collect();
    for u in &experts {
        let s = app.login(u).await;
        for b in &bids {
            let cmd = json!({"type": "score", "bid_id": b, "items": sheet});
            eval_command(&s, &tender, cmd).await;
        }
    }
    crate::evaluation::elect_and_finish(app, &tender, &experts[0]).await;
    clock.set(at);
    for u in &experts {
        let s = app.login(u).await;
        let reg = s.register_keys().await;
        let v = view(&s, &tender).await;
        let signing = &v["report"]["signing"];
        let payload = kaibiao::committee::service::signing_payload(
            &tender,
            signing["report_sha256"].as_str().unwrap(),
            signing["expert_id"].as_str().unwrap(),
            "",
        );
        let sig = crate::common::b64(&reg.keys.sign(payload.as_bytes()));
        let cmd = json!({"type": "sign", "key_id": reg.signing_key_id, "signature": sig});
        eval_command(&s, &tender, cmd).await;
    }
    let v = view(&app.login("purchaser").await, &tender).await;
    assert_eq!(v["phase"], "reported", "{v}");
    (tender, v["confirm_due_at"].as_i64().unwrap())
}

/// 2026-12-01 09:00 CST, a Tuesday (the demo's tenders are made relative to it).
const T0: i64 = crate::evaluation::T0;

#[tokio::test]
async fn r_eval_10_the_purchaser_is_told_the_working_day_before_and_at_the_deadline_and_finance_when_it_is_missed(
) {
    let (app, clock) = spawn_app_at(T0).await;
    // The report on Monday 2026-12-14: 5 working days end on Monday 12-21, due at 24:00;
    // the working day before is Friday 12-18 (not Sunday 12-20).
    let (tender, due) = reported(&app, &clock, cst(2026, 12, 14, 10, 0)).await;
    assert_eq!(due, cst(2026, 12, 22, 0, 0));
    let key = format!("evaluation:{tender}:confirmation");

    // Nothing before Friday.
    clock.set(cst(2026, 12, 18, 0, 0) - 1);
    run(&app).await;
    assert!(confirmation_alerts(&app, "purchaser", &tender)
        .await
        .is_empty());
    let before = unread(&app, "purchaser").await;

    // Friday 00:00: the purchaser's users are told, once, however often the engine runs
    // (its job runs meanwhile too).
    clock.set(cst(2026, 12, 18, 0, 0));
    run(&app).await;
    run(&app).await;
    let seen = confirmation_alerts(&app, "purchaser", &tender).await;
    assert_eq!(stages(&seen), ["upcoming"], "{seen:?}");
    let a = &seen[0];
    assert_eq!(a["rule"], "R-EVAL-10");
    assert_eq!(a["rule_name"], "confirmation");
    assert_eq!(a["subject"]["kind"], "tender");
    assert_eq!(a["link"], format!("/evaluation.html?tender={tender}"));
    assert_eq!(a["due_at"], due);
    assert_eq!(a["read_at"], Value::Null);
    let title = a["subject"]["title"].as_str().unwrap();
    assert_eq!(
        a["title_zh"],
        format!("确定中标人将于 2026-12-21 24:00 截止：{title}")
    );
    assert_eq!(
        a["title_en"],
        format!("Confirming the winner is due by 2026-12-21 24:00: {title}")
    );
    assert_eq!(unread(&app, "purchaser").await, before + 1);
    assert_eq!(rows_for(&app, &key).await, 1);
    // Nobody else: not the other unit, the agency, a bidder, an expert, nor finance yet.
    for user in [
        "purchaser2",
        "agency",
        "supplier1",
        "expert1",
        "finance",
        "oversight",
    ] {
        assert!(
            confirmation_alerts(&app, user, &tender).await.is_empty(),
            "{user}"
        );
    }

    // Over the weekend, and up to the last instant, nothing new.
    clock.set(due - 1);
    run(&app).await;
    assert_eq!(
        stages(&confirmation_alerts(&app, "purchaser", &tender).await),
        ["upcoming"]
    );

    // At 24:00 the committee lets the first-ranked candidate stand (its job runs first);
    // the purchaser is told the deadline came, finance that it was missed.
    clock.set(due);
    kaibiao::committee::service::advance_due(&app.state)
        .await
        .unwrap();
    assert_eq!(
        view(&app.login("purchaser").await, &tender).await["phase"],
        "awarded"
    );
    run(&app).await;
    let seen = confirmation_alerts(&app, "purchaser", &tender).await;
    assert_eq!(stages(&seen), ["due", "upcoming"], "newest first: {seen:?}");
    assert_eq!(
        seen[0]["title_zh"],
        format!("确定中标人期限已到（2026-12-21 24:00）：{title}")
    );
    let escalated = confirmation_alerts(&app, "finance", &tender).await;
    assert_eq!(stages(&escalated), ["overdue"], "{escalated:?}");
    assert_eq!(
        escalated[0]["title_zh"],
        format!("逾期未办：确定中标人（2026-12-21 24:00 截止）：{title}")
    );
    assert_eq!(
        escalated[0]["title_en"],
        format!("Overdue: Confirming the winner was due by 2026-12-21 24:00: {title}")
    );
    for user in ["purchaser2", "agency", "supplier1", "oversight"] {
        assert!(
            confirmation_alerts(&app, user, &tender).await.is_empty(),
            "{user}"
        );
    }

    // Again, and a day later: nothing twice.
    run(&app).await;
    clock.set(due + 86_400_000);
    run(&app).await;
    assert_eq!(rows_for(&app, &key).await, 3);
    assert_eq!(
        confirmation_alerts(&app, "purchaser", &tender).await.len(),
        2
    );
    assert_eq!(confirmation_alerts(&app, "finance", &tender).await.len(), 1);

    // Reading: one's own only; another's alert is not found, as one that does not exist.
    let id = seen[0]["id"].as_str().unwrap();
    let unread_before = unread(&app, "purchaser").await;
    let (status, v) = app
        .login("purchaser2")
        .await
        .post(&format!("/api/alerts/{id}/read"), json!({}))
        .await;
    assert_eq!((status, code(&v)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let (status, v) = app
        .login("finance")
        .await
        .post(&format!("/api/alerts/{id}/read"), json!({}))
        .await;
    assert_eq!((status, code(&v)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let purchaser = app.login("purchaser").await;
    let (status, v) = purchaser
        .post(&format!("/api/alerts/{id}/read"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["read_at"], due + 86_400_000);
    let (status, again) = purchaser
        .post(&format!("/api/alerts/{id}/read"), json!({}))
        .await;
    assert_eq!((status, &again["read_at"]), (StatusCode::OK, &v["read_at"]));
    assert_eq!(unread(&app, "purchaser").await, unread_before - 1);
    let fresh = inbox(&app, "purchaser", "?unread=1").await;
    assert!(fresh
        .iter()
        .all(|a| a["id"] != id && a["read_at"].is_null()));
    assert!(fresh.iter().any(|a| a["stage"] == "upcoming"));
    // Finance's own escalation is still unread for finance.
    assert!(confirmation_alerts(&app, "finance", &tender).await[0]["read_at"].is_null());

    // Bounded inputs.
    for q in ["?limit=0", "?limit=201", "?limit=x", "?unread=maybe"] {
        let (status, v) = purchaser.get(&format!("/api/alerts{q}")).await;
        assert_eq!(
            (status, code(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
            "{q}: {v}"
        );
    }
    assert_eq!(inbox(&app, "purchaser", "?limit=1").await.len(), 1);
}

#[tokio::test]
async fn r_eval_10_a_winner_confirmed_in_time_stops_the_alerts() {
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, due) = reported(&app, &clock, cst(2026, 12, 14, 10, 0)).await;
    clock.set(cst(2026, 12, 18, 0, 0));
    run(&app).await;
    assert_eq!(
        stages(&confirmation_alerts(&app, "purchaser", &tender).await),
        ["upcoming"]
    );

    clock.set(cst(2026, 12, 18, 10, 0));
    let purchaser = app.login("purchaser").await;
    eval_command(&purchaser, &tender, json!({"type": "confirm_winner"})).await;
    clock.set(due);
    kaibiao::committee::service::advance_due(&app.state)
        .await
        .unwrap();
    run(&app).await;
    clock.set(due + 86_400_000);
    run(&app).await;
    assert_eq!(
        stages(&confirmation_alerts(&app, "purchaser", &tender).await),
        ["upcoming"]
    );
    assert!(confirmation_alerts(&app, "finance", &tender)
        .await
        .is_empty());
    assert_eq!(
        rows_for(&app, &format!("evaluation:{tender}:confirmation")).await,
        1
    );
}

#[tokio::test]
async fn r_meth_1_r_plan_1_finance_is_told_when_the_publicity_ends_and_the_unit_when_it_may_publish(
) {
    let (app, clock) = spawn_app_at(T0).await;
    // A single-source plan, its intention and its request on 2026-12-01; an open
    // tendering plan whose intention went out the same day, withdrawn.
    let plan = crate::approvals::plan(&app, "single_source", 4_500_000, false).await;
    let plan_id = plan["id"].as_str().unwrap().to_string();
    let title = plan["title"].as_str().unwrap().to_string();
    let first17 = "91420200MA4000077";
    let code17 = kaibiao::credit_code::check_char(first17).unwrap();
    let purchaser = app.login("purchaser").await;
    let (status, a) = purchaser
        .post(
            &format!("/api/plans/{plan_id}/approvals"),
            json!({
                "kind": "method", "reasons": "设备维保须使用原厂专用软件与配件。",
                "sole_supplier_name": "黄石医疗影像设备有限公司",
                "sole_supplier_credit_code": format!("{first17}{code17}"),
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let approval = a["id"].as_str().unwrap().to_string();
    let ends = a["publicity_ends_at"].as_i64().unwrap();
    assert_eq!(ends, cst(2026, 12, 9, 0, 0));
    let withdrawn = crate::approvals::plan(&app, "open_tendering", 100_000, false).await;
    let withdrawn = withdrawn["id"].as_str().unwrap().to_string();
    let (status, v) = purchaser
        .post(&format!("/api/plans/{withdrawn}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // R-METH-1: finance, and only finance, when the publicity ends.
    clock.set(ends - 1);
    run(&app).await;
    assert!(about(&app, "finance", &approval).await.is_empty());
    clock.set(ends);
    run(&app).await;
    run(&app).await;
    let told = about(&app, "finance", &approval).await;
    assert_eq!(stages(&told), ["due"], "{told:?}");
    assert_eq!(told[0]["rule"], "R-METH-1");
    assert_eq!(told[0]["link"], "/approvals.html");
    assert_eq!(
        told[0]["title_zh"],
        format!("单一来源公示期满，待财政部门审批（2026-12-09 起）：{title}")
    );
    for user in [
        "purchaser",
        "purchaser2",
        "agency",
        "oversight",
        "supplier1",
    ] {
        assert!(about(&app, user, &approval).await.is_empty(), "{user}");
    }
    let (status, v) = app
        .login("finance")
        .await
        .post(
            &format!("/api/approvals/{approval}/decision"),
            json!({"approve": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // R-PLAN-1: the unit, from 00:00 on the 30th day after its intention (12-31); not for
    // the withdrawn plan.
    let from = cst(2026, 12, 31, 0, 0);
    clock.set(from - 1);
    run(&app).await;
    assert!(about(&app, "purchaser", &plan_id).await.is_empty());
    clock.set(from);
    run(&app).await;
    let told = about(&app, "purchaser", &plan_id).await;
    assert_eq!(stages(&told), ["due"], "{told:?}");
    assert_eq!(told[0]["rule"], "R-PLAN-1");
    assert_eq!(
        told[0]["title_zh"],
        format!("可发布采购公告（2026-12-31 起）：{title}")
    );
    assert_eq!(
        told[0]["title_en"],
        format!("The tender may be published (from 2026-12-31): {title}")
    );
    assert!(about(&app, "purchaser", &withdrawn).await.is_empty());
    for user in ["purchaser2", "agency", "finance"] {
        assert!(about(&app, user, &plan_id).await.is_empty(), "{user}");
    }
    assert_eq!(
        rows_for(&app, &format!("approval:{approval}:publicity")).await,
        1
    );
}

/// In Chromium: the bell in the header counts the unread alerts, the page lists them
/// newest first in Chinese (English after the switch), and marking one read lowers the
/// count without a reload.
#[tokio::test]
async fn the_header_counts_unread_alerts_and_the_page_marks_them_read() {
    let Some((driver, app)) = crate::browser::app_page("/login.html", 30).await else {
        return;
    };
    let c = &driver.client;
    // The demo's plans of the school became publishable days ago.
    run(&app).await;
    let alerts = inbox(&app, "purchaser", "").await;
    let n = alerts.len();
    assert!(n >= 1, "{alerts:?}");
    assert_eq!(unread(&app, "purchaser").await, n as i64);

    crate::browser::login(c, &app, "purchaser").await;
    crate::hall::wait_text(c, "#alerts-count", &n.to_string()).await;
    let label = crate::browser::js(
        c,
        "return document.getElementById('alerts-link').getAttribute('aria-label')",
        vec![],
    )
    .await;
    assert_eq!(label, json!(format!("预警提示：{n} 条未读")));

    crate::browser::click(c, "#alerts-link").await;
    crate::browser::wait_css(c, "#alerts-list .alert-item").await;
    let titles = crate::browser::js(
        c,
        "return [...document.querySelectorAll('#alerts-list .alert-title')].map((e) => e.innerText)",
        vec![],
    )
    .await;
    let want: Vec<Value> = alerts.iter().map(|a| a["title_zh"].clone()).collect();
    assert_eq!(titles, json!(want), "newest first, in Chinese");

    crate::browser::click(c, "#alerts-list .alert-item .mark-read").await;
    let left = n - 1;
    if left == 0 {
        crate::browser::wait_css(c, "#alerts-count[hidden]").await;
    } else {
        crate::hall::wait_text(c, "#alerts-count", &left.to_string()).await;
    }
    crate::browser::wait_css(c, "#alerts-list .alert-item[data-read=true]").await;
    assert_eq!(unread(&app, "purchaser").await, left as i64);
    crate::browser::click(c, "#alerts-filter [data-filter=unread_only]").await;
    if left == 0 {
        crate::hall::wait_text(c, "#alerts", "没有未读提醒").await;
    } else {
        crate::browser::wait_css(c, "#alerts-list").await;
        let shown = crate::browser::js(
            c,
            "return document.querySelectorAll('#alerts-list .alert-item[data-read=false]').length",
            vec![],
        )
        .await;
        assert_eq!(shown, json!(left));
    }

    crate::browser::click(c, "#alerts-filter [data-filter=all]").await;
    crate::browser::wait_css(c, "#alerts-list .alert-item").await;
    // With KAIBIAO_SCREENSHOTS=<dir>, the page at desktop and phone widths, for people.
    crate::browser::screenshots(c, "alerts", "#alerts-list").await;
    crate::browser::click(c, "#lang-toggle").await;
    crate::hall::wait_text(
        c,
        "#alerts-list .alert-title",
        alerts[0]["title_en"].as_str().unwrap(),
    )
    .await;
    driver.close().await;
}

/// R-CHAL-1 over National Day 2026: a question asked on Tuesday 09-29 is due on the 3rd
/// working day, Friday 10-09 (10-01..10-07 are holidays), at 24:00; the agency is told on
/// Thursday 10-08, the working day before, and finance when it is missed.
#[tokio::test]
async fn r_chal_1_the_agency_is_told_of_an_unanswered_question_and_finance_when_it_is_late() {
    let asked = cst(2026, 9, 29, 10, 0);
    let (app, clock) = spawn_app_at(asked).await;
    let agency = app.login("agency").await;
    let (_, t) = agency
        .post(
            "/api/tenders",
            app.tender_body("国庆期间答疑测试", asked).await,
        )
        .await;
    let tender = t["id"].as_str().unwrap().to_string();
    agency
        .post(&format!("/api/tenders/{tender}/publish"), json!({}))
        .await;
    let s1 = app.login("supplier1").await;
    s1.post(
        &format!("/api/tenders/{tender}/documents/obtain"),
        json!({}),
    )
    .await;
    let (status, q) = s1
        .post(
            &format!("/api/tenders/{tender}/questions"),
            json!({"text": "节后能否安排现场踏勘?"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{q}");
    let due = cst(2026, 10, 10, 0, 0);
    assert_eq!(q["reply_due_at"], due);

    clock.set(cst(2026, 10, 8, 0, 0) - 1);
    run(&app).await;
    assert!(about(&app, "agency", &tender).await.is_empty());

    clock.set(cst(2026, 10, 8, 0, 0));
    run(&app).await;
    let seen = about(&app, "agency", &tender).await;
    assert_eq!(stages(&seen), ["upcoming"], "{seen:?}");
    assert_eq!(seen[0]["rule"], "R-CHAL-1");
    assert_eq!(seen[0]["link"], format!("/documents.html?tender={tender}"));
    for user in ["supplier1", "purchaser", "finance", "oversight"] {
        assert!(about(&app, user, &tender).await.is_empty(), "{user}");
    }

    // Unanswered at 24:00 on Friday: the agency is told, finance and oversight too.
    clock.set(due);
    run(&app).await;
    assert_eq!(
        stages(&about(&app, "agency", &tender).await),
        ["due", "upcoming"]
    );
    for user in ["finance", "oversight"] {
        assert_eq!(
            stages(&about(&app, user, &tender).await),
            ["overdue"],
            "{user}"
        );
    }
    assert!(about(&app, "supplier1", &tender).await.is_empty());
}
