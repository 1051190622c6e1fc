//! Real Chromium through WebDriver (Debian's chromium + chromium-driver): pages as a
//! user sees them. Skipped, with a message, when the browser is missing — except under
//! CI=true, where that fails.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::common::{in_ci, spawn_app, TestApp, PASSWORD};

pub(crate) struct Driver {
    process: Child,
    pub client: Client,
}

impl Driver {
    /// Ends the WebDriver session. Only cleanup: what the test asserts has been asserted,
    /// and `Drop` ends chromedriver and its Chromium whether or not the session answered
    /// (a session slow to quit on a loaded machine is not a failure of the page).
    pub(crate) async fn close(self) {
        if let Err(e) = self.client.clone().close().await {
            eprintln!("the WebDriver session did not close cleanly: {e}");
        }
    }
}

impl Drop for Driver {
    /// Ends chromedriver and the Chromium it started: chromedriver leads its own process
    /// group, so the whole group goes (killing chromedriver alone leaves the browser
    /// running, one per test, until the machine is short of memory).
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.process.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn find_binary(env: &str, default: &str) -> Option<String> {
    let path = std::env::var(env).unwrap_or_else(|_| default.to_string());
    std::path::Path::new(&path).exists().then_some(path)
}

/// Starts chromedriver and a headless Chromium session, or `None` (skip) outside CI.
pub(crate) async fn browser() -> Option<Driver> {
    browser_with(&[]).await
}

/// Chromium's fake camera and microphone, granted without a prompt, sound without a click.
pub(crate) const FAKE_MEDIA: &[&str] = &[
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
];

/// As `browser`, Chromium started with these extra arguments too (e.g. `FAKE_MEDIA`).
pub(crate) async fn browser_with(extra_args: &[&str]) -> Option<Driver> {
    let (Some(driver), Some(chromium)) = (
        find_binary("KAIBIAO_CHROMEDRIVER", "/usr/bin/chromedriver"),
        find_binary("KAIBIAO_CHROMIUM", "/usr/bin/chromium"),
    ) else {
        assert!(
            !in_ci(),
            "CI=true but chromium/chromedriver are missing (apt-get install chromium chromium-driver)"
        );
        eprintln!("skipped: chromium and chromium-driver are not installed");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let process = Command::new(driver)
        .process_group(0)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    // chromedriver binds its own port; wait until it accepts connections.
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let profile = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        "--lang=zh-CN",
    ]
    .iter()
    .chain(extra_args)
    .map(|a| a.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.keep().display()));
    let caps = serde_json::json!({
        "goog:chromeOptions": { "binary": chromium, "args": args }
    });
    let serde_json::Value::Object(caps) = caps else {
        unreachable!()
    };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a Chromium session");
    Some(Driver { process, client })
}

const WAIT: Duration = Duration::from_secs(15);

/// A browser whose scripts may run two minutes (argon2id and sealing in a page take a
/// while on a shared machine), or `None` (skip) outside CI.
pub(crate) async fn patient_browser() -> Option<Driver> {
    let driver = browser().await?;
    driver
        .client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(SLOW),
            Some(Duration::from_secs(60)),
            None,
        ))
        .await
        .unwrap();
    Some(driver)
}

/// A browser on a fresh app's page `path`, with scripts allowed `script_secs` to run
/// (sealing megabytes in a page takes a while), or `None` (skip) outside CI.
pub(crate) async fn app_page(path: &str, script_secs: u64) -> Option<(Driver, TestApp)> {
    let driver = browser().await?;
    let app = spawn_app().await;
    let c = &driver.client;
    c.update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
        Some(Duration::from_secs(script_secs)),
        Some(Duration::from_secs(60)),
        None,
    ))
    .await
    .unwrap();
    c.goto(&app.url(path)).await.unwrap();
    wait_css(c, "body").await;
    Some((driver, app))
}

/// Patience for steps that take long on a shared machine (argon2id or sealing in page
/// JavaScript); `wait_css` gives up after `WAIT`.
pub(crate) const SLOW: Duration = Duration::from_secs(120);

