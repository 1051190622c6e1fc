//! The demo city: `kaibiao serve --demo` on an empty database seeds regions' purchasing
//! units, two agencies, finance and oversight, suppliers of every size, an expert pool,
//! a user for each role, two published tenders — through the same services as the API —
//! and a third tender whose bids close a few minutes after start, for playing a whole
//! opening. Its five bids are sealed on the suppliers' side and sent over HTTP to the
//! running server once it serves (`OpeningBids`), so they take the real upload path.

use rand::Rng;

mod history;
pub mod year;
pub use history::{PastTender, Stage};

use crate::auth::service::hash_password;
use crate::auth::{CurrentUser, Role};
use crate::credit_code::check_char;
use crate::error::AppError;
use crate::org::repo as org_repo;
use crate::org::service::new_id;
use crate::org::types::{ExpertView, OrgKind, OrgView, UserListItem};
use crate::pki::types::{KeyPurpose, RegisterKeyRequest};
use crate::state::AppState;
use crate::tender::service as tender_service;
use crate::tender::types::{Category, LotInput, ProcurementMethod, TenderInput};

/// How long after the demo city is seeded its opening tender's bids close.
pub const OPENING_DEADLINE_MINS: i64 = 5;
/// The opening tender's decryption window: short, for a demo.
pub const OPENING_DECRYPT_WINDOW_MINS: i64 = 10;
/// The opening tender's title, by which a restarted server finds it again.
pub const OPENING_TITLE: &str = "黄石市第一中学垃圾分类设施及智能回收设备采购项目(开标演示)";
/// Who plays the opening: the host (the tender's agency) and the key custodians.
pub const OPENING_HOST: &str = "agency";
pub const OPENING_CUSTODIANS: [&str; 3] = ["agency", "purchaser", "finance"];
pub const OPENING_THRESHOLD: i64 = 2;

/// One demo supplier's bid on the opening tender: its opening sheet (the enterprise size
/// and special status come from the supplier's organisation) and the points of its
/// technical proposal.
pub struct DemoBid {
    pub user: &'static str,
    pub total_price_fen: i64,
    pub delivery_days: u32,
    pub warranty_months: u32,
    pub notes: &'static str,
    /// The brand offered (R-OPEN-6: one brand counts once for the quorum).
    pub brand: &'static str,
    pub offer: &'static [&'static str],
    /// Per line of the offer: made by a small or micro enterprise (a prison enterprise or
    /// welfare unit counts, R-POL-3), and a domestic product (R-POL-5).
    pub small_maker: &'static [bool],
    pub domestic: &'static [bool],
}

/// Five suppliers of different sizes (small and micro included) bid different prices.
/// supplier1–5 are left free for the newcomer's own bids.
pub const OPENING_BIDS: [DemoBid; 5] = [
    DemoBid {
        user: "supplier6",
        brand: "绿洁 GreenClean",
        total_price_fen: 123_860_000,
        delivery_days: 30,
        warranty_months: 36,
        notes: "含运输、安装及旧设施清运",
        offer: &[
            "四分类垃圾分类亭 24 座(不锈钢框架,防腐木饰面)",
            "智能回收柜 6 台(称重、满溢报警、扫码投放)",
            "分类指导屏及宣传标识 1 批",
        ],
        small_maker: &[true, true, true],
        domestic: &[true, true, true],
    },
    DemoBid {
        user: "supplier7",
        brand: "楚环 Chuhuan",
        total_price_fen: 118_645_000,
        delivery_days: 45,
        warranty_months: 24,
        notes: "监狱企业,视同小型企业(附省级监狱管理局证明)",
        offer: &[
            "四分类垃圾分类亭 24 座(镀锌钢板喷塑)",
            "智能回收柜 6 台",
            "教室分类垃圾桶 240 组",
        ],
        small_maker: &[true, true, true],
        domestic: &[true, true, true],
    },
    DemoBid {
        user: "supplier8",
        brand: "绿洁 GreenClean",
        total_price_fen: 115_230_050,
        delivery_days: 40,
        warranty_months: 36,
        notes: "福利企业,残疾人职工占比 32%",
        offer: &[
            "四分类垃圾分类亭 24 座(自产箱体)",
            "智能回收柜 6 台(合作厂商供货)",
            "教室分类垃圾桶 240 组",
        ],
        small_maker: &[true, false, true],
        domestic: &[true, true, true],
    },
    DemoBid {
        user: "supplier9",
        brand: "智分 SmartSort",
        total_price_fen: 126_900_000,
        delivery_days: 25,
        warranty_months: 60,
        notes: "含五年云平台服务及数据对接",
        offer: &[
            "智能分类亭 24 座(人脸识别、积分激励)",
            "智能回收柜 6 台及校园回收数据平台",
            "五年运维及远程监控",
        ],
        small_maker: &[false, false, false],
        domestic: &[false, true, true],
    },
    DemoBid {
        user: "supplier10",
        brand: "荆楚环保 Jingchu",
        total_price_fen: 120_778_000,
        delivery_days: 35,
        warranty_months: 36,
        notes: "含一年驻校分类督导服务",
        offer: &[
            "四分类垃圾分类亭 24 座",
            "智能回收柜 6 台",
            "一年驻校分类督导 2 人",
        ],
        small_maker: &[true, true, true],
        domestic: &[true, true, true],
    },
];

/// The demo's competitive consultation, played live like the opening: its bids close with
/// the opening's, then the panel negotiates in rounds of offers (docs/rounds.md).
pub const CONSULTATION_TITLE: &str = "黄石市第一中学实验室设备巡检维保服务采购项目(磋商演示)";
/// The demo's enquiry (询价): one offer each, the lowest evaluated price wins.
pub const ENQUIRY_TITLE: &str = "黄石市第一中学办公家具采购项目(询价演示)";

const fn demo_bid(
    user: &'static str,
    brand: &'static str,
    total_price_fen: i64,
    notes: &'static str,
    offer: &'static [&'static str],
) -> DemoBid {
    DemoBid {
        user,
        brand,
        total_price_fen,
        delivery_days: 30,
        warranty_months: 12,
        notes,
        offer,
        small_maker: &[true, true],
        domestic: &[true, true],
    }
}

/// Three suppliers answer the consultation; the rounds are the newcomer's to play.
pub const CONSULTATION_BIDS: [DemoBid; 3] = [
    demo_bid(
        "supplier6",
        "绿洁 GreenClean",
        56_800_000,
        "每月巡检一次,含易损件",
        &["实验室设备月度巡检 12 次", "故障 4 小时到场维修"],
    ),
    demo_bid(
        "supplier7",
        "楚环 Chuhuan",
        54_300_000,
        "每月巡检一次,备件另计",
        &["实验室设备月度巡检 12 次", "故障 8 小时到场维修"],
    ),
    demo_bid(
        "supplier9",
        "智分 SmartSort",
        59_900_000,
        "含设备远程监测平台",
        &["实验室设备月度巡检 12 次", "远程监测及年度校准"],
    ),
];

/// Three suppliers answer the enquiry, each with its one price.
pub const ENQUIRY_BIDS: [DemoBid; 3] = [
    demo_bid(
        "supplier8",
        "荆木 Jingmu",
        41_200_000,
        "实木课桌椅 300 套,含安装",
        &["办公桌 120 张", "会议椅 180 把"],
    ),
    demo_bid(
        "supplier10",
        "楚家 Chujia",
        39_850_000,
        "钢木结构,含安装",
        &["办公桌 120 张", "会议椅 180 把"],
    ),
    demo_bid(
        "supplier6",
        "绿洁 GreenClean",
        43_000_000,
        "含五年质保",
        &["办公桌 120 张", "会议椅 180 把"],
    ),
];

/// The tenders whose demo bids the server sends itself at start: the opening's first.
pub const LIVE_DEMOS: [(&str, &[DemoBid]); 3] = [
    (OPENING_TITLE, &OPENING_BIDS),
    (CONSULTATION_TITLE, &CONSULTATION_BIDS),
    (ENQUIRY_TITLE, &ENQUIRY_BIDS),
];

