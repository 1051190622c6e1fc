//! The tender documents (采购文件) from a standard template per category: the law's
//! clauses — the SME reservation or price deduction, prison enterprises and welfare units,
//! domestic and imported products, the time limits, the contract's payment term — are
//! written by the template from the tender's terms and the rule tables, so the agency fills
//! in the requirements (the description and lots), not the law. Pure: the same tender
//! gives the same document, whose SHA-256 the publication event records (`render_of`
//! reads the tender; the rest is pure).

use serde::Serialize;

use crate::evaluation::terms::EvaluationTerms;
use crate::evaluation::{Category, Method};
use crate::money::Money;
use crate::plan::ProcurementMethod;
use crate::tender::types::{Preference, TenderView};

/// Budgets up to these are reserved for SMEs (R-POL-1: SME46, kept by SME19; M — a
/// province may lower them, never raise).
pub const SME_RESERVED_GOODS_SERVICES_FEN: i64 = 200_000_000;
pub const SME_RESERVED_WORKS_FEN: i64 = 400_000_000;

/// The template's version: a change of wording is a new version, so a document's hash
/// is reproducible from the tender and the version.
pub const VERSION: &str = "2026.1";

/// One clause: its text in both languages and the rule it carries, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clause {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub heading_zh: &'static str,
    pub heading_en: &'static str,
    pub clauses: Vec<Clause>,
}

/// The documents as rendered; `warnings` are for the agency, not part of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenderDocument {
    pub template: &'static str,
    pub version: &'static str,
    pub title: String,
    pub code: String,
    pub sections: Vec<Section>,
    pub warnings: Vec<Clause>,
}

impl TenderDocument {
    /// SHA-256 of the document's canonical JSON, without the agency's warnings.
    pub fn sha256(&self) -> String {
        let doc = TenderDocument {
            warnings: Vec::new(),
            ..self.clone()
        };
        let json = serde_json::to_vec(&doc).unwrap_or_default();
        crate::crypto::sha256_hex(&json)
    }
}

/// The documents of tender `id` as the template renders them now (`None`: no such tender).
pub async fn render_of(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> sqlx::Result<Option<TenderDocument>> {
    let Some(tender) = super::repo::view(conn, id).await? else {
        return Ok(None);
    };
    // Published only with finance's approval of imports (R-METH-1).
    let imported_approved = match &tender.plan_id {
        Some(plan) => crate::plan::repo::plan(&mut *conn, plan)
            .await?
            .is_some_and(|p| p.imported),
        None => false,
    };
    Ok(Some(render(&Facts {
        tender: &tender,
        imported_approved,
    })))
}

fn clause(rule: Option<&'static str>, zh: impl Into<String>, en: impl Into<String>) -> Clause {
    Clause {
        rule,
        zh: zh.into(),
        en: en.into(),
    }
}

fn pct(bp: u32) -> String {
    crate::evaluation::rounding::fmt_rate(bp)
}

/// What the template needs beyond the tender: whether finance approved imported products.
pub struct Facts<'a> {
    pub tender: &'a TenderView,
    pub imported_approved: bool,
}

pub fn render(f: &Facts) -> TenderDocument {
    let t = f.tender;
    let category =
        serde_json::from_value::<Category>(serde_json::Value::String(t.category.clone()))
            .unwrap_or(Category::Goods);
    let method = ProcurementMethod::parse(&t.method).unwrap_or(ProcurementMethod::OpenTendering);
    let terms: Option<EvaluationTerms> = t
        .evaluation
        .as_ref()
        .and_then(|e| serde_json::from_value(e.clone()).ok());
    let mut warnings = Vec::new();
    let sections = vec![
        notice(t, method),
        instructions(t, method),
        policy(
            t,
            category,
            terms.as_ref(),
            &t.preferences,
            f.imported_approved,
            &mut warnings,
        ),
        requirements(t, category),
        evaluation(terms.as_ref(), &mut warnings),
        contract_terms(category),
    ];
    TenderDocument {
        template: match category {
            Category::Goods => "goods",
            Category::Services => "services",
            Category::Works => "works",
        },
        version: VERSION,
        title: t.title.clone(),
        code: t.code.clone(),
        sections,
        warnings,
    }
}

