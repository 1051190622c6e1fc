//! Analytics (src/analytics, docs/analytics.md) over HTTP on the demo city with its past:
//! every figure reconciled with the raw rows added up another way — the tables directly,
//! and the city's own OCDS export for the awards and bids — for the city, a purchasing
//! unit and a district; who may read them; the CSV carries the same numbers.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{code, spawn_app_at, spawn_app_at_with, TestApp};
use crate::evaluation::T0;

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
}

const PUBLISHED: &str = "t.published_at IS NOT NULL AND t.status <> 'draft'";

/// Which tenders a reconciliation adds up: the city, or a region, a purchasing unit and
/// days of publication (`YYYY-MM-DD`, CST, both included), as the API's filter.
#[derive(Debug, Clone, Copy, Default)]
struct Scope<'a> {
    region: Option<&'a str>,
    purchaser: Option<&'a str>,
    from: Option<&'a str>,
    to: Option<&'a str>,
}

impl Scope<'_> {
    fn query(&self) -> String {
        [
            ("region", self.region),
            ("purchaser", self.purchaser),
            ("from", self.from),
            ("to", self.to),
        ]
        .iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// The condition on the tenders `t` (after `PUBLISHED`), in instants of CST days.
    fn tenders(&self) -> String {
        let day = |d: &str| {
            kaibiao::calendar::start_of_day_ms(
                chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap(),
            )
        };
        let mut c = String::new();
        if let Some(r) = self.region {
            c += &format!(" AND t.region_code = '{r}'");
        }
        if let Some(p) = self.purchaser {
            c += &format!(" AND t.purchaser_org_id = '{p}'");
        }
        if let Some(f) = self.from {
            c += &format!(" AND t.published_at >= {}", day(f));
        }
        if let Some(to) = self.to {
            c += &format!(" AND t.published_at < {}", day(to) + 86_400_000);
        }
        c
    }

    /// The plans in scope: the planning unit's region and id, the expected month.
    fn plans(&self) -> String {
        let mut c = String::from("1 = 1");
        if let Some(r) = self.region {
            c += &format!(" AND o.region_code = '{r}'");
        }
        if let Some(p) = self.purchaser {
            c += &format!(" AND p.org_id = '{p}'");
        }
        if let Some(f) = self.from {
            c += &format!(" AND p.expected_month >= '{}'", &f[..7]);
        }
        if let Some(to) = self.to {
            c += &format!(" AND p.expected_month <= '{}'", &to[..7]);
        }
        c
    }
}

/// Where the price deductions are read: each tender's evaluation as finance reads it
/// through the API (tenders carried through the services), or the evaluation reports'
/// rows (the generated year, whose reports were written, not evaluated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deductions {
    Api,
    Reports,
}