/// The offer's lines as products for the policy deductions, the price split evenly.
fn products(bid: &DemoBid) -> Vec<crate::bid::package::Product> {
    let n = bid.offer.len() as i64;
    bid.offer
        .iter()
        .enumerate()
        .map(|(i, line)| crate::bid::package::Product {
            name: (*line).into(),
            cost_fen: bid.total_price_fen / n + if i == 0 { bid.total_price_fen % n } else { 0 },
            domestic: bid.domestic.get(i).copied().unwrap_or(true),
            made_by_small_micro: bid.small_maker.get(i).copied().unwrap_or(false),
        })
        .collect()
}

/// Keys made for `user` as its device would make them, registered through the real path:
/// the keys and the signing key's id.
async fn new_device(
    state: &AppState,
    user: &CurrentUser,
) -> anyhow::Result<(crate::pki::keyfile::DeviceKeys, String)> {
    let keys = crate::pki::keyfile::DeviceKeys::generate();
    let mut signing = String::new();
    for purpose in [KeyPurpose::Signing, KeyPurpose::Encryption] {
        let (public_key, proof) = keys.registration(&user.id, purpose);
        let view = crate::keys::service::register(
            state,
            user,
            RegisterKeyRequest {
                purpose,
                public_key,
                proof,
            },
        )
        .await
        .map_err(app_err)?;
        if purpose == KeyPurpose::Signing {
            signing = view.key_id;
        }
    }
    Ok((keys, signing))
}

/// The demo organisation of supplier user `user`.
fn supplier_org(user: &str) -> anyhow::Result<&'static OrgSeed> {
    use anyhow::Context;
    USERS
        .iter()
        .find(|u| u.0 == user)
        .and_then(|u| ORGS.iter().find(|o| o.key == u.3))
        .context("a demo supplier")
}

/// `bid`'s opening sheet, its size and status those of its organisation.
fn opening_sheet(bid: &DemoBid, org: &OrgSeed) -> crate::bid::package::OpeningSheet {
    crate::bid::package::OpeningSheet {
        total_price_fen: bid.total_price_fen,
        total_price_words: crate::bid::package::amount_in_words(bid.total_price_fen),
        delivery_days: bid.delivery_days,
        warranty_months: bid.warranty_months,
        enterprise_size: org.size.unwrap_or("small").into(),
        special_status: org.special.map(Into::into),
        notes: bid.notes.into(),
        brand: Some(bid.brand.into()),
        products: products(bid),
        consortium_small_micro_share_bp: None,
    }
}

/// The opening tender as seeded, for the printed walkthrough.
#[derive(Debug, Clone)]
pub struct DemoOpening {
    pub tender_id: String,
    pub code: String,
    pub title: String,
    pub bid_deadline: i64,
    pub decrypt_window_mins: i64,
}

/// Demo user names with their role and organisation, and the one password they share.
#[derive(Debug, Clone)]
pub struct DemoLogins {
    pub password: String,
    pub key_dir: std::path::PathBuf,
    pub users: Vec<(String, String, String)>,
    pub opening: Option<DemoOpening>,
    /// Tenders carried through the chain at earlier dates, one per stage after the award.
    pub past: Vec<PastTender>,
}

fn cst_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&crate::clock::cst())
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

impl std::fmt::Display for DemoLogins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "演示账号 / demo logins (password for all: {})",
            self.password
        )?;
        for (user, role, org) in &self.users {
            writeln!(f, "  {user:<14} {role:<10} {org}")?;
        }
        if !self.past.is_empty() {
            writeln!(f)?;
            writeln!(f, "授标之后 / after the award (tenders of the past weeks):")?;
        }
        for t in &self.past {
            writeln!(f, "  {} {} — {}", t.code, t.title, t.stage.next_step())?;
        }
        let Some(o) = &self.opening else {
            return Ok(());
        };
        let bidders: Vec<&str> = OPENING_BIDS.iter().map(|b| b.user).collect();
        writeln!(f)?;
        writeln!(f, "演示开标 / demo opening: {} ({})", o.title, o.code)?;
        writeln!(
            f,
            "  投标截止 / bids close: {} 北京时间 / China time ({OPENING_DEADLINE_MINS} min after start); \
             the five bids are sealed and uploaded now",
            cst_time(o.bid_deadline)
        )?;
        writeln!(
            f,
            "  主持人 / host:         {OPENING_HOST} — 截止后在开标大厅开始开标 / starts the opening in the hall after the deadline"
        )?;
        writeln!(
            f,
            "  投标人 / bidders:      {} — 各自在 {} 分钟解密窗口内解密 / each decrypts its bid within the {}-minute window",
            bidders.join(", "),
            o.decrypt_window_mins,
            o.decrypt_window_mins
        )?;
        writeln!(
            f,
            "  保管人 / custodians:   {} — 任意 {OPENING_THRESHOLD} 人提交密钥份额 / any {OPENING_THRESHOLD} submit their key shares",
            OPENING_CUSTODIANS.join(", ")
        )?;
        writeln!(
            f,
            "  设备密钥 / key files:  {}/<user>.kbkey (口令同密码 / passphrase: the password above)",
            self.key_dir.display()
        )?;
        writeln!(
            f,
            "  评标 / evaluation:     agency 申请抽取专家 (environmental), finance 输入随机数抽取, \
             expert1…expert36 中被抽中者评审打分并签署报告, purchaser 确认中标人 / \
             agency asks for a panel, finance draws it, the drawn experts review, score and sign, \
             purchaser confirms the winner"
        )?;
        let users = |bids: &[DemoBid]| bids.iter().map(|b| b.user).collect::<Vec<_>>().join(", ");
        writeln!(
            f,
            "演示磋商 / demo consultation: {CONSULTATION_TITLE} — 投标人 / bidders {}; \
             开标与评审同上,符合性审查后 agency 在谈判/磋商报价页开始磋商,专家发出书面通知、\
             开两轮报价(第二轮为最后报价),供应商在本机密封报价,截止后同时开启 / \
             opened and reviewed as above, then agency begins the rounds on the rounds page, \
             an expert sends a notice and opens two rounds (the second the final offers), the \
             suppliers seal their offers on their devices, all opened together after each close",
            users(&CONSULTATION_BIDS)
        )?;
        writeln!(
            f,
            "演示询价 / demo enquiry:      {ENQUIRY_TITLE} — 投标人 / bidders {}; \
             一次报价不得更改,最低评审价成交 / one offer each, the lowest evaluated price wins",
            users(&ENQUIRY_BIDS)
        )?;
        Ok(())
    }
}

/// A valid 统一社会信用代码 for a demo organisation.
fn credit_code(prefix: &str, region: &str, n: usize) -> String {
    coded(prefix, region, "MA4", n)
}

/// A valid 统一社会信用代码 `<prefix><region><series><n, 6 digits><check>`: the demo city's
/// series is `MA4`, the generated year's `MA5` (`year`), so they never meet.
fn coded(prefix: &str, region: &str, series: &str, n: usize) -> String {
    let base = format!("{prefix}{region}{series}{n:06}");
    let c = check_char(&base).expect("demo code uses the code alphabet");
    format!("{base}{c}")
}

struct OrgSeed {
    key: &'static str,
    kind: OrgKind,
    name: &'static str,
    region: &'static str,
    size: Option<&'static str>,
    special: Option<&'static str>,
}

