//! The demo city's past: tenders carried at earlier dates through the same services as
//! the API — sealed bids, the opening with the custodians' shares, a drawn panel scoring
//! and signing, the award — and on after it, each stopped at one stage, so that a
//! newcomer finds on the first day a result notice to publish, a contract to sign, a
//! financing application for the bank, a payment to make and ratings to give, with the
//! deadlines and alerts those stages carry.
//!
//! The past is written by a copy of the state whose clock is set by hand, before the
//! server serves and before the present's keys are made (which then supersede these).
//! The keys used here exist only in memory: nothing of the past can be signed again.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use base64::Engine;
use serde_json::{json, Value};

use super::{app_err, demo_bid, demo_terms, proposal, seal_in_memory, DemoBid, USERS};
use crate::auth::{CurrentUser, Role};
use crate::clock::{Clock, ManualClock};
use crate::error::from_tagged;
use crate::pki::keyfile::DeviceKeys;
use crate::state::AppState;
use crate::tender::types::{Category, LotInput, ProcurementMethod, TenderInput};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// How far a past tender went after its award: it waits there for the user named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// The purchaser confirmed the winner: the agency publishes the result (R-AWARD-1).
    Awarded,
    /// The result is out and the contract drafted: the purchaser and the winner sign.
    Drafted,
    /// Signed, published and filed: the bank decides the winner's financing application.
    Financing,
    /// Delivered and accepted: the purchaser approves and pays the winner's request.
    PaymentRequested,
    /// Paid in full: the winner and the agency rate (the purchaser has).
    Paid,
}

impl Stage {
    /// Who acts next, and where.
    pub fn next_step(self) -> &'static str {
        match self {
            Stage::Awarded => "agency 发布结果公告 / publishes the result (result.html)",
            Stage::Drafted => {
                "purchaser 与中标人签订合同 / the parties sign the contract (contracts.html)"
            }
            Stage::Financing => "bank 审批融资申请 / decides the financing (financing.html)",
            Stage::PaymentRequested => "purchaser 审核并支付 / approves and pays (fulfilment.html)",
            Stage::Paid => "中标人与代理机构评价 / the winner and the agency rate (ratings.html)",
        }
    }
}

struct Past {
    title: &'static str,
    description: &'static str,
    /// The purchasing unit's user and organisation key.
    purchaser: &'static str,
    org: &'static str,
    category: Category,
    budget_line: (&'static str, &'static str),
    lot: &'static str,
    budget_yuan: i64,
    /// The panel's specialty (the pool has seven or more experts in each used here).
    specialty: &'static str,
    bids: [DemoBid; 3],
    stage: Stage,
    /// When the purchaser confirmed the winner, before the seeding.
    awarded_ago: i64,
}

