//! The contract after the award (R-CON-1..4, R-PAY-1) over HTTP with the demo's evaluated
//! tender: drafted from the award letter, adjusted within the tender, blocked while a
//! challenge is open, signed by both parties with their device keys, published, filed,
//! supplemented up to 10 %, and checked offline by `kaibiao verify`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::alerts::cst;
use crate::award::{awarded, supplier_user, verify};
use crate::challenges::ok_publish;
use crate::common::{b64, code, in_ci, spawn_app_at, Registered, TestApp};
use crate::evaluation::{ledger_of, T0};

async fn send(app: &TestApp, user: &str, tender: &str, cmd: Value) -> (StatusCode, Value) {
    app.login(user)
        .await
        .post(&format!("/api/tenders/{tender}/contracts"), cmd)
        .await
}

async fn ok(app: &TestApp, user: &str, tender: &str, cmd: Value) -> Value {
    let (status, v) = send(app, user, tender, cmd.clone()).await;
    assert_eq!(status, StatusCode::OK, "{user}: {cmd} → {v}");
    v
}

async fn contracts(app: &TestApp, user: Option<&str>, tender: &str) -> Value {
    let path = format!("/api/tenders/{tender}/contracts");
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

fn signature(reg: &Registered, contract: &str, payload: &str) -> Value {
    json!({"type": "sign", "contract_id": contract, "key_id": reg.signing_key_id,
           "signature": b64(&reg.keys.sign(payload.as_bytes()))})
}

#[tokio::test]
async fn r_con_1_to_4_the_contract_is_drafted_from_the_award_signed_by_both_published_filed_and_supplemented_within_ten_percent(
) {
    let (app, clock) = spawn_app_at(T0).await;
    let tender = awarded(&app, &clock).await;
    let (status, v) = send(&app, "purchaser", &tender, json!({"type": "draft"})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "RESULT_NOT_PUBLISHED")
    );
    clock.set(cst(2026, 12, 31, 11, 0));
    ok_publish(&app, &tender).await;
    let (_, result) = app
        .login("agency")
        .await
        .get(&format!("/api/tenders/{tender}/result"))
        .await;
    let winner = result["notice"]["document"]["lots"][0]["winner"].clone();
    let winner_org = winner["org_id"].as_str().unwrap().to_string();
    let winner_user = supplier_user(&app, &winner_org).await;
    let loser = result["letters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["org_id"] != winner_org.as_str())
        .unwrap()["org_id"]
        .as_str()
        .unwrap()
        .to_string();
    let loser_user = supplier_user(&app, &loser).await;

    // Drafted by the purchaser, once, from the award: the winner's price and terms.
    clock.set(cst(2027, 1, 4, 9, 0));
    let (status, _) = send(&app, "agency", &tender, json!({"type": "draft"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let drafted = ok(&app, "purchaser", &tender, json!({"type": "draft"})).await;
    let id = drafted["contract_id"].as_str().unwrap().to_string();
    let (status, v) = send(&app, "purchaser", &tender, json!({"type": "draft"})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION")
    );
    let v = contracts(&app, Some("purchaser"), &tender).await;
    let c = &v["contracts"][0];
    let doc = &c["document"];
    assert_eq!(doc["price_fen"], winner["price_fen"]);
    assert_eq!(doc["price_words"], winner["price_words"]);
    assert_eq!(doc["supplier"]["org_id"], winner_org.as_str());
    assert_eq!(
        doc["terms"]["payment_days"], 30,
        "R-PAY-1's 30 days by default"
    );
    assert!(doc["clauses"]["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .any(|cl| cl["rule"] == "R-PAY-1"));
    // R-CON-1: 30 days from the award letter of 12-31: Saturday 01-30, so Monday 02-01.
    assert_eq!(c["sign_due_at"], cst(2027, 2, 2, 0, 0));
    // Nobody else reads it before it is published.
    assert_eq!(contracts(&app, None, &tender).await["contracts"], json!([]));
    assert_eq!(
        contracts(&app, Some(&loser_user), &tender).await["contracts"],
        json!([])
    );

    // Adjusted within what the tender leaves open; R-PAY-1 bounds the payment term.
    let sme = doc["sme"] == true;
    let mut terms = json!({"payment_days": if sme { 61 } else { 91 },
        "instalments": [{"share_bp": 3000, "when": "on_signing"}, {"share_bp": 7000, "when": "on_acceptance"}],
        "delivery_place": "黄石市第一中学", "special_terms": "分两批交付。"});
    let (status, v) = send(
        &app,
        "purchaser",
        &tender,
        json!({"type": "adjust", "contract_id": id, "terms": terms}),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
        "{v}"
    );
    terms["payment_days"] = json!(20);
    let (status, _) = send(
        &app,
        &winner_user,
        &tender,
        json!({"type": "adjust", "contract_id": id, "terms": terms}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the supplier does not adjust"
    );
    let adjusted = ok(
        &app,
        "purchaser",
        &tender,
        json!({"type": "adjust", "contract_id": id, "terms": terms}),
    )
    .await;
    assert_ne!(adjusted["document_sha256"], drafted["document_sha256"]);

    // A challenge is open: nobody signs.
    let purchaser = app.login("purchaser").await;
    let p_reg = purchaser.register_keys().await;
    let supplier = app.login(&winner_user).await;
    let s_reg = supplier.register_keys().await;
    let l = app.login(&loser_user).await;
    let l_reg = l.register_keys().await;
    let grounds = "中标人资格存疑。";
    let payload = kaibiao::challenge::rules::payload("challenge", &tender, &loser, grounds, &[]);
    let (status, ch) = l
        .post(
            &format!("/api/tenders/{tender}/challenges"),
            json!({"type": "challenge", "grounds": grounds, "key_id": l_reg.signing_key_id,
                   "signature": b64(&l_reg.keys.sign(payload.as_bytes()))}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ch}");
    let v = contracts(&app, Some("purchaser"), &tender).await;
    let my_payload = v["contracts"][0]["my_payload"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(v["blocked"], true);
    let before = crate::evaluation::events_in(&app, &tender).await;
    let (status, v) = send(
        &app,
        "purchaser",
        &tender,
        signature(&p_reg, &id, &my_payload),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "CONTRACT_BLOCKED")
    );
    assert_eq!(crate::evaluation::events_in(&app, &tender).await, before);
    let (status, v) = app
        .login("agency")
        .await
        .post(&format!("/api/tenders/{tender}/challenges"),
            json!({"type": "reply", "challenge_id": ch["id"], "reply": "资格审查无误。", "upheld": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // Both parties sign; a wrong signature and another's key are refused.
    let (status, v) = send(
        &app,
        &winner_user,
        &tender,
        signature(&s_reg, &id, "something else"),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "SIGNATURE_INVALID")
    );
    let (status, v) = send(
        &app,
        &winner_user,
        &tender,
        signature(&p_reg, &id, &my_payload),
    )
    .await;
    assert_eq!(
        code(&v),
        "SIGNATURE_INVALID",
        "the purchaser's key for the supplier: {status}"
    );
    let (status, _) = send(
        &app,
        &loser_user,
        &tender,
        signature(&l_reg, &id, &my_payload),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not a party");
    ok(
        &app,
        "purchaser",
        &tender,
        signature(&p_reg, &id, &my_payload),
    )
    .await;
    let (status, v) = send(
        &app,
        "purchaser",
        &tender,
        signature(&p_reg, &id, &my_payload),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION"),
        "once"
    );
    let signed = ok(
        &app,
        &winner_user,
        &tender,
        signature(&s_reg, &id, &my_payload),
    )
    .await;
    assert_eq!(signed["status"], "signed");
    let (status, v) = send(
        &app,
        "purchaser",
        &tender,
        json!({"type": "adjust", "contract_id": id, "terms": terms}),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "CONTRACT_SIGNED")
    );
    let c = &contracts(&app, Some("purchaser"), &tender).await["contracts"][0];
    // R-CON-2 and R-CON-3 from Monday 01-04: published by Wednesday 01-06 24:00, filed by
    // Wednesday 01-13 24:00.
    assert_eq!(c["publish_due_at"], cst(2027, 1, 7, 0, 0));
    assert_eq!(c["file_due_at"], cst(2027, 1, 14, 0, 0));

    // Supplements: 10 % of the original at most, in total (R-CON-4).
    let amount = c["amount_fen"].as_i64().unwrap();
    let tenth = amount / 10;
    let (status, v) = send(
        &app,
        "purchaser",
        &tender,
        json!({"type": "supplement",
        "contract_id": id, "amount_fen": tenth + 1, "reason": "增加采购数量"}),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "SUPPLEMENT_OVER_LIMIT")
    );
    ok(
        &app,
        "purchaser",
        &tender,
        json!({"type": "supplement",
        "contract_id": id, "amount_fen": tenth - 100, "reason": "增加采购数量"}),
    )
    .await;
    let (status, v) = send(
        &app,
        "purchaser",
        &tender,
        json!({"type": "supplement",
        "contract_id": id, "amount_fen": 101, "reason": "再增加"}),
    )
    .await;
    assert_eq!(
        code(&v),
        "SUPPLEMENT_OVER_LIMIT",
        "the total counts: {status}"
    );

    // Published, then public; filed with finance.
    ok(
        &app,
        "purchaser",
        &tender,
        json!({"type": "publish", "contract_id": id}),
    )
    .await;
    ok(
        &app,
        "purchaser",
        &tender,
        json!({"type": "file", "contract_id": id}),
    )
    .await;
    let (status, v) = send(
        &app,
        "purchaser",
        &tender,
        json!({"type": "file", "contract_id": id}),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION")
    );
    let public = contracts(&app, None, &tender).await;
    assert_eq!(public["contracts"][0]["id"], id.as_str());
    assert!(public["contracts"][0]["filed_at"].is_i64());

    // Offline: the bundle verifies; one digit of the price, or a party's signature
    // swapped for the other's, does not.
    let r = reqwest::get(app.url(&format!("/api/contracts/{id}/bundle")))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bundle: Value = r.json().await.unwrap();
    let (rc, out) = verify(&app, "contract.json", &bundle);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("政府采购合同"), "{out}");
    let mut tampered = bundle.clone();
    tampered["document"]["price_fen"] = json!(amount + 1);
    assert_eq!(verify(&app, "tampered.json", &tampered).0, 1);
    let mut swapped = bundle.clone();
    let sigs = swapped["signatures"].as_array_mut().unwrap();
    let first = sigs[0]["signature"].clone();
    sigs[0]["signature"] = sigs[1]["signature"].clone();
    sigs[1]["signature"] = first;
    let (rc, out) = verify(&app, "swapped.json", &swapped);
    assert_eq!(rc, 1, "{out}");

    let ledger = ledger_of(&app, &tender).await;
    let kinds: Vec<&str> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "contract_drafted",
        "contract_signed",
        "contract_supplemented",
        "contract_published",
        "contract_filed",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let typed: kaibiao::ledger::Ledger = serde_json::from_value(ledger).unwrap();
    kaibiao::ledger::verify(&typed).expect("the ledger verifies");
}

#[tokio::test]
async fn r_con_1_an_unsigned_contract_alerts_the_purchaser_and_then_finance() {
    use crate::alerts::{about, run, stages};
    let (app, clock) = spawn_app_at(T0).await;
    let tender = awarded(&app, &clock).await;
    clock.set(cst(2026, 12, 31, 11, 0));
    ok_publish(&app, &tender).await;
    let signing = |alerts: Vec<Value>| -> Vec<Value> {
        alerts
            .into_iter()
            .filter(|a| a["rule"] == "R-CON-1")
            .collect()
    };
    // Letter of 12-31: the 30th day is Saturday 2027-01-30, so the last day is Monday
    // 02-01; told the working day before, Friday 01-29.
    let due = cst(2027, 2, 2, 0, 0);
    clock.set(cst(2027, 1, 29, 0, 0) - 1);
    run(&app).await;
    assert!(signing(about(&app, "purchaser", &tender).await).is_empty());
    clock.set(cst(2027, 1, 29, 0, 0));
    run(&app).await;
    let seen = signing(about(&app, "purchaser", &tender).await);
    assert_eq!(stages(&seen), ["upcoming"], "{seen:?}");
    assert_eq!(seen[0]["due_at"], due);
    assert_eq!(seen[0]["link"], format!("/contracts.html?tender={tender}"));
    clock.set(due - 1);
    run(&app).await;
    assert!(signing(about(&app, "finance", &tender).await).is_empty());
    clock.set(due);
    run(&app).await;
    assert_eq!(
        stages(&signing(about(&app, "purchaser", &tender).await)),
        ["due", "upcoming"]
    );
    assert_eq!(
        stages(&signing(about(&app, "finance", &tender).await)),
        ["overdue"]
    );
}

#[tokio::test]
async fn r_pay_1_the_purchaser_adjusts_the_draft_in_the_page_within_what_the_tender_allows() {
    use crate::browser::{as_user, browser, click_long, set_value, wait_long};
    use crate::hall::wait_text;
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = spawn_app_at(T0).await;
    let tender = awarded(&app, &clock).await;
    clock.set(cst(2026, 12, 31, 11, 0));
    ok_publish(&app, &tender).await;
    clock.set(cst(2027, 1, 4, 9, 0));
    ok(&app, "purchaser", &tender, json!({"type": "draft"})).await;
    let sme = contracts(&app, Some("purchaser"), &tender).await["contracts"][0]["document"]["sme"]
        == true;

    as_user(c, &app, "purchaser").await;
    c.goto(&app.url(&format!("/contracts.html?tender={tender}")))
        .await
        .unwrap();
    wait_long(c, "#con-adjust-1").await;
    // Beyond R-PAY-1 (or the 90 days of a larger supplier): the field says so.
    set_value(c, "#con-adjust-1-days", if sme { "61" } else { "91" }).await;
    click_long(c, "#con-adjust-1-submit").await;
    wait_text(c, "#con-adjust-1-days-error", "日").await;
    set_value(c, "#con-adjust-1-days", "20").await;
    set_value(c, "#con-adjust-1-on_signing", "30").await;
    set_value(c, "#con-adjust-1-on_acceptance", "70").await;
    set_value(c, "#con-adjust-1-place", "黄石市第一中学").await;
    click_long(c, "#con-adjust-1-submit").await;
    let card = wait_text(c, "#con-1", "签订后预付 30%").await;
    assert!(card.contains("验收合格后 20 日内"), "{card}");
    let terms = contracts(&app, Some("purchaser"), &tender).await["contracts"][0]["document"]
        ["terms"]
        .clone();
    assert_eq!(terms["payment_days"], 20);
    assert_eq!(
        terms["instalments"],
        json!([{"share_bp": 3000, "when": "on_signing"}, {"share_bp": 7000, "when": "on_acceptance"}])
    );
    assert_eq!(terms["delivery_place"], "黄石市第一中学");
    driver.close().await;
}

/// R-CON-1: the winner opens the signed contract's text from the contracts page and
/// prints it: the PDF Chromium makes sets the Chinese in an embedded CJK face and
/// carries what `kaibiao verify` checks — the document's SHA-256 (which the page has
/// recomputed from the document) and each party's key and signature.
#[tokio::test]
async fn r_con_1_the_signed_contract_prints_to_a_pdf_in_chinese_with_its_signatures() {
    use crate::browser::{as_user, browser, click_long, print_pdf, read_pdf};
    use crate::hall::wait_text;
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = spawn_app_at(T0).await;
    let s = crate::fulfilment::signed(&app, &clock, None).await;
    let (status, bundle) = app
        .login(&s.winner_user)
        .await
        .get(&format!("/api/contracts/{}/bundle", s.contract))
        .await;
    assert_eq!(status, StatusCode::OK, "{bundle}");

    as_user(c, &app, &s.winner_user).await;
    c.goto(&app.url(&format!("/contracts.html?tender={}", s.tender)))
        .await
        .unwrap();
    click_long(c, "#con-text-1").await;
    wait_text(c, "#contract-digest-check", "一致").await;
    let page = wait_text(c, "#contract-text", "乙方（供应商）").await;
    // The Chinese is drawn in a CJK serif face found on this machine, not in boxes.
    // (A machine without one draws boxes: that fails under CI=true, which installs
    // fonts-noto-cjk, and is only reported elsewhere.)
    let faces = crate::browser::platform_fonts(c, "#contract-text h1").await;
    if !faces
        .iter()
        .any(|f| f.contains("CJK") || f.contains("Song") || f.contains("Han"))
    {
        assert!(!in_ci(), "the contract's title is drawn with {faces:?}");
        eprintln!("no CJK font installed (fonts-noto-cjk): the title is drawn with {faces:?}");
    }
    let no = bundle["document"]["contract_no"].as_str().unwrap();
    assert!(page.contains(no), "{page}");

    let pdf = print_pdf(c).await;
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let Some(read) = read_pdf(&pdf) else {
        driver.close().await;
        return;
    };
    let text: String = read.text.split_whitespace().collect();
    for want in ["政府采购合同", "甲方（采购人）", "乙方（供应商）", no] {
        assert!(text.contains(want), "{want} not in the PDF:\n{}", read.text);
    }
    let sha = bundle["document_sha256"].as_str().unwrap();
    assert!(
        text.contains(sha),
        "the document's SHA-256 {sha} not in the PDF:\n{}",
        read.text
    );
    let signatures = bundle["signatures"].as_array().unwrap();
    assert_eq!(signatures.len(), 2);
    for sig in signatures {
        for field in ["key_id", "signature"] {
            let want = sig[field].as_str().unwrap();
            assert!(
                text.contains(want),
                "{field} {want} not in the PDF:\n{}",
                read.text
            );
        }
    }
    // Every font is embedded in the file: a reader needs none of them installed.
    let header = read.fonts.lines().next().unwrap_or_default();
    let emb = header.find("emb").expect("pdffonts' emb column");
    let fonts: Vec<&str> = read.fonts.lines().skip(2).collect();
    assert!(!fonts.is_empty(), "{}", read.fonts);
    for line in fonts {
        assert_eq!(line.get(emb..emb + 3), Some("yes"), "{}", read.fonts);
    }
    driver.close().await;
}
