//! The rules of each procurement method (采购方式), as data: for open and invited
//! tendering, competitive negotiation and consultation, enquiry, single source and
//! framework agreements, the response period (R-METH-2, R-DOC-1, R-DOC-2), the panel
//! (R-EVAL-1, R-METH-2), the minimum of suppliers and what happens below it (R-OPEN-2),
//! the evaluation methods and price weights allowed (R-EVAL-4, R-EVAL-6, R-METH-2) and the
//! offers (rounds, final offers, R-METH-2), each with its source and whether it was
//! verified. The table is `methods.toml`, built in; an operator replaces it with a file of
//! the same shape (`kaibiao serve --method-rules FILE`, docs/methods.md), checked here.
//!
//! Pure: plain values in, answers out. The server keeps the table in force as a run-time
//! part (`state.runtime::<MethodRules>()`); the stages ask it:
//!
//! - how long a tender of a method is published before its deadline:
//!   [`MethodRules::publication_rules`], [`MethodRules::amendment_rule`]
//!   (`tender::rules`);
//! - how large its panel is: [`MethodRules::panel_rule`], recorded with the draw's
//!   requirement (`draw::committee`);
//! - how many suppliers it needs: [`MethodRules::min_suppliers`] (the opening's quorum and
//!   the evaluation's qualified bids);
//! - whether its terms of evaluation fit: [`MethodRules::check_terms`];
//! - how offers are made: [`MethodRules::rounds`], [`MethodRules::final_offer`],
//!   [`MethodRules::no_final_offer`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::calendar::deadlines::DeadlineRule;
use crate::draw::PanelRule;
use crate::evaluation::rounding::fmt_rate;
use crate::evaluation::terms::EvaluationTerms;
use crate::evaluation::{Category, Method};
use crate::plan::ProcurementMethod;

/// The shipped table.
pub const BUILTIN_TOML: &str = include_str!("methods.toml");

/// The rules of one method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodRule {
    /// Set from the table's key.
    #[serde(skip_deserializing, default = "placeholder")]
    pub method: ProcurementMethod,
    pub name_zh: String,
    pub name_en: String,
    pub response_period: ResponsePeriod,
    pub panel: PanelSpec,
    pub suppliers: Suppliers,
    pub evaluation: EvaluationSpec,
    pub offers: Offers,
}

fn placeholder() -> ProcurementMethod {
    ProcurementMethod::OpenTendering
}

/// R-METH-2, R-DOC-1, R-DOC-2: the deadline rules (docs/deadlines.md) bounding the time
/// from publication to the deadline, and the one bounding an amendment that affects the
/// responses. Written `"code name"` (`"R-METH-2 consultation"`); the periods themselves
/// are the deadline engine's (`--deadline-periods-file`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponsePeriod {
    #[serde(with = "deadline_rules")]
    pub rules: Vec<DeadlineRule>,
    #[serde(default, with = "deadline_rule")]
    pub amendment: Option<DeadlineRule>,
    pub rule: String,
    pub source: String,
    pub verified: bool,
    #[serde(default)]
    pub note: String,
}

/// From what a project is large, for its panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LargeFrom {
    /// The province's open-tendering threshold (公开招标数额标准), as the server is
    /// configured (`--open-tendering-threshold-yuan`).
    OpenTenderingThreshold,
    /// A budget in yuan.
    Yuan(i64),
}

/// The panel (评标委员会, 谈判小组, 磋商小组, 询价小组): R-EVAL-1, R-METH-2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PanelSpec {
    pub min_size: u32,
    /// The minimum for a large project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_min_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_from: Option<LargeFrom>,
    /// A complex project, or one of large social impact, is large too.
    #[serde(default)]
    pub large_if_complex: bool,
    pub odd: bool,
    /// Experts at least `[numerator, denominator]` of the panel.
    pub experts_at_least: [u32; 2],
    pub purchaser_rep_allowed: bool,
    pub rule: String,
    pub source: String,
    pub verified: bool,
    #[serde(default)]
    pub note: String,
}

/// What happens when fewer suppliers than the minimum take part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BelowMin {
    /// The lot fails (流标) or the procurement ends (终止).
    Fail,
    /// Two suppliers are enough in the cases the method lists, when the tender states
    /// one (财库〔2014〕214号, 财库〔2015〕124号).
    ContinueWithTwo,
}

/// R-OPEN-2: the minimum of suppliers, for the opening's quorum and the evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppliers {
    pub min: i64,
    pub below_min: BelowMin,
    /// Case codes (the table's `cases`) in which two suffice, with `continue_with_two`.
    #[serde(default)]
    pub cases: Vec<String>,
    pub rule: String,
    pub source: String,
    pub verified: bool,
    #[serde(default)]
    pub note: String,
}

/// The price weight's range in comprehensive scoring for one category, beyond the
/// policy table's minimum (R-EVAL-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceWeight {
    pub category: Category,
    pub min_bp: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bp: Option<u32>,
    pub source: String,
    pub verified: bool,
    #[serde(default)]
    pub note: String,
}

/// The evaluation methods a tender of the method may state, and its price weights.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationSpec {
    pub methods: Vec<Method>,
    #[serde(default)]
    pub price_weight: Vec<PriceWeight>,
    pub rule: String,
    pub source: String,
    pub verified: bool,
    #[serde(default)]
    pub note: String,
}

