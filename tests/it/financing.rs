//! Contract financing (docs/financing.md) over HTTP with the demo's evaluated tender: the
//! winner asks the demo's bank against its signed contract; the bank reads that contract
//! and the supplier's credit summary and nothing else; approved, the contract's payments
//! go to the financing account.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::alerts::cst;
use crate::common::{code, spawn_app_at, Session, TestApp, PASSWORD};
use crate::evaluation::{events_in, ledger_of, T0};
use crate::fulfilment::signed;

async fn send(s: &Session, tender: &str, cmd: Value) -> (StatusCode, Value) {
    s.post(&format!("/api/tenders/{tender}/financing"), cmd)
        .await
}

/// A second bank on the platform, with its officer `bank2`.
async fn second_bank(app: &TestApp) -> String {
    let admin = app.login("admin").await;
    let first17 = "91420200MA4000099";
    let credit_code = format!(
        "{first17}{}",
        kaibiao::credit_code::check_char(first17).unwrap()
    );
    let (status, org) = admin
        .post(
            "/api/organisations",
            json!({"kind": "bank", "name": "黄石农村商业银行", "credit_code": credit_code,
                   "region_code": "420200"}),
        )
        .await;
    assert!(status.is_success(), "{org}");
    let id = org["id"].as_str().unwrap().to_string();
    let (status, v) = admin
        .post(
            "/api/users",
            json!({"username": "bank2", "display_name": "钱行(农商行)", "role": "bank",
                   "org_id": id, "password": PASSWORD}),
        )
        .await;
    assert!(status.is_success(), "{v}");
    id
}