fn method_zh(m: ProcurementMethod) -> (&'static str, &'static str) {
    use ProcurementMethod as M;
    match m {
        M::OpenTendering => ("公开招标", "open tendering"),
        M::InvitedTendering => ("邀请招标", "invited tendering"),
        M::CompetitiveNegotiation => ("竞争性谈判", "competitive negotiation"),
        M::CompetitiveConsultation => ("竞争性磋商", "competitive consultation"),
        M::Inquiry => ("询价", "enquiry"),
        M::SingleSource => ("单一来源", "single source"),
        M::FrameworkAgreement => ("框架协议", "framework agreement"),
    }
}

fn notice(t: &TenderView, method: ProcurementMethod) -> Section {
    let (mzh, men) = method_zh(method);
    let when = crate::clock::format_cst;
    let mut clauses = vec![
        clause(
            None,
            format!("项目名称:{};项目编号:{}", t.title, t.code),
            format!("Project: {}; number {}", t.title, t.code),
        ),
        clause(
            None,
            format!(
                "采购人:{};采购代理机构:{};采购方式:{mzh};预算金额:{} 元",
                t.purchaser_name, t.agency_name, t.budget_total_fen
            ),
            format!(
                "Purchaser: {}; agency: {}; method: {men}; budget: {} yuan",
                t.purchaser_name, t.agency_name, t.budget_total_fen
            ),
        ),
    ];
    for l in &t.lots {
        clauses.push(clause(
            None,
            format!("第 {} 包:{},预算 {} 元", l.lot_no, l.name, l.budget_fen),
            format!("Lot {}: {}, budget {} yuan", l.lot_no, l.name, l.budget_fen),
        ));
    }
    clauses.push(clause(
        Some("R-TIME-2"),
        format!(
            "提问截止时间:{};投标(响应)截止时间:{}(北京时间,以平台服务器时间为准)",
            when(t.clarify_deadline),
            when(t.bid_deadline)
        ),
        format!(
            "Questions until {}; bids (responses) until {} (China time, by the platform's clock)",
            when(t.clarify_deadline),
            when(t.bid_deadline)
        ),
    ));
    Section {
        heading_zh: "第一章 采购公告",
        heading_en: "1. Notice",
        clauses,
    }
}

fn instructions(t: &TenderView, method: ProcurementMethod) -> Section {
    let mut clauses = vec![
        clause(
            Some("R-DOC-3"),
            "供应商在本平台在线获取采购文件,无须到场、无须纸质文件;获取供应商的名称和数量在开标前保密。",
            "Suppliers obtain the documents online on this platform — no visit, no paper; who obtained them, and how many, stays secret until the opening.",
        ),
        clause(
            Some("R-CHAL-1"),
            "对采购文件有疑问的,在提问截止时间前通过平台提出;代理机构在 3 个工作日内答复,答复发送给所有获取采购文件的供应商,不透露提问人。",
            "Questions on the documents are asked on the platform before the question deadline; the agency answers within 3 working days, to every supplier that obtained the documents, never naming the asker.",
        ),
        clause(
            Some("R-DOC-2"),
            "澄清或修改可能影响投标文件编制的,在投标截止时间前的法定期限内发出;不足的,投标截止时间相应顺延。",
            "A clarification or amendment that may affect the preparation of bids comes the statutory period before the deadline, or the deadline moves.",
        ),
        clause(
            Some("R-TIME-2"),
            "投标文件在供应商自己的设备上加密(KB1)后上传;开标前任何人(包括平台运营方)均无法读取。截止时间前未完成传输的,平台拒收。",
            "Bids are sealed on the supplier's own device (KB1) before upload; before the opening no one, the platform's operator included, can read them. A transmission not finished by the deadline is refused.",
        ),
        clause(
            Some("R-OPEN-1"),
            "本项目在线开标(不见面开标),供应商远程参加、在线确认开标记录或当场提出异议。",
            "The opening is held online: suppliers attend remotely and confirm the record or object on the spot.",
        ),
    ];
    clauses.push(match t.reading_order {
        crate::tender::types::ReadingOrder::Receipt => clause(
            None,
            "唱标顺序:按投标文件递交的先后顺序逐一唱标。",
            "Reading-out order: bids are read out one by one in the order they were received.",
        ),
        crate::tender::types::ReadingOrder::Draw => clause(
            None,
            "唱标顺序:开标时随机抽取,以投标截止时平台事件链“投标封存”记录的摘要为种子,各包内逐一唱标;任何人可凭事件链复核。",
            "Reading-out order: drawn at the start, seeded by the hash of the ledger's seal of the bids at the deadline, bid by bid within each lot; anyone can replay it from the ledger.",
        ),
    });
    if let Some(deposit) = t.deposit_fen {
        clauses.push(clause(
            Some("R-DEP-1"),
            format!(
                "投标保证金 {deposit} 元(不超过预算的 2%),在投标截止前以转账或电子保函提交并在平台登记;未登记的不能投标。保证金自中标通知书发出或合同签订之日起 5 个工作日内退还。"
            ),
            format!(
                "A bid deposit of {deposit} yuan (at most 2% of the budget), paid by transfer or an electronic guarantee and recorded on the platform before the deadline; without it no bid. Refunded within 5 working days of the award or the contract."
            ),
        ));
    }
    if matches!(
        method,
        ProcurementMethod::CompetitiveNegotiation | ProcurementMethod::CompetitiveConsultation
    ) {
        clauses.push(clause(
            Some("R-METH-2"),
            "谈判(磋商)小组与供应商分别进行谈判(磋商),并要求所有继续参加的供应商在规定时间内提交最后报价。",
            "The panel negotiates with each supplier separately and asks every remaining supplier for a final offer by a set time.",
        ));
    }
    Section {
        heading_zh: "第二章 供应商须知",
        heading_en: "2. Instructions to suppliers",
        clauses,
    }
}

