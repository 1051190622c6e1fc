//! The chain after the award as the roles click it (issue #16's walk), in one browser
//! from the demo's evaluated tender: the agency publishes the result; a losing bidder
//! challenges and, answered, complains to finance; the purchaser drafts the contract and
//! cannot sign while the complaint is open; finance decides; both parties sign with the
//! keys their browsers imported; the purchaser publishes and files; the winner finances
//! the contract with the demo's bank; the purchaser accepts the delivery and pays; the
//! parties rate each other. Each stage's refusals and deadlines have their own tests.

use serde_json::Value;

use crate::alerts::cst;
use crate::award::{awarded, supplier_user};
use crate::browser::{as_user, browser, click_long, set_value, wait_long};
use crate::challenges::losers;
use crate::common::{spawn_app_at, TestApp, PASSWORD};
use crate::evaluation::T0;
use crate::hall::{import_key_file, text_of, wait_text};

/// Registers keys for `user` over the API and writes them as the key file a user keeps.
async fn key_file(app: &TestApp, user: &str) -> std::path::PathBuf {
    let s = app.login(user).await;
    let reg = s.register_keys().await;
    let path = app.dir.path().join(format!("{user}.kbkey"));
    std::fs::write(&path, reg.keys.to_file(&s.user_id(), PASSWORD)).unwrap();
    path
}

async fn api(app: &TestApp, user: &str, path: &str) -> Value {
    app.login(user).await.get(path).await.1
}

