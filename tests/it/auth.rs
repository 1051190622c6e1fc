//! Login, throttling, CSRF, bearer tokens, sessions and the audit log.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{client, code, spawn_app, TestApp, PASSWORD};

#[tokio::test]
async fn login_sets_a_session_and_wrong_passwords_are_refused_and_audited() {
    let app = spawn_app().await;
    let (status, v) = app
        .call(
            Method::POST,
            "/api/auth/login",
            Some(json!({"username": "agency", "password": "wrong-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&v), "LOGIN_FAILED");
    assert_eq!(v["message"], "用户名或密码错误");
    assert_eq!(v["message_en"], "Wrong user name or password");

    let s = app.login("agency").await;
    assert_eq!(s.user["role"], "agency");
    assert_eq!(s.user["org"]["name"], "黄石市政府采购中心");
    let (status, me) = s.get("/api/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["username"], "agency");
    assert_eq!(me["csrf_token"], s.csrf.as_str());

    // Both attempts are in the audit log, seen by oversight.
    let o = app.login("oversight").await;
    let (status, log) = o.get("/api/audit").await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<(String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["username"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(actions.contains(&("agency".into(), "login_failed".into())));
    assert!(actions.contains(&("agency".into(), "login_ok".into())));
    assert!(actions.contains(&("oversight".into(), "login_ok".into())));
}

/// A login from loopback address `ip` (all of 127.0.0.0/8 reaches the server here).
pub(crate) async fn login_from(
    app: &TestApp,
    ip: [u8; 4],
    user: &str,
    password: &str,
) -> (StatusCode, Value) {
    let r = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .build()
        .unwrap()
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A login challenge for `user`, to sign with its device key.
async fn login_challenge(app: &TestApp, user: &str) -> String {
    let (_, c) = app
        .call(
            Method::POST,
            "/api/auth/challenge",
            Some(json!({"username": user})),
        )
        .await;
    c["challenge"].as_str().unwrap().to_string()
}

/// A login's `key_proof`: `challenge` signed with the device key `key_id` of `user`.
fn key_proof(user: &str, challenge: &str, keys: &crate::common::DeviceKeys, key_id: &str) -> Value {
    let msg = kaibiao::auth::service::login_proof_message(user, challenge);
    json!({"key_id": key_id, "challenge": challenge,
           "signature": crate::common::b64(&keys.sign(msg.as_bytes()))})
}

/// `n` wrong passwords for `user` from `ip`, each refused as such.
pub(crate) async fn guess(app: &TestApp, ip: [u8; 4], user: &str, n: i64) {
    for _ in 0..n {
        let (status, _) = login_from(app, ip, user, "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn failed_logins_slow_the_guesser_down_not_the_user() {
    use kaibiao::auth::service::{MAX_FAILURES_PER_IP, MAX_FAILURES_PER_PAIR};
    let app = spawn_app().await;
    let reg = app.login("supplier1").await.register_keys().await;
    let guesser = [127, 0, 0, 2];
    guess(&app, guesser, "supplier1", MAX_FAILURES_PER_PAIR).await;
    // From the guesser's address the name must wait, even with the right password.
    let (status, v) = login_from(&app, guesser, "supplier1", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(code(&v), "LOGIN_THROTTLED");
    let retry = v["retry_after_secs"].as_i64().unwrap();
    assert!(
        retry > 0 && retry <= 30,
        "30 s after the fifth failure: {retry}"
    );

    // Behind the guesser's address (one office NAT), the supplier who proves its device
    // key may still try its password; another's key or a made-up challenge may not.
    let proof = |challenge: &str, keys: &crate::common::DeviceKeys, key_id: &str| {
        key_proof("supplier1", challenge, keys, key_id)
    };
    let challenge = login_challenge(&app, "supplier1").await;
    let with_proof = |p: Value| {
        let app = &app;
        async move {
            let r = reqwest::Client::builder()
                .local_address(std::net::IpAddr::from(guesser))
                .build()
                .unwrap()
                .post(app.url("/api/auth/login"))
                .json(&json!({"username": "supplier1", "password": PASSWORD, "key_proof": p}))
                .send()
                .await
                .unwrap();
            r.status()
        }
    };
    let other = app.login("supplier2").await.register_keys().await;
    assert_eq!(
        with_proof(proof(&challenge, &other.keys, &other.signing_key_id)).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        with_proof(proof("9999999999999.AAAA", &reg.keys, &reg.signing_key_id)).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        with_proof(proof(&challenge, &reg.keys, &reg.signing_key_id)).await,
        StatusCode::OK
    );

    // The supplier, at its own desk just before a deadline, is not locked out.
    guess(&app, guesser, "supplier1", MAX_FAILURES_PER_PAIR).await;
    let (status, _) = login_from(&app, [127, 0, 0, 1], "supplier1", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);

    // 60 guesses at once are counted one at a time: 5 are checked, the rest wait.
    let app = std::sync::Arc::new(app);
    let guesses = (0..60).map(|_| {
        let app = app.clone();
        tokio::spawn(async move {
            login_from(&app, [127, 0, 0, 3], "supplier2", "guess")
                .await
                .0
        })
    });
    let mut checked = 0;
    for g in guesses {
        match g.await.unwrap() {
            StatusCode::UNAUTHORIZED => checked += 1,
            s => assert_eq!(s, StatusCode::TOO_MANY_REQUESTS),
        }
    }
    assert_eq!(checked, MAX_FAILURES_PER_PAIR);

    // An office behind one address: a colleague known there keeps working after a burst
    // of failures from it; a name never seen there waits.
    let office = [127, 0, 0, 4];
    assert_eq!(
        login_from(&app, office, "purchaser", PASSWORD).await.0,
        StatusCode::OK
    );
    for i in 0..MAX_FAILURES_PER_IP {
        let (status, _) = login_from(&app, office, &format!("nobody{i}"), "guess").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_from(&app, office, "purchaser", PASSWORD).await.0,
        StatusCode::OK
    );
    assert_eq!(
        login_from(&app, office, "agency", PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Guesses from many addresses at once, each name and address new to the throttle: the
/// password checks run a core at a time and at most `PASSWORD_CHECKS_ADMITTED` logins are let
/// in to wait for one; the others are told at once to come back (429 `RATE_LIMITED`, in
/// Chinese first), with nothing counted against them, and the user logs in after.
#[tokio::test]
async fn a_flood_of_guesses_from_many_addresses_is_let_in_a_few_at_a_time() {
    use kaibiao::auth::service::PASSWORD_CHECKS_ADMITTED;
    let app = spawn_app().await;
    let n = PASSWORD_CHECKS_ADMITTED + 150;
    let guesses = (0..n).map(|i| {
        let app = &app;
        let ip = [127, 1, (i / 250) as u8, (i % 250 + 1) as u8];
        async move { login_from(app, ip, &format!("guess{i}"), "guess").await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let tried = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::UNAUTHORIZED)
        .count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(
        tried + refused.len(),
        n,
        "every guess answered one way or the other"
    );
    assert!(tried >= PASSWORD_CHECKS_ADMITTED, "{tried} tried");
    assert!(!refused.is_empty(), "none refused of {n} at once");
    for v in &refused {
        assert_eq!(v["code"], "RATE_LIMITED", "{v}");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .starts_with("同时登录的请求过多"),
            "{v}"
        );
    }
    let failed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'login_failed'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(
        failed as usize, tried,
        "the refused are not counted as failures"
    );
    let (status, v) = login_from(&app, [127, 0, 0, 1], "agency", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

/// While a flood of guesses fills every place for a password check, a user whose browser
/// proves its registered device key still gets in: such logins have places of their own.
#[tokio::test]
async fn a_login_proving_the_device_key_gets_in_while_a_flood_fills_the_places() {
    use kaibiao::auth::service::{PasswordChecks, PASSWORD_CHECKS_ADMITTED};
    let app = spawn_app().await;
    let reg = app.login("supplier1").await.register_keys().await;
    let other = app.login("supplier2").await.register_keys().await;
    let checks = app.state.runtime::<PasswordChecks>();
    let flood: Vec<_> = (0..PASSWORD_CHECKS_ADMITTED)
        .map(|_| checks.admit().unwrap())
        .collect();
    let (status, v) = login_from(&app, [127, 0, 0, 1], "supplier1", PASSWORD).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED")
    );
    let challenge = login_challenge(&app, "supplier1").await;
    let proof = |key_id: &str, keys: &crate::common::DeviceKeys| {
        key_proof("supplier1", &challenge, keys, key_id)
    };
    let login = |proof: Value| {
        let app = &app;
        async move {
            let body = json!({"username": "supplier1", "password": PASSWORD, "key_proof": proof});
            let (status, v) = app.call(Method::POST, "/api/auth/login", Some(body)).await;
            (status, v["code"].as_str().unwrap_or_default().to_string())
        }
    };
    // Another's key proves nothing: refused like the rest of the flood.
    assert_eq!(
        login(proof(&other.signing_key_id, &other.keys)).await,
        (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED".to_string())
    );
    assert_eq!(
        login(proof(&reg.signing_key_id, &reg.keys)).await,
        (StatusCode::OK, String::new())
    );
    // A stolen key takes one of those places, not all: while a login of supplier1's with
    // its key waits, another of theirs is refused, and supplier2's own gets in.
    let held = checks.admit_proven("supplier1").unwrap();
    assert_eq!(
        login(proof(&reg.signing_key_id, &reg.keys)).await,
        (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED".to_string())
    );
    let theirs = login_challenge(&app, "supplier2").await;
    let body = json!({"username": "supplier2", "password": PASSWORD,
                      "key_proof": key_proof("supplier2", &theirs, &other.keys, &other.signing_key_id)});
    let (status, v) = app.call(Method::POST, "/api/auth/login", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    drop(held);
    assert_eq!(
        login(proof(&reg.signing_key_id, &reg.keys)).await,
        (StatusCode::OK, String::new())
    );
    drop(flood);
}

#[tokio::test]
async fn oversized_or_broken_user_names_are_refused_before_anything_is_written() {
    let app = spawn_app().await;
    let audit = app.rows("audit_log").await;
    for (name, password) in [
        ("x".repeat(65), "guess".to_string()),
        ("甲".repeat(200_000), "guess".to_string()),
        ("supplier1\0".to_string(), "guess".to_string()),
        (String::new(), "guess".to_string()),
        ("supplier1".to_string(), "p".repeat(5000)),
    ] {
        let (status, v) = app
            .call(
                Method::POST,
                "/api/auth/login",
                Some(json!({"username": name, "password": password})),
            )
            .await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::PAYLOAD_TOO_LARGE,
            "{status} {v}"
        );
    }
    assert_eq!(app.rows("audit_log").await, audit, "nothing written");
    // 64 characters are a name like any other.
    let (status, _) = app
        .call(
            Method::POST,
            "/api/auth/login",
            Some(json!({"username": "名".repeat(64), "password": "guess"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_header_for_changes() {
    let app = spawn_app().await;
    let s = app.login("agency").await;
    let body = app
        .tender_body("CSRF 测试", chrono::Utc::now().timestamp_millis())
        .await;
    let tenders = app.rows("tenders").await;
    let r = s
        .client
        .post(app.url("/api/tenders"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(code(&v), "CSRF_FAILED");
    let r = s
        .client
        .post(app.url("/api/tenders"))
        .header("x-csrf-token", "not-the-token")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.rows("tenders").await, tenders, "nothing written");
    // With the token it goes through.
    let (status, _) = s.post("/api/tenders", body).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn bearer_tokens_work_without_csrf_and_logout_ends_the_session() {
    let app = spawn_app().await;
    let (status, v) = app
        .call(
            Method::POST,
            "/api/auth/tokens",
            Some(json!({"username": "agency", "password": PASSWORD, "label": "cli"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let token = v["token"].as_str().unwrap().to_string();
    let body = app
        .tender_body("CLI 项目", chrono::Utc::now().timestamp_millis())
        .await;
    let r = client()
        .post(app.url("/api/tenders"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = client()
        .get(app.url("/api/me"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let s = app.login("finance").await;
    let (status, _) = s.post("/api/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = s.get("/api/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&v), "UNAUTHENTICATED");
}

#[tokio::test]
async fn health_metrics_and_request_ids() {
    let app = crate::common::spawn_app_configured(|c| {
        c.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let r = client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("x-request-id"));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ok");
    client()
        .get(app.url("/api/announcements"))
        .send()
        .await
        .unwrap();
    // Metrics are served on the internal listener only, and say nothing of bids.
    let (status, _) = app.call(Method::GET, "/metrics", None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "no metrics on the public listener"
    );
    let s = app.login("supplier1").await;
    s.register_keys().await;
    let tender = app.school_tender_id().await;
    let (status, _) = crate::bids::start_bid(&s, &tender).await;
    assert_eq!(status, StatusCode::CREATED);
    let metrics = format!("{}/metrics", app.metrics.as_deref().unwrap());
    let text = client()
        .get(&metrics)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            r#"kaibiao_http_requests_total{method="GET",route="/api/announcements",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(!text.contains("bids"), "bid routes are not counted: {text}");
    // Pages carry a strict content security policy.
    let r = client().get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"));
    let (status, v) = app.call(Method::GET, "/api/no-such-route", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&v), "NOT_FOUND");
}

#[tokio::test]
async fn agencies_list_only_possible_custodians() {
    let app = spawn_app().await;
    let s = app.login("agency").await;
    let (status, users) = s.get("/api/users").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"agency") && names.contains(&"purchaser") && names.contains(&"finance")
    );
    for hidden in ["agency2", "supplier1", "expert1", "admin", "oversight"] {
        assert!(
            !names.contains(&hidden),
            "{hidden} listed to an agency: {names:?}"
        );
    }
    let (_, all) = app
        .login("finance")
        .await
        .get("/api/users?role=supplier")
        .await;
    assert_eq!(all.as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn new_accounts_need_a_password_worth_the_name() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let finance_org = app.org_id("finance").await;
    for weak in ["          ", "finance9-x", "aaaaaaaaaa1"] {
        let (status, v) = admin
            .post(
                "/api/users",
                json!({"username": "finance9", "display_name": "新财政监管员", "role": "finance",
                       "org_id": finance_org, "password": weak}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{weak:?}: {v}");
        assert!(v["fields"]["password"].is_array(), "{v}");
    }
}

/// Ended sessions do not pile up: once an hour the server removes those past their end;
/// a live one stays.
#[tokio::test]
async fn expired_sessions_are_purged_and_live_ones_kept() {
    let (app, clock) = crate::common::spawn_app_at(crate::evaluation::T0).await;
    let count = |user: &'static str| {
        let pool = app.state.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE u.username = $1",
            )
            .bind(user)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    app.login("finance").await;
    assert_eq!(count("finance").await, 1);
    // A day later the first session is long over; a new one is made then.
    clock.advance(24 * 3_600_000);
    app.login("oversight").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count("finance").await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the ended session is still there"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(count("oversight").await, 1, "the live one stays");
}
