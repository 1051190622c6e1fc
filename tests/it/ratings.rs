//! Four-party credit ratings after acceptance (docs/ratings.md) over HTTP with the demo's
//! evaluated tender: each party rates the others on its criteria once; the rated read
//! only their aggregates; finance reads every rating; the public ledger holds digests.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::alerts::cst;
use crate::common::{code, spawn_app_at, Session, TestApp};
use crate::evaluation::{events_in, ledger_of, T0};
use crate::fulfilment::{accept, signed};

async fn rate(s: &Session, tender: &str, body: Value) -> (StatusCode, Value) {
    let mut cmd = body;
    cmd["type"] = json!("rate");
    s.post(&format!("/api/tenders/{tender}/ratings"), cmd).await
}

async fn ratings(s: &Session, tender: &str) -> Value {
    let (status, v) = s.get(&format!("/api/tenders/{tender}/ratings")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// What `s` has to rate, as (party, id) pairs.
fn targets(v: &Value) -> Vec<(String, String)> {
    v["to_rate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ratee_party"].as_str().unwrap().to_string(),
                r["ratee"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A seated expert's username on `tender`.
async fn seated_expert(app: &TestApp, tender: &str) -> String {
    sqlx::query_scalar(
        "SELECT u.username FROM evaluation_panel p JOIN experts e ON e.id = p.expert_id \
         JOIN users u ON u.id = e.user_id WHERE p.tender_id = $1 AND p.status = 'accepted' \
         ORDER BY p.seat LIMIT 1",
    )
    .bind(tender)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn r_cred_four_parties_rate_each_other_once_after_acceptance_and_see_only_their_aggregates() {
    let (app, clock) = spawn_app_at(T0).await;
    let s = signed(&app, &clock, None).await;
    let t = &s.tender;
    clock.set(cst(2027, 2, 8, 9, 0));
    let purchaser = app.login("purchaser").await;
    let v = ratings(&purchaser, t).await;
    assert_eq!(v["my_party"], "purchaser");
    assert_eq!(v["to_rate"], json!([]), "nothing to rate before acceptance");
    let (supplier_org, purchaser_org): (String, String) =
        sqlx::query_as("SELECT supplier_org_id, purchaser_org_id FROM contracts WHERE id = $1")
            .bind(&s.contract)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    let good = json!({"quality": 5, "timeliness": 4, "service": 4, "integrity": 5});
    let body = |party: &str, ratee: &str, scores: &Value, comment: &str| {
        json!({"contract_id": s.contract, "ratee_party": party, "ratee": ratee,
               "scores": scores, "comment": comment})
    };
    let (status, v) = rate(&purchaser, t, body("supplier", &supplier_org, &good, "")).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "RATING_NOT_OPEN")
    );

    accept(
        &app,
        &s,
        json!([{"name": "课桌椅", "passed": true}]),
        json!([]),
    )
    .await;
    let purchaser = app.login("purchaser").await;
    let v = ratings(&purchaser, t).await;
    let mine = targets(&v);
    assert!(
        mine.contains(&("supplier".into(), supplier_org.clone())),
        "{mine:?}"
    );
    assert!(mine.iter().any(|(p, _)| p == "agency"), "{mine:?}");
    let experts: Vec<&(String, String)> = mine.iter().filter(|(p, _)| p == "expert").collect();
    assert!(experts.len() >= 3, "the seated panel: {mine:?}");

    // Every criterion 1–5, a low score with its reason, the contract's own parties, once.
    let before = events_in(&app, t).await;
    for (scores, ratee, party, field) in [
        (
            json!({"quality": 5}),
            supplier_org.as_str(),
            "supplier",
            "scores",
        ),
        (
            json!({"quality": 0, "timeliness": 4, "service": 4, "integrity": 5}),
            supplier_org.as_str(),
            "supplier",
            "scores",
        ),
        (
            json!({"quality": 2, "timeliness": 4, "service": 4, "integrity": 5}),
            supplier_org.as_str(),
            "supplier",
            "comment",
        ),
        (good.clone(), "someone-else", "supplier", "ratee"),
        (good.clone(), "x", "purchaser", "ratee_party"),
    ] {
        let (status, v) = rate(&purchaser, t, body(party, ratee, &scores, "")).await;
        assert_eq!(
            (status, code(&v)),
            (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION"),
            "{scores}"
        );
        assert!(v["fields"].get(field).is_some(), "{field}: {v}");
    }
    assert_eq!(events_in(&app, t).await, before, "refusals write nothing");
    let low = json!({"quality": 2, "timeliness": 4, "service": 4, "integrity": 4});
    let ack = rate(
        &purchaser,
        t,
        body("supplier", &supplier_org, &low, "讲台桌面有划痕，已整改。"),
    )
    .await;
    assert_eq!(ack.0, StatusCode::OK, "{}", ack.1);
    assert_eq!(ack.1["mean_centi"], 350);
    let (status, v) = rate(&purchaser, t, body("supplier", &supplier_org, &good, "")).await;
    assert_eq!((status, code(&v)), (StatusCode::CONFLICT, "ALREADY_RATED"));
    let expert_id = experts[0].1.clone();
    let (status, v) = rate(
        &purchaser,
        t,
        body(
            "expert",
            &expert_id,
            &json!({"professionalism": 5, "fairness": 5, "discipline": 4}),
            "",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // The agency and the supplier rate; a losing bidder rates nothing.
    let agency = app.login("agency").await;
    let v = ratings(&agency, t).await;
    assert_eq!(v["my_party"], "agency");
    let (status, v) = rate(
        &agency,
        t,
        body(
            "supplier",
            &supplier_org,
            &json!({"integrity": 5, "cooperation": 5}),
            "",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let winner = app.login(&s.winner_user).await;
    let (status, v) = rate(
        &winner,
        t,
        body(
            "expert",
            &expert_id,
            &json!({"professionalism": 5, "fairness": 5, "discipline": 5}),
            "",
        ),
    )
    .await;
    assert_eq!(
        code(&v),
        "VALIDATION",
        "{status}: suppliers do not rate experts"
    );
    let (status, v) = rate(
        &winner,
        t,
        body(
            "purchaser",
            &purchaser_org,
            &json!({"payment": 3, "acceptance": 4, "cooperation": 5}),
            "",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let loser = app.login(&s.loser_user).await;
    let (status, _) = rate(
        &loser,
        t,
        body(
            "purchaser",
            &purchaser_org,
            &json!({"payment": 1, "acceptance": 1, "cooperation": 1}),
            "恶意差评",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(ratings(&loser, t).await["to_rate"], json!([]));

    // A seated expert rates the agency and the purchaser.
    let expert = app.login(&seated_expert(&app, t).await).await;
    let v = ratings(&expert, t).await;
    assert_eq!(v["my_party"], "expert");
    assert_eq!(
        targets(&v)
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>(),
        ["agency", "purchaser"]
    );
    let (status, v) = rate(
        &expert,
        t,
        body("purchaser", &purchaser_org, &json!({"conduct": 5}), ""),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // The rated see their aggregates, never who rated; finance sees everything.
    let (_, mine) = winner.get("/api/ratings").await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["subject"], supplier_org.as_str());
    assert_eq!(mine[0]["count"], 2);
    assert_eq!(mine[0]["mean_centi"], (350 + 500) / 2);
    assert_eq!(mine[0]["criteria"]["quality"], 200);
    assert_eq!(mine[0]["criteria"]["integrity"], 450);
    let text = mine.to_string();
    assert!(
        !text.contains("讲台桌面") && !text.contains(&purchaser_org),
        "{text}"
    );
    let (_, theirs) = purchaser.get("/api/ratings").await;
    assert_eq!(theirs[0]["count"], 2);
    assert_eq!(theirs[0]["mean_centi"], (400 + 500) / 2);
    let (_, none) = loser.get("/api/ratings").await;
    assert_eq!(none, json!([]));
    let finance = app.login("finance").await;
    let (_, all) = finance.get("/api/ratings").await;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|x| x["party"] == "expert" && x["subject"] == expert_id.as_str()),
        "{all}"
    );
    let v = ratings(&finance, t).await;
    assert_eq!(v["all"].as_array().unwrap().len(), 5);
    assert!(v["all"].to_string().contains("讲台桌面"));

    // The public ledger keeps digests only.
    let ledger = ledger_of(&app, t).await;
    let given: Vec<&Value> = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "rating_given")
        .collect();
    assert_eq!(given.len(), 5);
    assert!(!ledger.to_string().contains("讲台桌面"));
}

#[tokio::test]
async fn r_cred_the_supplier_rates_in_the_page_the_purchaser_reads_its_aggregate_and_finance_everything(
) {
    use crate::browser::{as_user, browser, click_long, set_value, wait_long};
    use crate::hall::{text_of, wait_text};
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = spawn_app_at(T0).await;
    let s = signed(&app, &clock, None).await;
    clock.set(cst(2027, 2, 8, 9, 0));
    accept(
        &app,
        &s,
        json!([{"name": "课桌椅", "passed": true}]),
        json!([]),
    )
    .await;
    let page = app.url(&format!("/ratings.html?tender={}", s.tender));

    // The winner rates the purchaser: a low score needs its reason.
    as_user(c, &app, &s.winner_user).await;
    c.goto(&page).await.unwrap();
    let card = wait_text(c, "#rat-0", "采购人").await;
    crate::browser::screenshots(c, "ratings-supplier", "#rat-list").await;
    assert!(card.contains("付款及时"), "{card}");
    set_value(c, "#rat-form-0-payment", "2").await;
    click_long(c, "#rat-form-0-submit").await;
    wait_text(c, "#rat-form-0-comment-error", "理由").await;
    set_value(c, "#rat-form-0-comment", "验收后三周仍未付款。").await;
    click_long(c, "#rat-form-0-submit").await;
    let given = wait_text(c, "#rat-0", "已于").await;
    assert!(given.contains("验收后三周仍未付款"), "{given}");
    assert!(given.contains("平均 4.00 分"), "(2 + 5 + 5) / 3: {given}");
    wait_long(c, "#rat-form-1").await;

    // The purchaser reads its aggregate, not who rated.
    as_user(c, &app, "purchaser").await;
    c.goto(&app.url("/ratings.html")).await.unwrap();
    let summary = wait_text(c, "#rat-summary-table", "付款及时 2.00").await;
    assert!(summary.contains("4.00"), "{summary}");
    assert!(!summary.contains("验收后三周"), "{summary}");

    // Finance reads every rating of the tender.
    as_user(c, &app, "finance").await;
    c.goto(&page).await.unwrap();
    let all = wait_text(c, "#rat-all", "验收后三周仍未付款").await;
    assert!(all.contains("供应商"), "{all}");
    assert!(text_of(c, "#rat-summary").await.contains("全市"));
    driver.close().await;
}
