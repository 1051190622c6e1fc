//! Suppliers sign themselves up (R-CRED-1): the organisation with its credit code checked
//! and its first account in one step, refused cleanly for bad input, a taken code and too
//! many sign-ups from one address; a self-registered supplier bids only after signing its
//! credit commitment with its device key; a supplier on a credit list is refused at the
//! start of a bid, and every check is recorded.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{code, login_at, spawn_app, TestApp};

fn credit_code(n: u32) -> String {
    let first17 = format!("91420202MA4{n:06}");
    format!(
        "{first17}{}",
        kaibiao::credit_code::check_char(&first17).unwrap()
    )
}

fn signup(n: u32) -> Value {
    json!({
        "name": format!("黄石港新兴科技有限公司{n}"), "credit_code": credit_code(n),
        "region_code": "420202", "enterprise_size": "small",
        "username": format!("xinxing{n}"), "display_name": "钱进",
        "password": crate::common::PASSWORD,
    })
}

async fn register(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.call(Method::POST, "/api/suppliers/register", Some(body))
        .await
}

#[tokio::test]
async fn r_cred_1_a_supplier_signs_up_signs_its_commitment_and_only_then_bids() {
    let app = spawn_app().await;
    let orgs = app.rows("organisations").await;

    // Bad input: each field named, nothing written.
    let mut bad = signup(1);
    bad["credit_code"] = json!("91420202MA4000001Z");
    let (status, v) = register(&app, bad).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "INVALID_CREDIT_CODE"),
        "{v}"
    );
    let mut bad = signup(1);
    bad["password"] = json!("123");
    bad["username"] = json!("x");
    let (status, v) = register(&app, bad).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
        "{v}"
    );
    assert!(
        v["fields"]["password"].is_array() && v["fields"]["username"].is_array(),
        "{v}"
    );
    assert_eq!(app.rows("organisations").await, orgs);

    let (status, v) = register(&app, signup(1)).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(app.rows("organisations").await, orgs + 1);
    // The same credit code again: refused, nothing more written.
    let mut again = signup(1);
    again["username"] = json!("xinxing1b");
    let (status, v) = register(&app, again).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "CONFLICT"),
        "{v}"
    );
    assert_eq!(app.rows("organisations").await, orgs + 1);

    // Logged in, with its keys: no bid before the commitment.
    let s = login_at(&app.url(""), "xinxing1").await;
    let reg = s.register_keys().await;
    let tender = app.school_tender_id().await;
    let bids = app.rows("bids").await;
    let (status, v) = crate::bids::start_bid(&s, &tender).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::FORBIDDEN, "COMMITMENT_MISSING"),
        "{v}"
    );
    assert_eq!(app.rows("bids").await, bids);
    let (status, c) = s.get("/api/suppliers/me/commitment").await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert!(c["text"].as_str().unwrap().contains("小型企业"), "{c}");
    assert_eq!(c["signed_at"], Value::Null);
    // A signature over other bytes is refused; over the payload, accepted once.
    let wrong = crate::common::b64(&reg.keys.sign(b"something else"));
    let (status, v) = s
        .post(
            "/api/suppliers/me/commitment",
            json!({"key_id": reg.signing_key_id, "signature": wrong}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "SIGNATURE_INVALID"),
        "{v}"
    );
    let sig = crate::common::b64(&reg.keys.sign(c["payload"].as_str().unwrap().as_bytes()));
    let body = json!({"key_id": reg.signing_key_id, "signature": sig});
    let (status, v) = s.post("/api/suppliers/me/commitment", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(v["signed_at"].is_i64());
    let (status, v) = s.post("/api/suppliers/me/commitment", body).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ALREADY_SIGNED"),
        "{v}"
    );
    let (status, v) = crate::bids::start_bid(&s, &tender).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (_, checks) = s.get("/api/suppliers/me/credit-checks").await;
    let results: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["clear", "no_commitment"], "{checks}");

    // Five sign-ups an hour from one address; the sixth waits.
    for n in 2..=5 {
        let (status, v) = register(&app, signup(n)).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
    }
    let (status, v) = register(&app, signup(6)).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
        "{v}"
    );
}

#[tokio::test]
async fn r_cred_1_a_listed_supplier_is_refused_at_the_start_of_a_bid_and_the_check_is_kept() {
    let app = spawn_app().await;
    let finance = app.login("finance").await;
    let s1 = app.org_id("supplier1").await;
    let tender = app.school_tender_id().await;

    // A listing that ended does not bar; one in force does.
    let (status, v) = finance
        .post(
            "/api/credit-records",
            json!({"org_id": s1, "list": "major_tax_violation", "reason": "2023 年偷税,已结案",
                   "from_at": 1_600_000_000_000_i64, "until_at": 1_700_000_000_000_i64}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let supplier = app.login("supplier1").await;
    supplier.register_keys().await;
    let (status, v) = crate::bids::start_bid(&supplier, &tender).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, v) = finance
        .post(
            "/api/credit-records",
            json!({"org_id": s1, "list": "bad_conduct", "reason": "12 个月内三次无效投诉 (R-CHAL-4)"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let bids = app.rows("bids").await;
    let (status, v) = crate::bids::start_bid(&supplier, &tender).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::FORBIDDEN, "SUPPLIER_BARRED"),
        "{v}"
    );
    assert_eq!(app.rows("bids").await, bids);
    let (_, checks) = supplier.get("/api/suppliers/me/credit-checks").await;
    assert_eq!(checks[0]["result"], "barred", "{checks}");
    assert_eq!(checks[0]["lists"], "bad_conduct");
    // The supplier sees its own records; another supplier sees none of them.
    let (_, mine) = supplier.get("/api/credit-records").await;
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let (_, other) = app
        .login("supplier2")
        .await
        .get("/api/credit-records")
        .await;
    assert_eq!(other, json!([]));
    // Records need their grounds.
    let (status, v) = finance
        .post(
            "/api/credit-records",
            json!({"org_id": s1, "list": "bad_conduct", "reason": " "}),
        )
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
        "{v}"
    );
}
