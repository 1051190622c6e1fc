//! Analytics (src/analytics, docs/analytics.md) over HTTP on the demo city with its past:
//! every figure reconciled with the raw rows added up another way — the tables directly,
//! and the city's own OCDS export for the awards and bids — for the city, a purchasing
//! unit and a district; who may read them; the CSV carries the same numbers.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{code, spawn_app_at_with, TestApp};
use crate::evaluation::T0;

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

const PUBLISHED: &str = "t.published_at IS NOT NULL AND t.status <> 'draft'";

/// The figures another way: sums over the tables, awards and bids from the OCDS export.
async fn from_raw_rows(app: &TestApp) -> BTreeMap<&'static str, i64> {
    let mut raw = BTreeMap::new();
    raw.insert(
        "planned_fen",
        scalar(
            app,
            "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM procurement_plans",
        )
        .await,
    );
    raw.insert(
        "tendered_fen",
        scalar(app, &format!("SELECT CAST(COALESCE(SUM(l.budget_fen), 0) AS BIGINT) FROM tender_lots l JOIN tenders t ON t.id = l.tender_id WHERE {PUBLISHED}")).await,
    );
    raw.insert(
        "contracted_fen",
        scalar(app, &format!("SELECT CAST(COALESCE(SUM(c.amount_fen), 0) AS BIGINT) FROM contracts c JOIN tenders t ON t.id = c.tender_id WHERE c.signed_at IS NOT NULL AND {PUBLISHED}")).await,
    );
    raw.insert(
        "paid_fen",
        scalar(app, &format!("SELECT CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) FROM payment_requests p JOIN tenders t ON t.id = p.tender_id WHERE p.status = 'paid' AND {PUBLISHED}")).await,
    );
    raw.insert(
        "tenders",
        scalar(
            app,
            &format!("SELECT COUNT(*) FROM tenders t WHERE {PUBLISHED}"),
        )
        .await,
    );
    // Awards and bids as the public export says them.
    let bulk = reqwest::get(app.url("/api/ocds/bulk.jsonl"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (mut awards, mut awarded, mut sme_awards, mut sme_fen) = (0, 0, 0, 0);
    let (mut lots_opened, mut read_out, mut single) = (0, 0, 0);
    for line in bulk.lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        for a in r["awards"].as_array().into_iter().flatten() {
            let fen = (a["value"]["amount"].as_f64().unwrap() * 100.0).round() as i64;
            let code = a["suppliers"][0]["id"]
                .as_str()
                .unwrap()
                .trim_start_matches("CN-USCC-");
            let size: Option<String> = sqlx::query_scalar(
                "SELECT enterprise_size FROM organisations WHERE credit_code = $1",
            )
            .bind(code)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
            awards += 1;
            awarded += fen;
            if matches!(size.as_deref(), Some("medium" | "small" | "micro")) {
                sme_awards += 1;
                sme_fen += fen;
            }
        }
        if r.get("bids").is_some() {
            for lot in r["tender"]["lots"].as_array().unwrap() {
                let n = r["bids"]["details"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|b| b["status"] == "valid" && b["relatedLots"][0] == lot["id"])
                    .count() as i64;
                lots_opened += 1;
                read_out += n;
                single += i64::from(n == 1);
            }
        }
    }
    // The panels from their tables.
    let panel = |cond: &str| {
        format!("SELECT COUNT(*) FROM evaluation_panel p JOIN tenders t ON t.id = p.tender_id WHERE {PUBLISHED}{cond}")
    };
    raw.insert("invitations", scalar(app, &panel("")).await);
    raw.insert(
        "declines",
        scalar(app, &panel(" AND p.status = 'declined'")).await,
    );
    let scores = |cond: &str| {
        format!("SELECT COUNT(*) FROM evaluation_scores s JOIN tenders t ON t.id = s.tender_id WHERE {PUBLISHED}{cond}")
    };
    raw.insert("scores", scalar(app, &scores("")).await);
    raw.insert(
        "outlier_scores",
        scalar(app, &scores(" AND s.outlier_reason IS NOT NULL")).await,
    );
    // Bidders and winners as the export names them; deductions as each tender's
    // evaluation shows them to finance.
    let (mut bidders, mut winners) = (BTreeSet::new(), BTreeSet::new());
    let (mut small_micro, mut deducted) = (0, 0);
    let finance = app.login("finance").await;
    for line in bulk.lines() {
        let r: Value = serde_json::from_str(line).unwrap();
        for b in r["bids"]["details"].as_array().into_iter().flatten() {
            if b["status"] == "valid" {
                bidders.insert(b["tenderers"][0]["id"].as_str().unwrap().to_string());
            }
        }
        for a in r["awards"].as_array().into_iter().flatten() {
            winners.insert(a["suppliers"][0]["id"].as_str().unwrap().to_string());
        }
    }
    let ids: Vec<String> =
        sqlx::query_scalar(&format!("SELECT t.id FROM tenders t WHERE {PUBLISHED}"))
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
    for id in ids {
        let (status, e) = finance.get(&format!("/api/tenders/{id}/evaluation")).await;
        if status != StatusCode::OK {
            continue;
        }
        for lot in e["result"].as_array().into_iter().flatten() {
            for bid in lot["result"]["bids"].as_array().into_iter().flatten() {
                for d in bid["price"]["deductions"].as_array().into_iter().flatten() {
                    small_micro += i64::from(d["kind"] == "small_micro");
                    deducted += d["amount_fen"].as_i64().unwrap();
                }
            }
        }
    }
    let mut sme_bidders = 0;
    for code in &bidders {
        let size: Option<String> =
            sqlx::query_scalar("SELECT enterprise_size FROM organisations WHERE credit_code = $1")
                .bind(code.trim_start_matches("CN-USCC-"))
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
        sme_bidders += i64::from(matches!(
            size.as_deref(),
            Some("medium" | "small" | "micro")
        ));
    }
    // R-POL-1 from the tenders' stated terms, by text.
    let reserved = format!(
        "SELECT COUNT(*) FROM tenders t WHERE {PUBLISHED} AND t.eval_terms LIKE '%\"reserved_for_sme\":true%'"
    );
    raw.insert("reserved_tenders", scalar(app, &reserved).await);
    let small =
        "(SELECT COALESCE(SUM(l.budget_fen), 0) FROM tender_lots l WHERE l.tender_id = t.id) \
         <= CASE WHEN t.category = 'works' THEN 400000000 ELSE 200000000 END";
    raw.insert(
        "reservable_tenders",
        scalar(
            app,
            &format!("SELECT COUNT(*) FROM tenders t WHERE {PUBLISHED} AND {small}"),
        )
        .await,
    );
    raw.insert(
        "reservable_reserved",
        scalar(app, &format!("{reserved} AND {small}")).await,
    );
    raw.insert("bidders", bidders.len() as i64);
    raw.insert("sme_bidders", sme_bidders);
    raw.insert("winners", winners.len() as i64);
    raw.insert("small_micro_deductions", small_micro);
    raw.insert("deducted_fen", deducted);
    raw.insert("awards", awards);
    raw.insert("awarded_fen", awarded);
    raw.insert("sme_awards", sme_awards);
    raw.insert("sme_fen", sme_fen);
    raw.insert("lots_opened", lots_opened);
    raw.insert("bids_read_out", read_out);
    raw.insert("single_bid_lots", single);
    raw
}

