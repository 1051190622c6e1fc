//! A generated year of the city's procurement, for measuring and reconciling what reads a
//! city at scale — the analytics (docs/analytics.md) and the open data (docs/opendata.md)
//! — where the demo's past (`history`) has ten tenders carried through the services.
//!
//! It writes the rows those readers read straight to the tables, in one transaction:
//! purchasing units in each of the seven regions with their budget lines and plans,
//! suppliers of every size (a few prison enterprises and welfare units), an expert pool,
//! and for each tender its lots, the bids read out at a closed opening, the panel (some
//! invitations declined, a few scores outside the panel's range), the evaluation report
//! with the SME price deductions, the result notice, the signed contracts, their
//! acceptances and payments; some tenders fail at the opening or are cancelled. Nothing
//! in it was sealed, signed or decrypted: there are no bid documents, keys or signatures
//! (the notices and acceptance reports carry none), and it is marked as read for the
//! collusion warnings' due work. It is for reading,
//! never for acting on: every tender in it is decided (awarded, failed or cancelled)
//! before `end`; a few of its contracts are left unsigned and some deadlines after the
//! report met late or missed, for the timeliness figures.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::calendar::deadlines::DeadlineRule;
use crate::calendar::Deadlines;
use crate::db::Tx;
use crate::state::AppState;

const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;

/// What to generate: `tenders` spread over the year before `end` (Unix ms), the same rows
/// for the same `seed`.
#[derive(Debug, Clone, Copy)]
pub struct YearSpec {
    pub tenders: usize,
    pub seed: u64,
    pub end: i64,
}

/// What was written (contracts: the signed ones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Year {
    pub tenders: usize,
    pub bids: usize,
    pub awards: usize,
    pub contracts: usize,
    pub payments: usize,
    pub acceptances: usize,
    pub scores: usize,
}

enum V {
    S(String),
    I(i64),
    NullText,
    NullInt,
}

impl From<&str> for V {
    fn from(s: &str) -> V {
        V::S(s.to_string())
    }
}
impl From<String> for V {
    fn from(s: String) -> V {
        V::S(s)
    }
}
impl From<&String> for V {
    fn from(s: &String) -> V {
        V::S(s.clone())
    }
}
impl From<i64> for V {
    fn from(i: i64) -> V {
        V::I(i)
    }
}
impl From<Option<String>> for V {
    fn from(s: Option<String>) -> V {
        s.map_or(V::NullText, V::S)
    }
}
impl From<Option<i64>> for V {
    fn from(i: Option<i64>) -> V {
        i.map_or(V::NullInt, V::I)
    }
}

/// The rows of one table, written in multi-row statements (under both databases' limits
/// on bound parameters).
struct Rows {
    table: &'static str,
    cols: &'static [&'static str],
    rows: Vec<Vec<V>>,
}

macro_rules! row {
    ($($v:expr),* $(,)?) => { vec![$(V::from($v)),*] };
}

