//! The bid deposit's page in real Chromium (web/deposits.html, reached from the
//! announcement): a supplier records an electronic guarantee on the demo's
//! property-management tender, which asks 80 000 yuan, and sees it again after a reload;
//! the tender's agency, before the deadline, is told the list is secret (R-DOC-3).

use fantoccini::Client;

use crate::browser::{app_page, click_long, login, set_value, wait_long};

/// The demo tender that asks a deposit.
const PROPERTY_TENDER: &str = "黄石市中心医院 2027—2029 年度物业管理服务采购";

/// The text of `css`, waited for patiently: the page's modules load slowly on a shared
/// machine under the whole suite (`wait_long` reports the page's state if it never comes).
/// Read in the page, not through the element found: a page that renders again (the
/// announcement, when its ledger arrives) would leave that one stale.
async fn text(c: &Client, css: &str) -> String {
    wait_long(c, css).await;
    crate::hall::text_of(c, css).await
}

#[tokio::test]
async fn r_dep_1_a_supplier_records_a_guarantee_from_the_announcement_and_sees_it() {
    let Some((driver, app)) = app_page("/login.html", 60).await else {
        return;
    };
    let c = &driver.client;
    let (_, list) = app
        .call(reqwest::Method::GET, "/api/announcements", None)
        .await;
    let tender = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == PROPERTY_TENDER)
        .expect("the demo's property-management tender")
        .clone();
    let id = tender["id"].as_str().unwrap();
    let deadline = tender["bid_deadline"].as_i64().unwrap();
    // Valid 90 days past the deadline, as a date in China time.
    let valid = chrono::DateTime::from_timestamp_millis(deadline + 90 * 86_400_000)
        .unwrap()
        .with_timezone(&kaibiao::clock::cst())
        .format("%Y-%m-%d")
        .to_string();

    login(c, &app, "supplier1").await;
    c.goto(&app.url(&format!("/announcement.html?id={id}")))
        .await
        .unwrap();
    let link = text(c, "#deposit-link").await;
    assert!(link.contains("80,000.00"), "{link}");
    click_long(c, "#deposit-link").await;
    wait_long(c, "#deposit-form").await;
    set_value(c, "#deposit-form select[name=kind]", "guarantee").await;
    set_value(
        c,
        "#deposit-form input[name=issuer]",
        "中国人民财产保险股份有限公司黄石市分公司",
    )
    .await;
    set_value(
        c,
        "#deposit-form input[name=guarantee_no]",
        "DZBH-2026-0088",
    )
    .await;
    set_value(c, "#deposit-form input[name=valid_until]", &valid).await;
    click_long(c, "#deposit-submit").await;
    let shown = text(c, "#deposit-record").await;
    assert!(
        shown.contains("电子保函")
            && shown.contains("DZBH-2026-0088")
            && shown.contains("80,000.00"),
        "{shown}"
    );

    // Again later: the record, not the form.
    c.refresh().await.unwrap();
    let shown = text(c, "#deposit-record").await;
    assert!(shown.contains("DZBH-2026-0088"), "{shown}");
    let (_, mine) = app
        .login("supplier1")
        .await
        .get(&format!("/api/tenders/{id}/deposit/mine"))
        .await;
    assert_eq!(mine["kind"], "guarantee");
    assert_eq!(mine["amount_fen"], 8_000_000);

    // The agency learns neither who nor how many before the deadline.
    c.delete_all_cookies().await.unwrap();
    login(c, &app, "agency").await;
    c.goto(&app.url(&format!("/deposits.html?tender={id}")))
        .await
        .unwrap();
    let said = text(c, "#deposits .banner").await;
    assert!(said.contains("保密"), "{said}");
    assert!(
        !text(c, "main").await.contains("DZBH"),
        "no deposit is shown"
    );
}

/// 2026-12-01 09:00 China Standard Time, a Tuesday.
const T0: i64 = 1_796_086_800_000;

#[tokio::test]
async fn r_dep_1_after_a_failed_opening_the_agency_records_a_refund_in_its_list() {
    let Some(driver) = crate::browser::browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = crate::common::spawn_app_at(T0).await;
    let agency = app.login("agency").await;
    let mut body = app.tender_body("档案馆密集架采购", T0).await;
    body["deposit_fen"] = serde_json::json!(200_000);
    let (_, t) = agency.post("/api/tenders", body).await;
    let id = t["id"].as_str().unwrap().to_string();
    agency
        .post(&format!("/api/tenders/{id}/publish"), serde_json::json!({}))
        .await;
    for (user, account) in [
        ("supplier1", "6222 0001 0002"),
        ("supplier2", "6222-0001-0002"),
    ] {
        let (status, v) = app
            .login(user)
            .await
            .post(
                &format!("/api/tenders/{id}/deposit"),
                serde_json::json!({"kind": "payment", "amount_fen": 200_000, "payer_name": "付款单位",
                       "bank": "中国银行黄石分行", "account_no": account, "transfer_ref": "20261201"}),
            )
            .await;
        assert!(status.is_success(), "{v}");
    }
    // The deadline passes with no bid: the opening fails, the deposits fall due.
    clock.set(T0 + 20 * 86_400_000);
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    let (_, v) = app
        .login("agency")
        .await
        .post(
            &format!("/api/tenders/{id}/opening"),
            serde_json::json!({"type": "start"}),
        )
        .await;
    assert_eq!(v["phase"], "failed", "{v}");

    login(c, &app, "agency").await;
    c.goto(&app.url(&format!("/deposits.html?tender={id}")))
        .await
        .unwrap();
    wait_long(c, "#deposits-table tr.deposit-row .refund").await;
    // Both paid from one account (R-COL-6): flagged.
    let table = text(c, "#deposits-table").await;
    assert_eq!(table.matches("同一付款账号").count(), 2, "{table}");
    click_long(c, "#deposits-table tr.deposit-row:first-child .refund").await;
    wait_long(c, "#confirm-input").await;
    set_value(c, "#confirm-input", "TK20261221").await;
    click_long(c, "#confirm-ok").await;
    wait_long(c, "#deposits-table tr.deposit-row:first-child .refunded").await;
    let row = text(c, "#deposits-table tr.deposit-row:first-child").await;
    assert!(row.contains("已于") && row.contains("退还"), "{row}");
    // The other is still to refund.
    wait_long(c, "#deposits-table tr.deposit-row:last-child .refund").await;
}
