//! Challenges and complaints against a result (R-CHAL-2..4), over HTTP with the demo's
//! evaluated tender: the windows on the holiday calendar, the contract blocked while one
//! is open, finance's examination, suspension and decision, the bad-conduct list after a
//! third groundless complaint, and every refusal leaving the ledger as it was.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::alerts::cst;
use crate::award::{awarded, supplier_user};
use crate::common::{b64, code, spawn_app_at, Registered, Session, TestApp};
use crate::evaluation::{ledger_of, T0};

async fn view(app: &TestApp, user: Option<&str>, tender: &str) -> Value {
    let path = format!("/api/tenders/{tender}/challenges");
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

async fn send(app: &TestApp, user: &str, tender: &str, cmd: Value) -> (StatusCode, Value) {
    app.login(user)
        .await
        .post(&format!("/api/tenders/{tender}/challenges"), cmd)
        .await
}

async fn ok(app: &TestApp, user: &str, tender: &str, cmd: Value) -> Value {
    let (status, v) = send(app, user, tender, cmd.clone()).await;
    assert_eq!(status, StatusCode::OK, "{user}: {cmd} → {v}");
    v
}

/// A signed challenge or complaint command (`kind`), by `s` of `org`.
fn signed(kind: &str, tender: &str, org: &str, reg: &Registered, grounds: &str) -> Value {
    let payload = kaibiao::challenge::rules::payload(kind, tender, org, grounds, &[]);
    let command = if kind == "complaint" {
        "complain"
    } else {
        kind
    };
    json!({"type": command, "grounds": grounds, "key_id": reg.signing_key_id,
           "signature": b64(&reg.keys.sign(payload.as_bytes()))})
}

/// The losing bidders' users and organisations, second-ranked first.
pub(crate) async fn losers(app: &TestApp, tender: &str) -> Vec<(String, String)> {
    let (_, v) = app
        .login("agency")
        .await
        .get(&format!("/api/tenders/{tender}/result"))
        .await;
    let winner = v["notice"]["document"]["lots"][0]["winner"]["org_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut out = Vec::new();
    for l in v["letters"].as_array().unwrap() {
        let org = l["org_id"].as_str().unwrap().to_string();
        if org != winner {
            out.push((supplier_user(app, &org).await, org));
        }
    }
    out
}

#[tokio::test]
async fn r_chal_2_3_4_a_challenge_then_a_complaint_block_the_contract_until_finance_decides() {
    let (app, clock) = spawn_app_at(T0).await;
    let tender = awarded(&app, &clock).await;
    // No challenge before the result is published.
    let (status, v) = send(
        &app,
        "supplier1",
        &tender,
        json!({"type": "challenge",
        "grounds": "x", "key_id": "k", "signature": "s"}),
    )
    .await;
    assert!(status.is_client_error(), "{v}");
    clock.set(cst(2026, 12, 31, 11, 0));
    ok_publish(&app, &tender).await;
    let losers = losers(&app, &tender).await;
    let (a_user, a_org) = losers[0].clone();
    let (b_user, b_org) = losers[1].clone();
    let a: Session = app.login(&a_user).await;
    let a_reg = a.register_keys().await;
    let b: Session = app.login(&b_user).await;
    let b_reg = b.register_keys().await;

    // The window: 7 working days from the notice of Thursday 12-31 — New Year's Day and
    // two weekends skipped — so Tuesday 2027-01-12 is the last day.
    let public = view(&app, None, &tender).await;
    assert_eq!(public["challenge_until"], cst(2027, 1, 13, 0, 0));
    assert_eq!(public["contract_blocked"], false);

    // Refusals, nothing written: a supplier that did not bid, a wrong signature, the
    // signature of other grounds.
    clock.set(cst(2027, 1, 4, 10, 0));
    let before = crate::evaluation::events_in(&app, &tender).await;
    let outsider = app.login("supplier8").await;
    let o_reg = outsider.register_keys().await;
    let o_org = app.org_id("supplier8").await;
    let (status, v) = send(
        &app,
        "supplier8",
        &tender,
        signed("challenge", &tender, &o_org, &o_reg, "评分不公"),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::FORBIDDEN, "NOT_A_BIDDER"),
        "{v}"
    );
    let mut forged = signed("challenge", &tender, &a_org, &a_reg, "评分不公");
    forged["grounds"] = json!("另一理由");
    let (status, v) = send(&app, &a_user, &tender, forged).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "SIGNATURE_INVALID")
    );
    let (status, v) = send(
        &app,
        &a_user,
        &tender,
        signed("challenge", &tender, &a_org, &b_reg, "评分不公"),
    )
    .await;
    assert_eq!(
        code(&v),
        "SIGNATURE_INVALID",
        "another user's key: {status}"
    );
    assert_eq!(crate::evaluation::events_in(&app, &tender).await, before);

    // A's challenge: answered within 7 working days (due Wednesday 01-13 24:00).
    let grounds = "中标人业绩证明材料与事实不符，评审得分应予复核。";
    let c1 = ok(
        &app,
        &a_user,
        &tender,
        signed("challenge", &tender, &a_org, &a_reg, grounds),
    )
    .await;
    assert_eq!(c1["due_at"], cst(2027, 1, 14, 0, 0));
    let c1 = c1["id"].as_str().unwrap().to_string();
    let v = view(&app, Some("agency"), &tender).await;
    assert_eq!(v["contract_blocked"], true, "signing waits for the answer");
    assert_eq!(v["challenges"][0]["grounds"], grounds);
    assert_eq!(v["me"]["answers"], true);
    // Another bidder and the public see nothing of it.
    assert_eq!(
        view(&app, Some(&b_user), &tender).await["challenges"],
        json!([])
    );
    let anon = view(&app, None, &tender).await;
    assert_eq!(anon["challenges"], json!([]));
    assert!(!anon.to_string().contains(grounds));
    // Too early to complain: the reply is awaited.
    let mut complaint = signed("complaint", &tender, &a_org, &a_reg, "质疑答复不成立。");
    complaint["challenge_id"] = json!(c1);
    let (status, v) = send(&app, &a_user, &tender, complaint.clone()).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "CHALLENGE_NOT_ANSWERED")
    );
    let (status, _) = send(
        &app,
        &b_user,
        &tender,
        json!({"type": "reply", "challenge_id": c1, "reply": "x", "upheld": false}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    ok(&app, "agency", &tender,
        json!({"type": "reply", "challenge_id": c1, "reply": "经核查，业绩材料真实有效，质疑不成立。", "upheld": false})).await;
    assert_eq!(
        view(&app, Some("agency"), &tender).await["contract_blocked"],
        false
    );
    let (status, v) = send(
        &app,
        "purchaser",
        &tender,
        json!({"type": "reply", "challenge_id": c1, "reply": "再答", "upheld": true}),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION")
    );

    // The complaint to finance: examined within 5 working days, decided within 30.
    clock.set(cst(2027, 1, 5, 9, 0));
    let p1 = ok(&app, &a_user, &tender, complaint.clone()).await;
    assert_eq!(p1["due_at"], cst(2027, 1, 13, 0, 0));
    let p1 = p1["id"].as_str().unwrap().to_string();
    let (status, v) = send(&app, &a_user, &tender, complaint).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION"),
        "once"
    );
    assert_eq!(
        view(&app, Some("purchaser"), &tender).await["contract_blocked"],
        true
    );
    let (status, _) = send(
        &app,
        "purchaser",
        &tender,
        json!({"type": "accept", "complaint_id": p1}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "finance handles complaints");
    let accepted = ok(
        &app,
        "finance",
        &tender,
        json!({"type": "accept", "complaint_id": p1}),
    )
    .await;
    assert!(accepted["due_at"].as_i64().unwrap() > cst(2027, 2, 1, 0, 0));
    let (status, v) = send(
        &app,
        "finance",
        &tender,
        json!({"type": "suspend", "complaint_id": p1, "until": cst(2027, 2, 20, 0, 0)}),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "SUSPENSION_TOO_LONG")
    );
    ok(
        &app,
        "finance",
        &tender,
        json!({"type": "suspend", "complaint_id": p1, "until": cst(2027, 1, 20, 0, 0)}),
    )
    .await;
    clock.set(cst(2027, 1, 8, 15, 0));
    let decision = "经调查，投诉事项缺乏事实依据，驳回投诉。";
    ok(&app, "finance", &tender,
        json!({"type": "decide", "complaint_id": p1, "outcome": "groundless", "decision": decision})).await;
    let anon = view(&app, None, &tender).await;
    assert_eq!(anon["contract_blocked"], false);
    let published = &anon["complaints"][0];
    assert_eq!(published["decision"], decision, "the decision is public");
    assert_eq!(published["outcome"], "groundless");
    assert_eq!(published["grounds"], Value::Null, "the grounds are not");

    // Two more challenges by A on the last day, answered, complained of and found
    // groundless: the third groundless complaint in 12 months puts A on the bad-conduct
    // list (R-CHAL-4). B challenges twice the same day.
    clock.set(cst(2027, 1, 12, 23, 0));
    let mut more = Vec::new();
    for (user, org, reg, n) in [
        (&a_user, &a_org, &a_reg, 2),
        (&a_user, &a_org, &a_reg, 3),
        (&b_user, &b_org, &b_reg, 1),
        (&b_user, &b_org, &b_reg, 2),
    ] {
        let g = format!("第{n}次质疑：评审过程存在问题。");
        let c = ok(
            &app,
            user,
            &tender,
            signed("challenge", &tender, org, reg, &g),
        )
        .await;
        more.push(c["id"].as_str().unwrap().to_string());
    }
    clock.set(cst(2027, 1, 13, 0, 0));
    let (status, v) = send(
        &app,
        &b_user,
        &tender,
        signed("challenge", &tender, &b_org, &b_reg, "迟到的质疑"),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "CHALLENGE_WINDOW_CLOSED"),
        "{v}"
    );
    for c in &more {
        ok(
            &app,
            "agency",
            &tender,
            json!({"type": "reply", "challenge_id": c, "reply": "质疑不成立。", "upheld": false}),
        )
        .await;
    }
    clock.set(cst(2027, 1, 14, 9, 0));
    for c in &more[..2] {
        let mut cmd = signed("complaint", &tender, &a_org, &a_reg, "不服答复。");
        cmd["challenge_id"] = json!(c);
        let p = ok(&app, &a_user, &tender, cmd).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        ok(
            &app,
            "finance",
            &tender,
            json!({"type": "accept", "complaint_id": p}),
        )
        .await;
        ok(&app, "finance", &tender,
            json!({"type": "decide", "complaint_id": p, "outcome": "groundless", "decision": "查无实据。"})).await;
    }
    let (_, records) = app.login(&a_user).await.get("/api/credit-records").await;
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["list"], "bad_conduct");
    assert!(records[0]["reason"].as_str().unwrap().contains("R-CHAL-4"));
    let (_, records) = app.login(&b_user).await.get("/api/credit-records").await;
    assert_eq!(records, json!([]));

    // B's complaint window: 15 working days after its reply deadline (Thursday 01-21
    // 24:00), counted from Friday 01-22, the Spring Festival (02-05..02-08) skipped: the
    // last day is Monday 02-15.
    let window_end = cst(2027, 2, 16, 0, 0);
    let listed = view(&app, Some(&b_user), &tender).await;
    assert_eq!(listed["challenges"][0]["complain_until"], window_end);
    clock.set(window_end - 1);
    let mut cmd = signed("complaint", &tender, &b_org, &b_reg, "不服答复。");
    cmd["challenge_id"] = json!(more[2]);
    ok(&app, &b_user, &tender, cmd).await;
    clock.set(window_end);
    let before = crate::evaluation::events_in(&app, &tender).await;
    let mut cmd = signed("complaint", &tender, &b_org, &b_reg, "不服答复。");
    cmd["challenge_id"] = json!(more[3]);
    let (status, v) = send(&app, &b_user, &tender, cmd).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "COMPLAINT_WINDOW_CLOSED"),
        "{v}"
    );
    assert_eq!(crate::evaluation::events_in(&app, &tender).await, before);

    let ledger = ledger_of(&app, &tender).await;
    let kinds: Vec<&str> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in [
        "challenge_filed",
        "challenge_answered",
        "complaint_filed",
        "complaint_examined",
        "procurement_suspended",
        "complaint_decided",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    assert!(
        !ledger.to_string().contains(grounds),
        "grounds by digest only"
    );
    let typed: kaibiao::ledger::Ledger = serde_json::from_value(ledger).unwrap();
    kaibiao::ledger::verify(&typed).expect("the ledger verifies");
}