/// What a supplier that sends no final offer is taken to have done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoFinalOffer {
    /// It withdrew (214号 art 20, 74号 art 32: a supplier may withdraw before its final
    /// offer).
    #[default]
    Withdrawn,
    /// Its last offer stands (a clause some documents have).
    PreviousStands,
}

/// How offers are made (R-METH-2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offers {
    /// Several rounds of offers (negotiation, consultation); an enquiry's offer may not
    /// be changed.
    pub rounds: bool,
    /// Every remaining supplier makes a final offer (最后报价).
    pub final_offer: bool,
    #[serde(default)]
    pub no_final_offer: NoFinalOffer,
    pub rule: String,
    pub source: String,
    pub verified: bool,
    #[serde(default)]
    pub note: String,
}

/// A case in which a procurement goes on with two suppliers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Set from the table's key.
    #[serde(skip_deserializing)]
    pub code: String,
    pub zh: String,
    pub en: String,
    pub source: String,
    pub verified: bool,
    #[serde(default)]
    pub note: String,
}

/// The table in force: every method's rules, in the order of [`ProcurementMethod::ALL`],
/// and the cases they name. Its JSON is what `GET /api/methods` serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MethodRules {
    pub methods: Vec<MethodRule>,
    pub cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    #[serde(default)]
    cases: BTreeMap<String, Case>,
    methods: BTreeMap<String, MethodRule>,
}