const ORGS: &[OrgSeed] = &[
    OrgSeed {
        key: "platform",
        kind: OrgKind::Platform,
        name: "黄石市政府采购电子交易平台运营中心",
        region: "420200",
        size: None,
        special: None,
    },
    OrgSeed {
        key: "finance",
        kind: OrgKind::FinanceDept,
        name: "黄石市财政局政府采购监督管理科",
        region: "420200",
        size: None,
        special: None,
    },
    OrgSeed {
        key: "oversight",
        kind: OrgKind::OversightDept,
        name: "黄石市公共资源交易监督管理局",
        region: "420200",
        size: None,
        special: None,
    },
    OrgSeed {
        key: "bank",
        kind: OrgKind::Bank,
        name: "湖北银行黄石分行",
        region: "420200",
        size: None,
        special: None,
    },
    OrgSeed {
        key: "school",
        kind: OrgKind::PurchaserUnit,
        name: "黄石市第一中学",
        region: "420200",
        size: None,
        special: None,
    },
    OrgSeed {
        key: "hospital",
        kind: OrgKind::PurchaserUnit,
        name: "黄石市中心医院",
        region: "420200",
        size: None,
        special: None,
    },
    OrgSeed {
        key: "urban",
        kind: OrgKind::PurchaserUnit,
        name: "黄石港区城市管理执法局",
        region: "420202",
        size: None,
        special: None,
    },
    OrgSeed {
        key: "daye_hosp",
        kind: OrgKind::PurchaserUnit,
        name: "大冶市人民医院",
        region: "420281",
        size: None,
        special: None,
    },
    OrgSeed {
        key: "yangxin_edu",
        kind: OrgKind::PurchaserUnit,
        name: "阳新县教育局",
        region: "420222",
        size: None,
        special: None,
    },
    OrgSeed {
        key: "xialu_gov",
        kind: OrgKind::PurchaserUnit,
        name: "下陆区人民政府办公室",
        region: "420204",
        size: None,
        special: None,
    },
    OrgSeed {
        key: "center",
        kind: OrgKind::Agency,
        name: "黄石市政府采购中心",
        region: "420200",
        size: None,
        special: None,
    },
    OrgSeed {
        key: "huaxin",
        kind: OrgKind::Agency,
        name: "湖北华信工程项目管理有限公司",
        region: "420203",
        size: None,
        special: None,
    },
    OrgSeed {
        key: "s1",
        kind: OrgKind::Supplier,
        name: "黄石楚禾信息技术有限公司",
        region: "420202",
        size: Some("small"),
        special: None,
    },
    OrgSeed {
        key: "s2",
        kind: OrgKind::Supplier,
        name: "湖北磁湖智能装备有限公司",
        region: "420204",
        size: Some("medium"),
        special: None,
    },
    OrgSeed {
        key: "s3",
        kind: OrgKind::Supplier,
        name: "大冶铜都建设工程有限公司",
        region: "420281",
        size: Some("large"),
        special: None,
    },
    OrgSeed {
        key: "s4",
        kind: OrgKind::Supplier,
        name: "黄石港区明远办公用品商行",
        region: "420202",
        size: Some("micro"),
        special: None,
    },
    OrgSeed {
        key: "s5",
        kind: OrgKind::Supplier,
        name: "阳新县富河医疗器械有限公司",
        region: "420222",
        size: Some("small"),
        special: None,
    },
    OrgSeed {
        key: "s6",
        kind: OrgKind::Supplier,
        name: "湖北西塞山环保科技有限公司",
        region: "420203",
        size: Some("medium"),
        special: None,
    },
    OrgSeed {
        key: "s7",
        kind: OrgKind::Supplier,
        name: "湖北省新生印务厂",
        region: "420205",
        size: Some("small"),
        special: Some("prison"),
    },
    OrgSeed {
        key: "s8",
        kind: OrgKind::Supplier,
        name: "黄石市康福福利工厂",
        region: "420204",
        size: Some("micro"),
        special: Some("disability_welfare"),
    },
    OrgSeed {
        key: "s9",
        kind: OrgKind::Supplier,
        name: "湖北光谷云联网络科技股份有限公司",
        region: "420200",
        size: Some("large"),
        special: None,
    },
    OrgSeed {
        key: "s10",
        kind: OrgKind::Supplier,
        name: "黄石鄂东物业服务有限公司",
        region: "420203",
        size: Some("small"),
        special: None,
    },
];

/// (user name, display name, role, org key)
const USERS: &[(&str, &str, Role, &str)] = &[
    ("admin", "平台管理员", Role::Admin, "platform"),
    ("finance", "周建华(财政监管)", Role::Finance, "finance"),
    ("oversight", "吴敏(综合监管)", Role::Oversight, "oversight"),
    ("bank", "郑洁(湖北银行)", Role::Bank, "bank"),
    ("purchaser", "刘芳(第一中学)", Role::Purchaser, "school"),
    ("purchaser2", "陈立(中心医院)", Role::Purchaser, "hospital"),
    ("agency", "王磊(采购中心)", Role::Agency, "center"),
    ("agency2", "李娜(华信)", Role::Agency, "huaxin"),
    ("supplier1", "张伟(楚禾信息)", Role::Supplier, "s1"),
    ("supplier2", "赵强(磁湖智能)", Role::Supplier, "s2"),
    ("supplier3", "孙浩(铜都建设)", Role::Supplier, "s3"),
    ("supplier4", "周敏(明远商行)", Role::Supplier, "s4"),
    ("supplier5", "徐静(富河医疗)", Role::Supplier, "s5"),
    ("supplier6", "胡军(西塞山环保)", Role::Supplier, "s6"),
    ("supplier7", "郭涛(新生印务)", Role::Supplier, "s7"),
    ("supplier8", "何丽(康福工厂)", Role::Supplier, "s8"),
    ("supplier9", "高飞(光谷云联)", Role::Supplier, "s9"),
    ("supplier10", "林琳(鄂东物业)", Role::Supplier, "s10"),
];

/// The demo plans the three demo tenders are created from.
struct DemoPlans {
    opening: String,
    consultation: String,
    enquiry: String,
    classroom: String,
    property: String,
}

