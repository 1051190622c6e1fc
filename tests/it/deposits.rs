//! Bid deposits (R-DEP-1, R-DOC-3, R-COL-6): a tender asks at most 2% of its budget; a
//! supplier records its payment or guarantee before bidding, once; who paid and how many is
//! the supervisors' until the deadline; after the tender ends the agency refunds each
//! deposit against its due date, and is alerted when it falls due.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::bids::start_bid;
use crate::common::{code, spawn_app_at, Session, TestApp};

/// 2026-12-01 09:00 China Standard Time, a Tuesday.
const T0: i64 = 1_796_086_800_000;
const DAY: i64 = 86_400_000;
/// `tender_body`'s budget: 123 456.00 yuan, so 2% is 2 469.12 yuan.
const CEILING: i64 = 246_912;

async fn published_with_deposit(app: &TestApp, agency: &Session, deposit: i64) -> String {
    let mut body = app.tender_body("档案馆密集架采购", T0).await;
    body["deposit_fen"] = json!(deposit);
    let (status, t) = agency.post("/api/tenders", body).await;
    assert!(status.is_success(), "{t}");
    let tid = t["id"].as_str().unwrap().to_string();
    let (status, v) = agency
        .post(&format!("/api/tenders/{tid}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    tid
}

fn payment(amount: i64) -> Value {
    json!({"kind": "payment", "amount_fen": amount, "payer_name": "黄石楚禾信息技术有限公司",
           "bank": "中国工商银行黄石分行", "account_no": "1822 0210-0900 1234 567",
           "transfer_ref": "TRX20261201001"})
}

#[tokio::test]
async fn r_dep_1_a_deposit_above_two_percent_of_the_budget_is_refused_and_nothing_changes() {
    let (app, _clock) = spawn_app_at(T0).await;
    let agency = app.login("agency").await;
    let mut body = app.tender_body("档案馆密集架采购", T0).await;
    let (tenders, ledger) = (app.rows("tenders").await, app.rows("ledger_events").await);
    body["deposit_fen"] = json!(CEILING + 1);
    let (status, v) = agency.post("/api/tenders", body.clone()).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "DEPOSIT_TOO_HIGH"),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("2469.12"), "{v}");
    assert_eq!(app.rows("tenders").await, tenders);
    assert_eq!(app.rows("ledger_events").await, ledger);

    // Exactly 2% is allowed; editing it 1 fen higher is refused and changes nothing.
    body["deposit_fen"] = json!(CEILING);
    let (status, t) = agency.post("/api/tenders", body.clone()).await;
    assert!(status.is_success(), "{t}");
    assert_eq!(t["deposit_fen"], CEILING);
    let tid = t["id"].as_str().unwrap();
    let ledger = app.rows("ledger_events").await;
    body["deposit_fen"] = json!(CEILING + 1);
    let (status, v) = agency.put(&format!("/api/tenders/{tid}"), body).await;
    assert_eq!(code(&v), "DEPOSIT_TOO_HIGH", "{status} {v}");
    assert_eq!(app.rows("ledger_events").await, ledger);
    let (_, t) = agency.get(&format!("/api/tenders/{tid}")).await;
    assert_eq!(t["deposit_fen"], CEILING);

    // Published, the announcement states it; an amendment may not shrink the budget
    // below it.
    let (status, v) = agency
        .post(&format!("/api/tenders/{tid}/publish"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, a) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/announcements/{tid}"),
            None,
        )
        .await;
    assert_eq!(a["deposit_fen"], CEILING);
    let (status, v) = agency
        .post(
            &format!("/api/tenders/{tid}/amendments"),
            json!({"reason": "预算调整", "changes": {"lots": [{"name": "第1包", "budget_fen": 10_000_000}]}}),
        )
        .await;
    assert_eq!(code(&v), "DEPOSIT_TOO_HIGH", "{status} {v}");
}

