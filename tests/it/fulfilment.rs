//! After the signed contract (docs/fulfilment.md) over HTTP with the demo's evaluated
//! tender: acceptance in rounds with evidence and a remedy, signed by the purchasing unit;
//! payment requested, decided and recorded within the contract (R-PAY-1); the SME's
//! payment term alerted on the holiday calendar.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::alerts::{about, cst, run, stages};
use crate::award::{awarded, supplier_user};
use crate::challenges::ok_publish;
use crate::common::{b64, code, spawn_app_at, Registered, Session, TestApp};
use crate::evaluation::{ledger_of, T0};

/// The demo's tender with its contract signed by both on Monday 2027-01-04.
pub(crate) struct Signed {
    pub tender: String,
    pub contract: String,
    pub winner_user: String,
    pub loser_user: String,
    pub p_reg: Registered,
}

/// `size`, when given, is the winner's enterprise size as registered before the draft.
pub(crate) async fn signed(
    app: &TestApp,
    clock: &kaibiao::clock::ManualClock,
    size: Option<&str>,
) -> Signed {
    signed_with(app, clock, size, None).await
}

/// As `signed`, the purchaser first adjusting the draft's `terms` when given.
pub(crate) async fn signed_with(
    app: &TestApp,
    clock: &kaibiao::clock::ManualClock,
    size: Option<&str>,
    terms: Option<Value>,
) -> Signed {
    let tender = awarded(app, clock).await;
    clock.set(cst(2026, 12, 31, 11, 0));
    ok_publish(app, &tender).await;
    let (_, result) = app
        .login("agency")
        .await
        .get(&format!("/api/tenders/{tender}/result"))
        .await;
    let winner = result["notice"]["document"]["lots"][0]["winner"]["org_id"]
        .as_str()
        .unwrap()
        .to_string();
    let loser = result["letters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["org_id"] != winner.as_str())
        .unwrap()["org_id"]
        .as_str()
        .unwrap()
        .to_string();
    if let Some(size) = size {
        sqlx::query("UPDATE organisations SET enterprise_size = $1 WHERE id = $2")
            .bind(size)
            .bind(&winner)
            .execute(&app.state.db.pool)
            .await
            .unwrap();
    }
    let winner_user = supplier_user(app, &winner).await;
    let loser_user = supplier_user(app, &loser).await;
    clock.set(cst(2027, 1, 4, 9, 0));
    if let Some(terms) = terms {
        let p = app.login("purchaser").await;
        let path = format!("/api/tenders/{tender}/contracts");
        ok_on(&p, &path, json!({"type": "draft"})).await;
        let (_, view) = p.get(&path).await;
        let id = &view["contracts"][0]["id"];
        ok_on(
            &p,
            &path,
            json!({"type": "adjust", "contract_id": id, "terms": terms}),
        )
        .await;
    }
    let (contract, p_reg) = sign_contract(app, &tender, &winner_user).await;
    Signed {
        tender,
        contract,
        winner_user,
        loser_user,
        p_reg,
    }
}

/// Drafts the tender's contract if it is not yet, and signs it as the purchaser and as
/// `winner_user`, each with newly registered keys: the contract and the purchaser's keys.
pub(crate) async fn sign_contract(
    app: &TestApp,
    tender: &str,
    winner_user: &str,
) -> (String, Registered) {
    let purchaser = app.login("purchaser").await;
    let p_reg = purchaser.register_keys().await;
    let supplier = app.login(winner_user).await;
    let s_reg = supplier.register_keys().await;
    let path = format!("/api/tenders/{tender}/contracts");
    let (_, view) = purchaser.get(&path).await;
    if view["contracts"] == json!([]) {
        let (status, v) = purchaser.post(&path, json!({"type": "draft"})).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let (_, view) = purchaser.get(&path).await;
    let contract = view["contracts"][0]["id"].as_str().unwrap().to_string();
    let payload = view["contracts"][0]["my_payload"]
        .as_str()
        .unwrap()
        .to_string();
    for (s, reg) in [(&purchaser, &p_reg), (&supplier, &s_reg)] {
        let (status, v) = s
            .post(
                &path,
                json!({"type": "sign", "contract_id": contract, "key_id": reg.signing_key_id,
                       "signature": b64(&reg.keys.sign(payload.as_bytes()))}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    (contract, p_reg)
}

async fn send(s: &Session, tender: &str, stage: &str, cmd: Value) -> (StatusCode, Value) {
    s.post(&format!("/api/tenders/{tender}/{stage}"), cmd).await
}

async fn ok(s: &Session, tender: &str, stage: &str, cmd: Value) -> Value {
    ok_on(s, &format!("/api/tenders/{tender}/{stage}"), cmd).await
}

async fn ok_on(s: &Session, path: &str, cmd: Value) -> Value {
    let (status, v) = s.post(path, cmd.clone()).await;
    assert_eq!(status, StatusCode::OK, "{cmd} → {v}");
    v
}

async fn view(app: &TestApp, user: Option<&str>, tender: &str, stage: &str) -> Value {
    let path = format!("/api/tenders/{tender}/{stage}");
    let (status, v) = match user {
        Some(u) => app.login(u).await.get(&path).await,
        None => {
            let r = reqwest::get(app.url(&path)).await.unwrap();
            (r.status(), r.json().await.unwrap())
        }
    };
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

fn sign(reg: &Registered, id: &str, payload: &str) -> Value {
    json!({"type": "sign", "acceptance_id": id, "key_id": reg.signing_key_id,
           "signature": b64(&reg.keys.sign(payload.as_bytes()))})
}

/// Records a round, reads its payload and signs it; returns the acceptance id.
pub(crate) async fn accept(app: &TestApp, s: &Signed, items: Value, evidence: Value) -> String {
    let p = &app.login("purchaser").await;
    let t = &s.tender;
    let r = ok(
        p,
        t,
        "acceptance",
        json!({"type": "record", "contract_id": s.contract, "delivered_on": "2027-01-29",
               "items": items, "conclusion": "验收结论见各项。", "evidence": evidence}),
    )
    .await;
    let id = r["acceptance_id"].as_str().unwrap().to_string();
    let (_, v) = p.get(&format!("/api/tenders/{t}/acceptance")).await;
    let payload = v["contracts"][0]["rounds"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["my_payload"]
        .as_str()
        .unwrap()
        .to_string();
    ok(p, t, "acceptance", sign(&s.p_reg, &id, &payload)).await;
    id
}

#[tokio::test]
async fn r_pay_1_acceptance_in_rounds_then_payments_within_the_contract() {
    let (app, clock) = spawn_app_at(T0).await;
    let s = signed(&app, &clock, None).await;
    clock.set(cst(2027, 2, 1, 10, 0));
    let t = &s.tender;
    // Sessions end with the days passed: each signs in again.
    let (ps, ss) = (
        app.login("purchaser").await,
        app.login(&s.winner_user).await,
    );
    let (p, sup) = (&ps, &ss);

    // No payment before acceptance; nothing written.
    let before = crate::evaluation::events_in(&app, t).await;
    let (status, v) = send(
        sup,
        t,
        "payments",
        json!({"type": "request", "contract_id": s.contract, "amount_fen": 100}),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "PAYMENT_BEFORE_ACCEPTANCE")
    );
    assert_eq!(crate::evaluation::events_in(&app, t).await, before);

    // Only the purchasing unit records; a failed item needs its reason; the delivery is
    // not in the future.
    let record = |items: Value, delivered: &str| {
        json!({"type": "record", "contract_id": s.contract, "delivered_on": delivered,
               "items": items, "conclusion": "部分不合格。"})
    };
    let failing = json!([{"name": "课桌椅", "passed": true},
                         {"name": "讲台", "passed": false, "note": "桌面划痕三处"}]);
    let (status, _) = send(sup, t, "acceptance", record(failing.clone(), "2027-01-29")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (items, day, field) in [
        (
            json!([{"name": "讲台", "passed": false}]),
            "2027-01-29",
            "items",
        ),
        (failing.clone(), "2027-02-02", "delivered_on"),
    ] {
        let (status, v) = send(p, t, "acceptance", record(items, day)).await;
        assert_eq!(
            (status, code(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION")
        );
        assert!(v["fields"].get(field).is_some(), "{v}");
    }

    // Round 1 fails: a remedy opens, and no second round until the supplier answers.
    let r1 = ok(p, t, "acceptance", record(failing.clone(), "2027-01-29")).await;
    let r1 = r1["acceptance_id"].as_str().unwrap().to_string();
    let (status, v) = send(p, t, "acceptance", sign(&s.p_reg, &r1, "not the payload")).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "SIGNATURE_INVALID")
    );
    let v = view(&app, Some("purchaser"), t, "acceptance").await;
    let payload = v["contracts"][0]["rounds"][0]["my_payload"]
        .as_str()
        .unwrap()
        .to_string();
    let signed = ok(p, t, "acceptance", sign(&s.p_reg, &r1, &payload)).await;
    assert_eq!(signed["status"], "failed");
    let (status, v) = send(p, t, "acceptance", record(failing.clone(), "2027-01-29")).await;
    assert_eq!((status, code(&v)), (StatusCode::CONFLICT, "REMEDY_PENDING"));
    let v = view(&app, Some(&s.winner_user), t, "acceptance").await;
    assert_eq!(v["contracts"][0]["may_reply"], true);
    assert_eq!(
        v["contracts"][0]["rounds"][0]["document"]["items"][1]["note"],
        "桌面划痕三处"
    );
    ok(
        sup,
        t,
        "acceptance",
        json!({"type": "remedy", "acceptance_id": r1, "reply": "已更换讲台。"}),
    )
    .await;
    let (status, v) = send(
        sup,
        t,
        "acceptance",
        json!({"type": "remedy", "acceptance_id": r1, "reply": "再说一次。"}),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION")
    );

    // Round 2 passes, with a delivery note as evidence.
    clock.set(cst(2027, 2, 8, 10, 0));
    // Sessions end with the days passed: each signs in again.
    let (ps, ss) = (
        app.login("purchaser").await,
        app.login(&s.winner_user).await,
    );
    let (p, sup) = (&ps, &ss);
    let note = b"%PDF-1.4 delivery note".to_vec();
    let r2 = accept(
        &app,
        &s,
        json!([{"name": "课桌椅", "passed": true}, {"name": "讲台", "passed": true, "note": "已更换"}]),
        json!([{"name": "送货单.pdf", "media_type": "application/pdf", "content_base64": base64::engine::general_purpose::STANDARD.encode(&note)}]),
    )
    .await;
    let v = view(&app, Some("finance"), t, "acceptance").await;
    let c = &v["contracts"][0];
    assert_eq!(c["accepted_at"], cst(2027, 2, 8, 10, 0));
    assert_eq!(
        c["rounds"][0]["remedy"]["closed_at"],
        cst(2027, 2, 8, 10, 0)
    );
    assert_eq!(c["rounds"][1]["status"], "passed");
    let evidence = &c["rounds"][1]["evidence"][0];
    assert_eq!(evidence["sha256"], kaibiao::crypto::sha256_hex(&note));
    let (status, _) = send(p, t, "acceptance", record(failing.clone(), "2027-01-29")).await;
    assert_eq!(status, StatusCode::CONFLICT, "accepted once");
    // The evidence: to the parties and supervisors, nobody else; the report to them only.
    let file = format!("/api/acceptances/{r2}/evidence/1");
    let r = sup.raw_get(&file).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().to_vec(), note);
    let loser = app.login(&s.loser_user).await;
    assert_eq!(loser.raw_get(&file).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        view(&app, Some(&s.loser_user), t, "acceptance").await["contracts"],
        json!([])
    );
    assert_eq!(
        view(&app, None, t, "payments").await["contracts"],
        json!([])
    );

    // Payments: never over the contract; approved or rejected once; paid with a reference.
    let pay = view(&app, Some(&s.winner_user), t, "payments").await;
    let c = &pay["contracts"][0];
    let payable = c["payable_fen"].as_i64().unwrap();
    assert_eq!(c["may_request"], true);
    assert_eq!(c["accepted_at"], cst(2027, 2, 8, 10, 0));
    // 30 days from Monday 02-08: Wednesday 03-10, in time until its end.
    assert_eq!(c["due_at"], cst(2027, 3, 11, 0, 0));
    let request =
        |amount: i64| json!({"type": "request", "contract_id": s.contract, "amount_fen": amount});
    let (status, v) = send(sup, t, "payments", request(payable + 1)).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "PAYMENT_OVER_CONTRACT")
    );
    let first = payable * 6 / 10;
    let a = ok(sup, t, "payments", request(first)).await;
    let b = ok(sup, t, "payments", request(payable - first)).await;
    let (status, v) = send(sup, t, "payments", request(1)).await;
    assert_eq!(
        code(&v),
        "PAYMENT_OVER_CONTRACT",
        "{status}: both requests are counted"
    );
    let (status, _) = send(
        sup,
        t,
        "payments",
        json!({"type": "approve", "request_id": a["request_id"]}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the supplier does not approve"
    );
    ok(
        p,
        t,
        "payments",
        json!({"type": "approve", "request_id": a["request_id"]}),
    )
    .await;
    let (status, v) = send(
        p,
        t,
        "payments",
        json!({"type": "approve", "request_id": a["request_id"]}),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION")
    );
    ok(
        p,
        t,
        "payments",
        json!({"type": "reject", "request_id": b["request_id"], "reason": "发票未到"}),
    )
    .await;
    let (status, v) = send(p, t, "payments", json!({"type": "pay", "request_id": b["request_id"], "paid_on": "2027-02-10", "reference": "X"})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION"),
        "a rejected request is not paid"
    );
    let b2 = ok(sup, t, "payments", request(payable - first)).await;
    ok(
        p,
        t,
        "payments",
        json!({"type": "approve", "request_id": b2["request_id"]}),
    )
    .await;
    clock.set(cst(2027, 2, 10, 15, 0));
    let ps = app.login("purchaser").await;
    let p = &ps;
    for id in [&a["request_id"], &b2["request_id"]] {
        let (status, v) = send(p, t, "payments", json!({"type": "pay", "request_id": id, "paid_on": "2027-02-11", "reference": "GK-2027-0001"})).await;
        assert_eq!(
            (status, code(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
            "not after today"
        );
        ok(p, t, "payments", json!({"type": "pay", "request_id": id, "paid_on": "2027-02-10", "reference": "GK-2027-0001"})).await;
    }
    let v = view(&app, Some("oversight"), t, "payments").await;
    let c = &v["contracts"][0];
    assert_eq!(c["paid_fen"], payable);
    assert_eq!(c["settled_at"], cst(2027, 2, 10, 15, 0));
    assert_eq!(
        view(&app, Some(&s.winner_user), t, "payments").await["contracts"][0]["may_request"],
        false
    );

    let ledger = ledger_of(&app, t).await;
    let kinds: Vec<&str> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "acceptance_signed",
        "remedy_replied",
        "payment_requested",
        "payment_decided",
        "payment_made",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let made: Vec<&Value> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "payment_made")
        .collect();
    assert_eq!(made.last().unwrap()["body"]["total_paid_fen"], payable);
    let typed: kaibiao::ledger::Ledger = serde_json::from_value(ledger).unwrap();
    kaibiao::ledger::verify(&typed).expect("the ledger verifies");
}

#[tokio::test]
async fn r_pay_1_an_sme_unpaid_at_its_term_alerts_the_purchaser_and_then_finance() {
    let (app, clock) = spawn_app_at(T0).await;
    let s = signed(&app, &clock, Some("small")).await;
    let v = view(&app, Some("purchaser"), &s.tender, "contracts").await;
    assert_eq!(v["contracts"][0]["document"]["sme"], true);
    // Accepted on Monday 2027-02-08: 30 days make Wednesday 03-10, told on Tuesday 03-09.
    clock.set(cst(2027, 2, 8, 10, 0));
    accept(
        &app,
        &s,
        json!([{"name": "课桌椅", "passed": true}]),
        json!([]),
    )
    .await;
    let payments = |alerts: Vec<Value>| -> Vec<Value> {
        alerts
            .into_iter()
            .filter(|a| a["rule"] == "R-PAY-1")
            .collect()
    };
    let due = cst(2027, 3, 11, 0, 0);
    clock.set(cst(2027, 3, 9, 0, 0) - 1);
    run(&app).await;
    assert!(payments(about(&app, "purchaser", &s.tender).await).is_empty());
    clock.set(cst(2027, 3, 9, 0, 0));
    run(&app).await;
    let seen = payments(about(&app, "purchaser", &s.tender).await);
    assert_eq!(stages(&seen), ["upcoming"], "{seen:?}");
    assert_eq!(seen[0]["due_at"], due);
    assert_eq!(
        seen[0]["link"],
        format!("/fulfilment.html?tender={}", s.tender)
    );
    clock.set(due - 1);
    run(&app).await;
    assert!(payments(about(&app, "finance", &s.tender).await).is_empty());
    clock.set(due);
    run(&app).await;
    assert_eq!(
        stages(&payments(about(&app, "purchaser", &s.tender).await)),
        ["due", "upcoming"]
    );
    assert_eq!(
        stages(&payments(about(&app, "finance", &s.tender).await)),
        ["overdue"]
    );
}

#[tokio::test]
async fn r_pay_1_the_purchaser_accepts_and_pays_in_the_page_and_the_supplier_requests_there() {
    use crate::browser::{as_user, browser, click_long, set_value, wait_long};
    use crate::hall::{import_key_file, text_of, wait_text};
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = spawn_app_at(T0).await;
    let s = signed(&app, &clock, Some("small")).await;
    clock.set(cst(2027, 2, 8, 10, 0));
    let purchaser = app.login("purchaser").await;
    let key_file = app.dir.path().join("purchaser.kbkey");
    std::fs::write(
        &key_file,
        s.p_reg
            .keys
            .to_file(&purchaser.user_id(), crate::common::PASSWORD),
    )
    .unwrap();
    let evidence = app.dir.path().join("送货单.pdf");
    std::fs::write(&evidence, b"%PDF-1.4 delivery note").unwrap();
    let page = app.url(&format!("/fulfilment.html?tender={}", s.tender));

    // The purchasing unit records the acceptance with a delivery note and signs it.
    as_user(c, &app, "purchaser").await;
    c.goto(&page).await.unwrap();
    wait_long(c, "#ful-record-1").await;
    set_value(c, "#ful-record-1-delivered", "2027-02-05").await;
    set_value(
        c,
        "#ful-record-1-conclusion",
        "货物数量、规格与合同一致，验收合格。",
    )
    .await;
    c.find(fantoccini::Locator::Css("#ful-record-1-files"))
        .await
        .unwrap()
        .send_keys(evidence.to_str().unwrap())
        .await
        .unwrap();
    // An expert sits on the acceptance panel and signs after the purchaser.
    set_value(c, "#ful-record-1-members", "expert1").await;
    click_long(c, "#ful-record-1-submit").await;
    wait_text(c, "#ful-round-1-1", "待签署").await;
    import_key_file(c, "#ful-round-1-1", &key_file, crate::common::PASSWORD).await;
    click_long(c, "#ful-sign-1").await;
    let round = wait_text(c, "#ful-round-1-1 .ful-signers", "已签署").await;
    assert!(round.contains("验收小组成员"), "{round}");
    assert_eq!(
        c.find(fantoccini::Locator::Css("#ful-round-1-1"))
            .await
            .unwrap()
            .attr("data-status")
            .await
            .unwrap()
            .as_deref(),
        Some("draft"),
        "waits for the panel"
    );

    // The expert finds it on the dashboard, reads it and signs with its key file.
    let expert = app.login("expert1").await;
    let expert_reg = expert.register_keys().await;
    let expert_key = app.dir.path().join("expert1.kbkey");
    std::fs::write(
        &expert_key,
        expert_reg
            .keys
            .to_file(&expert.user_id(), crate::common::PASSWORD),
    )
    .unwrap();
    as_user(c, &app, "expert1").await;
    c.goto(&app.url("/dashboard.html")).await.unwrap();
    wait_text(c, "#acceptances-to-sign", "第 1 次验收").await;
    click_long(c, "#acceptances-to-sign .acceptance-link").await;
    wait_text(c, "#ful-round-1-1", "送货单.pdf").await;
    import_key_file(c, "#ful-round-1-1", &expert_key, crate::common::PASSWORD).await;
    click_long(c, "#ful-sign-1").await;
    wait_long(c, "#ful-round-1-1[data-status=passed]").await;
    let round = text_of(c, "#ful-round-1-1").await;
    assert!(!round.contains("待签署"), "{round}");
    crate::browser::screenshots(c, "fulfilment-purchaser", "#ful-1").await;
    assert!(round.contains("送货单.pdf"), "{round}");
    assert!(round.contains("2027-02-05"), "{round}");

    // The supplier requests the whole amount; the purchasing unit approves and pays.
    let v = view(&app, Some("purchaser"), &s.tender, "payments").await;
    let payable = v["contracts"][0]["payable_fen"].as_i64().unwrap();
    as_user(c, &app, &s.winner_user).await;
    c.goto(&page).await.unwrap();
    let due = wait_text(c, "#ful-payments-1", "R-PAY-1").await;
    assert!(due.contains("2027-03-10"), "{due}");
    set_value(
        c,
        "#ful-request-1-amount",
        &format!("{}.{:02}", payable / 100, payable % 100),
    )
    .await;
    set_value(c, "#ful-request-1-note", "验收合格，申请支付全部合同款。").await;
    click_long(c, "#ful-request-1-submit").await;
    wait_text(c, "#ful-payments-1", "待审核").await;
    crate::browser::screenshots(c, "fulfilment-supplier", "#ful-payments-1").await;
    as_user(c, &app, "purchaser").await;
    c.goto(&page).await.unwrap();
    click_long(c, "[id^=ful-approve-]").await;
    wait_text(c, "#ful-payments-1", "已审核").await;
    wait_long(c, "[id^=ful-pay-][id$=-ref]").await;
    set_value(c, "[id^=ful-pay-][id$=-ref]", "GK-2027-0002").await;
    set_value(c, "[id^=ful-pay-][id$=-day]", "2027-02-08").await;
    click_long(c, "[id^=ful-pay-][id$=-submit]").await;
    let paid = wait_text(c, "#ful-payments-1", "已付清").await;
    crate::browser::screenshots(c, "fulfilment-paid", "#ful-payments-1").await;
    assert!(paid.contains("GK-2027-0002"), "{paid}");
    let v = view(&app, Some("finance"), &s.tender, "payments").await;
    assert_eq!(v["contracts"][0]["paid_fen"], payable);
    assert!(text_of(c, "#ful-1").await.contains("验收合格时间"));
    driver.close().await;
}

/// A contract that asks for an expert on its acceptance (验收小组): the purchaser's report
/// names its panel by username — an expert at least, the tender's agency — and takes
/// effect only with the last signature; the members read it and sign it from their
/// dashboard; recording again starts the signatures afresh.
#[tokio::test]
async fn the_acceptance_panel_signs_with_the_purchaser_and_the_report_takes_effect_with_the_last() {
    let (app, clock) = spawn_app_at(T0).await;
    let terms = json!({"payment_days": 30, "instalments": [{"share_bp": 10000, "when": "on_acceptance"}],
                       "delivery_place": "", "special_terms": "", "acceptance_experts": 1});
    let s = signed_with(&app, &clock, None, Some(terms)).await;
    let t = &s.tender;
    clock.set(cst(2027, 2, 1, 10, 0));
    let p = &app.login("purchaser").await;
    let record = |members: Value| {
        json!({"type": "record", "contract_id": s.contract, "delivered_on": "2027-01-29",
               "items": [{"name": "课桌椅", "passed": true}], "conclusion": "合格。",
               "members": members})
    };

    // The panel as the contract asks: an expert at least; no supplier, bank or stranger.
    let (status, v) = send(p, t, "acceptance", record(json!(["agency"]))).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "ACCEPTANCE_PANEL_SHORT")
    );
    for not_eligible in [
        s.winner_user.as_str(),
        "bank",
        "finance",
        "nobody-here",
        "purchaser",
    ] {
        let (status, v) = send(p, t, "acceptance", record(json!(["expert1", not_eligible]))).await;
        assert_eq!(
            (status, code(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
            "{not_eligible}: {v}"
        );
    }
    let (status, v) = send(p, t, "acceptance", record(json!(["expert1", "expert1"]))).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION")
    );
    assert_eq!(
        view(&app, Some("purchaser"), t, "acceptance").await["contracts"][0]["rounds"],
        json!([])
    );

    let id = ok(p, t, "acceptance", record(json!(["expert1", "agency"]))).await["acceptance_id"]
        .as_str()
        .unwrap()
        .to_string();
    let payload = |v: &Value| {
        v["contracts"][0]["rounds"][0]["my_payload"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let v = view(&app, Some("purchaser"), t, "acceptance").await;
    eprintln!("VIEW {}", v["contracts"][0]["rounds"]);
    let signed = ok(p, t, "acceptance", sign(&s.p_reg, &id, &payload(&v))).await;
    assert_eq!(signed["status"], "draft", "the panel has not signed yet");
    let (status, v) = send(p, t, "acceptance", sign(&s.p_reg, &id, &payload(&v))).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION"),
        "signed once"
    );

    // Not accepted yet: no payment, no payment term.
    let winner = app.login(&s.winner_user).await;
    let (status, v) = send(
        &winner,
        t,
        "payments",
        json!({"type": "request", "contract_id": s.contract, "amount_fen": 1}),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "PAYMENT_BEFORE_ACCEPTANCE")
    );

    // Recording again starts afresh: the purchaser's signature is gone with the old draft.
    ok(p, t, "acceptance", record(json!(["expert1", "agency"]))).await;
    let v = view(&app, Some("purchaser"), t, "acceptance").await;
    let signers = v["contracts"][0]["rounds"][0]["signers"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(signers.len(), 3);
    assert!(
        signers.iter().all(|s| s["signed_at"].is_null()),
        "{signers:?}"
    );
    assert_eq!(
        signers
            .iter()
            .map(|s| s["kind"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["purchaser", "member", "member"]
    );
    let current = payload(&v);
    ok(p, t, "acceptance", sign(&s.p_reg, &id, &current)).await;

    // An expert not on the panel reads nothing and cannot sign.
    let outsider = app.login("expert2").await;
    let out_reg = outsider.register_keys().await;
    let (_, v) = outsider.get(&format!("/api/tenders/{t}/acceptance")).await;
    assert_eq!(v["contracts"], json!([]));
    let (status, _) = send(&outsider, t, "acceptance", sign(&out_reg, &id, &current)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Each member finds the report on its dashboard, reads it and signs; the last
    // signature makes the contract accepted.
    for (member, last) in [("expert1", false), ("agency", true)] {
        let m = app.login(member).await;
        let reg = m.register_keys().await;
        let (_, d) = m.get("/api/dashboard").await;
        assert_eq!(
            d["acceptances_to_sign"][0]["acceptance_id"],
            id.as_str(),
            "{member}: {d}"
        );
        assert_eq!(d["acceptances_to_sign"][0]["tender_id"], t.as_str());
        let (_, v) = m.get(&format!("/api/tenders/{t}/acceptance")).await;
        assert_eq!(
            v["contracts"][0]["rounds"][0]["document"]["members"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        clock.advance(60_000);
        let ack = ok(&m, t, "acceptance", sign(&reg, &id, &payload(&v))).await;
        assert_eq!(
            ack["status"],
            if last { "passed" } else { "draft" },
            "{member}"
        );
        let (_, d) = m.get("/api/dashboard").await;
        assert_eq!(d["acceptances_to_sign"], json!([]), "{member}");
    }
    let v = view(&app, Some("finance"), t, "acceptance").await;
    let accepted_at = v["contracts"][0]["accepted_at"].as_i64().unwrap();
    assert_eq!(
        accepted_at,
        kaibiao::clock::Clock::now_ms(&*clock),
        "accepted with the last signature"
    );
    let ledger = ledger_of(&app, t).await;
    let signed = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "acceptance_signed")
        .collect::<Vec<_>>();
    assert_eq!(signed.len(), 1, "one event, when the report took effect");
    assert_eq!(
        signed[0]["body"]["member_signatures_sha256"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (status, _) = send(
        &winner,
        t,
        "payments",
        json!({"type": "request", "contract_id": s.contract, "amount_fen": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// The contract's schedule pays 30 % on signing and 20 % on delivery: before acceptance
/// the supplier may request the advance, then — once a round recorded the delivery, even
/// a failed one — the payment on delivery, and nothing more until the contract passes.
#[tokio::test]
async fn the_advance_on_signing_and_the_payment_on_delivery_come_before_acceptance() {
    let (app, clock) = spawn_app_at(T0).await;
    let terms = json!({"payment_days": 30, "special_terms": "", "delivery_place": "",
                       "instalments": [{"share_bp": 3000, "when": "on_signing"},
                                       {"share_bp": 2000, "when": "on_delivery"},
                                       {"share_bp": 5000, "when": "on_acceptance"}]});
    let s = signed_with(&app, &clock, None, Some(terms)).await;
    let t = &s.tender;
    clock.set(cst(2027, 1, 5, 10, 0));
    let winner = app.login(&s.winner_user).await;
    let v = view(&app, Some(&s.winner_user), t, "payments").await;
    let amount = v["contracts"][0]["payable_fen"].as_i64().unwrap();
    let (advance, on_delivery) = (amount * 3 / 10, amount * 2 / 10);
    assert_eq!(v["contracts"][0]["requestable_fen"], advance);
    assert_eq!(v["contracts"][0]["may_request"], true);
    let request =
        |fen: i64| json!({"type": "request", "contract_id": s.contract, "amount_fen": fen});

    // The advance, in two requests; a fen beyond it waits for acceptance.
    ok(&winner, t, "payments", request(advance - 100)).await;
    let (status, v) = send(&winner, t, "payments", request(101)).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "PAYMENT_BEFORE_ACCEPTANCE")
    );
    ok(&winner, t, "payments", request(100)).await;
    assert_eq!(
        view(&app, Some(&s.winner_user), t, "payments").await["contracts"][0]["may_request"],
        false
    );

    // A failed round records the delivery: the payment on delivery opens, no more.
    clock.set(cst(2027, 1, 29, 10, 0));
    accept(
        &app,
        &s,
        json!([{"name": "课桌椅", "passed": false, "note": "漆面划伤"}]),
        json!([]),
    )
    .await;
    up_to(&app, &s, on_delivery, "PAYMENT_BEFORE_ACCEPTANCE").await;
    let winner = app.login(&s.winner_user).await;

    // Remedied and accepted: the rest of the contract, and not a fen over it.
    let acc = view(&app, Some("purchaser"), t, "acceptance").await;
    let failed = acc["contracts"][0]["rounds"][0]["id"].as_str().unwrap();
    ok(
        &winner,
        t,
        "acceptance",
        json!({"type": "remedy", "acceptance_id": failed, "reply": "已更换课桌椅。"}),
    )
    .await;
    clock.set(cst(2027, 2, 1, 10, 0));
    accept(
        &app,
        &s,
        json!([{"name": "课桌椅", "passed": true}]),
        json!([]),
    )
    .await;
    up_to(
        &app,
        &s,
        amount - advance - on_delivery,
        "PAYMENT_OVER_CONTRACT",
    )
    .await;
    let v = view(&app, Some("purchaser"), t, "payments").await;
    assert_eq!(v["contracts"][0]["requests"].as_array().unwrap().len(), 4);
}

/// The supplier may request `fen` now and not a fen more (refused with `refusal`): it
/// requests it.
async fn up_to(app: &TestApp, s: &Signed, fen: i64, refusal: &str) {
    let t = &s.tender;
    let v = view(app, Some(&s.winner_user), t, "payments").await;
    let winner = &app.login(&s.winner_user).await;
    assert_eq!(v["contracts"][0]["requestable_fen"], fen, "{v}");
    let request =
        |fen: i64| json!({"type": "request", "contract_id": s.contract, "amount_fen": fen});
    let (_, v) = send(winner, t, "payments", request(fen + 1)).await;
    assert_eq!(code(&v), refusal);
    ok(winner, t, "payments", request(fen)).await;
}