/// The past tenders, one per stage after the award. Their bidders are the live opening's
/// (supplier6–10), whose key files are made after this: supplier1–5 stay free.
fn pasts() -> [Past; 5] {
    let office = &["台式计算机 60 台", "激光打印机 12 台"];
    let desks = &["实验台 40 张", "学生凳 240 张"];
    let catering = &["职工食堂餐饮服务一年"];
    let books = &["图书 12000 册", "编目加工"];
    let cleaning = &["病房区保洁服务一年"];
    [
        Past {
            title: "黄石市第一中学办公计算机及打印设备采购项目",
            description: "教师办公用台式计算机 60 台、激光打印机 12 台,含安装及三年上门保修。",
            purchaser: "purchaser",
            org: "school",
            category: Category::Goods,
            budget_line: ("2050201-21", "办公设备购置"),
            lot: "办公计算机及打印设备",
            budget_yuan: 420_000,
            specialty: "it_hardware",
            bids: [
                demo_bid(
                    "supplier9",
                    "云联 CloudLink",
                    39_800_000,
                    "含三年上门保修",
                    office,
                ),
                demo_bid("supplier6", "西塞 Xisai", 40_600_000, "含五年保修", office),
                demo_bid("supplier10", "鄂东 Edong", 41_200_000, "含一年驻场", office),
            ],
            stage: Stage::Awarded,
            awarded_ago: 3 * HOUR,
        },
        Past {
            title: "黄石市第一中学理化生实验室家具采购项目",
            description: "理化生实验室实验台 40 张、学生凳 240 张,含运输安装。",
            purchaser: "purchaser",
            org: "school",
            category: Category::Goods,
            budget_line: ("2050201-22", "实验室家具购置"),
            lot: "实验室家具",
            budget_yuan: 560_000,
            specialty: "education_equipment",
            bids: [
                demo_bid(
                    "supplier7",
                    "新生 Xinsheng",
                    51_500_000,
                    "含五年质保",
                    desks,
                ),
                demo_bid("supplier8", "康福 Kangfu", 52_800_000, "含三年质保", desks),
                demo_bid("supplier6", "西塞 Xisai", 54_000_000, "含三年质保", desks),
            ],
            stage: Stage::Drafted,
            awarded_ago: 5 * DAY,
        },
        Past {
            title: "黄石市中心医院职工食堂餐饮服务采购项目",
            description: "职工食堂一日三餐供应服务一年,约 900 人次/日。",
            purchaser: "purchaser2",
            org: "hospital",
            category: Category::Services,
            budget_line: ("2100201-11", "职工食堂运营"),
            lot: "职工食堂餐饮服务",
            budget_yuan: 1_800_000,
            specialty: "property_services",
            bids: [
                demo_bid(
                    "supplier10",
                    "鄂东 Edong",
                    168_000_000,
                    "含食材溯源",
                    catering,
                ),
                demo_bid("supplier8", "康福 Kangfu", 171_500_000, "", catering),
                demo_bid("supplier9", "云联 CloudLink", 176_000_000, "", catering),
            ],
            stage: Stage::Financing,
            awarded_ago: 9 * DAY,
        },
        Past {
            title: "黄石市第一中学图书馆图书采购项目",
            description: "图书馆馆藏图书 12000 册,含编目加工与上架。",
            purchaser: "purchaser",
            org: "school",
            category: Category::Goods,
            budget_line: ("2050201-23", "图书购置"),
            lot: "馆藏图书",
            budget_yuan: 380_000,
            specialty: "education_equipment",
            bids: [
                demo_bid(
                    "supplier7",
                    "新生 Xinsheng",
                    34_200_000,
                    "含编目加工",
                    books,
                ),
                demo_bid("supplier10", "鄂东 Edong", 35_600_000, "", books),
                demo_bid("supplier6", "西塞 Xisai", 36_900_000, "", books),
            ],
            stage: Stage::PaymentRequested,
            awarded_ago: 34 * DAY,
        },
        Past {
            title: "黄石市中心医院病房区保洁服务采购项目",
            description: "住院部病房区日常保洁与医疗废物收运服务一年。",
            purchaser: "purchaser2",
            org: "hospital",
            category: Category::Services,
            budget_line: ("2100201-12", "病房区保洁"),
            lot: "病房区保洁服务",
            budget_yuan: 960_000,
            specialty: "property_services",
            bids: [
                demo_bid(
                    "supplier8",
                    "康福 Kangfu",
                    89_000_000,
                    "含医废收运",
                    cleaning,
                ),
                demo_bid("supplier10", "鄂东 Edong", 90_500_000, "", cleaning),
                demo_bid("supplier6", "西塞 Xisai", 93_000_000, "", cleaning),
            ],
            stage: Stage::Paid,
            awarded_ago: 42 * DAY,
        },
    ]
}

/// A past tender as seeded, for the printed walkthrough.
#[derive(Debug, Clone)]
pub struct PastTender {
    pub title: String,
    pub code: String,
    pub stage: Stage,
}

/// The past as a state whose clock the seeding sets, and the users' in-memory keys.
struct Then {
    state: AppState,
    clock: Arc<ManualClock>,
    keys: HashMap<String, (DeviceKeys, String)>,
}