/// The figures another way: sums over the tables, awards and bids from the OCDS export.
async fn from_raw_rows(
    app: &TestApp,
    scope: Scope<'_>,
    deductions: Deductions,
) -> BTreeMap<&'static str, i64> {
    let published = format!("{PUBLISHED}{}", scope.tenders());
    let published = published.as_str();
    let mut raw = BTreeMap::new();
    raw.insert(
        "planned_fen",
        scalar(
            app,
            &format!(
                "SELECT CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) FROM procurement_plans p \
                 JOIN organisations o ON o.id = p.org_id WHERE {}",
                scope.plans()
            ),
        )
        .await,
    );
    raw.insert(
        "tendered_fen",
        scalar(app, &format!("SELECT CAST(COALESCE(SUM(l.budget_fen), 0) AS BIGINT) FROM tender_lots l JOIN tenders t ON t.id = l.tender_id WHERE {published}")).await,
    );
    raw.insert(
        "contracted_fen",
        scalar(app, &format!("SELECT CAST(COALESCE(SUM(c.amount_fen), 0) AS BIGINT) FROM contracts c JOIN tenders t ON t.id = c.tender_id WHERE c.signed_at IS NOT NULL AND {published}")).await,
    );
    raw.insert(
        "paid_fen",
        scalar(app, &format!("SELECT CAST(COALESCE(SUM(p.amount_fen), 0) AS BIGINT) FROM payment_requests p JOIN tenders t ON t.id = p.tender_id WHERE p.status = 'paid' AND {published}")).await,
    );
    raw.insert(
        "tenders",
        scalar(
            app,
            &format!("SELECT COUNT(*) FROM tenders t WHERE {published}"),
        )
        .await,
    );
    // Awards and bids as the public export says them.
    let bulk = crate::opendata::bulk(app).await;
    let (mut awards, mut awarded, mut sme_awards, mut sme_fen) = (0, 0, 0, 0);
    let (mut lots_opened, mut read_out, mut single) = (0, 0, 0);
    let codes: BTreeSet<String> =
        sqlx::query_scalar::<_, String>(&format!("SELECT t.code FROM tenders t WHERE {published}"))
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let releases: Vec<Value> = bulk
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| {
            codes.contains(
                r["ocid"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("ocds-kaibiao-"),
            )
        })
        .collect();
    for r in &releases {
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
        format!("SELECT COUNT(*) FROM evaluation_panel p JOIN tenders t ON t.id = p.tender_id WHERE {published}{cond}")
    };
    raw.insert("invitations", scalar(app, &panel("")).await);
    raw.insert(
        "declines",
        scalar(app, &panel(" AND p.status = 'declined'")).await,
    );
    let scores = |cond: &str| {
        format!("SELECT COUNT(*) FROM evaluation_scores s JOIN tenders t ON t.id = s.tender_id WHERE {published}{cond}")
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
    for r in &releases {
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
        sqlx::query_scalar(&format!("SELECT t.id FROM tenders t WHERE {published}"))
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
    for id in ids {
        let lots = match deductions {
            Deductions::Api => {
                let (status, e) = finance.get(&format!("/api/tenders/{id}/evaluation")).await;
                if status != StatusCode::OK {
                    continue;
                }
                e["result"].clone()
            }
            Deductions::Reports => {
                let report: Option<String> =
                    sqlx::query_scalar("SELECT report FROM evaluations WHERE tender_id = $1")
                        .bind(&id)
                        .fetch_optional(&app.state.db.pool)
                        .await
                        .unwrap()
                        .flatten();
                match report {
                    Some(r) => serde_json::from_str::<Value>(&r).unwrap()["lots"].clone(),
                    None => continue,
                }
            }
        };
        for lot in lots.as_array().into_iter().flatten() {
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
        "SELECT COUNT(*) FROM tenders t WHERE {published} AND t.eval_terms LIKE '%\"reserved_for_sme\":true%'"
    );
    raw.insert("reserved_tenders", scalar(app, &reserved).await);
    let small =
        "(SELECT COALESCE(SUM(l.budget_fen), 0) FROM tender_lots l WHERE l.tender_id = t.id) \
         <= CASE WHEN t.category = 'works' THEN 400000000 ELSE 200000000 END";
    raw.insert(
        "reservable_tenders",
        scalar(
            app,
            &format!("SELECT COUNT(*) FROM tenders t WHERE {published} AND {small}"),
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

/// Each deadline rule's (due, on time, late, overdue) at `now`, from the stages' rows: the
/// instants the stages stored, or the calendar's from the start they stored.
async fn timeliness_from_rows(
    app: &TestApp,
    scope: Scope<'_>,
    now: i64,
) -> BTreeMap<String, [i64; 4]> {
    use kaibiao::calendar::deadlines::DeadlineRule as R;
    let deadlines = app.state.runtime::<kaibiao::calendar::Deadlines>();
    let published = format!("{PUBLISHED}{}", scope.tenders());
    let rows = |sql: String| {
        let pool = app.state.db.pool.clone();
        async move {
            sqlx::query_as::<_, (Option<i64>, Option<i64>, Option<i64>, Option<i64>)>(&sql)
                .fetch_all(&pool)
                .await
                .unwrap()
        }
    };
    let mut timed: Vec<(R, i64, Option<i64>)> = Vec::new();
    for (due, awarded, reported, phase_failed) in rows(format!(
        "SELECT e.confirm_due_at, e.awarded_at, n.published_at, \
         CASE WHEN e.phase = 'failed' THEN 1 ELSE 0 END FROM evaluations e \
         JOIN tenders t ON t.id = e.tender_id \
         LEFT JOIN result_notices n ON n.tender_id = e.tender_id WHERE {published}"
    ))
    .await
    {
        if let (Some(due), Some(0)) = (due, phase_failed) {
            timed.push((R::WinnerConfirmation, due, awarded));
        }
        if let Some(awarded) = awarded {
            timed.push((
                R::ResultAnnouncement,
                deadlines.due(R::ResultAnnouncement, awarded),
                reported,
            ));
        }
    }
    for (letter, signed, published_at, filed) in rows(format!(
        "SELECT c.award_letter_at, c.signed_at, c.published_at, c.filed_at FROM contracts c \
         JOIN tenders t ON t.id = c.tender_id WHERE {published}"
    ))
    .await
    {
        timed.push((
            R::ContractSigning,
            deadlines.due(R::ContractSigning, letter.unwrap()),
            signed,
        ));
        if let Some(signed) = signed {
            timed.push((
                R::ContractPublication,
                deadlines.due(R::ContractPublication, signed),
                published_at,
            ));
            timed.push((
                R::ContractFiling,
                deadlines.due(R::ContractFiling, signed),
                filed,
            ));
        }
    }
    for (rule, sql) in [
        (R::QuestionReply, "SELECT q.reply_due_at, q.answered_at, 0, 0 FROM tender_questions q JOIN tenders t ON t.id = q.tender_id"),
        (R::ChallengeReply, "SELECT c.reply_due_at, c.replied_at, 0, 0 FROM challenges c JOIN tenders t ON t.id = c.tender_id"),
        (R::ComplaintExamination, "SELECT p.examine_due_at, COALESCE(p.accepted_at, p.decided_at), 0, 0 FROM complaints p JOIN tenders t ON t.id = p.tender_id"),
        (R::ComplaintDecision, "SELECT p.decision_due_at, p.decided_at, 0, 0 FROM complaints p JOIN tenders t ON t.id = p.tender_id"),
    ] {
        for (due, done, _, _) in rows(format!("{sql} WHERE {published}")).await {
            if let Some(due) = due {
                timed.push((rule, due, done));
            }
        }
    }
    // R-DEP-1: a tender that ended with deposits, from its last ending event until its
    // last deposit is refunded.
    for (ended, unrefunded, last_refund, _) in rows(format!(
        "SELECT (SELECT MAX(l.at) FROM ledger_events l WHERE l.tender_id = t.id AND l.kind IN \
                ('winner_confirmed', 'opening_failed', 'evaluation_failed', 'tender_cancelled')), \
         (SELECT COUNT(*) FROM bid_deposits d WHERE d.tender_id = t.id AND d.refunded_at IS NULL), \
         (SELECT MAX(d.refunded_at) FROM bid_deposits d WHERE d.tender_id = t.id), 0 \
         FROM tenders t WHERE t.status IN ('awarded', 'failed', 'cancelled') \
         AND EXISTS (SELECT 1 FROM bid_deposits d WHERE d.tender_id = t.id) AND {published}"
    ))
    .await
    {
        if let Some(ended) = ended {
            let refunded = last_refund.filter(|_| unrefunded == Some(0));
            timed.push((
                R::DepositReturn,
                deadlines.due(R::DepositReturn, ended),
                refunded,
            ));
        }
    }
    // R-PAY-1: an SME's accepted contract, from acceptance under the contract's payment
    // days, until it is paid in full.
    let accepted: Vec<(i64, String, i64, i64, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT a.signed_at, c.document, \
         CAST(c.amount_fen + COALESCE((SELECT SUM(s.amount_fen) FROM contract_supplements s \
              WHERE s.contract_id = c.id), 0) AS BIGINT), \
         CAST(COALESCE((SELECT SUM(p.amount_fen) FROM payment_requests p \
              WHERE p.contract_id = c.id AND p.status = 'paid'), 0) AS BIGINT), \
         (SELECT MAX(p.paid_at) FROM payment_requests p \
              WHERE p.contract_id = c.id AND p.status = 'paid') \
         FROM acceptances a JOIN contracts c ON c.id = a.contract_id \
         JOIN tenders t ON t.id = c.tender_id WHERE a.status = 'passed' AND {published}"
    ))
    .fetch_all(&app.state.db.pool)
    .await
    .unwrap();
    for (accepted_at, document, payable, paid, last_paid) in accepted {
        let document: Value = serde_json::from_str(&document).unwrap();
        if document["sme"] != true {
            continue;
        }
        let days = document["terms"]["payment_days"].as_i64().unwrap_or(30);
        let term = kaibiao::calendar::deadlines::Period::Days(days as u32);
        let paid_in_full = last_paid.filter(|_| paid >= payable);
        timed.push((
            R::SmePayment,
            deadlines.due_after(term, accepted_at),
            paid_in_full,
        ));
    }
    let mut out = BTreeMap::new();
    for (rule, due, done) in timed {
        let info = rule.info();
        let entry: &mut [i64; 4] = out
            .entry(format!("{}.{}", info.code, info.name))
            .or_default();
        let column = match done {
            Some(d) if d < due => 1,
            Some(_) => 2,
            None if due <= now => 3,
            None => continue,
        };
        entry[0] += 1;
        entry[column] += 1;
    }
    out
}

/// The API's timeliness rows that have deadlines, as `timeliness_from_rows` says them.
fn timeliness_of(v: &Value) -> BTreeMap<String, [i64; 4]> {
    v["figures"]["timeliness"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["due"].as_i64().unwrap() > 0)
        .map(|r| {
            let n = |k: &str| r[k].as_i64().unwrap();
            (
                format!(
                    "{}.{}",
                    r["code"].as_str().unwrap(),
                    r["name"].as_str().unwrap()
                ),
                [n("due"), n("on_time"), n("late"), n("overdue")],
            )
        })
        .collect()
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
    let raw = from_raw_rows(&app, Scope::default(), Deductions::Api).await;
    assert_eq!(figures_of(&city), raw);
    assert_eq!(
        timeliness_of(&city),
        timeliness_from_rows(&app, Scope::default(), T0).await
    );
    // Its SME paid after acceptance counts under R-PAY-1.
    assert!(
        timeliness_of(&city)
            .get("R-PAY-1.payment")
            .is_some_and(|[due, on_time, ..]| *due >= 1 && *on_time >= 1),
        "{}",
        city["figures"]["timeliness"]
    );
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
    crate::browser::screenshots(c, "analytics-deadlines", "#ana-timeliness").await;
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
    // Each deadline rule of the stages has its row, with the CSV's figures.
    let rules = c
        .find_all(fantoccini::Locator::Css("#ana-timeliness-table tbody tr"))
        .await
        .unwrap();
    assert_eq!(rules.len(), 11, "the stages' nine, R-DEP-1's and R-PAY-1's");
    crate::browser::wait_css(c, "tr[data-rule='R-PAY-1.payment']").await;
    for (column, figure) in [(2, "due"), (3, "on_time"), (4, "late")] {
        let shown = text_of(
            c,
            &format!("tr[data-rule='R-CON-1.signing'] td:nth-child({column})"),
        )
        .await;
        assert_eq!(
            shown,
            value("timeliness:R-CON-1.signing", figure).to_string(),
            "{figure}"
        );
    }
    driver.close().await;
}

/// A generated year of the city (src/demo/year.rs: 360 tenders over the seven regions,
/// thousands of bids) reconciles figure by figure with its raw rows — for the city, a
/// district, a purchasing unit and a quarter — and every figure has something in it.
#[tokio::test]
async fn a_generated_year_of_the_city_reconciles_figure_by_figure() {
    let (app, _clock) = spawn_app_at(T0).await;
    let year = kaibiao::demo::year::generate(
        &app.state,
        kaibiao::demo::year::YearSpec {
            tenders: 360,
            seed: 18,
            end: T0,
        },
    )
    .await
    .unwrap();
    assert_eq!(year.tenders, 360);
    assert!(year.bids > 1_500, "{year:?}");
    assert!(year.payments > 100, "{year:?}");
    assert!(year.acceptances > 100, "{year:?}");
    let finance = app.login("finance").await;
    let (_, city) = finance.get("/api/analytics").await;
    let regions: Vec<(String, i64)> = city["figures"]["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["code"].as_str().unwrap().to_string(),
                r["tenders"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(regions.len(), 7);
    assert!(
        regions.iter().all(|r| r.1 > 20),
        "every region has tenders: {regions:?}"
    );
    let district = regions[3].0.clone();
    let unit: String = sqlx::query_scalar(
        "SELECT purchaser_org_id FROM tenders t JOIN organisations o ON o.id = t.purchaser_org_id \
         WHERE o.name LIKE '生成数据%' GROUP BY purchaser_org_id ORDER BY COUNT(*) DESC LIMIT 1",
    )
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    let city_scope = Scope::default();
    for scope in [
        city_scope,
        Scope {
            region: Some(&district),
            ..Scope::default()
        },
        Scope {
            purchaser: Some(&unit),
            ..Scope::default()
        },
        Scope {
            from: Some("2026-04-01"),
            to: Some("2026-06-30"),
            ..Scope::default()
        },
    ] {
        let (status, v) = finance
            .get(&format!("/api/analytics?{}", scope.query()))
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let raw = from_raw_rows(&app, scope, Deductions::Reports).await;
        assert_eq!(figures_of(&v), raw, "{scope:?}");
        let timed = timeliness_from_rows(&app, scope, T0).await;
        assert_eq!(timeliness_of(&v), timed, "{scope:?}");
        if scope.region.is_none() && scope.purchaser.is_none() && scope.from.is_none() {
            // The year has something in every figure: nothing reconciles by being zero.
            for (k, v) in &raw {
                assert!(*v > 0, "{k} is 0 in the generated year");
            }
            // R-PAY-1 from the acceptances: SMEs paid in time, and some paid late or not.
            let [due, on_time, late, overdue] = timed["R-PAY-1.payment"];
            assert!(
                due > 50 && on_time > 0 && late + overdue > 0,
                "R-PAY-1 in the generated year: {:?}",
                timed["R-PAY-1.payment"]
            );
            let f = &v["figures"];
            assert!(f["competition"]["failed"].as_i64().unwrap() > 0);
            assert!(f["competition"]["cancelled"].as_i64().unwrap() > 0);
            assert!(f["policy"]["special_awards"].as_i64().unwrap() > 0, "{f}");
            // Each deadline after the report has been met in time, met late and missed.
            for rule in [
                "R-EVAL-10.confirmation",
                "R-AWARD-1.announcement",
                "R-CON-1.signing",
                "R-CON-2.publication",
                "R-CON-3.filing",
            ] {
                let [due, on_time, late, _] = timed[rule];
                assert!(
                    due > 50 && on_time > 0 && late > 0,
                    "{rule}: {:?}",
                    timed[rule]
                );
            }
            assert!(timed["R-CON-1.signing"][3] > 0, "contracts never signed");
        }
    }
    // The year's open data, page by page, validates with libcoveocds: every release, its
    // bids, awards, contracts and payments.
    let releases = crate::opendata::all_releases(&app).await;
    assert_eq!(
        releases.len() as i64,
        scalar(
            &app,
            &format!("SELECT COUNT(*) FROM tenders t WHERE {PUBLISHED}")
        )
        .await
    );
    let dir = tempfile::tempdir().unwrap();
    crate::opendata::validate_export(&app, releases, dir.path()).await;
}

/// The median of `runs` timings of `f`, in milliseconds.
async fn median_ms<F, Fut>(runs: usize, mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = std::time::Instant::now();
        f().await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// The analytics and the open data at a city's scale: a generated year (1×: 360 tenders)
/// and ten years' worth (10×), on the database the tests use (SQLite, or PostgreSQL with
/// KAIBIAO_TEST_DATABASE_URL). Prints the answer times of the analytics (the city, a
/// district) against a signed-in `GET /api/me` in the same run, and the OCDS bulk
/// export's releases per second against ocdscardinal reading the same file (its
/// `coverage`, cardinal-rs's reader, from the PyPI package).
#[tokio::test]
#[ignore = "benchmark: cargo test --release --test it -- --ignored --nocapture city_scale"]
async fn city_scale() {
    println!("| city | tenders | bids | generated | /api/me | analytics (city) | ratio | analytics (district) | bulk export | releases/s | ocdscardinal reads | releases/s | ratio |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for scale in [1usize, 10] {
        let (app, _clock) = spawn_app_at(T0).await;
        let started = std::time::Instant::now();
        let year = kaibiao::demo::year::generate(
            &app.state,
            kaibiao::demo::year::YearSpec {
                tenders: 360 * scale,
                seed: 18,
                end: T0,
            },
        )
        .await
        .unwrap();
        let generated = started.elapsed().as_secs_f64();
        let finance = app.login("finance").await;
        let me = median_ms(9, || async {
            assert_eq!(finance.get("/api/me").await.0, StatusCode::OK);
        })
        .await;
        let city = median_ms(5, || async {
            assert_eq!(finance.get("/api/analytics").await.0, StatusCode::OK);
        })
        .await;
        let region: String =
            sqlx::query_scalar("SELECT code FROM regions ORDER BY sort LIMIT 1 OFFSET 3")
                .fetch_one(&app.state.db.pool)
                .await
                .unwrap();
        let district = median_ms(5, || async {
            let path = format!("/api/analytics?region={region}");
            assert_eq!(finance.get(&path).await.0, StatusCode::OK);
        })
        .await;
        let started = std::time::Instant::now();
        let bulk = crate::opendata::bulk(&app).await;
        let export = started.elapsed().as_secs_f64();
        let releases = bulk.lines().count();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("city.jsonl");
        std::fs::write(&file, &bulk).unwrap();
        let cardinal = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys, time, ocdscardinal\n\
                 ocdscardinal.coverage(sys.argv[1])\n\
                 t = []\n\
                 for _ in range(5):\n    s = time.perf_counter(); ocdscardinal.coverage(sys.argv[1]); t.append(time.perf_counter() - s)\n\
                 print(sorted(t)[2])",
            ])
            .arg(&file)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<f64>().ok());
        let (cardinal_s, cardinal_rate, ratio) = match cardinal {
            Some(s) => (
                format!("{:.0} ms", s * 1000.0),
                format!("{:.0}", releases as f64 / s),
                format!("{:.2}", s / export),
            ),
            None => (
                "(ocdscardinal not installed)".into(),
                "-".into(),
                "-".into(),
            ),
        };
        println!(
            "| {scale}× | {} | {} | {generated:.1} s | {me:.2} ms | {city:.0} ms | {:.0}× | {district:.0} ms | {:.0} ms | {:.0} | {cardinal_s} | {cardinal_rate} | {ratio} |",
            year.tenders,
            year.bids,
            city / me,
            export * 1000.0,
            releases as f64 / export,
        );
    }
}