fn policy(
    t: &TenderView,
    category: Category,
    terms: Option<&EvaluationTerms>,
    preferences: &[Preference],
    imported_approved: bool,
    warnings: &mut Vec<Clause>,
) -> Section {
    let mut clauses = Vec::new();
    let limit = match category {
        Category::Works => SME_RESERVED_WORKS_FEN,
        Category::Goods | Category::Services => SME_RESERVED_GOODS_SERVICES_FEN,
    };
    let reserved = terms.is_some_and(|e| e.reserved_for_sme);
    if reserved {
        let goods = if category == Category::Goods {
            ";货物项目中,所提供的货物均须由中小企业制造(R-POL-6)"
        } else {
            ""
        };
        let goods_en = if category == Category::Goods {
            "; for goods, every item supplied must be made by an SME (R-POL-6)"
        } else {
            ""
        };
        clauses.push(clause(
            Some("R-POL-1"),
            format!("本项目专门面向中小企业采购。供应商应出具《中小企业声明函》{goods}。"),
            format!("This project is reserved for SMEs. Suppliers give the SME declaration (中小企业声明函){goods_en}."),
        ));
    } else {
        if t.budget_total_fen.fen() <= limit {
            warnings.push(clause(
                Some("R-POL-1"),
                format!(
                    "预算不超过 {} 元的项目原则上专门面向中小企业采购;不预留的,须在采购文件中说明理由。",
                    Money(limit)
                ),
                format!(
                    "A project budgeted at most {} yuan is reserved for SMEs unless the documents state why not.",
                    Money(limit)
                ),
            ));
        }
        match terms.and_then(|e| e.sme_rate_bp) {
            Some(rate) => clauses.push(clause(
                Some("R-POL-2"),
                format!("对小型和微型企业的报价给予 {} 的扣除,用扣除后的价格参加评审;评审价仅用于排序,合同价格为投标报价。", pct(rate)),
                format!("Small and micro enterprises' prices are reduced by {} for evaluation; the evaluated price ranks only, the contract price is the price offered.", pct(rate)),
            )),
            None => warnings.push(clause(
                Some("R-POL-2"),
                "未预留给中小企业的项目,须在评标办法中载明小微企业价格扣除比例。",
                "A project not reserved for SMEs states the small/micro price deduction in its evaluation terms.",
            )),
        }
        if let Some(rate) = terms.and_then(|e| e.consortium_rate_bp) {
            clauses.push(clause(
                Some("R-POL-2"),
                format!("联合体或分包协议约定小微企业合同份额占 30% 以上的,给予联合体或大中型企业报价 {} 的扣除。", pct(rate)),
                format!("A consortium or subcontract giving small/micro firms at least 30% of the contract gets a {} price deduction.", pct(rate)),
            ));
        }
    }
    clauses.push(clause(
        Some("R-POL-3"),
        "监狱企业、残疾人福利性单位视同小型、微型企业,享受上述政策,须提供相应证明或声明;同一供应商不重复享受。",
        "Prison enterprises and welfare units for the disabled count as small/micro enterprises, with their certificate or declaration; the benefit is never applied twice.",
    ));
    if category != Category::Works {
        for p in preferences.iter().filter(|p| p.kind == "domestic") {
            clauses.push(clause(
                Some("R-POL-5"),
                format!(
                    "本国产品与非本国产品竞争时,对本国产品的报价给予 {} 的扣除;多种产品组成的,本国产品成本占比不低于 {} 的整体视为本国产品。以《本国产品声明函》为证明材料,不作为资格条件。与小微企业扣除同时适用时,各自以原报价计算后一并扣减(R-POL-6)。({})",
                    pct(p.rate_bp),
                    pct(p.package_share_bp),
                    p.source
                ),
                format!(
                    "Where domestic and non-domestic products compete, a domestic product's price is reduced by {}; an offer of several products counts as domestic when domestic products are at least {} of its cost. The supplier's declaration is the evidence, not a qualification condition. With the small/micro deduction, each is computed on the original price and both are subtracted (R-POL-6). ({})",
                    pct(p.rate_bp),
                    pct(p.package_share_bp),
                    p.source
                ),
            ));
        }
    }
    if category == Category::Goods {
        clauses.push(if imported_approved {
            clause(
                Some("R-POL-4"),
                "经财政部门核准,本项目允许进口产品参加;进口产品不视为本国产品。",
                "Finance approved imported products for this project; an imported product is never a domestic product.",
            )
        } else {
            clause(
                Some("R-POL-4"),
                "本项目不接受进口产品参加。",
                "Imported products are not accepted.",
            )
        });
        clauses.push(clause(
            Some("R-POL-4"),
            "节能产品、环境标志产品按政府采购品目清单执行:强制采购类别须提供有效认证证书,优先采购类别给予评审优惠。",
            "Energy-saving and environmental products follow the official lists: mandatory categories need a valid certificate, priority categories get the stated preference.",
        ));
    }
    Section {
        heading_zh: "第三章 政府采购政策",
        heading_en: "3. Procurement policies",
        clauses,
    }
}

