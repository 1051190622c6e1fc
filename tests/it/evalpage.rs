//! The evaluation room (evaluation.html) in real Chromium: an expert scores blind, sees the
//! panel's scores for a bid only once theirs are in, and signs the report with a key
//! imported from a key file, the server accepting the signature.
//!
//! With `KAIBIAO_SCREENSHOTS=<dir>`, the room is also saved as PNGs at desktop and phone
//! widths, for people to look at.

use std::time::Duration;

use fantoccini::Client;
use kaibiao::clock::ManualClock;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::browser::{click_long, js, login, set_value, wait_long};
use crate::common::{Session, TestApp};
use crate::hall::{import_key_file_wrong_first, text_of, wait_text};

/// Saves the page as `<dir>/<name>-<width>.png` at desktop and phone widths, scrolled to
/// `css`, when KAIBIAO_SCREENSHOTS is set.
async fn screenshots(c: &Client, name: &str, css: &str) {
    let Ok(dir) = std::env::var("KAIBIAO_SCREENSHOTS") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    for (width, height) in [(1280, 900), (390, 844)] {
        c.set_window_size(width, height).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        js(
            c,
            "const el = document.querySelector(arguments[0]); \
             if (el) el.scrollIntoView({block: 'start'}); window.scrollBy(0, -8);",
            vec![json!(css)],
        )
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let png = c.screenshot().await.unwrap();
        std::fs::write(format!("{dir}/{name}-{width}.png"), png).unwrap();
    }
    c.set_window_size(1280, 900).await.unwrap();
}

/// At phone width (390 px) nothing makes the page scroll sideways (wide tables scroll in
/// their own box); names what sticks out otherwise.
async fn fits_a_phone(c: &Client) {
    c.set_window_size(390, 844).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let wide = js(
        c,
        "const W = document.documentElement.clientWidth; \
         if (document.documentElement.scrollWidth <= W) return ''; \
         return Array.from(document.querySelectorAll('body *')) \
           .filter((el) => el.getBoundingClientRect().right > W + 1 && !el.closest('.table-wrap')) \
           .slice(0, 10).map((el) => el.tagName + '.' + el.className).join(' | ');",
        vec![],
    )
    .await;
    c.set_window_size(1280, 900).await.unwrap();
    assert_eq!(wide, json!(""), "wider than a phone");
}