#[tokio::test]
async fn r_dep_1_suppliers_record_deposits_before_bidding_secret_until_the_deadline_then_refunded()
{
    let (app, clock) = spawn_app_at(T0).await;
    let agency = app.login("agency").await;
    let tid = published_with_deposit(&app, &agency, 200_000).await;
    let deadline = T0 + 20 * DAY;
    let s1 = app.login("supplier1").await;
    let s2 = app.login("supplier2").await;

    // No bid without a deposit.
    s1.register_keys().await;
    let (status, v) = start_bid(&s1, &tid).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::FORBIDDEN, "DEPOSIT_MISSING"),
        "{v}"
    );
    let url = format!("/api/tenders/{tid}/deposit");
    let (status, v) = s1.post(&url, payment(199_999)).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "DEPOSIT_BELOW_REQUIRED"),
        "{v}"
    );
    let (status, d) = s1.post(&url, payment(200_000)).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["kind"], "payment");
    assert_eq!(d["account_no"], "18220210090012345 67".replace(' ', ""));
    // A second click: the same record, nothing more written.
    let register = app.rows("bid_register_events").await;
    clock.set(T0 + 60_000);
    let (_, again) = s1.post(&url, payment(300_000)).await;
    assert_eq!(
        (again["recorded_at"].as_i64(), again["amount_fen"].as_i64()),
        (Some(T0), Some(200_000))
    );
    assert_eq!(app.rows("bid_register_events").await, register);
    let (status, v) = start_bid(&s1, &tid).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");

    // A guarantee must cover the deadline.
    let guarantee = |until: i64| {
        json!({"kind": "guarantee", "amount_fen": 200_000, "issuer": "中国人民财产保险股份有限公司黄石分公司",
               "guarantee_no": "BH-2026-0001", "valid_until": until})
    };
    let (status, v) = s2.post(&url, guarantee(deadline - 1)).await;
    assert_eq!(
        (status, code(&v)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "GUARANTEE_EXPIRES_BEFORE_DEADLINE"
        ),
        "{v}"
    );
    let (status, v) = s2.post(&url, guarantee(deadline + 90 * DAY)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, mine) = s2.get(&format!("{url}/mine")).await;
    assert_eq!(mine["guarantee_no"], "BH-2026-0001");
    let (status, _) = app
        .login("supplier3")
        .await
        .get(&format!("{url}/mine"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Before the deadline: neither who nor how many, for the agency or the purchaser, nor
    // in the public ledger; finance sees both.
    let list = format!("/api/tenders/{tid}/deposits");
    for s in [&agency, &app.login("purchaser").await] {
        let (status, v) = s.get(&list).await;
        assert_eq!(
            (status, code(&v)),
            (StatusCode::FORBIDDEN, "FORBIDDEN"),
            "{v}"
        );
    }
    let (_, public) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/tenders/{tid}/ledger"),
            None,
        )
        .await;
    let public = public.to_string();
    assert!(
        !public.contains("deposit_recorded") && !public.contains("1822021"),
        "{public}"
    );
    let finance = app.login("finance").await;
    let (_, all) = finance.get(&list).await;
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    // The account is in the register only as its digest.
    let register = kaibiao::ledger::repo::register(&app.state.db.pool, &tid)
        .await
        .unwrap();
    let text = serde_json::to_string(&register.events).unwrap();
    assert!(
        text.contains("deposit_recorded") && !text.contains("1822021"),
        "{text}"
    );

    // A tender without a deposit takes none.
    let school = app.school_tender_id().await;
    let (status, v) = s1
        .post(&format!("/api/tenders/{school}/deposit"), payment(1))
        .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "DEPOSIT_NOT_REQUIRED"),
        "{v}"
    );

    // After the deadline the agency sees them; no refund while the tender runs.
    clock.set(deadline);
    let agency = app.login("agency").await;
    let (status, all) = agency.get(&list).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert!(all[0]["refund_due_at"].is_null(), "{all}");
    let s1_org = app.org_id("supplier1").await;
    let refund = format!("/api/tenders/{tid}/deposits/{s1_org}/refund");
    let (status, v) = agency.post(&refund, json!({})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "DEPOSIT_NOT_REFUNDABLE"),
        "{v}"
    );

    // No complete bid: the opening fails (流标), and the deposits are due back within 5
    // working days: Monday 2026-12-21 09:00 → 24:00 on Monday 12-28.
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    let (status, v) = agency
        .post(
            &format!("/api/tenders/{tid}/opening"),
            json!({"type": "start"}),
        )
        .await;
    assert_eq!(
        (status, v["phase"].as_str()),
        (StatusCode::OK, Some("failed")),
        "{v}"
    );
    let due = deadline + 7 * DAY + 15 * 3_600_000;
    let (_, all) = agency.get(&list).await;
    assert_eq!(all[0]["refund_due_at"], due, "{all}");
    assert_eq!(all[0]["overdue"], false);

    let (status, d) = agency
        .post(&refund, json!({"reference": "TK20261222001"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["refunded_at"], deadline);
    assert_eq!(d["refund_due_at"], due);
    let ledger = app.rows("ledger_events").await;
    let (_, again) = agency.post(&refund, json!({})).await;
    assert_eq!(again["refund_ref"], "TK20261222001");
    assert_eq!(app.rows("ledger_events").await, ledger);
    // The register closed at the deadline: the refund is in the tender's chain, and the
    // whole ledger still verifies (`bids_sealed` names the register's last head).
    let (_, l) = app
        .call(
            reqwest::Method::GET,
            &format!("/api/tenders/{tid}/ledger"),
            None,
        )
        .await;
    assert!(l.to_string().contains("deposit_refunded"), "{l}");
    let l: kaibiao::ledger::Ledger = serde_json::from_value(l).unwrap();
    assert_eq!(kaibiao::ledger::verify(&l), Ok(()));

    // supplier2's guarantee is not released by 24:00 of the 5th working day: overdue, and
    // the agency is alerted.
    clock.set(due);
    kaibiao::alerts::service::run_due(&app.state).await.unwrap();
    let agency = app.login("agency").await;
    let (_, all) = agency.get(&list).await;
    let late: Vec<bool> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["overdue"].as_bool().unwrap())
        .collect();
    assert_eq!(late, vec![false, true], "{all}");
    let (_, alerts) = agency.get("/api/alerts").await;
    assert!(
        alerts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["link"] == format!("/deposits.html?tender={tid}") && a["stage"] == "due"),
        "{alerts}"
    );
}

