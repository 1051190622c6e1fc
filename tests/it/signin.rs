//! Sign-in to the opening hall (签到, #20): each bidder signs a statement with its device
//! key before the start; the server keeps the time. Before the deadline a sign-in is as
//! secret as the bids (in the bid register, read by supervisors only); from the deadline
//! the host and the hall see who signed in; the signed record lists each sign-in with its
//! certificate, and an offline check catches a sign-in the platform made up.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::bids::{bidder_kb, seal_sheet, sheet, start_bid, upload_all};
use crate::common::{b64, code, spawn_app_at, Registered, Session, TestApp};

const T0: i64 = 1_796_086_800_000;
const MINUTE: i64 = 60_000;

async fn sign_in(
    s: &Session,
    tender: &str,
    reg: &Registered,
    statement: &str,
) -> (StatusCode, Value) {
    let signature = b64(&reg.keys.sign(statement.as_bytes()));
    s.post(
        &format!("/api/tenders/{tender}/opening"),
        json!({"type": "sign_in", "key_id": reg.signing_key_id, "signature": signature}),
    )
    .await
}

/// `who`'s view of the opening's sign-ins: (role, name).
async fn signed_in(app: &TestApp, who: &str, tender: &str) -> Vec<(String, String)> {
    let (status, v) = app
        .login(who)
        .await
        .get(&format!("/api/tenders/{tender}/opening"))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["sign_ins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["role"].as_str().unwrap().to_string(),
                x["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// What `who` is to sign, checking when the window opens.
async fn statement(app: &TestApp, who: &str, tender: &str, deadline: i64) -> String {
    let (_, v) = app
        .login(who)
        .await
        .get(&format!("/api/tenders/{tender}/opening"))
        .await;
    let mine = &v["me"]["sign_in"];
    assert_eq!(mine["opens_at"], deadline - 60 * MINUTE, "{v}");
    mine["statement"].as_str().unwrap().to_string()
}

/// A demo user's keys as its key file holds them (the custodians' keys: not replaced).
async fn demo_keys(app: &TestApp, s: &Session, name: &str) -> Registered {
    let file =
        std::fs::read_to_string(app.dir.path().join(format!("demo-keys/{name}.kbkey"))).unwrap();
    let (_, keys) =
        kaibiao::pki::keyfile::DeviceKeys::from_file(&file, crate::common::PASSWORD).unwrap();
    let (_, mine) = s.get("/api/keys").await;
    let id = |purpose: &str| {
        mine.as_array()
            .unwrap()
            .iter()
            .find(|k| k["purpose"] == purpose && k["status"] == "active")
            .unwrap_or_else(|| panic!("{name} has no {purpose} key: {mine}"))["key_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    Registered {
        signing_key_id: id("signing"),
        encryption_key_id: id("encryption"),
        keys,
    }
}

fn kinds(events: &Value) -> Vec<&str> {
    events
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn bidders_sign_in_with_their_keys_secretly_before_the_deadline_and_the_record_lists_it() {
    let (app, clock) = spawn_app_at(T0).await;
    let t = app.school_tender().await;
    let tender = t["id"].as_str().unwrap().to_string();
    let deadline = t["bid_deadline"].as_i64().unwrap();
    assert!(deadline - T0 > 60 * MINUTE, "the window is not open at T0");

    let mut bidders = Vec::new();
    for (i, price) in [88_800_000_i64, 91_234_500, 86_000_000].iter().enumerate() {
        let user = format!("supplier{}", i + 1);
        let s = app.login(&user).await;
        let reg = s.register_keys().await;
        let (_, start) = start_bid(&s, &tender).await;
        let container = seal_sheet(&start, sheet(*price, &user), b"proposal", 1024);
        let bid = start["bid_id"].as_str().unwrap().to_string();
        let (status, v) = upload_all(&s, &bid, &container, 4096).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let kb = b64(&bidder_kb(&container, &reg));
        bidders.push((user, bid, kb, reg));
    }
    let s1 = app.login("supplier1").await;
    let st1 = statement(&app, "supplier1", &tender, deadline).await;
    assert!(st1.starts_with("kaibiao-sign-in-v1\n"), "{st1}");

    // Too early: the window opens an hour before the deadline.
    let (status, v) = sign_in(&s1, &tender, &bidders[0].3, &st1).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "SIGN_IN_NOT_OPEN"),
        "{v}"
    );

    clock.set(deadline - 30 * MINUTE);
    // (Sessions made days before have expired by then.)
    let s1 = app.login("supplier1").await;
    // A signature over anything else, or another's key, is refused; so is a non-bidder.
    let (status, v) = sign_in(&s1, &tender, &bidders[0].3, "kaibiao-sign-in-v1\nother").await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "SIGNATURE_INVALID")
    );
    let (_, v) = sign_in(&s1, &tender, &bidders[1].3, &st1).await;
    assert_eq!(code(&v), "SIGNATURE_INVALID", "{v}");
    let outsider = app.login("supplier4").await;
    let reg4 = outsider.register_keys().await;
    let (status, v) = sign_in(&outsider, &tender, &reg4, &st1).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::FORBIDDEN, "FORBIDDEN"),
        "{v}"
    );

    let (status, v) = sign_in(&s1, &tender, &bidders[0].3, &st1).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["signed_in_at"], deadline - 30 * MINUTE);
    let (status, v) = sign_in(&s1, &tender, &bidders[0].3, &st1).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ALREADY_SIGNED_IN"),
        "{v}"
    );

    // A supervisor signs in as present (到场): everyone in the hall sees that.
    clock.set(deadline - 29 * MINUTE);
    let watcher = app.login("oversight").await;
    let reg = watcher.register_keys().await;
    let st = statement(&app, "oversight", &tender, deadline).await;
    let (status, v) = sign_in(&watcher, &tender, &reg, &st).await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // Before the deadline only supervisors see the bidder's; the bidder sees its own.
    let all = signed_in(&app, "finance", &tender).await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0].0, "bidder");
    for who in ["agency", "purchaser", "supplier1", "supplier2"] {
        let seen = signed_in(&app, who, &tender).await;
        assert_eq!(seen.len(), 1, "{who}: {seen:?}");
        assert_eq!(seen[0].0, "oversight", "{who}: {seen:?}");
    }
    let (_, mine) = s1.get(&format!("/api/tenders/{tender}/opening")).await;
    assert_eq!(
        mine["me"]["sign_in"]["signed_in_at"],
        deadline - 30 * MINUTE
    );
    let (_, public) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/tenders/{tender}/ledger"),
            None,
        )
        .await;
    // The public chain has the supervisor's sign-in, nothing of the bidder's.
    let roles: Vec<&Value> = public["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "signed_in")
        .map(|e| &e["body"]["role"])
        .collect();
    assert_eq!(roles, [&json!("oversight")], "{public}");
    let (_, ledger) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}/ledger"))
        .await;
    assert!(kinds(&ledger["bid_register"]["events"]).contains(&"signed_in"));

    // At the deadline the bids are sealed, the sign-in with them; supplier2 signs in after
    // it (into the tender's chain), and every member of the hall sees all three.
    clock.set(deadline);
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    let s2 = app.login("supplier2").await;
    let st2 = statement(&app, "supplier2", &tender, deadline).await;
    let (status, v) = sign_in(&s2, &tender, &bidders[1].3, &st2).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    for who in ["agency", "purchaser", "supplier3", "oversight"] {
        assert_eq!(signed_in(&app, who, &tender).await.len(), 3, "{who}");
    }

    // Sign-in ends when the host starts.
    crate::evaluation::opening_cmd(&app, "agency", &tender, json!({"type": "start"})).await;
    let s3 = app.login("supplier3").await;
    let st3 = statement(&app, "supplier3", &tender, deadline).await;
    let (status, v) = sign_in(&s3, &tender, &bidders[2].3, &st3).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "SIGN_IN_NOT_OPEN"),
        "{v}"
    );

    // The host signs in as present during the opening, with its key file's key.
    clock.set(deadline + MINUTE);
    let host = app.login("agency").await;
    let host_keys = demo_keys(&app, &host, "agency").await;
    let st = statement(&app, "agency", &tender, deadline).await;
    let (status, v) = sign_in(&host, &tender, &host_keys, &st).await;
    assert_eq!(status, StatusCode::OK, "{v}");

    let bids: Vec<(String, String, String)> = bidders
        .iter()
        .map(|(u, b, k, _)| (u.clone(), b.clone(), k.clone()))
        .collect();
    crate::evaluation::open_and_confirm(&app, &tender, &bids).await;

    // The record lists both sign-ins with their certificates and checks offline, the
    // whole ledger with its register included.
    let (status, bundle) = app
        .login("supplier3")
        .await
        .get(&format!("/api/tenders/{tender}/opening/record"))
        .await;
    assert_eq!(status, StatusCode::OK, "{bundle}");
    let sign_ins = bundle["record"]["sign_ins"].as_array().unwrap().clone();
    let roles: Vec<&str> = sign_ins
        .iter()
        .map(|s| s["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["bidder", "oversight", "bidder", "host"],
        "{sign_ins:?}"
    );
    assert_eq!(sign_ins[0]["signed_in_at"], deadline - 30 * MINUTE);
    assert!(sign_ins.iter().all(|s| s["cert_pem"]
        .as_str()
        .unwrap()
        .contains("BEGIN CERTIFICATE")));
    let mut b: kaibiao::opening::record::RecordBundle =
        serde_json::from_value(bundle.clone()).unwrap();
    kaibiao::opening::record::verify(&b).expect("the record verifies");
    // After the record is signed no one signs in any more.
    let (status, v) = sign_in(&host, &tender, &host_keys, &st).await;
    assert_eq!(code(&v), "SIGN_IN_NOT_OPEN", "{status} {v}");

    // A sign-in the platform made up — its own record signature intact — is caught: the
    // bidder's signature is not over the statement.
    // (Whole, such a record would not match the ledger's digest of it: the sign-ins are
    // checked on their own here.)
    b.signed.record["sign_ins"][1]["signature"] = sign_ins[0]["signature"].clone();
    let err = kaibiao::opening::record::verify_sign_ins(&b.signed.record, &b.ca_pem).unwrap_err();
    assert!(err.to_string().contains("sign-in"), "{err}");
}