impl Rows {
    fn new(table: &'static str, cols: &'static [&'static str]) -> Rows {
        Rows {
            table,
            cols,
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<V>) {
        debug_assert_eq!(row.len(), self.cols.len(), "{}", self.table);
        self.rows.push(row);
    }

    async fn write(self, tx: &mut Tx) -> sqlx::Result<()> {
        let per = (8_000 / self.cols.len()).max(1);
        for chunk in self.rows.chunks(per) {
            let mut sql = format!(
                "INSERT INTO {} ({}) VALUES ",
                self.table,
                self.cols.join(", ")
            );
            let mut n = 0;
            for (i, _) in chunk.iter().enumerate() {
                sql.push_str(if i == 0 { "(" } else { ", (" });
                for c in 0..self.cols.len() {
                    n += 1;
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!("${n}"));
                }
                sql.push(')');
            }
            let mut q = sqlx::query(&sql);
            for v in chunk.iter().flatten() {
                q = match v {
                    V::S(s) => q.bind(s.clone()),
                    V::I(i) => q.bind(*i),
                    V::NullText => q.bind(None::<String>),
                    V::NullInt => q.bind(None::<i64>),
                };
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// A generated organisation.
struct Org {
    id: String,
    region: String,
    size: Option<&'static str>,
    special: Option<&'static str>,
}

const ITEMS: [(&str, &str, &str); 12] = [
    ("goods", "办公设备", "A02010000"),
    ("goods", "教学仪器", "A02320000"),
    ("goods", "医疗设备", "A02320100"),
    ("goods", "办公家具", "A06010000"),
    ("goods", "公务用车", "A02030500"),
    ("services", "物业管理服务", "C21040000"),
    ("services", "信息系统运维服务", "C16070000"),
    ("services", "保安服务", "C21010000"),
    ("services", "审计服务", "C23040000"),
    ("works", "道路维修工程", "B07000000"),
    ("works", "校舍改造工程", "B01000000"),
    ("works", "排水管网工程", "B07020000"),
];

/// The SME price deduction of a small or micro bidder in a tender not reserved for SMEs
/// (R-POL-2: 10 % of the price), in the report's form.
const SMALL_MICRO_BP: i64 = 1_000;

fn cst_year(ms: i64) -> i64 {
    i64::from(chrono::Datelike::year(&crate::clock::cst_date(ms)))
}

/// Writes a year of the city's procurement (see the module's text); the regions must be
/// there (every started platform has them).
pub async fn generate(state: &AppState, spec: YearSpec) -> anyhow::Result<Year> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let deadlines = state.runtime::<Deadlines>();
    let regions: Vec<String> = sqlx::query_scalar("SELECT code FROM regions ORDER BY sort")
        .fetch_all(&state.db.pool)
        .await?;
    anyhow::ensure!(!regions.is_empty(), "no regions");
    let tag = format!("{:04}", spec.seed % 10_000);
    let start = spec.end - 365 * DAY;
    let mut year = Year::default();

    // Who: one user who wrote it all (disabled, no password), purchasing units per
    // region, agencies, suppliers, experts.
    let mut orgs = Rows::new(
        "organisations",
        &[
            "id",
            "kind",
            "name",
            "credit_code",
            "region_code",
            "enterprise_size",
            "special_status",
            "created_at",
        ],
    );
    let mut serial = 0usize;
    let mut org = |orgs: &mut Rows,
                   kind: &str,
                   name: String,
                   region: &str,
                   size: Option<&'static str>,
                   special: Option<&'static str>| {
        serial += 1;
        let o = Org {
            id: crate::org::service::new_id(),
            region: region.to_string(),
            size,
            special,
        };
        let prefix = if kind == "supplier" { "91" } else { "12" };
        orgs.push(row![
            &o.id,
            kind,
            name,
            super::coded(
                prefix,
                region,
                "MA5",
                serial + 1_000 * (spec.seed % 97) as usize
            ),
            region,
            size.map(str::to_string),
            special.map(str::to_string),
            start
        ]);
        o
    };
    let agencies: Vec<Org> = (0..3)
        .map(|i| {
            org(
                &mut orgs,
                "agency",
                format!("生成数据采购代理{tag}-{i}"),
                &regions[0],
                None,
                None,
            )
        })
        .collect();
    let mut purchasers = Vec::new();
    for region in &regions {
        for i in 0..4 {
            purchasers.push(org(
                &mut orgs,
                "purchaser_unit",
                format!("生成数据采购单位{tag}-{region}-{i}"),
                region,
                None,
                None,
            ));
        }
    }
    let sizes = ["large", "medium", "small", "micro"];
    let suppliers: Vec<Org> = (0..240)
        .map(|i| {
            let size = sizes[[0, 1, 1, 2, 2, 2, 3, 3, 0, 2][i % 10]];
            let special = match i {
                7 | 77 => Some("prison"),
                17 | 117 => Some("disability_welfare"),
                _ => None,
            };
            let region = &regions[i % regions.len()];
            org(
                &mut orgs,
                "supplier",
                format!("生成数据供应商{tag}-{i:03}"),
                region,
                Some(size),
                special,
            )
        })
        .collect();
    let user = crate::org::service::new_id();
    let mut tx = state.db.pool.begin().await?;
    orgs.write(&mut tx).await?;
    sqlx::query(
        "INSERT INTO users (id, username, display_name, role, org_id, password_hash, disabled, \
         created_at) VALUES ($1, $2, $3, 'agency', $4, '!', 1, $5)",
    )
    .bind(&user)
    .bind(format!("generated-{tag}"))
    .bind(format!("生成数据 {tag}"))
    .bind(&agencies[0].id)
    .bind(start)
    .execute(&mut *tx)
    .await?;
    let mut experts = Rows::new(
        "experts",
        &[
            "id",
            "name",
            "region_code",
            "employer",
            "title",
            "specialties",
            "created_at",
        ],
    );
    let expert_ids: Vec<String> = (0..60)
        .map(|i| {
            let id = crate::org::service::new_id();
            experts.push(row![
                &id,
                format!("生成专家{tag}-{i:02}"),
                &regions[i % regions.len()],
                "生成数据",
                "高级工程师",
                "[]",
                start
            ]);
            id
        })
        .collect();
    experts.write(&mut tx).await?;

    let mut budget_lines = Rows::new(
        "budget_lines",
        &[
            "id",
            "org_id",
            "year",
            "code",
            "title",
            "category",
            "funding_source",
            "amount_fen",
            "created_by",
            "created_at",
        ],
    );
    let mut plans = Rows::new(
        "procurement_plans",
        &[
            "id",
            "code",
            "budget_line_id",
            "org_id",
            "title",
            "method",
            "amount_fen",
            "expected_month",
            "status",
            "created_by",
            "created_at",
            "updated_at",
        ],
    );
    let line_of: HashMap<String, String> = purchasers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let id = crate::org::service::new_id();
            budget_lines.push(row![
                &id,
                &p.id,
                cst_year(spec.end),
                format!("G{tag}-{i:03}"),
                "生成数据部门预算",
                "goods",
                "general_budget",
                1_000_000_000_000i64,
                &user,
                start
            ]);
            (p.id.clone(), id)
        })
        .collect();
    budget_lines.write(&mut tx).await?;

    let mut tenders = Rows::new(
        "tenders",
        &[
            "id",
            "code",
            "title",
            "region_code",
            "purchaser_org_id",
            "agency_org_id",
            "category",
            "method",
            "status",
            "description",
            "clarify_deadline",
            "bid_deadline",
            "decrypt_window_mins",
            "custodian_threshold",
            "created_by",
            "created_at",
            "updated_at",
            "published_at",
            "eval_terms",
            "plan_id",
        ],
    );
    let mut lots = Rows::new(
        "tender_lots",
        &["tender_id", "lot_no", "name", "budget_fen"],
    );
    let mut commitments = Rows::new("plan_commitments", &["plan_id", "tender_id", "amount_fen"]);
    let mut bids = Rows::new(
        "bids",
        &[
            "id",
            "tender_id",
            "lot_no",
            "bidder_org_id",
            "submitted_by",
            "status",
            "expected_size",
            "received",
            "bidder_key_id",
            "tender_key_id",
            "created_at",
            "updated_at",
            "submitted_at",
            "client_ip",
            "user_agent",
            "device_fingerprint",
            "documents_meta",
        ],
    );
    let mut openings = Rows::new(
        "openings",
        &[
            "tender_id",
            "phase",
            "host_user_id",
            "started_at",
            "decrypt_ends_at",
            "closed_at",
            "lots",
        ],
    );
    let mut read_out = Rows::new(
        "opening_bids",
        &[
            "bid_id",
            "tender_id",
            "position",
            "lot_no",
            "bidder_org_id",
            "decrypt_status",
            "decrypted_at",
            "result",
            "sheet",
            "revealed_at",
        ],
    );
    let mut evaluations = Rows::new(
        "evaluations",
        &[
            "tender_id",
            "phase",
            "requested_by",
            "requirement",
            "report",
            "created_at",
            "scoring_closed_at",
            "reported_at",
            "awarded_at",
            "confirm_due_at",
        ],
    );
    let mut panel = Rows::new(
        "evaluation_panel",
        &[
            "tender_id",
            "expert_id",
            "seat",
            "status",
            "invited_at",
            "responded_at",
            "decline_reason",
        ],
    );
    let mut scores = Rows::new(
        "evaluation_scores",
        &[
            "tender_id",
            "bid_id",
            "expert_id",
            "item",
            "score",
            "outlier_reason",
            "at",
        ],
    );
    let mut notices = Rows::new(
        "result_notices",
        &[
            "tender_id",
            "notice",
            "notice_sha256",
            "published_by",
            "published_at",
            "publicity_ends_at",
        ],
    );
    let mut contracts = Rows::new(
        "contracts",
        &[
            "id",
            "tender_id",
            "lot_no",
            "purchaser_org_id",
            "supplier_org_id",
            "amount_fen",
            "document",
            "document_sha256",
            "status",
            "award_letter_at",
            "created_at",
            "signed_at",
            "published_at",
            "filed_at",
        ],
    );
    let mut payments = Rows::new(
        "payment_requests",
        &[
            "id",
            "contract_id",
            "tender_id",
            "amount_fen",
            "note",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "paid_by",
            "paid_at",
            "paid_on",
            "reference",
        ],
    );
    let mut acceptances = Rows::new(
        "acceptances",
        &[
            "id",
            "contract_id",
            "tender_id",
            "round",
            "document",
            "document_sha256",
            "status",
            "recorded_by",
            "recorded_at",
            "signed_by",
            "signed_at",
        ],
    );
    // Acceptances draw from a generator of their own: the rest of the year stays as it
    // was generated before they were.
    let mut accepting = ChaCha8Rng::seed_from_u64(spec.seed ^ 0x00ac_cea7);
    let mut indexed = Rows::new("text_indexed", &["tender_id", "indexed_at"]);

    for n in 0..spec.tenders {
        let id = crate::org::service::new_id();
        let p = &purchasers[rng.gen_range(0..purchasers.len())];
        let agency = &agencies[n % agencies.len()];
        let (category, item, _) = ITEMS[rng.gen_range(0..ITEMS.len())];
        let published = start + rng.gen_range(0..(300 * DAY));
        let deadline = published + 21 * DAY;
        let lot_count = if rng.gen_bool(0.2) { 2 } else { 1 };
        let ceiling: i64 = if category == "works" {
            400_000_000
        } else {
            200_000_000
        };
        let budgets: Vec<i64> = (0..lot_count)
            .map(|_| {
                // From 200,000 to 8,000,000 yuan, most below the SME ceiling.
                let yuan = if rng.gen_bool(0.6) {
                    rng.gen_range(200_000..1_800_000)
                } else {
                    rng.gen_range(1_800_000..8_000_000)
                };
                yuan / 1_000 * 100_000
            })
            .collect();
        let budget: i64 = budgets.iter().sum();
        let roll: f64 = rng.gen();
        let method = if roll < 0.05 {
            "single_source"
        } else if roll < 0.15 {
            "competitive_consultation"
        } else {
            "open_tendering"
        };
        let reserved = budget <= ceiling && rng.gen_bool(0.7);
        let outcome: f64 = rng.gen();
        let status = if outcome < 0.03 {
            "cancelled"
        } else if outcome < 0.09 {
            "failed"
        } else {
            "awarded"
        };
        // The plan behind it, and one plan in ten never tendered.
        let plan = crate::org::service::new_id();
        let month = crate::clock::cst_day(published - 20 * DAY)[..7].to_string();
        for (pid, amount, title) in [
            (
                plan.clone(),
                budget + budget / 10,
                format!("{item}采购计划"),
            ),
            (
                crate::org::service::new_id(),
                budget / 2,
                format!("{item}备选计划"),
            ),
        ] {
            if pid != plan && !rng.gen_bool(0.1) {
                continue;
            }
            plans.push(row![
                &pid,
                format!("JH{tag}-{n:05}-{}", if pid == plan { "a" } else { "b" }),
                &line_of[&p.id],
                &p.id,
                title,
                method,
                amount,
                month.clone(),
                "approved",
                &user,
                published - 30 * DAY,
                published - 30 * DAY
            ]);
        }
        commitments.push(row![&plan, &id, budget]);
        let terms = json!({"reserved_for_sme": reserved, "method": "lowest_price"});
        tenders.push(row![
            &id,
            format!("SC{tag}-{}-{n:05}", cst_year(published)),
            format!("{item}采购项目（{}）", n + 1),
            &p.region,
            &p.id,
            &agency.id,
            category,
            method,
            status,
            format!("{item}，共{lot_count}个包。"),
            deadline - 10 * DAY,
            deadline,
            30,
            2,
            &user,
            published - DAY,
            deadline + 30 * DAY,
            published,
            terms.to_string(),
            Some(plan.clone())
        ]);
        for (i, b) in budgets.iter().enumerate() {
            lots.push(row![&id, i as i64 + 1, format!("{item}第{}包", i + 1), *b]);
        }
        year.tenders += 1;
        indexed.push(row![&id, deadline]);
        if status == "cancelled" {
            continue;
        }

        // The bids, read out at the opening; a failed tender had too few.
        let mut position = 0;
        let mut lot_bids: Vec<Vec<(String, &Org, i64)>> = Vec::new();
        for (i, lot_budget) in budgets.iter().enumerate() {
            let count = match (status, method) {
                ("failed", _) => rng.gen_range(1..3),
                (_, "single_source") => 1,
                (_, "competitive_consultation") => rng.gen_range(2..6),
                _ => rng.gen_range(3..9),
            };
            let eligible: Vec<&Org> = suppliers
                .iter()
                .filter(|s| !reserved || s.size != Some("large"))
                .collect();
            let mut chosen: Vec<&Org> =
                eligible.choose_multiple(&mut rng, count).copied().collect();
            chosen.shuffle(&mut rng);
            let mut these = Vec::new();
            for s in chosen {
                let bid = crate::org::service::new_id();
                let price = lot_budget * rng.gen_range(7_200..9_900) / 10_000;
                let at = deadline - rng.gen_range(1..(5 * DAY));
                bids.push(row![
                    &bid,
                    &id,
                    i as i64 + 1,
                    &s.id,
                    &user,
                    "submitted",
                    0,
                    0,
                    "",
                    "",
                    at,
                    at,
                    Some(at),
                    "",
                    "",
                    "",
                    "{}"
                ]);
                position += 1;
                let mut sheet = json!({"total_price_fen": price, "lot_no": i + 1});
                if let Some(special) = s.special {
                    sheet["special_status"] = json!(special);
                }
                read_out.push(row![
                    &bid,
                    &id,
                    position,
                    i as i64 + 1,
                    &s.id,
                    "decrypted",
                    Some(deadline + 10 * MINUTE),
                    "read_out",
                    Some(sheet.to_string()),
                    Some(deadline + 40 * MINUTE)
                ]);
                year.bids += 1;
                these.push((bid, s, price));
            }
            lot_bids.push(these);
        }
        let closed = deadline + 60 * MINUTE;
        openings.push(row![
            &id,
            "closed",
            &user,
            deadline,
            deadline + 30 * MINUTE,
            Some(closed),
            "[]"
        ]);
        if status == "failed" {
            continue;
        }

        // The panel: five seats, a decline now and then replaced by another expert.
        let mut pool: Vec<&String> = expert_ids.iter().collect();
        pool.shuffle(&mut rng);
        let invited = closed + 10 * MINUTE;
        let mut seated = Vec::new();
        let mut seat = 0;
        for e in pool {
            if seated.len() == 5 {
                break;
            }
            seat += 1;
            if rng.gen_bool(0.06) {
                panel.push(row![
                    &id,
                    e,
                    seat,
                    "declined",
                    invited,
                    Some(invited + 5 * MINUTE),
                    Some("与投标人存在利害关系".to_string())
                ]);
                continue;
            }
            let accepted = invited + rng.gen_range(2..30) * MINUTE;
            panel.push(row![
                &id,
                e,
                seat,
                "accepted",
                invited,
                Some(accepted),
                None::<String>
            ]);
            seated.push((e, accepted));
        }
        let scoring_closed = invited + 4 * 60 * MINUTE;
        for (e, accepted) in &seated {
            for lot in &lot_bids {
                for (bid, _, _) in lot {
                    for item in ["technical", "service"] {
                        let outlier = rng.gen_bool(0.01);
                        scores.push(row![
                            &id,
                            bid,
                            *e,
                            item,
                            if outlier { 2 } else { rng.gen_range(18..30) },
                            outlier.then(|| "方案缺少关键设备参数".to_string()),
                            accepted + rng.gen_range(30..200) * MINUTE
                        ]);
                        year.scores += 1;
                    }
                }
            }
        }
        // The report: each bid's price after the deductions; the lowest wins (the
        // generated tenders are evaluated at the lowest price).
        let mut report_lots = Vec::new();
        let mut winners = Vec::new();
        for (i, lot) in lot_bids.iter().enumerate() {
            let mut evaluated = Vec::new();
            for (bid, s, price) in lot {
                let small = matches!(s.size, Some("small" | "micro")) && !reserved;
                let deductions: Vec<serde_json::Value> = if small {
                    vec![json!({"kind": "small_micro", "rate_bp": SMALL_MICRO_BP,
                                "amount_fen": price * SMALL_MICRO_BP / 10_000})]
                } else {
                    Vec::new()
                };
                let less: i64 = deductions
                    .iter()
                    .map(|d| d["amount_fen"].as_i64().unwrap_or_default())
                    .sum();
                evaluated.push((price - less, bid, *s, *price, deductions));
            }
            evaluated.sort_by_key(|e| e.0);
            let first = &evaluated[0];
            winners.push((i as i64 + 1, first.2, first.3));
            report_lots.push(json!({
                "lot_no": i + 1,
                "result": {"bids": evaluated.iter().enumerate().map(|(rank, e)| json!({
                    "bid_id": e.1, "org_id": e.2.id, "rank": rank + 1,
                    "price": {"quoted_fen": e.3, "deductions": e.4, "evaluated_fen": e.0},
                })).collect::<Vec<_>>()},
            }));
        }
        // The deadlines after the report are mostly kept, now and then not (R-EVAL-10,
        // R-AWARD-1, R-CON-1–3): the timeliness figures have both.
        let reported = scoring_closed + 60 * MINUTE;
        let awarded_at = reported + rng.gen_range(1..9) * DAY;
        let confirm_due = deadlines.due(DeadlineRule::WinnerConfirmation, reported);
        evaluations.push(row![
            &id,
            "awarded",
            &user,
            "{}",
            Some(json!({"type": "evaluation_report", "lots": report_lots}).to_string()),
            invited,
            Some(scoring_closed),
            Some(reported),
            Some(awarded_at),
            Some(confirm_due)
        ]);
        let notice_at = awarded_at + rng.gen_range(1..5) * DAY;
        let document = json!({
            "type": "result_notice",
            "tender_id": id,
            "lots": winners.iter().map(|(lot_no, w, price)| json!({
                "lot_no": lot_no, "winner": {"org_id": w.id, "price_fen": price},
            })).collect::<Vec<_>>(),
            "signed_at": notice_at,
        });
        let sha = crate::award::notice::digest(&document);
        notices.push(row![
            &id,
            json!({"document": document, "document_sha256": sha, "signature": "",
                   "signer_pem": "", "ca_pem": ""})
            .to_string(),
            sha,
            &user,
            notice_at,
            notice_at + DAY
        ]);
        year.awards += winners.len();

        // Contracts (most signed within a month, some later, a few not yet), published
        // and filed mostly in time; payments on most of them.
        for (lot_no, w, price) in winners {
            let contract = crate::org::service::new_id();
            let signed = notice_at + rng.gen_range(5..40) * DAY;
            let signed = (signed < spec.end && !rng.gen_bool(0.05)).then_some(signed);
            let after = |days: std::ops::Range<i64>, rng: &mut ChaCha8Rng| {
                signed
                    .map(|at| at + rng.gen_range(days) * DAY)
                    .filter(|at| *at < spec.end)
            };
            let (published, filed) = (after(1..4, &mut rng), after(2..12, &mut rng));
            let sme = crate::org::types::is_sme(w.size);
            let document = json!({"contract_no": format!("HT{tag}-{n:05}-{lot_no}"),
                                  "lot": {"name": format!("{item}第{lot_no}包")},
                                  "sme": sme,
                                  "terms": {"payment_days": crate::contract::rules::SME_PAYMENT_DAYS}});
            contracts.push(row![
                &contract,
                &id,
                lot_no,
                &p.id,
                &w.id,
                price,
                document.to_string(),
                crate::award::notice::digest(&document),
                if signed.is_some() { "signed" } else { "draft" },
                notice_at,
                notice_at + DAY,
                signed,
                published,
                filed
            ]);
            let Some(signed) = signed else {
                continue;
            };
            year.contracts += 1;
            // Accepted (履约验收) weeks after signing, most of them; R-PAY-1's term runs
            // from there for an SME.
            let accepted = signed + accepting.gen_range(7..45) * DAY;
            if accepted < spec.end && accepting.gen_bool(0.9) {
                let report = json!({"type": "acceptance_report", "contract_no": document["contract_no"],
                                    "round": 1, "passed": true, "recorded_at": accepted - DAY});
                acceptances.push(row![
                    crate::org::service::new_id(),
                    &contract,
                    &id,
                    1i64,
                    report.to_string(),
                    crate::ledger::canonical_sha256(&report),
                    "passed",
                    &user,
                    accepted - DAY,
                    Some(user.clone()),
                    Some(accepted)
                ]);
                year.acceptances += 1;
            }
            // Paid in one or two parts; one in five not yet.
            let parts = if rng.gen_bool(0.3) { 2 } else { 1 };
            for part in 0..parts {
                if rng.gen_bool(0.2) {
                    break;
                }
                let amount = if parts == 1 {
                    price
                } else if part == 0 {
                    price * 3 / 10
                } else {
                    price - price * 3 / 10
                };
                let paid = signed + (part as i64 + 1) * rng.gen_range(10..40) * DAY;
                if paid >= spec.end {
                    break;
                }
                payments.push(row![
                    crate::org::service::new_id(),
                    &contract,
                    &id,
                    amount,
                    format!("第{}期", part + 1),
                    "paid",
                    &user,
                    paid - 3 * DAY,
                    Some(user.clone()),
                    Some(paid - DAY),
                    Some(user.clone()),
                    Some(paid),
                    Some(crate::clock::cst_day(paid)),
                    Some(format!("ZF{tag}{n:05}{lot_no}{part}"))
                ]);
                year.payments += 1;
            }
        }
    }
    for rows in [
        plans,
        tenders,
        lots,
        commitments,
        bids,
        openings,
        read_out,
        evaluations,
        panel,
        scores,
        notices,
        contracts,
        acceptances,
        payments,
        indexed,
    ] {
        rows.write(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(year)
}