#[tokio::test]
async fn a_bank_finances_a_signed_contract_reading_only_that_contract_and_the_payments_follow() {
    let (app, clock) = spawn_app_at(T0).await;
    let s = signed(&app, &clock, Some("small")).await;
    let t = &s.tender;
    clock.set(cst(2027, 1, 5, 10, 0));
    let other_bank = second_bank(&app).await;
    let winner = app.login(&s.winner_user).await;
    let (_, banks) = winner.get("/api/banks").await;
    let bank = banks
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "湖北银行黄石分行")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, pay) = winner.get(&format!("/api/tenders/{t}/payments")).await;
    let payable = pay["contracts"][0]["payable_fen"].as_i64().unwrap();
    let (_, f) = winner.get(&format!("/api/tenders/{t}/financing")).await;
    assert_eq!(f["may_apply"], json!([s.contract]));

    // Refusals write nothing: over the contract, not a bank, not the contract's supplier.
    let before = events_in(&app, t).await;
    let apply = |bank: &str, amount: i64| {
        json!({"type": "apply", "contract_id": s.contract, "bank_org_id": bank,
               "amount_fen": amount, "note": "用于采购原材料。"})
    };
    let (status, v) = send(&winner, t, apply(&bank, payable + 1)).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "FINANCING_OVER_CONTRACT")
    );
    let purchaser_org: String =
        sqlx::query_scalar("SELECT purchaser_org_id FROM contracts WHERE id = $1")
            .bind(&s.contract)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    let (status, v) = send(&winner, t, apply(&purchaser_org, 100)).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION")
    );
    let loser = app.login(&s.loser_user).await;
    let (status, _) = send(&loser, t, apply(&bank, 100)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(events_in(&app, t).await, before);

    // The winner applies, once.
    let amount = payable * 8 / 10;
    let (status, a) = send(&winner, t, apply(&bank, amount)).await;
    assert_eq!(status, StatusCode::OK, "{a}");
    let id = a["application_id"].as_str().unwrap().to_string();
    let (status, v) = send(&winner, t, apply(&bank, 100)).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "FINANCING_PENDING")
    );

    // The bank reads this contract and the supplier's credit summary ...
    let officer = app.login("bank").await;
    let (status, cases) = officer.get("/api/financing").await;
    assert_eq!(status, StatusCode::OK, "{cases}");
    assert_eq!(cases.as_array().unwrap().len(), 1);
    let case = &cases[0];
    assert_eq!(case["application"]["amount_fen"], amount);
    assert_eq!(case["payable_fen"], payable);
    assert_eq!(
        case["contract"]["supplier"]["name"],
        case["application"]["supplier_name"]
    );
    assert_eq!(case["credit"]["records_in_force"], json!([]));
    // ... and nothing else: not the tender's contracts, acceptance or payments, and no
    // other bank reads this case.
    for stage in ["contracts", "acceptance", "payments"] {
        let (_, v) = officer.get(&format!("/api/tenders/{t}/{stage}")).await;
        assert_eq!(v["contracts"], json!([]), "{stage}: {v}");
    }
    let (status, _) = officer
        .get(&format!("/api/contracts/{}/bundle", s.contract))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, v) = officer.get(&format!("/api/tenders/{t}/financing")).await;
    assert_eq!(v["applications"], json!([]));
    let bank2 = app.login("bank2").await;
    let (status, _) = bank2.get(&format!("/api/financing/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, none) = bank2.get("/api/financing").await;
    assert_eq!(none, json!([]));
    let approve = |amount: i64, account: &str| {
        json!({"type": "approve", "application_id": id, "amount_fen": amount,
               "account_name": "湖北银行黄石分行政采贷专户", "account_no": account})
    };
    let (status, _) = send(&bank2, t, approve(amount, "6222020200001234")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another bank does not decide"
    );
    let (status, _) = send(&winner, t, approve(amount, "6222020200001234")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nor the supplier");
    let _ = other_bank;

    // Approved with an amount within the request, into a financing account.
    let (status, v) = send(&officer, t, approve(amount + 1, "6222020200001234")).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "FINANCING_OVER_CONTRACT")
    );
    let (status, v) = send(&officer, t, approve(amount, "6222-0202")).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION")
    );
    let (status, v) = send(&officer, t, approve(amount, "6222 0202 0000 1234")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = send(&officer, t, approve(amount, "6222020200001234")).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION")
    );

    // The purchaser's payments now go to the financing account.
    let purchaser = app.login("purchaser").await;
    let (_, pay) = purchaser.get(&format!("/api/tenders/{t}/payments")).await;
    let to = &pay["contracts"][0]["pay_to"];
    assert_eq!(to["bank_name"], "湖北银行黄石分行");
    assert_eq!(to["account_no"], "6222020200001234");
    let (_, f) = purchaser.get(&format!("/api/tenders/{t}/financing")).await;
    assert_eq!(f["applications"][0]["status"], "approved");
    assert_eq!(f["applications"][0]["approved_fen"], amount);

    // The ledger keeps both by digest; the public reads neither amount nor account.
    let ledger = ledger_of(&app, t).await;
    let kinds: Vec<&str> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"financing_applied") && kinds.contains(&"financing_decided"));
    assert!(!ledger.to_string().contains("6222020200001234"));

    // Accepted, the winner asks to be paid; the purchaser pays into the financing
    // account or not at all: elsewhere, or naming none, is refused and nothing changes.
    clock.set(cst(2027, 2, 1, 10, 0));
    crate::fulfilment::accept(
        &app,
        &s,
        json!([{"name": "课桌椅", "passed": true}]),
        json!([]),
    )
    .await;
    let (purchaser, winner) = (
        app.login("purchaser").await,
        app.login(&s.winner_user).await,
    );
    let payments = format!("/api/tenders/{t}/payments");
    let (status, r) = winner
        .post(
            &payments,
            json!({"type": "request", "contract_id": s.contract, "amount_fen": 100_000}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let id = r["request_id"].as_str().unwrap();
    let (status, v) = purchaser
        .post(&payments, json!({"type": "approve", "request_id": id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let pay = |account: &str| {
        json!({"type": "pay", "request_id": id, "paid_on": "2027-02-01", "reference": "GK-9",
               "account_no": account})
    };
    for elsewhere in ["6217000000000001", ""] {
        let (status, v) = purchaser.post(&payments, pay(elsewhere)).await;
        assert_eq!(
            (status, code(&v)),
            (StatusCode::CONFLICT, "PAYMENT_NOT_TO_FINANCING_ACCOUNT"),
            "{elsewhere:?}"
        );
    }
    let (_, p) = purchaser.get(&payments).await;
    assert_eq!(p["contracts"][0]["requests"][0]["status"], "approved");
    assert_eq!(p["contracts"][0]["paid_fen"], 0);
    let (status, v) = purchaser.post(&payments, pay("6222 0202 0000 1234")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, p) = winner.get(&payments).await;
    assert_eq!(p["contracts"][0]["paid_fen"], 100_000);
    assert_eq!(
        p["contracts"][0]["requests"][0]["paid_account"],
        "6222020200001234"
    );
    // The ledger ties the payment to the financing, still without the account.
    let ledger = ledger_of(&app, t).await;
    let made = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "payment_made")
        .unwrap();
    assert_eq!(
        made["body"]["financing_application_id"],
        f["applications"][0]["id"]
    );
    assert!(!ledger.to_string().contains("6222020200001234"));
}

#[tokio::test]
async fn the_supplier_applies_in_the_page_and_the_bank_approves_in_its_own() {
    use crate::browser::{as_user, browser, click_long, set_value, wait_long};
    use crate::hall::{text_of, wait_text};
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = spawn_app_at(T0).await;
    let s = signed(&app, &clock, Some("small")).await;
    clock.set(cst(2027, 1, 5, 10, 0));
    let page = app.url(&format!("/fulfilment.html?tender={}", s.tender));

    // The winner asks the demo's bank for 500,000 yuan against its contract.
    as_user(c, &app, &s.winner_user).await;
    c.goto(&page).await.unwrap();
    wait_long(c, "#ful-finance-1").await;
    assert!(text_of(c, "#ful-finance-1-bank")
        .await
        .contains("湖北银行黄石分行"));
    set_value(c, "#ful-finance-1-amount", "500000").await;
    set_value(c, "#ful-finance-1-note", "用于采购课桌椅原材料。").await;
    click_long(c, "#ful-finance-1-submit").await;
    wait_text(c, "#ful-financing-1", "待审批").await;

    // The bank's officer reads the case with the contract and the credit summary.
    as_user(c, &app, "bank").await;
    c.goto(&app.url("/dashboard.html")).await.unwrap();
    click_long(c, "#financing-link").await;
    let case = wait_text(c, "#fin-case-0", "用于采购课桌椅原材料").await;
    assert!(case.contains("黄石市第一中学"), "{case}");
    assert!(case.contains("无在效的不良信用记录"), "{case}");
    crate::browser::screenshots(c, "financing-bank", "#fin-case-0").await;
    set_value(
        c,
        "#fin-decide-0-account-name",
        "湖北银行黄石分行政采贷专户",
    )
    .await;
    set_value(c, "#fin-decide-0-account-no", "6222 0202 0000 1234").await;
    click_long(c, "#fin-decide-0-approve").await;
    wait_text(c, "#fin-case-0", "已于").await;

    // The purchaser sees where the contract is now paid.
    as_user(c, &app, "purchaser").await;
    c.goto(&page).await.unwrap();
    let to = wait_text(c, "#ful-pay-to-1", "6222020200001234").await;
    assert!(to.contains("湖北银行黄石分行"), "{to}");
    assert!(text_of(c, "#ful-financing-1").await.contains("已批准"));
    driver.close().await;
}