fn figures_of(v: &Value) -> BTreeMap<&'static str, i64> {
    let f = &v["figures"];
    let n = |x: &Value| x.as_i64().unwrap();
    BTreeMap::from([
        ("planned_fen", n(&f["budget"]["planned_fen"])),
        ("tendered_fen", n(&f["budget"]["tendered_fen"])),
        ("contracted_fen", n(&f["budget"]["contracted_fen"])),
        ("paid_fen", n(&f["budget"]["paid_fen"])),
        ("tenders", n(&f["competition"]["tenders"])),
        ("awards", n(&f["sme"]["awards"])),
        ("awarded_fen", n(&f["savings"]["awarded_fen"])),
        ("sme_awards", n(&f["sme"]["sme_awards"])),
        ("sme_fen", n(&f["sme"]["sme_fen"])),
        ("lots_opened", n(&f["competition"]["lots_opened"])),
        ("bids_read_out", n(&f["competition"]["bids_read_out"])),
        ("single_bid_lots", n(&f["competition"]["single_bid_lots"])),
        ("invitations", n(&f["experts"]["invitations"])),
        ("declines", n(&f["experts"]["declines"])),
        ("scores", n(&f["experts"]["scores"])),
        ("outlier_scores", n(&f["experts"]["outlier_scores"])),
        ("bidders", n(&f["participation"]["bidders"])),
        ("sme_bidders", n(&f["participation"]["sme_bidders"])),
        ("winners", n(&f["participation"]["winners"])),
        (
            "small_micro_deductions",
            n(&f["policy"]["small_micro_deductions"]),
        ),
        ("deducted_fen", n(&f["policy"]["deducted_fen"])),
        ("reserved_tenders", n(&f["policy"]["reserved_tenders"])),
        ("reservable_tenders", n(&f["policy"]["reservable_tenders"])),
        (
            "reservable_reserved",
            n(&f["policy"]["reservable_reserved"]),
        ),
    ])
}

