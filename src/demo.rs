//! The demo city: `kaibiao serve --demo` on an empty database seeds regions' purchasing
//! units, two agencies, finance and oversight, suppliers of every size, an expert pool,
//! a user for each role, and two published tenders — through the same services as the API.

use rand::Rng;

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

/// Demo user names with their role and organisation, and the one password they share.
#[derive(Debug, Clone)]
pub struct DemoLogins {
    pub password: String,
    pub key_dir: std::path::PathBuf,
    pub users: Vec<(String, String, String)>,
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
        Ok(())
    }
}

/// A valid 统一社会信用代码 for a demo organisation.
fn credit_code(prefix: &str, region: &str, n: usize) -> String {
    let base = format!("{prefix}{region}MA4{n:06}");
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

    // The expert pool: 36 experts across specialties and regions; the first seven can log in.
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
            has_account: i < 7,
        };
        let user_id = if i < 7 {
            let u = UserListItem {
                id: new_id(),
                username: format!("expert{}", i + 1),
                display_name: format!("{name}(评审专家)"),
                role: Role::Expert.as_str().into(),
                org_id: None,
            };
            org_repo::insert_user(&mut tx, &u, &hash, now).await?;
            logins.push((
                u.username.clone(),
                Role::Expert.name_zh().into(),
                e.employer.clone(),
            ));
            Some(u.id)
        } else {
            None
        };
        org_repo::insert_expert(&mut tx, &e, user_id.as_deref(), now).await?;
    }
    tx.commit().await?;

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
    let key_dir = state.config.data_dir.join("demo-keys");
    std::fs::create_dir_all(&key_dir)?;
    for name in ["agency", "purchaser", "purchaser2", "finance"] {
        let user = actor(name);
        let keys = crate::pki::keyfile::DeviceKeys::generate();
        for purpose in [KeyPurpose::Signing, KeyPurpose::Encryption] {
            let (public_key, proof) = keys.registration(&user.id, purpose);
            crate::pki::service::register(
                state,
                &user,
                RegisterKeyRequest {
                    purpose,
                    public_key,
                    proof,
                },
            )
            .await
            .map_err(app_err)?;
        }
        crate::tls::write_private(
            &key_dir.join(format!("{name}.kbkey")),
            keys.to_file(&user.id, &password).as_bytes(),
        )?;
    }
    let agency = actor("agency");
    let custodians = |purchaser: &str| {
        vec![
            user_ids["agency"].0.clone(),
            user_ids[purchaser].0.clone(),
            user_ids["finance"].0.clone(),
        ]
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
            bid_deadline: at_930(21),
            decrypt_window_mins: 30,
            custodian_ids: custodians("purchaser"),
            custodian_threshold: 2,
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
            bid_deadline: at_930(12),
            decrypt_window_mins: 30,
            custodian_ids: custodians("purchaser2"),
            custodian_threshold: 2,
        },
    ];
    for t in tenders {
        let view = tender_service::create(state, &agency, t)
            .await
            .map_err(app_err)?;
        tender_service::publish(state, &agency, &view.id)
            .await
            .map_err(app_err)?;
    }
    tracing::info!(users = logins.len(), "seeded the demo city");
    Ok(Some(DemoLogins {
        password,
        key_dir,
        users: logins,
    }))
}

fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("demo seed: {} ({e:?})", e.code())
}
