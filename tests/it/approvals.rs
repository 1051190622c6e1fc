//! Finance's approvals before a tender (R-METH-1) through the API: a single-source request
//! publicised for 5 working days, objected to by a supplier and approved only after its
//! publicity; imported products approved or refused with a reason; a tender whose plan
//! needs an approval is not published without it; refusals change nothing.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use base64::Engine;

use crate::common::{code, spawn_app_at, Session, TestApp};

const DAY: i64 = 86_400_000;
/// 2026-12-01 09:00 China Standard Time, a Tuesday.
const T0: i64 = 1_796_086_800_000;
/// 2026-12-09 00:00 CST: the end of the 5th working day after 2026-12-01.
const PUBLICITY_ENDS: i64 = 1_796_745_600_000;

/// A plan of the school's, `yuan` on a fresh line, its intention published at T0.
pub(crate) async fn plan(app: &TestApp, method: &str, yuan: i64, imported: bool) -> Value {
    let finance = app.login("finance").await;
    let purchaser = app.login("purchaser").await;
    let (status, line) = finance
        .post(
            "/api/budget-lines",
            json!({
                "org_id": app.org_id("purchaser").await, "year": 2026,
                "code": format!("2050299-{method}-{imported}"), "title": "专用设备",
                "category": "goods", "funding_source": "general_budget", "amount_fen": yuan * 100,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{line}");
    let (status, plan) = purchaser
        .post(
            "/api/plans",
            json!({
                "budget_line_id": line["id"], "title": "核磁共振成像系统维保", "method": method,
                "amount_fen": yuan * 100, "imported": imported, "expected_month": "2027-01",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{plan}");
    let id = plan["id"].as_str().unwrap();
    let (status, plan) = purchaser
        .post(
            &format!("/api/plans/{id}/intention"),
            json!({"description": "设备维保一年"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    plan
}

/// A draft tender from `plan`, its deadlines after the intention's 30 days.
async fn tender(app: &TestApp, agency: &Session, plan: &Value) -> String {
    let mut body = app
        .tender_body("核磁共振成像系统维保采购", T0 + 31 * DAY)
        .await;
    body["plan_id"] = plan["id"].clone();
    body["method"] = plan["method"].clone();
    body["lots"] = json!([{"name": "维保服务", "budget_fen": plan["amount_fen"]}]);
    let (status, t) = agency.post("/api/tenders", body).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    t["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn r_meth_1_a_single_source_request_is_publicised_objected_to_and_approved_after_5_working_days(
) {
    let (app, clock) = spawn_app_at(T0).await;
    let plan = plan(&app, "single_source", 4_500_000, false).await;
    let plan_id = plan["id"].as_str().unwrap();
    let purchaser = app.login("purchaser").await;
    let agency = app.login("agency").await;
    let tid = tender(&app, &agency, &plan).await;

    // The one supplier must be named, with a valid credit code; nothing is written otherwise.
    let path = format!("/api/plans/{plan_id}/approvals");
    let approvals = app.rows("approvals").await;
    let letter = "原厂专用软件,仅制造商可提供维保。".as_bytes();
    let mut req = json!({
        "kind": "method", "reasons": "设备维保须使用原厂专用软件与配件,只能由原制造商提供。",
        "attachments": [{"name": "原厂说明.txt", "content_base64": base64::engine::general_purpose::STANDARD.encode(letter)}],
    });
    let (status, v) = purchaser.post(&path, req.clone()).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
        "{v}"
    );
    req["sole_supplier_name"] = json!("黄石医疗影像设备有限公司");
    req["sole_supplier_credit_code"] = json!("91420200MA4000000X");
    let (status, v) = purchaser.post(&path, req.clone()).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_CREDIT_CODE"),
        "{v}"
    );
    assert_eq!(app.rows("approvals").await, approvals);
    let first17 = "91420200MA4000077";
    let valid = format!(
        "{first17}{}",
        kaibiao::credit_code::check_char(first17).unwrap()
    );
    req["sole_supplier_credit_code"] = json!(valid);
    let (status, a) = purchaser.post(&path, req.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a["status"], "publicising");
    assert_eq!(a["publicity_ends_at"], PUBLICITY_ENDS);
    let id = a["id"].as_str().unwrap().to_string();
    let (status, v) = purchaser.post(&path, req).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "APPROVAL_ALREADY_REQUESTED"),
        "{v}"
    );

    // The public sees the notice; a supplier objects; the objection is the unit's and
    // finance's to read, not the public's.
    let (status, notices) = app
        .call(Method::GET, "/api/single-source-notices", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let notice = notices
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == id.as_str())
        .unwrap();
    assert_eq!(notice["sole_supplier_name"], "黄石医疗影像设备有限公司");
    let supplier = app.login("supplier2").await;
    let (status, v) = supplier
        .post(
            &format!("/api/approvals/{id}/objections"),
            json!({"text": "我公司亦具备该型号设备的维保能力与原厂授权。"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["objections"],
        json!([]),
        "the objector sees no one's objections"
    );
    let (status, one) = app
        .call(
            Method::GET,
            &format!("/api/single-source-notices/{id}"),
            None,
        )
        .await;
    assert_eq!(
        (status, one["objections"].clone()),
        (StatusCode::OK, json!([]))
    );
    let finance = app.login("finance").await;
    let (_, full) = finance.get(&format!("/api/approvals/{id}")).await;
    assert_eq!(full["objections"].as_array().unwrap().len(), 1, "{full}");
    assert_eq!(
        full["objections"][0]["supplier_name"],
        "湖北磁湖智能装备有限公司"
    );
    // The attachment, as sent, never shown inline as a page of the platform.
    let url = app.url(&format!("/api/approvals/{id}/attachments/1"));
    let r = finance.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), letter);

    // Finance decides only after the publicity; the tender waits for the approval.
    let (status, v) = finance
        .post(
            &format!("/api/approvals/{id}/decision"),
            json!({"approve": true}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "PUBLICITY_NOT_OVER"),
        "{v}"
    );
    clock.set(T0 + 31 * DAY);
    let agency = app.login("agency").await;
    let publish = format!("/api/tenders/{tid}/publish");
    let (status, v) = agency.post(&publish, json!({})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "APPROVAL_REQUIRED"),
        "{v}"
    );
    let supplier = app.login("supplier2").await;
    let (status, v) = supplier
        .post(
            &format!("/api/approvals/{id}/objections"),
            json!({"text": "再次异议"}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "PUBLICITY_OVER"),
        "{v}"
    );
    let finance = app.login("finance").await;
    let (status, v) = finance
        .post(
            &format!("/api/approvals/{id}/decision"),
            json!({"approve": true, "reason": "异议经核实不成立。"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "approved");
    let (status, v) = finance
        .post(
            &format!("/api/approvals/{id}/decision"),
            json!({"approve": false, "reason": "x"}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ALREADY_DECIDED"),
        "{v}"
    );
    let (status, v) = agency.post(&publish, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // The plan's chain holds the request, the objection and the decision, and verifies.
    let (_, chain) = finance.get(&format!("/api/plans/{plan_id}/ledger")).await;
    let ledger: kaibiao::ledger::Ledger = serde_json::from_value(chain.clone()).unwrap();
    kaibiao::ledger::verify(&ledger).expect("the plan's chain verifies");
    let kinds: Vec<&str> = ledger.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "plan_filed",
            "intention_published",
            "plan_drawn",
            "approval_requested",
            "approval_objected",
            "approval_decided"
        ],
        "{chain}"
    );
    assert_eq!(
        ledger.events[3].body["attachments"][0]["name"],
        "原厂说明.txt"
    );
}

#[tokio::test]
async fn r_meth_1_imported_products_are_approved_or_refused_with_a_reason() {
    let (app, clock) = spawn_app_at(T0).await;
    let plan = plan(&app, "open_tendering", 800_000, true).await;
    let plan_id = plan["id"].as_str().unwrap();
    let purchaser = app.login("purchaser").await;
    let agency = app.login("agency").await;
    let tid = tender(&app, &agency, &plan).await;
    let path = format!("/api/plans/{plan_id}/approvals");

    // Open tendering needs no method approval; imported products do.
    let (status, v) = purchaser
        .post(&path, json!({"kind": "method", "reasons": "x"}))
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "APPROVAL_NOT_NEEDED"),
        "{v}"
    );
    let (status, a) = purchaser
        .post(
            &path,
            json!({"kind": "import", "reasons": "国内无同等性能产品。"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(
        (a["status"].clone(), a["publicity_ends_at"].clone()),
        (json!("pending"), Value::Null)
    );
    let id = a["id"].as_str().unwrap();

    // A refusal needs its reason; then the tender cannot go out, and the unit may ask again.
    let finance = app.login("finance").await;
    let decision = format!("/api/approvals/{id}/decision");
    let (status, v) = finance.post(&decision, json!({"approve": false})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
        "{v}"
    );
    let (status, v) = finance
        .post(
            &decision,
            json!({"approve": false, "reason": "未提供专家论证意见。"}),
        )
        .await;
    assert_eq!(
        (status, v["status"].clone()),
        (StatusCode::OK, json!("refused")),
        "{v}"
    );
    clock.set(T0 + 31 * DAY);
    let agency = app.login("agency").await;
    let (status, v) = agency
        .post(&format!("/api/tenders/{tid}/publish"), json!({}))
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "APPROVAL_REQUIRED"),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("进口产品"), "{v}");
    let purchaser = app.login("purchaser").await;
    let (status, again) = purchaser
        .post(
            &path,
            json!({"kind": "import", "reasons": "补充专家论证意见。"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    // Another unit cannot see the school's requests.
    let other = app.login("purchaser2").await;
    let (status, _) = other.get(&format!("/api/approvals/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
