//! Chinese first: every page of the demo, as each role sees it, in every phase from the
//! announcement to the award, shows no English word outside user data, codes and the
//! language switch: the whole visible page is read (header, navigation, main, footer) and
//! the title, with only the switch's own button left out.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use fantoccini::Client;
use serde_json::{json, Value};

use crate::browser::login;
use crate::common::{b64, TestApp};
use crate::evalpage::{english_words, eval_command, scoring, view};

/// Latin words of the demo's own data (brands, product names): user data, allowed. Only
/// from the demo's Chinese texts, not from its bilingual console lines (`中文 / English`),
/// codes or JSON, whose words ("tender", "submitted") are what an untranslated page shows.
fn demo_words() -> BTreeSet<String> {
    let source = include_str!("../../src/demo.rs");
    let mut words = BTreeSet::new();
    let chinese = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    for literal in source.split('"').skip(1).step_by(2) {
        if !chinese(literal) || literal.contains(" / ") {
            continue;
        }
        // Without the format string's `{…}` names.
        let text: String = literal
            .split('{')
            .map(|part| part.split_once('}').map_or(part, |(_, after)| after))
            .collect();
        for w in english_words(&text) {
            words.insert(w);
        }
    }
    // The demo's login names (shown where users are picked and in the audit log), and the
    // browsers and systems of the audit log's user agents: what clients sent.
    for w in [
        "admin",
        "finance",
        "oversight",
        "bank",
        "purchaser",
        "agency",
        "Chrome",
        "Chromium",
        "Firefox",
        "Safari",
        "Edge",
        "Linux",
        "Windows",
        "Android",
        "curl",
        "kaibiao",
    ] {
        words.insert(w.to_string());
    }
    words
}

/// What a reader sees of the page: its title and the body's rendered text, without the
/// language switch (whose label is the other language by design).
const VISIBLE_TEXT: &str = "const b = document.getElementById('lang-toggle'); \
    const was = b ? b.style.display : null; if (b) b.style.display = 'none'; \
    const text = document.title + '\\n' + document.body.innerText; \
    if (b) b.style.display = was; return text;";

struct Scan<'a> {
    c: &'a Client,
    app: &'a TestApp,
    allowed: BTreeSet<String>,
    found: Vec<String>,
    pages: usize,
}

