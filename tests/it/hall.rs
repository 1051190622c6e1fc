//! Pages of the opening in real Chromium: key files made by the Rust side open in the
//! browser (keys imported non-extractable, then used to unseal what was sealed to them),
//! and the opening hall as bidders, the host and custodians see it.
//!
//! With `KAIBIAO_SCREENSHOTS=<dir>`, pages are also saved as PNGs at desktop and phone
//! widths, for people to look at.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use crate::browser::{app_page, click_long, js, login, wait_long, SLOW};
use crate::common::{b64, TestApp, PASSWORD};

/// The visible text of `css`.
pub(crate) async fn text_of(c: &Client, css: &str) -> String {
    js(
        c,
        "const el = document.querySelector(arguments[0]); return el ? el.innerText : '';",
        vec![json!(css)],
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// Saves the page as `<dir>/<name>-<width>.png` at desktop and phone widths when
/// KAIBIAO_SCREENSHOTS is set.
async fn screenshots(c: &Client, name: &str) {
    let Ok(dir) = std::env::var("KAIBIAO_SCREENSHOTS") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    for (width, height) in [(1280, 900), (390, 844)] {
        c.set_window_size(width, height).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let png = c.screenshot().await.unwrap();
        std::fs::write(format!("{dir}/{name}-{width}.png"), png).unwrap();
    }
    c.set_window_size(1280, 900).await.unwrap();
}

/// Imports the key file at `path` through the panel inside `scope` with `passphrase`.
pub(crate) async fn import_key_file(
    c: &Client,
    scope: &str,
    path: &std::path::Path,
    passphrase: &str,
) {
    let panel = choose_key_file(c, scope, path).await;
    submit_passphrase(&panel, passphrase).await;
}

/// Chooses the key file at `path` in the key panel under `scope`; the panel, whose
/// passphrase is still to be typed.
async fn choose_key_file(
    c: &Client,
    scope: &str,
    path: &std::path::Path,
) -> fantoccini::elements::Element {
    let panel = wait_long(c, &format!("{scope} .keyfile-panel")).await;
    panel
        .find(Locator::Css(".keyfile-file"))
        .await
        .unwrap()
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    panel
}

/// As [`import_key_file`], with a wrong passphrase first: the page says so, and the right
/// one then opens the file.
pub(crate) async fn import_key_file_wrong_first(
    c: &Client,
    scope: &str,
    path: &std::path::Path,
    passphrase: &str,
) {
    import_key_file(c, scope, path, "not the passphrase").await;
    wait_long(c, &format!("{scope} .keyfile-status .banner-error")).await;
    let said = text_of(c, &format!("{scope} .keyfile-status")).await;
    assert!(said.contains("口令错误"), "{said}");
    let panel = wait_long(c, &format!("{scope} .keyfile-panel")).await;
    submit_passphrase(&panel, passphrase).await;
}

async fn submit_passphrase(panel: &fantoccini::elements::Element, passphrase: &str) {
    let pass = panel.find(Locator::Css(".keyfile-pass")).await.unwrap();
    pass.clear().await.unwrap();
    pass.send_keys(passphrase).await.unwrap();
    panel
        .find(Locator::Css(".keyfile-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// The bidder's half-key of a container, unsealed in the page with the stored key.
const UNSEAL_KB_JS: &str = r##"
const done = arguments[arguments.length - 1];
(async () => {
  const base = arguments[0];
  const keys = await import(base + 'keys.js');
  const kb1 = await import(base + 'kb1.js');
  const B = await import(base + 'bytes.js');
  const record = await keys.loadDeviceKeys(arguments[1]);
  const { header } = await kb1.parseHeader(B.fromB64url(arguments[2]));
  const kb = await kb1.unsealKb(header, record.encryption);
  return {
    kb: B.toHex(kb),
    source: record.source,
    extractable: [record.signing.privateKey.extractable, record.encryption.privateKey.extractable],
  };
})().then((ok) => done({ ok }), (e) => done({ error: String((e && e.stack) || e) }));
"##;

async fn unseal_in_page(c: &Client, app: &TestApp, user_id: &str, prefix: &[u8]) -> Value {
    let v = c
        .execute_async(
            UNSEAL_KB_JS,
            vec![
                json!(app.url("/js/crypto/")),
                json!(user_id),
                json!(b64(prefix)),
            ],
        )
        .await
        .unwrap();
    if let Some(e) = v.get("error") {
        panic!("in the browser: {e}");
    }
    v["ok"].clone()
}

#[tokio::test]
async fn key_files_made_in_rust_open_in_the_browser_and_unseal_what_was_sealed_to_them() {
    let Some((driver, app)) = app_page("/login.html", 120).await else {
        return;
    };
    let c = &driver.client;
    let tender = app.school_tender_id().await;

    // A supplier whose keys live in a key file made by the Rust side (as the CLI does),
    // with a bid sealed to them.
    let s1 = app.login("supplier1").await;
    let user_id = s1.user_id();
    let registered = s1.register_keys().await;
    let passphrase = "开标口令 correct horse";
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("supplier1.kbkey");
    std::fs::write(&key_path, registered.keys.to_file(&user_id, passphrase)).unwrap();
    let (_, start) = crate::bids::start_bid(&s1, &tender).await;
    let container = crate::bids::seal(&start, "密钥文件", b"doc", 1024);
    let header_len = u32::from_be_bytes(container[8..12].try_into().unwrap()) as usize;
    let prefix = &container[..12 + header_len];
    let header: Value = serde_json::from_slice(&prefix[12..]).unwrap();

    // The bid page sees a registered key that this browser lacks, and offers the import.
    login(c, &app, "supplier1").await;
    c.goto(&app.url(&format!("/bid.html?tender={tender}")))
        .await
        .unwrap();
    wait_long(c, "#keys-card[data-state='other-device']").await;
    screenshots(c, "bid-keyfile").await;
    import_key_file_wrong_first(c, "#keys-card", &key_path, passphrase).await;
    wait_long(c, "#keys-card[data-state='ready']").await;
    let ready = text_of(c, "#keys-card").await;
    assert!(
        ready.contains(&registered.encryption_key_id[..16]),
        "{ready}"
    );

    // The imported keys are not extractable, and open the half-key sealed in Rust.
    let got = unseal_in_page(c, &app, &user_id, prefix).await;
    assert_eq!(got["extractable"], json!([false, false]));
    assert_eq!(got["source"], "keyfile");
    let kb = hex::decode(got["kb"].as_str().unwrap()).unwrap();
    assert_eq!(
        kaibiao::crypto::sha256_hex(&kb),
        header["kb_sha256"].as_str().unwrap()
    );

    // A custodian imports the demo's key file (made by DeviceKeys::to_file) on the share
    // check page, and the share sealed to it checks out against the commitments.
    login(c, &app, "purchaser").await;
    c.goto(&app.url(&format!("/custodian.html?tender={tender}")))
        .await
        .unwrap();
    wait_long(c, "#share-status[data-state='no-key']").await;
    let demo_key = app.dir.path().join("demo-keys/purchaser.kbkey");
    import_key_file_wrong_first(c, "#custodian", &demo_key, PASSWORD).await;
    wait_long(c, "#share-status[data-state='ok']").await;
    screenshots(c, "custodian-keyfile").await;

    driver.close().await;
}

/// Waits until the text of `css` contains `want`.
pub(crate) async fn wait_text(c: &Client, css: &str, want: &str) -> String {
    let start = Instant::now();
    loop {
        let got = text_of(c, css).await;
        if got.contains(want) {
            return got;
        }
        if start.elapsed() > SLOW {
            let page = text_of(c, "body").await;
            panic!("{css} never showed {want:?}: {got:?}; page: {page}");
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn opening_command(s: &crate::common::Session, tender: &str, cmd: Value) -> Value {
    let (status, v) = s.post(&format!("/api/tenders/{tender}/opening"), cmd).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{v}");
    v
}

const T0: i64 = 1_796_086_800_000;

#[tokio::test]
async fn a_supplier_decrypts_in_the_hall_and_watches_the_reading_out_live() {
    let Some(driver) = crate::browser::patient_browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = crate::common::spawn_app_at(T0).await;
    let t = app.school_tender().await;
    let tender = t["id"].as_str().unwrap().to_string();
    let deadline = t["bid_deadline"].as_i64().unwrap();

    // Three bidders (the quorum of open tendering). supplier1's keys are in a key file,
    // to be imported in the hall; the others decrypt from their own tools.
    let prices = [88_800_000_i64, 91_234_500, 86_000_000];
    let mut others = Vec::new();
    let passphrase = "开标大厅 passphrase";
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("supplier1.kbkey");
    for (i, price) in prices.iter().enumerate() {
        let name = format!("supplier{}", i + 1);
        let s = app.login(&name).await;
        let reg = s.register_keys().await;
        let (_, start) = crate::bids::start_bid(&s, &tender).await;
        let mut sheet = crate::bids::sheet(*price, &format!("bidder {}", i + 1));
        if i == 2 {
            sheet.special_status = Some("prison".into());
            sheet.brand = Some("黄石牌".into());
        }
        let container = crate::bids::seal_sheet(&start, sheet, b"technical proposal", 1024);
        let bid_id = start["bid_id"].as_str().unwrap().to_string();
        let (status, done) = crate::bids::upload_all(&s, &bid_id, &container, 4096).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{done}");
        if i == 0 {
            std::fs::write(&key_path, reg.keys.to_file(&s.user_id(), passphrase)).unwrap();
        } else {
            let kb = crate::bids::bidder_kb(&container, &reg);
            others.push((name, bid_id, b64(&kb)));
        }
    }
    clock.set(deadline);
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    // Sessions made days before the deadline have expired by then: log in again.
    let mut bidders = Vec::new();
    for (name, bid_id, kb) in others {
        bidders.push((app.login(&name).await, bid_id, kb));
    }
    let others = bidders;

    // supplier1 enters the hall before the start, on this browser without keys.
    login(c, &app, "supplier1").await;
    c.goto(&app.url(&format!("/opening.html?tender={tender}")))
        .await
        .unwrap();
    wait_long(c, "#hall-phase[data-phase='sealed']").await;
    wait_long(c, "#hall-conn[data-status='live']").await;
    wait_text(c, "#supplier-card", "本浏览器没有您的密钥").await;
    import_key_file_wrong_first(c, "#supplier-card", &key_path, passphrase).await;
    // It signs in (签到) with the imported key: the time is the server's, and the hall's
    // list of sign-ins shows it to the host as to the bidder.
    click_long(c, "#sign-in").await;
    let signed = wait_text(c, "#signed-in", "已签到").await;
    assert!(
        signed.contains(
            &kaibiao::clock::cst_date(deadline)
                .format("%Y-%m-%d")
                .to_string()
        ),
        "{signed}"
    );
    wait_text(c, "#hall-bids", "签到情况（1）").await;
    let (_, hall) = app
        .login("agency")
        .await
        .get(&format!("/api/tenders/{tender}/opening"))
        .await;
    assert_eq!(hall["sign_ins"].as_array().unwrap().len(), 1, "{hall}");
    // Oversight signs in as present (到场), from its own tools: it appears live.
    let watcher = app.login("oversight").await;
    let reg = watcher.register_keys().await;
    let (_, view) = watcher.get(&format!("/api/tenders/{tender}/opening")).await;
    let statement = view["me"]["sign_in"]["statement"].as_str().unwrap();
    opening_command(
        &watcher,
        &tender,
        json!({"type": "sign_in", "key_id": reg.signing_key_id,
               "signature": b64(&reg.keys.sign(statement.as_bytes()))}),
    )
    .await;
    wait_text(c, "#sign-in-list", "综合监管部门 · ").await;
    wait_text(c, "#my-bids", "等待开标开始").await;
    // Bidders are counted for a bidder, never named (itself included).
    wait_text(c, "#presence-bidders", "投标人 1 家在线").await;
    // Before the start the bidders' card says how many bids were sealed, not "none".
    wait_text(c, "#hall-bids", "截止时已封存投标 3 份").await;
    screenshots(c, "hall-sealed").await;

    // The host starts: the page moves to decrypting by itself, with the countdown.
    let host = app.login("agency").await;
    opening_command(&host, &tender, json!({"type": "start"})).await;
    wait_long(c, "#hall-phase[data-phase='decrypting']").await;
    let countdown = wait_text(c, "#phase-countdown", ":").await;
    assert!(
        countdown.starts_with("00:29") || countdown.starts_with("00:30"),
        "a 30-minute window by the server's clock: {countdown}"
    );
    screenshots(c, "hall-decrypting").await;

    // Decrypt in the page: the platform accepts the half-key unsealed here.
    click_long(c, ".decrypt-btn").await;
    click_long(c, "#confirm-ok").await;
    wait_long(c, "#my-bids .my-bid[data-state='done']").await;
    wait_text(c, "#decrypt-table", "已解密").await;
    screenshots(c, "hall-decrypted").await;

    // The others decrypt; the custodians hand in their shares; the bids are read out.
    for (s, bid_id, kb) in &others {
        opening_command(
            s,
            &tender,
            json!({"type": "decrypt", "bid_id": bid_id, "kb": kb}),
        )
        .await;
    }
    wait_long(c, "#hall-phase[data-phase='unsealing']").await;
    for name in ["agency", "purchaser"] {
        let share = crate::bids::custodian_share(&app.base, app.dir.path(), &tender, name).await;
        let s = app.login(name).await;
        opening_command(
            &s,
            &tender,
            json!({"type": "share", "index": share.index, "value": hex::encode(share.value)}),
        )
        .await;
    }
    // The reading-out, live: every price in figures and in words.
    wait_long(c, "#hall-phase[data-phase='confirming']").await;
    let table = wait_text(c, "#reading-table", "￥912,345.00").await;
    for words in [
        "捌拾捌万捌仟元整",
        "玖拾壹万贰仟叁佰肆拾伍元整",
        "捌拾陆万元整",
    ] {
        assert!(table.contains(words), "{words} in {table}");
    }
    assert!(table.contains("30 天"), "{table}");
    // Every field of the sheet is read out: special status, brand and notes.
    for read_out in ["监狱企业", "品牌：黄石牌", "bidder 2"] {
        assert!(table.contains(read_out), "{read_out} read out in {table}");
    }
    let feed = text_of(c, "#event-feed").await;
    assert!(feed.contains("唱标"), "{feed}");
    screenshots(c, "hall-reading").await;

    // supplier1 objects and the host's answer appears live; then it confirms.
    let text = "请说明第3号投标的交货期计算方式。";
    c.find(Locator::Css("#object-text"))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
    click_long(c, "#object-submit").await;
    wait_text(c, "#objection-list", text).await;
    let (_, state) = host.get(&format!("/api/tenders/{tender}/opening")).await;
    let objection = state["objections"][0]["id"].as_str().unwrap().to_string();
    let answer = "交货期自合同签订之日起计算。";
    opening_command(
        &host,
        &tender,
        json!({"type": "answer", "objection_id": objection, "text": answer}),
    )
    .await;
    wait_text(c, "#objection-list", answer).await;
    click_long(c, "#confirm-record").await;
    click_long(c, "#confirm-ok").await;
    wait_long(c, "#confirmed").await;

    // Everyone confirms: the opening closes and the signed record checks out in the page.
    for (s, _, _) in &others {
        opening_command(s, &tender, json!({"type": "confirm"})).await;
    }
    wait_long(c, "#hall-phase[data-phase='closed']").await;
    screenshots(c, "hall-closed").await;
    click_long(c, "#record-link").await;
    wait_long(c, "#check-signature[data-ok='true']").await;
    wait_long(c, "#check-chain[data-ok='true']").await;
    wait_long(c, "#check-head[data-ok='true']").await;
    wait_long(c, "#check-sha[data-ok='true']").await;
    let record = text_of(c, "#record-bids").await;
    assert!(record.contains("玖拾壹万贰仟叁佰肆拾伍元整"), "{record}");
    // Everything the hall read out is in the record's page: special status, brand, notes.
    for read_out in ["监狱企业", "黄石牌", "bidder 2"] {
        assert!(record.contains(read_out), "{read_out} in {record}");
    }
    // The signature columns: the host, the supervisor present, the custodians, each
    // bidder with its sign-in and how it accepted the record.
    let sigs = text_of(c, "#record-signatures").await;
    for part in [
        "主持人",
        "综合监管部门",
        "到场监督",
        "密钥保管人 1",
        "签到 ",
        "已确认",
        "签名密钥",
    ] {
        assert!(sigs.contains(part), "{part} in {sigs}");
    }
    // The host, and two of the three bidders, did not sign in.
    assert_eq!(sigs.matches("未签到").count(), 3, "{sigs}");
    screenshots(c, "record").await;

    // In English too, without a reload.
    click_long(c, "#lang-toggle").await;
    wait_text(c, "#record-title", "Opening record").await;
    driver.close().await;
}

#[tokio::test]
async fn the_host_starts_and_unseals_in_the_hall_while_finance_sees_it_on_the_console() {
    let Some(driver) = crate::browser::patient_browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = crate::common::spawn_app_at(T0).await;
    let t = app.school_tender().await;
    let tender = t["id"].as_str().unwrap().to_string();
    let deadline = t["bid_deadline"].as_i64().unwrap();
    let mut bidders = Vec::new();
    for i in 1..=3 {
        let name = format!("supplier{i}");
        let s = app.login(&name).await;
        let reg = s.register_keys().await;
        let (_, start) = crate::bids::start_bid(&s, &tender).await;
        let container = crate::bids::seal_sheet(
            &start,
            crate::bids::sheet(80_000_000 + i * 1_000_000, "bid"),
            b"proposal",
            1024,
        );
        let bid_id = start["bid_id"].as_str().unwrap().to_string();
        crate::bids::upload_all(&s, &bid_id, &container, 4096).await;
        bidders.push((name, bid_id, b64(&crate::bids::bidder_kb(&container, &reg))));
    }
    clock.set(deadline);
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();

    // Finance finds the sealed tender on its console, from its navigation.
    login(c, &app, "finance").await;
    click_long(c, "a.nav-link[data-nav='console']").await;
    let row = format!("#console-rooms-table .room-row[data-id='{tender}']");
    wait_long(c, &row).await;
    wait_text(c, &row, "已截标").await;
    screenshots(c, "console-sealed").await;

    // The host starts in the hall; bidders' decryptions show up as they arrive.
    login(c, &app, "agency").await;
    c.goto(&app.url(&format!("/tender.html?id={tender}")))
        .await
        .unwrap();
    // The ledger names who acted in Chinese: the platform sealed the bids.
    let ledger = wait_text(c, "#ledger-table", "平台").await;
    assert!(!ledger.contains("platform"), "{ledger}");
    click_long(c, "#hall-link").await;
    click_long(c, "#start-opening").await;
    click_long(c, "#confirm-ok").await;
    wait_long(c, "#hall-phase[data-phase='decrypting']").await;
    wait_text(c, "#host-decrypted", "已解密 0 / 3").await;
    for (name, bid_id, kb) in &bidders {
        let s = app.login(name).await;
        opening_command(
            &s,
            &tender,
            json!({"type": "decrypt", "bid_id": bid_id, "kb": kb}),
        )
        .await;
    }
    // The agency user is also a custodian: it imports its key file and hands in its share.
    // It is typing the file's passphrase when the purchaser's share arrives and the hall
    // re-renders: the cursor stays in the field, and what is typed after goes on there.
    wait_long(c, "#hall-phase[data-phase='unsealing']").await;
    let demo_key = app.dir.path().join("demo-keys/agency.kbkey");
    let panel = choose_key_file(c, "#custodian-card", &demo_key).await;
    panel
        .find(Locator::Css(".keyfile-pass"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let (typed, rest) = PASSWORD.split_at(PASSWORD.len() / 2);
    c.active_element()
        .await
        .unwrap()
        .send_keys(typed)
        .await
        .unwrap();
    let share = crate::bids::custodian_share(&app.base, app.dir.path(), &tender, "purchaser").await;
    let purchaser = app.login("purchaser").await;
    opening_command(
        &purchaser,
        &tender,
        json!({"type": "share", "index": share.index, "value": hex::encode(share.value)}),
    )
    .await;
    wait_long(c, "#shares-list li[data-submitted='true']").await;
    c.active_element()
        .await
        .unwrap()
        .send_keys(rest)
        .await
        .unwrap();
    click_long(c, "#custodian-card .keyfile-submit").await;
    screenshots(c, "hall-host-unsealing").await;
    click_long(c, "#submit-share").await;
    click_long(c, "#confirm-ok").await;
    wait_long(c, "#hall-phase[data-phase='confirming']").await;
    wait_text(c, "#reading-table", "￥810,000.00").await;
    screenshots(c, "hall-host-confirming").await;
    driver.close().await;
}

/// #20's server clock: a bidder in the hall sees the server's time running, set over the
/// hub — here the server's clock is days away from the browser's, and the page shows the
/// server's, to the second, with the offset it corrected.
#[tokio::test]
async fn a_bidder_in_the_hall_sees_the_servers_clock_running_not_its_own() {
    use kaibiao::clock::Clock as _;

    let Some(driver) = crate::browser::browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) = crate::common::spawn_app_at(T0).await;
    let tender = app.school_tender_id().await;
    // A bidder: its bid is in, so the hall is open to it.
    let s = app.login("supplier1").await;
    s.register_keys().await;
    let (_, start) = crate::bids::start_bid(&s, &tender).await;
    let container = crate::bids::seal(&start, "bid", b"proposal", 1024);
    let bid = start["bid_id"].as_str().unwrap();
    let (status, v) = crate::bids::upload_all(&s, bid, &container, 4096).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{v}");
    login(c, &app, "supplier1").await;
    c.goto(&app.url(&format!("/opening.html?tender={tender}")))
        .await
        .unwrap();
    wait_long(c, "#room-clock[data-source='hub']").await;
    let read = || async {
        let v = js(
            c,
            "const el = document.querySelector('#room-clock'); \
             return { ms: Number(el.dataset.serverMs), offset: Number(el.dataset.offsetMs), \
                      text: el.innerText, local: Date.now() };",
            vec![],
        )
        .await;
        (
            v["ms"].as_i64().unwrap(),
            v["offset"].as_i64().unwrap(),
            v["text"].as_str().unwrap().to_string(),
            v["local"].as_i64().unwrap(),
        )
    };
    let (shown, offset, text, local) = read().await;
    // The server's (test) clock stands still at T0; the page's runs on from it.
    let server = clock.now_ms();
    assert!(
        (shown - server).abs() < 5_000,
        "shown {shown}, server {server}: {text}"
    );
    assert!(
        (local - server).abs() > 86_400_000,
        "the browser's own clock is elsewhere"
    );
    assert!((offset - (server - local)).abs() < 5_000, "{offset}");
    let cst = kaibiao::clock::cst_date(server)
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        text.contains("服务器时间") && text.contains(&cst) && text.contains("已与服务器校准"),
        "{text}"
    );
    screenshots(c, "hall-clock").await;
    // It runs: a second later it shows a later second.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let (later, _, _, _) = read().await;
    assert!(later > shown, "{later} after {shown}");
    driver.close().await;
}

/// 唱标, paced and in the order the tender states: five bids, the order drawn at the start,
/// read out one after another; a bidder watching in the hall sees them arrive one at a
/// time, the latest marked, each with every field of its opening sheet.
#[tokio::test]
async fn the_reading_out_paces_five_bids_in_the_drawn_order_with_every_field() {
    let Some(driver) = crate::browser::patient_browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, clock) =
        crate::common::spawn_app_at_with(T0, |c| c.opening.reading_interval_ms = 1500).await;
    let t = crate::evaluation::demo_opening_tender(&app).await;
    let tender = t["id"].as_str().unwrap().to_string();
    sqlx::query("UPDATE tenders SET reading_order = 'draw' WHERE id = $1")
        .bind(&tender)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    // Five sheets, each field different.
    let mut bids = Vec::new();
    let mut sheets = Vec::new();
    for i in 0..5_i64 {
        let user = format!("supplier{}", i + 1);
        let s = app.login(&user).await;
        let reg = s.register_keys().await;
        let (_, start) = crate::bids::start_bid(&s, &tender).await;
        let mut sheet = crate::bids::sheet(100_000_000 + i * 1_234_500, &format!("备注{}", i + 1));
        sheet.delivery_days = 20 + i as u32;
        sheet.warranty_months = 12 + i as u32;
        sheet.brand = Some(format!("品牌{}", i + 1));
        if i == 3 {
            sheet.special_status = Some("prison".into());
        }
        sheets.push(sheet.clone());
        let container = crate::bids::seal_sheet(&start, sheet, b"proposal", 1024);
        let bid = start["bid_id"].as_str().unwrap().to_string();
        let (status, v) = crate::bids::upload_all(&s, &bid, &container, 4096).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{v}");
        let kb = b64(&crate::bids::bidder_kb(&container, &reg));
        bids.push((user, bid, kb));
    }
    clock.set(t["bid_deadline"].as_i64().unwrap());
    kaibiao::opening::sealing::seal_due(&app.state)
        .await
        .unwrap();
    crate::evaluation::opening_cmd(&app, "agency", &tender, json!({"type": "start"})).await;
    for (user, bid, kb) in &bids {
        crate::evaluation::opening_cmd(
            &app,
            user,
            &tender,
            json!({"type": "decrypt", "bid_id": bid, "kb": kb}),
        )
        .await;
    }
    // supplier1 watches in the hall, which says the order is drawn.
    login(c, &app, "supplier1").await;
    c.goto(&app.url(&format!("/opening.html?tender={tender}")))
        .await
        .unwrap();
    wait_long(c, "#hall-conn[data-status='live']").await;
    wait_text(c, "#reading-order[data-order='draw']", "随机抽取").await;
    for who in ["agency", "purchaser"] {
        let share = crate::bids::custodian_share(&app.base, app.dir.path(), &tender, who).await;
        crate::evaluation::opening_cmd(
            &app,
            who,
            &tender,
            json!({"type": "share", "index": share.index, "value": hex::encode(share.value)}),
        )
        .await;
    }
    // Watch: how many rows are read and which is marked latest, until all five are.
    let mut seen: Vec<(u64, String)> = Vec::new();
    let began = Instant::now();
    loop {
        let now = js(
            c,
            "const rows = document.querySelectorAll('#reading-table .reading-row'); \
             const latest = document.querySelector('#reading-table .reading-row.is-latest'); \
             return [rows.length, latest ? latest.dataset.bid : ''];",
            vec![],
        )
        .await;
        let n = now[0].as_u64().unwrap();
        let latest = now[1].as_str().unwrap().to_string();
        if seen.last().map(|(k, _)| *k) != Some(n) && n > 0 {
            seen.push((n, latest));
        }
        if n == 5 {
            break;
        }
        assert!(
            began.elapsed() < SLOW * 4,
            "the reading-out stalled: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // One at a time: the watcher saw 1, 2, 3, 4, then 5 rows.
    let counts: Vec<u64> = seen.iter().map(|(n, _)| *n).collect();
    assert_eq!(counts, vec![1, 2, 3, 4, 5], "{seen:?}");
    // In the drawn order the ledger names: each newly read bid marked latest as it came.
    let ledger = crate::evaluation::ledger_of(&app, &tender).await;
    let started = ledger["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "opening_started")
        .unwrap()
        .clone();
    let drawn: Vec<String> = serde_json::from_value(started["body"]["bids"].clone()).unwrap();
    let marked: Vec<String> = seen.iter().map(|(_, b)| b.clone()).collect();
    for (got, want) in marked.iter().zip(&drawn) {
        assert!(got.is_empty() || got == want, "{marked:?} vs {drawn:?}");
    }
    // Every field of every sheet, in figures and in words.
    for ((_, bid, _), sheet) in bids.iter().zip(&sheets) {
        let row = text_of(c, &format!("#reading-table .reading-row[data-bid='{bid}']")).await;
        let yuan = sheet.total_price_fen / 100;
        let figures = format!(
            "{},{:03},{:03}.00",
            yuan / 1_000_000,
            (yuan / 1000) % 1000,
            yuan % 1000
        );
        for part in [
            figures,
            sheet.total_price_words.clone(),
            format!("{} 天", sheet.delivery_days),
            format!("{} 个月", sheet.warranty_months),
            "小型企业".to_string(),
            format!("品牌：{}", sheet.brand.clone().unwrap()),
            sheet.notes.clone(),
        ] {
            assert!(row.contains(&part), "{part} not in {row}");
        }
        if sheet.special_status.is_some() {
            assert!(row.contains("监狱企业"), "{row}");
        }
    }
    driver.close().await;
}
