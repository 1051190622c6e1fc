//! After the award (R-AWARD-1): the result notice and the letters, signed by the platform,
//! their deadline's alerts on the holiday calendar, and `kaibiao verify` on them.

use reqwest::StatusCode;
use serde_json::{json, Value};

use fantoccini::Locator;

use crate::alerts::{about, cst, reported, run, stages};
use crate::browser::{as_user, browser, click_long};
use crate::common::{code, spawn_app_at, TestApp};
use crate::evalpage::{eval_command, view};
use crate::evaluation::T0;
use crate::hall::{text_of, wait_text};

async fn result(app: &TestApp, user: Option<&str>, tender: &str) -> Value {
    let path = format!("/api/tenders/{tender}/result");
    let (status, v) = match user {
        Some(u) => app.login(u).await.get(&path).await,
        None => {
            let r = reqwest::get(app.url(&path)).await.unwrap();
            let status = r.status();
            (status, r.json().await.unwrap())
        }
    };
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

async fn publish(app: &TestApp, user: &str, tender: &str) -> (StatusCode, Value) {
    app.login(user)
        .await
        .post(
            &format!("/api/tenders/{tender}/result"),
            json!({"type": "publish"}),
        )
        .await
}

/// `kaibiao verify FILE` on `doc`: its exit code and what it printed.
pub(crate) fn verify(app: &TestApp, name: &str, doc: &Value) -> (i32, String) {
    let path = app.dir.path().join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let out = std::process::Command::new(crate::cli::BIN)
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The first supplier user of the organisation `org`.
pub(crate) async fn supplier_user(app: &TestApp, org: &str) -> String {
    sqlx::query_scalar(
        "SELECT username FROM users WHERE org_id = $1 AND role = 'supplier' \
         ORDER BY username LIMIT 1",
    )
    .bind(org)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap()
}

/// The demo's opening tender reported on Tuesday 2026-12-29 and its winner confirmed on
/// Thursday 12-31 at 10:00. Returns the tender.
pub(crate) async fn awarded(app: &TestApp, clock: &kaibiao::clock::ManualClock) -> String {
    let (tender, _) = reported(app, clock, cst(2026, 12, 29, 10, 0)).await;
    clock.set(cst(2026, 12, 31, 10, 0));
    let purchaser = app.login("purchaser").await;
    eval_command(&purchaser, &tender, json!({"type": "confirm_winner"})).await;
    tender
}

#[tokio::test]
async fn r_award_1_the_agency_publishes_the_result_in_the_page_and_the_winner_reads_its_award_letter(
) {
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = spawn_app_at(T0).await;
    let tender = awarded(&app, &clock).await;
    let page = app.url(&format!("/result.html?tender={tender}"));

    // The public sees the notice is due; the agency publishes it from the page.
    c.delete_all_cookies().await.unwrap();
    c.goto(&page).await.unwrap();
    let pending = wait_text(c, "#res-pending", "2027-01-05 24:00").await;
    assert!(pending.contains("结果公告应于"), "{pending}");
    assert!(c.find(Locator::Css("#res-publish")).await.is_err());
    as_user(c, &app, "agency").await;
    c.goto(&page).await.unwrap();
    click_long(c, "#res-publish").await;
    let panel = wait_text(c, "#res-notice", "评审专家名单").await;
    let (_, v) = app
        .login("agency")
        .await
        .get(&format!("/api/tenders/{tender}/result"))
        .await;
    let doc = &v["notice"]["document"];
    let winner = &doc["lots"][0]["winner"];
    assert!(panel.contains(winner["name"].as_str().unwrap()), "{panel}");
    for p in doc["panel"].as_array().unwrap() {
        assert!(
            panel.contains(p["name"].as_str().unwrap()),
            "{p} in {panel}"
        );
    }
    let words = text_of(c, "#res-price").await;
    assert!(
        words.contains(winner["price_words"].as_str().unwrap()),
        "{words}"
    );
    let letters = text_of(c, "#res-letters-table").await;
    assert!(
        letters.contains("中标（成交）通知书") && letters.contains("结果通知书"),
        "{letters}"
    );

    // The winner reads its award letter with the contract's deadline.
    let user = supplier_user(&app, winner["org_id"].as_str().unwrap()).await;
    as_user(c, &app, &user).await;
    c.goto(&page).await.unwrap();
    let letter = wait_text(c, "#res-letter", "中标（成交）通知书").await;
    assert!(letter.contains("第 1 名"), "{letter}");
    // Letter of 12-31: the 30th day is Saturday 2027-01-30, so Monday 02-01.
    assert!(letter.contains("2027-02-01 24:00"), "{letter}");
    assert!(
        c.find(Locator::Css("#res-letters-table")).await.is_err(),
        "only the tender's side sees the list"
    );
}

#[tokio::test]
async fn r_award_1_the_result_notice_names_the_winner_and_the_panel_and_each_bidder_gets_its_own_signed_letter(
) {
    let (app, clock) = spawn_app_at(T0).await;
    // The report reaches the purchaser on Tuesday 2026-12-29; the winner is confirmed on
    // Thursday 12-31 at 10:00. Two working days after: 2027-01-01 is New Year's Day, 01-02
    // and 01-03 a weekend, so Monday 01-04 and Tuesday 01-05: due at 01-05 24:00.
    let (tender, _) = reported(&app, &clock, cst(2026, 12, 29, 10, 0)).await;
    let before = result(&app, None, &tender).await;
    assert_eq!(before["notice"], Value::Null);
    assert_eq!(before["awarded_at"], Value::Null);
    let (status, v) = publish(&app, "agency", &tender).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION"),
        "no result before the award: {v}"
    );
    clock.set(cst(2026, 12, 31, 10, 0));
    let purchaser = app.login("purchaser").await;
    eval_command(&purchaser, &tender, json!({"type": "confirm_winner"})).await;
    let due = cst(2027, 1, 6, 0, 0);
    let awaiting = result(&app, Some("agency"), &tender).await;
    assert_eq!(awaiting["due_at"], due, "{awaiting}");
    assert_eq!(awaiting["may_publish"], true);
    assert_eq!(result(&app, None, &tender).await["may_publish"], false);

    // The agency is told the working day before the last day (Monday 01-04, not the
    // holiday), then at the deadline; finance and oversight only once it has passed.
    clock.set(cst(2027, 1, 4, 0, 0) - 1);
    run(&app).await;
    assert!(about(&app, "agency", &tender).await.is_empty());
    clock.set(cst(2027, 1, 4, 0, 0));
    run(&app).await;
    let seen = about(&app, "agency", &tender).await;
    assert_eq!(stages(&seen), ["upcoming"], "{seen:?}");
    assert_eq!(seen[0]["rule"], "R-AWARD-1");
    assert_eq!(seen[0]["link"], format!("/result.html?tender={tender}"));
    clock.set(due - 1);
    run(&app).await;
    assert_eq!(stages(&about(&app, "agency", &tender).await), ["upcoming"]);
    assert!(about(&app, "finance", &tender).await.is_empty());
    clock.set(due);
    run(&app).await;
    assert_eq!(
        stages(&about(&app, "agency", &tender).await),
        ["due", "upcoming"]
    );
    for supervisor in ["finance", "oversight"] {
        let escalated = about(&app, supervisor, &tender).await;
        assert_eq!(
            stages(&escalated),
            ["overdue"],
            "{supervisor}: {escalated:?}"
        );
    }

    // Published late, by the agency only, once.
    let ledger_before = crate::evaluation::ledger_of(&app, &tender).await["events"]
        .as_array()
        .unwrap()
        .len();
    for user in ["purchaser", "supplier1", "finance"] {
        let (status, v) = publish(&app, user, &tender).await;
        assert_eq!(
            (status, code(&v)),
            (StatusCode::FORBIDDEN, "FORBIDDEN"),
            "{user}"
        );
    }
    clock.set(due + 3_600_000);
    let (status, ack) = publish(&app, "agency", &tender).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let (status, v) = publish(&app, "agency", &tender).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION")
    );
    let ledger = crate::evaluation::ledger_of(&app, &tender).await;
    let events = ledger["events"].as_array().unwrap();
    assert_eq!(events.len(), ledger_before + 1);
    let published = events.last().unwrap();
    assert_eq!(published["kind"], "result_published");
    assert_eq!(published["body"]["notice_sha256"], ack["notice_sha256"]);

    // The public notice: the winner, its price and main terms, the panel by name.
    let public = result(&app, None, &tender).await;
    let notice = &public["notice"];
    let doc = &notice["document"];
    assert_eq!(doc["type"], "result_notice");
    assert_eq!(notice["document_sha256"], ack["notice_sha256"]);
    assert_eq!(public["letter"], Value::Null, "no letter for the public");
    let lot = &doc["lots"][0];
    assert_eq!(lot["outcome"], "awarded", "{doc}");
    let winner = &lot["winner"];
    let price = winner["price_fen"].as_i64().unwrap();
    assert!(price > 0);
    assert_eq!(
        winner["price_words"],
        kaibiao::evaluation::words::amount_in_words(price)
    );
    assert!(winner["score"].as_str().is_some(), "{winner}");
    let finance_view = view(&app.login("finance").await, &tender).await;
    let names: Vec<&str> = finance_view["panel"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "accepted")
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let named: Vec<&str> = doc["panel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(named, names, "the panel named in the notice");
    assert!(!named.is_empty());

    // Each bidder its own letter: the winner the award letter with the contract's
    // deadline (30 days, R-CON-1), every other its own score and rank and nothing of
    // another's.
    let letters = result(&app, Some("agency"), &tender).await["letters"].clone();
    let letters = letters.as_array().unwrap();
    assert_eq!(letters.len(), ack["letters"].as_u64().unwrap() as usize);
    assert!(letters.len() >= 3, "{letters:?}");
    let mut ranks = Vec::new();
    for l in letters {
        let org = l["org_id"].as_str().unwrap();
        let user = supplier_user(&app, org).await;
        let mine = result(&app, Some(&user), &tender).await;
        let letter = &mine["letter"];
        assert_eq!(letter["document"]["to"]["org_id"], org, "{user}");
        assert_eq!(letter["document_sha256"], l["letter_sha256"]);
        let lots = letter["document"]["lots"].as_array().unwrap();
        assert_eq!(lots.len(), 1);
        let rank = lots[0]["rank"].as_i64().unwrap();
        assert_eq!(lots[0]["ranked"], letters.len());
        assert!(lots[0]["score"].as_str().is_some());
        let text = letter.to_string();
        for other in letters.iter().filter(|o| o["org_id"] != org) {
            assert!(!text.contains(other["org_id"].as_str().unwrap()), "{user}");
        }
        if org == winner["org_id"] {
            assert_eq!(l["kind"], "award");
            assert_eq!(letter["document"]["type"], "award_letter");
            assert_eq!(rank, 1);
            // Letter of 2027-01-06: the 30th day is 02-05, in the Spring Festival
            // (02-05..02-08 off), so the last day is Tuesday 02-09, due at its 24:00.
            assert_eq!(
                letter["document"]["contract_due_at"],
                cst(2027, 2, 10, 0, 0)
            );
        } else {
            assert_eq!(letter["document"]["type"], "result_letter");
            assert!(rank > 1);
        }
        ranks.push(rank);
    }
    ranks.sort();
    assert_eq!(ranks, (1..=letters.len() as i64).collect::<Vec<_>>());

    // Offline: the notice and a letter verify; one byte changed does not.
    let (rc, out) = verify(&app, "notice.json", notice);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("结果公告"), "{out}");
    let mut tampered = notice.clone();
    tampered["document"]["lots"][0]["winner"]["price_fen"] = json!(price + 1);
    let (rc, out) = verify(&app, "tampered.json", &tampered);
    assert_eq!(rc, 1, "{out}");
    let mut tampered = notice.clone();
    let mut doc = tampered["document"].clone();
    doc["tender"]["title"] = json!(format!("{}。", doc["tender"]["title"].as_str().unwrap()));
    tampered["document_sha256"] = json!(kaibiao::award::notice::digest(&doc));
    tampered["document"] = doc;
    let (rc, out) = verify(&app, "resigned.json", &tampered);
    assert_eq!(
        rc, 1,
        "a matching digest without the platform's signature: {out}"
    );
    assert!(out.contains("signature"), "{out}");
}