fn requirements(t: &TenderView, category: Category) -> Section {
    let (zh, en) = match category {
        Category::Goods => (
            "供应商应满足下列货物需求(含交货期、质保期、安装调试及培训):",
            "Suppliers meet the following requirements for the goods (delivery, warranty, installation and training included):",
        ),
        Category::Services => (
            "供应商应满足下列服务需求(含服务期限、服务标准、人员配置):",
            "Suppliers meet the following requirements for the services (term, standards, staffing):",
        ),
        Category::Works => (
            "供应商应满足下列工程需求(含工期、质量标准、资质要求):",
            "Suppliers meet the following requirements for the works (duration, quality, qualifications):",
        ),
    };
    let mut clauses = vec![clause(None, zh, en)];
    let description = t.description.trim();
    if !description.is_empty() {
        clauses.push(clause(None, description, description));
    }
    Section {
        heading_zh: "第四章 采购需求",
        heading_en: "4. Requirements",
        clauses,
    }
}

fn fmt_points(hundredths: u32) -> String {
    crate::evaluation::rounding::fmt_points(hundredths as i64)
}

fn evaluation(terms: Option<&EvaluationTerms>, warnings: &mut Vec<Clause>) -> Section {
    let mut clauses = Vec::new();
    match terms {
        Some(e) => {
            match e.method {
                Method::Comprehensive => clauses.push(clause(
                    Some("R-EVAL-4"),
                    format!(
                        "评标方法:综合评分法,价格分权重 {}。",
                        pct(e.price_weight_bp)
                    ),
                    format!(
                        "Method: comprehensive scoring, price weight {}.",
                        pct(e.price_weight_bp)
                    ),
                )),
                Method::LowestEvaluatedPrice => clauses.push(clause(
                    Some("R-EVAL-6"),
                    "评标方法:最低评标价法。",
                    "Method: lowest evaluated price.",
                )),
            }
            for i in &e.items {
                let kind = if i.objective {
                    "客观分"
                } else {
                    "主观分"
                };
                let kind_en = if i.objective {
                    "objective"
                } else {
                    "subjective"
                };
                clauses.push(clause(
                    None,
                    format!("{}:{}({kind})", i.name, pct(i.weight_bp)),
                    format!("{}: {} ({kind_en})", i.name, pct(i.weight_bp)),
                ));
                // 评分细则: each band with its range and what earns it; the evidence of an
                // objective item.
                for b in &i.bands {
                    let range = format!("{}–{}", fmt_points(b.min), fmt_points(b.max));
                    clauses.push(clause(
                        None,
                        format!("  {} {}:{range} 分,{}", i.name, b.label, b.description),
                        format!("  {} band {}: {range}, {}", i.name, b.label, b.description),
                    ));
                }
                if let Some(e) = &i.evidence {
                    clauses.push(clause(
                        None,
                        format!("  {} 评分依据:{e}", i.name),
                        format!("  {} evidence: {e}", i.name),
                    ));
                }
            }
            // 符合性审查表: every criterion, each decided by the panel's majority.
            if !e.checklist.is_empty() {
                clauses.push(clause(
                    None,
                    "符合性审查:评标委员会逐项审查,每一审查项由多数专家判定;任一审查项不符合的投标无效。",
                    "Compliance review: the panel decides each criterion by majority; a bid failing any criterion is invalid.",
                ));
            }
            for c in &e.checklist {
                clauses.push(clause(
                    None,
                    format!("  符合性审查项 {}:{}", c.name, c.description),
                    format!("  Compliance criterion {}: {}", c.name, c.description),
                ));
            }
        }
        None => warnings.push(clause(
            Some("R-EVAL-4"),
            "尚未填写评标办法和评分项。",
            "The evaluation method and scored items are not yet filled in.",
        )),
    }
    Section {
        heading_zh: "第五章 评标方法",
        heading_en: "5. Evaluation",
        clauses,
    }
}

