//! Budgets, plans and intentions in real Chromium (web/plans.html, web/intentions.html,
//! the plan field of web/tender-form.html), as each role clicks them: finance records a
//! budget line and sees execution; the purchasing unit files a plan on it and publishes
//! its intention; the public finds the intention; the agency creates a tender from the
//! plan with the form filled from it.

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::browser::{app_page, click, js, login, set_value, wait_css};
use crate::common::TestApp;

async fn as_user(c: &Client, app: &TestApp, username: &str) {
    c.delete_all_cookies().await.unwrap();
    login(c, app, username).await;
}

async fn text(c: &Client, css: &str) -> String {
    wait_css(c, css).await.text().await.unwrap()
}

#[tokio::test]
async fn r_plan_1_a_budget_line_becomes_a_plan_an_intention_and_a_tender_form_by_clicking() {
    let Some((driver, app)) = app_page("/login.html", 60).await else {
        return;
    };
    let c = &driver.client;
    let school = app.org_id("purchaser").await;

    // Finance records the school's budget line; the execution table shows the city.
    as_user(c, &app, "finance").await;
    c.goto(&app.url("/plans.html")).await.unwrap();
    wait_css(c, "#execution-table tbody tr").await;
    wait_css(c, "#line-form select[name=org_id] option").await;
    set_value(c, "#line-form select[name=org_id]", &school).await;
    set_value(c, "#line-form input[name=code]", "2050201-55").await;
    set_value(c, "#line-form input[name=title]", "实验教学设备").await;
    set_value(c, "#line-form input[name=amount_fen]", "500,000").await;
    click(c, "#line-submit").await;
    c.wait()
        .for_element(Locator::XPath(
            "//table[@id='lines-table']//tr[contains(., '2050201-55')][contains(., '500,000.00')]",
        ))
        .await
        .expect("the new line is listed with its amount");
    // An amount that is not money is refused in the page, next to its field.
    set_value(c, "#line-form input[name=amount_fen]", "五十万").await;
    click(c, "#line-submit").await;
    assert!(!text(c, "#line-amount-error").await.is_empty());

    // The school files a plan on it and publishes the intention.
    as_user(c, &app, "purchaser").await;
    c.goto(&app.url("/plans.html")).await.unwrap();
    wait_css(c, "#plan-form select[name=budget_line_id]").await;
    let line_id = js(
        c,
        "return [...document.querySelectorAll('#plan-form select[name=budget_line_id] option')] \
           .find((o) => o.textContent.includes('2050201-55')).value",
        vec![],
    )
    .await;
    set_value(
        c,
        "#plan-form select[name=budget_line_id]",
        line_id.as_str().unwrap(),
    )
    .await;
    set_value(c, "#plan-form input[name=title]", "物理实验室设备采购").await;
    set_value(c, "#plan-form select[name=method]", "open_tendering").await;
    set_value(c, "#plan-form input[name=amount_fen]", "300000").await;
    set_value(c, "#plan-form input[name=expected_month]", "2027-03").await;
    click(c, "#plan-submit").await;
    wait_css(c, "#plans-table tbody tr.plan-row .publish-intention").await;
    let row = text(c, "#plans-table tbody tr.plan-row:first-child").await;
    assert!(
        row.contains("物理实验室设备采购") && row.contains("未公开"),
        "{row}"
    );
    click(
        c,
        "#plans-table tbody tr.plan-row:first-child .publish-intention",
    )
    .await;
    set_value(
        c,
        "#confirm-input",
        "物理实验室 2 间：实验台、演示仪器及安装。",
    )
    .await;
    click(c, "#confirm-ok").await;
    c.wait()
        .for_element(Locator::XPath(
            "//table[@id='plans-table']//tr[contains(., '物理实验室设备采购')]//td[contains(., '起可发布采购公告')]",
        ))
        .await
        .expect("the plan says from when its tender may be published");

    // Anyone finds the intention.
    c.delete_all_cookies().await.unwrap();
    c.goto(&app.url("/intentions.html")).await.unwrap();
    set_value(c, "#intentions-q", "物理实验室").await;
    c.wait()
        .for_element(Locator::XPath(
            "//li[contains(@class,'intention')][contains(., '物理实验室设备采购')][contains(., '300,000.00')]",
        ))
        .await
        .expect("the public list shows the intention");

    // The agency creates the tender from the plan: the form comes filled from it.
    as_user(c, &app, "agency").await;
    c.goto(&app.url("/plans.html")).await.unwrap();
    let link = wait_css(
        c,
        "#plans-table tbody tr.plan-row:first-child a[href*='tender-form.html?plan=']",
    )
    .await;
    link.click().await.unwrap();
    wait_css(c, "#tender-form:not([hidden])").await;
    let form = js(
        c,
        "return ['plan', 'title', 'purchaser', 'category', 'method'].map((id) => document.getElementById(id).value) \
           .concat([document.querySelector('#lots .lot-budget').value])",
        vec![],
    )
    .await;
    let plan_id = form[0].as_str().unwrap().to_string();
    assert!(!plan_id.is_empty(), "{form}");
    assert_eq!(
        form,
        json!([
            plan_id,
            "物理实验室设备采购",
            school,
            "goods",
            "open_tendering",
            "300000.00"
        ])
    );
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

#[tokio::test]
async fn r_cred_1_a_supplier_signs_up_and_signs_its_commitment_in_the_page_then_bids() {
    let Some((driver, app)) = app_page("/login.html", 60).await else {
        return;
    };
    let c = &driver.client;
    click(c, "#to-signup").await;
    wait_css(c, "#su-region option").await;
    let first17 = "91420203MA4000055";
    let code = format!(
        "{first17}{}",
        kaibiao::credit_code::check_char(first17).unwrap()
    );
    // A mistyped code is refused next to its field.
    set_value(c, "#su-name", "西塞山新材料有限公司").await;
    set_value(c, "#su-code", "91420203MA40000550").await;
    set_value(c, "#su-size", "small").await;
    set_value(c, "#su-username", "xincailiao").await;
    set_value(c, "#su-display", "孙红").await;
    set_value(c, "#su-password", crate::common::PASSWORD).await;
    click(c, "#signup-submit").await;
    c.wait()
        .for_element(Locator::XPath(
            "//p[@data-field='credit_code'][normalize-space(.)!='']",
        ))
        .await
        .expect("the code's error shows at the code");
    set_value(c, "#su-code", &code.to_lowercase()).await;
    click(c, "#signup-submit").await;
    // Signed up and logged in: the commitment, agreed and signed with this device's key.
    wait_css(c, "#commitment-agree")
        .await
        .click()
        .await
        .unwrap();
    click(c, "#commitment-sign").await;
    let done = text(c, "#commitment .banner").await;
    assert!(done.contains("已于"), "{done}");
    assert!(text(c, ".commitment-text").await.contains("小型企业"));

    // The supplier may now bid (its keys are registered; the API starts a bid).
    let s = crate::common::login_at(&app.url(""), "xincailiao").await;
    let (status, v) = s.get("/api/suppliers/me/commitment").await;
    assert_eq!(
        (status, v["required"].clone()),
        (reqwest::StatusCode::OK, json!(true))
    );
    assert!(v["signed_at"].is_i64(), "{v}");
    let tender = app.school_tender_id().await;
    let (status, v) = crate::bids::start_bid(&s, &tender).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{v}");
}