#[tokio::test]
async fn every_figure_reconciles_with_the_raw_rows_for_the_city_a_unit_and_a_district() {
    let (app, _clock) = spawn_app_at_with(T0, |c| c.demo_history = true).await;
    let finance = app.login("finance").await;
    let (status, city) = finance.get("/api/analytics").await;
    assert_eq!(status, StatusCode::OK, "{city}");
    let raw = from_raw_rows(&app).await;
    assert_eq!(figures_of(&city), raw);
    // The demo's past has money at every stage: nothing reconciles by being zero (but
    // what the demo never does: a lot with one bid, an expert declining, an outlier, a
    // small tender reserved for SMEs — its reserved tender is above the ceiling, and the
    // figure shows its small ones are not).
    for (k, v) in &raw {
        if ![
            "single_bid_lots",
            "declines",
            "outlier_scores",
            "reservable_reserved",
        ]
        .contains(k)
        {
            assert!(*v > 0, "{k} is 0");
        }
    }
    let f = &city["figures"];
    assert_eq!(
        f["savings"]["saved_fen"].as_i64().unwrap(),
        f["savings"]["awarded_budget_fen"].as_i64().unwrap() - raw["awarded_fen"]
    );
    // The regions add up to the city.
    let regions = f["regions"].as_array().unwrap();
    assert_eq!(
        regions.len(),
        7,
        "the city and its six districts and counties"
    );
    let total = |k: &str| regions.iter().map(|r| r[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!(total("tenders"), raw["tenders"]);
    assert_eq!(total("awarded_fen"), raw["awarded_fen"]);
    assert_eq!(total("sme_fen"), raw["sme_fen"]);

    // A district without tenders: zeros, and its plans only.
    let empty = regions
        .iter()
        .find(|r| r["tenders"] == 0)
        .expect("a district without tenders");
    let (_, d) = finance
        .get(&format!(
            "/api/analytics?region={}",
            empty["code"].as_str().unwrap()
        ))
        .await;
    assert_eq!(d["figures"]["competition"]["tenders"], 0);
    assert_eq!(d["figures"]["sme"]["awarded_fen"], 0);

    // A purchaser reads its own unit, whatever it asks for.
    let purchaser = app.login("purchaser").await;
    let (status, own) = purchaser.get("/api/analytics?purchaser=someone-else").await;
    assert_eq!(status, StatusCode::OK, "{own}");
    let org: String = sqlx::query_scalar("SELECT org_id FROM users WHERE username = 'purchaser'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(own["purchaser"], org.as_str());
    let mine = scalar(
        &app,
        &format!(
            "SELECT COUNT(*) FROM tenders t WHERE {PUBLISHED} AND t.purchaser_org_id = '{org}'"
        ),
    )
    .await;
    assert_eq!(own["figures"]["competition"]["tenders"], mine);
    assert!(
        mine < raw["tenders"],
        "the hospital's tenders are not the school's"
    );

    // The period: nothing published after the last day asked.
    let (_, before) = finance.get("/api/analytics?to=2020-01-01").await;
    assert_eq!(before["figures"]["competition"]["tenders"], 0);
    let (status, v) = finance.get("/api/analytics?from=yesterday").await;
    assert_eq!(
        (status, code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION")
    );

    // Who may read: not a supplier, an expert, the public.
    for user in ["supplier1", "expert1", "bank"] {
        let (status, _) = app.login(user).await.get("/api/analytics").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
    }
    let (status, _) = app.call(Method::GET, "/api/analytics", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The CSV: the same numbers.
    let csv = finance
        .raw_get("/api/analytics.csv")
        .await
        .text()
        .await
        .unwrap();
    let rows: BTreeMap<(String, String), i64> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            ((c[0].to_string(), c[1].to_string()), c[2].parse().unwrap())
        })
        .collect();
    assert_eq!(rows[&("budget".into(), "paid_fen".into())], raw["paid_fen"]);
    assert_eq!(rows[&("sme".into(), "sme_fen".into())], raw["sme_fen"]);
    assert_eq!(
        rows[&("competition".into(), "bids_read_out".into())],
        raw["bids_read_out"]
    );

    // The Excel workbook: the CSV's rows, numbers as numbers, as openpyxl reads them.
    let response = finance.raw_get("/api/analytics.xlsx").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("kaibiao-analytics.xlsx"));
    let book = response.bytes().await.unwrap();
    if let Some(sheet) = xlsx_rows(&book) {
        assert_eq!(sheet, rows);
    }
}

/// The rows (section, figure) → value of a workbook's first sheet, read by openpyxl;
/// `None` (skip) without it, except under CI.
fn xlsx_rows(book: &[u8]) -> Option<BTreeMap<(String, String), i64>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("analytics.xlsx");
    std::fs::write(&file, book).unwrap();
    const READ: &str = "import json, sys, openpyxl\n\
        ws = openpyxl.load_workbook(sys.argv[1]).worksheets[0]\n\
        rows = [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]\n\
        assert all(isinstance(r[2], (int, float)) for r in rows), rows\n\
        print(json.dumps([[r[0], r[1], int(r[2])] for r in rows]))";
    let out = match std::process::Command::new("python3")
        .args(["-c", READ])
        .arg(&file)
        .output()
    {
        Ok(out) if out.status.success() => out,
        other => {
            assert!(
                !crate::common::in_ci(),
                "CI=true but openpyxl cannot read the workbook (pip install -r tests/requirements.txt): {other:?}"
            );
            eprintln!("skipped: openpyxl is not installed");
            return None;
        }
    };
    let rows: Vec<(String, String, i64)> = serde_json::from_slice(&out.stdout).unwrap();
    Some(rows.into_iter().map(|(a, b, v)| ((a, b), v)).collect())
}

/// Finance filters the analytics to the city's own district in the page and downloads the
/// CSV: the page's figures are the CSV's.
#[tokio::test]
async fn finance_filters_to_a_district_in_the_page_and_the_csv_matches_it() {
    use crate::browser::{as_user, browser, click_long, wait_long};
    use crate::hall::{text_of, wait_text};
    let Some(driver) = browser().await else {
        return;
    };
    let c = &driver.client;
    let (app, _clock) = spawn_app_at_with(T0, |c| c.demo_history = true).await;
    as_user(c, &app, "finance").await;
    c.goto(&app.url("/dashboard.html")).await.unwrap();
    click_long(c, "a[data-nav=analytics]").await;
    wait_long(c, "#ana-paid").await;
    let region: String = sqlx::query_scalar("SELECT region_code FROM tenders LIMIT 1")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    c.find(fantoccini::Locator::Css(&format!(
        "#ana-region option[value='{region}']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    click_long(c, "#ana-apply").await;
    wait_long(c, &format!("#ana-csv[href*='region={region}']")).await;
    wait_long(c, "#ana-paid").await;
    crate::browser::screenshots(c, "analytics", "#ana-regions").await;
    assert!(c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains(&format!("region={region}")));

    let csv = app
        .login("finance")
        .await
        .raw_get(&format!("/api/analytics.csv?region={region}"))
        .await
        .text()
        .await
        .unwrap();
    let value = |section: &str, figure: &str| -> i64 {
        csv.lines()
            .find(|l| l.starts_with(&format!("{section},{figure},")))
            .unwrap_or_else(|| panic!("{section},{figure} in {csv}"))
            .rsplit(',')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let yuan = |fen: i64| {
        let s = format!("{}.{:02}", fen / 100, fen % 100);
        let (int, dec) = s.split_once('.').unwrap();
        let mut grouped = String::new();
        for (i, ch) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        format!("{grouped}.{dec}")
    };
    for (id, section, figure) in [
        ("#ana-paid", "budget", "paid_fen"),
        ("#ana-contracted", "budget", "contracted_fen"),
        ("#ana-awarded", "savings", "awarded_fen"),
    ] {
        let shown = wait_text(c, id, &yuan(value(section, figure))).await;
        assert!(!shown.is_empty());
    }
    let tenders = text_of(c, "#ana-tenders").await;
    assert_eq!(tenders, value("competition", "tenders").to_string());
    assert!(value("competition", "tenders") > 0);
    // The chart has a bar for each of the seven regions.
    let bars = c
        .find_all(fantoccini::Locator::Css(".ana-chart rect.ana-bar-other"))
        .await
        .unwrap();
    assert_eq!(bars.len(), 7);
    driver.close().await;
}
