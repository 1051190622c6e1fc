//! The demo city's past (`Config::demo_history`): five tenders carried through the chain
//! at earlier dates, each waiting at one stage after the award for the user who acts
//! next — and each of those users can act with what the demo gave them (their login, the
//! key file made after the past).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{b64, spawn_app_at_with, Session, TestApp, PASSWORD};
use crate::evaluation::T0;
use kaibiao::pki::keyfile::DeviceKeys;

async fn tender(app: &TestApp, title: &str) -> String {
    let (_, list) = app.login("finance").await.get("/api/tenders").await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == title)
        .unwrap_or_else(|| panic!("no past tender {title}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn ok(s: &Session, path: &str, body: Value) -> Value {
    let (status, v) = s.post(path, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body} → {v}");
    v
}

/// The user's key file as the demo wrote it, and its signing key id.
fn key_file(app: &TestApp, user: &str) -> (DeviceKeys, String) {
    let file =
        std::fs::read_to_string(app.dir.path().join(format!("demo-keys/{user}.kbkey"))).unwrap();
    let (_, keys) = DeviceKeys::from_file(&file, PASSWORD).unwrap();
    let id = kaibiao::crypto::keys::key_id(&keys.signing_public());
    (keys, id)
}

#[tokio::test]
async fn the_demo_city_has_a_tender_waiting_at_each_stage_after_the_award() {
    let (app, _clock) = spawn_app_at_with(T0, |c| c.demo_history = true).await;

    // Awarded hours ago: the result notice is the agency's to publish.
    let t = tender(&app, "黄石市第一中学办公计算机及打印设备采购项目").await;
    let agency = app.login("agency").await;
    let path = format!("/api/tenders/{t}/result");
    let (_, v) = agency.get(&path).await;
    assert_eq!(v["notice"], Value::Null, "{v}");
    assert!(v["awarded_at"].as_i64().unwrap() < T0, "{v}");
    ok(&agency, &path, json!({"type": "publish"})).await;
    // The public reads it, the panel's names now among it.
    let v: Value = reqwest::get(app.url(&path))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let panel = v["notice"]["document"]["panel"].as_array().unwrap();
    assert!(
        panel.len() >= 3 && panel.iter().all(|p| p["name"].is_string()),
        "{v}"
    );

    // Drafted: the purchaser signs with the key file the demo made after the past.
    let t = tender(&app, "黄石市第一中学理化生实验室家具采购项目").await;
    let purchaser = app.login("purchaser").await;
    let path = format!("/api/tenders/{t}/contracts");
    let (_, v) = purchaser.get(&path).await;
    let contract = &v["contracts"][0];
    assert_eq!(contract["signatures"], json!([]), "{contract}");
    let (keys, key_id) = key_file(&app, "purchaser");
    let payload = contract["my_payload"].as_str().unwrap();
    ok(
        &purchaser,
        &path,
        json!({"type": "sign", "contract_id": contract["id"], "key_id": key_id,
               "signature": b64(&keys.sign(payload.as_bytes()))}),
    )
    .await;

    // Financing: the bank has the winner's application to decide.
    let t = tender(&app, "黄石市中心医院职工食堂餐饮服务采购项目").await;
    let bank = app.login("bank").await;
    let (_, cases) = bank.get("/api/financing").await;
    let case = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["application"]["tender_id"] == t.as_str())
        .unwrap_or_else(|| panic!("the bank's application: {cases}"));
    assert_eq!(case["application"]["status"], "applied");
    let id = case["application"]["id"].as_str().unwrap();
    ok(
        &bank,
        &format!("/api/tenders/{t}/financing"),
        json!({"type": "approve", "application_id": id,
               "amount_fen": case["application"]["amount_fen"],
               "account_name": "湖北银行黄石分行政采贷专户", "account_no": "6222020200001234"}),
    )
    .await;

    // Accepted and asked for: the purchaser approves and pays the whole contract.
    let t = tender(&app, "黄石市第一中学图书馆图书采购项目").await;
    let path = format!("/api/tenders/{t}/payments");
    let (_, v) = purchaser.get(&path).await;
    let c = &v["contracts"][0];
    assert!(c["accepted_at"].as_i64().unwrap() < T0, "{c}");
    let request = &c["requests"][0];
    assert_eq!(request["status"], "requested", "{c}");
    assert_eq!(request["amount_fen"], c["payable_fen"], "{c}");
    let id = request["id"].as_str().unwrap();
    ok(
        &purchaser,
        &path,
        json!({"type": "approve", "request_id": id}),
    )
    .await;
    ok(
        &purchaser,
        &path,
        json!({"type": "pay", "request_id": id, "paid_on": "2026-12-01", "reference": "GK-1"}),
    )
    .await;
    let (_, v) = purchaser.get(&path).await;
    assert!(v["contracts"][0]["settled_at"].is_i64(), "{v}");

    // Paid: the purchaser has rated the winner; the winner and the agency have theirs to give.
    let t = tender(&app, "黄石市中心医院病房区保洁服务采购项目").await;
    let path = format!("/api/tenders/{t}/ratings");
    let given = |v: &Value, party: &str| {
        v["to_rate"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ratee_party"] == party)
            .unwrap_or_else(|| panic!("no {party} to rate: {v}"))["given"]
            .clone()
    };
    let (_, v) = app.login("purchaser2").await.get(&path).await;
    assert_eq!(given(&v, "supplier")["mean_centi"], 475, "{v}");
    assert_eq!(given(&v, "agency"), Value::Null, "{v}");
    let (_, v) = agency.get(&path).await;
    assert_eq!(given(&v, "supplier"), Value::Null, "{v}");
}