pub(crate) async fn eval_command(s: &Session, tender: &str, cmd: Value) -> Value {
    let (status, v) = s
        .post(&format!("/api/tenders/{tender}/evaluation"), cmd.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{cmd} → {v}");
    v
}

pub(crate) async fn view(s: &Session, tender: &str) -> Value {
    let (status, v) = s.get(&format!("/api/tenders/{tender}/evaluation")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// A tender in `scoring`: three bids read out (crate::evaluation::evaluating), a panel drawn
/// with the finance supervisor's nonce and seated — seat 1's first expert declined and the
/// next of the order took the seat (R-EVAL-2) —, every bid qualified and found compliant.
/// Returns the tender, its bid ids, the seated experts' user names by seat and the expert
/// who declined.
pub(crate) async fn scoring(
    app: &TestApp,
    clock: &ManualClock,
) -> (String, Vec<String>, Vec<String>, String) {
    let (tender, bids) =
        crate::evaluation::evaluating(app, clock, &[100_000_000, 105_000_000, 95_000_000]).await;
    let agency = app.login("agency").await;
    eval_command(
        &agency,
        &tender,
        json!({"type": "request_draw", "specialty": "environmental"}),
    )
    .await;
    let finance = app.login("finance").await;
    eval_command(
        &finance,
        &tender,
        json!({"type": "draw", "nonce": "评标页面测试"}),
    )
    .await;
    let v = view(&finance, &tender).await;
    let first = v["panel"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["seat"] == 1)
        .unwrap();
    let declined = crate::evaluation::expert_user(app, first["expert_id"].as_str().unwrap()).await;
    eval_command(
        &app.login(&declined).await,
        &tender,
        json!({"type": "decline", "reason": "评审时间冲突"}),
    )
    .await;
    let v = view(&finance, &tender).await;
    let mut experts = Vec::new();
    for seat in v["panel"].as_array().unwrap() {
        if seat["status"] != "invited" {
            continue;
        }
        let user = crate::evaluation::expert_user(app, seat["expert_id"].as_str().unwrap()).await;
        let accept = crate::evaluation::accept(app, &user, &tender).await;
        eval_command(&app.login(&user).await, &tender, accept).await;
        experts.push(user);
    }
    assert_ne!(
        experts[0], declined,
        "seat 1 is held by the expert who came after"
    );
    let purchaser = app.login("purchaser").await;
    for bid in &bids {
        eval_command(
            &purchaser,
            &tender,
            json!({"type": "qualify", "bid_id": bid, "pass": true}),
        )
        .await;
    }
    for user in &experts {
        let s = app.login(user).await;
        for bid in &bids {
            eval_command(
                &s,
                &tender,
                json!({"type": "review", "bid_id": bid, "pass": true}),
            )
            .await;
        }
    }
    assert_eq!(view(&finance, &tender).await["phase"], "scoring");
    (tender, bids, experts, declined)
}

/// An expert's 符合性审查 of one bid in the page, by the tender's checklist (符合性审查表):
/// every criterion 符合 except `fails`, each 不符合 with its reason; waits for the verdict.
pub(crate) async fn review_by_checklist(c: &Client, bid: &str, fails: &[(&str, &str)]) {
    let form = format!(".eval-bid[data-bid='{bid}'] .checklist-form");
    wait_long(c, &form).await;
    let names: Vec<String> = serde_json::from_value(
        js(
            c,
            "return Array.from(document.querySelectorAll(arguments[0] + ' .check-row'), \
               (el) => el.dataset.criterion)",
            vec![json!(form)],
        )
        .await,
    )
    .unwrap();
    assert!(!names.is_empty(), "the checklist's criteria in the page");
    for n in &names {
        let row = format!("{form} .check-row[data-criterion='{n}']");
        match fails.iter().find(|(f, _)| f == n) {
            Some((_, why)) => {
                set_value(c, &format!("{row} select"), "fail").await;
                set_value(c, &format!("{row} textarea"), why).await;
            }
            None => set_value(c, &format!("{row} select"), "pass").await,
        }
    }
    click_long(c, &format!("{form} .checklist-submit")).await;
    wait_long(
        c,
        &format!(".eval-bid[data-bid='{bid}'] .compliance [data-mine]"),
    )
    .await;
}

/// One expert's scores: every item at `base`, objective items at 100 (they must agree).
fn sheet(items: &[Value], base: &str) -> Value {
    let mut out = serde_json::Map::new();
    for it in items {
        let value = if it["objective"] == true { "100" } else { base };
        out.insert(it["name"].as_str().unwrap().to_string(), json!(value));
    }
    Value::Object(out)
}

#[tokio::test]
async fn an_expert_scores_blind_sees_the_panel_after_submitting_and_signs_the_report() {
    let Some(driver) = crate::browser::patient_browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = crate::common::spawn_app_at(crate::evaluation::T0).await;
    let (tender, bids, experts, declined) = scoring(&app, &clock).await;
    let oversight = app.login("oversight").await;
    let terms = view(&oversight, &tender).await["terms"]["items"].clone();
    let items = terms.as_array().unwrap().clone();

    // The expert in the browser keeps their keys in a key file; the others score first.
    let me = experts[0].clone();
    let mine = app.login(&me).await;
    let registered = mine.register_keys().await;
    let passphrase = "评标室 passphrase";
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("expert.kbkey");
    std::fs::write(
        &key_path,
        registered.keys.to_file(&mine.user_id(), passphrase),
    )
    .unwrap();
    let others: Vec<Session> = {
        let mut v = Vec::new();
        for user in &experts[1..] {
            v.push(app.login(user).await);
        }
        v
    };
    for s in &others {
        eval_command(
            s,
            &tender,
            json!({"type": "score", "bid_id": bids[0], "items": sheet(&items, "82.50")}),
        )
        .await;
    }

    login(c, &app, &me).await;
    c.goto(&app.url(&format!("/evaluation.html?tender={tender}")))
        .await
        .unwrap();
    wait_long(c, "#eval-phase[data-phase='scoring']").await;
    wait_long(c, "#eval-conn[data-status='live']").await;
    let card = format!(".eval-bid[data-bid='{}']", bids[0]);

    // Blind: the others' scores are not on the page before this expert's are in.
    wait_text(c, &format!("{card} .sealed-note"), "提交本人评分后").await;
    let before = text_of(c, &card).await;
    assert!(!before.contains("82.50"), "sealed scores shown: {before}");
    assert!(
        !js(
            c,
            "return Boolean(document.querySelector(arguments[0]))",
            vec![json!(format!("{card} .scores-table"))]
        )
        .await
        .as_bool()
        .unwrap(),
        "no panel table before submitting"
    );
    let form = text_of(c, &format!("{card} .score-form")).await;
    assert!(
        form.contains("客观分"),
        "objective items are marked: {form}"
    );
    // The evaluated price, line by line, with the small/micro deduction's rule and rate.
    let derivation = text_of(c, &format!("{card} .price-derivation")).await;
    assert!(derivation.contains("评标价"), "{derivation}");
    // Its notes come from the catalogue in Chinese: no English words, only rule codes.
    assert!(derivation.contains("小微企业"), "{derivation}");
    let english = english_words(&derivation);
    assert!(
        english.is_empty(),
        "English on a zh-CN page: {english:?} in {derivation}"
    );
    // The bid's documents open in the room's reader, for a seated expert: the text shows in
    // the page, and the file itself is not downloaded.
    click_long(c, &format!("{card} .doc-read")).await;
    wait_text(c, "#reader-text", "proposal").await;
    click_long(c, "#reader-close").await;
    let status = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch(arguments[0]).then((r) => r.json()).then((v) => done(v.code), (e) => done(String(e)));",
            vec![json!(format!(
                "/api/tenders/{tender}/evaluation/documents/{}",
                kaibiao::crypto::sha256_hex(b"proposal")
            ))],
        )
        .await
        .unwrap();
    assert_eq!(status, json!("DOWNLOAD_NOT_ALLOWED"));
    screenshots(c, "eval-scoring", &format!("{card} .score-form")).await;

    // A score out of range is refused in the page before it is sent.
    let first = items[0]["name"].as_str().unwrap();
    for (i, it) in items.iter().enumerate() {
        let value = if it["objective"] == true { "100" } else { "80" };
        let value = if i == 0 { "101" } else { value };
        set_value(
            c,
            &format!(
                "{card} .score-input[data-item='{}']",
                it["name"].as_str().unwrap()
            ),
            value,
        )
        .await;
    }
    click_long(c, &format!("{card} .score-submit")).await;
    wait_text(c, &format!("{card} .command-error"), "0–100").await;
    set_value(
        c,
        &format!("{card} .score-input[data-item='{first}']"),
        "80",
    )
    .await;
    // 评分细则: the item's bands are shown with what earns each; a score outside the band
    // picked is refused by the server, one within it taken.
    let rubric = text_of(
        c,
        &format!("{card} .score-row[data-item='{first}'] .rubric"),
    )
    .await;
    assert!(
        rubric.contains("优 85.00–100.00") && rubric.contains("方案完整"),
        "{rubric}"
    );
    let band = format!("{card} .band-select[data-item='{first}']");
    set_value(c, &band, "优").await;
    click_long(c, &format!("{card} .score-submit")).await;
    let refused = wait_text(c, &format!("{card} .command-error"), "所选档次").await;
    assert!(refused.contains("良 70.00–84.99"), "{refused}");
    screenshots(c, "eval-rubric", &format!("{card} .score-form")).await;
    set_value(c, &band, "良").await;
    click_long(c, &format!("{card} .score-submit")).await;

    // Submitted: the panel's scores open, the others' 82.50 among them.
    wait_long(c, &format!("{card} .scores-table")).await;
    let table = wait_text(c, &format!("{card} .scores-table"), "82.50").await;
    assert!(table.contains("80.00"), "own score in the table: {table}");
    assert_eq!(
        js(
            c,
            "return document.querySelectorAll(arguments[0]).length",
            vec![json!(format!("{card} .scores-table tbody tr"))]
        )
        .await,
        json!(experts.len()),
        "{table}"
    );
    wait_text(c, &format!("{card} .my-scored"), "已提交").await;
    screenshots(c, "eval-scored", &format!("{card} .scoring")).await;
    fits_a_phone(c).await;

    // Everyone scores the rest; the page follows the progress live.
    for bid in &bids[1..] {
        eval_command(
            &mine,
            &tender,
            json!({"type": "score", "bid_id": bid, "items": sheet(&items, "80")}),
        )
        .await;
        for s in &others {
            eval_command(
                s,
                &tender,
                json!({"type": "score", "bid_id": bid, "items": sheet(&items, "78")}),
            )
            .await;
        }
    }
    let total = experts.len() * bids.len();
    wait_text(c, "#eval-progress-text", &format!("{total} / {total}")).await;

    // The panel elects the expert in the browser its chair, who closes scoring: the room
    // moves to signing by itself, with the report.
    crate::evaluation::elect_and_finish(&app, &tender, &me).await;
    wait_long(c, "#eval-phase[data-phase='signing']").await;
    let ranking = wait_text(c, "#eval-report .ranking-table", "1").await;
    let names: Vec<String> = view(&oversight, &tender).await["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["bidder_name"].as_str().unwrap().to_string())
        .collect();
    for n in &names {
        assert!(ranking.contains(n.as_str()), "{n} ranked: {ranking}");
    }

    // No key in this browser: the key file is imported, then the report signed with a
    // dissent; the server accepts the signature.
    wait_text(c, "#sign-form", "本浏览器没有您的密钥").await;
    import_key_file_wrong_first(c, "#sign-form", &key_path, passphrase).await;
    wait_long(c, "#sign-report").await;
    wait_text(c, "#key-ready", "已从密钥文件导入").await;
    let dissent = "对第1包技术评分保留意见:样品演示未按招标文件进行。";
    set_value(c, "#in-sign-dissent", dissent).await;
    screenshots(c, "eval-signing", "#eval-report").await;
    fits_a_phone(c).await;
    // Signing asks first; a cancel sends nothing.
    click_long(c, "#sign-report").await;
    wait_text(c, "#confirm-message", "签署后不能撤回").await;
    click_long(c, "#confirm-cancel").await;
    let (_, v) = mine.get(&format!("/api/tenders/{tender}/evaluation")).await;
    assert!(
        !v["report"]["signed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["dissent"] == dissent),
        "nothing signed on cancel"
    );
    click_long(c, "#sign-report").await;
    click_long(c, "#confirm-ok").await;
    wait_text(c, "#my-signature", "您已签署评标报告").await;
    let signatures = text_of(c, "#signatures").await;
    assert!(signatures.contains(dissent), "{signatures}");
    screenshots(c, "eval-signed", "#eval-report").await;

    let v = view(&oversight, &tender).await;
    let seat = view(&mine, &tender).await["me"]["seat"].clone();
    let signed = v["report"]["signed"].as_array().unwrap();
    assert!(
        signed
            .iter()
            .any(|s| s["seat"] == seat && s["dissent"] == dissent),
        "the server holds the browser's signature: {signed:?}"
    );

    // Seat 1 was topped up: the signature under it is the replacement's, shown to her by
    // her name, and the expert who declined is nowhere on her page.
    let display = |user: &str| {
        let user = user.to_string();
        let pool = app.state.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT e.name FROM experts e JOIN users u ON u.id = e.user_id \
                 WHERE u.username = $1",
            )
            .bind(user)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let (my_name, declined_name) = (display(&me).await, display(&declined).await);
    let seat1 = text_of(c, "#signatures li[data-seat='1']").await;
    assert!(
        seat1.contains(&my_name) && seat1.contains("已签署"),
        "{seat1}"
    );
    let room = text_of(c, "#eval-panel").await;
    assert!(!room.contains(&declined_name), "{room}");
    // The expert who declined sees seat 1 as someone else's: no 本人, no signature of hers.
    login(c, &app, &declined).await;
    c.goto(&app.url(&format!("/evaluation.html?tender={tender}")))
        .await
        .unwrap();
    let seat1 = wait_text(c, "#signatures li[data-seat='1']", "已签署").await;
    assert!(
        !seat1.contains(&declined_name) && !seat1.contains(&my_name),
        "the decliner sees seat 1 as a seat: {seat1}"
    );
    let held = text_of(c, "#panel-list li[data-seat='1'][data-status='accepted']").await;
    assert!(!held.contains("本人"), "{held}");
    let own = text_of(c, "#panel-list li[data-seat='1'][data-status='declined']").await;
    assert!(own.contains("本人"), "her own declined invitation: {own}");

    // Another expert has no key file at all: the page makes a signing key here and
    // registers it, and the report is signed with it.
    login(c, &app, &experts[1]).await;
    c.goto(&app.url(&format!("/evaluation.html?tender={tender}")))
        .await
        .unwrap();
    wait_text(c, "#sign-form", "本浏览器没有您的密钥").await;
    click_long(c, "#create-sign-key").await;
    wait_long(c, "#sign-report").await;
    click_long(c, "#sign-report").await;
    click_long(c, "#confirm-ok").await;
    wait_text(c, "#my-signature", "您已签署评标报告").await;
    let keys = others[0].get("/api/keys").await.1;
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|k| k["purpose"] == "signing" && k["status"] == "active"),
        "registered: {keys}"
    );

    // The printable report: opened from the room, checked in the page against the
    // ledger, the panel by seat (names are not public yet), every derivation in Chinese.
    click_long(c, "#report-page").await;
    wait_long(c, "#check-report-sha[data-ok='true']").await;
    let signed = text_of(c, "#report-signatures").await;
    assert!(
        signed.contains("第") && signed.contains(dissent),
        "{signed}"
    );
    // The signature columns: a row per seat, signed or still to sign.
    assert!(
        signed.contains("签署时间") && signed.contains("意见"),
        "{signed}"
    );
    assert_eq!(
        js(
            c,
            "return document.querySelectorAll('#report-signatures tbody tr').length",
            vec![]
        )
        .await,
        json!(experts.len()),
        "{signed}"
    );
    let page = text_of(c, "#report").await;
    for n in &names {
        assert!(page.contains(n.as_str()), "{n} in the report: {page}");
    }
    assert!(page.contains("评标价 ="), "{page}");
    let english = english_words(&page);
    assert!(
        english.is_empty(),
        "English on the zh-CN report: {english:?}"
    );
    screenshots(c, "eval-report-page", "#report").await;
    driver.close().await;
}

#[tokio::test]
async fn the_agency_and_finance_draw_in_the_room_and_a_bidder_answers_a_clarification_in_the_hall()
{
    let Some(driver) = crate::browser::patient_browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = crate::common::spawn_app_at(crate::evaluation::T0).await;
    let (tender, bids) =
        crate::evaluation::evaluating(&app, &clock, &[100_000_000, 105_000_000, 95_000_000]).await;
    let room = format!("/evaluation.html?tender={tender}");

    // The agency finds the room from the tender page and asks for the draw there; a
    // refused requirement is shown with the server's words, and nothing is drawn.
    login(c, &app, "agency").await;
    c.goto(&app.url(&format!("/tender.html?id={tender}")))
        .await
        .unwrap();
    click_long(c, "#eval-link").await;
    wait_long(c, "#draw-form").await;
    wait_long(c, "#eval-conn[data-status='live']").await;
    set_value(c, "#draw-specialty", "environmental").await;
    set_value(c, "#draw-size", "4").await;
    click_long(c, "#request-draw").await;
    click_long(c, "#confirm-ok").await;
    wait_text(
        c,
        ".command-error[data-key='request_draw']",
        "专家抽取失败：评标委员会人数不符合规定",
    )
    .await;
    screenshots(c, "eval-draw", "#host-card").await;
    set_value(c, "#draw-size", "").await;
    click_long(c, "#request-draw").await;
    click_long(c, "#confirm-ok").await;
    wait_long(c, "#eval-phase[data-phase='drawing']").await;

    // The finance supervisor gives the nonce in the room: the panel is drawn.
    login(c, &app, "finance").await;
    c.goto(&app.url(&room)).await.unwrap();
    wait_long(c, "#finance-card").await;
    set_value(c, "#draw-nonce", "财政监督 浏览器抽取").await;
    screenshots(c, "eval-nonce", "#finance-card").await;
    click_long(c, "#draw-submit").await;
    click_long(c, "#confirm-ok").await;
    wait_long(c, "#eval-phase[data-phase='seating']").await;
    let panel = wait_text(c, "#panel-list", "已抽中").await;
    assert!(panel.contains("第 5 席") || panel.contains('5'), "{panel}");
    // Exclusions each with their reason: most are of another specialty, not ties.
    let counts = wait_text(c, "#draw-counts", "专业不符").await;
    assert!(!counts.contains("回避排除"), "{counts}");
    // Finance sees whom it may have to call: each drawn expert's login.
    let panel = wait_text(c, "#panel-list", "登录名 expert").await;
    assert_eq!(panel.matches("登录名 expert").count(), 5, "{panel}");

    // The first drawn expert takes the seat in the room: the declaration of no conflict
    // (回避承诺) is read, ticked and signed with a key made in this browser.
    let finance = app.login("finance").await;
    let v = view(&finance, &tender).await;
    let first =
        crate::evaluation::expert_user(&app, v["panel"][0]["expert_id"].as_str().unwrap()).await;
    login(c, &app, &first).await;
    c.goto(&app.url(&room)).await.unwrap();
    wait_text(c, "#declaration-text", "回避").await;
    // The Chinese text is what is signed; the English screen adds a rendering under it.
    let english: Value = c
        .execute(
            "return Boolean(document.getElementById('declaration-en'))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(english, false, "no English rendering on the zh-CN screen");
    click_long(c, "#lang-toggle").await;
    wait_text(c, "#declaration-en", "step aside").await;
    wait_text(c, "#declaration-text", "回避").await;
    screenshots(c, "eval-declaration-en", "#expert-card").await;
    fits_a_phone(c).await;
    click_long(c, "#lang-toggle").await;
    wait_text(c, "#declaration-heading", "回避承诺").await;
    click_long(c, "#create-sign-key").await;
    wait_long(c, "#accept-invite").await;
    click_long(c, "#accept-invite").await;
    wait_text(c, ".command-error[data-key='accept']", "请先勾选").await;
    click_long(c, "#declare-check").await;
    click_long(c, "#accept-invite").await;
    wait_text(c, "#expert-card", "已接受").await;
    let accepted = crate::evaluation::ledger_of(&app, &tender).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "expert_accepted" && e["body"]["declaration_sha256"].is_string());
    assert!(accepted, "the signed declaration is in the ledger");

    // Seats, verdicts and reviews over the API bring it to scoring.
    let v = view(&finance, &tender).await;
    let mut experts = vec![first.clone()];
    for seat in v["panel"].as_array().unwrap() {
        if seat["status"] != "invited" {
            continue;
        }
        let user = crate::evaluation::expert_user(&app, seat["expert_id"].as_str().unwrap()).await;
        let accept = crate::evaluation::accept(&app, &user, &tender).await;
        eval_command(&app.login(&user).await, &tender, accept).await;
        experts.push(user);
    }
    let purchaser = app.login("purchaser").await;
    for bid in &bids {
        eval_command(
            &purchaser,
            &tender,
            json!({"type": "qualify", "bid_id": bid, "pass": true}),
        )
        .await;
    }
    // The expert in the page reviews by the checklist: 交货期 failed without a reason is
    // refused before anything is sent; with its reason the verdict is kept per criterion
    // and the panel's count shows. The others review over the API.
    wait_long(c, "#eval-phase[data-phase='compliance']").await;
    let card = format!(".eval-bid[data-bid='{}']", bids[0]);
    let row = format!("{card} .check-row[data-criterion='交货期']");
    wait_long(c, &row).await;
    click_long(c, &format!("{card} .checklist-submit")).await;
    wait_text(c, &format!("{card} .command-error"), "作出结论").await;
    js(
        c,
        "document.querySelectorAll(arguments[0] + ' .check-pick').forEach((el) => { \
           el.value = 'pass'; el.dispatchEvent(new Event('change', {bubbles: true})); })",
        vec![json!(card)],
    )
    .await;
    set_value(c, &format!("{row} select"), "fail").await;
    click_long(c, &format!("{card} .checklist-submit")).await;
    wait_text(c, &format!("{card} .command-error"), "写明理由").await;
    let reason = "交货期 60 天，超过要求的 30 天";
    review_by_checklist(c, &bids[0], &[("交货期", reason)]).await;
    screenshots(c, "eval-checklist", &card).await;
    wait_text(
        c,
        &format!("{card} .compliance [data-mine='false']"),
        reason,
    )
    .await;
    wait_text(
        c,
        &format!("{card} .checklist-tally tr[data-criterion='交货期']"),
        reason,
    )
    .await;
    for bid in &bids[1..] {
        review_by_checklist(c, bid, &[]).await;
    }
    for user in &experts[1..] {
        let s = app.login(user).await;
        for bid in &bids {
            eval_command(
                &s,
                &tender,
                json!({"type": "review", "bid_id": bid, "pass": true}),
            )
            .await;
        }
    }
    wait_long(c, "#eval-phase[data-phase='scoring']").await;
    // One of the panel failed it on one criterion: the majority passes the bid.
    wait_text(
        c,
        &format!("{card} .compliance [data-compliant='true']"),
        "符合",
    )
    .await;

    // The agency asks supplier3 (the third bid) to clarify, from the bid's card.
    login(c, &app, "agency").await;
    c.goto(&app.url(&room)).await.unwrap();
    let card = format!(".eval-bid[data-bid='{}']", bids[2]);
    click_long(c, &format!("{card} .clarify-details summary")).await;
    let question = "请书面说明贵司报价的成本构成。";
    set_value(c, &format!("{card} .clarify-details textarea"), question).await;
    click_long(c, &format!("{card} .clarify-submit")).await;
    wait_text(c, &format!("{card} .clarification-list"), question).await;
    wait_text(c, &format!("{card} .clarification-list"), "等待投标人答复").await;

    // The bidder finds it from its dashboard, without a typed address: the tender it bid
    // on is listed with the request awaiting it, and leads to its opening hall, where it
    // answers; a second question arrives live.
    login(c, &app, "supplier3").await;
    let item = format!("#dash-my-bids .dash-bid[data-tender='{tender}']");
    wait_text(c, &item, "1 项澄清待答复").await;
    // A request made while the dashboard is open is told there as it arrives.
    let also = "请说明设备的质保服务网点。";
    eval_command(
        &app.login("agency").await,
        &tender,
        json!({"type": "clarify", "bid_id": bids[2], "question": also}),
    )
    .await;
    wait_text(c, "#dash-live", "新的澄清要求").await;
    wait_text(c, &item, "2 项澄清待答复").await;
    screenshots(c, "dashboard-my-bids", "#dash-my-bids").await;
    click_long(c, &format!("{item} a.hall-link")).await;
    wait_text(c, "#clarify-card", question).await;
    wait_long(c, "#hall-conn[data-status='live']").await;
    let answer = "我司自有生产线,原材料为长期协议价。";
    set_value(c, "#clarify-card .clarification-box", answer).await;
    click_long(c, "#clarify-card .clarification-submit").await;
    wait_text(
        c,
        "#clarify-card .clarification[data-answered='true']",
        answer,
    )
    .await;
    let second = "请补充提供主要原材料的采购合同。";
    eval_command(
        &app.login("agency").await,
        &tender,
        json!({"type": "clarify", "bid_id": bids[2], "question": second}),
    )
    .await;
    // (The one asked while the dashboard was open waits for its answer too.)
    let open = wait_text(c, "#clarify-card", second).await;
    assert!(open.contains(also), "{open}");
    screenshots(c, "eval-clarification", "#clarify-card").await;
    fits_a_phone(c).await;

    // Back in the room, the agency reads the answer under its question.
    login(c, &app, "agency").await;
    c.goto(&app.url(&room)).await.unwrap();
    wait_text(c, &format!("{card} .clarification-list"), answer).await;
    driver.close().await;
}

/// Words of three or more Latin letters that are not codes (all capitals, like R-POL or
/// SME, or the `kaibiao verify` command): what a zh-CN screen must not show outside user
/// data.
pub(crate) fn english_words(text: &str) -> Vec<String> {
    // The command a reader runs is a code, not a word of the page.
    let text = text.replace("kaibiao verify", "");
    // Addresses (an API link shown for download) are data too.
    let text: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !w.contains("/api/") && !w.contains("://"))
        .collect();
    let text = text.join(" ");
    text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        // Hashes, ids, keys, file names and codes with digits are data, not words.
        .filter(|t| !t.chars().any(|c| c.is_ascii_digit()) && t.len() < 20 && !t.contains('.'))
        .flat_map(|t| t.split(|c: char| !c.is_ascii_alphabetic()))
        .filter(|w| w.len() >= 3 && w.chars().any(|c| c.is_ascii_lowercase()))
        .map(str::to_string)
        .collect()
}

/// #20's chair in the room: an expert casts the deciding vote in the page and, as chair,
/// finishes the scoring there; the agency's card no longer offers it.
#[tokio::test]
async fn an_expert_is_chosen_chair_in_the_room_and_finishes_the_scoring() {
    let Some(driver) = crate::browser::browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = crate::common::spawn_app_at(crate::evaluation::T0).await;
    let (tender, bids, experts, _) = scoring(&app, &clock).await;
    let me = &experts[0];
    let seat = view(&app.login(me).await, &tender).await["me"]["seat"]
        .as_i64()
        .unwrap();
    let majority = experts.len() / 2 + 1;
    for e in &experts[1..majority] {
        eval_command(
            &app.login(e).await,
            &tender,
            json!({"type": "elect_chair", "seat": seat}),
        )
        .await;
    }
    let items = view(&app.login(me).await, &tender).await["terms"]["items"]
        .as_array()
        .unwrap()
        .clone();
    for e in &experts {
        let s = app.login(e).await;
        for bid in &bids {
            eval_command(
                &s,
                &tender,
                json!({"type": "score", "bid_id": bid, "items": sheet(&items, "80")}),
            )
            .await;
        }
    }
    login(c, &app, me).await;
    c.goto(&app.url(&format!("/evaluation.html?tender={tender}")))
        .await
        .unwrap();
    let tally = wait_text(
        c,
        "#chair-block",
        &format!("第 {seat} 席 {} 票", majority - 1),
    )
    .await;
    assert!(tally.contains("评标组长"), "{tally}");
    set_value(c, "#chair-seat", &seat.to_string()).await;
    click_long(c, "#elect-chair").await;
    let chosen = wait_text(c, "#chair-chosen", "评委会推选").await;
    assert!(
        chosen.contains(&format!("第 {seat} 席")) && chosen.contains("本人"),
        "{chosen}"
    );
    screenshots(c, "eval-chair", "#expert-card").await;
    click_long(c, "#finish-scoring").await;
    click_long(c, "#confirm-ok").await;
    wait_long(c, "#eval-phase[data-phase='signing']").await;
    let (_, report) = app
        .login("finance")
        .await
        .get(&format!("/api/tenders/{tender}/evaluation"))
        .await;
    assert_eq!(report["phase"], "signing");
    driver.close().await;
}
