//! Tenders through the API: create, edit, publish, amend, cancel, the public list, the
//! ledger, and the bad input that must be refused with nothing written.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{code, spawn_app, spawn_app_at, DeviceKeys};

const DAY: i64 = 86_400_000;
/// 2026-12-01 09:00 China Standard Time.
const T0: i64 = 1_796_086_800_000;

async fn create(s: &crate::common::Session, body: Value) -> Value {
    let (status, v) = s.post("/api/tenders", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

#[tokio::test]
async fn agency_creates_edits_publishes_and_the_public_sees_it() {
    let (app, _clock) = spawn_app_at(T0).await;
    let s = app.login("agency").await;
    let body = app.tender_body("黄石市图书馆书架采购", T0).await;
    let t = create(&s, body.clone()).await;
    assert_eq!(t["status"], "draft");
    assert_eq!(t["budget_total_fen"], 12_345_600);
    assert_eq!(t["custodians"].as_array().unwrap().len(), 3);
    let id = t["id"].as_str().unwrap().to_string();

    // A draft is not public.
    let (status, _) = app
        .call(Method::GET, &format!("/api/announcements/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call(Method::GET, &format!("/api/tenders/{id}/ledger"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let mut edited = body.clone();
    edited["lots"] = json!([{"name": "第1包 书架", "budget_fen": 50_000_000}, {"name": "第2包 阅览桌椅", "budget_fen": 30_000_000}]);
    let (status, t) = s.put(&format!("/api/tenders/{id}"), edited).await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["budget_total_fen"], 80_000_000);

    let (status, t) = s
        .post(&format!("/api/tenders/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["status"], "published");
    assert_eq!(t["published_at"], T0);

    let (status, list) = app
        .call(Method::GET, "/api/announcements?q=图书馆", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["title"], "黄石市图书馆书架采购");
    assert_eq!(list[0]["purchaser_name"], "黄石市第一中学");
    let (status, a) = app
        .call(Method::GET, &format!("/api/announcements/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["lots"][1]["name"], "第2包 阅览桌椅");
    assert!(
        a.get("custodians").is_none(),
        "custodians are not announced by name"
    );

    // The ledger holds created, updated, published — and verifies.
    let (status, ledger) = app
        .call(Method::GET, &format!("/api/tenders/{id}/ledger"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let kinds: Vec<&str> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["tender_created", "tender_updated", "tender_published"]
    );
    let l: kaibiao::ledger::Ledger = serde_json::from_value(ledger).unwrap();
    assert_eq!(kaibiao::ledger::verify(&l), Ok(()));
}

#[tokio::test]
async fn published_tenders_change_only_by_amendment_before_the_deadline() {
    let (app, clock) = spawn_app_at(T0).await;
    let s = app.login("agency").await;
    let t = create(&s, app.tender_body("道路照明改造", T0).await).await;
    let id = t["id"].as_str().unwrap().to_string();
    s.post(&format!("/api/tenders/{id}/publish"), json!({}))
        .await;

    // Editing a published tender is refused with its own code; nothing changes.
    let ledger_before = app.rows("ledger_events").await;
    let (status, v) = s
        .put(
            &format!("/api/tenders/{id}"),
            app.tender_body("改名", T0).await,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&v), "TENDER_NOT_EDITABLE");
    // Publishing twice is an illegal transition.
    let (status, v) = s
        .post(&format!("/api/tenders/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&v), "ILLEGAL_TRANSITION");
    // An amendment needs a reason.
    let (status, v) = s
        .post(
            &format!("/api/tenders/{id}/amendments"),
            json!({"reason": " ", "changes": {"bid_deadline": T0 + 25 * DAY}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["fields"]["reason"].is_array());
    assert_eq!(app.rows("ledger_events").await, ledger_before);

    // 更正公告: extend the deadline, with the change and reason kept.
    let (status, t) = s
        .post(
            &format!("/api/tenders/{id}/amendments"),
            json!({"reason": "采购需求调整,延长投标截止时间", "changes": {"bid_deadline": T0 + 25 * DAY}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["bid_deadline"], T0 + 25 * DAY);
    let a = &t["amendments"][0];
    assert_eq!(a["reason"], "采购需求调整,延长投标截止时间");
    assert_eq!(a["changes"]["bid_deadline"]["from"], T0 + 20 * DAY);
    assert_eq!(a["changes"]["bid_deadline"]["to"], T0 + 25 * DAY);
    let (_, public) = app
        .call(Method::GET, &format!("/api/announcements/{id}"), None)
        .await;
    assert_eq!(
        public["amendments"][0]["reason"],
        "采购需求调整,延长投标截止时间"
    );

    // After the deadline, by the server's clock, no more amendments (R-TIME-2).
    clock.set(T0 + 25 * DAY);
    // The 8-hour session has expired by then, too.
    let (status, _) = s.get("/api/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let s = app.login("agency").await;
    let (status, v) = s
        .post(
            &format!("/api/tenders/{id}/amendments"),
            json!({"reason": "再次延期", "changes": {"bid_deadline": T0 + 30 * DAY}}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&v), "DEADLINE_PASSED");
    let (status, v) = s
        .post(&format!("/api/tenders/{id}/cancel"), json!({"reason": "x"}))
        .await;
    assert_eq!(code(&v), "DEADLINE_PASSED", "{status}");
}

#[tokio::test]
async fn cancelled_tenders_accept_nothing_more() {
    let (app, _clock) = spawn_app_at(T0).await;
    let s = app.login("agency").await;
    let t = create(&s, app.tender_body("临时项目", T0).await).await;
    let id = t["id"].as_str().unwrap().to_string();
    let (status, t) = s
        .post(
            &format!("/api/tenders/{id}/cancel"),
            json!({"reason": "预算调整,项目取消"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t["status"], "cancelled");
    let (status, v) = s
        .post(&format!("/api/tenders/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&v), "ILLEGAL_TRANSITION");
}

#[tokio::test]
async fn bad_input_gets_its_code_and_writes_nothing() {
    let (app, _clock) = spawn_app_at(T0).await;
    let s = app.login("agency").await;
    let tenders = app.rows("tenders").await;
    let ledger = app.rows("ledger_events").await;

    // Malformed JSON.
    let r = s
        .client
        .post(app.url("/api/tenders"))
        .header("x-csrf-token", &s.csrf)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "MALFORMED_JSON");

    // Negative budget, a budget that is not a number, a fractional fen.
    let mut body = app.tender_body("坏预算", T0).await;
    body["lots"][0]["budget_fen"] = json!(-100);
    let (status, v) = s.post("/api/tenders", body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&v), "VALIDATION");
    assert!(v["fields"]["lots[0].budget_fen"].is_array(), "{v}");
    body["lots"][0]["budget_fen"] = json!("一百万");
    let (status, v) = s.post("/api/tenders", body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["fields"]["lots[0].budget_fen"].is_array(), "{v}");
    body["lots"][0]["budget_fen"] = json!(10.5);
    let (status, _) = s.post("/api/tenders", body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Deadlines out of order, an unknown purchasing unit, a supplier as custodian.
    let mut body = app.tender_body("坏时间", T0).await;
    body["clarify_deadline"] = json!(T0 + 30 * DAY);
    body["purchaser_org_id"] = json!("no-such-org");
    body["custodian_ids"][2] = json!(app.user_id("supplier1").await);
    let (status, v) = s.post("/api/tenders", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["clarify_deadline", "purchaser_org_id", "custodian_ids[2]"] {
        assert!(v["fields"][f].is_array(), "{f}: {v}");
    }

    // An unknown tender.
    let (status, v) = s.post("/api/tenders/nope/publish", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&v), "NOT_FOUND");

    // A session of another role.
    let p = app.login("supplier1").await;
    let (status, v) = p
        .post("/api/tenders", app.tender_body("供应商建项目", T0).await)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&v), "FORBIDDEN");

    assert_eq!(app.rows("tenders").await, tenders);
    assert_eq!(app.rows("ledger_events").await, ledger);
}

#[tokio::test]
async fn agencies_and_purchasers_see_only_their_own_tenders() {
    let app = spawn_app().await;
    let mine = app.login("agency").await;
    let (_, list) = mine.get("/api/tenders").await;
    let id = list[0]["id"].as_str().unwrap().to_string();

    let other = app.login("agency2").await;
    let (status, list) = other.get("/api/tenders").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 0);
    let (status, _) = other.get(&format!("/api/tenders/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = other
        .post(
            &format!("/api/tenders/{id}/cancel"),
            json!({"reason": "不是我的"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Each purchaser sees its own unit's tenders (the school has the demo's opening,
    // consultation and enquiry too); supervisors see all.
    let (_, p1) = app.login("purchaser").await.get("/api/tenders").await;
    let (_, p2) = app.login("purchaser2").await.get("/api/tenders").await;
    assert_eq!(p1.as_array().unwrap().len(), 4);
    assert_eq!(p2.as_array().unwrap().len(), 1);
    assert!(p1
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["id"] != p2[0]["id"]));
    let (_, all) = app.login("finance").await.get("/api/tenders").await;
    assert_eq!(all.as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn organisations_need_a_valid_credit_code() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let orgs = app.rows("organisations").await;
    let mut body = json!({
        "kind": "supplier", "name": "黄石测试科技有限公司", "credit_code": "91350100M000100Y44",
        "region_code": "420204", "enterprise_size": "small"
    });
    let (status, v) = admin.post("/api/organisations", body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&v), "INVALID_CREDIT_CODE");
    assert!(v["fields"]["credit_code"].is_array());
    assert_eq!(app.rows("organisations").await, orgs);

    body["credit_code"] = json!("91350100M000100Y43");
    let (status, v) = admin.post("/api/organisations", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["enterprise_size"], "small");
    let (status, v) = admin.post("/api/organisations", body).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(code(&v), "CONFLICT");

    // A supplier without its size declaration.
    let (status, v) = admin
        .post(
            "/api/organisations",
            json!({"kind": "supplier", "name": "无规模", "credit_code": "91110000802100433B", "region_code": "420200"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["fields"]["enterprise_size"].is_array());
}

#[tokio::test]
async fn publishing_splits_the_opening_key_among_custodians() {
    use kaibiao::crypto::{hpke, vss};
    use kaibiao::tender::opening_key::{share_aad, SHARE_INFO};

    let (app, _clock) = spawn_app_at(T0).await;
    let s = app.login("agency").await;

    // A custodian without a registered encryption key blocks publication.
    let mut body = app.tender_body("无密钥保管人", T0).await;
    body["custodian_ids"][2] = json!(app.user_id("agency2").await);
    let agency2_has_no_key = app.login("agency2").await.get("/api/keys").await.1;
    assert_eq!(agency2_has_no_key.as_array().unwrap().len(), 0);
    // agency2 is not of this agency: refused as a custodian at creation already.
    let (status, _) = s.post("/api/tenders", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // A finance user without keys: accepted as a custodian, but publication waits for keys.
    let admin = app.login("admin").await;
    let finance_org = app.org_id("finance").await;
    let (status, v) = admin
        .post(
            "/api/users",
            json!({"username": "finance2", "display_name": "新财政监管员", "role": "finance",
                   "org_id": finance_org, "password": crate::common::PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let mut body = app.tender_body("待登记密钥", T0).await;
    body["custodian_ids"][2] = v["id"].clone();
    let t = create(&s, body).await;
    let id = t["id"].as_str().unwrap();
    let (status, v) = s
        .post(&format!("/api/tenders/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["fields"]["custodian_ids[2]"].is_array(), "{v}");
    assert_eq!(t["status"], "draft");
    app.login("finance2").await.register_keys().await;
    let (status, t) = s
        .post(&format!("/api/tenders/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");

    // The announcement carries the public key and commitments.
    let (_, a) = app
        .call(Method::GET, &format!("/api/announcements/{id}"), None)
        .await;
    let key = &a["opening_key"];
    assert_eq!(key["threshold"], 2);
    assert_eq!(key["commitments"].as_array().unwrap().len(), 2);
    assert_eq!(key["commitments"][0], key["public_key"]);

    // Custodians whose keys the demo made: open their shares with their key files.
    let mut shares = Vec::new();
    for name in ["agency", "purchaser"] {
        let c = app.login(name).await;
        let (status, mine) = c.get(&format!("/api/tenders/{id}/my-share")).await;
        assert_eq!(status, StatusCode::OK, "{mine}");
        let file = std::fs::read_to_string(app.dir.path().join(format!("demo-keys/{name}.kbkey")))
            .unwrap();
        let (_, keys) = DeviceKeys::from_file(&file, crate::common::PASSWORD).unwrap();
        let sealed: hpke::Sealed = serde_json::from_value(mine["sealed"].clone()).unwrap();
        let index = mine["index"].as_u64().unwrap() as u32;
        let value =
            hpke::open(&keys.encryption, SHARE_INFO, &share_aad(id, index), &sealed).unwrap();
        let share = vss::Share {
            index,
            value: value.try_into().unwrap(),
        };
        let commitments: Vec<Vec<u8>> = mine["opening_key"]["commitments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| base64_decode(c.as_str().unwrap()))
            .collect();
        assert!(
            vss::verify_share(&share, &commitments),
            "{name}'s share matches the commitments"
        );
        // A share moved to another index does not open.
        assert!(hpke::open(
            &keys.encryption,
            SHARE_INFO,
            &share_aad(id, index + 1),
            &sealed
        )
        .is_err());
        shares.push(share);
    }
    // Two of three rebuild the opening key whose public half was announced.
    let secret = vss::combine(&shares).unwrap();
    let public = p256::PublicKey::from_secret_scalar(&secret);
    assert_eq!(
        kaibiao::crypto::keys::public_sec1(&public),
        base64_decode(key["public_key"].as_str().unwrap())
    );
    // Nobody else gets a share.
    let (status, _) = app
        .login("purchaser2")
        .await
        .get(&format!("/api/tenders/{id}/my-share"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The ledger's publication event records the key and each share's custodian and hash.
    let (_, ledger) = app
        .call(Method::GET, &format!("/api/tenders/{id}/ledger"), None)
        .await;
    let published = ledger["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(published["kind"], "tender_published");
    assert_eq!(
        published["body"]["opening_key"]["public_key"],
        key["public_key"]
    );
    assert_eq!(
        published["body"]["opening_key"]["shares"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// R-METH-2, R-DOC-1 and R-DOC-2 as the agency meets them: a deadline too early refused at
/// publication with the earliest lawful one named, the forms offered that date, and an
/// amendment affecting bids that must move the deadline.
#[tokio::test]
async fn r_meth_2_r_doc_2_statutory_periods_at_publication_and_amendment() {
    // 2026-12-01 is a Tuesday: the 20th day, 2026-12-21, a Monday.
    let (app, clock) = crate::common::spawn_app_at_with(T0, |c| c.statutory_periods = true).await;
    let s = app.login("agency").await;
    let mut body = app.tender_body("校园监控升级", T0).await;
    body["bid_deadline"] = json!(T0 + 19 * DAY);
    let t = create(&s, body.clone()).await;
    let id = t["id"].as_str().unwrap().to_string();

    let (status, limits) = s.get(&format!("/api/tenders/{id}/time-limits")).await;
    assert_eq!(status, StatusCode::OK, "{limits}");
    assert_eq!(limits["enforced"], true);
    // 00:00 of 2026-12-21, China time.
    let earliest = T0 + 20 * DAY - 9 * 3_600_000;
    assert_eq!(limits["publish_earliest_deadline"], earliest);
    assert_eq!(limits["publish_rule"], "R-METH-2 open_tendering");

    let ledger_before = app.rows("ledger_events").await;
    let (status, v) = s
        .post(&format!("/api/tenders/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(code(&v), "BID_PERIOD_TOO_SHORT");
    assert!(
        v["message"].as_str().unwrap().contains("2026-12-21 00:00"),
        "{v}"
    );
    let (_, still) = s.get(&format!("/api/tenders/{id}")).await;
    assert_eq!(still["status"], "draft");
    assert_eq!(app.rows("ledger_events").await, ledger_before);

    // The deadline the form offers is accepted.
    body["bid_deadline"] = json!(earliest + 9 * 3_600_000);
    let (status, v) = s.put(&format!("/api/tenders/{id}"), body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = s
        .post(&format!("/api/tenders/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // Ten days before the deadline, an amendment of the lots comes too late for it
    // (15 days, R-DOC-2): refused, naming the date the deadline must move to.
    clock.set(T0 + 10 * DAY);
    let s = app.login("agency").await;
    let (_, limits) = s.get(&format!("/api/tenders/{id}/time-limits")).await;
    // 2026-12-11 + 15 days = 2026-12-26, a Saturday: moved to Monday 2026-12-28.
    let moved = T0 + 27 * DAY - 9 * 3_600_000;
    assert_eq!(limits["amend_earliest_deadline"], moved, "{limits}");
    let lots = json!([{"name": "第1包(含安装)", "budget_fen": 12_345_600}]);
    let (status, v) = s
        .post(
            &format!("/api/tenders/{id}/amendments"),
            json!({"reason": "增加安装要求", "changes": {"lots": lots}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(code(&v), "AMENDMENT_TOO_LATE");
    assert!(
        v["message"].as_str().unwrap().contains("2026-12-28 00:00"),
        "{v}"
    );
    let (_, still) = s.get(&format!("/api/tenders/{id}")).await;
    assert_eq!(still["amendments"].as_array().unwrap().len(), 0);

    // Declared as not affecting bids (a contact's phone number), it goes out as it is.
    let (status, v) = s
        .post(
            &format!("/api/tenders/{id}/amendments"),
            json!({"reason": "更正联系电话", "affects_bids": false,
                   "changes": {"description": "测试项目。联系电话 0714-6200000"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // With the deadline moved as offered, the lots change is accepted.
    let (status, v) = s
        .post(
            &format!("/api/tenders/{id}/amendments"),
            json!({"reason": "增加安装要求", "changes": {"lots": lots, "bid_deadline": moved + 9 * 3_600_000}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["bid_deadline"], moved + 9 * 3_600_000);
    assert_eq!(v["amendments"].as_array().unwrap().len(), 2);
}

/// Where every tender comes from a plan (the default outside tests), one without is
/// refused at its plan field and nothing is written.
#[tokio::test]
async fn r_plan_2_a_tender_without_a_plan_is_refused_where_plans_are_required() {
    let (app, _clock) = crate::common::spawn_app_at_with(T0, |c| c.require_plan = true).await;
    let s = app.login("agency").await;
    let before = app.rows("tenders").await;
    let (status, v) = s
        .post("/api/tenders", app.tender_body("无计划项目", T0).await)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(code(&v), "VALIDATION");
    assert!(v["fields"]["plan_id"].is_array(), "{v}");
    assert_eq!(app.rows("tenders").await, before);
}

/// R-METH-2: a consultation's price weight lies within its category's range (goods
/// 30–60 %); terms outside it are refused at creation, at an edit and at publication with
/// `METHOD_EVALUATION_MISMATCH`, and nothing is written. An enquiry is not scored
/// comprehensively; a case for two suppliers must be one its method lists.
#[tokio::test]
async fn r_meth_2_a_consultation_priced_at_70_percent_is_refused_and_nothing_is_written() {
    let (app, _clock) = spawn_app_at(T0).await;
    let s = app.login("agency").await;
    let tenders = app.rows("tenders").await;
    let ledger = app.rows("ledger_events").await;

    let terms = |price: u32| {
        json!({
            "method": "comprehensive", "sme_rate_bp": 1000, "price_weight_bp": price,
            "items": [{"name": "技术方案", "weight_bp": 10_000 - price}]
        })
    };
    let mut body = app.tender_body("化学实验室通风柜磋商采购", T0).await;
    body["method"] = json!("competitive_consultation");
    for price in [7000, 6001, 2999] {
        body["evaluation"] = terms(price);
        let (status, v) = s.post("/api/tenders", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{price}: {v}");
        assert_eq!(code(&v), "METHOD_EVALUATION_MISMATCH", "{price}: {v}");
        let (zh, en) = (
            v["message"].as_str().unwrap(),
            v["message_en"].as_str().unwrap(),
        );
        assert!(zh.contains("竞争性磋商") && zh.contains("30%–60%"), "{zh}");
        assert!(
            en.contains("competitive consultation") && en.contains("214号"),
            "{en}"
        );
    }
    // An enquiry scored comprehensively.
    let mut enquiry = body.clone();
    enquiry["method"] = json!("inquiry");
    enquiry["evaluation"] = terms(3000);
    let (status, v) = s.post("/api/tenders", enquiry.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&v), "METHOD_EVALUATION_MISMATCH", "{v}");
    // Other field errors come first, as VALIDATION.
    body["evaluation"] = terms(7000);
    body["title"] = json!(" ");
    let (status, v) = s.post("/api/tenders", body.clone()).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION")
    );
    // Tendering may price at 70 %: no cap (R-EVAL-4).
    let mut open = app.tender_body("开放招标不设上限", T0).await;
    open["evaluation"] = terms(7000);
    open["evaluation"]["two_suppliers_case"] = json!("government_services");
    let (status, v) = s.post("/api/tenders", open.clone()).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "METHOD_CASE_NOT_LISTED"),
        "{v}"
    );
    assert_eq!(app.rows("tenders").await, tenders);
    assert_eq!(app.rows("ledger_events").await, ledger);
    open["evaluation"]
        .as_object_mut()
        .unwrap()
        .remove("two_suppliers_case");
    create(&s, open).await;

    // At 60 %, declaring the case of government-purchased services: created; an edit to
    // 70 % is refused and the draft keeps its terms.
    body["title"] = json!("化学实验室通风柜磋商采购");
    body["evaluation"] = terms(6000);
    body["evaluation"]["two_suppliers_case"] = json!("government_services");
    let t = create(&s, body.clone()).await;
    let id = t["id"].as_str().unwrap().to_string();
    let ledger = app.rows("ledger_events").await;
    let mut edited = body.clone();
    edited["evaluation"] = terms(7000);
    let (status, v) = s.put(&format!("/api/tenders/{id}"), edited).await;
    assert_eq!(
        (status, code(&v)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "METHOD_EVALUATION_MISMATCH"
        )
    );
    assert_eq!(app.rows("ledger_events").await, ledger);
    let (_, t) = s.get(&format!("/api/tenders/{id}")).await;
    assert_eq!(t["evaluation"]["price_weight_bp"], 6000);
    assert_eq!(t["evaluation"]["two_suppliers_case"], "government_services");

    // Terms that no longer fit at publication (as after the table changed) are refused
    // there too: the draft stays a draft.
    sqlx::query("UPDATE tenders SET eval_terms = $1 WHERE id = $2")
        .bind(terms(7000).to_string())
        .bind(&id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let (status, v) = s
        .post(&format!("/api/tenders/{id}/publish"), json!({}))
        .await;
    assert_eq!(
        (status, code(&v)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "METHOD_EVALUATION_MISMATCH"
        )
    );
    assert_eq!(app.rows("ledger_events").await, ledger);
    let (_, t) = s.get(&format!("/api/tenders/{id}")).await;
    assert_eq!(t["status"], "draft");
    sqlx::query("UPDATE tenders SET eval_terms = $1 WHERE id = $2")
        .bind(terms(3000).to_string())
        .bind(&id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let (status, t) = s
        .post(&format!("/api/tenders/{id}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");

    // The table is public: what a consultation's price weight may be, and its source.
    let (status, m) = app.call(Method::GET, "/api/methods", None).await;
    assert_eq!(status, StatusCode::OK);
    let consultation = m["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["method"] == "competitive_consultation")
        .unwrap();
    let goods = &consultation["evaluation"]["price_weight"][0];
    assert_eq!(
        (&goods["category"], &goods["min_bp"], &goods["max_bp"]),
        (&json!("goods"), &json!(3000), &json!(6000))
    );
    assert_eq!(consultation["panel"]["min_size"], 3);
    assert_eq!(consultation["suppliers"]["below_min"], "continue_with_two");
    assert_eq!(m["open_tendering_threshold_fen"], 400_000_000);
}