/// The main contract terms (chapter 6): the contract stage copies them into each contract.
pub fn contract_terms(category: Category) -> Section {
    let (zh, en) = match category {
        Category::Goods => ("货物验收合格", "the goods are accepted"),
        Category::Services => ("服务验收合格", "the services are accepted"),
        Category::Works => ("工程验收合格", "the works are accepted"),
    };
    Section {
        heading_zh: "第六章 合同主要条款",
        heading_en: "6. Main contract terms",
        clauses: vec![
            clause(
                Some("R-CON-1"),
                "采购人与中标(成交)供应商自中标(成交)通知书发出之日起 30 日内签订合同。",
                "The purchaser and the winner sign the contract within 30 days of the award notice.",
            ),
            clause(
                Some("R-PAY-1"),
                format!("{zh}之日起 30 日内,采购人向中小企业支付款项;合同另有约定的,最长不超过 60 日。"),
                format!("The purchaser pays an SME within 30 days after {en}; at most 60 days where the contract says so."),
            ),
            clause(
                Some("R-DEP-1"),
                "履约保证金不超过合同金额的 10%,可以电子保函等非现金形式提交。",
                "A performance bond is at most 10% of the contract, and may be an electronic guarantee.",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tender::types::{LotView, TenderStatus};

    fn tender(category: &str, budget_fen: i64, evaluation: serde_json::Value) -> TenderView {
        TenderView {
            id: "t1".into(),
            code: "HS-2026-0001".into(),
            title: "校园安防设备采购".into(),
            status: TenderStatus::Draft,
            status_name: "草稿",
            region_code: "420200".into(),
            region_name: "黄石市".into(),
            purchaser_org_id: "p".into(),
            purchaser_name: "黄石市第一中学".into(),
            agency_org_id: "a".into(),
            agency_name: "黄石公共资源代理".into(),
            category: category.into(),
            method: "open_tendering".into(),
            description: "监控摄像机 120 台,含安装。".into(),
            lots: vec![LotView {
                lot_no: 1,
                name: "安防设备".into(),
                budget_fen: Money(budget_fen),
            }],
            budget_total_fen: Money(budget_fen),
            clarify_deadline: 1_796_086_800_000,
            bid_deadline: 1_797_814_800_000,
            decrypt_window_mins: 30,
            reading_order: crate::tender::types::ReadingOrder::Receipt,
            custodian_threshold: 2,
            custodians: vec![],
            amendments: vec![],
            plan_id: None,
            deposit_fen: None,
            evaluation: Some(evaluation),
            preferences: Preference::for_tender(
                category,
                chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            ),
            opening_key: None,
            created_at: 0,
            updated_at: 0,
            published_at: None,
        }
    }

    fn terms(reserved: bool, sme_rate_bp: Option<u32>) -> serde_json::Value {
        serde_json::json!({
            "method": "comprehensive", "reserved_for_sme": reserved, "sme_rate_bp": sme_rate_bp,
            "price_weight_bp": 3000,
            "items": [{"name": "技术方案", "weight_bp": 7000}],
        })
    }

    fn rules_of(d: &TenderDocument, heading: &str) -> Vec<(Option<&'static str>, String)> {
        d.sections
            .iter()
            .find(|s| s.heading_zh == heading)
            .unwrap()
            .clauses
            .iter()
            .map(|c| (c.rule, c.zh.clone()))
            .collect()
    }

    fn doc(t: &TenderView) -> TenderDocument {
        render(&Facts {
            tender: t,
            imported_approved: false,
        })
    }

    #[test]
    fn r_pol_1_a_reserved_goods_project_states_the_reservation_and_sme_made_goods() {
        let d = doc(&tender("goods", 150_000_000, terms(true, None)));
        assert_eq!(d.template, "goods");
        let policy = rules_of(&d, "第三章 政府采购政策");
        let reservation = policy.iter().find(|c| c.0 == Some("R-POL-1")).unwrap();
        assert!(reservation.1.contains("专门面向中小企业"));
        assert!(reservation.1.contains("均须由中小企业制造"));
        assert!(!policy.iter().any(|c| c.0 == Some("R-POL-2")));
        assert!(policy.iter().any(|c| c.0 == Some("R-POL-3")));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    }

    #[test]
    fn r_pol_1_not_reserving_a_small_project_warns_the_agency_but_not_the_document() {
        let t = tender("services", 200_000_000, terms(false, Some(1000)));
        let d = doc(&t);
        assert_eq!(d.template, "services");
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(d.warnings[0].rule, Some("R-POL-1"));
        let policy = rules_of(&d, "第三章 政府采购政策");
        let deduction = policy.iter().find(|c| c.0 == Some("R-POL-2")).unwrap();
        assert!(deduction.1.contains("给予 10% 的扣除"), "{}", deduction.1);
        // One fen over the limit: no warning.
        let d = doc(&tender("services", 200_000_001, terms(false, Some(1000))));
        assert!(d.warnings.is_empty());
        // Works: the limit is 4,000,000 yuan.
        let d = doc(&tender("works", 300_000_000, terms(false, Some(300))));
        assert_eq!(d.template, "works");
        assert_eq!(d.warnings.len(), 1);
    }

    #[test]
    fn r_pol_2_a_missing_deduction_is_a_warning() {
        let d = doc(&tender("goods", 900_000_000, terms(false, None)));
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(d.warnings[0].rule, Some("R-POL-2"));
    }

    #[test]
    fn r_pol_5_goods_carry_the_domestic_product_clause_and_r_pol_4_imports() {
        let t = tender("goods", 900_000_000, terms(false, Some(1000)));
        let d = doc(&t);
        let policy = rules_of(&d, "第三章 政府采购政策");
        let domestic = policy.iter().find(|c| c.0 == Some("R-POL-5")).unwrap();
        assert!(domestic.1.contains("给予 20% 的扣除"), "{}", domestic.1);
        assert!(domestic.1.contains("不低于 80%"), "{}", domestic.1);
        assert!(policy
            .iter()
            .any(|c| c.0 == Some("R-POL-4") && c.1.contains("不接受进口产品")));
        let approved = render(&Facts {
            tender: &t,
            imported_approved: true,
        });
        assert!(rules_of(&approved, "第三章 政府采购政策")
            .iter()
            .any(|c| c.0 == Some("R-POL-4") && c.1.contains("允许进口产品")));
        assert_ne!(approved.sha256(), d.sha256());
    }

    #[test]
    fn r_dep_1_a_deposit_asked_is_stated_with_its_refund() {
        let mut t = tender("goods", 900_000_000, terms(false, Some(1000)));
        let none = rules_of(&doc(&t), "第二章 供应商须知");
        assert!(!none.iter().any(|c| c.0 == Some("R-DEP-1")));
        t.deposit_fen = Some(Money(18_000_000));
        let d = doc(&t);
        let rules = rules_of(&d, "第二章 供应商须知");
        let deposit = rules.iter().find(|c| c.0 == Some("R-DEP-1")).unwrap();
        assert!(
            deposit.1.contains("投标保证金 180000.00 元"),
            "{}",
            deposit.1
        );
        assert!(deposit.1.contains("5 个工作日内退还"));
    }

    #[test]
    fn the_hash_is_of_the_document_not_the_agencys_warnings() {
        let t = tender("services", 100_000_000, terms(false, Some(1000)));
        let mut d = doc(&t);
        let h = d.sha256();
        assert_eq!(h, doc(&t).sha256());
        d.warnings.clear();
        assert_eq!(h, d.sha256());
        let mut t2 = t.clone();
        t2.description = "另一项需求".into();
        assert_ne!(h, doc(&t2).sha256());
    }
}