/// Budget lines for the school and the hospital (finance), plans drawn on them (the units)
/// and their intentions, written as the history they would have: the plans of the
/// tenders published today were filed 40 days ago and their intentions went out 35 days
/// ago (R-PLAN-1); the hospital's consultation was approved by finance two weeks ago
/// (R-METH-1); a single-source purchase of the school's was publicised for 5 working days
/// and approved; one more plan's intention goes out today.
async fn seed_plans(
    state: &AppState,
    finance: &CurrentUser,
    school: &CurrentUser,
    hospital: &CurrentUser,
    org_ids: &std::collections::HashMap<&str, String>,
) -> anyhow::Result<DemoPlans> {
    use crate::approval::service as approvals;
    use crate::approval::types::{ApprovalInput, ApprovalKind, DecisionInput};
    use crate::plan::service as plans;
    use crate::plan::types::{
        BudgetLineInput, FundingSource, IntentionInput, PlanInput, ProcurementMethod as M,
    };
    use chrono::Datelike;
    const DAY: i64 = 86_400_000;
    let now = state.clock.now_ms();
    let year = crate::clock::cst_date(now).year();
    let this_month = crate::clock::cst_date(now).format("%Y-%m").to_string();
    let later_month = (crate::clock::cst_date(now) + chrono::Days::new(90))
        .format("%Y-%m")
        .to_string();
    let line =
        |org: &str, code: &str, title: &str, category: Category, yuan: i64| BudgetLineInput {
            org_id: org_ids[org].clone(),
            year,
            code: code.into(),
            title: title.into(),
            category,
            funding_source: FundingSource::GeneralBudget,
            amount_fen: yuan * 100,
        };
    let mut lines = Vec::new();
    for l in [
        line(
            "school",
            "2080201-01",
            "校园设施改造",
            Category::Goods,
            3_000_000,
        ),
        line(
            "school",
            "2050201-03",
            "教育信息化设备购置",
            Category::Goods,
            4_000_000,
        ),
        line(
            "hospital",
            "2100201-07",
            "后勤保障服务",
            Category::Services,
            6_000_000,
        ),
        line(
            "school",
            "2050201-12",
            "实验室专用设备维保",
            Category::Services,
            5_000_000,
        ),
    ] {
        lines.push(
            plans::create_line(state, finance, l)
                .await
                .map_err(app_err)?
                .id,
        );
    }
    // A plan filed `filed` days ago, its intention out `intention` days ago (if any).
    let plan = |user: &CurrentUser,
                line: &str,
                title: &str,
                method: M,
                yuan: i64,
                month: &str,
                filed: i64,
                intention: Option<i64>| {
        let (user, line, title, month) = (
            user.clone(),
            line.to_string(),
            title.to_string(),
            month.to_string(),
        );
        async move {
            let p = PlanInput {
                budget_line_id: line,
                title: title.clone(),
                method,
                amount_fen: yuan * 100,
                imported: false,
                expected_month: month,
                intention_exception: None,
                exception_reason: String::new(),
            };
            let view = plans::create_plan_at(state, &user, p, now - filed * DAY)
                .await
                .map_err(app_err)?;
            if let Some(days) = intention {
                let i = IntentionInput {
                    description: format!("{title}:详见预算项目 {}。", view.budget_line_code),
                };
                plans::publish_intention_at(state, &user, &view.id, i, now - days * DAY)
                    .await
                    .map_err(app_err)?;
            }
            anyhow::Ok(view.id)
        }
    };
    let opening = plan(
        school,
        &lines[0],
        "校园垃圾分类设施改造",
        M::OpenTendering,
        1_300_000,
        &this_month,
        40,
        Some(35),
    )
    .await?;
    let classroom = plan(
        school,
        &lines[1],
        "智慧教室设备采购",
        M::OpenTendering,
        2_700_000,
        &this_month,
        40,
        Some(35),
    )
    .await?;
    let property = plan(
        hospital,
        &lines[2],
        "2027—2029 年度物业管理服务",
        M::CompetitiveConsultation,
        4_600_000,
        &this_month,
        40,
        Some(35),
    )
    .await?;
    let robots = plan(
        school,
        &lines[3],
        "教学机器人原厂维保服务",
        M::SingleSource,
        4_200_000,
        &this_month,
        30,
        Some(28),
    )
    .await?;
    let consultation = plan(
        school,
        &lines[3],
        "实验室设备巡检维保服务",
        M::CompetitiveConsultation,
        600_000,
        &this_month,
        40,
        Some(35),
    )
    .await?;
    let enquiry = plan(
        school,
        &lines[0],
        "办公家具采购",
        M::Inquiry,
        450_000,
        &this_month,
        40,
        Some(35),
    )
    .await?;
    let library = plan(
        school,
        &lines[0],
        "图书馆书架及阅览桌椅采购",
        M::OpenTendering,
        800_000,
        &later_month,
        0,
        None,
    )
    .await?;
    plans::publish_intention(
        state,
        school,
        &library,
        IntentionInput {
            description: "图书馆阅览室书架 120 组、阅览桌椅 80 套,含运输安装。".into(),
        },
    )
    .await
    .map_err(app_err)?;
    // Finance's approvals: asked `asked` days ago, decided after any publicity.
    let approve = |user: &CurrentUser,
                   plan_id: String,
                   reasons: &str,
                   sole: Option<(&str, String)>,
                   asked: i64| {
        let (user, reasons) = (user.clone(), reasons.to_string());
        let sole = sole.map(|(n, c)| (n.to_string(), c));
        async move {
            let input = ApprovalInput {
                kind: ApprovalKind::Method,
                reasons,
                sole_supplier_name: sole.as_ref().map(|s| s.0.clone()),
                sole_supplier_credit_code: sole.map(|s| s.1),
                attachments: Vec::new(),
            };
            let at = now - asked * DAY;
            let a = approvals::request_at(state, &user, &plan_id, input, at)
                .await
                .map_err(app_err)?;
            let decided = a.publicity_ends_at.unwrap_or(at) + 3_600_000;
            let d = DecisionInput {
                approve: true,
                reason: "同意。".into(),
            };
            approvals::decide_at(state, finance, &a.id, d, decided)
                .await
                .map_err(app_err)?;
            anyhow::Ok(())
        }
    };
    approve(
        hospital,
        property.clone(),
        "物业服务需求需与供应商多轮磋商确定服务标准与人员配置,适用竞争性磋商(财库〔2014〕214号)。",
        None,
        14,
    )
    .await?;
    approve(
        school,
        robots,
        "教学机器人的维保须使用原厂专用软件与配件,只能由原制造商提供(政府采购法第三十一条第一项)。",
        Some(("黄石智造教育装备有限公司", credit_code("91", "420200", 99))),
        20,
    )
    .await?;
    Ok(DemoPlans {
        opening,
        consultation,
        enquiry,
        classroom,
        property,
    })
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗",
];
const GIVEN: &[&str] = &[
    "志强", "秀英", "建国", "丽华", "文军", "海燕", "国平", "晓东", "红梅", "德明", "春林", "玉兰",
    "永刚", "淑珍", "世杰", "慧敏", "振华", "雪梅", "立新", "桂芳", "宏伟", "婷婷", "俊杰", "金凤",
    "长江", "云飞", "佳怡", "明辉", "素琴", "光荣", "子涵", "建军",
];
const SPECIALTIES: &[&str] = &[
    "it_hardware",
    "software",
    "medical_equipment",
    "construction",
    "education_equipment",
    "property_services",
    "environmental",
    "vehicles",
    "finance_audit",
    "legal",
];
const EMPLOYERS: &[&str] = &[
    "湖北理工学院",
    "湖北师范大学",
    "黄石市中心医院",
    "大冶市人民医院",
    "黄石市建筑设计研究院",
    "湖北永信会计师事务所",
    "湖北今天律师事务所",
    "黄石市信息中心",
    "阳新县人民医院",
    "大冶有色设计研究院",
];
const TITLES: &[&str] = &[
    "高级工程师",
    "教授",
    "副教授",
    "主任医师",
    "副主任医师",
    "高级会计师",
    "律师",
    "正高级工程师",
];
const REGION_CODES: &[&str] = &[
    "420200", "420202", "420203", "420204", "420205", "420222", "420281",
];

