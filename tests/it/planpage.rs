//! A single-source request in real Chromium (web/approvals.html, web/single-source.html),
//! as each role clicks it: the purchasing unit asks with its attachment, a supplier objects
//! on the public notice, finance reads both and approves. The way from a budget line to a
//! sealed bid is `prewalk`.

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{as_user, click, set_value, wait_css};

async fn text(c: &Client, css: &str) -> String {
    wait_css(c, css).await.text().await.unwrap()
}

/// 2026-12-01 09:00 China Standard Time, a Tuesday.
const T0: i64 = 1_796_086_800_000;

#[tokio::test]
async fn r_meth_1_a_single_source_request_is_sent_objected_to_and_approved_by_clicking() {
    let Some(driver) = crate::browser::browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = crate::common::spawn_app_at(T0).await;
    // A single-source plan of the school's, over the threshold (filed through the API).
    let finance = app.login("finance").await;
    let (_, line) = finance
        .post(
            "/api/budget-lines",
            json!({"org_id": app.org_id("purchaser").await, "year": 2026, "code": "2050201-77",
                   "title": "创客实验室维保", "category": "services",
                   "funding_source": "general_budget", "amount_fen": 500_000_000}),
        )
        .await;
    let (status, plan) = app
        .login("purchaser")
        .await
        .post(
            "/api/plans",
            json!({"budget_line_id": line["id"], "title": "创客实验室设备原厂维保",
                   "method": "single_source", "amount_fen": 450_000_000, "expected_month": "2027-01"}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{plan}");

    // The school asks, naming the one supplier and attaching the maker's statement.
    as_user(c, &app, "purchaser").await;
    c.goto(&app.url("/approvals.html")).await.unwrap();
    wait_css(c, "#request-form select[name=plan]").await;
    set_value(
        c,
        "#request-form select[name=plan]",
        plan["id"].as_str().unwrap(),
    )
    .await;
    set_value(c, "#request-form select[name=kind]", "method").await;
    set_value(
        c,
        "#request-form textarea[name=reasons]",
        "设备须原厂专用软件维护，只能由原制造商提供。",
    )
    .await;
    set_value(
        c,
        "#request-form input[name=sole_supplier_name]",
        "黄石创客教育装备有限公司",
    )
    .await;
    let first17 = "91420200MA4000066";
    let code = format!(
        "{first17}{}",
        kaibiao::credit_code::check_char(first17).unwrap()
    );
    set_value(
        c,
        "#request-form input[name=sole_supplier_credit_code]",
        &code,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let letter = dir.path().join("原厂说明.txt");
    std::fs::write(&letter, "原厂专用软件，仅制造商可维护。").unwrap();
    wait_css(c, "#request-files")
        .await
        .send_keys(letter.to_str().unwrap())
        .await
        .unwrap();
    click(c, "#request-submit").await;
    c.wait()
        .for_element(Locator::XPath(
            "//table[@id='approvals-table']//tr[contains(., '创客实验室设备原厂维保')][contains(., '公示中')]",
        ))
        .await
        .expect("the request is listed, in its publicity");

    // A supplier objects on the public notice.
    as_user(c, &app, "supplier2").await;
    c.goto(&app.url("/single-source.html")).await.unwrap();
    let button = c
        .wait()
        .for_element(Locator::XPath(
            "//li[contains(@class,'sole-notice')][contains(., '创客实验室设备原厂维保')]//button[contains(@class,'object-btn')]",
        ))
        .await
        .expect("a supplier may object during the publicity");
    button.click().await.unwrap();
    set_value(c, "#confirm-input", "我公司亦获原厂授权，可提供同等维保。").await;
    click(c, "#confirm-ok").await;
    wait_css(c, ".toast").await;

    // After the publicity, finance reads the objection and the attachment, and approves.
    clock.set(T0 + 10 * 86_400_000);
    as_user(c, &app, "finance").await;
    c.goto(&app.url("/approvals.html")).await.unwrap();
    let title = c
        .wait()
        .for_element(Locator::XPath(
            "//table[@id='approvals-table']//tr[contains(., '创客实验室设备原厂维保')]//button[contains(@class,'link-button')]",
        ))
        .await
        .unwrap();
    title.click().await.unwrap();
    let more = text(c, "tr.approval-more").await;
    assert!(
        more.contains("我公司亦获原厂授权") && more.contains("湖北磁湖智能装备有限公司"),
        "{more}"
    );
    assert!(more.contains("原厂说明.txt"), "{more}");
    click(c, "tr.approval-more .approve-btn").await;
    set_value(
        c,
        "#confirm-input",
        "异议经核实不成立，同意采用单一来源方式。",
    )
    .await;
    click(c, "#confirm-ok").await;
    c.wait()
        .for_element(Locator::XPath(
            "//table[@id='approvals-table']//tr[contains(., '创客实验室设备原厂维保')][contains(., '已批准')]",
        ))
        .await
        .expect("the request shows approved");
}
