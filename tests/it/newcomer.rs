//! The newcomer's walk (README: 开标演示, then 评标演示) in one Chromium session, as each
//! role plays it: logged in through the login page, the tender found from the dashboard,
//! every step a click. No address is typed but the site's root, once, and the test makes
//! no API call: what it asserts is what the pages show. The demo's suppliers seal and send
//! their bids as `serve --demo` has them do at start; the server's clock is moved to the
//! bid deadline instead of waiting five minutes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use kaibiao::clock::ManualClock;
use kaibiao::demo::{OPENING_BIDS, OPENING_DEADLINE_MINS, OPENING_TITLE};
use serde_json::{json, Value};

use crate::browser::{click_long, js, set_value, wait_long, SLOW};
use crate::common::{fresh_database_url, spawn_demo_with, TestApp, PASSWORD};
use crate::hall::{import_key_file, text_of, wait_text};

/// The current page's path.
async fn path(c: &Client) -> String {
    c.current_url().await.unwrap().path().to_string()
}

/// Waits until the browser is on `want` (a path).
async fn wait_path(c: &Client, want: &str) {
    let start = Instant::now();
    loop {
        if path(c).await == want {
            return;
        }
        assert!(
            start.elapsed() < SLOW,
            "never reached {want}: {}",
            path(c).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Logs out whoever is logged in (the header's button), then logs `user` in through the
/// login page reached from the header, and goes to the dashboard from the menu.
async fn sign_in(c: &Client, user: &str) {
    if c.find(Locator::Css("#logout")).await.is_ok() {
        click_long(c, "#logout").await;
        // Logged out, the browser goes home; a room's request still on its way when the
        // session ends may take it to the login page first (its 401).
        let start = Instant::now();
        while !["/index.html", "/login.html"].contains(&path(c).await.as_str()) {
            assert!(start.elapsed() < SLOW, "logout went to {}", path(c).await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    if path(c).await != "/login.html" {
        click_long(c, "#nav-login").await;
        wait_path(c, "/login.html").await;
    }
    // The page's script is running (its form is handled) before anything is typed.
    wait_long(c, "body.is-ready #username")
        .await
        .send_keys(user)
        .await
        .unwrap();
    wait_long(c, "#password")
        .await
        .send_keys(PASSWORD)
        .await
        .unwrap();
    click_long(c, "#login-submit").await;
    let start = Instant::now();
    while path(c).await == "/login.html" {
        assert!(start.elapsed() < SLOW, "{user} stayed on the login page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if path(c).await != "/dashboard.html" {
        click_long(c, "a.nav-link[data-nav='dashboard']").await;
        wait_path(c, "/dashboard.html").await;
    }
    wait_long(c, "#greeting").await;
    wait_long(c, "#current-user").await;
}

/// Clicks `css`, then the confirmation dialog's OK.
async fn click_confirmed(c: &Client, css: &str) {
    click_long(c, css).await;
    click_long(c, "#confirm-ok").await;
}

/// The strings a script returns.
async fn strings(c: &Client, script: &str, args: Vec<Value>) -> Vec<String> {
    serde_json::from_value(js(c, script, args).await).unwrap()
}

/// The evaluation room's bid cards, by bid id, as the page lists them.
async fn bid_cards(c: &Client) -> Vec<String> {
    wait_long(c, ".eval-bid").await;
    strings(
        c,
        "return Array.from(document.querySelectorAll('.eval-bid'), (e) => e.dataset.bid)",
        vec![],
    )
    .await
}

/// From the dashboard into the tender's evaluation room (its row's or task's link).
async fn enter_room(c: &Client, tender: &str) {
    click_long(c, &format!("a.eval-link[data-tender='{tender}']")).await;
    wait_path(c, "/evaluation.html").await;
    wait_long(c, "#eval-conn[data-status='live']").await;
}

async fn phase(c: &Client, p: &str) {
    wait_long(c, &format!("#eval-phase[data-phase='{p}']")).await;
}

/// Passes every bid in the verdict forms of `kind` (qualify, review), one after another.
async fn pass_every_bid(c: &Client, kind: &str, done: &str) {
    for bid in bid_cards(c).await {
        let card = format!(".eval-bid[data-bid='{bid}']");
        click_long(
            c,
            &format!("{card} .verdict-form[data-kind='{kind}'] .verdict-pass"),
        )
        .await;
        wait_long(c, &format!("{card} {done}")).await;
    }
}

/// Scores every bid: the objective items (marked 客观分) 100, the others `points`.
async fn score_every_bid(c: &Client, points: &str) {
    for bid in bid_cards(c).await {
        let card = format!(".eval-bid[data-bid='{bid}']");
        wait_long(c, &format!("{card} .score-form .score-input")).await;
        let inputs = strings(
            c,
            "return Array.from(document.querySelectorAll(arguments[0] + ' .score-input'), (el) => \
               '#' + el.id + (document.querySelector(`label[for='${el.id}'] .tag-objective`) ? ' objective' : ''))",
            vec![json!(card)],
        )
        .await;
        assert!(inputs.len() >= 2, "score items: {inputs:?}");
        for input in inputs {
            let (css, value) = match input.strip_suffix(" objective") {
                Some(css) => (css.to_string(), "100"),
                None => (input, points),
            };
            set_value(c, &css, value).await;
        }
        click_long(c, &format!("{card} .score-submit")).await;
        wait_long(c, &format!("{card} .my-scored")).await;
    }
}

/// The tender row's id on a tenders table (agency, purchaser, finance dashboards).
async fn row_of(c: &Client, title: &str) -> String {
    let start = Instant::now();
    loop {
        let id = js(
            c,
            "const row = Array.from(document.querySelectorAll('#tender-table tr.tender-row')) \
               .find((r) => r.querySelector('a') && r.querySelector('a').textContent.includes(arguments[0])); \
             return row ? row.dataset.id : null;",
            vec![json!(title)],
        )
        .await;
        if let Some(id) = id.as_str() {
            return id.to_string();
        }
        assert!(
            start.elapsed() < SLOW,
            "no row for {title}: {}",
            text_of(c, "main").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn key_file(app: &TestApp, user: &str) -> std::path::PathBuf {
    app.dir.path().join(format!("demo-keys/{user}.kbkey"))
}

fn lap(started: Instant, what: &str) {
    eprintln!(
        "[newcomer {:>6.1}s] {what}",
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn a_newcomer_plays_the_demo_opening_and_evaluation_to_the_award_by_clicking() {
    let Some(driver) = crate::browser::patient_browser().await else {
        return;
    };
    let c = &driver.client;
    let started = Instant::now();
    let t0 = crate::evaluation::T0;
    let clock = Arc::new(ManualClock::new(t0));
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database_url().await;
    let (app, demo_bids) = spawn_demo_with(dir, db, clock.clone(), |_| {}).await;
    // Right after the server starts, the five demo suppliers seal and upload their bids.
    let sent = demo_bids.send().await.unwrap();
    assert_eq!(sent.sent.len(), OPENING_BIDS.len(), "{sent:?}");
    let bidders: Vec<&str> = OPENING_BIDS.iter().map(|b| b.user).collect();
    lap(started, "demo seeded, five bids sealed and sent");

    // The agency finds the demo opening on its dashboard, open for bids until the deadline.
    c.goto(&app.url("/")).await.unwrap();
    sign_in(c, "agency").await;
    let tender = row_of(c, OPENING_TITLE).await;
    let row = format!("#tender-table tr.tender-row[data-id='{tender}']");
    wait_text(c, &row, "招标中").await;

    // 1. The deadline passes: the tender turns 已截标 by itself (the dashboard, looked at
    // again from the menu, says so).
    clock.set(t0 + OPENING_DEADLINE_MINS * 60_000);
    let start = Instant::now();
    while !text_of(c, &row).await.contains("已截标") {
        assert!(start.elapsed() < SLOW, "{}", text_of(c, &row).await);
        tokio::time::sleep(Duration::from_millis(500)).await;
        click_long(c, "a.nav-link[data-nav='dashboard']").await;
        wait_long(c, &row).await;
    }

    // 2. The host enters the hall from the row and starts the opening.
    click_long(c, &format!("{row} a.hall-link")).await;
    wait_path(c, "/opening.html").await;
    wait_long(c, "#hall-phase[data-phase='sealed']").await;
    wait_long(c, "#hall-conn[data-status='live']").await;
    click_confirmed(c, "#start-opening").await;
    wait_long(c, "#hall-phase[data-phase='decrypting']").await;
    wait_text(
        c,
        "#host-decrypted",
        &format!("已解密 0 / {}", bidders.len()),
    )
    .await;
    lap(started, "sealed by itself; the agency started the opening");

    // 3. Each bidder goes to the hall from "我的投标", imports its key file and decrypts.
    for (i, user) in bidders.iter().enumerate() {
        sign_in(c, user).await;
        let item = format!("#dash-my-bids .dash-bid[data-tender='{tender}']");
        wait_text(c, &item, "请在开标大厅解密").await;
        click_long(c, &format!("{item} a.hall-link")).await;
        wait_path(c, "/opening.html").await;
        wait_long(c, "#hall-phase[data-phase='decrypting']").await;
        wait_text(c, "#supplier-card", "本浏览器没有您的密钥").await;
        import_key_file(c, "#supplier-card", &key_file(&app, user), PASSWORD).await;
        click_confirmed(c, ".decrypt-btn").await;
        // The last decryption moves the hall on at once, and past `decrypting` the list
        // no longer shows the step: either tells this bid is decrypted.
        wait_long(
            c,
            "#my-bids .my-bid[data-state='done'], #hall-phase:not([data-phase='decrypting'])",
        )
        .await;
        // The others watch who has decrypted.
        wait_text(c, "#decrypt-table", "已解密").await;
        if i + 1 < bidders.len() {
            wait_long(c, "#hall-phase[data-phase='decrypting']").await;
        }
    }
    wait_long(c, "#hall-phase[data-phase='unsealing']").await;
    lap(started, "five bidders decrypted with their key files");

    // 4. Two custodians hand in their key shares; the bids are read out (唱标).
    for who in ["purchaser", "agency"] {
        sign_in(c, who).await;
        let row = format!("#tender-table tr.tender-row[data-id='{tender}']");
        click_long(c, &format!("{row} a.hall-link")).await;
        wait_path(c, "/opening.html").await;
        wait_long(c, "#hall-phase[data-phase='unsealing']").await;
        import_key_file(c, "#custodian-card", &key_file(&app, who), PASSWORD).await;
        click_confirmed(c, "#submit-share").await;
        wait_long(c, "#share-submitted").await;
    }
    wait_long(c, "#hall-phase[data-phase='confirming']").await;
    let table = wait_text(
        c,
        "#reading-table",
        &kaibiao::bid::package::amount_in_words(OPENING_BIDS[4].total_price_fen),
    )
    .await;
    for bid in &OPENING_BIDS {
        let words = kaibiao::bid::package::amount_in_words(bid.total_price_fen);
        assert!(table.contains(&words), "{words} read out: {table}");
    }
    lap(started, "two shares in, five bids read out");

    // 5. Each bidder confirms the record in the hall; the last one opens the signed record.
    for (i, user) in bidders.iter().enumerate() {
        sign_in(c, user).await;
        let item = format!("#dash-my-bids .dash-bid[data-tender='{tender}']");
        wait_text(c, &item, "请确认开标记录").await;
        click_long(c, &format!("{item} a.hall-link")).await;
        wait_path(c, "/opening.html").await;
        wait_long(c, "#hall-phase[data-phase='confirming']").await;
        click_confirmed(c, "#confirm-record").await;
        if i + 1 < bidders.len() {
            wait_long(c, "#confirmed").await;
        }
    }
    wait_long(c, "#hall-phase[data-phase='closed']").await;
    click_long(c, "#record-link").await;
    wait_path(c, "/record.html").await;
    wait_long(c, "#check-signature[data-ok='true']").await;
    wait_long(c, "#check-chain[data-ok='true']").await;
    lap(started, "record confirmed by every bidder, opening closed");

    // Evaluation. 1. The agency opens the room from its dashboard and asks for a panel.
    sign_in(c, "agency").await;
    wait_text(c, &row, "评标中").await;
    enter_room(c, &tender).await;
    wait_long(c, "#draw-form").await;
    set_value(c, "#draw-specialty", "environmental").await;
    set_value(c, "#draw-size", "5").await;
    click_confirmed(c, "#request-draw").await;
    phase(c, "drawing").await;

    // 2. Finance enters the nonce; the panel is drawn, each expert shown with a login.
    sign_in(c, "finance").await;
    enter_room(c, &tender).await;
    wait_long(c, "#finance-card").await;
    set_value(c, "#draw-nonce", "财政监督 新手演示").await;
    click_confirmed(c, "#draw-submit").await;
    phase(c, "seating").await;
    wait_text(c, "#panel-list", "登录名 expert").await;
    let logins = strings(
        c,
        "return Array.from(document.querySelectorAll('#panel-list li[data-status=\"invited\"] .seat-login'), \
           (e) => (e.textContent.match(/expert\\d+/) || [''])[0])",
        vec![],
    )
    .await;
    // Seat by seat, as finance reads them.
    let seats = strings(
        c,
        "return Array.from(document.querySelectorAll('#panel-list li[data-status=\"invited\"]'), \
           (e) => e.dataset.seat)",
        vec![],
    )
    .await;
    assert_eq!(logins.len(), 5, "{logins:?}");
    assert!(logins.iter().all(|l| l.starts_with("expert")), "{logins:?}");
    lap(started, &format!("panel requested and drawn: {logins:?}"));

    // 3. Each drawn expert signs the 回避承诺 with a key made in the room, and accepts.
    for expert in &logins {
        sign_in(c, expert).await;
        enter_room(c, &tender).await;
        wait_text(c, "#declaration-text", "回避").await;
        click_long(c, "#create-sign-key").await;
        wait_long(c, "#accept-invite").await;
        click_long(c, "#declare-check").await;
        click_long(c, "#accept-invite").await;
        wait_text(c, "#expert-card", "已接受").await;
    }
    phase(c, "qualification").await;
    lap(started, "five experts accepted");

    // 4. The agency records the qualification review.
    sign_in(c, "agency").await;
    enter_room(c, &tender).await;
    phase(c, "qualification").await;
    pass_every_bid(c, "qualify", ".qualification .verdict[data-pass='true']").await;
    phase(c, "compliance").await;
    lap(started, "qualification recorded");

    // The experts review every bid (符合性审查); the last to review scores at once.
    for expert in &logins {
        sign_in(c, expert).await;
        enter_room(c, &tender).await;
        phase(c, "compliance").await;
        // By the demo tender's checklist (符合性审查表), every criterion met.
        for bid in bid_cards(c).await {
            crate::evalpage::review_by_checklist(c, &bid, &[]).await;
        }
    }
    phase(c, "scoring").await;
    lap(started, "every bid reviewed");
    // Each reads a bid document, scores blind, and sees the panel's scores once in.
    let last = logins.len() - 1;
    score_every_bid(c, &format!("{}", 80 + last)).await;
    for (i, expert) in logins[..last].iter().enumerate() {
        sign_in(c, expert).await;
        enter_room(c, &tender).await;
        phase(c, "scoring").await;
        if i == 0 {
            let first = bid_cards(c).await[0].clone();
            let card = format!(".eval-bid[data-bid='{first}']");
            wait_text(c, &format!("{card} .sealed-note"), "提交本人评分后").await;
            // The document opens in the room's reader, not as a download.
            click_long(c, &format!("{card} .doc-read")).await;
            wait_long(c, "#reader-text").await;
            click_long(c, "#reader-close").await;
        }
        score_every_bid(c, &format!("{}", 80 + i)).await;
    }
    let cards = bid_cards(c).await;
    let total = logins.len() * cards.len();
    wait_text(c, "#eval-progress-text", &format!("{total} / {total}")).await;
    lap(started, "every bid scored by every expert");

    // The panel has not chosen a chair (评标组长): the agency draws one in the room, and the
    // chair closes scoring: prices, deductions, scores and the ranking appear.
    sign_in(c, "agency").await;
    enter_room(c, &tender).await;
    phase(c, "scoring").await;
    wait_text(c, "#chair-needed", "评标组长").await;
    click_long(c, "#draw-chair").await;
    wait_long(c, "#panel-list .chair-tag").await;
    let chair_seat = js(
        c,
        "return document.querySelector('#panel-list .chair-tag').closest('li').dataset.seat",
        vec![],
    )
    .await;
    let at = seats
        .iter()
        .position(|s| json!(s) == chair_seat)
        .expect("the chair is a drawn seat");
    let chair = logins[at].clone();
    sign_in(c, &chair).await;
    enter_room(c, &tender).await;
    phase(c, "scoring").await;
    click_confirmed(c, "#finish-scoring").await;
    phase(c, "signing").await;
    let ranking = wait_text(c, "#eval-report .ranking-table", "1").await;
    let first = text_of(
        c,
        "#eval-report .ranking-table tr.rank-row[data-rank='1'] th",
    )
    .await;
    assert!(!first.is_empty(), "a first-ranked bidder: {ranking}");
    lap(started, &format!("scoring closed; first ranked: {first}"));

    // 5. The experts sign the report with the keys they made, the chair first; the
    // purchaser confirms.
    let signers = std::iter::once(&chair).chain(logins.iter().filter(|l| **l != chair));
    for expert in signers {
        sign_in(c, expert).await;
        enter_room(c, &tender).await;
        phase(c, "signing").await;
        click_confirmed(c, "#sign-report").await;
        wait_text(c, "#my-signature", "您已签署评标报告").await;
    }
    phase(c, "reported").await;
    lap(started, "report signed by the panel");
    sign_in(c, "purchaser").await;
    let row = format!("#tender-table tr.tender-row[data-id='{tender}']");
    wait_long(c, &row).await;
    enter_room(c, &tender).await;
    phase(c, "reported").await;
    click_confirmed(c, "#confirm-winner").await;
    phase(c, "awarded").await;
    let winners = wait_text(c, "#winners", &first).await;
    assert!(winners.contains("中标人"), "{winners}");
    lap(started, &format!("winner confirmed: {winners}"));

    // The awarded tender as users see it: its page, from the room's breadcrumb...
    click_long(c, "#crumb-tender-link").await;
    wait_path(c, "/tender.html").await;
    wait_text(c, "#tender-status[data-status='awarded']", "已定标").await;
    wait_text(c, "#award-result", &first).await;
    // ...a bidder, told on its dashboard that the result is out, through its hall to the
    // announcement...
    sign_in(c, bidders[0]).await;
    let item = format!("#dash-my-bids .dash-bid[data-tender='{tender}']");
    wait_text(c, &item, "结果已公布").await;
    click_long(c, &format!("{item} a.hall-link")).await;
    wait_path(c, "/opening.html").await;
    click_long(c, "#crumb-tender-link").await;
    wait_path(c, "/announcement.html").await;
    wait_text(c, "#announcement-status", "已定标").await;
    wait_text(c, "#award-result", &first).await;
    // ...and anyone, logged out, from the public list.
    click_long(c, "#logout").await;
    wait_path(c, "/index.html").await;
    let card = format!("#announcements .announcement[data-id='{tender}']");
    wait_text(c, &card, "已定标").await;
    click_long(c, &format!("{card} .announcement-title a")).await;
    wait_path(c, "/announcement.html").await;
    let award = wait_text(c, "#award-result", &first).await;
    assert!(award.contains("中标人"), "{award}");
    lap(
        started,
        "the award shown on the tender page and the announcement",
    );

    driver.close().await;
}