#[tokio::test]
async fn from_the_award_to_payment_and_ratings_by_clicking() {
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = spawn_app_at(T0).await;
    let tender = awarded(&app, &clock).await;
    let url = |page: &str| app.url(&format!("/{page}.html?tender={tender}"));

    // The agency publishes the result the day of the confirmation.
    clock.set(cst(2026, 12, 31, 11, 0));
    as_user(c, &app, "agency").await;
    c.goto(&url("result")).await.unwrap();
    click_long(c, "#res-publish").await;
    wait_text(c, "#res-notice", "评审专家名单").await;
    let result = api(&app, "agency", &format!("/api/tenders/{tender}/result")).await;
    let winner_org = result["notice"]["document"]["lots"][0]["winner"]["org_id"]
        .as_str()
        .unwrap()
        .to_string();
    let winner = supplier_user(&app, &winner_org).await;
    let (loser, _) = losers(&app, &tender).await[0].clone();

    // A losing bidder challenges, signed on its device; the agency answers.
    clock.set(cst(2027, 1, 4, 10, 0));
    let loser_key = key_file(&app, &loser).await;
    let purchaser_key = key_file(&app, "purchaser").await;
    let winner_key = key_file(&app, &winner).await;
    as_user(c, &app, &loser).await;
    c.goto(&url("challenges")).await.unwrap();
    import_key_file(c, "#chal-new", &loser_key, PASSWORD).await;
    wait_long(c, "#chal-grounds").await;
    set_value(c, "#chal-grounds", "中标人类似业绩与公示信息不一致。").await;
    click_long(c, "#chal-submit").await;
    wait_text(c, "#chal-list", "待答复").await;
    as_user(c, &app, "agency").await;
    c.goto(&url("challenges")).await.unwrap();
    wait_long(c, ".chal-reply-text").await;
    set_value(c, ".chal-reply-text", "经核实，业绩真实，质疑不成立。").await;
    click_long(c, ".chal-reply-submit").await;
    wait_text(c, "#chal-list", "答复：质疑不成立").await;
    // Dissatisfied, it complains to finance.
    as_user(c, &app, &loser).await;
    c.goto(&url("challenges")).await.unwrap();
    wait_long(c, ".chal-complaint-text").await;
    set_value(c, ".chal-complaint-text", "答复未回应业绩核查。").await;
    click_long(c, ".chal-complain-submit").await;
    wait_text(c, "#chal-complaint-list", "待受理").await;

    // The purchaser drafts the contract; signing waits for the complaint.
    as_user(c, &app, "purchaser").await;
    c.goto(&url("contracts")).await.unwrap();
    click_long(c, "#con-draft").await;
    wait_long(c, "#con-1").await;
    assert!(text_of(c, "#con-actions").await.contains("暂停签订合同"));
    assert!(
        c.find(fantoccini::Locator::Css(
            "#con-1 .keyfile-panel, #con-sign-1"
        ))
        .await
        .is_err(),
        "no signing while the complaint is open"
    );

    // Finance accepts and decides: groundless.
    as_user(c, &app, "finance").await;
    c.goto(&url("challenges")).await.unwrap();
    click_long(c, ".chal-accept").await;
    wait_text(c, "#chal-complaint-list", "已受理").await;
    wait_long(c, ".chal-decide").await;
    set_value(c, ".chal-finance-text", "投诉事项缺乏事实依据。").await;
    set_value(c, ".chal-outcome", "groundless").await;
    click_long(c, ".chal-decide").await;
    wait_text(c, "#chal-complaint-list", "驳回").await;

    // Both parties sign with their device keys; the purchaser publishes and files.
    for (n, (user, key)) in [
        ("purchaser", &purchaser_key),
        (winner.as_str(), &winner_key),
    ]
    .into_iter()
    .enumerate()
    {
        as_user(c, &app, user).await;
        c.goto(&url("contracts")).await.unwrap();
        import_key_file(c, "#con-1", key, PASSWORD).await;
        click_long(c, "#con-sign-1").await;
        // The page shows the signature once the server has it.
        let started = std::time::Instant::now();
        loop {
            let v = api(&app, "finance", &format!("/api/tenders/{tender}/contracts")).await;
            if v["contracts"][0]["signatures"].as_array().unwrap().len() == n + 1 {
                break;
            }
            assert!(
                started.elapsed() < crate::browser::SLOW,
                "{user} never signed: {v}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    as_user(c, &app, "purchaser").await;
    c.goto(&url("contracts")).await.unwrap();
    click_long(c, "#con-publish-1").await;
    wait_long(c, "#con-file-1").await;
    click_long(c, "#con-file-1").await;
    wait_long(c, "#con-bundle-1").await;
    let contracts = api(&app, "finance", &format!("/api/tenders/{tender}/contracts")).await;
    let k = &contracts["contracts"][0];
    assert_eq!(k["status"], "signed");
    assert!(k["published_at"].is_i64() && k["filed_at"].is_i64(), "{k}");

    // The winner finances the contract with the demo's bank.
    as_user(c, &app, &winner).await;
    c.goto(&url("fulfilment")).await.unwrap();
    wait_long(c, "#ful-finance-1").await;
    set_value(c, "#ful-finance-1-amount", "300000").await;
    click_long(c, "#ful-finance-1-submit").await;
    wait_text(c, "#ful-financing-1", "待审批").await;
    as_user(c, &app, "bank").await;
    c.goto(&app.url("/financing.html")).await.unwrap();
    wait_long(c, "#fin-decide-0-account-no").await;
    set_value(
        c,
        "#fin-decide-0-account-name",
        "湖北银行黄石分行政采贷专户",
    )
    .await;
    set_value(c, "#fin-decide-0-account-no", "6222020200005678").await;
    click_long(c, "#fin-decide-0-approve").await;
    wait_text(c, "#fin-case-0", "已于").await;

    // The purchaser accepts the delivery and signs the report on its device.
    clock.set(cst(2027, 2, 8, 10, 0));
    as_user(c, &app, "purchaser").await;
    c.goto(&url("fulfilment")).await.unwrap();
    wait_long(c, "#ful-record-1").await;
    set_value(c, "#ful-record-1-delivered", "2027-02-05").await;
    set_value(c, "#ful-record-1-conclusion", "验收合格。").await;
    click_long(c, "#ful-record-1-submit").await;
    click_long(c, "#ful-sign-1").await;
    wait_text(c, "#ful-round-1-1", "合格").await;
    assert!(text_of(c, "#ful-pay-to-1")
        .await
        .contains("6222020200005678"));

    // The winner asks for the whole price; the purchaser approves and pays.
    let pay = api(
        &app,
        "purchaser",
        &format!("/api/tenders/{tender}/payments"),
    )
    .await;
    let payable = pay["contracts"][0]["payable_fen"].as_i64().unwrap();
    as_user(c, &app, &winner).await;
    c.goto(&url("fulfilment")).await.unwrap();
    wait_long(c, "#ful-request-1-amount").await;
    set_value(
        c,
        "#ful-request-1-amount",
        &format!("{}.{:02}", payable / 100, payable % 100),
    )
    .await;
    click_long(c, "#ful-request-1-submit").await;
    wait_text(c, "#ful-payments-1", "待审核").await;
    as_user(c, &app, "purchaser").await;
    c.goto(&url("fulfilment")).await.unwrap();
    click_long(c, "[id^=ful-approve-]").await;
    wait_long(c, "[id^=ful-pay-][id$=-ref]").await;
    set_value(c, "[id^=ful-pay-][id$=-ref]", "GK-2027-0100").await;
    set_value(c, "[id^=ful-pay-][id$=-day]", "2027-02-08").await;
    click_long(c, "[id^=ful-pay-][id$=-submit]").await;
    wait_text(c, "#ful-payments-1", "已付清").await;

    // The purchaser and the winner rate each other.
    click_long(c, "#ful-ratings-link").await;
    wait_text(c, "#rat-0", "供应商").await;
    click_long(c, "#rat-form-0-submit").await;
    wait_text(c, "#rat-0", "已于").await;
    as_user(c, &app, &winner).await;
    c.goto(&url("ratings")).await.unwrap();
    wait_text(c, "#rat-0", "采购人").await;
    click_long(c, "#rat-form-0-submit").await;
    wait_text(c, "#rat-0", "已于").await;

    // What finance sees at the end: the contract paid into the financing account, the
    // ratings, the ledger verifying with every stage in it.
    let pay = api(&app, "finance", &format!("/api/tenders/{tender}/payments")).await;
    assert_eq!(pay["contracts"][0]["paid_fen"], payable);
    assert_eq!(
        pay["contracts"][0]["pay_to"]["account_no"],
        "6222020200005678"
    );
    let ledger = crate::evaluation::ledger_of(&app, &tender).await;
    let kinds: Vec<&str> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "result_published",
        "challenge_filed",
        "challenge_answered",
        "complaint_filed",
        "complaint_decided",
        "contract_signed",
        "contract_published",
        "contract_filed",
        "financing_decided",
        "acceptance_signed",
        "payment_made",
        "rating_given",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let typed: kaibiao::ledger::Ledger = serde_json::from_value(ledger).unwrap();
    kaibiao::ledger::verify(&typed).expect("the ledger verifies");
    driver.close().await;
}