/// `user`'s alerts of `rule` about `tender`.
async fn alerts_of(app: &TestApp, user: &str, tender: &str, rule: &str) -> Vec<Value> {
    crate::alerts::about(app, user, tender)
        .await
        .into_iter()
        .filter(|a| a["rule"] == rule)
        .collect()
}

#[tokio::test]
async fn r_chal_2_an_unanswered_challenge_alerts_the_agency_and_then_finance_and_oversight() {
    use crate::alerts::{run, stages};
    let (app, clock) = spawn_app_at(T0).await;
    let tender = awarded(&app, &clock).await;
    clock.set(cst(2026, 12, 31, 11, 0));
    ok_publish(&app, &tender).await;
    let (user, org) = losers(&app, &tender).await[0].clone();
    let s = app.login(&user).await;
    let reg = s.register_keys().await;
    // Filed on Monday 2027-01-04: 7 working days end on Wednesday 01-13 at 24:00; the
    // agency is told on Tuesday 01-12 at 00:00 and at the deadline.
    clock.set(cst(2027, 1, 4, 10, 0));
    let c = ok(
        &app,
        &user,
        &tender,
        signed("challenge", &tender, &org, &reg, "评分有误。"),
    )
    .await;
    let due = cst(2027, 1, 14, 0, 0);
    assert_eq!(c["due_at"], due);
    clock.set(cst(2027, 1, 12, 0, 0) - 1);
    run(&app).await;
    assert!(alerts_of(&app, "agency", &tender, "R-CHAL-2")
        .await
        .is_empty());
    clock.set(cst(2027, 1, 12, 0, 0));
    run(&app).await;
    let seen = alerts_of(&app, "agency", &tender, "R-CHAL-2").await;
    assert_eq!(stages(&seen), ["upcoming"], "{seen:?}");
    assert_eq!(seen[0]["link"], format!("/challenges.html?tender={tender}"));
    clock.set(due - 1);
    run(&app).await;
    assert_eq!(
        stages(&alerts_of(&app, "agency", &tender, "R-CHAL-2").await),
        ["upcoming"]
    );
    assert!(alerts_of(&app, "finance", &tender, "R-CHAL-2")
        .await
        .is_empty());
    clock.set(due);
    run(&app).await;
    assert_eq!(
        stages(&alerts_of(&app, "agency", &tender, "R-CHAL-2").await),
        ["due", "upcoming"]
    );
    for supervisor in ["finance", "oversight"] {
        let escalated = alerts_of(&app, supervisor, &tender, "R-CHAL-2").await;
        assert_eq!(stages(&escalated), ["overdue"], "{supervisor}");
    }
    // No other bidder is told of the challenge.
    for other in losers(&app, &tender).await.iter().skip(1) {
        assert!(crate::alerts::about(&app, &other.0, &tender)
            .await
            .is_empty());
    }
}

