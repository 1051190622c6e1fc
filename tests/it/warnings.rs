//! Collusion warnings (docs/collusion.md) over HTTP: nothing before the opening, nothing
//! ever for suppliers, the agency, the purchaser or the public; after it the supervisors
//! read the shared device and author of the demo's test bids and their equal price
//! steps, and confirm or dismiss each with a reason in a chain only they read.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{code, spawn_app_at};
use crate::evaluation::{evaluating, ledger_of, T0};

/// The first warning of `kind` in a warnings view.
fn warning_of(view: &Value, kind: &str) -> Value {
    view["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {view}"))
        .clone()
}

#[tokio::test]
async fn r_col_1_4_the_supervisors_read_the_warnings_after_the_opening_and_decide_them() {
    let (app, clock) = spawn_app_at(T0).await;
    let t = crate::evaluation::demo_opening_tender(&app).await;
    let tender = t["id"].as_str().unwrap().to_string();
    let path = format!("/api/tenders/{tender}/warnings");
    let finance = app.login("finance").await;
    let (status, v) = finance.get(&path).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "WARNINGS_NOT_YET")
    );

    // Three bids sealed on the tests' one device, their documents by one author, at
    // prices in equal steps of 50,000 yuan.
    let (tender2, bids) = evaluating(&app, &clock, &[100_000_000, 105_000_000, 110_000_000]).await;
    assert_eq!(tender2, tender);
    for user in ["supplier1", "agency", "purchaser"] {
        let (status, _) = app.login(user).await.get(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
    }
    let (status, _) = app.call(Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let finance = app.login("finance").await;
    let (status, v) = finance.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let warnings = v["warnings"].as_array().unwrap();
    let of = |kind: &str| warning_of(&v, kind);
    let device = of("same_device");
    assert_eq!(device["rule"], "R-COL-1");
    assert_eq!(device["evidence"]["value"], "test-device-1");
    let mut named: Vec<String> = serde_json::from_value(device["bids"].clone()).unwrap();
    named.sort();
    let mut all = bids.clone();
    all.sort();
    assert_eq!(named, all);
    assert_eq!(of("same_creator")["evidence"]["value"], "张伟");
    assert_eq!(of("equal_steps")["evidence"]["value"], 5_000_000.0);
    assert!(
        warnings.iter().all(|w| w["kind"] != "same_ip"),
        "loopback says nothing"
    );
    // Where each bidder obtained the documents and decrypted from is recorded for R-COL-1
    // (the test's loopback address, which the rule then sets aside).
    let pool = &app.state.db.pool;
    let downloads: Vec<String> = sqlx::query_scalar(
        "SELECT h.client_ip FROM document_holders h JOIN bids b \
         ON b.tender_id = h.tender_id AND b.bidder_org_id = h.org_id WHERE h.tender_id = $1",
    )
    .bind(&tender)
    .fetch_all(pool)
    .await
    .unwrap();
    let decrypts: Vec<String> =
        sqlx::query_scalar("SELECT decrypt_ip FROM opening_bids WHERE tender_id = $1")
            .bind(&tender)
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(downloads, ["127.0.0.1"; 3], "{downloads:?}");
    assert_eq!(decrypts, ["127.0.0.1"; 3], "{decrypts:?}");
    assert_eq!(v["screens"][0]["bids"], 3);
    assert!((v["screens"][0]["spread"].as_f64().unwrap() - 0.1).abs() < 1e-9);

    // Decisions: with a reason, once, on a warning that exists.
    let send = |cmd: Value| {
        let finance = &finance;
        let path = &path;
        async move { finance.post(path, cmd).await }
    };
    let key = device["key"].as_str().unwrap().to_string();
    let (status, v) = send(json!({"type": "confirm", "key": key, "reason": " "})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION")
    );
    let (status, _) = send(json!({"type": "confirm", "key": "nope", "reason": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = send(json!({"type": "confirm", "key": key,
        "reason": "三份投标文件由同一台设备加密，已移交评标委员会。"}))
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = send(json!({"type": "dismiss", "key": key, "reason": "改判"})).await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::CONFLICT, "ILLEGAL_TRANSITION")
    );
    let steps = of("equal_steps")["key"].as_str().unwrap().to_string();
    let (status, _) = app
        .login("oversight")
        .await
        .post(
            &path,
            json!({"type": "dismiss", "key": steps, "reason": "整数报价，属正常。"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, v) = finance.get(&path).await;
    let status_of = |kind: &str| {
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["kind"] == kind)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of("same_device"), "confirmed");
    assert_eq!(status_of("equal_steps"), "dismissed");
    assert_eq!(status_of("same_creator"), "open");
    let chain: kaibiao::ledger::Ledger = serde_json::from_value(v["ledger"].clone()).unwrap();
    assert_eq!(chain.events.len(), 2);
    kaibiao::ledger::verify(&chain).expect("the warnings chain verifies");

    // The public ledger says nothing of them.
    let public = ledger_of(&app, &tender).await.to_string();
    assert!(
        !public.contains("warning") && !public.contains(&key),
        "{public}"
    );
}

#[tokio::test]
async fn r_col_1_oversight_reads_the_shared_device_in_the_page_and_decides_two_warnings() {
    use crate::browser::{as_user, browser, click_long, set_value, wait_long};
    use crate::hall::{text_of, wait_text};
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, _) = evaluating(&app, &clock, &[100_000_000, 105_000_000, 110_000_000]).await;

    // In the evaluation room the supervisors see the open warnings, and follow the link.
    as_user(c, &app, "oversight").await;
    c.goto(&app.url(&format!("/evaluation.html?tender={tender}")))
        .await
        .unwrap();
    let open = wait_text(c, "#eval-open-warnings", "同一设备").await;
    assert!(open.contains("待处理") && open.contains("等差"), "{open}");
    let before = c
        .find_all(fantoccini::Locator::Css("#eval-open-warnings li"))
        .await
        .unwrap()
        .len();
    click_long(c, "#warnings-link").await;
    let device = wait_text(c, "[data-kind=same_device]", "test-device-1").await;
    assert!(device.contains("同一设备"), "{device}");
    let steps = text_of(c, "[data-kind=equal_steps]").await;
    assert!(
        steps.contains("等差") && steps.contains("1,050,000.00"),
        "{steps}"
    );
    assert!(text_of(c, "#warn-screens-table").await.contains("0.100"));
    crate::browser::screenshots(c, "warnings-oversight", "#warn-list").await;

    // Confirm the device, dismiss the steps, each with its reason.
    click_long(c, "[data-kind=same_device] [id^=warn-confirm-]").await;
    wait_long(c, "#confirm-input").await;
    set_value(c, "#confirm-input", "同一设备加密三份投标文件。").await;
    click_long(c, "#confirm-ok").await;
    wait_text(c, "[data-kind=same_device]", "已确认").await;
    click_long(c, "[data-kind=equal_steps] [id^=warn-dismiss-]").await;
    wait_long(c, "#confirm-input").await;
    set_value(c, "#confirm-input", "整数报价，属正常。").await;
    click_long(c, "#confirm-ok").await;
    let dismissed = wait_text(c, "[data-kind=equal_steps]", "已排除").await;
    assert!(dismissed.contains("整数报价"), "{dismissed}");

    // Back in the room, the two decided are no longer open.
    c.goto(&app.url(&format!("/evaluation.html?tender={tender}")))
        .await
        .unwrap();
    wait_long(c, "#warnings-link").await;
    // Read in one go: the room re-renders the list as its state arrives.
    let mut left: Vec<String> = Vec::new();
    for _ in 0..100 {
        let texts = c
            .execute(
                "return [...document.querySelectorAll('#eval-open-warnings li')].map((li) => li.innerText);",
                vec![],
            )
            .await
            .unwrap();
        left = serde_json::from_value(texts).unwrap();
        if left.len() == before - 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left.len(), before - 2, "{left:?}");
    assert!(
        left.iter()
            .all(|l| !l.contains("同一设备") && !l.contains("等差")),
        "{left:?}"
    );

    // The room tells the committee's side of the confirmed one, not of the dismissed.
    as_user(c, &app, "agency").await;
    c.goto(&app.url(&format!("/evaluation.html?tender={tender}")))
        .await
        .unwrap();
    let told = wait_text(c, "#eval-warnings", "同一设备").await;
    assert!(
        told.contains("第三十七条") && told.contains("同一设备加密三份投标文件"),
        "{told}"
    );
    assert!(!told.contains("等差"), "{told}");
    assert!(
        c.find(fantoccini::Locator::Css("#warnings-link"))
            .await
            .is_err(),
        "the agency has no warnings page"
    );

    // A supplier's browser gets nothing.
    as_user(c, &app, "supplier1").await;
    c.goto(&app.url(&format!("/warnings.html?tender={tender}")))
        .await
        .unwrap();
    wait_long(
        c,
        "#warn-alert .banner, #warn-alert [role=alert], #warn-alert *",
    )
    .await;
    assert!(c
        .find(fantoccini::Locator::Css("[data-kind]"))
        .await
        .is_err());
    driver.close().await;
}

#[tokio::test]
async fn red_flags_read_the_stored_report_for_the_winner_and_the_bids_set_aside() {
    let (app, clock) = spawn_app_at(T0).await;
    let tender = crate::award::awarded(&app, &clock).await;
    let outcome = kaibiao::collusion::repo::outcome(&app.state.db.pool, &tender)
        .await
        .unwrap();
    let (_, v) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}/evaluation"))
        .await;
    let first = v["result"][0]["result"]["ranking"][0]["bidder"]
        .as_str()
        .expect("the report ranks the lot")
        .to_string();
    assert_eq!(outcome.winners.get(&1), Some(&first));
    assert!(
        outcome.disqualified.is_empty(),
        "every bid passed: {outcome:?}"
    );
    assert!(outcome.price_only.is_empty(), "comprehensive scoring");
    let (_, w) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}/warnings"))
        .await;
    let kinds: Vec<&str> = w["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert!(
        !kinds
            .iter()
            .any(|k| k.contains("disqualified") || *k == "single_bid"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn the_screens_across_tenders_read_every_evaluated_tender_for_the_supervisors_only() {
    let (app, clock) = spawn_app_at(T0).await;
    let (_, v) = app.login("finance").await.get("/api/screens").await;
    assert_eq!(v["processes"], 0, "{v}");
    crate::award::awarded(&app, &clock).await;
    let (status, v) = app.login("oversight").await.get("/api/screens").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["processes"], 1, "the awarded lot: {v}");
    for key in ["r024", "r058", "r038", "meta"] {
        assert!(v.get(key).is_some(), "{key} in {v}");
    }
    // One process: nobody met three times, nobody won three times.
    for key in ["co_bidding", "bidding_groups", "win_rates"] {
        assert_eq!(v[key], json!([]), "{key} in {v}");
    }
    for user in ["agency", "purchaser", "supplier1", "bank"] {
        let (status, _) = app.login(user).await.get("/api/screens").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
    }

    // In the page, from the menu: one awarded lot is its own quartiles, so it is both
    // R024 and R058, named by its code and title and its bidders by name.
    let Some(driver) = crate::browser::browser().await else {
        return;
    };
    let c = &driver.client;
    crate::browser::as_user(c, &app, "oversight").await;
    c.goto(&app.url("/dashboard.html")).await.unwrap();
    crate::browser::click_long(c, "[data-nav=screens]").await;
    let r024 = crate::hall::wait_text(c, "#scr-r024", "R024").await;
    let tender = &v["r024"][0]["tender_id"];
    let (_, t) = app
        .login("oversight")
        .await
        .get(&format!("/api/tenders/{}", tender.as_str().unwrap()))
        .await;
    assert!(
        r024.contains(t["code"].as_str().unwrap()) && r024.contains(t["title"].as_str().unwrap()),
        "{r024}"
    );
    let names = &v["names"];
    for b in v["r024"][0]["bidders"].as_array().unwrap() {
        let name = names[b.as_str().unwrap()].as_str().unwrap();
        assert!(r024.contains(name), "{name} in {r024}");
    }
    assert!(crate::hall::text_of(c, "#scr-count")
        .await
        .contains("已比较 1 个"));
    for (section, title) in [
        ("#scr-cobidding", "共投关系图的边）（0）"),
        ("#scr-groups", "共同投标群组"),
        ("#scr-winrates", "中标率异常偏高"),
    ] {
        let text = crate::hall::wait_text(c, section, title).await;
        assert!(text.contains("无。"), "{text}");
    }
    crate::browser::screenshots(c, "screens-oversight", "#scr-page").await;
    driver.close().await;
}

/// A tender's warnings as oversight reads them.
async fn warnings_read_by_oversight(app: &crate::common::TestApp, tender: &str) -> Value {
    let (status, v) = app
        .login("oversight")
        .await
        .get(&format!("/api/tenders/{tender}/warnings"))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// The warnings of `kind` in a view: each with its bids sorted, and its evidence.
fn of_kind(v: &Value, kind: &str) -> Vec<(Vec<String>, Value)> {
    v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == kind)
        .map(|w| {
            let mut b: Vec<String> = serde_json::from_value(w["bids"].clone()).unwrap();
            b.sort();
            (b, w["evidence"].clone())
        })
        .collect()
}

/// Bids `i` and `j`, sorted (as `of_kind` gives them).
fn pair_of(bids: &[String], i: usize, j: usize) -> Vec<String> {
    let mut p = vec![bids[i].clone(), bids[j].clone()];
    p.sort();
    p
}

/// The tender's documents as the agency reads them (every clause's Chinese text), and
/// the same with two characters changed (one third and two thirds in): the slips and
/// what they replaced.
async fn quoted_with_slips(
    app: &crate::common::TestApp,
    tender: &str,
) -> (String, String, [(&'static str, String); 2]) {
    let (status, d) = app
        .login("agency")
        .await
        .get(&format!("/api/tenders/{tender}/documents"))
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let quoted: String = d["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["clauses"].as_array().unwrap().iter())
        .map(|c| format!("{}\n", c["zh"].as_str().unwrap()))
        .collect();
    let mut chars: Vec<char> = quoted.chars().collect();
    let mut slips = Vec::new();
    for (third, wrote) in [(1, "阶"), (2, "泽")] {
        let w = wrote.chars().next().unwrap();
        let at = (chars.len() * third / 3..chars.len())
            .find(|&i| kaibiao::collusion::errors::an_error(chars[i], w))
            .unwrap();
        slips.push((wrote, chars[at].to_string()));
        chars[at] = w;
    }
    let slips = [slips[0].clone(), slips[1].clone()];
    (quoted, chars.into_iter().collect(), slips)
}

/// Five bids' prices, no two in a regular pattern with a third.
const FIVE_PRICES: [i64; 5] = [
    100_000_000,
    101_000_000,
    103_000_000,
    107_000_000,
    108_000_000,
];

/// A plan of `n` items in words of its own (numbered by `seed`): nothing in it is
/// written by another call of `plan` or `prose`.
fn plan(seed: u32, n: u32) -> String {
    (0..n)
        .map(|i| {
            format!(
                "第{seed}号方案第{i}条：设备编号{seed}{i:03}型按图纸{}安装，由{}组负责。\n",
                i * 13 + seed,
                i % 7 + seed
            )
        })
        .collect()
}

/// Prose of `n` sentences no other call writes (numbered by `seed`).
fn prose(seed: u32, n: u32) -> String {
    (0..n)
        .map(|i| {
            format!(
                "第{seed}号方案第{i}条：本公司承诺按期完成第{}项安装调试及培训工作。\n",
                seed * 1000 + i
            )
        })
        .collect()
}

#[tokio::test]
async fn r_col_4_5_copied_text_and_a_shared_file_are_warned_with_the_passage_after_the_opening() {
    let (app, clock) = spawn_app_at(T0).await;
    let t = crate::evaluation::demo_opening_tender(&app).await;
    let tender = t["id"].as_str().unwrap().to_string();
    // Every bid repeats the same commitments; supplier2 copied supplier1's plan,
    // re-wrapped; supplier3 and supplier4 sent one file; supplier5 wrote its own, but
    // quotes the tender's documents with the same two slips as supplier1.
    let form = prose(9, 40);
    let copied = plan(7, 30);
    let shared_file = format!("{form}{}", prose(5, 30));
    let (quoted, slipped, slips) = quoted_with_slips(&app, &tender).await;
    let docs = [
        format!("{form}{slipped}{copied}{}", prose(1, 10)),
        format!(
            "{form}{}{}项目经理王强，身份证号 11010519491231002X。",
            copied.replace('：', " ").replace('\n', ""),
            prose(2, 10)
        ),
        shared_file.clone(),
        shared_file,
        format!(
            "{form}{slipped}{}拟派项目负责人：王强（11010519491231002X）",
            prose(6, 30)
        ),
    ];
    assert_ne!(quoted, slipped);
    let docs: Vec<&[u8]> = docs.iter().map(|d| d.as_bytes()).collect();
    let bids = crate::evaluation::bid_and_open_each(
        &app,
        &clock,
        &tender,
        t["bid_deadline"].as_i64().unwrap(),
        &FIVE_PRICES,
        &docs,
    )
    .await;
    let v = warnings_read_by_oversight(&app, &tender).await;
    let pairs = |kind: &str| of_kind(&v, kind);
    let pair = |i: usize, j: usize| pair_of(&bids, i, j);
    let similar = pairs("similar_text");
    assert_eq!(similar.len(), 2, "{v}");
    let copied = similar
        .iter()
        .find(|(b, _)| *b == pair(0, 1))
        .expect("1 and 2");
    let passage = copied.1["passage"].as_str().unwrap();
    assert!(passage.contains("第7号方案"), "{passage}");
    assert!(
        !passage.contains("第9号方案"),
        "the form is removed: {passage}"
    );
    assert!(similar
        .iter()
        .any(|(b, e)| *b == pair(2, 3) && e["similarity"] == 1.0));
    let files = pairs("same_file");
    assert_eq!(files.len(), 1, "{v}");
    assert_eq!(files[0].0, pair(2, 3));
    assert_eq!(
        files[0].1["names"],
        json!(["技术响应文件.txt", "技术响应文件.txt"])
    );

    // The same slips in quoting the tender: supplier1 and supplier5, both places.
    let errors = pairs("shared_errors");
    assert_eq!(errors.len(), 1, "{v}");
    assert_eq!(errors[0].0, pair(0, 4));
    assert_eq!(errors[0].1["sites"], 2, "{}", errors[0].1);
    let wrote: Vec<String> = errors[0].1["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["wrote"].as_str().unwrap().to_string() + e["right"].as_str().unwrap())
        .collect();
    let mut expected: Vec<String> = slips.iter().map(|(w, r)| format!("{w}{r}")).collect();
    expected.sort();
    let mut wrote = wrote;
    wrote.sort();
    assert_eq!(wrote, expected);

    // One project manager named by identity number in supplier2's and supplier5's
    // documents, masked in everything the supervisors get.
    let named = pairs("same_id_in_text");
    assert_eq!(named.len(), 1, "{v}");
    assert_eq!(named[0].0, pair(1, 4));
    assert_eq!(named[0].1["value"], "证件 ****002X");
    assert!(!v.to_string().contains("11010519491231002"), "{v}");

    // Oversight reads the passage with the bidders in the page.
    let Some(driver) = crate::browser::browser().await else {
        return;
    };
    let c = &driver.client;
    crate::browser::as_user(c, &app, "oversight").await;
    c.goto(&app.url(&format!("/warnings.html?tender={tender}")))
        .await
        .unwrap();
    let card = crate::hall::wait_text(c, "[data-kind=similar_text]", "第7号方案").await;
    assert!(
        card.contains("内容异常相似") && card.contains("最长共有段落"),
        "{card}"
    );
    // Side by side as each wrote it: supplier2 dropped the colons.
    let mut sides = Vec::new();
    for card in c
        .find_all(fantoccini::Locator::Css("[data-kind=similar_text]"))
        .await
        .unwrap()
    {
        if !card.text().await.unwrap().contains("第7号方案") {
            continue;
        }
        for q in card
            .find_all(fantoccini::Locator::Css(".warn-passage blockquote"))
            .await
            .unwrap()
        {
            sides.push(q.text().await.unwrap());
        }
    }
    assert_eq!(sides.len(), 2, "{sides:?}");
    assert!(sides.iter().all(|t| t.contains("第7号方案")), "{sides:?}");
    assert_eq!(
        sides.iter().filter(|t| t.contains('：')).count(),
        1,
        "one with its colons, one without: {sides:?}"
    );
    let file = crate::hall::text_of(c, "[data-kind=same_file]").await;
    assert!(file.contains("技术响应文件.txt"), "{file}");
    let errors = crate::hall::text_of(c, "[data-kind=shared_errors]").await;
    assert!(
        errors.contains("相同位置出现相同错误") && errors.contains("采购文件原文"),
        "{errors}"
    );
    for (wrote, _) in &slips {
        assert!(errors.contains(*wrote), "{wrote} in {errors}");
    }
    crate::browser::screenshots(c, "warnings-shared-errors", "[data-kind=shared_errors]").await;
    let named = crate::hall::text_of(c, "[data-kind=same_id_in_text]").await;
    assert!(
        named.contains("同一身份证号") && named.contains("王强") && named.contains("****002X"),
        "{named}"
    );
    driver.close().await;
}

/// R-COL-7: suppliers declare their legal representative and controller (identity numbers
/// checked and kept as keyed digests only); after the opening the supervisors read that
/// two bidders have one representative and a third is controlled by the first — by name,
/// never by number.
#[tokio::test]
async fn r_col_7_one_legal_representative_and_a_controlled_bidder_are_warned_by_name() {
    let (app, clock) = spawn_app_at(T0).await;
    let code_of = |user: &'static str| {
        let pool = app.state.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT o.credit_code FROM organisations o JOIN users u ON u.org_id = o.id \
                 WHERE u.username = $1",
            )
            .bind(user)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let declare = |user: &'static str, body: Value| {
        let app = &app;
        async move {
            app.login(user)
                .await
                .call(Method::PUT, "/api/suppliers/me/identity", Some(body))
                .await
        }
    };
    const ID: &str = "11010519491231002X";
    // Refused with the field: a wrong check digit, a company controlling itself.
    let (status, v) = declare(
        "supplier1",
        json!({"legal_rep_name": "张伟", "legal_rep_id": "110105194912310021"}),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION")
    );
    assert!(v["fields"]["legal_rep_id"].is_array(), "{v}");
    let own = code_of("supplier1").await;
    let (status, v) = declare(
        "supplier1",
        json!({"legal_rep_name": "张伟", "legal_rep_id": ID,
        "controller_kind": "org", "controller_name": "自己", "controller_code": own}),
    )
    .await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION")
    );
    assert!(v["fields"]["controller_code"].is_array(), "{v}");

    let (status, v) = declare(
        "supplier1",
        json!({"legal_rep_name": "张伟", "legal_rep_id": ID}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(
        !v.to_string().contains(ID),
        "the number is not given back: {v}"
    );
    let (status, _) = declare(
        "supplier2",
        json!({"legal_rep_name": "张伟", "legal_rep_id": "110105 19491231002x"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = declare(
        "supplier3",
        json!({"legal_rep_name": "李娜", "legal_rep_id": "440524188001010014",
        "controller_kind": "org", "controller_name": "供应商一", "controller_code": own}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["controller_credit_code"], own.as_str());
    let (_, mine) = app
        .login("supplier2")
        .await
        .get("/api/suppliers/me/identity")
        .await;
    assert_eq!(mine["legal_rep_name"], "张伟");
    assert!(!mine.to_string().contains("11010519491231002"), "{mine}");

    let (tender, _) = evaluating(&app, &clock, &[100_000_000, 103_000_000, 108_000_000]).await;
    let (status, _) = app
        .login("supplier1")
        .await
        .get(&format!("/api/tenders/{tender}/warnings"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let v = warnings_read_by_oversight(&app, &tender).await;
    let of = |kind: &str| warning_of(&v, kind);
    let rep = of("same_legal_rep");
    assert_eq!(rep["rule"], "R-COL-7");
    assert_eq!(rep["evidence"]["value"], "张伟");
    assert_eq!(rep["bids"].as_array().unwrap().len(), 2);
    let controls = of("controls");
    assert_eq!(controls["bids"].as_array().unwrap().len(), 2);
    assert!(
        controls["evidence"]["value"]
            .as_str()
            .unwrap()
            .contains('→'),
        "{controls}"
    );
    assert!(
        !v.to_string().contains("11010519491231002"),
        "no identity number in the evidence"
    );
    let ledger = ledger_of(&app, &tender).await.to_string();
    assert!(!ledger.contains("张伟"), "nor in the public ledger");

    // A declaration changed after the deadline changes nothing: the warnings read what
    // stood when the bids were sealed.
    let (status, _) = declare(
        "supplier2",
        json!({"legal_rep_name": "王芳", "legal_rep_id": "440524188001010014"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, mine) = app
        .login("supplier2")
        .await
        .get("/api/suppliers/me/identity")
        .await;
    assert_eq!(mine["legal_rep_name"], "王芳");
    let v = warnings_read_by_oversight(&app, &tender).await;
    let rep = warning_of(&v, "same_legal_rep");
    assert_eq!(rep["evidence"]["value"], "张伟", "as sealed: {v}");
    assert_eq!(rep["bids"].as_array().unwrap().len(), 2);
}

/// R-COL-2/3: bids carry their people in a sealed personnel declaration; after the
/// opening the supervisors read that one agent handles two bidders' bids, that a project
/// manager of one bid is in another's team and that two bids give one contact phone — by
/// name and role, the numbers masked; a declaration that is not one is passed over.
#[tokio::test]
async fn r_col_2_3_one_agent_a_shared_team_member_and_a_shared_phone_are_warned_masked() {
    let (app, clock) = spawn_app_at(T0).await;
    let t = crate::evaluation::demo_opening_tender(&app).await;
    let tender = t["id"].as_str().unwrap().to_string();
    const AGENT_ID: &str = "11010519491231002X";
    const MANAGER_ID: &str = "440524188001010014";
    let declarations = [
        json!({"agent": {"name": "王强", "id_number": AGENT_ID, "phone": "13800001111"},
               "team": [{"name": "李娜", "id_number": MANAGER_ID, "role": "项目负责人"}]}),
        json!({"agent": {"name": "王强", "id_number": "110105 19491231002x"}}),
        json!({"agent": {"name": "赵敏", "id_number": "310101199001011234"},
               "contact": {"name": "陈晨", "phone": "13800002222"},
               "team": [{"name": "李娜", "id_number": MANAGER_ID}]}),
        json!({"contact": {"name": "陈辰", "phone": "+86 138-0000-2222"}}),
    ]
    .map(|d| d.to_string());
    let texts: Vec<String> = (0..5).map(|i| prose(20 + i, 20)).collect();
    let mut packages: Vec<Vec<(&str, &str, &[u8])>> = declarations
        .iter()
        .zip(&texts)
        .enumerate()
        .map(|(i, (d, text))| {
            // The third names it by file name only, as a client without the type would.
            let media = if i == 2 {
                "application/json"
            } else {
                kaibiao::bid::personnel::MEDIA_TYPE
            };
            vec![
                ("技术响应文件.txt", "text/plain", text.as_bytes()),
                ("personnel.json", media, d.as_bytes()),
            ]
        })
        .collect();
    packages.push(vec![
        ("技术响应文件.txt", "text/plain", texts[4].as_bytes()),
        ("personnel.json", "application/json", b"{not a declaration"),
    ]);
    let bids = crate::evaluation::bid_and_open_packages(
        &app,
        &clock,
        &tender,
        t["bid_deadline"].as_i64().unwrap(),
        &FIVE_PRICES,
        &packages,
    )
    .await;
    let oversight = app.login("oversight").await;
    let path = format!("/api/tenders/{tender}/warnings");
    let (status, v) = oversight.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let sorted = |w: &Value| {
        let mut b: Vec<String> = serde_json::from_value(w["bids"].clone()).unwrap();
        b.sort();
        b
    };
    let pair = |i: usize, j: usize| {
        let mut p = vec![bids[i].clone(), bids[j].clone()];
        p.sort();
        p
    };
    let agent = warning_of(&v, "same_agent");
    assert_eq!(agent["rule"], "R-COL-2");
    assert_eq!(agent["weight"], 100);
    assert_eq!(sorted(&agent), pair(0, 1));
    assert_eq!(agent["evidence"]["value"], "王强（证件 ****002X）");
    let member = warning_of(&v, "same_person");
    assert_eq!(member["rule"], "R-COL-3");
    assert_eq!(sorted(&member), pair(0, 2));
    let roles: Vec<&str> = member["evidence"]["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["项目负责人", "项目团队成员"]);
    let phone = warning_of(&v, "same_phone");
    assert_eq!(sorted(&phone), pair(2, 3));
    assert_eq!(phone["evidence"]["value"], "陈晨 / 陈辰（电话 ****2222）");
    let people = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| {
            ["same_agent", "same_person", "same_phone"].contains(&w["kind"].as_str().unwrap())
        })
        .count();
    assert_eq!(
        people, 3,
        "the fifth bid's broken declaration adds nothing: {v}"
    );
    let text = v.to_string();
    for number in ["19491231", "188001010", "13800002222", "0000-2222"] {
        assert!(!text.contains(number), "{number} in {text}");
    }

    // Confirmed with a reason: the supervisors' chain holds no number either, and the
    // public ledger no name.
    let (status, d) = oversight
        .post(
            &path,
            json!({"type": "confirm", "key": agent["key"], "reason": "同一授权代表为两家投标人办理投标。"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let (_, v) = oversight.get(&path).await;
    assert_eq!(warning_of(&v, "same_agent")["status"], "confirmed");
    let chain = v["ledger"].to_string();
    assert!(chain.contains("same_agent"), "{chain}");
    assert!(
        !chain.contains("19491231") && !chain.contains("王强"),
        "{chain}"
    );
    let ledger = ledger_of(&app, &tender).await.to_string();
    assert!(
        !ledger.contains("王强") && !ledger.contains("李娜"),
        "nor in the public ledger"
    );
    for user in ["supplier1", "agency"] {
        let (status, _) = app.login(user).await.get(&path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
    }

    // Oversight reads who and in which role in the page.
    let Some(driver) = crate::browser::browser().await else {
        return;
    };
    let c = &driver.client;
    crate::browser::as_user(c, &app, "oversight").await;
    c.goto(&app.url(&format!("/warnings.html?tender={tender}")))
        .await
        .unwrap();
    let card = crate::hall::wait_text(c, "[data-kind=same_person]", "李娜").await;
    assert!(
        card.contains("R-COL-3") && card.contains("项目负责人") && card.contains("****0014"),
        "{card}"
    );
    let card = crate::hall::text_of(c, "[data-kind=same_agent]").await;
    assert!(
        card.contains("同一授权代表") && card.contains("已确认"),
        "{card}"
    );
    driver.close().await;
}

/// R-COL-4 on PDFs, as bids mostly are: three bids' technical proposals printed to PDF
/// (by Chromium, Chinese set in an embedded CJK font); after the opening their text is
/// read through poppler and the copied plan is warned with its passage, the honest bid
/// is not.
#[tokio::test]
async fn r_col_4_text_copied_between_pdf_documents_is_read_and_warned_with_the_passage() {
    let Some(driver) = crate::browser::browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = spawn_app_at(T0).await;
    let t = crate::evaluation::demo_opening_tender(&app).await;
    let tender = t["id"].as_str().unwrap().to_string();
    let copied = prose(7, 30);
    let texts = [
        format!("{copied}{}", prose(1, 10)),
        format!("{}{}", copied.replace('：', " "), prose(2, 10)),
        prose(6, 40),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut pdfs = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let page = dir.path().join(format!("bid{i}.html"));
        let paragraphs: String = text.lines().map(|l| format!("<p>{l}</p>")).collect();
        std::fs::write(
            &page,
            format!("<!doctype html><meta charset=utf-8><title>技术方案</title><body lang=zh-CN>{paragraphs}</body>"),
        )
        .unwrap();
        c.goto(&format!("file://{}", page.display())).await.unwrap();
        pdfs.push(crate::browser::print_pdf(c).await);
    }
    assert!(pdfs.iter().all(|p| p.starts_with(b"%PDF")));
    let packages: Vec<Vec<(&str, &str, &[u8])>> = pdfs
        .iter()
        .map(|p| vec![("技术方案.pdf", "application/pdf", p.as_slice())])
        .collect();
    let bids = crate::evaluation::bid_and_open_packages(
        &app,
        &clock,
        &tender,
        t["bid_deadline"].as_i64().unwrap(),
        &FIVE_PRICES[..3],
        &packages,
    )
    .await;
    let v = warnings_read_by_oversight(&app, &tender).await;
    let similar: Vec<&Value> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "similar_text")
        .collect();
    assert_eq!(similar.len(), 1, "only the copy: {v}");
    let mut named: Vec<String> = serde_json::from_value(similar[0]["bids"].clone()).unwrap();
    named.sort();
    let mut pair = vec![bids[0].clone(), bids[1].clone()];
    pair.sort();
    assert_eq!(named, pair);
    let passage = similar[0]["evidence"]["passage"].as_str().unwrap();
    assert!(passage.contains("第7号方案"), "{passage}");
    driver.close().await;
}

/// A ZIP file made in the test: (name, bytes) each.
fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A Word document (.docx) of `text`, a paragraph a line: what the comparison reads of it.
fn docx_of(text: &str) -> Vec<u8> {
    let paragraphs: String = text
        .lines()
        .map(|l| format!("<w:p><w:r><w:t>{l}</w:t></w:r></w:p>"))
        .collect();
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{paragraphs}</w:body></w:document>"#
    );
    zip_of(&[("word/document.xml", xml.as_bytes())])
}

/// An Excel workbook (.xlsx) whose text cells are `text`, a cell a line: its shared strings.
fn xlsx_of(text: &str) -> Vec<u8> {
    let cells: String = text
        .lines()
        .map(|l| format!("<si><t>{l}</t></si>"))
        .collect();
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{cells}</sst>"#
    );
    zip_of(&[("xl/sharedStrings.xml", xml.as_bytes())])
}

/// R-COL-4 and R-COL-5 in office documents and archives: one bid's Word document and
/// another's Excel workbook share a copied plan; a third bid's ZIP archive holds the very
/// file a fourth sent bare.
#[tokio::test]
async fn r_col_4_5_a_copy_in_word_and_excel_documents_and_a_file_inside_an_archive_are_warned() {
    let (app, clock) = spawn_app_at(T0).await;
    let t = crate::evaluation::demo_opening_tender(&app).await;
    let tender = t["id"].as_str().unwrap().to_string();
    let copied = prose(7, 30);
    let docx = docx_of(&format!("{copied}{}", prose(1, 10)));
    let xlsx = xlsx_of(&format!("{}{}", copied.replace('：', " "), prose(2, 10)));
    let bare = prose(5, 20);
    let archive = zip_of(&[
        ("商务/资格证明.txt", prose(3, 5).as_bytes()),
        ("技术/施工组织设计.txt", bare.as_bytes()),
    ]);
    const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let packages: Vec<Vec<(&str, &str, &[u8])>> = vec![
        vec![("技术方案.docx", DOCX, docx.as_slice())],
        vec![("技术方案.xlsx", XLSX, xlsx.as_slice())],
        vec![("投标文件.zip", "application/zip", archive.as_slice())],
        vec![("施工组织设计.txt", "text/plain", bare.as_bytes())],
    ];
    let bids = crate::evaluation::bid_and_open_packages(
        &app,
        &clock,
        &tender,
        t["bid_deadline"].as_i64().unwrap(),
        &FIVE_PRICES[..4],
        &packages,
    )
    .await;
    let v = warnings_read_by_oversight(&app, &tender).await;
    let of = |kind: &str| of_kind(&v, kind);
    let pair = |i: usize, j: usize| pair_of(&bids, i, j);
    let similar = of("similar_text");
    assert!(
        similar
            .iter()
            .any(|(b, e)| *b == pair(0, 1) && e["passage"].as_str().unwrap().contains("第7号方案")),
        "the copy in the Word and Excel documents: {v}"
    );
    let files = of("same_file");
    assert_eq!(files.len(), 1, "{v}");
    assert_eq!(files[0].0, pair(2, 3));
    assert_eq!(
        files[0].1["names"],
        json!(["投标文件.zip/技术/施工组织设计.txt", "施工组织设计.txt"])
    );
}

/// A plan `seed` copied with edits: every third item reworded at its end, every fifth
/// dropped.
fn edited_plan(seed: u32, n: u32) -> String {
    plan(seed, n)
        .lines()
        .enumerate()
        .filter(|(i, _)| i % 5 != 4)
        .map(|(i, l)| {
            if i % 3 == 0 {
                format!("{}，另行确认。\n", l.trim_end_matches('。'))
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

#[tokio::test]
async fn r_col_4_one_hand_writing_for_two_firms_in_two_tenders_is_found_across_them() {
    let (app, clock) = spawn_app_at(T0).await;
    // The first tender: supplier1 writes plan 3, supplier3 its own plan 5, the others
    // their own.
    let t = crate::evaluation::demo_opening_tender(&app).await;
    let first = t["id"].as_str().unwrap().to_string();
    let docs = [plan(3, 40), prose(21, 40), plan(5, 40)];
    let docs: Vec<&[u8]> = docs.iter().map(|d| d.as_bytes()).collect();
    let first_bids = crate::evaluation::bid_and_open_each(
        &app,
        &clock,
        &first,
        t["bid_deadline"].as_i64().unwrap(),
        &FIVE_PRICES[..3],
        &docs,
    )
    .await;
    // A tender still open for bids, where supplier4 sends plan 3 too: never compared.
    let publish = |title: &'static str| {
        let (app, clock) = (&app, &clock);
        async move {
            let now = kaibiao::clock::Clock::now_ms(&**clock);
            let agency = app.login("agency").await;
            let (status, t) = agency
                .post("/api/tenders", app.tender_body(title, now).await)
                .await;
            assert!(status.is_success(), "{t}");
            let id = t["id"].as_str().unwrap().to_string();
            let (status, v) = agency
                .post(&format!("/api/tenders/{id}/publish"), json!({}))
                .await;
            assert_eq!(status, StatusCode::OK, "{v}");
            (id, t["bid_deadline"].as_i64().unwrap())
        }
    };
    let (second, deadline) = publish("档案馆密集架采购").await;
    // The second: supplier2 sends an edited copy of plan 3 — another firm, another
    // tender; supplier3 its plan 5 again (its own text, reused); supplier1 a new plan.
    let docs = [plan(8, 40), edited_plan(3, 40), plan(5, 40)];
    let docs: Vec<&[u8]> = docs.iter().map(|d| d.as_bytes()).collect();
    let second_bids = crate::evaluation::bid_and_open_each(
        &app,
        &clock,
        &second,
        deadline,
        &FIVE_PRICES[..3],
        &docs,
    )
    .await;
    let oversight = app.login("oversight").await;
    // Nobody read the first tender's warnings: the due work read its texts.
    // The due work ticks each second; a loaded machine may take a few.
    let mut across = Vec::new();
    for _ in 0..300 {
        let (status, v) = oversight
            .get(&format!("/api/tenders/{second}/warnings"))
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        across = of_kind(&v, "similar_across_tenders");
        if !across.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(across.len(), 1, "{across:?}");
    let (bids, e) = &across[0];
    assert_eq!(bids, &vec![second_bids[1].clone()]);
    assert_eq!(e["tender"]["id"], first.as_str());
    assert_eq!(e["other_bid_id"], first_bids[0].as_str());
    assert_eq!(e["bidders"][1], "黄石楚禾信息技术有限公司", "{e}");
    let similarity = e["similarity"].as_f64().unwrap();
    assert!((0.4..1.0).contains(&similarity), "{similarity}");
    // And from the first tender, the other way.
    let v = warnings_read_by_oversight(&app, &first).await;
    let back = of_kind(&v, "similar_across_tenders");
    assert_eq!(back.len(), 1, "{v}");
    assert_eq!(back[0].0, vec![first_bids[0].clone()]);
    assert_eq!(back[0].1["tender"]["id"], second.as_str());

    // Oversight reads it in the page, with the other tender one click away.
    if let Some(driver) = crate::browser::browser().await {
        let c = &driver.client;
        crate::browser::as_user(c, &app, "oversight").await;
        c.goto(&app.url(&format!("/warnings.html?tender={second}")))
            .await
            .unwrap();
        let card =
            crate::hall::wait_text(c, "[data-kind=similar_across_tenders]", "开标演示").await;
        assert!(card.contains("疑为同一人编制"), "{card}");
        let card =
            crate::hall::wait_text(c, "[data-kind=similar_across_tenders]", "黄石楚禾").await;
        assert!(card.contains("估计相似度"), "{card}");
        driver.close().await;
    }

    // The tender still open for bids is not read, whatever its bids hold.
    let (open, _) = publish("图书馆书架采购").await;
    let s = app.login("supplier4").await;
    s.register_keys().await;
    let (status, _) = crate::bids::start_bid(&s, &open).await;
    assert_eq!(status, StatusCode::CREATED);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let read: Vec<String> = sqlx::query_scalar("SELECT tender_id FROM text_indexed")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(read.len(), 2, "{read:?}");
    assert!(!read.contains(&open), "{read:?}");
    // Nor to anyone but the supervisors.
    for user in ["supplier1", "supplier2", "agency", "purchaser"] {
        let (status, _) = app
            .login(user)
            .await
            .get(&format!("/api/tenders/{second}/warnings"))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
    }
}