impl Then {
    fn at(&self, ms: i64) {
        self.clock.set(ms)
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A user as the services see one signed in.
    async fn user(&self, username: &str) -> anyhow::Result<CurrentUser> {
        let row = crate::auth::repo::user_by_username(&self.state.db.pool, username)
            .await?
            .with_context(|| format!("no demo user {username}"))?;
        Ok(CurrentUser {
            role: Role::parse(&row.role).context("a demo user's role")?,
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            org_id: row.org_id,
            session_id: String::new(),
            csrf_token: String::new(),
            expires_at: 0,
            via_cookie: false,
            csrf_ok: false,
            client_ip: String::new(),
        })
    }

    /// Registers signing and encryption keys for `user` now, kept in memory only.
    async fn register(&mut self, user: &CurrentUser) -> anyhow::Result<()> {
        let (keys, signing) = super::new_device(&self.state, user).await?;
        self.keys.insert(user.username.clone(), (keys, signing));
        Ok(())
    }

    fn keys(&self, user: &CurrentUser) -> anyhow::Result<&(DeviceKeys, String)> {
        self.keys
            .get(&user.username)
            .with_context(|| format!("{} has no keys in the past", user.username))
    }

    /// `{"key_id", "signature"}` of `payload` with `user`'s signing key.
    fn signature(&self, user: &CurrentUser, payload: &str) -> anyhow::Result<Value> {
        let (keys, key_id) = self.keys(user)?;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        Ok(json!({"key_id": key_id, "signature": b64.encode(keys.sign(payload.as_bytes()))}))
    }
}

/// Runs a stage's command (`{"type": …}`) as `user` and returns its acknowledgement.
macro_rules! command {
    ($then:expr, $area:ident, $user:expr, $tender:expr, $cmd:expr) => {{
        let cmd = from_tagged($cmd).map_err(app_err)?;
        let ack = crate::$area::service::command(&$then.state, $user, $tender, cmd)
            .await
            .map_err(app_err)
            .with_context(|| format!("{} in the past", stringify!($area)))?;
        serde_json::to_value(ack)?
    }};
}

/// Seeds the past tenders: returns them in the order of `pasts`.
pub(super) async fn seed(
    state: &AppState,
    org_ids: &HashMap<&str, String>,
) -> anyhow::Result<Vec<PastTender>> {
    let now = state.clock.now_ms();
    let pasts = pasts();
    let start = pasts
        .iter()
        .map(|p| timeline(now, p).0)
        .min()
        .unwrap_or(now)
        - 41 * DAY;
    let clock = Arc::new(ManualClock::new(start));
    // The past's reading-out is not watched: no pause between bids.
    let mut config = (*state.config).clone();
    config.opening.reading_interval_ms = 0;
    let mut then = Then {
        state: AppState {
            clock: clock.clone(),
            config: Arc::new(config),
            ..state.clone()
        },
        clock,
        keys: HashMap::new(),
    };
    // The keys of everyone who signs in the past, certified before any of it.
    let mut signers: Vec<String> = ["agency", "purchaser", "purchaser2", "finance"]
        .iter()
        .map(|u| u.to_string())
        .collect();
    for p in &pasts {
        signers.extend(p.bids.iter().map(|b| b.user.to_string()));
    }
    signers.extend((1..=36).map(|i| format!("expert{i}")));
    signers.sort();
    signers.dedup();
    for name in &signers {
        let user = then.user(name).await?;
        then.register(&user).await?;
    }
    let mut out = Vec::new();
    for p in &pasts {
        let times = timeline(now, p);
        out.push(
            one(&mut then, p, times, org_ids)
                .await
                .with_context(|| p.title)?,
        );
    }
    Ok(out)
}

/// When a past tender was published, its bids closed (09:30, the day before the award
/// or earlier, so that the evaluation fits between) and its winner was confirmed.
fn timeline(now: i64, p: &Past) -> (i64, i64, i64) {
    let awarded = now - p.awarded_ago;
    let mut deadline = nine_thirty(awarded - DAY);
    if deadline > awarded - 8 * HOUR {
        deadline -= DAY;
    }
    (deadline - 30 * DAY, deadline, awarded)
}

/// One past tender from its plan to its stage, on its `timeline`.
async fn one(
    then: &mut Then,
    p: &Past,
    (published, deadline, awarded): (i64, i64, i64),
    org_ids: &HashMap<&str, String>,
) -> anyhow::Result<PastTender> {
    use crate::plan::service as plans;
    use crate::plan::types::{BudgetLineInput, FundingSource, IntentionInput, PlanInput};
    let finance = then.user("finance").await?;
    let agency = then.user("agency").await?;
    let purchaser = then.user(p.purchaser).await?;
    let month = |ms: i64| crate::clock::cst_date(ms).format("%Y-%m").to_string();
    let date = crate::clock::cst_day;

    // The budget line and the plan, its intention out 35 days before publication.
    then.at(published - 40 * DAY);
    let line = plans::create_line(
        &then.state,
        &finance,
        BudgetLineInput {
            org_id: org_ids[p.org].clone(),
            year: chrono::Datelike::year(&crate::clock::cst_date(published)),
            code: p.budget_line.0.into(),
            title: p.budget_line.1.into(),
            category: p.category,
            funding_source: FundingSource::GeneralBudget,
            amount_fen: p.budget_yuan * 100 * 2,
        },
    )
    .await
    .map_err(app_err)?;
    let plan = plans::create_plan(
        &then.state,
        &purchaser,
        PlanInput {
            budget_line_id: line.id,
            title: p.lot.into(),
            method: ProcurementMethod::OpenTendering,
            amount_fen: p.budget_yuan * 100,
            imported: false,
            expected_month: month(published),
            intention_exception: None,
            exception_reason: String::new(),
        },
    )
    .await
    .map_err(app_err)?;
    then.at(published - 35 * DAY);
    plans::publish_intention(
        &then.state,
        &purchaser,
        &plan.id,
        IntentionInput {
            description: p.description.into(),
        },
    )
    .await
    .map_err(app_err)?;

    // Published by the agency; the bids close 30 days later at 09:30.
    then.at(published);
    let custodians = ["agency", p.purchaser, "finance"];
    let mut custodian_ids = Vec::new();
    for c in custodians {
        custodian_ids.push(then.user(c).await?.id);
    }
    let input = TenderInput {
        title: p.title.into(),
        region_code: "420200".into(),
        purchaser_org_id: org_ids[p.org].clone(),
        category: p.category,
        method: ProcurementMethod::OpenTendering,
        description: p.description.into(),
        lots: vec![LotInput {
            name: p.lot.into(),
            budget_fen: crate::money::Money(p.budget_yuan * 100),
        }],
        clarify_deadline: deadline - 15 * DAY,
        bid_deadline: deadline,
        decrypt_window_mins: 30,
        custodian_ids,
        custodian_threshold: 2,
        evaluation: Some(demo_terms(false)),
        plan_id: Some(plan.id),
        deposit_fen: None,
        reading_order: Default::default(),
    };
    let view = crate::tender::service::create(&then.state, &agency, input)
        .await
        .map_err(app_err)?;
    let tender = crate::tender::service::publish(&then.state, &agency, &view.id)
        .await
        .map_err(app_err)?;
    let t = tender.id.as_str();

    // Each supplier obtains the documents and seals its bid on its device.
    then.at(published + 3 * DAY);
    let mut kbs = Vec::new();
    for bid in &p.bids {
        then.at(then.now() + 2 * HOUR);
        let kb = sealed_bid(then, t, p.title, bid).await?;
        kbs.push(kb);
    }

    // The deadline: sealed, opened by the agency, decrypted, unsealed by two custodians,
    // read out and confirmed by every bidder.
    then.at(deadline);
    crate::opening::sealing::seal_due(&then.state).await?;
    command!(then, opening, &agency, t, json!({"type": "start"}));
    for (bid, (bid_id, kb)) in p.bids.iter().zip(&kbs) {
        then.at(then.now() + MINUTE);
        let user = then.user(bid.user).await?;
        command!(
            then,
            opening,
            &user,
            t,
            json!({"type": "decrypt", "bid_id": bid_id, "kb": kb})
        );
    }
    for c in ["agency", p.purchaser] {
        then.at(then.now() + MINUTE);
        let user = then.user(c).await?;
        let mine = crate::tender::opening_key::my_share(&then.state, &user.id, t)
            .await
            .map_err(app_err)?;
        let index = mine.index as u32;
        let value = crate::crypto::hpke::open(
            &then.keys(&user)?.0.encryption,
            crate::tender::opening_key::SHARE_INFO,
            &crate::tender::opening_key::share_aad(t, index),
            &mine.sealed,
        )
        .map_err(|e| anyhow::anyhow!("unsealing {c}'s share: {}", e.code()))?;
        command!(
            then,
            opening,
            &user,
            t,
            json!({"type": "share", "index": index, "value": hex::encode(value)})
        );
    }
    // The bids are revealed and read out by the server's own task.
    for _ in 0..600 {
        let phase = crate::opening::repo::phase(&then.state.db.pool, t).await?;
        if phase == Some(crate::opening::types::Phase::Confirming) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    then.at(then.now() + 10 * MINUTE);
    for bid in &p.bids {
        let user = then.user(bid.user).await?;
        command!(then, opening, &user, t, json!({"type": "confirm"}));
    }

    // The panel: drawn on finance's nonce, each expert declares no conflict, the
    // purchaser qualifies, the experts review, score and sign; the purchaser confirms.
    then.at(deadline + HOUR);
    command!(
        then,
        committee,
        &agency,
        t,
        json!({"type": "request_draw", "specialty": p.specialty})
    );
    command!(
        then,
        committee,
        &finance,
        t,
        json!({"type": "draw", "nonce": format!("{}-{}", tender.code, then.now())})
    );
    let panel = evaluation_view(then, &finance, t).await?;
    let mut experts = Vec::new();
    for seat in panel["panel"].as_array().cloned().unwrap_or_default() {
        if seat["status"] != "invited" {
            continue;
        }
        let expert_id = seat["expert_id"].as_str().unwrap_or_default();
        let username: String = sqlx::query_scalar(
            "SELECT u.username FROM experts e JOIN users u ON u.id = e.user_id WHERE e.id = $1",
        )
        .bind(expert_id)
        .fetch_one(&then.state.db.pool)
        .await?;
        let user = then.user(&username).await?;
        let v = evaluation_view(then, &user, t).await?;
        let payload = v["me"]["declaration"]["example_payload"]
            .as_str()
            .context("the declaration to sign")?
            .to_string();
        let declaration = then.signature(&user, &payload)?;
        command!(
            then,
            committee,
            &user,
            t,
            json!({"type": "accept", "declaration": declaration})
        );
        experts.push(user);
    }
    then.at(then.now() + 30 * MINUTE);
    let bids: Vec<String> = kbs.iter().map(|(b, _)| b.clone()).collect();
    for b in &bids {
        command!(
            then,
            committee,
            &purchaser,
            t,
            json!({"type": "qualify", "bid_id": b, "pass": true})
        );
    }
    let items = panel["terms"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for e in &experts {
        for b in &bids {
            command!(
                then,
                committee,
                e,
                t,
                json!({"type": "review", "bid_id": b, "pass": true})
            );
        }
    }
    for (n, e) in experts.iter().enumerate() {
        for (m, b) in bids.iter().enumerate() {
            // Objective items agree; the others differ a little by expert and bid.
            let sheet: serde_json::Map<String, Value> = items
                .iter()
                .map(|i| {
                    let v = if i["objective"] == true {
                        "100".to_string()
                    } else {
                        format!("{}", 78 + (n * 3 + m * 5) % 14)
                    };
                    (i["name"].as_str().unwrap_or_default().to_string(), json!(v))
                })
                .collect();
            command!(
                then,
                committee,
                e,
                t,
                json!({"type": "score", "bid_id": b, "items": sheet})
            );
        }
    }
    then.at(then.now() + HOUR);
    // The panel chooses its first expert as chair (评标组长), who finishes the scoring
    // and signs first.
    let chair_seat = evaluation_view(then, &experts[0], t).await?["me"]["seat"].clone();
    for e in &experts {
        let ack = command!(
            then,
            committee,
            e,
            t,
            json!({"type": "elect_chair", "seat": chair_seat})
        );
        if ack["chosen"] == true {
            break;
        }
    }
    command!(
        then,
        committee,
        &experts[0],
        t,
        json!({"type": "finish_scoring"})
    );
    for e in &experts {
        let v = evaluation_view(then, e, t).await?;
        let signing = &v["report"]["signing"];
        let payload = crate::committee::rules::signing_payload(
            t,
            signing["report_sha256"].as_str().unwrap_or_default(),
            signing["expert_id"].as_str().unwrap_or_default(),
            "",
        );
        let sig = then.signature(e, &payload)?;
        let mut cmd = json!({"type": "sign"});
        cmd["key_id"] = sig["key_id"].clone();
        cmd["signature"] = sig["signature"].clone();
        command!(then, committee, e, t, cmd);
    }
    then.at(awarded);
    command!(
        then,
        committee,
        &purchaser,
        t,
        json!({"type": "confirm_winner"})
    );
    let done = PastTender {
        title: p.title.into(),
        code: tender.code.clone(),
        stage: p.stage,
    };
    if p.stage == Stage::Awarded {
        return Ok(done);
    }

    // After the award: the result, then the contract drafted and signed by both.
    then.at(awarded + HOUR);
    command!(then, award, &agency, t, json!({"type": "publish"}));
    then.at(awarded + 3 * DAY);
    command!(then, contract, &purchaser, t, json!({"type": "draft"}));
    if p.stage == Stage::Drafted {
        return Ok(done);
    }
    let winner = {
        let (org,): (String,) =
            sqlx::query_as("SELECT supplier_org_id FROM contracts WHERE tender_id = $1")
                .bind(t)
                .fetch_one(&then.state.db.pool)
                .await?;
        let username = p
            .bids
            .iter()
            .map(|b| b.user)
            .find(|u| {
                USERS
                    .iter()
                    .find(|x| x.0 == *u)
                    .is_some_and(|x| org_ids.get(x.3) == Some(&org))
            })
            .context("the winner among the bidders")?;
        then.user(username).await?
    };
    let contract_id = {
        let v = serde_json::to_value(
            crate::contract::service::view(&then.state, Some(&purchaser), t)
                .await
                .map_err(app_err)?,
        )?;
        v["contracts"][0]["id"]
            .as_str()
            .context("the drafted contract")?
            .to_string()
    };
    for u in [&purchaser, &winner] {
        let v = serde_json::to_value(
            crate::contract::service::view(&then.state, Some(u), t)
                .await
                .map_err(app_err)?,
        )?;
        let payload = v["contracts"][0]["my_payload"]
            .as_str()
            .context("the contract to sign")?
            .to_string();
        let sig = then.signature(u, &payload)?;
        command!(
            then,
            contract,
            u,
            t,
            json!({"type": "sign", "contract_id": contract_id,
                   "key_id": sig["key_id"], "signature": sig["signature"]})
        );
    }
    then.at(awarded + 4 * DAY);
    command!(
        then,
        contract,
        &purchaser,
        t,
        json!({"type": "publish", "contract_id": contract_id})
    );
    then.at(awarded + 5 * DAY);
    command!(
        then,
        contract,
        &purchaser,
        t,
        json!({"type": "file", "contract_id": contract_id})
    );
    if p.stage == Stage::Financing {
        then.at(awarded + 6 * DAY);
        let bank = org_ids["bank"].clone();
        command!(
            then,
            financing,
            &winner,
            t,
            json!({"type": "apply", "contract_id": contract_id, "bank_org_id": bank,
                   "amount_fen": p.bids[0].total_price_fen / 2,
                   "note": "用于采购原材料及支付人员工资。"})
        );
        return Ok(done);
    }

    // Delivered and accepted per item, signed by the purchasing unit; the winner asks.
    then.at(awarded + 30 * DAY);
    let items: Vec<Value> = p
        .bids
        .iter()
        .find(|b| b.user == winner.username)
        .map(|b| b.offer)
        .unwrap_or_default()
        .iter()
        .map(|name| json!({"name": name, "passed": true}))
        .collect();
    let ack = command!(
        then,
        acceptance,
        &purchaser,
        t,
        json!({"type": "record", "contract_id": contract_id,
               "delivered_on": date(awarded + 28 * DAY), "items": items,
               "conclusion": "全部合格,同意验收。"})
    );
    let acceptance_id = ack["acceptance_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let v = serde_json::to_value(
        crate::acceptance::service::view(&then.state, Some(&purchaser), t)
            .await
            .map_err(app_err)?,
    )?;
    let payload = v["contracts"][0]["rounds"]
        .as_array()
        .and_then(|r| r.last())
        .and_then(|r| r["my_payload"].as_str())
        .context("the acceptance report to sign")?
        .to_string();
    let sig = then.signature(&purchaser, &payload)?;
    command!(
        then,
        acceptance,
        &purchaser,
        t,
        json!({"type": "sign", "acceptance_id": acceptance_id,
               "key_id": sig["key_id"], "signature": sig["signature"]})
    );
    then.at(awarded + 31 * DAY);
    let payable = serde_json::to_value(
        crate::payment::service::view(&then.state, Some(&winner), t)
            .await
            .map_err(app_err)?,
    )?["contracts"][0]["payable_fen"]
        .as_i64()
        .context("the payable amount")?;
    let ack = command!(
        then,
        payment,
        &winner,
        t,
        json!({"type": "request", "contract_id": contract_id, "amount_fen": payable})
    );
    if p.stage == Stage::PaymentRequested {
        return Ok(done);
    }

    // Approved and paid; the purchaser rates the supplier.
    let request_id = ack["request_id"].as_str().unwrap_or_default().to_string();
    then.at(awarded + 33 * DAY);
    command!(
        then,
        payment,
        &purchaser,
        t,
        json!({"type": "approve", "request_id": request_id})
    );
    then.at(awarded + 35 * DAY);
    command!(
        then,
        payment,
        &purchaser,
        t,
        json!({"type": "pay", "request_id": request_id, "paid_on": date(then.now()),
               "reference": format!("GK-{}", tender.code)})
    );
    then.at(awarded + 36 * DAY);
    command!(
        then,
        rating,
        &purchaser,
        t,
        json!({"type": "rate", "contract_id": contract_id, "ratee_party": "supplier",
               "ratee": winner.org_id,
               "scores": {"quality": 5, "timeliness": 4, "service": 5, "integrity": 5},
               "comment": ""})
    );
    Ok(done)
}

/// The evaluation room as `user` sees it, as JSON.
async fn evaluation_view(then: &Then, user: &CurrentUser, tender: &str) -> anyhow::Result<Value> {
    Ok(serde_json::to_value(
        crate::committee::view::view(&then.state, user, tender)
            .await
            .map_err(app_err)?,
    )?)
}

/// 09:30 China time on the day of `ms`.
fn nine_thirty(ms: i64) -> i64 {
    crate::clock::cst_date(ms)
        .and_hms_opt(9, 30, 0)
        .and_then(|t| t.and_local_timezone(crate::clock::cst()).single())
        .map_or(ms, |t| t.timestamp_millis())
}

/// `bid` sealed and uploaded through the bid service as its supplier's device does:
/// returns the bid id and the bidder's half-key, to be given at the opening.
async fn sealed_bid(
    then: &Then,
    tender: &str,
    title: &str,
    bid: &DemoBid,
) -> anyhow::Result<(String, String)> {
    let user = then.user(bid.user).await?;
    let org = super::supplier_org(bid.user)?;
    crate::documents::service::obtain(&then.state, &user, tender)
        .await
        .map_err(app_err)?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (keys, _) = then.keys(&user)?;
    let client = crate::auth::types::ClientInfo {
        ip: "127.0.0.1".into(),
        user_agent: concat!("kaibiao-demo/", env!("CARGO_PKG_VERSION")).into(),
    };
    let document = proposal(title, org.name, bid);
    let start = crate::bid::service::start(
        &then.state,
        &user,
        tender,
        serde_json::from_value(json!({
            "lot_no": 1,
            "device_fingerprint": crate::crypto::sha256_hex(
                format!("kaibiao-demo|{}|{}", bid.user, b64.encode(keys.encryption_public()))
                    .as_bytes()
            ),
        }))?,
        &client,
    )
    .await
    .map_err(app_err)?;
    let start = serde_json::to_value(start)?;
    let sheet = super::opening_sheet(bid, org);
    let container = seal_in_memory(&start, sheet, &document)?;
    let bid_id = start["bid_id"].as_str().context("bid_id")?.to_string();
    let sha256 = crate::crypto::sha256_hex(&container);
    let size = container.len() as u64;
    let (header, _, _) = crate::crypto::kb1::parse_header(&container)
        .map_err(|e| anyhow::anyhow!("the sealed header: {}", e.code()))?;
    let kb = crate::crypto::kb1::unseal_kb(&header, &keys.encryption)
        .map_err(|e| anyhow::anyhow!("the bidder's half-key: {}", e.code()))?;
    crate::bid::service::append(
        &then.state,
        &user,
        &bid_id,
        0,
        axum::body::Body::from(container),
    )
    .await
    .map_err(app_err)?;
    crate::bid::service::complete(
        &then.state,
        &user,
        &bid_id,
        crate::bid::types::CompleteBidRequest { size, sha256 },
    )
    .await
    .map_err(app_err)?;
    Ok((bid_id, b64.encode(kb)))
}