pub(crate) async fn ok_publish(app: &TestApp, tender: &str) {
    let (status, v) = app
        .login("agency")
        .await
        .post(
            &format!("/api/tenders/{tender}/result"),
            json!({"type": "publish"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn r_chal_2_3_a_bidder_challenges_and_complains_in_the_page_and_finance_decides_there() {
    use crate::browser::{as_user, browser, click_long, set_value, wait_long};
    use crate::hall::{import_key_file, text_of, wait_text};
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = spawn_app_at(T0).await;
    let tender = awarded(&app, &clock).await;
    clock.set(cst(2026, 12, 31, 11, 0));
    ok_publish(&app, &tender).await;
    clock.set(cst(2027, 1, 4, 10, 0));
    let (user, _) = losers(&app, &tender).await[0].clone();
    let s = app.login(&user).await;
    let reg = s.register_keys().await;
    let key_file = app.dir.path().join("challenger.kbkey");
    std::fs::write(
        &key_file,
        reg.keys.to_file(&s.user_id(), crate::common::PASSWORD),
    )
    .unwrap();
    let page = app.url(&format!("/challenges.html?tender={tender}"));

    // The challenger signs its challenge on this device.
    as_user(c, &app, &user).await;
    c.goto(&page).await.unwrap();
    import_key_file(c, "#chal-new", &key_file, crate::common::PASSWORD).await;
    let grounds = "中标人提供的类似项目业绩与公示信息不一致。";
    wait_long(c, "#chal-grounds").await;
    set_value(c, "#chal-grounds", grounds).await;
    let evidence = app.dir.path().join("业绩公示截图.pdf");
    std::fs::write(&evidence, b"%PDF-1.4 screenshot").unwrap();
    c.find(fantoccini::Locator::Css("#chal-evidence"))
        .await
        .unwrap()
        .send_keys(evidence.to_str().unwrap())
        .await
        .unwrap();
    click_long(c, "#chal-submit").await;
    let list = wait_text(c, "#chal-list", "待答复").await;
    assert!(list.contains(grounds), "{list}");
    assert!(
        list.contains("业绩公示截图.pdf"),
        "the evidence, signed with it: {list}"
    );
    assert!(text_of(c, "#chal-blocked").await.contains("暂停"));

    // The agency answers in the page.
    as_user(c, &app, "agency").await;
    c.goto(&page).await.unwrap();
    wait_long(c, ".chal-reply-text").await;
    set_value(c, ".chal-reply-text", "经核实，业绩材料真实，质疑不成立。").await;
    click_long(c, ".chal-reply-submit").await;
    wait_text(c, "#chal-list", "答复：质疑不成立").await;

    // The challenger complains, signed with the key this device keeps.
    as_user(c, &app, &user).await;
    c.goto(&page).await.unwrap();
    wait_long(c, ".chal-complaint-text").await;
    set_value(c, ".chal-complaint-text", "答复未回应业绩核查的具体问题。").await;
    click_long(c, ".chal-complain-submit").await;
    wait_text(c, "#chal-complaint-list", "待受理").await;

    // Finance accepts and decides; the decision is public.
    as_user(c, &app, "finance").await;
    c.goto(&page).await.unwrap();
    click_long(c, ".chal-accept").await;
    wait_text(c, "#chal-complaint-list", "已受理").await;
    wait_long(c, ".chal-decide").await;
    set_value(c, ".chal-finance-text", "经调查，投诉事项缺乏事实依据。").await;
    set_value(c, ".chal-outcome", "groundless").await;
    click_long(c, ".chal-decide").await;
    wait_text(c, "#chal-complaint-list", "驳回").await;
    c.delete_all_cookies().await.unwrap();
    c.goto(&page).await.unwrap();
    let public = wait_text(c, "#chal-complaint-list", "投诉缺乏事实依据").await;
    assert!(public.contains("经调查"), "{public}");
    assert!(
        !public.contains("答复未回应"),
        "no grounds for the public: {public}"
    );
    assert!(text_of(c, "#chal-blocked").await.contains("可以签订"));
}

#[tokio::test]
async fn r_chal_2_evidence_is_signed_with_the_grounds_and_read_only_by_those_who_read_them() {
    use base64::Engine;
    let (app, clock) = spawn_app_at(T0).await;
    let tender = awarded(&app, &clock).await;
    clock.set(cst(2026, 12, 31, 11, 0));
    ok_publish(&app, &tender).await;
    clock.set(cst(2027, 1, 4, 10, 0));
    let all = losers(&app, &tender).await;
    let (user, org) = all[0].clone();
    let s = app.login(&user).await;
    let reg = s.register_keys().await;
    let file = b"%PDF-1.4 performance records".to_vec();
    let grounds = "中标人类似业绩不实，见附件。";
    let evidence = json!([{"name": "业绩核查.pdf", "media_type": "application/pdf",
        "content_base64": base64::engine::general_purpose::STANDARD.encode(&file)}]);
    let path = format!("/api/tenders/{tender}/challenges");

    // A signature over the grounds alone does not cover the evidence: refused, nothing kept.
    let before = crate::evaluation::events_in(&app, &tender).await;
    let mut cmd = signed("challenge", &tender, &org, &reg, grounds);
    cmd["evidence"] = evidence.clone();
    let (status, v) = s.post(&path, cmd).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "SIGNATURE_INVALID")
    );
    assert_eq!(crate::evaluation::events_in(&app, &tender).await, before);

    // Signed with the file's digest, it is filed and the ledger names the digest.
    let sha = kaibiao::crypto::sha256_hex(&file);
    let payload = kaibiao::challenge::rules::payload(
        "challenge",
        &tender,
        &org,
        grounds,
        std::slice::from_ref(&sha),
    );
    let cmd = json!({"type": "challenge", "grounds": grounds, "key_id": reg.signing_key_id,
        "signature": b64(&reg.keys.sign(payload.as_bytes())), "evidence": evidence});
    let (status, ch) = s.post(&path, cmd).await;
    assert_eq!(status, StatusCode::OK, "{ch}");
    let ledger = ledger_of(&app, &tender).await;
    let filed = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "challenge_filed")
        .unwrap()
        .clone();
    assert_eq!(filed["body"]["evidence_sha256"], json!([sha]));

    // The challenger, the agency and finance read it; another bidder and the public not.
    let id = ch["id"].as_str().unwrap();
    let file_path = format!("{path}/{id}/evidence/1");
    for reader in [user.as_str(), "agency", "finance"] {
        let r = app.login(reader).await.raw_get(&file_path).await;
        assert_eq!(r.status(), StatusCode::OK, "{reader}");
        assert_eq!(r.bytes().await.unwrap().to_vec(), file, "{reader}");
    }
    let (other, _) = all[1].clone();
    let r = app.login(&other).await.raw_get(&file_path).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = reqwest::get(app.url(&file_path)).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v = view(&app, Some("agency"), &tender).await;
    assert_eq!(v["challenges"][0]["evidence"][0]["name"], "业绩核查.pdf");
}