pub(crate) async fn js(
    c: &Client,
    script: &str,
    args: Vec<serde_json::Value>,
) -> serde_json::Value {
    c.execute(script, args).await.unwrap()
}

/// `css` present within SLOW (then `wait_css`, which reports the page's state on failure).
pub(crate) async fn wait_long(c: &Client, css: &str) -> fantoccini::elements::Element {
    let start = std::time::Instant::now();
    loop {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            return el;
        }
        if start.elapsed() > SLOW {
            return wait_css(c, css).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Clicks `css` (found within `WAIT`), again if a re-render replaced it in between.
pub(crate) async fn click(c: &Client, css: &str) {
    click_found(c, css, false).await
}

/// As `click`, the element found within `SLOW`.
pub(crate) async fn click_long(c: &Client, css: &str) {
    click_found(c, css, true).await
}

async fn click_found(c: &Client, css: &str, long: bool) {
    let start = std::time::Instant::now();
    loop {
        let el = if long {
            wait_long(c, css).await
        } else {
            wait_css(c, css).await
        };
        // A button the page has not enabled yet (a key still being imported on a busy
        // machine) ignores the click: wait for it as for the element.
        if !el.is_enabled().await.unwrap_or(true) && start.elapsed() < SLOW {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        match el.click().await {
            Ok(()) => return,
            Err(e) if start.elapsed() < SLOW => {
                eprintln!("clicking {css} again: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("clicking {css}: {e}"),
        }
    }
}

pub(crate) async fn wait_css(c: &Client, css: &str) -> fantoccini::elements::Element {
    let until = Instant::now() + WAIT;
    let found = loop {
        let left = until.saturating_duration_since(Instant::now());
        match c.wait().at_most(left).for_element(Locator::Css(css)).await {
            // A page navigating while it is searched answers "aborted by navigation": no
            // answer about the element; search the page it reaches, while time is left.
            Err(_) if Instant::now() + Duration::from_millis(100) < until => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => break other,
        }
    };
    match found {
        Ok(el) => el,
        Err(e) => {
            // Keep what the user would have seen, for whoever reads the failure.
            let file =
                std::env::temp_dir().join(format!("kaibiao-browser-{}.png", std::process::id()));
            if let Ok(png) = c.screenshot().await {
                let _ = std::fs::write(&file, png);
            }
            let url = c
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let text = c
                .execute(
                    "return document.body ? document.body.innerText : ''",
                    vec![],
                )
                .await
                .unwrap_or_default();
            panic!(
                "waiting for {css} on {url}: {e}; screenshot {}; page text: {text}",
                file.display()
            )
        }
    }
}

pub(crate) async fn login(c: &Client, app: &TestApp, username: &str) {
    login_at(c, &app.base, username).await;
}

/// As [`login`], at the server (or proxy) at `base`.
pub(crate) async fn login_at(c: &Client, base: &str, username: &str) {
    click_login(c, base, username).await;
    until_dashboard(c).await;
}

/// The login page at `base` filled in for `username` and "登录" clicked.
async fn click_login(c: &Client, base: &str, username: &str) {
    c.goto(&format!("{base}/login.html")).await.unwrap();
    wait_css(c, "#username")
        .await
        .send_keys(username)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("#login-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits for the dashboard a login leads to: within `SLOW`, as the server checks the
/// password with argon2id (a debug build on a loaded machine took over 15 s once).
async fn until_dashboard(c: &Client) {
    let started = Instant::now();
    loop {
        let url = c.current_url().await.unwrap();
        if url.path().ends_with("/dashboard.html") {
            return;
        }
        if started.elapsed() > SLOW {
            let status = js(
                c,
                "const s = document.querySelector('#login-status'); return s ? s.innerText : '';",
                vec![],
            )
            .await;
            panic!(
                "login did not reach the dashboard in {SLOW:?}: still at {url}; status: {status}"
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Logs out whoever the browser is (cookies cleared) and logs `username` in.
pub(crate) async fn as_user(c: &Client, app: &TestApp, username: &str) {
    c.delete_all_cookies().await.unwrap();
    login(c, app, username).await;
}

/// Sets an input's value the way a user's typing would, firing input and change.
pub(crate) async fn set_value(c: &Client, css: &str, value: &str) {
    // The field first: a live page may not have drawn it yet (a composer drawn once the
    // room's state is in), and a script on a missing element says only "null".
    wait_css(c, css).await;
    c.execute(
        "const el = document.querySelector(arguments[0]); el.value = arguments[1]; \
         el.dispatchEvent(new Event('input', {bubbles: true})); \
         el.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![css.into(), value.into()],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn agency_creates_and_publishes_a_tender_that_the_public_list_shows() {
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let app = spawn_app().await;
    // A server checking as many logins as it admits (a flood of guesses) refuses more at
    // once; the page says so and tries again by itself, and logs in once places are free.
    let checks = app
        .state
        .runtime::<kaibiao::auth::service::PasswordChecks>();
    let flood: Vec<_> = (0..kaibiao::auth::service::PASSWORD_CHECKS_ADMITTED)
        .map(|_| checks.admit().unwrap())
        .collect();
    click_login(c, &app.base, "agency").await;
    let busy = wait_css(c, "#login-busy").await.text().await.unwrap();
    assert!(busy.contains("页面将在 1 秒后自动重试"), "{busy}");
    assert!(c
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/login.html"));
    drop(flood);
    until_dashboard(c).await;

    c.goto(&app.url("/tender-form.html")).await.unwrap();
    wait_css(c, "#tender-form:not([hidden])").await;
    let title = "黄石市第一中学实验室设备采购(浏览器测试)";
    c.find(Locator::Css("#title"))
        .await
        .unwrap()
        .send_keys(title)
        .await
        .unwrap();
    let purchaser = app.org_id("purchaser").await;
    wait_css(c, &format!("#purchaser option[value='{purchaser}']")).await;
    set_value(c, "#purchaser", &purchaser).await;
    set_value(c, "#region", "420200").await;
    set_value(c, "#category", "goods").await;
    set_value(c, "#method", "open_tendering").await;
    set_value(c, ".lot-row .lot-name", "第1包 实验台").await;
    set_value(c, ".lot-row .lot-budget", "1234567.89").await;
    // Deadlines in China Standard Time, two and four weeks from now.
    let cst = kaibiao::clock::cst();
    let at = |days: i64| {
        (chrono::Utc::now() + chrono::Duration::days(days))
            .with_timezone(&cst)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };
    set_value(c, "#clarify-deadline", &at(14)).await;
    set_value(c, "#bid-deadline", &at(28)).await;
    for (css, user) in [
        ("#custodian-agency", "agency"),
        ("#custodian-purchaser", "purchaser"),
        ("#custodian-finance", "finance"),
    ] {
        let id = app.user_id(user).await;
        wait_css(c, &format!("{css} option[value='{id}']")).await;
        set_value(c, css, &id).await;
    }
    // Evaluation terms: a goods tender's defaults are prefilled (price 30%, three items,
    // small/micro 10%); a price weight of 20% (items raised so the sum stays 100%) is
    // below goods' minimum, which the server refuses and the form shows by the section.
    wait_css(c, "#eval-items .eval-item-row:nth-child(3)").await;
    let prefilled = js(
        c,
        "return [document.querySelector('#eval-method').value, \
         document.querySelector('#eval-price-weight').value, \
         document.querySelector('#eval-sme-rate').value, \
         document.querySelector('#eval-abnormal').value, \
         document.querySelector('#eval-outlier').value, \
         document.querySelector('#eval-sum').dataset.sumBp]",
        vec![],
    )
    .await;
    assert_eq!(
        prefilled,
        serde_json::json!(["comprehensive", "30", "10", "80", "20", "10000"])
    );
    set_value(c, "#eval-price-weight", "20").await;
    set_value(
        c,
        "#eval-items .eval-item-row:nth-child(1) .eval-item-weight",
        "50",
    )
    .await;
    set_value(
        c,
        "#eval-items .eval-item-row:nth-child(3) .eval-item-name",
        "类似项目业绩",
    )
    .await;
    click(c, "#tender-submit").await;
    let started = Instant::now();
    let shown = loop {
        let text = js(
            c,
            "return document.querySelector('#evaluation-error').textContent",
            vec![],
        )
        .await;
        let text = text.as_str().unwrap_or_default().to_string();
        if !text.is_empty() {
            break text;
        }
        assert!(
            started.elapsed() < WAIT,
            "the form never showed the server's evaluation error"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        shown.contains("评标办法不符合规定") && shown.contains("price weight"),
        "{shown}"
    );
    let path = c.current_url().await.unwrap().path().to_string();
    assert!(path.ends_with("/tender-form.html"), "{path}");
    // Fixed: 30% and 40%, the sum back at 100%.
    set_value(c, "#eval-price-weight", "30").await;
    set_value(
        c,
        "#eval-items .eval-item-row:nth-child(1) .eval-item-weight",
        "40",
    )
    .await;
    let sum = js(
        c,
        "return document.querySelector('#eval-sum').dataset.sumBp",
        vec![],
    )
    .await;
    assert_eq!(sum, "10000");
    // 评分细则 for the technical item, a band a line: a line that does not read as a band
    // is refused in the form; the checklist (符合性审查表) a criterion a line; the
    // reading-out drawn at the opening.
    let bands = "#eval-items .eval-item-row:nth-child(1) .eval-item-bands";
    set_value(c, bands, "优 很好").await;
    click(c, "#tender-submit").await;
    crate::hall::wait_text(c, "#eval-items-error", "最低分-最高分").await;
    wait_css(
        c,
        "#eval-items .eval-item-row:nth-child(1) details.eval-item-rubric[open] .eval-item-bands[aria-invalid]",
    )
    .await;
    set_value(
        c,
        bands,
        "优 85-100 方案完整，针对性强\n良 70-84.99 方案基本完整\n差 0-69.99 方案不完整",
    )
    .await;
    set_value(
        c,
        "#eval-items .eval-item-row:nth-child(3) .eval-item-evidence",
        "每份合同 25 分",
    )
    .await;
    set_value(
        c,
        "#eval-checklist",
        "投标有效期：不少于 90 日历天\n实质性条款：★条款全部响应",
    )
    .await;
    set_value(c, "#reading-order", "draw").await;
    screenshots(c, "tender-form-rubric", "#eval-items-box").await;
    click(c, "#tender-submit").await;

    // The tender page shows the draft; publish it through the confirmation dialog.
    wait_css(c, "#tender-status[data-status='draft']").await;
    wait_css(c, "#publish").await.click().await.unwrap();
    wait_css(c, "#confirm-ok").await.click().await.unwrap();
    wait_css(c, "#tender-status[data-status='published']").await;
    // Read in the page, not through an element handle: the view may re-render.
    let label = c
        .execute(
            "return document.querySelector('#tender-status').textContent",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(label, "招标中");
    // The members' page states the terms, read-only.
    wait_css(c, "#eval-terms").await;
    let terms = js(
        c,
        "return document.querySelector('#eval-terms').textContent",
        vec![],
    )
    .await;
    let terms = terms.as_str().unwrap_or_default();
    for part in [
        "综合评分法",
        "30%",
        "技术方案 40%",
        "类似项目业绩 10%",
        "客观分",
        "10%",
        // R-POL-5: goods announced after 2026-01-01 carry the table's domestic deduction,
        // announced with the tender; and how the total is rounded.
        "本国产品价格扣除 20%",
        "仅总分四舍五入",
    ] {
        assert!(terms.contains(part), "{part} not in {terms}");
    }

    // The server has it, with the budget converted exactly to fen.
    let list = kaibiao::tender::service::announcements(&app.state, "", "", "浏览器测试")
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].budget_total_fen.fen(), 123_456_789);
    // The evaluation terms as entered, in basis points, read back through the API.
    let tender_id = list[0].id.clone();
    // The public announcement states the same terms to every would-be bidder.
    c.goto(&app.url(&format!("/announcement.html?id={tender_id}")))
        .await
        .unwrap();
    let public = crate::hall::wait_text(c, "#eval-preferences", "本国产品").await;
    assert!(public.contains("R-POL-5"), "{public}");
    let (status, view) = app
        .login("agency")
        .await
        .get(&format!("/api/tenders/{tender_id}"))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{view}");
    let e = &view["evaluation"];
    assert_eq!(e["method"], "comprehensive");
    assert_eq!(e["reserved_for_sme"], false);
    assert_eq!(e["sme_rate_bp"], 1000);
    assert_eq!(e["price_weight_bp"], 3000);
    assert_eq!(e["abnormal_low_fraction_bp"], 8000);
    assert_eq!(e["outlier_points"], 2000);
    assert_eq!(e["rounding"], "once");
    assert_eq!(
        e["items"],
        serde_json::json!([
            {"name": "技术方案", "weight_bp": 4000, "objective": false, "bands": [
                {"label": "优", "min": 8500, "max": 10000, "description": "方案完整，针对性强"},
                {"label": "良", "min": 7000, "max": 8499, "description": "方案基本完整"},
                {"label": "差", "min": 0, "max": 6999, "description": "方案不完整"},
            ]},
            {"name": "售后服务", "weight_bp": 2000, "objective": false},
            {"name": "类似项目业绩", "weight_bp": 1000, "objective": true, "evidence": "每份合同 25 分"},
        ])
    );
    assert_eq!(
        e["checklist"],
        serde_json::json!([
            {"name": "投标有效期", "description": "不少于 90 日历天"},
            {"name": "实质性条款", "description": "★条款全部响应"},
        ])
    );
    assert_eq!(view["reading_order"], "draw");

    // And the public list shows it, logged out.
    c.delete_all_cookies().await.unwrap();
    c.goto(&app.url("/")).await.unwrap();
    let started = Instant::now();
    loop {
        let texts: Vec<String> = serde_json::from_value(
            c.execute(
                "return Array.from(document.querySelectorAll('.announcement'), e => e.textContent)",
                vec![],
            )
            .await
            .unwrap(),
        )
        .unwrap();
        if texts.iter().any(|t| t.contains(title)) {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the public list never showed {title}: {texts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // English on request.
    c.find(Locator::Css("#lang-toggle"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let lang = c
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap();
    assert_eq!(lang, "en");
    driver.close().await;
}

/// Saves the page as `<dir>/<name>-<width>.png` at desktop and phone widths when
/// KAIBIAO_SCREENSHOTS is set; scrolls to `css` first.
pub(crate) async fn screenshots(c: &Client, name: &str, css: &str) {
    let Ok(dir) = std::env::var("KAIBIAO_SCREENSHOTS") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    for (width, height) in [(1280, 900), (390, 844)] {
        c.set_window_size(width, height).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        for (i, target) in ["body", css].iter().enumerate() {
            js(
                c,
                "const el = document.querySelector(arguments[0]); \
                 if (el) el.scrollIntoView({block: 'start'}); window.scrollBy(0, -8);",
                vec![serde_json::json!(target)],
            )
            .await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let png = c.screenshot().await.unwrap();
            std::fs::write(format!("{dir}/{name}-{width}-{i}.png"), png).unwrap();
        }
    }
    c.set_window_size(1280, 900).await.unwrap();
}

/// A WebDriver command fantoccini has no method for: POST `body` to the session's `path`.
#[derive(Debug)]
struct SessionPost {
    path: &'static str,
    body: String,
}

impl fantoccini::wd::WebDriverCompatibleCommand for SessionPost {
    fn endpoint(
        &self,
        base: &reqwest::Url,
        session: Option<&str>,
    ) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        base.join(&format!(
            "session/{}/{}",
            session.unwrap_or_default(),
            self.path
        ))
    }
    fn method_and_body(&self, _: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::POST, Some(self.body.clone()))
    }
}

/// The current page as Chromium prints it to PDF (WebDriver's Print Page: A4, with
/// backgrounds), as a user's 打印 → 另存为 PDF makes it.
pub(crate) async fn print_pdf(c: &Client) -> Vec<u8> {
    use base64::Engine;

    // Headless Chromium now and then answers "Printing failed" for a page just loaded
    // (seen on a loaded 2-core CI runner); a second request prints it.
    let mut attempt = 0;
    let printed = loop {
        attempt += 1;
        match c
            .issue_cmd(SessionPost {
                path: "print",
                body: r#"{"background":true,"page":{"width":21.0,"height":29.7}}"#.into(),
            })
            .await
        {
            Ok(printed) => break printed,
            Err(e) if attempt < 3 => {
                eprintln!("print attempt {attempt} failed, again: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("WebDriver prints the page: {e:?}"),
        }
    };
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(printed.as_str().expect("the PDF in base64"))
        .expect("valid base64");
    if let Ok(dir) = std::env::var("KAIBIAO_SCREENSHOTS") {
        std::fs::create_dir_all(&dir).unwrap();
        let at = c.current_url().await.unwrap();
        let name = at.path().trim_matches('/').replace(['/', '.'], "-");
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.pdf")), &pdf).unwrap();
    }
    pdf
}

/// A PDF as a reader gets it: its text (poppler's `pdftotext`, reading order) and its
/// fonts (`pdffonts`: name, type, whether embedded). `None` (skip) when poppler-utils is
/// not installed, except under CI=true, where that fails.
pub(crate) struct PdfRead {
    pub text: String,
    pub fonts: String,
}

pub(crate) fn read_pdf(pdf: &[u8]) -> Option<PdfRead> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("printed.pdf");
    std::fs::write(&path, pdf).unwrap();
    let run = |tool: &str, args: &[&std::ffi::OsStr]| match Command::new(tool).args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "{tool}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).expect("UTF-8 from poppler"))
        }
        Err(e) => {
            assert!(
                !in_ci(),
                "CI=true but {tool} is missing (apt-get install poppler-utils): {e}"
            );
            eprintln!("skipped: {tool} is not installed (poppler-utils)");
            None
        }
    };
    let text = run(
        "pdftotext",
        &[
            "-enc".as_ref(),
            "UTF-8".as_ref(),
            path.as_os_str(),
            "-".as_ref(),
        ],
    )?;
    let fonts = run("pdffonts", &[path.as_os_str()])?;
    Some(PdfRead { text, fonts })
}

/// One DevTools command through ChromeDriver's `goog/cdp/execute`: its result.
async fn cdp(c: &Client, cmd: &str, params: serde_json::Value) -> serde_json::Value {
    let body = serde_json::json!({"cmd": cmd, "params": params}).to_string();
    c.issue_cmd(SessionPost {
        path: "goog/cdp/execute",
        body,
    })
    .await
    .unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

/// The families Chromium drew the text of the first element matching `css` with (the
/// fonts found on this machine, after fallback — not the CSS's wish list).
pub(crate) async fn platform_fonts(c: &Client, css: &str) -> Vec<String> {
    use serde_json::json;
    cdp(c, "DOM.enable", json!({})).await;
    cdp(c, "CSS.enable", json!({})).await;
    let root = cdp(c, "DOM.getDocument", json!({})).await["root"]["nodeId"].clone();
    let node = cdp(
        c,
        "DOM.querySelector",
        json!({"nodeId": root, "selector": css}),
    )
    .await["nodeId"]
        .clone();
    let fonts = cdp(c, "CSS.getPlatformFontsForNode", json!({"nodeId": node})).await;
    fonts["fonts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["familyName"].as_str().map(str::to_string))
        .collect()
}
