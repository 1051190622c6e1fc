//! The supplier's bidding page (web/bid.html) and the custodian's share check
//! (web/custodian.html) in real Chromium, held to the Rust side: a bid made, sealed and
//! uploaded by the page (with a dropped answer in the middle) gets a receipt that verifies
//! offline, and opens with the custodians' shares and the bidder's half-key into the
//! opening sheet typed in the page; the amount in words is Rust's; an upload cut off
//! resumes on request; a bid is withdrawn; keys made on another device are replaced after
//! a confirmation. A custodian's share is checked against the published commitments, or
//! the page says plainly that this browser has no key for it.
//!
//! With `KAIBIAO_SCREENSHOTS=<dir>`, the pages are also saved as PNGs at desktop and
//! phone widths, for people to look at.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use kaibiao::bid::package::amount_in_words;
use kaibiao::bid::types::SignedReceipt;
use kaibiao::crypto::sha256_hex;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::browser::{
    app_page, click, js, login, screenshots, set_value, wait_css, wait_long, SLOW,
};
use crate::common::TestApp;

/// Sealing and uploading a few MB, with one retry after a second's backoff, is quick;
/// this leaves room for a slow, shared machine.
/// Polls `script` (which returns a value) until it returns `want`.
async fn wait_value(c: &Client, script: &str, want: Value, what: &str) {
    let start = Instant::now();
    loop {
        let got = js(c, script, vec![]).await;
        if got == want {
            return;
        }
        if start.elapsed() > SLOW {
            let text = js(c, "return document.body.innerText", vec![]).await;
            panic!("{what}: {got} != {want}; page text: {text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `body` (an async function body seeing `input`) in the page, with the crypto
/// modules importable from `base`; a JS exception fails the test.
async fn run_module_js(c: &Client, app: &TestApp, body: &str, input: Value) -> Value {
    let script = format!(
        r##"const done = arguments[arguments.length - 1];
const base = arguments[0];
const input = arguments[1];
(async () => {{
{body}
}})().then((ok) => done({{ ok }}), (e) => done({{ error: String((e && e.stack) || e) }}));"##
    );
    let v = c
        .execute_async(&script, vec![json!(app.url("/js/crypto/")), input])
        .await
        .expect("the script runs");
    if let Some(err) = v.get("error") {
        panic!("in the browser: {}", err.as_str().unwrap_or_default());
    }
    v["ok"].clone()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A document of a few MB that does not compress: several upload chunks.
fn document() -> Vec<u8> {
    let mut out = Vec::with_capacity(5 * 1024 * 1024 + 12_345);
    let mut block = Sha256::digest(b"kaibiao bid page").to_vec();
    while out.len() < 5 * 1024 * 1024 + 12_345 {
        block = Sha256::digest(&block).to_vec();
        out.extend_from_slice(&block);
    }
    out.truncate(5 * 1024 * 1024 + 12_345);
    out
}

/// Drops the answer to the second chunk: the server stores it, the page sees a network
/// failure, retries at the same offset and is told (UPLOAD_OFFSET) to go on from further.
/// Also notes what the page reports as broken from here on.
const DROP_ONE_ANSWER_JS: &str = r##"
window.__kbNoise = [];
addEventListener('error', (e) => window.__kbNoise.push('error: ' + e.message));
addEventListener('unhandledrejection', (e) => window.__kbNoise.push('unhandled rejection: ' + String(e.reason)));
const error = console.error;
console.error = (...args) => {
  window.__kbNoise.push('console.error: ' + args.map(String).join(' '));
  error.apply(console, args);
};
const original = window.fetch;
window.__kbFaults = [];
let puts = 0;
window.fetch = async (resource, init) => {
  const url = String((resource && resource.url) || resource);
  if (init && init.method === 'PUT' && url.includes('/content?offset=')) {
    puts += 1;
    if (puts === 2) {
      const res = await original(resource, init);
      await res.text();
      window.__kbFaults.push(url);
      throw new TypeError('Failed to fetch (dropped by the test)');
    }
  }
  return original(resource, init);
};
"##;

/// While `window.__kbCut` is set, the second chunk of an upload is answered 401, as when
/// a session expires: not a network failure, so the page stops and offers to resume.
const CUT_OFF_JS: &str = r##"
const original = window.fetch;
window.__kbCut = true;
window.__kbCuts = 0;
let puts = 0;
window.fetch = async (resource, init) => {
  const url = String((resource && resource.url) || resource);
  if (window.__kbCut && init && init.method === 'PUT' && url.includes('/content?offset=')) {
    puts += 1;
    if (puts === 2) {
      window.__kbCuts += 1;
      const body = { code: 'UNAUTHENTICATED', message: '登录已过期', message_en: 'Session expired' };
      return new Response(JSON.stringify(body), { status: 401, headers: { 'content-type': 'application/json' } });
    }
  }
  return original(resource, init);
};
"##;

/// The bidder's half-key, unsealed in the page with the stored non-extractable key.
const UNSEAL_KB_JS: &str = r##"
const keys = await import(base + 'keys.js');
const kb1 = await import(base + 'kb1.js');
const B = await import(base + 'bytes.js');
const record = await keys.loadDeviceKeys(input.user_id);
const { header } = await kb1.parseHeader(B.fromB64url(input.prefix));
const kb = await kb1.unsealKb(header, record.encryption);
return { kb: B.toHex(kb), extractable: record.encryption.privateKey.extractable };
"##;

#[tokio::test]
async fn a_supplier_bids_in_the_page_and_the_bid_opens_with_the_sheet_typed_there() {
    let Some((driver, app)) = app_page("/login.html", 120).await else {
        return;
    };
    let c = &driver.client;
    login(c, &app, "supplier1").await;
    let tender = app.school_tender_id().await;

    // The dashboard and the announcement lead to the bidding page.
    c.goto(&app.url("/dashboard.html")).await.unwrap();
    wait_css(c, &format!(".bid-link[data-tender='{tender}']")).await;
    screenshots(c, "dashboard-supplier", ".announcement-list").await;
    // On a phone, no budget runs under its countdown.
    c.set_window_size(390, 844).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let apart = js(
        c,
        "return [...document.querySelectorAll('.announcement-side')].every((s) => { \
           const c = s.querySelector('.side-countdown'); if (!c) return true; \
           const b = s.querySelector('.side-budget').getBoundingClientRect(); \
           const r = c.getBoundingClientRect(); \
           return b.right <= r.left || b.bottom <= r.top || r.bottom <= b.top || r.right <= b.left; })",
        vec![],
    )
    .await;
    assert_eq!(apart, json!(true), "budget and countdown overlap at 390 px");
    c.set_window_size(1280, 900).await.unwrap();
    c.goto(&app.url(&format!("/announcement.html?id={tender}")))
        .await
        .unwrap();
    wait_css(c, "#bid-online").await;
    screenshots(c, "announcement-supplier", "#bid-online").await;
    // (The page renders again when the ledger arrives: read the link afresh.)
    let href = js(
        c,
        "return document.querySelector('#bid-online').getAttribute('href')",
        vec![],
    )
    .await;
    assert_eq!(href, json!(format!("/bid.html?tender={tender}")));

    // No keys yet: the page makes them here, non-extractable, and registers them.
    c.goto(&app.url(&format!("/bid.html?tender={tender}")))
        .await
        .unwrap();
    // Not obtained the documents yet: the page offers to, before anything is sealed.
    click(c, "#bid-obtain").await;
    wait_css(c, ".toast").await;
    wait_css(c, "#keys-card[data-state='none']").await;
    screenshots(c, "bid-nokeys", "#keys-card").await;
    click(c, "#create-keys").await;
    wait_long(c, "#keys-card[data-state='ready']").await;

    // Nothing filled in: the fields say what is missing, and no bid is started.
    click(c, "#seal-submit").await;
    wait_css(c, "#total-price[aria-invalid='true']").await;
    wait_css(c, "#delivery-days[aria-invalid='true']").await;
    let missing = js(
        c,
        "return [document.querySelector('#lot-error').textContent, \
                 document.querySelector('#documents-error').textContent]",
        vec![],
    )
    .await;
    assert_eq!(missing, json!(["请选择采购包", "请至少添加一个投标文件"]));
    let s = app.login("supplier1").await;
    let (_, mine) = s.get(&format!("/api/tenders/{tender}/bids/mine")).await;
    assert_eq!(mine, json!([]));

    // The declaration defaults to the organisation's registered size (small).
    wait_value(
        c,
        "return document.querySelector('#enterprise-size').value",
        json!("small"),
        "enterprise size default",
    )
    .await;

    // The opening sheet; the amount in words as Rust writes it, for awkward amounts too.
    for (typed, fen) in [
        ("0.05", 5),
        ("0.5", 50),
        ("1.02", 102),
        ("10.5", 1_050),
        ("10005", 1_000_500),
        ("100700", 10_070_000),
        ("107000.53", 10_700_053),
        ("100000005", 10_000_000_500),
        ("120000000", 12_000_000_000),
        ("12345678901.23", 1_234_567_890_123),
        ("９００７１９９２５４７４０９.９１", 9_007_199_254_740_991),
    ] {
        set_value(c, "#total-price", typed).await;
        let words = js(
            c,
            "return document.querySelector('#price-words').textContent",
            vec![],
        )
        .await;
        assert_eq!(words, json!(amount_in_words(fen)), "{typed}");
    }
    set_value(c, "#lot", "1").await;
    set_value(c, "#total-price", "1,234,567.89").await;
    let words = c
        .find(Locator::Css("#price-words"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(words, amount_in_words(123_456_789));
    set_value(c, "#delivery-days", "45").await;
    set_value(c, "#warranty-months", "36").await;
    set_value(c, "#enterprise-size", "micro").await;
    set_value(c, "#special-status", "").await;
    set_value(c, "#notes", "含安装调试及三年上门服务").await;

    // A document of a few MB, chosen through the real file input.
    let doc = document();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("technical-response.pdf");
    std::fs::write(&path, &doc).unwrap();
    c.find(Locator::Css("#documents"))
        .await
        .unwrap()
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    wait_css(c, ".doc-item").await;
    let listed = js(
        c,
        "return document.querySelector('#documents-list').innerText",
        vec![],
    )
    .await;
    assert!(listed.as_str().unwrap().contains("technical-response.pdf"));
    // The people of the bid, sealed with it: a wrong check character is caught in the
    // page before anything is sealed.
    set_value(c, "#agent-name", "王强").await;
    set_value(c, "#agent-id", "110105194912310021").await;
    set_value(c, "#agent-phone", "138 0000 1111").await;
    // A phone without its contact's name is refused too, not dropped.
    set_value(c, "#contact-name", "").await;
    set_value(c, "#contact-phone", "13800002222").await;
    set_value(
        c,
        "#team",
        "李娜，440524188001010014，项目负责人\n赵敏,310101199001011234",
    )
    .await;
    click(c, "#seal-submit").await;
    let error = crate::hall::wait_text(c, "#agent-id-error", "身份证号码不正确").await;
    assert!(!error.is_empty());
    crate::hall::wait_text(c, "#contact-phone-error", "请填写联系人姓名").await;
    set_value(c, "#contact-name", "陈晨").await;
    assert!(
        c.find(Locator::Css("#confirm-ok")).await.is_err(),
        "nothing to confirm while the form is wrong"
    );
    set_value(c, "#agent-id", "110105 19491231002x").await;
    screenshots(c, "bid-form", "#bid-form").await;

    // Seal and submit, with the answer to one chunk lost on the way.
    js(c, DROP_ONE_ANSWER_JS, vec![]).await;
    click(c, "#seal-submit").await;
    click(c, "#confirm-ok").await;
    wait_long(c, "#receipt-valid").await;
    let valid = c
        .find(Locator::Css("#receipt-valid"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(valid, "签名有效");

    let page = js(
        c,
        "const r = document.querySelector('#receipt'); \
         const s = document.querySelector('#seal-progress'); \
         const u = document.querySelector('#upload-progress'); \
         return { bid: r.dataset.bidId, sha: r.dataset.ciphertextSha256, \
           seal: [s.value, s.max], upload: [u.value, u.max], \
           retries: u.dataset.retries, resumes: u.dataset.resumes, faults: window.__kbFaults.length, \
           noise: window.__kbNoise, \
           local: document.querySelector('#receipt-local').dataset.matches, \
           download: document.querySelector('#download-receipt').getAttribute('download') };",
        vec![],
    )
    .await;
    let bid = page["bid"].as_str().unwrap().to_string();
    let sha = page["sha"].as_str().unwrap().to_string();
    // Both bars reached their end; the dropped answer was retried and resumed from where
    // the server was, and the receipt names the hash computed in the page.
    assert_eq!(page["seal"][0], page["seal"][1], "{page}");
    assert_eq!(page["upload"][0], page["upload"][1], "{page}");
    assert!(
        page["upload"][1].as_f64().unwrap() > doc.len() as f64,
        "{page}"
    );
    assert_eq!(page["faults"], 1, "{page}");
    assert_eq!(page["noise"], json!([]), "{page}");
    assert_eq!(page["retries"], "1", "{page}");
    assert_eq!(page["resumes"], "1", "{page}");
    assert_eq!(page["local"], "true", "{page}");
    assert!(page["download"].as_str().unwrap().ends_with(".json"));
    screenshots(c, "bid-progress", "#submit-heading").await;
    screenshots(c, "bid-receipt", "#receipt-card").await;

    // The receipt, as the supplier's session reads it, verifies offline against the CA.
    let (status, view) = s.get(&format!("/api/bids/{bid}")).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["status"], "submitted");
    let signed: SignedReceipt = serde_json::from_value(view["receipt"].clone()).unwrap();
    assert_eq!(signed.receipt.ciphertext_sha256, sha);
    assert_eq!(signed.receipt.lot_no, 1);
    let now = chrono::Utc::now().timestamp_millis();
    assert!(kaibiao::bid::service::verify_receipt(
        &signed,
        &app.state.pki.ca_der,
        now
    ));
    // What the server stored is what the page hashed.
    let container = app.state.blobs.get(&sha).await.unwrap().unwrap();
    assert_eq!(sha256_hex(&container), sha);
    assert_eq!(container.len() as u64, signed.receipt.size);

    // The page unseals kb with the stored key (non-extractable, so only it can); with the
    // tender key rebuilt from two custodians' shares, the bid opens into the sheet typed.
    let prefix = &container[..container.len().min(kaibiao::crypto::kb1::MAX_PREFIX_LEN)];
    let unsealed = run_module_js(
        c,
        &app,
        UNSEAL_KB_JS,
        json!({"user_id": app.user_id("supplier1").await, "prefix": b64(prefix)}),
    )
    .await;
    assert_eq!(unsealed["extractable"], false);
    let kb: [u8; 32] = hex::decode(unsealed["kb"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let secret = crate::bids::tender_secret(&app, &tender).await;
    let opened = kaibiao::bid::open::open_bid(&app.state, &sha, kb, secret.clone())
        .await
        .unwrap()
        .unwrap();
    let sheet = &opened.manifest.opening_sheet;
    assert_eq!(sheet.total_price_fen, 123_456_789);
    assert_eq!(sheet.total_price_words, amount_in_words(123_456_789));
    assert_eq!(sheet.delivery_days, 45);
    assert_eq!(sheet.warranty_months, 36);
    assert_eq!(sheet.enterprise_size, "micro");
    assert_eq!(sheet.special_status, None);
    assert_eq!(sheet.notes, "含安装调试及三年上门服务");
    assert_eq!(opened.manifest.documents.len(), 2);
    assert_eq!(opened.manifest.documents[0].name, "technical-response.pdf");
    assert_eq!(opened.manifest.documents[0].size, doc.len() as u64);
    assert_eq!(opened.document_sha256[0], sha256_hex(&doc));
    // The declaration is the second document, of its own type, as typed.
    let declared = &opened.manifest.documents[1];
    assert_eq!(declared.name, "personnel.json");
    assert_eq!(declared.media_type, kaibiao::bid::personnel::MEDIA_TYPE);
    let bytes = {
        use kaibiao::crypto::kb1;
        let (header, header_bytes, offset) = kb1::parse_header(&container).unwrap();
        let kt = kb1::unseal_kt(&header, &secret).unwrap();
        let reader =
            kb1::OpenReader::new(&header, &header_bytes, &kb, &kt, &container[offset..]).unwrap();
        let mut bytes = Vec::new();
        kaibiao::bid::package::read_package(reader, |i, b| {
            if i == 1 {
                bytes.extend_from_slice(b);
            }
            Ok(())
        })
        .unwrap();
        bytes
    };
    assert_eq!(sha256_hex(&bytes), opened.document_sha256[1]);
    let d = kaibiao::bid::personnel::parse(&bytes).expect("a declaration");
    let agent = d.agent.unwrap();
    assert_eq!(
        (
            agent.name.as_str(),
            agent.id_number.as_deref(),
            agent.phone.as_deref()
        ),
        ("王强", Some("11010519491231002X"), Some("138 0000 1111"))
    );
    assert_eq!(d.contact.unwrap().name, "陈晨");
    let team: Vec<_> = d
        .team
        .iter()
        .map(|p| (p.name.as_str(), p.id_number.as_deref(), p.role.as_deref()))
        .collect();
    assert_eq!(
        team,
        [
            ("李娜", Some("440524188001010014"), Some("项目负责人")),
            ("赵敏", Some("310101199001011234"), None)
        ]
    );
    // What the page told the server in the clear at the start names no one.
    let meta: String = sqlx::query_scalar("SELECT documents_meta FROM bids WHERE id = $1")
        .bind(&bid)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert!(
        !meta.contains("personnel") && !meta.contains("王强"),
        "{meta}"
    );

    // My bids lists it; withdrawing asks first, then the row says so.
    let row = format!(".my-bid[data-bid-id='{bid}']");
    wait_long(c, &format!("{row}[data-status='submitted']")).await;
    screenshots(c, "bid-mine", "#mine-card").await;
    click(c, &format!("{row} .withdraw")).await;
    click(c, "#confirm-ok").await;
    wait_long(c, &format!("{row}[data-status='withdrawn']")).await;
    let (_, view) = s.get(&format!("/api/bids/{bid}")).await;
    assert_eq!(view["status"], "withdrawn");

    // A second submission is cut off mid-upload (the session "expired"): the page keeps
    // the sealed bid and resumes it from where the server stopped, on request.
    js(c, CUT_OFF_JS, vec![]).await;
    click(c, "#seal-submit").await;
    click(c, "#confirm-ok").await;
    wait_long(c, "#resume-upload:not([hidden])").await;
    wait_css(c, "#step-upload[data-state='error']").await;
    let cut = js(
        c,
        "return { status: document.querySelector('#submit-status').innerText, \
                  received: Number(document.querySelector('#upload-progress').value), \
                  cuts: window.__kbCuts }",
        vec![],
    )
    .await;
    assert!(
        cut["status"].as_str().unwrap().contains("继续上传"),
        "{cut}"
    );
    assert!(cut["received"].as_f64().unwrap() > 0.0, "{cut}");
    assert_eq!(cut["cuts"], 1, "{cut}");
    screenshots(c, "bid-resume", "#submit-status").await;
    js(c, "window.__kbCut = false;", vec![]).await;
    click(c, "#resume-upload").await;
    let second = wait_long(
        c,
        &format!("#receipt:not([data-bid-id='{bid}']) #receipt-valid"),
    )
    .await;
    assert_eq!(second.text().await.unwrap(), "签名有效");
    let resumed = js(
        c,
        "const r = document.querySelector('#receipt'); const u = document.querySelector('#upload-progress'); \
         return { bid: r.dataset.bidId, upload: [u.value, u.max], \
                  local: document.querySelector('#receipt-local').dataset.matches, noise: window.__kbNoise }",
        vec![],
    )
    .await;
    assert_eq!(resumed["upload"][0], resumed["upload"][1], "{resumed}");
    assert_eq!(resumed["local"], "true", "{resumed}");
    assert_eq!(resumed["noise"], json!([]), "{resumed}");
    let second_bid = resumed["bid"].as_str().unwrap();
    let (_, view) = s.get(&format!("/api/bids/{second_bid}")).await;
    assert_eq!(view["status"], "submitted");
    wait_long(
        c,
        &format!(".my-bid[data-bid-id='{second_bid}'][data-status='submitted']"),
    )
    .await;

    // Keys made on another device: this browser no longer holds the active key (as a
    // second computer would see it). The page says so and, after a confirmation, replaces
    // the keys with new ones made here.
    let active_encryption_key = |list: Value| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|k| k["purpose"] == "encryption" && k["status"] == "active")
            .map(|k| k["key_id"].as_str().unwrap().to_string())
    };
    let before = active_encryption_key(s.get("/api/keys").await.1).unwrap();
    run_module_js(
        c,
        &app,
        "const keys = await import(base + 'keys.js'); \
         await keys.deleteDeviceKeys(input.user_id); return true;",
        json!({"user_id": app.user_id("supplier1").await}),
    )
    .await;
    c.refresh().await.unwrap();
    let warning = wait_long(c, "#keys-card[data-state='other-device']").await;
    assert!(warning.text().await.unwrap().contains(&before[..16]));
    screenshots(c, "bid-other-device", "#keys-card").await;
    click(c, "#replace-keys").await;
    click(c, "#confirm-ok").await;
    wait_long(c, "#keys-card[data-state='ready']").await;
    let after = active_encryption_key(s.get("/api/keys").await.1).unwrap();
    assert_ne!(after, before);

    // English on request, with the same figures.
    click(c, "#lang-toggle").await;
    wait_value(
        c,
        "return document.querySelector('#bid-heading').textContent",
        json!("Bid online"),
        "English heading",
    )
    .await;
    screenshots(c, "bid-en", "#bid-form").await;

    // Someone guesses supplier1's password from this very address until the name is
    // throttled: the browser that holds supplier1's device key still logs in with it.
    let out = js(
        c,
        "return fetch('/api/auth/logout', {method: 'POST', headers: \
         {'x-csrf-token': sessionStorage.getItem('kb_csrf')}}).then((r) => r.status)",
        vec![],
    )
    .await;
    assert_eq!(out, json!(200));
    for _ in 0..kaibiao::auth::service::MAX_FAILURES_PER_PAIR {
        let (status, _) = app
            .call(
                reqwest::Method::POST,
                "/api/auth/login",
                Some(json!({"username": "supplier1", "password": "guess"})),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
    }
    let (status, _) = app
        .call(
            reqwest::Method::POST,
            "/api/auth/login",
            Some(json!({"username": "supplier1", "password": crate::common::PASSWORD})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::TOO_MANY_REQUESTS, "throttled");
    login(c, &app, "supplier1").await;
    driver.close().await;
}

const MAKE_KEYS_JS: &str = r##"
const keys = await import(base + 'keys.js');
const record = await keys.ensureDeviceKeys(input.user_id);
return record.encryption.keyId;
"##;

#[tokio::test]
async fn custodians_check_their_share_or_learn_that_this_browser_has_no_key() {
    let Some((driver, app)) = app_page("/login.html", 120).await else {
        return;
    };
    let c = &driver.client;
    let tender = app.school_tender_id().await;

    // The demo custodians' keys are in key files: this browser has none.
    login(c, &app, "agency").await;
    c.goto(&app.url(&format!("/custodian.html?tender={tender}")))
        .await
        .unwrap();
    let status = wait_long(c, "#share-status[data-state='no-key']").await;
    assert!(status
        .text()
        .await
        .unwrap()
        .contains("本浏览器没有该分片的密钥"));
    // The public part is still checked: the commitments agree with the opening key.
    wait_css(c, "#commitments-ok").await;
    screenshots(c, "custodian-nokey", "#share-status").await;

    // The purchaser makes keys in this browser; a tender published afterwards seals the
    // purchaser's share to them, and the page unseals and checks it.
    click(c, "#logout").await;
    wait_css(c, "#nav-login").await;
    login(c, &app, "purchaser").await;
    let key_id = run_module_js(
        c,
        &app,
        MAKE_KEYS_JS,
        json!({"user_id": app.user_id("purchaser").await}),
    )
    .await;
    let agency = app.login("agency").await;
    let now = chrono::Utc::now().timestamp_millis();
    let (status, created) = agency
        .post(
            "/api/tenders",
            app.tender_body("黄石市第一中学分片核验测试项目", now).await,
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let fresh = created["id"].as_str().unwrap().to_string();
    let (status, v) = agency
        .post(&format!("/api/tenders/{fresh}/publish"), json!({}))
        .await;
    assert_eq!(status, 200, "{v}");

    // The tender page links to the check for a custodian.
    c.goto(&app.url(&format!("/tender.html?id={fresh}")))
        .await
        .unwrap();
    click(c, "#share-check").await;
    wait_long(c, "#share-status[data-state='ok']").await;
    let index = c
        .find(Locator::Css("#share-index"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(index, "2");
    assert!(js(c, "return document.body.innerText", vec![])
        .await
        .as_str()
        .unwrap()
        .contains(key_id.as_str().unwrap()));
    screenshots(c, "custodian-ok", "#share-status").await;

    // The older tender's share is sealed to the purchaser's key file, not to this browser.
    c.goto(&app.url(&format!("/custodian.html?tender={tender}")))
        .await
        .unwrap();
    wait_long(c, "#share-status[data-state='key-mismatch']").await;
    driver.close().await;
}
