//! The rounds' page in real Chromium (web/rounds.html): in a negotiation's final round a
//! supplier imports its key file, seals its final offer in the page and sends it; the
//! panel's page shows no offer before the close; after it the supplier's page releases
//! the offer's key by itself, and the panel's page, open, shows all three offers at once
//! when the last key comes — without a reload.

use std::time::Duration;

use serde_json::json;

use crate::browser::{as_user, browser, click_long, set_value, wait_long};
use crate::common::{spawn_app_at, PASSWORD};
use crate::evaluation::T0;
use crate::hall::{import_key_file, text_of, wait_text};
use crate::rounds::{offer, reviewed_negotiation};
use kaibiao::clock::Clock;

const MINUTE: i64 = 60_000;

#[tokio::test]
async fn r_meth_2_a_supplier_seals_its_final_offer_in_the_page_and_the_panel_sees_all_offers_at_once(
) {
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    c.update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
        Some(Duration::from_secs(60)),
        Some(Duration::from_secs(60)),
        None,
    ))
    .await
    .unwrap();
    let (app, clock) = spawn_app_at(T0).await;
    let (tender, experts) =
        reviewed_negotiation(&app, &clock, &[100_000_000, 105_000_000, 98_000_000]).await;
    let rounds = format!("/api/tenders/{tender}/rounds");
    let (status, v) = app
        .login("agency")
        .await
        .post(&rounds, json!({"type": "begin"}))
        .await;
    assert!(status.is_success(), "{v}");
    let closes = clock.now_ms() + 30 * MINUTE;
    let (status, v) = app
        .login(&experts[0])
        .await
        .post(
            &rounds,
            json!({"type": "open_round", "closes_at": closes, "final": true}),
        )
        .await;
    assert!(status.is_success(), "{v}");
    let mut api_offers = Vec::new();
    for (user, price) in [("supplier1", 96_500_000), ("supplier3", 95_200_000)] {
        let s = app.login(user).await;
        let reg = s.register_keys().await;
        let (id, container) = offer(&s, &tender, price, "最后报价").await;
        api_offers.push((user, id, container, reg));
    }

    // Supplier 2 seals its final offer in the page, with the key file of its device.
    let s2 = app.login("supplier2").await;
    let reg2 = s2.register_keys().await;
    let key_file = app.dir.path().join("supplier2.kbkey");
    std::fs::write(&key_file, reg2.keys.to_file(&s2.user_id(), PASSWORD)).unwrap();
    let page = app.url(&format!("/rounds.html?tender={tender}"));
    as_user(c, &app, "supplier2").await;
    c.goto(&page).await.unwrap();
    import_key_file(c, "#rounds-supplier", &key_file, PASSWORD).await;
    wait_long(c, "#offer-form").await;
    set_value(c, "#offer-price", "948000.00").await;
    let words = wait_text(c, "#offer-words", "玖拾肆万捌仟元整").await;
    assert!(words.contains("玖拾肆万捌仟元整"), "{words}");
    set_value(c, "#offer-notes", "含两次保洁").await;
    click_long(c, "#offer-submit").await;
    let status = wait_text(c, "#offer-status", "已密封").await;
    assert!(status.contains("已密封"), "{status}");

    // The supplier writes to the panel in its own thread; the panel's answer appears in
    // the open page without a reload.
    set_value(c, "#talk-text", "最后报价已含两次保洁,请知悉。").await;
    click_long(c, "#talk-submit").await;
    wait_text(c, "#talk-thread", "请知悉").await;
    let s2_org = app.org_id("supplier2").await;
    let (status, v) = app
        .login(&experts[0])
        .await
        .post(
            &rounds,
            json!({"type": "talk", "to": s2_org, "text": "收到,以最后报价为准。"}),
        )
        .await;
    assert!(status.is_success(), "{v}");
    let thread = wait_text(c, "#talk-thread", "以最后报价为准").await;
    assert!(thread.contains("谈判小组"), "{thread}");

    // The panel's page before the close: no offer at all; the talk with supplier 2 is
    // there when it is picked.
    as_user(c, &app, &experts[1]).await;
    c.goto(&page).await.unwrap();
    let round = wait_text(c, "#round-1", "截止前").await;
    assert!(round.contains("截止前任何人都看不到报价"), "{round}");
    set_value(c, "#talk-with", &s2_org).await;
    let thread = wait_text(c, "#talk-thread", "请知悉").await;
    assert!(thread.contains("以最后报价为准"), "{thread}");

    // The round closes; the supplier's page releases its key by itself.
    clock.set(closes);
    kaibiao::rounds::service::advance_due(&app.state)
        .await
        .unwrap();
    as_user(c, &app, "supplier2").await;
    c.goto(&page).await.unwrap();
    wait_text(c, "#offer-status", "已解密").await;

    // The panel's page is open when the last keys come: the three offers appear together.
    as_user(c, &app, &experts[1]).await;
    c.goto(&page).await.unwrap();
    wait_long(c, "#round-1[data-status='decrypting']").await;
    let before = text_of(c, "#round-1").await;
    assert!(
        !before.contains("948,000.00") && !before.contains("965,000.00"),
        "{before}"
    );
    for (user, id, container, reg) in &api_offers {
        let (status, v) = app
            .login(user)
            .await
            .post(
                &rounds,
                json!({"type": "decrypt", "offer_id": id,
                       "kb": crate::common::b64(&crate::bids::bidder_kb(container, reg))}),
            )
            .await;
        assert!(status.is_success(), "{v}");
    }
    wait_long(c, "#round-1[data-status='revealed']").await;
    let after = text_of(c, "#round-1").await;
    for price in ["948,000.00", "965,000.00", "952,000.00"] {
        assert!(after.contains(price), "{price} in {after}");
    }
    let result = wait_text(c, "#rounds-final", "948,000.00").await;
    assert!(result.contains("最后报价"), "{result}");
}