impl Scan<'_> {
    /// Opens `path` as the logged-in user (`who` names it in the findings), waits until the
    /// page has loaded its data, and notes every English word in `main`.
    async fn page(&mut self, who: &str, path: &str) {
        self.c.goto(&self.app.url(path)).await.unwrap();
        let started = Instant::now();
        let text = loop {
            let state: Value = self
                .c
                .execute(
                    "const m = document.querySelector('main'); \
                     return [document.readyState, Boolean(document.querySelector('main .state-loading')), \
                             m ? m.innerText : ''];",
                    vec![],
                )
                .await
                .unwrap();
            let text = state[2].as_str().unwrap_or_default().to_string();
            if state[0] == "complete" && state[1] == false && text.trim().len() > 10 {
                // The hub's first frames (presence, live state) follow the first paint.
                tokio::time::sleep(Duration::from_millis(400)).await;
                let again: Value = self.c.execute(VISIBLE_TEXT, vec![]).await.unwrap();
                break again.as_str().unwrap_or_default().to_string();
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{path} as {who} did not load: {text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        self.pages += 1;
        // A count tile whose label is its key (no `count.` entry in the dictionaries).
        let untranslated: Value = self
            .c
            .execute(
                "return [...document.querySelectorAll('.tile[data-count]')] \
                     .filter((t) => t.querySelector('.tile-label').textContent \
                         === t.dataset.count.replace(/_/g, ' ')) \
                     .map((t) => t.dataset.count);",
                vec![],
            )
            .await
            .unwrap();
        if untranslated.as_array().is_some_and(|a| !a.is_empty()) {
            self.found
                .push(format!("{path} as {who}: count tiles {untranslated}"));
        }
        let english: Vec<String> = english_words(&text)
            .into_iter()
            .filter(|w| !self.allowed.contains(w))
            .collect();
        if !english.is_empty() {
            self.found.push(format!("{path} as {who}: {english:?}"));
        }
    }

    async fn as_user(&mut self, user: &str, paths: &[String]) {
        login(self.c, self.app, user).await;
        for p in paths {
            self.page(user, p).await;
        }
    }
}

#[tokio::test]
async fn every_page_in_every_phase_is_chinese_on_a_zh_cn_screen() {
    let Some(driver) = crate::browser::browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = crate::common::spawn_app_at(crate::evaluation::T0).await;
    let mut scan = Scan {
        c,
        app: &app,
        allowed: demo_words(),
        found: Vec::new(),
        pages: 0,
    };
    let demo = crate::evaluation::demo_opening_tender(&app).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    // The demo tender that asks a deposit, with one recorded (the supervisors' list shows it).
    let (_, list) = app
        .call(reqwest::Method::GET, "/api/announcements", None)
        .await;
    let property = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"].as_str().unwrap().contains("物业"))
        .expect("the demo's property-management tender")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, v) = app
        .login("supplier2")
        .await
        .post(
            &format!("/api/tenders/{property}/deposit"),
            json!({"kind": "payment", "amount_fen": 8_000_000, "payer_name": "黄石华信建设有限公司",
                   "bank": "中国建设银行黄石分行", "account_no": "4205 0168 6300 0000 1234",
                   "transfer_ref": "202611300001"}),
        )
        .await;
    assert!(status.is_success(), "{v}");
    let deposits = format!("/deposits.html?tender={property}");

    // Before the deadline: the public, and each role on its own pages.
    for p in [
        "/index.html".to_string(),
        format!("/announcement.html?id={demo}"),
        "/login.html".to_string(),
        "/intentions.html".to_string(),
        "/single-source.html".to_string(),
        "/register.html".to_string(),
        "/no-such-page.html".to_string(),
    ] {
        scan.page("anyone", &p).await;
    }
    scan.as_user(
        "agency",
        &[
            "/dashboard.html".into(),
            format!("/tender.html?id={demo}"),
            "/tender-form.html".into(),
            "/plans.html".into(),
            "/console.html".into(),
            format!("/opening.html?tender={demo}"),
            format!("/documents.html?tender={demo}"),
            deposits.clone(),
        ],
    )
    .await;
    scan.as_user(
        "supplier1",
        &[
            "/dashboard.html".into(),
            format!("/announcement.html?id={demo}"),
            format!("/bid.html?tender={demo}"),
            "/commitment.html".into(),
            format!("/documents.html?tender={demo}"),
            deposits.clone(),
        ],
    )
    .await;
    scan.as_user(
        "finance",
        &[
            "/dashboard.html".into(),
            "/console.html".into(),
            "/audit.html".into(),
            "/plans.html".into(),
            "/approvals.html".into(),
            "/alerts.html".into(),
            format!("/tender.html?id={demo}"),
            format!("/tender.html?id={property}"),
            deposits.clone(),
        ],
    )
    .await;
    scan.as_user(
        "purchaser",
        &[
            "/plans.html".into(),
            "/approvals.html".into(),
            "/alerts.html".into(),
        ],
    )
    .await;
    scan.as_user("expert1", &["/dashboard.html".into()]).await;

    // Opened and read out, evaluated to scoring (a seat topped up on the way).
    let (tender, _bids, experts, _declined) = scoring(&app, &clock).await;
    let bidder = "supplier1";
    for (who, paths) in [
        (
            "agency",
            vec![
                format!("/opening.html?tender={tender}"),
                format!("/record.html?tender={tender}"),
                format!("/evaluation.html?tender={tender}"),
                format!("/tender.html?id={tender}"),
            ],
        ),
        (
            experts[0].as_str(),
            vec![
                "/dashboard.html".into(),
                format!("/evaluation.html?tender={tender}"),
                format!("/record.html?tender={tender}"),
            ],
        ),
        ("finance", vec![format!("/evaluation.html?tender={tender}")]),
        (
            bidder,
            vec![
                "/dashboard.html".into(),
                format!("/opening.html?tender={tender}"),
                format!("/record.html?tender={tender}"),
            ],
        ),
    ] {
        scan.as_user(who, &paths).await;
    }

    // Scored, signed by every expert, and awarded.
    let oversight = app.login("oversight").await;
    let items = view(&oversight, &tender).await["terms"]["items"].clone();
    let sheet: serde_json::Map<String, Value> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let v = if i["objective"] == true { "100" } else { "80" };
            (i["name"].as_str().unwrap().to_string(), json!(v))
        })
        .collect();
    let bids: Vec<String> = view(&oversight, &tender).await["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bid_id"].as_str().unwrap().to_string())
        .collect();
    for u in &experts {
        let s = app.login(u).await;
        for b in &bids {
            eval_command(
                &s,
                &tender,
                json!({"type": "score", "bid_id": b, "items": sheet}),
            )
            .await;
        }
    }
    crate::evaluation::elect_and_finish(&app, &tender, &experts[0]).await;
    scan.as_user(
        "agency",
        &[
            format!("/evaluation.html?tender={tender}"),
            format!("/report.html?tender={tender}"),
        ],
    )
    .await;
    for u in &experts {
        let s = app.login(u).await;
        let reg = s.register_keys().await;
        let v = view(&s, &tender).await;
        let signing = &v["report"]["signing"];
        let payload = kaibiao::committee::service::signing_payload(
            &tender,
            signing["report_sha256"].as_str().unwrap(),
            signing["expert_id"].as_str().unwrap(),
            "",
        );
        let sig = b64(&reg.keys.sign(payload.as_bytes()));
        eval_command(
            &s,
            &tender,
            json!({"type": "sign", "key_id": reg.signing_key_id, "signature": sig}),
        )
        .await;
    }
    eval_command(
        &app.login("purchaser").await,
        &tender,
        json!({"type": "confirm_winner"}),
    )
    .await;
    // The result page before and after the agency publishes it.
    scan.as_user("agency", &[format!("/result.html?tender={tender}")])
        .await;
    let (status, v) = app
        .login("agency")
        .await
        .post(
            &format!("/api/tenders/{tender}/result"),
            json!({"type": "publish"}),
        )
        .await;
    assert!(status.is_success(), "{v}");
    let (status, v) = app
        .login("purchaser")
        .await
        .post(
            &format!("/api/tenders/{tender}/contracts"),
            json!({"type": "draft"}),
        )
        .await;
    assert!(status.is_success(), "{v}");
    // Signed by both, its acceptance recorded and waiting for the purchaser's signature.
    let (_, contracts) = app
        .login("agency")
        .await
        .get(&format!("/api/tenders/{tender}/contracts"))
        .await;
    let winner_org = contracts["contracts"][0]["supplier_org_id"]
        .as_str()
        .unwrap()
        .to_string();
    let winner_user = crate::award::supplier_user(&app, &winner_org).await;
    let (contract, _) = crate::fulfilment::sign_contract(&app, &tender, &winner_user).await;
    let (status, v) = app
        .login("purchaser")
        .await
        .post(
            &format!("/api/tenders/{tender}/acceptance"),
            json!({"type": "record", "contract_id": contract, "delivered_on": "2026-12-01",
                   "items": [{"name": "课桌椅", "passed": false, "note": "数量不足"}],
                   "conclusion": "部分不合格。"}),
        )
        .await;
    assert!(status.is_success(), "{v}");
    scan.as_user(
        &winner_user,
        &[
            format!("/fulfilment.html?tender={tender}"),
            "/ratings.html".into(),
        ],
    )
    .await;
    scan.as_user(
        "bank",
        &[
            "/dashboard.html".into(),
            "/financing.html".into(),
            "/api.html".into(),
        ],
    )
    .await;
    scan.as_user(
        "finance",
        &[
            format!("/warnings.html?tender={tender}"),
            "/screens.html".into(),
            "/analytics.html".into(),
            "/ratings.html".into(),
        ],
    )
    .await;
    scan.as_user(
        "purchaser",
        &[
            format!("/fulfilment.html?tender={tender}"),
            format!("/ratings.html?tender={tender}"),
            "/dashboard.html".into(),
            format!("/evaluation.html?tender={tender}"),
            format!("/report.html?tender={tender}"),
            format!("/tender.html?id={tender}"),
            format!("/result.html?tender={tender}"),
            format!("/challenges.html?tender={tender}"),
            format!("/contracts.html?tender={tender}"),
            format!("/contract.html?tender={tender}&lot=1"),
        ],
    )
    .await;
    scan.as_user(
        bidder,
        &[
            "/dashboard.html".into(),
            format!("/report.html?tender={tender}"),
            format!("/announcement.html?id={tender}"),
            format!("/result.html?tender={tender}"),
            format!("/challenges.html?tender={tender}"),
            format!("/contracts.html?tender={tender}"),
        ],
    )
    .await;

    assert!(scan.pages >= 30, "{} pages scanned", scan.pages);
    assert!(
        scan.found.is_empty(),
        "English on zh-CN screens ({} of {} pages):\n{}",
        scan.found.len(),
        scan.pages,
        scan.found.join("\n")
    );
    driver.close().await;
}