#[tokio::test]
async fn r_dep_1_a_tender_cancelled_before_its_deadline_shows_its_deposits_to_the_agency_for_refund(
) {
    let (app, clock) = spawn_app_at(T0).await;
    let agency = app.login("agency").await;
    let tid = published_with_deposit(&app, &agency, 200_000).await;
    let s1 = app.login("supplier1").await;
    let (status, v) = s1
        .post(&format!("/api/tenders/{tid}/deposit"), payment(200_000))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // Cancelled on Friday 2026-12-04: no opening will follow, the agency has deposits to
    // return by 24:00 of Friday 12-11, the 5th working day.
    let cancelled_at = T0 + 3 * DAY;
    clock.set(cancelled_at);
    let (agency, s1) = (app.login("agency").await, app.login("supplier1").await);
    let (status, v) = agency
        .post(
            &format!("/api/tenders/{tid}/cancel"),
            json!({"reason": "采购需求变更"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let due = cancelled_at + 7 * DAY + 15 * 3_600_000;
    let (status, all) = agency.get(&format!("/api/tenders/{tid}/deposits")).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all[0]["refund_due_at"], due, "{all}");
    let (_, mine) = s1.get(&format!("/api/tenders/{tid}/deposit/mine")).await;
    assert_eq!(mine["refund_due_at"], due, "{mine}");
    let org = app.org_id("supplier1").await;
    let (status, d) = agency
        .post(
            &format!("/api/tenders/{tid}/deposits/{org}/refund"),
            json!({"reference": "TK001"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(
        (d["refunded_at"].as_i64(), d["overdue"].as_bool()),
        (Some(cancelled_at), Some(false))
    );
    // Finance's analytics count it refunded in time (the demo's past has no deposits).
    let (status, a) = app.login("finance").await.get("/api/analytics").await;
    assert_eq!(status, StatusCode::OK, "{a}");
    let row = a["figures"]["timeliness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "R-DEP-1" && r["name"] == "return")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (&row["due"], &row["on_time"], &row["overdue"]),
        (&json!(1), &json!(1), &json!(0)),
        "{row}"
    );
    // Before the deadline the refund stays in the register, withheld from the public;
    // finance's copy verifies.
    let path = format!("/api/tenders/{tid}/ledger");
    let (_, public) = app.call(reqwest::Method::GET, &path, None).await;
    let public = public.to_string();
    assert!(
        !public.contains("deposit_recorded") && !public.contains("deposit_refunded"),
        "{public}"
    );
    let (_, l) = app.login("finance").await.get(&path).await;
    assert!(
        l["bid_register"].to_string().contains("deposit_refunded"),
        "{l}"
    );
    let l: kaibiao::ledger::Ledger = serde_json::from_value(l).unwrap();
    assert_eq!(kaibiao::ledger::verify(&l), Ok(()));
    // Another agency's user cannot: the tender is not theirs.
    let (status, _) = app
        .login("agency2")
        .await
        .post(
            &format!("/api/tenders/{tid}/deposits/{org}/refund"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn r_col_6_two_deposits_from_one_account_are_warned_to_the_supervisors_after_the_opening() {
    let (app, clock) = spawn_app_at(T0).await;
    let agency = app.login("agency").await;
    let tid = published_with_deposit(&app, &agency, 200_000).await;
    // supplier1 and supplier3 pay from one account (spaced differently); supplier2 its own.
    let url = format!("/api/tenders/{tid}/deposit");
    for (user, account) in [
        ("supplier1", "1822 0210-0900 1234 567"),
        ("supplier2", "6222 0202 0000 9876"),
        ("supplier3", "18220210090012345 67"),
    ] {
        let mut body = payment(200_000);
        body["account_no"] = json!(account);
        let (status, v) = app.login(user).await.post(&url, body).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let bids = crate::evaluation::bid_and_open(
        &app,
        &clock,
        &tid,
        T0 + 20 * DAY,
        &[100_000, 104_000, 111_000],
        b"proposal",
    )
    .await;
    let path = format!("/api/tenders/{tid}/warnings");
    let (status, _) = app.login("supplier2").await.get(&path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, v) = app.login("finance").await.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let found: Vec<&Value> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "same_account")
        .collect();
    assert_eq!(found.len(), 1, "{v}");
    assert_eq!(found[0]["rule"], "R-COL-6");
    assert_eq!(found[0]["evidence"]["value"], "1822021009001234567");
    let mut named: Vec<String> = serde_json::from_value(found[0]["bids"].clone()).unwrap();
    named.sort();
    let mut expected = vec![bids[0].clone(), bids[2].clone()];
    expected.sort();
    assert_eq!(named, expected);
}