fn demo_password() -> String {
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// Seeds the demo city when the database has no users yet.
pub async fn seed_if_empty(state: &AppState) -> anyhow::Result<Option<DemoLogins>> {
    if org_repo::count(&state.db.pool, "users").await? > 0 {
        return Ok(None);
    }
    let password = state
        .config
        .demo_password
        .clone()
        .unwrap_or_else(demo_password);
    let pw = password.clone();
    // One hash for all demo accounts: they share the printed password.
    let hash = tokio::task::spawn_blocking(move || hash_password(&pw)).await??;
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;

    let mut org_ids = std::collections::HashMap::new();
    for (i, o) in ORGS.iter().enumerate() {
        let prefix = match o.kind {
            OrgKind::PurchaserUnit => "12",
            OrgKind::FinanceDept | OrgKind::OversightDept => "11",
            _ => "91",
        };
        let view = OrgView {
            id: new_id(),
            kind: o.kind.as_str().into(),
            name: o.name.into(),
            credit_code: credit_code(prefix, o.region, 100 + i),
            region_code: o.region.into(),
            enterprise_size: o.size.map(Into::into),
            special_status: o.special.map(Into::into),
        };
        org_repo::insert_org(&mut tx, &view, now).await?;
        org_ids.insert(o.key, view.id);
    }

    let mut logins = Vec::new();
    let mut user_ids = std::collections::HashMap::new();
    for (username, display, role, org) in USERS {
        let u = UserListItem {
            id: new_id(),
            username: (*username).into(),
            display_name: (*display).into(),
            role: role.as_str().into(),
            org_id: Some(org_ids[org].clone()),
        };
        org_repo::insert_user(&mut tx, &u, &hash, now).await?;
        let org_name = ORGS.iter().find(|o| o.key == *org).map_or("", |o| o.name);
        logins.push((
            u.username.clone(),
            role.name_zh().to_string(),
            org_name.to_string(),
        ));
        user_ids.insert(*username, (u.id, *role, org_ids[org].clone(), *display));
    }

    // The expert pool: 36 experts across specialties and regions, each with a login
    // (expert1 … expert36) so that whoever the draw picks can take the seat.
    let mut expert_accounts: Vec<(String, String, String)> = Vec::new();
    for i in 0..36 {
        let name = format!(
            "{}{}",
            SURNAMES[i % SURNAMES.len()],
            GIVEN[(i * 7) % GIVEN.len()]
        );
        let specialties = vec![
            SPECIALTIES[i % SPECIALTIES.len()].to_string(),
            SPECIALTIES[(i * 3 + 1) % SPECIALTIES.len()].to_string(),
        ];
        let e = ExpertView {
            id: new_id(),
            name: name.clone(),
            region_code: REGION_CODES[i % REGION_CODES.len()].into(),
            employer: EMPLOYERS[i % EMPLOYERS.len()].into(),
            title: TITLES[i % TITLES.len()].into(),
            specialties,
            has_account: true,
        };
        let user_id = {
            let u = UserListItem {
                id: new_id(),
                username: format!("expert{}", i + 1),
                display_name: format!("{name}(评审专家)"),
                role: Role::Expert.as_str().into(),
                org_id: None,
            };
            org_repo::insert_user(&mut tx, &u, &hash, now).await?;
            expert_accounts.push((u.username.clone(), u.id.clone(), u.display_name.clone()));
            if i == 0 {
                logins.push((
                    "expert1…expert36".into(),
                    Role::Expert.name_zh().into(),
                    "专家库 / expert pool".into(),
                ));
            }
            Some(u.id)
        };
        org_repo::insert_expert(&mut tx, &e, user_id.as_deref(), now).await?;
        if i == 15 {
            // A declared tie (a former employer) to a bidder of the demo opening: the draw
            // excludes this expert from that tender (R-EVAL-2).
            sqlx::query("UPDATE experts SET ties = $1 WHERE id = $2")
                .bind(serde_json::json!([org_ids["s6"]]).to_string())
                .bind(&e.id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    // The past first: its keys are certified before, and superseded by, the present's.
    let past = if state.config.demo_history {
        history::seed(state, &org_ids).await?
    } else {
        Vec::new()
    };

    let actor = |name: &str| {
        let (id, role, org, display) = user_ids[name].clone();
        CurrentUser {
            id,
            username: name.into(),
            display_name: display.into(),
            role,
            org_id: Some(org),
            session_id: String::new(),
            csrf_token: String::new(),
            expires_at: 0,
            via_cookie: false,
            csrf_ok: false,
            client_ip: String::new(),
        }
    };
    // Deadlines fall on a round hour, as announcements have them: 09:30 China time.
    let at_930 = |days: i64| -> i64 {
        let date = (chrono::DateTime::from_timestamp_millis(now).unwrap_or_default()
            + chrono::Duration::days(days))
        .with_timezone(&crate::clock::cst())
        .date_naive();
        date.and_hms_opt(9, 30, 0)
            .and_then(|t| t.and_local_timezone(crate::clock::cst()).single())
            .map_or(now + days * 86_400_000, |t| t.timestamp_millis())
    };
    // Custodians' devices: keys made here, as the CLI would, registered through the real
    // path, and kept in key files under the demo password.
    let key_dir = state.config.shared().join("demo-keys");
    std::fs::create_dir_all(&key_dir)?;
    // Experts too: whoever is drawn signs the report with a key file, or makes a key in
    // the browser.
    let device_users = ["agency", "purchaser", "purchaser2", "finance"]
        .into_iter()
        .chain(OPENING_BIDS.iter().map(|b| b.user))
        .map(actor)
        .chain(
            expert_accounts
                .into_iter()
                .filter(|_| state.config.demo_expert_keys)
                .map(|(username, id, display_name)| CurrentUser {
                    id,
                    username,
                    display_name,
                    role: Role::Expert,
                    org_id: None,
                    session_id: String::new(),
                    csrf_token: String::new(),
                    expires_at: 0,
                    via_cookie: false,
                    csrf_ok: false,
                    client_ip: String::new(),
                }),
        );
    for user in device_users {
        let name = user.username.clone();
        let (keys, _) = new_device(state, &user).await?;
        crate::tls::write_private(
            &key_dir.join(format!("{name}.kbkey")),
            keys.to_file(&user.id, &password).as_bytes(),
        )?;
    }
    let agency = actor("agency");
    let plans = seed_plans(
        state,
        &actor("finance"),
        &actor("purchaser"),
        &actor("purchaser2"),
        &org_ids,
    )
    .await?;
    let custodians = |purchaser: &str| {
        vec![
            user_ids["agency"].0.clone(),
            user_ids[purchaser].0.clone(),
            user_ids["finance"].0.clone(),
        ]
    };
    // The opening tender goes first, so the two others stay at the top of lists.
    let opened_at = state.clock.now_ms();
    let deadline = opened_at + OPENING_DEADLINE_MINS * 60_000;
    let opening = TenderInput {
        title: OPENING_TITLE.into(),
        region_code: "420200".into(),
        purchaser_org_id: org_ids["school"].clone(),
        category: Category::Goods,
        method: ProcurementMethod::OpenTendering,
        description: "校园 24 处垃圾分类投放点改造:四分类垃圾分类亭、智能回收柜、教室分类垃圾桶,\
                      含运输安装、培训及质保。本项目为开标演示:投标截止后由代理机构主持开标。"
            .into(),
        lots: vec![LotInput {
            name: "垃圾分类亭及智能回收设备".into(),
            budget_fen: crate::money::Money(128_000_000),
        }],
        clarify_deadline: opened_at + (deadline - opened_at) / 2,
        bid_deadline: deadline,
        decrypt_window_mins: OPENING_DECRYPT_WINDOW_MINS,
        custodian_ids: OPENING_CUSTODIANS
            .iter()
            .map(|u| user_ids[u].0.clone())
            .collect(),
        custodian_threshold: OPENING_THRESHOLD,
        evaluation: Some(demo_terms(false)),
        plan_id: Some(plans.opening.clone()),
        deposit_fen: None,
        reading_order: Default::default(),
    };
    // It closes minutes after publication: a training city only, where the statutory
    // periods are off (`Config::statutory_periods`).
    let opening = if state.config.statutory_periods {
        None
    } else {
        let view = tender_service::create(state, &actor(OPENING_HOST), opening)
            .await
            .map_err(app_err)?;
        let view = tender_service::publish(state, &actor(OPENING_HOST), &view.id)
            .await
            .map_err(app_err)?;
        Some(DemoOpening {
            tender_id: view.id,
            code: view.code,
            title: view.title,
            bid_deadline: view.bid_deadline,
            decrypt_window_mins: view.decrypt_window_mins,
        })
    };
    // The consultation and the enquiry, played live the same way, close with it.
    if opening.is_some() {
        let live =
            |title: &str, category, method, description: &str, lot: &str, yuan: i64| TenderInput {
                title: title.into(),
                region_code: "420200".into(),
                purchaser_org_id: org_ids["school"].clone(),
                category,
                method,
                description: description.into(),
                lots: vec![LotInput {
                    name: lot.into(),
                    budget_fen: crate::money::Money(yuan * 100),
                }],
                clarify_deadline: opened_at + (deadline - opened_at) / 2,
                bid_deadline: deadline,
                decrypt_window_mins: OPENING_DECRYPT_WINDOW_MINS,
                custodian_ids: OPENING_CUSTODIANS
                    .iter()
                    .map(|u| user_ids[u].0.clone())
                    .collect(),
                custodian_threshold: OPENING_THRESHOLD,
                evaluation: None,
                plan_id: None,
                deposit_fen: None,
                reading_order: Default::default(),
            };
        let consultation = TenderInput {
            evaluation: Some(demo_terms(false)),
            plan_id: Some(plans.consultation.clone()),
            ..live(
                CONSULTATION_TITLE,
                Category::Services,
                ProcurementMethod::CompetitiveConsultation,
                "物理、化学、生物实验室 320 台套设备一年的巡检、维修与校准。本项目为磋商演示:\
                 开启响应文件后,磋商小组与供应商多轮报价,以最后报价综合评分。",
                "实验室设备巡检维保服务",
                600_000,
            )
        };
        let enquiry = TenderInput {
            evaluation: Some(enquiry_terms()),
            plan_id: Some(plans.enquiry.clone()),
            ..live(
                ENQUIRY_TITLE,
                Category::Goods,
                ProcurementMethod::Inquiry,
                "行政楼办公桌 120 张、会议椅 180 把,含运输安装。本项目为询价演示:\
                 供应商一次报出不得更改的价格,以最低评审价成交。",
                "办公家具",
                450_000,
            )
        };
        for t in [consultation, enquiry] {
            let view = tender_service::create(state, &actor(OPENING_HOST), t)
                .await
                .map_err(app_err)?;
            tender_service::publish(state, &actor(OPENING_HOST), &view.id)
                .await
                .map_err(app_err)?;
        }
    }
    // The others' deadlines: the nominal day, or the first 9:30 the statutory periods
    // allow (R-METH-2, R-DOC-1) when that is later (a weekend or holiday in between).
    // A day's margin: publication comes a few seconds after `now`, maybe past midnight.
    let deadlines = state.runtime::<crate::calendar::Deadlines>();
    let lawful = |method: ProcurementMethod, nominal: i64| -> i64 {
        crate::tender::rules::earliest_deadline_if_published(
            deadlines,
            state.runtime::<crate::tender::methods::MethodRules>(),
            method,
            now,
        )
        .map_or(nominal, |(earliest, _)| {
            nominal.max(earliest + (24 * 60 + 570) * 60_000)
        })
    };

    let tenders = [
        TenderInput {
            title: "黄石市第一中学智慧教室设备采购项目".into(),
            region_code: "420200".into(),
            purchaser_org_id: org_ids["school"].clone(),
            category: Category::Goods,
            method: ProcurementMethod::OpenTendering,
            description:
                "为 24 间教室配置交互式智能黑板、学生平板及录播设备,含安装调试与三年质保。\
                          本项目专门面向中小企业采购。"
                    .into(),
            lots: vec![
                LotInput {
                    name: "第1包 交互式智能黑板".into(),
                    budget_fen: crate::money::Money(168_000_000),
                },
                LotInput {
                    name: "第2包 学生平板及录播系统".into(),
                    budget_fen: crate::money::Money(94_500_000),
                },
            ],
            clarify_deadline: at_930(10),
            bid_deadline: lawful(ProcurementMethod::OpenTendering, at_930(21)),
            decrypt_window_mins: 30,
            custodian_ids: custodians("purchaser"),
            custodian_threshold: 2,
            evaluation: Some(demo_terms(true)),
            plan_id: Some(plans.classroom.clone()),
            deposit_fen: None,
            reading_order: Default::default(),
        },
        TenderInput {
            title: "黄石市中心医院 2027—2029 年度物业管理服务采购".into(),
            region_code: "420200".into(),
            purchaser_org_id: org_ids["hospital"].clone(),
            category: Category::Services,
            method: ProcurementMethod::CompetitiveConsultation,
            description: "院区保洁、秩序维护、被服洗涤及设施设备运行维护,服务期三年。".into(),
            lots: vec![LotInput {
                name: "物业管理服务".into(),
                budget_fen: crate::money::Money(452_000_000),
            }],
            clarify_deadline: at_930(5),
            bid_deadline: lawful(ProcurementMethod::CompetitiveConsultation, at_930(12)),
            decrypt_window_mins: 30,
            custodian_ids: custodians("purchaser2"),
            custodian_threshold: 2,
            evaluation: Some(demo_terms(false)),
            plan_id: Some(plans.property.clone()),
            // R-DEP-1: 80 000 yuan, under 2% of the 4.52 million budget.
            deposit_fen: Some(crate::money::Money(8_000_000)),
            reading_order: Default::default(),
        },
    ];
    for (n, t) in tenders.into_iter().enumerate() {
        let view = tender_service::create(state, &agency, t)
            .await
            .map_err(app_err)?;
        tender_service::publish(state, &agency, &view.id)
            .await
            .map_err(app_err)?;
        // The hospital's (the school's ledger is the one the hub's tests replay).
        if n == 1 {
            seed_question(state, &actor("supplier2"), &agency, &view.id).await?;
        }
    }
    tracing::info!(users = logins.len(), "seeded the demo city");
    Ok(Some(DemoLogins {
        password,
        key_dir,
        users: logins,
        opening,
        past,
    }))
}

/// A supplier obtains the documents of `tender` and asks; the agency answers, so the
/// documents page has its questions and answers to show.
async fn seed_question(
    state: &AppState,
    supplier: &CurrentUser,
    agency: &CurrentUser,
    tender: &str,
) -> anyhow::Result<()> {
    use crate::documents::service as documents;
    use crate::documents::types::{AnswerInput, QuestionInput};
    documents::obtain(state, supplier, tender)
        .await
        .map_err(app_err)?;
    let q = documents::ask(
        state,
        supplier,
        tender,
        QuestionInput {
            text: "秩序维护岗位人员是否须持有消防设施操作员证书?".into(),
        },
    )
    .await
    .map_err(app_err)?;
    documents::answer(
        state,
        agency,
        tender,
        &q.id,
        AnswerInput {
            text: "消防控制室值班人员须持证,其余岗位不作要求。".into(),
        },
    )
    .await
    .map_err(app_err)?;
    Ok(())
}

/// 综合评分法: price 30 %, technical proposal 40 %, after-sales service 20 %, past
/// performance 10 % (objective, with its evidence); 10 % small/micro deduction unless
/// reserved for SMEs. The two subjective items have rubrics (评分细则) whose bands cover
/// 0–100; the compliance review has a checklist of four criteria (符合性审查表).
fn demo_terms(reserved_for_sme: bool) -> crate::committee::types::EvaluationTerms {
    use crate::committee::types::{EvaluationTerms, TermItem};
    use crate::evaluation::terms::Band;
    let band = |label: &str, min, max, description: &str| Band {
        label: label.into(),
        min,
        max,
        description: description.into(),
    };
    let item = |name: &str, weight_bp, objective| TermItem {
        name: name.into(),
        weight_bp,
        objective,
        ..TermItem::default()
    };
    let technical = TermItem {
        bands: vec![
            band(
                "优",
                8500,
                10_000,
                "方案完整，针对本项目需求，关键技术有创新，实施计划可行",
            ),
            band("良", 7000, 8499, "方案完整，针对性较强，实施计划基本可行"),
            band("中", 6000, 6999, "方案基本完整，针对性一般"),
            band("差", 0, 5999, "方案不完整或有明显缺陷"),
        ],
        ..item("技术方案", 4000, false)
    };
    let service = TermItem {
        bands: vec![
            band(
                "优",
                8500,
                10_000,
                "本地有服务网点，2 小时响应，质保期外终身维护",
            ),
            band("良", 7000, 8499, "本地有服务网点，4 小时响应"),
            band("差", 0, 6999, "无本地网点或响应时间长于 4 小时"),
        ],
        ..item("售后服务", 2000, false)
    };
    let record = TermItem {
        evidence: Some("近三年同类项目合同复印件：每份 25 分，满分 100 分".into()),
        ..item("类似业绩", 1000, true)
    };
    EvaluationTerms {
        method: crate::evaluation::Method::Comprehensive,
        reserved_for_sme,
        sme_rate_bp: (!reserved_for_sme).then_some(1000),
        consortium_rate_bp: None,
        price_weight_bp: 3000,
        items: vec![technical, service, record],
        abnormal_low_fraction_bp: 8000,
        outlier_points: 2000,
        rounding: crate::evaluation::Rounding::Once,
        two_suppliers_case: None,
        checklist: vec![
            criterion("投标有效期", "投标有效期不少于 90 日历天"),
            criterion("实质性条款", "对招标文件中标有★的条款全部响应，无负偏离"),
            criterion("报价", "报价唯一，且不超过该包采购预算"),
            criterion("交货期", "交货期满足招标文件的要求"),
        ],
    }
}

fn criterion(name: &str, description: &str) -> crate::evaluation::terms::Criterion {
    crate::evaluation::terms::Criterion {
        name: name.into(),
        description: description.into(),
    }
}

/// The enquiry's terms: the lowest evaluated price, after the small-enterprise deduction.
fn enquiry_terms() -> crate::committee::types::EvaluationTerms {
    crate::committee::types::EvaluationTerms {
        method: crate::evaluation::Method::LowestEvaluatedPrice,
        sme_rate_bp: Some(1000),
        price_weight_bp: 0,
        items: Vec::new(),
        ..demo_terms(false)
    }
}

fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("demo seed: {} ({e:?})", e.code())
}

/// Upload chunk size for the demo bids: small, so even a demo bid takes several PUTs.
const OPENING_CHUNK: usize = 2 * 1024;

/// What one run of `OpeningBids::send` did, by supplier user name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OpeningBidsReport {
    /// Sealed, uploaded and receipted now.
    pub sent: Vec<String>,
    /// Had a submitted bid already (an earlier start sent it): left alone.
    pub already_in: Vec<String>,
    /// Not sent: the reason is logged (a key other than the demo key file, an error).
    pub failed: Vec<String>,
    /// Bids had closed (or the tender is gone): nothing was attempted.
    pub closed: bool,
}

/// The demo opening's bids, sent by the running server to itself over HTTP, each as its
/// supplier would: a token for the supplier, `POST /api/tenders/{id}/bids`, the package
/// sealed with KB1 to the supplier's demo key and the announced tender key, chunked
/// `PUT`s, `complete`, and the signed receipt checked against the platform CA.
pub struct OpeningBids {
    state: AppState,
    addr: std::net::SocketAddr,
    tls_cert: Option<std::path::PathBuf>,
    stop: tokio::sync::watch::Receiver<bool>,
}

/// The background task sending the demo bids; dropping it stops the task.
pub struct OpeningBidsTask(tokio::task::JoinHandle<()>);

impl Drop for OpeningBidsTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An error answer of the server, with its stable code and body.
#[derive(Debug, thiserror::Error)]
#[error("HTTP {status} {code}: {message}")]
struct Refused {
    status: u16,
    code: String,
    message: String,
    body: serde_json::Value,
}

struct Supplier {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Supplier {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
        bytes: Option<Vec<u8>>,
    ) -> anyhow::Result<serde_json::Value> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(b) = bytes {
            req = req
                .header("content-type", "application/octet-stream")
                .body(b);
        }
        let r = req.send().await?;
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        if status.is_success() {
            return Ok(body);
        }
        Err(Refused {
            status: status.as_u16(),
            code: body["code"].as_str().unwrap_or("HTTP").into(),
            message: body["message"].as_str().unwrap_or("").into(),
            body,
        }
        .into())
    }

    async fn get(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        self.send(reqwest::Method::GET, path, None, None).await
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        self.send(reqwest::Method::POST, path, Some(body), None)
            .await
    }
}

impl OpeningBids {
    /// For the server listening at `addr` (HTTPS with `tls_cert` when set); `stop` turns
    /// true when the server shuts down.
    pub fn new(
        state: AppState,
        addr: std::net::SocketAddr,
        tls_cert: Option<std::path::PathBuf>,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> OpeningBids {
        OpeningBids {
            state,
            addr,
            tls_cert,
            stop,
        }
    }

    /// Sends the missing bids in the background, logging progress and errors.
    pub fn spawn(self) -> OpeningBidsTask {
        OpeningBidsTask(tokio::spawn(async move {
            match self.send().await {
                Ok(r) if r.closed => {}
                Ok(r) => tracing::info!(
                    sent = r.sent.len(),
                    already_in = r.already_in.len(),
                    failed = ?r.failed,
                    "demo opening: bids in"
                ),
                Err(e) => tracing::error!(
                    error = format!("{e:#}"),
                    "demo opening: the demo bids were not sent"
                ),
            }
        }))
    }

    /// The client and base URL for talking to this server from inside it.
    fn client(&self) -> anyhow::Result<(reqwest::Client, String)> {
        crate::tls::install_crypto_provider();
        let ip = match self.addr.ip() {
            std::net::IpAddr::V4(a) if a.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(a) if a.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
            ip => ip,
        };
        let to = std::net::SocketAddr::new(ip, self.addr.port());
        let builder = reqwest::Client::builder()
            .user_agent(concat!("kaibiao-demo/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(crate::serve::CLIENT_IDLE)
            .timeout(std::time::Duration::from_secs(60));
        Ok(match &self.tls_cert {
            None => (builder.build()?, format!("http://{to}")),
            // The certificate (self-signed, or the chain given) is trusted for `localhost`
            // pointed at the listener: a certificate without that name fails, and says so.
            Some(cert) => {
                let pem = std::fs::read(cert)?;
                let mut builder = builder.resolve("localhost", to);
                for c in reqwest::Certificate::from_pem_bundle(&pem)? {
                    builder = builder.add_root_certificate(c);
                }
                (
                    builder.build()?,
                    format!("https://localhost:{}", self.addr.port()),
                )
            }
        })
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Sends every demo bid that is not in yet, on every live demo tender; a bid already
    /// submitted is not sent again, and after the deadline nothing is attempted (the
    /// scheduler seals the tender). The report is the opening tender's; the others' are
    /// logged.
    pub async fn send(&self) -> anyhow::Result<OpeningBidsReport> {
        let mut first = None;
        for (title, bids) in LIVE_DEMOS {
            let report = self.send_tender(title, bids).await?;
            if first.is_none() {
                first = Some(report);
            } else {
                tracing::info!(
                    title,
                    sent = report.sent.len(),
                    already_in = report.already_in.len(),
                    failed = ?report.failed,
                    "demo tender: bids in"
                );
            }
        }
        Ok(first.unwrap_or_default())
    }

    async fn send_tender(
        &self,
        title: &str,
        bids: &[DemoBid],
    ) -> anyhow::Result<OpeningBidsReport> {
        let mut report = OpeningBidsReport::default();
        let db = &self.state.db.pool;
        let agency = crate::auth::repo::user_by_username(db, OPENING_HOST)
            .await?
            .and_then(|u| u.org_id);
        let found = match agency {
            None => None,
            Some(org) => crate::tender::repo::list(
                db,
                &crate::tender::repo::ListFilter {
                    agency_org_id: &org,
                    title_like: title,
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .filter(|t| t.title == title)
            .min_by_key(|t| t.published_at),
        };
        let Some(tender) = found else {
            tracing::info!("demo opening: no opening tender in this database");
            report.closed = true;
            return Ok(report);
        };
        let now = self.state.clock.now_ms();
        if tender.status != crate::tender::types::TenderStatus::Published
            || now >= tender.bid_deadline
        {
            tracing::info!(
                tender = %tender.id,
                status = tender.status.as_str(),
                "demo opening: bids are closed; none sent"
            );
            report.closed = true;
            return Ok(report);
        }
        let (http, base) = self.client()?;
        tracing::info!(tender = %tender.id, %base, "demo opening: sending the demo bids");
        for bid in bids {
            if self.stopped() {
                break;
            }
            if self.state.clock.now_ms() >= tender.bid_deadline {
                tracing::warn!("demo opening: the deadline passed before every bid was sent");
                report.closed = true;
                break;
            }
            match self.send_one(&http, &base, &tender.id, bid).await {
                Ok(true) => report.sent.push(bid.user.into()),
                Ok(false) => report.already_in.push(bid.user.into()),
                Err(e) => {
                    tracing::error!(
                        user = bid.user,
                        error = format!("{e:#}"),
                        "demo opening: bid not sent"
                    );
                    report.failed.push(bid.user.into());
                }
            }
        }
        Ok(report)
    }

    /// Sends `bid` unless its supplier has a submitted bid. `Ok(true)` when sent now.
    async fn send_one(
        &self,
        http: &reqwest::Client,
        base: &str,
        tender_id: &str,
        bid: &DemoBid,
    ) -> anyhow::Result<bool> {
        use anyhow::Context;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let db = &self.state.db.pool;
        let user = crate::auth::repo::user_by_username(db, bid.user)
            .await?
            .with_context(|| format!("no user {}", bid.user))?;
        // A short-lived token for this supplier, issued by the server itself: the demo
        // password may be unknown after a restart, and the key file's public half is all
        // that sealing needs.
        let token = crate::auth::service::new_token();
        let now = self.state.clock.now_ms();
        crate::auth::repo::insert_session(
            db,
            &crate::auth::service::token_hash(&token),
            &user.id,
            "bearer",
            Some("演示投标 / demo bid"),
            &crate::auth::service::new_token(),
            now,
            now + 30 * 60_000,
        )
        .await?;
        let s = Supplier {
            http: http.clone(),
            base: base.to_string(),
            token: token.clone(),
        };
        let result = self.upload(&s, tender_id, bid, b64).await;
        crate::auth::repo::revoke_session(db, &crate::auth::service::token_hash(&token)).await?;
        result
    }

    async fn upload(
        &self,
        s: &Supplier,
        tender_id: &str,
        bid: &DemoBid,
        b64: base64::engine::GeneralPurpose,
    ) -> anyhow::Result<bool> {
        use anyhow::Context;
        use base64::Engine;
        let mine = s
            .get(&format!("/api/tenders/{tender_id}/bids/mine"))
            .await?;
        let mine = mine.as_array().cloned().unwrap_or_default();
        if mine.iter().any(|b| b["status"] == "submitted") {
            tracing::debug!(user = bid.user, "demo opening: bid already in");
            return Ok(false);
        }
        // An upload left by an interrupted start cannot resume: its container was sealed
        // in memory, with keys drawn afresh. Withdraw it and seal anew.
        for b in mine.iter().filter(|b| b["status"] == "uploading") {
            let id = b["bid_id"].as_str().unwrap_or_default();
            s.post(&format!("/api/bids/{id}/withdraw"), serde_json::json!({}))
                .await?;
            tracing::info!(
                user = bid.user,
                bid = id,
                "demo opening: unfinished upload withdrawn"
            );
        }
        // Seal only to keys we can vouch for: the demo key file's, and the announced one.
        let key_file = self
            .state
            .config
            .shared()
            .join("demo-keys")
            .join(format!("{}.kbkey", bid.user));
        let (_, _, my_key) = crate::pki::keyfile::public_part(
            &std::fs::read_to_string(&key_file)
                .with_context(|| format!("reading {}", key_file.display()))?,
        )?;
        let announcement = s.get(&format!("/api/announcements/{tender_id}")).await?;
        let org = supplier_org(bid.user)?;
        let document = proposal(
            announcement["title"]
                .as_str()
                .or(announcement["announcement"]["title"].as_str())
                .unwrap_or(OPENING_TITLE),
            org.name,
            bid,
        );
        // Bidding starts from the documents, obtained online (获取采购文件).
        s.post(
            &format!("/api/tenders/{tender_id}/documents/obtain"),
            serde_json::json!({}),
        )
        .await?;
        let start = s
            .post(
                &format!("/api/tenders/{tender_id}/bids"),
                serde_json::json!({
                    "lot_no": 1,
                    "device_fingerprint": crate::crypto::sha256_hex(
                        format!("kaibiao-demo|{}|{}", bid.user, b64.encode(&my_key)).as_bytes()
                    ),
                    "documents_meta": [{
                        "name": PROPOSAL_NAME,
                        "size": document.len(),
                        "tool": concat!("kaibiao-demo/", env!("CARGO_PKG_VERSION")),
                    }],
                }),
            )
            .await?;
        anyhow::ensure!(
            start["bidder_key"].as_str() == Some(b64.encode(&my_key).as_str()),
            "{} has an encryption key other than {}'s; not bidding on its behalf",
            bid.user,
            key_file.display()
        );
        anyhow::ensure!(
            start["tender_key"] == announcement["opening_key"]["public_key"],
            "the tender key differs from the announced one"
        );
        let sheet = opening_sheet(bid, org);
        let start2 = start.clone();
        let container =
            tokio::task::spawn_blocking(move || seal_in_memory(&start2, sheet, &document))
                .await??;
        let bid_id = start["bid_id"].as_str().context("bid_id")?;
        let mut offset = 0usize;
        let mut resumes = 0;
        while offset < container.len() {
            let end = (offset + OPENING_CHUNK).min(container.len());
            match s
                .send(
                    reqwest::Method::PUT,
                    &format!("/api/bids/{bid_id}/content?offset={offset}"),
                    None,
                    Some(container[offset..end].to_vec()),
                )
                .await
            {
                Ok(v) => offset = v["received"].as_u64().map_or(end, |r| r as usize),
                Err(e) => match e.downcast_ref::<Refused>() {
                    Some(r) if r.code == "UPLOAD_OFFSET" && resumes < 3 => {
                        resumes += 1;
                        offset = r.body["received"].as_u64().unwrap_or(0) as usize;
                    }
                    _ => return Err(e),
                },
            }
        }
        let sha256 = crate::crypto::sha256_hex(&container);
        let done = s
            .post(
                &format!("/api/bids/{bid_id}/complete"),
                serde_json::json!({"size": container.len(), "sha256": sha256}),
            )
            .await?;
        let receipt: crate::bid::types::SignedReceipt =
            serde_json::from_value(done["receipt"].clone()).context("no receipt")?;
        let certs = s.get("/api/pki/certificates").await?;
        let ca_der = {
            use rustls::pki_types::pem::PemObject;
            rustls::pki_types::CertificateDer::from_pem_slice(
                certs["ca_pem"].as_str().unwrap_or_default().as_bytes(),
            )
            .map_err(|e| anyhow::anyhow!("CA certificate: {e:?}"))?
            .to_vec()
        };
        anyhow::ensure!(
            crate::bid::service::verify_receipt(&receipt, &ca_der, self.state.clock.now_ms()),
            "the receipt does not verify against the platform CA"
        );
        anyhow::ensure!(
            receipt.receipt.ciphertext_sha256 == sha256
                && receipt.receipt.size == container.len() as u64,
            "the receipt names other bytes than those sent"
        );
        tracing::info!(
            user = bid.user,
            bid = bid_id,
            size = container.len(),
            received_at = %receipt.receipt.received_at_cst,
            "demo opening: bid sealed, uploaded and receipted"
        );
        Ok(true)
    }
}

const PROPOSAL_NAME: &str = "技术响应文件.txt";

/// The supplier's technical proposal: a short text with its offer, a delivery plan and a
/// random reference number (so each sealed bid holds something found nowhere else).
fn proposal(title: &str, org: &str, bid: &DemoBid) -> Vec<u8> {
    use std::fmt::Write;
    let mut reference = [0u8; 8];
    rand::thread_rng().fill(&mut reference);
    let mut t = String::new();
    let _ = writeln!(t, "{title}\n技术响应文件\n\n投标人:{org}");
    let _ = writeln!(
        t,
        "方案编号:KBDEMO-{}\n\n一、供货内容",
        hex::encode(reference)
    );
    for (i, item) in bid.offer.iter().enumerate() {
        let _ = writeln!(t, "  {}. {item}", i + 1);
    }
    let _ = writeln!(
        t,
        "\n二、交货与安装\n  合同签订后 {} 日内完成供货、安装、调试及验收。\n\n三、质保与售后\n  \
         整体质保 {} 个月;接报 2 小时响应、24 小时到场。\n\n四、主要参数表",
        bid.delivery_days, bid.warranty_months
    );
    // The parameter table, row by row in the supplier's own words: each supplier draws
    // its materials, figures and certificates from its own seeded stream, so that honest
    // demo bids are not alike (the collusion warnings compare them).
    const MATERIALS: &[&str] = &[
        "冷轧钢板",
        "铝合金型材",
        "ABS 工程塑料",
        "304 不锈钢",
        "实木多层板",
        "镀锌钢管",
        "钢化玻璃",
        "高密度聚乙烯",
    ];
    const FIGURES: &[&str] = &[
        "厚度",
        "额定功率",
        "承重",
        "噪声",
        "待机功耗",
        "工作温度",
        "防护等级",
        "寿命",
    ];
    const CERTS: &[&str] = &[
        "3C 认证",
        "节能产品认证",
        "环境标志产品认证",
        "ISO 9001",
        "CQC 认证",
        "检测报告",
    ];
    let mut rng = {
        use rand::SeedableRng;
        let seed = crate::crypto::sha256_hex(format!("{}|{}", bid.user, title).as_bytes());
        rand::rngs::StdRng::seed_from_u64(u64::from_str_radix(&seed[..16], 16).unwrap_or(7))
    };
    for n in 1..=60 {
        let Some(item) = bid.offer.get((n - 1) % bid.offer.len().max(1)) else {
            break;
        };
        let pick =
            |rng: &mut rand::rngs::StdRng, xs: &[&'static str]| xs[rng.gen_range(0..xs.len())];
        let _ = writeln!(
            t,
            "  {n:>3}  {item}:{},{} {}{},{}编号 {:05}",
            pick(&mut rng, MATERIALS),
            pick(&mut rng, FIGURES),
            rng.gen_range(10..990),
            ["mm", "W", "kg", "dB", "h"][rng.gen_range(0..5)],
            pick(&mut rng, CERTS),
            rng.gen_range(0..100_000)
        );
    }
    t.into_bytes()
}

/// Seals the package for the server's answer to starting a bid, in memory (a demo bid is
/// small), as `cli::bid::seal_to_file` does to a file.
fn seal_in_memory(
    start: &serde_json::Value,
    sheet: crate::bid::package::OpeningSheet,
    document: &[u8],
) -> anyhow::Result<Vec<u8>> {
    use crate::bid::package::{DocumentEntry, Manifest};
    use anyhow::Context;
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let field = |k: &str| start[k].as_str().with_context(|| format!("{k} missing"));
    let bidder = b64.decode(field("bidder_key")?)?;
    let tender = b64.decode(field("tender_key")?)?;
    let params = crate::crypto::kb1::SealParams {
        tender_id: field("tender_id")?,
        lot_no: start["lot_no"].as_u64().context("lot_no")? as u32,
        bidder_org_id: field("bidder_org_id")?,
        bid_id: field("bid_id")?,
        bidder_public_sec1: &bidder,
        tender_public_sec1: &tender,
        segment_size: start["segment_size"].as_u64().unwrap_or(1 << 20) as u32,
    };
    let manifest = Manifest {
        opening_sheet: sheet,
        documents: vec![DocumentEntry {
            name: PROPOSAL_NAME.into(),
            size: document.len() as u64,
            media_type: "text/plain; charset=utf-8".into(),
        }],
    };
    let mut sealer = crate::crypto::kb1::SealWriter::new(&params, Vec::new())?;
    crate::bid::package::write_package(&manifest, vec![Box::new(document)], &mut sealer)?;
    Ok(sealer.finish()?)
}