/// A table that does not read or does not check: the field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MethodRulesError {
    #[error("{0}")]
    Toml(String),
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> MethodRulesError {
    MethodRulesError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// `"R-METH-2 consultation"` → the deadline rule with that code and name.
fn parse_rule(s: &str) -> Result<DeadlineRule, String> {
    DeadlineRule::ALL
        .iter()
        .copied()
        .find(|r| format!("{} {}", r.code(), r.info().name) == s.trim())
        .ok_or_else(|| {
            format!(
                "unknown deadline rule {s:?}: write its code and name, e.g. \"R-METH-2 consultation\" (docs/deadlines.md)"
            )
        })
}

/// A deadline rule as the API shows it: `{rule: "R-METH-2 consultation", zh, en}`.
#[derive(Serialize)]
struct RuleOut {
    rule: String,
    zh: &'static str,
    en: &'static str,
}

impl RuleOut {
    fn of(r: DeadlineRule) -> RuleOut {
        let (zh, en) = r.label();
        RuleOut {
            rule: format!("{} {}", r.code(), r.info().name),
            zh,
            en,
        }
    }
}

mod deadline_rules {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    use super::{parse_rule, DeadlineRule, RuleOut};

    pub fn serialize<S: Serializer>(rules: &[DeadlineRule], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(rules.iter().map(|r| RuleOut::of(*r)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DeadlineRule>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| parse_rule(s).map_err(D::Error::custom))
            .collect()
    }
}

mod deadline_rule {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{parse_rule, DeadlineRule, RuleOut};

    pub fn serialize<S: Serializer>(rule: &Option<DeadlineRule>, s: S) -> Result<S::Ok, S::Error> {
        rule.map(RuleOut::of).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DeadlineRule>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| parse_rule(&s).map_err(D::Error::custom))
            .transpose()
    }
}

fn eval_name(m: Method) -> (&'static str, &'static str) {
    match m {
        Method::Comprehensive => ("综合评分法", "comprehensive scoring"),
        Method::LowestEvaluatedPrice => ("最低评标价法(最低报价)", "lowest evaluated price"),
    }
}

fn category_name(c: Category) -> (&'static str, &'static str) {
    match c {
        Category::Goods => ("货物", "goods"),
        Category::Services => ("服务", "services"),
        Category::Works => ("工程", "works"),
    }
}

impl MethodRules {
    /// The table built into the binary.
    pub fn builtin() -> &'static MethodRules {
        static TABLE: OnceLock<MethodRules> = OnceLock::new();
        TABLE.get_or_init(|| MethodRules::parse(BUILTIN_TOML).expect("tender/methods.toml"))
    }

    /// Reads and checks a table; an error names the field.
    pub fn parse(text: &str) -> Result<MethodRules, MethodRulesError> {
        let raw: RawTable =
            toml::from_str(text).map_err(|e| MethodRulesError::Toml(e.to_string()))?;
        for key in raw.methods.keys() {
            if ProcurementMethod::parse(key).is_none() {
                let known: Vec<&str> = ProcurementMethod::ALL.iter().map(|m| m.as_str()).collect();
                return Err(invalid(
                    format!("methods.{key}"),
                    format!("unknown method; the methods are {}", known.join(", ")),
                ));
            }
        }
        let cases: Vec<Case> = raw
            .cases
            .into_iter()
            .map(|(code, mut c)| {
                c.code = code;
                c
            })
            .collect();
        for c in &cases {
            let at = |f: &str| format!("cases.{}.{f}", c.code);
            if c.zh.trim().is_empty() || c.en.trim().is_empty() {
                return Err(invalid(at("zh"), "a case is named in Chinese and English"));
            }
            if c.source.trim().is_empty() {
                return Err(invalid(at("source"), "every rule names its source"));
            }
        }
        let mut methods = Vec::new();
        let mut raw_methods = raw.methods;
        for m in ProcurementMethod::ALL {
            let mut rule = raw_methods.remove(m.as_str()).ok_or_else(|| {
                invalid(
                    format!("methods.{}", m.as_str()),
                    "missing: every procurement method has its rules",
                )
            })?;
            rule.method = m;
            check_method(&rule, &cases)?;
            methods.push(rule);
        }
        Ok(MethodRules { methods, cases })
    }

    /// The table with the operator's minimums of suppliers (`--min-bidders`,
    /// `KAIBIAO_MIN_BIDDERS`: method → n) put over its own.
    pub fn with_min_suppliers(
        mut self,
        overrides: &BTreeMap<String, i64>,
    ) -> Result<MethodRules, MethodRulesError> {
        for (method, n) in overrides {
            let m = ProcurementMethod::parse(method).ok_or_else(|| {
                invalid(
                    format!("--min-bidders {method}"),
                    "unknown method (open_tendering, invited_tendering, competitive_negotiation, competitive_consultation, inquiry, single_source, framework_agreement)",
                )
            })?;
            if *n < 1 {
                return Err(invalid(
                    format!("--min-bidders {method}"),
                    "a minimum of suppliers is at least 1",
                ));
            }
            let i = Self::index(m);
            self.methods[i].suppliers.min = *n;
        }
        Ok(self)
    }

    fn index(m: ProcurementMethod) -> usize {
        ProcurementMethod::ALL
            .iter()
            .position(|x| *x == m)
            .unwrap_or_else(|| unreachable!("every method is in ALL"))
    }

    /// The rules of `method`.
    pub fn get(&self, method: ProcurementMethod) -> &MethodRule {
        &self.methods[Self::index(method)]
    }

    /// A case of the table, by code.
    pub fn case(&self, code: &str) -> Option<&Case> {
        self.cases.iter().find(|c| c.code == code)
    }

    /// R-METH-2, R-DOC-1: the rules bounding the time from publication to the deadline.
    pub fn publication_rules(&self, method: ProcurementMethod) -> &[DeadlineRule] {
        &self.get(method).response_period.rules
    }

    /// R-DOC-2: the rule bounding an amendment that may affect the responses.
    pub fn amendment_rule(&self, method: ProcurementMethod) -> Option<DeadlineRule> {
        self.get(method).response_period.amendment
    }

    /// The panel rule for `method`, for the draw (`draw::Requirement::panel`): a large
    /// project is large from the method's budget, or from the open-tendering threshold
    /// `open_tendering_threshold_fen` when the method says so.
    pub fn panel_rule(
        &self,
        method: ProcurementMethod,
        open_tendering_threshold_fen: i64,
    ) -> PanelRule {
        let p = &self.get(method).panel;
        PanelRule {
            rule: p.rule.clone(),
            min_size: p.min_size,
            large_min_size: p.large_min_size.unwrap_or(p.min_size),
            large_from_fen: p.large_from.map(|f| match f {
                LargeFrom::OpenTenderingThreshold => open_tendering_threshold_fen,
                LargeFrom::Yuan(y) => y.saturating_mul(100),
            }),
            large_if_complex: p.large_if_complex,
            odd: p.odd,
            experts_at_least: p.experts_at_least,
            purchaser_reps_allowed: p.purchaser_rep_allowed,
        }
    }

    /// R-OPEN-2: the least number of suppliers a tender of `method` needs — at its opening
    /// (bidders, then bids read out) and at its evaluation (qualified bids) — given the
    /// case its documents state: two when the method continues with two in that case.
    pub fn min_suppliers(&self, method: ProcurementMethod, case: Option<&str>) -> i64 {
        let s = &self.get(method).suppliers;
        match case {
            Some(c)
                if s.below_min == BelowMin::ContinueWithTwo && s.cases.iter().any(|x| x == c) =>
            {
                s.min.min(2)
            }
            _ => s.min,
        }
    }

    /// What happens below the minimum of suppliers.
    pub fn below_min(&self, method: ProcurementMethod) -> BelowMin {
        self.get(method).suppliers.below_min
    }

    /// Whether offers come in several rounds (negotiation, consultation).
    pub fn rounds(&self, method: ProcurementMethod) -> bool {
        self.get(method).offers.rounds
    }

    /// Whether every remaining supplier makes a final offer (最后报价).
    pub fn final_offer(&self, method: ProcurementMethod) -> bool {
        self.get(method).offers.final_offer
    }

    /// What a supplier that sends no final offer is taken to have done.
    pub fn no_final_offer(&self, method: ProcurementMethod) -> NoFinalOffer {
        self.get(method).offers.no_final_offer
    }

    /// R-METH-2, R-EVAL-6: whether a tender of `method` and `category` may be evaluated by
    /// `evaluation` with this price weight (the weight matters for comprehensive scoring
    /// only). The policy table's own minimums are checked apart (`evaluation::check_terms`).
    pub fn check_evaluation(
        &self,
        method: ProcurementMethod,
        category: Category,
        evaluation: Method,
        price_weight_bp: u32,
    ) -> Result<(), MethodRuleError> {
        let rule = self.get(method);
        let e = &rule.evaluation;
        if !e.methods.contains(&evaluation) {
            return Err(MethodRuleError::EvaluationNotAllowed {
                method,
                name: (rule.name_zh.clone(), rule.name_en.clone()),
                stated: evaluation,
                allowed: e.methods.clone(),
                cited: e.source.clone(),
            });
        }
        if evaluation == Method::Comprehensive {
            if let Some(w) = e.price_weight.iter().find(|w| w.category == category) {
                let above = w.max_bp.is_some_and(|max| price_weight_bp > max);
                if price_weight_bp < w.min_bp || above {
                    return Err(MethodRuleError::PriceWeightOutOfRange {
                        method,
                        name: (rule.name_zh.clone(), rule.name_en.clone()),
                        category,
                        weight_bp: price_weight_bp,
                        min_bp: w.min_bp,
                        max_bp: w.max_bp,
                        cited: w.source.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// A tender's stated terms against its method: the evaluation method and price weight
    /// ([`Self::check_evaluation`]) and the case for two suppliers, if it states one.
    pub fn check_terms(
        &self,
        method: ProcurementMethod,
        category: Category,
        terms: &EvaluationTerms,
    ) -> Result<(), MethodRuleError> {
        self.check_evaluation(method, category, terms.method, terms.price_weight_bp)?;
        if let Some(case) = &terms.two_suppliers_case {
            let rule = self.get(method);
            let s = &rule.suppliers;
            let listed = s.below_min == BelowMin::ContinueWithTwo && s.cases.contains(case);
            if !listed {
                return Err(MethodRuleError::CaseNotListed {
                    method,
                    name: (rule.name_zh.clone(), rule.name_en.clone()),
                    case: case.clone(),
                    listed: if s.below_min == BelowMin::ContinueWithTwo {
                        s.cases.clone()
                    } else {
                        Vec::new()
                    },
                });
            }
        }
        Ok(())
    }
}

/// Checks one method's rules; errors name `methods.<method>.<section>.<field>`.
fn check_method(r: &MethodRule, cases: &[Case]) -> Result<(), MethodRulesError> {
    let m = r.method.as_str();
    let at = |f: &str| format!("methods.{m}.{f}");
    if r.name_zh.trim().is_empty() || r.name_en.trim().is_empty() {
        return Err(invalid(
            at("name_zh"),
            "a method is named in Chinese and English",
        ));
    }
    for (section, rule, source) in [
        (
            "response_period",
            &r.response_period.rule,
            &r.response_period.source,
        ),
        ("panel", &r.panel.rule, &r.panel.source),
        ("suppliers", &r.suppliers.rule, &r.suppliers.source),
        ("evaluation", &r.evaluation.rule, &r.evaluation.source),
        ("offers", &r.offers.rule, &r.offers.source),
    ] {
        if !rule.starts_with("R-") {
            return Err(invalid(
                at(&format!("{section}.rule")),
                "the code of the rule in RULES.md, e.g. \"R-METH-2\"",
            ));
        }
        if source.trim().is_empty() {
            return Err(invalid(
                at(&format!("{section}.source")),
                "every rule names its source",
            ));
        }
    }

    let mut seen = BTreeSet::new();
    for rule in &r.response_period.rules {
        if !seen.insert(*rule) {
            return Err(invalid(
                at("response_period.rules"),
                format!("{} {} is named twice", rule.code(), rule.info().name),
            ));
        }
    }

    let p = &r.panel;
    if p.min_size < 1 {
        return Err(invalid(at("panel.min_size"), "at least 1"));
    }
    if p.odd && p.min_size.is_multiple_of(2) {
        return Err(invalid(
            at("panel.min_size"),
            format!("{} is even, and the panel is odd", p.min_size),
        ));
    }
    match p.large_min_size {
        Some(large) if large < p.min_size => {
            return Err(invalid(
                at("panel.large_min_size"),
                format!("{large} is below min_size {}", p.min_size),
            ))
        }
        Some(large) if p.odd && large.is_multiple_of(2) => {
            return Err(invalid(
                at("panel.large_min_size"),
                format!("{large} is even, and the panel is odd"),
            ))
        }
        Some(_) => {}
        None if p.large_from.is_some() || p.large_if_complex => {
            return Err(invalid(
                at("panel.large_min_size"),
                "missing: large_from or large_if_complex needs the large project's minimum",
            ))
        }
        None => {}
    }
    if let Some(LargeFrom::Yuan(y)) = p.large_from {
        if y <= 0 || y.checked_mul(100).is_none() {
            return Err(invalid(at("panel.large_from"), "a positive amount of yuan"));
        }
    }
    let [num, den] = p.experts_at_least;
    if den == 0 || num > den {
        return Err(invalid(
            at("panel.experts_at_least"),
            "[numerator, denominator], a fraction of at most 1, e.g. [2, 3]",
        ));
    }

    let s = &r.suppliers;
    if s.min < 1 {
        return Err(invalid(at("suppliers.min"), "at least 1"));
    }
    match s.below_min {
        BelowMin::Fail if !s.cases.is_empty() => {
            return Err(invalid(
                at("suppliers.cases"),
                "cases go with below_min = \"continue_with_two\"",
            ))
        }
        BelowMin::ContinueWithTwo if s.cases.is_empty() => {
            return Err(invalid(
                at("suppliers.cases"),
                "continue_with_two names the cases in which two suppliers suffice",
            ))
        }
        _ => {}
    }
    for c in &s.cases {
        if !cases.iter().any(|x| &x.code == c) {
            return Err(invalid(
                at("suppliers.cases"),
                format!("unknown case {c:?}: define it under [cases.{c}]"),
            ));
        }
    }

    let e = &r.evaluation;
    if e.methods.is_empty() {
        return Err(invalid(
            at("evaluation.methods"),
            "at least one of \"comprehensive\", \"lowest_evaluated_price\"",
        ));
    }
    if e.methods
        .iter()
        .enumerate()
        .any(|(i, m)| e.methods[..i].contains(m))
    {
        return Err(invalid(at("evaluation.methods"), "a method is named twice"));
    }
    if !e.price_weight.is_empty() && !e.methods.contains(&Method::Comprehensive) {
        return Err(invalid(
            at("evaluation.price_weight"),
            "price weights go with comprehensive scoring",
        ));
    }
    let mut categories = Vec::new();
    for (i, w) in e.price_weight.iter().enumerate() {
        let here = at(&format!("evaluation.price_weight[{i}]"));
        if categories.contains(&w.category) {
            return Err(invalid(here, "a category is named twice"));
        }
        categories.push(w.category);
        let max = w.max_bp.unwrap_or(10_000);
        if w.min_bp > max || max > 10_000 {
            return Err(invalid(
                format!("{here}.max_bp"),
                "0 ≤ min_bp ≤ max_bp ≤ 10000 (basis points)",
            ));
        }
        if w.source.trim().is_empty() {
            return Err(invalid(
                format!("{here}.source"),
                "every rule names its source",
            ));
        }
    }
    Ok(())
}

/// A tender's terms that do not fit its method, with stable codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MethodRuleError {
    /// R-METH-2 / R-EVAL-6: an evaluation method the procurement method does not allow
    /// (an enquiry or negotiation scored comprehensively, a consultation at lowest price).
    #[error("{method:?} is not evaluated by {stated:?} (allowed: {allowed:?}; {cited})")]
    EvaluationNotAllowed {
        method: ProcurementMethod,
        name: (String, String),
        stated: Method,
        allowed: Vec<Method>,
        cited: String,
    },
    /// R-METH-2: a comprehensive price weight outside the method's range for the category
    /// (a consultation's goods 30–60 %, services 10–30 %).
    #[error("{method:?}: price weight {weight_bp} bp outside {min_bp}..{max_bp:?} for {category:?} ({cited})")]
    PriceWeightOutOfRange {
        method: ProcurementMethod,
        name: (String, String),
        category: Category,
        weight_bp: u32,
        min_bp: u32,
        max_bp: Option<u32>,
        cited: String,
    },
    /// R-OPEN-2: a case for two suppliers the method does not list.
    #[error("{method:?} does not list the case {case:?}")]
    CaseNotListed {
        method: ProcurementMethod,
        name: (String, String),
        case: String,
        listed: Vec<String>,
    },
}

impl MethodRuleError {
    pub fn code(&self) -> &'static str {
        match self {
            MethodRuleError::EvaluationNotAllowed { .. }
            | MethodRuleError::PriceWeightOutOfRange { .. } => "METHOD_EVALUATION_MISMATCH",
            MethodRuleError::CaseNotListed { .. } => "METHOD_CASE_NOT_LISTED",
        }
    }

    /// (Chinese, English), for the agency that wrote the terms.
    pub fn messages(&self) -> (String, String) {
        match self {
            MethodRuleError::EvaluationNotAllowed {
                name: (zh, en),
                stated,
                allowed,
                cited,
                ..
            } => {
                let allowed_zh: Vec<&str> = allowed.iter().map(|m| eval_name(*m).0).collect();
                let allowed_en: Vec<&str> = allowed.iter().map(|m| eval_name(*m).1).collect();
                (
                    format!(
                        "{zh}项目不能采用{}评审,应采用{}({cited},R-METH-2)",
                        eval_name(*stated).0,
                        allowed_zh.join("或")
                    ),
                    format!(
                        "a {en} is not evaluated by {}: use {} ({cited}, R-METH-2)",
                        eval_name(*stated).1,
                        allowed_en.join(" or ")
                    ),
                )
            }
            MethodRuleError::PriceWeightOutOfRange {
                name: (zh, en),
                category,
                weight_bp,
                min_bp,
                max_bp,
                cited,
                ..
            } => {
                let (cat_zh, cat_en) = category_name(*category);
                let (range_zh, range_en) = match max_bp {
                    Some(max) => (
                        format!("须在 {}–{} 之间", fmt_rate(*min_bp), fmt_rate(*max)),
                        format!("must lie in {}–{}", fmt_rate(*min_bp), fmt_rate(*max)),
                    ),
                    None => (
                        format!("不得低于 {}", fmt_rate(*min_bp)),
                        format!("must be at least {}", fmt_rate(*min_bp)),
                    ),
                };
                (
                    format!(
                        "{zh}{cat_zh}项目的价格分权重{range_zh},评标办法载明 {}({cited},R-METH-2)",
                        fmt_rate(*weight_bp)
                    ),
                    format!(
                        "the price weight of a {en} of {cat_en} {range_en}; the terms state {} ({cited}, R-METH-2)",
                        fmt_rate(*weight_bp)
                    ),
                )
            }
            MethodRuleError::CaseNotListed {
                name: (zh, en),
                case,
                listed,
                ..
            } => {
                let (l_zh, l_en) = if listed.is_empty() {
                    (
                        "该采购方式供应商不足时不能继续".to_string(),
                        "the method has no such case".to_string(),
                    )
                } else {
                    (
                        format!("可声明的情形:{}", listed.join("、")),
                        format!("the cases it lists: {}", listed.join(", ")),
                    )
                };
                (
                    format!("{zh}不适用“{case}”情形(两家供应商可继续采购),{l_zh}(R-OPEN-2)"),
                    format!(
                        "a {en} cannot go on with two suppliers in the case {case:?}; {l_en} (R-OPEN-2)"
                    ),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::terms::TermItem;
    use ProcurementMethod as M;

    fn table() -> &'static MethodRules {
        MethodRules::builtin()
    }

    fn terms(method: Method, price_weight_bp: u32) -> EvaluationTerms {
        EvaluationTerms {
            method,
            reserved_for_sme: false,
            sme_rate_bp: Some(1000),
            consortium_rate_bp: None,
            price_weight_bp,
            items: vec![TermItem {
                name: "technical".into(),
                weight_bp: 10_000 - price_weight_bp,
                objective: false,
                ..TermItem::default()
            }],
            abnormal_low_fraction_bp: 8000,
            outlier_points: 2000,
            rounding: Default::default(),
            two_suppliers_case: None,
            checklist: Vec::new(),
        }
    }

    #[test]
    fn the_shipped_table_reads_with_every_method_in_order() {
        let t = table();
        let order: Vec<ProcurementMethod> = t.methods.iter().map(|r| r.method).collect();
        assert_eq!(order, M::ALL);
        assert_eq!(t.get(M::Inquiry).name_zh, "询价");
        // Every rule names its code and source; verified ones only where RULES.md says V
        // or the text was read in full.
        for r in &t.methods {
            for (rule, source) in [
                (&r.response_period.rule, &r.response_period.source),
                (&r.panel.rule, &r.panel.source),
                (&r.suppliers.rule, &r.suppliers.source),
                (&r.evaluation.rule, &r.evaluation.source),
                (&r.offers.rule, &r.offers.source),
            ] {
                assert!(
                    rule.starts_with("R-") && !source.is_empty(),
                    "{:?}",
                    r.method
                );
            }
        }
        assert!(t.get(M::OpenTendering).panel.verified);
        assert!(!t.get(M::CompetitiveNegotiation).panel.verified);
        assert!(!t.get(M::FrameworkAgreement).suppliers.verified);
        // The JSON of GET /api/methods names each deadline rule with its labels.
        let json = serde_json::to_value(t).unwrap();
        assert_eq!(
            json["methods"][3]["response_period"]["rules"][0]["rule"],
            "R-METH-2 consultation"
        );
        assert_eq!(json["methods"][3]["method"], "competitive_consultation");
        assert_eq!(json["cases"][0]["code"], "government_services");
    }

    #[test]
    fn r_eval_1_tendering_keeps_the_committee_of_the_draw() {
        for m in [M::OpenTendering, M::InvitedTendering] {
            assert_eq!(table().panel_rule(m, 400_000_000), PanelRule::tendering());
        }
    }

    #[test]
    fn r_meth_2_negotiation_consultation_and_enquiry_panels_of_three_five_from_the_threshold() {
        for m in [
            M::CompetitiveNegotiation,
            M::CompetitiveConsultation,
            M::Inquiry,
        ] {
            let p = table().panel_rule(m, 400_000_000);
            assert_eq!(
                (p.min_size, p.large_min_size, p.large_from_fen, p.odd),
                (3, 5, Some(400_000_000), true),
                "{m:?}"
            );
            assert_eq!(p.experts_at_least, [2, 3]);
            assert!(!p.large_if_complex);
            assert_eq!(p.rule, "R-METH-2");
            // The threshold is the configured one.
            assert_eq!(table().panel_rule(m, 1).large_from_fen, Some(1));
        }
        let p = table().panel_rule(M::SingleSource, 400_000_000);
        assert_eq!((p.min_size, p.large_from_fen), (3, None));
    }

    #[test]
    fn r_open_2_minimum_suppliers_per_method() {
        let t = table();
        let mins: Vec<i64> = M::ALL.iter().map(|m| t.min_suppliers(*m, None)).collect();
        assert_eq!(mins, [3, 3, 3, 3, 3, 1, 2]);
        assert_eq!(t.below_min(M::OpenTendering), BelowMin::Fail);
        assert_eq!(
            t.below_min(M::CompetitiveConsultation),
            BelowMin::ContinueWithTwo
        );
    }

    #[test]
    fn r_open_2_consultation_in_a_listed_case_goes_on_with_two() {
        let t = table();
        let c = M::CompetitiveConsultation;
        for case in [
            "government_services",
            "research_insufficient_competition",
            "tech_transfer_support",
        ] {
            assert_eq!(t.min_suppliers(c, Some(case)), 2, "{case}");
            assert!(t.case(case).is_some());
        }
        // A case the method does not list changes nothing; other methods have none.
        assert_eq!(t.min_suppliers(c, Some("urgent")), 3);
        assert_eq!(
            t.min_suppliers(M::OpenTendering, Some("government_services")),
            3
        );
        let mut stated = terms(Method::Comprehensive, 3000);
        stated.two_suppliers_case = Some("government_services".into());
        assert_eq!(t.check_terms(c, Category::Services, &stated), Ok(()));
        let err = t
            .check_terms(M::CompetitiveNegotiation, Category::Services, &{
                let mut s = terms(Method::LowestEvaluatedPrice, 0);
                s.two_suppliers_case = Some("government_services".into());
                s
            })
            .unwrap_err();
        assert_eq!(err.code(), "METHOD_CASE_NOT_LISTED");
        stated.two_suppliers_case = Some("urgent".into());
        let err = t.check_terms(c, Category::Services, &stated).unwrap_err();
        assert_eq!(err.code(), "METHOD_CASE_NOT_LISTED");
        let (zh, en) = err.messages();
        assert!(
            zh.contains("government_services") && en.contains("urgent"),
            "{zh} {en}"
        );
    }

    #[test]
    fn r_meth_2_consultation_goods_price_weight_30_to_60() {
        let t = table();
        let c = M::CompetitiveConsultation;
        let check = |w| t.check_evaluation(c, Category::Goods, Method::Comprehensive, w);
        assert_eq!(
            check(2999).unwrap_err().code(),
            "METHOD_EVALUATION_MISMATCH"
        );
        assert_eq!(check(3000), Ok(()));
        assert_eq!(check(6000), Ok(()));
        let err = check(6001).unwrap_err();
        assert_eq!(err.code(), "METHOD_EVALUATION_MISMATCH");
        let (zh, en) = err.messages();
        assert!(zh.contains("30%–60%") && zh.contains("60.01%"), "{zh}");
        assert!(en.contains("30%–60%") && en.contains("214号"), "{en}");
    }

    #[test]
    fn r_meth_2_consultation_services_price_weight_10_to_30() {
        let t = table();
        let c = M::CompetitiveConsultation;
        let check = |w| t.check_evaluation(c, Category::Services, Method::Comprehensive, w);
        assert!(check(999).is_err());
        assert_eq!(check(1000), Ok(()));
        assert_eq!(check(3000), Ok(()));
        assert!(check(3001).is_err());
        // Works: the goods range by default (unverified).
        let works = |w| t.check_evaluation(c, Category::Works, Method::Comprehensive, w);
        assert!(works(2999).is_err() && works(6001).is_err());
        assert_eq!(works(4500), Ok(()));
        assert!(!t.get(c).evaluation.price_weight[2].verified);
        // Consultation is scored, never at lowest price.
        assert_eq!(
            t.check_evaluation(c, Category::Goods, Method::LowestEvaluatedPrice, 0)
                .unwrap_err()
                .code(),
            "METHOD_EVALUATION_MISMATCH"
        );
    }

    #[test]
    fn r_eval_6_negotiation_and_enquiry_at_lowest_price_only() {
        let t = table();
        for m in [M::CompetitiveNegotiation, M::Inquiry] {
            assert_eq!(
                t.check_evaluation(m, Category::Goods, Method::LowestEvaluatedPrice, 0),
                Ok(())
            );
            let err = t
                .check_terms(m, Category::Goods, &terms(Method::Comprehensive, 3000))
                .unwrap_err();
            assert_eq!(err.code(), "METHOD_EVALUATION_MISMATCH", "{m:?}");
            let (zh, en) = err.messages();
            assert!(zh.contains("最低评标价法") && en.contains("lowest evaluated price"));
        }
    }

    #[test]
    fn r_eval_4_tendering_keeps_its_minimum_without_a_cap() {
        // The method table adds nothing to the policy table for tendering: 70 % stands,
        // and the minimums are the policy table's (`evaluation::check_terms`).
        let t = table();
        for m in [M::OpenTendering, M::InvitedTendering] {
            for w in [1000, 3000, 7000, 10_000] {
                assert_eq!(
                    t.check_evaluation(m, Category::Goods, Method::Comprehensive, w),
                    Ok(())
                );
            }
            assert_eq!(
                t.check_evaluation(m, Category::Goods, Method::LowestEvaluatedPrice, 0),
                Ok(())
            );
        }
    }

    #[test]
    fn r_meth_2_rounds_and_final_offers() {
        let t = table();
        for m in [M::CompetitiveNegotiation, M::CompetitiveConsultation] {
            assert!(t.rounds(m) && t.final_offer(m), "{m:?}");
            assert_eq!(t.no_final_offer(m), NoFinalOffer::Withdrawn);
        }
        // An enquiry's offer is made once and not changed.
        assert!(!t.rounds(M::Inquiry) && !t.final_offer(M::Inquiry));
        assert!(t.get(M::Inquiry).offers.verified);
        assert!(!t.rounds(M::OpenTendering));
        // Configurable: a table whose documents keep the last offer.
        let text = BUILTIN_TOML.replacen(
            "no_final_offer = \"withdrawn\"",
            "no_final_offer = \"previous_stands\"",
            1,
        );
        let other = MethodRules::parse(&text).unwrap();
        assert_eq!(
            other.no_final_offer(M::CompetitiveNegotiation),
            NoFinalOffer::PreviousStands
        );
        assert_eq!(
            other.no_final_offer(M::CompetitiveConsultation),
            NoFinalOffer::Withdrawn
        );
    }

    #[test]
    fn r_open_2_the_operators_minimums_go_over_the_table() {
        let over: BTreeMap<String, i64> = [("open_tendering".to_string(), 5)].into();
        let t = table().clone().with_min_suppliers(&over).unwrap();
        assert_eq!(t.min_suppliers(M::OpenTendering, None), 5);
        assert_eq!(t.min_suppliers(M::Inquiry, None), 3);
        let bad: BTreeMap<String, i64> = [("open_tender".to_string(), 5)].into();
        let err = table().clone().with_min_suppliers(&bad).unwrap_err();
        assert!(
            err.to_string().contains("--min-bidders open_tender"),
            "{err}"
        );
    }

    /// A changed table's error names the field at fault.
    fn refused(from: &str, to: &str) -> String {
        let text = BUILTIN_TOML.replacen(from, to, 1);
        assert_ne!(text, BUILTIN_TOML, "{from} is in the table");
        MethodRules::parse(&text).unwrap_err().to_string()
    }

    #[test]
    fn a_table_that_does_not_check_names_the_field() {
        let e = refused(
            "[methods.competitive_negotiation.panel]\nmin_size = 3",
            "[methods.competitive_negotiation.panel]\nmin_size = 4",
        );
        assert!(
            e.starts_with("methods.competitive_negotiation.panel.min_size:"),
            "{e}"
        );
        let e = refused(
            "min_size = 5\nlarge_min_size = 7",
            "min_size = 5\nlarge_min_size = 3",
        );
        assert!(
            e.starts_with("methods.open_tendering.panel.large_min_size:"),
            "{e}"
        );
        let e = refused("\"research_insufficient_competition\", ", "\"research\", ");
        assert!(
            e.starts_with("methods.competitive_consultation.suppliers.cases:")
                && e.contains("research"),
            "{e}"
        );
        let e = refused("max_bp = 6000", "max_bp = 2000");
        assert!(
            e.starts_with("methods.competitive_consultation.evaluation.price_weight[0].max_bp:"),
            "{e}"
        );
        let e = MethodRules::parse(&BUILTIN_TOML.replace("[methods.inquiry", "[methods.enquiry"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("methods.enquiry: unknown method"), "{e}");
        let e = refused(
            "rules = [\"R-METH-2 enquiry\"]",
            "rules = [\"R-METH-2 enquire\"]",
        );
        assert!(e.contains("R-METH-2 enquire"), "{e}");
        let e = refused("experts_at_least = [2, 3]", "experts_at_least = [4, 3]");
        assert!(
            e.starts_with("methods.open_tendering.panel.experts_at_least:"),
            "{e}"
        );
        // An unknown field is the TOML reader's error, with its line.
        let e = refused("purchaser_rep_allowed = true", "purchaser_reps = true");
        assert!(e.contains("purchaser_reps"), "{e}");
        let e = refused("min = 1\n", "min = 0\n");
        assert!(e.starts_with("methods.single_source.suppliers.min:"), "{e}");
        // A method missing altogether.
        let start = BUILTIN_TOML.find("# ---- 框架协议").unwrap();
        let e = MethodRules::parse(&BUILTIN_TOML[..start])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("methods.framework_agreement:"), "{e}");
    }

    /// The worked examples of tests/vectors/methods: per method, the terms checked against
    /// the method and the lot evaluated by the pure evaluation.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Vector {
        name: String,
        method: ProcurementMethod,
        rules: Vec<String>,
        explain: String,
        terms: crate::evaluation::TenderTerms,
        bids: Vec<crate::evaluation::Bid>,
        #[serde(default)]
        expect: Option<crate::evaluation::vectors::Expect>,
        /// The method refuses the terms with this code.
        #[serde(default)]
        expect_refusal: Option<String>,
    }

    #[test]
    fn r_meth_2_r_eval_6_method_vectors() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/methods");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("tests/vectors/methods")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        let mut evaluated: BTreeMap<&str, usize> = BTreeMap::new();
        for p in &files {
            let v: Vector = serde_json::from_str(&std::fs::read_to_string(p).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let ctx = format!("{} ({})", p.file_name().unwrap().to_string_lossy(), v.name);
            assert!(!v.explain.is_empty() && !v.rules.is_empty(), "{ctx}");
            let fits = table().check_evaluation(
                v.method,
                v.terms.category,
                v.terms.method,
                v.terms.price_weight_bp,
            );
            if let Some(code) = &v.expect_refusal {
                assert_eq!(fits.map_err(|e| e.code()), Err(code.as_str()), "{ctx}");
                continue;
            }
            fits.unwrap_or_else(|e| panic!("{ctx}: {e}"));
            let lot = crate::evaluation::evaluate_lot(&v.terms, &v.bids)
                .unwrap_or_else(|e| panic!("{ctx}: {e}"));
            crate::evaluation::vectors::check_lot(&ctx, &lot, v.expect.as_ref().expect(&ctx));
            *evaluated.entry(v.method.as_str()).or_default() += 1;
        }
        for m in [
            M::Inquiry,
            M::CompetitiveNegotiation,
            M::CompetitiveConsultation,
            M::OpenTendering,
            M::SingleSource,
            M::FrameworkAgreement,
        ] {
            assert!(
                evaluated.get(m.as_str()).copied().unwrap_or(0) >= 2,
                "two worked vectors for {m:?}: {evaluated:?}"
            );
        }
    }
}
