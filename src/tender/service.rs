//! Tender rules: who may see and change a tender, what a valid tender is, and the
//! lifecycle (draft → published → amended/cancelled). Every change appends a ledger event
//! in the same transaction.

use super::methods::{MethodRuleError, MethodRules};
use super::opening_key;
use super::repo::{self, ListFilter, TenderHead};
use super::types::{
    AmendmentRequest, AnnouncementView, CancelRequest, Category, LotInput, ProcurementMethod,
    TenderAction, TenderInput, TenderListItem, TenderStatus, TenderView,
};
use crate::auth::{CurrentUser, Role};
use crate::deposit::{self, types::DepositError};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ledger;
use crate::ledger::{
    AmendmentChanges, Change, LedgerEvent, Lot, LotDraft, TenderAmended, TenderCancelled,
    TenderCreated, TenderDraft, TenderPublished,
};
use crate::money::Money;
use crate::org::repo as org_repo;
use crate::org::types::OrgKind;
use crate::plan;
use crate::state::AppState;

pub const MAX_LOTS: usize = 50;
pub const MIN_DECRYPT_WINDOW_MINS: i64 = 5;
pub const MAX_DECRYPT_WINDOW_MINS: i64 = 240;
/// Budgets above 100 亿元 are taken as a typing error.
pub const MAX_BUDGET_FEN: i64 = 1_000_000_000_000;

/// Whether `user` may see this tender at all (agency and purchaser: their own only).
pub fn can_see(user: &CurrentUser, t: &TenderHead) -> bool {
    match user.role {
        Role::Agency => user.org_id.as_deref() == Some(t.agency_org_id.as_str()),
        Role::Purchaser => user.org_id.as_deref() == Some(t.purchaser_org_id.as_str()),
        Role::Finance | Role::Oversight | Role::Admin => true,
        Role::Supplier | Role::Expert | Role::Bank => false,
    }
}

/// Whether `user` runs this tender (the agency that holds it).
fn runs(user: &CurrentUser, t: &TenderHead) -> bool {
    user.role == Role::Agency && user.org_id.as_deref() == Some(t.agency_org_id.as_str())
}

fn push(errors: &mut FieldErrors, field: impl Into<String>, msg: &str) {
    errors
        .entry(field.into())
        .or_default()
        .push(msg.to_string());
}

fn check_lots(lots: &[LotInput], errors: &mut FieldErrors) {
    if lots.is_empty() || lots.len() > MAX_LOTS {
        push(errors, "lots", "须有 1–50 个采购包 / 1–50 lots required");
    }
    for (i, lot) in lots.iter().enumerate() {
        if lot.name.trim().is_empty() {
            push(
                errors,
                format!("lots[{i}].name"),
                "包名称必填 / lot name is required",
            );
        }
        if !lot.budget_fen.is_positive() {
            push(
                errors,
                format!("lots[{i}].budget_fen"),
                "预算必须大于 0 / budget must be positive",
            );
        } else if lot.budget_fen.fen() > MAX_BUDGET_FEN {
            push(
                errors,
                format!("lots[{i}].budget_fen"),
                "预算超出上限(100 亿元)/ budget above the 10-billion-yuan limit",
            );
        }
    }
}

/// R-EVAL-4 and R-POL-2: the stated weights and rates against the rule table of the
/// category on `date`; item names distinct and non-empty. R-METH-2: the terms against the
/// tender's method (`methods`): its refusal is returned, to be raised once the fields are
/// right, and the policy table's minimum price weight is not repeated beside it.
fn check_eval_terms(
    e: &crate::evaluation::terms::EvaluationTerms,
    methods: &MethodRules,
    method: ProcurementMethod,
    category: Category,
    date: chrono::NaiveDate,
    errors: &mut FieldErrors,
) -> Option<MethodRuleError> {
    let mut names = std::collections::BTreeSet::new();
    for i in &e.items {
        let n = i.name.trim();
        if n.is_empty() || n.chars().count() > 100 || !names.insert(n.to_string()) {
            push(
                errors,
                "evaluation.items",
                "评分项名称须非空、不重复 / item names must be non-empty and distinct",
            );
            break;
        }
    }
    if e.items.iter().any(|i| !i.rubric_ok()) {
        push(
            errors,
            "evaluation.items",
            "评分细则的档次须命名且不重复、在 0–100 分之内、互不重叠(至多 10 档) / rubric bands must be named and distinct, within 0–100, not overlapping (at most 10)",
        );
    }
    if !crate::evaluation::terms::checklist_ok(&e.checklist) {
        push(
            errors,
            "evaluation.checklist",
            "符合性审查项须命名(1–60 字)且不重复,至多 30 项 / compliance criteria must be named (1–60 characters) and distinct, at most 30",
        );
    }
    let unfit = methods.check_terms(method, category, e).err();
    match crate::evaluation::check_terms(&e.to_terms(category, date)) {
        Err(crate::evaluation::EvalError::PriceWeightTooLow { .. })
            if matches!(unfit, Some(MethodRuleError::PriceWeightOutOfRange { .. })) => {}
        Err(err) => {
            let (zh, en) = err.messages();
            push(
                errors,
                "evaluation",
                &format!("评标办法不符合规定：{zh} / evaluation terms not allowed: {en}"),
            );
        }
        Ok(()) => {}
    }
    unfit
}

/// The latest deadline taken (2100-01-01): beyond it a time is a typing error, and sums
/// of times would come near overflow.
pub const MAX_DEADLINE_MS: i64 = 4_102_444_800_000;

fn check_timeline(clarify: i64, deadline: i64, window: i64, errors: &mut FieldErrors) {
    if !(0..MAX_DEADLINE_MS).contains(&deadline) {
        push(
            errors,
            "bid_deadline",
            "投标截止时间须早于 2100 年 / the bid deadline must be before the year 2100",
        );
    }
    if clarify >= deadline {
        push(
            errors,
            "clarify_deadline",
            "澄清截止须早于投标截止 / the clarification deadline must precede the bid deadline",
        );
    }
    if !(MIN_DECRYPT_WINDOW_MINS..=MAX_DECRYPT_WINDOW_MINS).contains(&window) {
        push(
            errors,
            "decrypt_window_mins",
            "解密时长须在 5–240 分钟之间 / decryption window: 5–240 minutes (R-OPEN-4)",
        );
    }
}

/// Checks a create/edit body against the rules and the actor's agency.
async fn validate(state: &AppState, actor: &CurrentUser, t: &TenderInput) -> AppResult<()> {
    let db = &state.db.pool;
    let mut errors = FieldErrors::new();
    let title = t.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        push(
            &mut errors,
            "title",
            "项目名称必填,不超过 200 字 / title: 1–200 characters",
        );
    }
    if state.config.require_plan && t.plan_id.is_none() {
        push(
            &mut errors,
            "plan_id",
            "须依据已备案的采购计划创建项目 / a tender is created from a filed procurement plan",
        );
    }
    if t.description.chars().count() > 20_000 {
        push(
            &mut errors,
            "description",
            "说明过长 / description too long",
        );
    }
    if !org_repo::region_exists(db, &t.region_code).await? {
        push(&mut errors, "region_code", "未知行政区划 / unknown region");
    }
    match org_repo::org(db, &t.purchaser_org_id).await? {
        Some(o) if o.kind == OrgKind::PurchaserUnit.as_str() => {}
        _ => push(
            &mut errors,
            "purchaser_org_id",
            "采购单位不存在 / no such purchasing unit",
        ),
    }
    check_lots(&t.lots, &mut errors);
    let mut unfit = None;
    if let Some(e) = &t.evaluation {
        let today = chrono::DateTime::from_timestamp_millis(state.clock.now_ms())
            .unwrap_or_default()
            .with_timezone(&crate::clock::cst())
            .date_naive();
        let methods = state.runtime::<MethodRules>();
        unfit = check_eval_terms(e, methods, t.method, t.category, today, &mut errors);
    }
    check_timeline(
        t.clarify_deadline,
        t.bid_deadline,
        t.decrypt_window_mins,
        &mut errors,
    );

    // Custodians hold the opening key's shares: people of this agency, this purchasing
    // unit, or finance; distinct; threshold t of n with 2 <= t <= n.
    let ids = &t.custodian_ids;
    let n = ids.len() as i64;
    if !(2..=5).contains(&n) {
        push(
            &mut errors,
            "custodian_ids",
            "须指定 2–5 名密钥保管人 / 2–5 custodians",
        );
    }
    if !(2..=n.max(2)).contains(&t.custodian_threshold) {
        push(
            &mut errors,
            "custodian_threshold",
            "门限须在 2 与保管人数之间 / threshold between 2 and the number of custodians",
        );
    }
    let mut seen = std::collections::HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        if !seen.insert(id) {
            push(
                &mut errors,
                format!("custodian_ids[{i}]"),
                "保管人重复 / duplicate custodian",
            );
            continue;
        }
        let ok = match org_repo::user_role_org(db, id).await? {
            Some((role, org)) => match Role::parse(&role) {
                Some(Role::Agency) => org.as_deref() == actor.org_id.as_deref(),
                Some(Role::Purchaser) => org.as_deref() == Some(t.purchaser_org_id.as_str()),
                Some(Role::Finance) => true,
                _ => false,
            },
            None => false,
        };
        if !ok {
            push(
                &mut errors,
                format!("custodian_ids[{i}]"),
                "保管人须为本代理机构、本采购单位或财政监管人员 / a custodian must be of this agency, this purchasing unit, or finance",
            );
        }
    }
    if t.deposit_fen.is_some_and(|d| !d.is_positive()) {
        push(
            &mut errors,
            "deposit_fen",
            "保证金须大于 0,不收取请留空 / the deposit must be positive; leave it out for none",
        );
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if let Some(unfit) = unfit {
        return Err(unfit.into());
    }
    check_deposit(t.deposit_fen, Money(t.budget_fen()))
}

/// R-DEP-1: the deposit asked is at most 2% of the budget.
fn check_deposit(deposit: Option<Money>, budget: Money) -> AppResult<()> {
    match deposit {
        Some(d) if !deposit::rules::within_ceiling(d, budget) => Err(DepositError::TooHigh {
            deposit: d.fen(),
            ceiling: deposit::rules::ceiling(budget).fen(),
        }
        .into()),
        _ => Ok(()),
    }
}

fn new_code(region: &str, now: i64) -> String {
    let date = chrono::DateTime::from_timestamp_millis(now)
        .map(|t| {
            t.with_timezone(&crate::clock::cst())
                .format("%Y%m%d")
                .to_string()
        })
        .unwrap_or_default();
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..6];
    format!("HSZC-{region}-{date}-{}", suffix.to_ascii_uppercase())
}

/// The draft's fields as the ledger records them.
fn input_summary(t: &TenderInput) -> TenderDraft {
    TenderDraft {
        title: t.title.trim().to_string(),
        region_code: t.region_code.clone(),
        purchaser_org_id: t.purchaser_org_id.clone(),
        category: t.category.as_str().to_string(),
        method: t.method.as_str().to_string(),
        lots: lot_drafts(&t.lots),
        clarify_deadline: t.clarify_deadline,
        bid_deadline: t.bid_deadline,
        decrypt_window_mins: t.decrypt_window_mins,
        custodian_ids: t.custodian_ids.clone(),
        custodian_threshold: t.custodian_threshold,
        plan_id: t.plan_id.clone(),
        deposit_fen: t.deposit_fen.map(Money::fen),
    }
}

fn lot_drafts(lots: &[LotInput]) -> Vec<LotDraft> {
    lots.iter()
        .map(|l| LotDraft {
            name: l.name.clone(),
            budget_fen: l.budget_fen.0,
        })
        .collect()
}

#[tracing::instrument(skip_all, fields(user = %actor.username), err)]
pub async fn create(
    state: &AppState,
    actor: &CurrentUser,
    t: TenderInput,
) -> AppResult<TenderView> {
    let agency = actor.org_id.clone().ok_or(AppError::Forbidden)?;
    validate(state, actor, &t).await?;
    let now = state.clock.now_ms();
    let id = crate::org::service::new_id();
    let code = new_code(&t.region_code, now);
    let mut tx = state.db.begin().await?;
    repo::insert(&mut tx, &id, &code, &agency, &actor.id, &t, now).await?;
    draw_from_plan(&mut tx, &id, None, &t, &actor.id, now).await?;
    let event = LedgerEvent::TenderCreated(TenderCreated {
        draft: input_summary(&t),
        code,
        agency_org_id: agency,
    });
    ledger::repo::append(&mut tx, &id, now, &actor.id, &event).await?;
    tx.commit().await?;
    state.rooms.notify(&id);
    get(state, actor, &id).await
}

/// R-PLAN-2: a tender created or edited from a plan draws its budget from it (and returns
/// what it drew from a plan it no longer names).
async fn draw_from_plan(
    tx: &mut crate::db::Tx,
    tender_id: &str,
    before: Option<&str>,
    t: &TenderInput,
    actor: &str,
    now: i64,
) -> AppResult<()> {
    if let Some(old) = before.filter(|old| t.plan_id.as_deref() != Some(*old)) {
        plan::service::release_budget(tx, old, tender_id, actor, now).await?;
    }
    let Some(plan_id) = &t.plan_id else {
        return Ok(());
    };
    let draw = plan::service::TenderDraw {
        tender_id,
        purchaser_org_id: &t.purchaser_org_id,
        category: t.category.as_str(),
        method: t.method,
        budget_fen: t.budget_fen(),
    };
    plan::service::commit_budget(tx, plan_id, &draw, actor, now).await
}

/// Locks the tender for a change by its agency and checks the action is allowed now.
async fn lock_for(
    tx: &mut crate::db::Tx,
    actor: &CurrentUser,
    id: &str,
    action: TenderAction,
    now: i64,
) -> AppResult<(TenderHead, TenderStatus)> {
    let head = repo::lock(tx, id).await?.ok_or(AppError::NotFound)?;
    repo::touch(tx, id, now).await?;
    if !can_see(actor, &head) {
        return Err(AppError::NotFound);
    }
    if !runs(actor, &head) {
        return Err(AppError::Forbidden);
    }
    // Past the deadline a published tender is sealed (or about to be): say so plainly.
    if matches!(action, TenderAction::Amend | TenderAction::Cancel)
        && head.status != TenderStatus::Draft
        && now >= head.bid_deadline
    {
        return Err(AppError::DeadlinePassed);
    }
    let next = match head.status.after(action) {
        Some(n) => n,
        None if action == TenderAction::Edit && head.status == TenderStatus::Published => {
            return Err(AppError::TenderNotEditable)
        }
        None => {
            return Err(AppError::IllegalTransition {
                from: head.status.as_str().to_string(),
                action: action.as_str(),
            })
        }
    };
    Ok((head, next))
}

#[tracing::instrument(skip_all, fields(tender = %id), err)]
pub async fn update(
    state: &AppState,
    actor: &CurrentUser,
    id: &str,
    t: TenderInput,
) -> AppResult<TenderView> {
    let now = state.clock.now_ms();
    // Check visibility and state first, so an edit of a published tender gets its own
    // error rather than a list of field errors.
    let head = repo::head(&state.db.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !can_see(actor, &head) {
        return Err(AppError::NotFound);
    }
    if head.status != TenderStatus::Draft {
        return Err(AppError::TenderNotEditable);
    }
    validate(state, actor, &t).await?;
    let mut tx = state.db.begin().await?;
    lock_for(&mut tx, actor, id, TenderAction::Edit, now).await?;
    let before = repo::plan_id(&mut tx, id).await?;
    repo::update_draft(&mut tx, id, &t).await?;
    draw_from_plan(&mut tx, id, before.as_deref(), &t, &actor.id, now).await?;
    let event = LedgerEvent::TenderUpdated(input_summary(&t));
    ledger::repo::append(&mut tx, id, now, &actor.id, &event).await?;
    tx.commit().await?;
    state.rooms.notify(id);
    get(state, actor, id).await
}

#[tracing::instrument(skip_all, fields(tender = %id), err)]
pub async fn publish(state: &AppState, actor: &CurrentUser, id: &str) -> AppResult<TenderView> {
    // Custodians' certified keys are checked before the write lock is taken.
    let before = get(state, actor, id).await?;
    let custodians: Vec<String> = before
        .custodians
        .iter()
        .map(|c| c.user_id.clone())
        .collect();
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let (head, next) = lock_for(&mut tx, actor, id, TenderAction::Publish, now).await?;
    let mut errors = FieldErrors::new();
    if head.bid_deadline <= now {
        push(
            &mut errors,
            "bid_deadline",
            "投标截止时间须晚于发布时间 / the bid deadline must be in the future",
        );
    }
    if head.clarify_deadline <= now {
        push(
            &mut errors,
            "clarify_deadline",
            "澄清截止时间须晚于发布时间 / the clarification deadline must be in the future",
        );
    }
    let method = ProcurementMethod::parse(&before.method).ok_or(AppError::NotFound)?;
    let methods = state.runtime::<MethodRules>();
    let mut unfit = None;
    if let (Some(e), Ok(category)) = (
        before
            .evaluation
            .as_ref()
            .and_then(|e| serde_json::from_value(e.clone()).ok()),
        serde_json::from_value::<Category>(serde_json::Value::String(before.category.clone())),
    ) {
        let today = chrono::DateTime::from_timestamp_millis(now)
            .unwrap_or_default()
            .with_timezone(&crate::clock::cst())
            .date_naive();
        unfit = check_eval_terms(&e, methods, method, category, today, &mut errors);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if let Some(unfit) = unfit {
        return Err(unfit.into());
    }
    if state.config.statutory_periods {
        let deadlines = state.runtime::<crate::calendar::Deadlines>();
        super::rules::check_publication(deadlines, methods, method, now, head.bid_deadline)?;
    }
    check_deposit(before.deposit_fen, before.budget_total_fen)?;
    if let Some(plan_id) = &before.plan_id {
        plan::service::check_publication(state, &mut tx, plan_id, now).await?;
        crate::approval::service::check_publication(state, &mut tx, plan_id, now).await?;
    }
    let custodian_keys = opening_key::custodian_keys(state, &custodians).await?;
    repo::set_status(&mut tx, id, next, Some(now)).await?;
    let view = repo::view(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let locked: Vec<&String> = view.custodians.iter().map(|c| &c.user_id).collect();
    if locked != custodians.iter().collect::<Vec<_>>() {
        return Err(AppError::Conflict(
            "保管人已变更,请重试 / custodians changed; try again",
        ));
    }
    let key = opening_key::create(
        &mut tx,
        id,
        view.custodian_threshold,
        &custodians,
        &custodian_keys,
        now,
    )
    .await?;
    let documents = super::template::render_of(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    // The announcement as published, so the ledger alone shows what was announced.
    let event = LedgerEvent::TenderPublished(TenderPublished {
        documents_sha256: Some(documents.sha256()),
        description_sha256: crate::crypto::sha256_hex(view.description.as_bytes()),
        code: view.code,
        title: view.title,
        region_code: view.region_code,
        purchaser_org_id: view.purchaser_org_id,
        agency_org_id: view.agency_org_id,
        category: view.category,
        method: view.method,
        lots: view
            .lots
            .iter()
            .map(|l| Lot {
                lot_no: l.lot_no,
                name: l.name.clone(),
                budget_fen: l.budget_fen.0,
            })
            .collect(),
        clarify_deadline: view.clarify_deadline,
        bid_deadline: view.bid_deadline,
        decrypt_window_mins: view.decrypt_window_mins,
        custodian_ids: custodians,
        custodian_threshold: view.custodian_threshold,
        opening_key: key,
        deposit_fen: view.deposit_fen.map(Money::fen),
    });
    ledger::repo::append(&mut tx, id, now, &actor.id, &event).await?;
    tx.commit().await?;
    state.rooms.notify(id);
    get(state, actor, id).await
}

#[tracing::instrument(skip_all, fields(tender = %id), err)]
pub async fn amend(
    state: &AppState,
    actor: &CurrentUser,
    id: &str,
    req: AmendmentRequest,
) -> AppResult<TenderView> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let (head, _) = lock_for(&mut tx, actor, id, TenderAction::Amend, now).await?;
    // R-TIME-2: the server's clock decides.
    if now >= head.bid_deadline {
        return Err(AppError::DeadlinePassed);
    }
    let cur = repo::view(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let c = req.changes;
    let mut errors = FieldErrors::new();
    if req.reason.trim().is_empty() {
        push(
            &mut errors,
            "reason",
            "须说明更正理由 / a reason is required",
        );
    }
    let title = c.title.clone().unwrap_or_else(|| cur.title.clone());
    if c.title.is_some() && (title.trim().is_empty() || title.chars().count() > 200) {
        push(
            &mut errors,
            "changes.title",
            "项目名称 1–200 字 / title: 1–200 characters",
        );
    }
    let description = c
        .description
        .clone()
        .unwrap_or_else(|| cur.description.clone());
    let clarify = c.clarify_deadline.unwrap_or(cur.clarify_deadline);
    let deadline = c.bid_deadline.unwrap_or(cur.bid_deadline);
    let window = c.decrypt_window_mins.unwrap_or(cur.decrypt_window_mins);
    check_timeline(clarify, deadline, window, &mut errors);
    if deadline <= now {
        push(
            &mut errors,
            "changes.bid_deadline",
            "新的投标截止时间须晚于当前时间 / the new bid deadline must be in the future",
        );
    }
    let method = ProcurementMethod::parse(&cur.method).ok_or(AppError::NotFound)?;
    if req.affects_bids && state.config.statutory_periods && errors.is_empty() {
        let deadlines = state.runtime::<crate::calendar::Deadlines>();
        let methods = state.runtime::<MethodRules>();
        super::rules::check_amendment(deadlines, methods, method, now, deadline)?;
    }
    if let Some(lots) = &c.lots {
        let mut lot_errors = FieldErrors::new();
        check_lots(lots, &mut lot_errors);
        for (k, v) in lot_errors {
            errors.entry(format!("changes.{k}")).or_default().extend(v);
        }
    }
    let changes = AmendmentChanges {
        title: Change::of(cur.title.clone(), title.trim().to_string()),
        description: Change::of(cur.description.clone(), description.clone()),
        clarify_deadline: Change::of(cur.clarify_deadline, clarify),
        bid_deadline: Change::of(cur.bid_deadline, deadline),
        decrypt_window_mins: Change::of(cur.decrypt_window_mins, window),
        lots: c.lots.as_ref().and_then(|lots| {
            let old = cur
                .lots
                .iter()
                .map(|l| LotDraft {
                    name: l.name.clone(),
                    budget_fen: l.budget_fen.0,
                })
                .collect();
            Change::of(old, lot_drafts(lots))
        }),
    };
    if changes.is_empty() && errors.is_empty() {
        push(&mut errors, "changes", "没有任何更正内容 / nothing changes");
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if let Some(lots) = &c.lots {
        // A smaller budget must still carry the deposit already announced (R-DEP-1).
        let budget = Money(lots.iter().map(|l| l.budget_fen.fen()).sum());
        check_deposit(cur.deposit_fen, budget)?;
    }
    repo::apply_amendment(
        &mut tx,
        id,
        title.trim(),
        &description,
        clarify,
        deadline,
        window,
    )
    .await?;
    if let Some(lots) = &c.lots {
        repo::replace_lots(&mut tx, id, lots).await?;
        if let Some(plan_id) = repo::plan_id(&mut tx, id).await? {
            let draw = plan::service::TenderDraw {
                tender_id: id,
                purchaser_org_id: &cur.purchaser_org_id,
                category: &cur.category,
                method,
                budget_fen: lots.iter().map(|l| l.budget_fen.fen()).sum(),
            };
            plan::service::commit_budget(&mut tx, &plan_id, &draw, &actor.id, now).await?;
        }
    }
    let stored = serde_json::to_value(&changes).map_err(anyhow::Error::from)?;
    let seq =
        repo::insert_amendment(&mut tx, id, now, &actor.id, req.reason.trim(), &stored).await?;
    let event = LedgerEvent::TenderAmended(TenderAmended {
        amendment: seq,
        reason: req.reason.trim().to_string(),
        changes,
        affects_bids: Some(req.affects_bids),
    });
    ledger::repo::append(&mut tx, id, now, &actor.id, &event).await?;
    tx.commit().await?;
    state.rooms.notify(id);
    get(state, actor, id).await
}

/// The method table in force: the operator's file (`--method-rules`), else the shipped
/// one, with the minimums of `--min-bidders` over it. A file that does not read or does
/// not check stops the start with the field at fault.
pub fn load_method_rules(config: &crate::config::Config) -> anyhow::Result<MethodRules> {
    let table = match &config.method_rules_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading the method rules {}: {e}", path.display()))?;
            MethodRules::parse(&text)
                .map_err(|e| anyhow::anyhow!("the method rules {}: {e}", path.display()))?
        }
        None => MethodRules::builtin().clone(),
    };
    table
        .with_min_suppliers(&config.opening.min_bidders)
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// The method and the evaluation terms of a tender, as its row holds them.
async fn method_and_terms(
    tx: &mut crate::db::Tx,
    tender_id: &str,
) -> AppResult<(
    ProcurementMethod,
    Option<crate::evaluation::terms::EvaluationTerms>,
)> {
    let (method, terms) = repo::method_and_terms(tx, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let method = ProcurementMethod::parse(&method).ok_or(AppError::NotFound)?;
    let terms = terms
        .map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(anyhow::Error::from)?;
    Ok((method, terms))
}

/// R-OPEN-2: the least number of suppliers the tender needs, at its opening and its
/// evaluation: its method's minimum in the table in force, two when it states a case in
/// which its method goes on with two (a consultation's, 财库〔2015〕124号).
pub async fn min_suppliers(
    state: &AppState,
    tx: &mut crate::db::Tx,
    tender_id: &str,
) -> AppResult<i64> {
    let (method, terms) = method_and_terms(tx, tender_id).await?;
    let case = terms.as_ref().and_then(|t| t.two_suppliers_case.as_deref());
    Ok(state.runtime::<MethodRules>().min_suppliers(method, case))
}

/// R-EVAL-1, R-METH-2: the panel rule of the tender's method, for its draw; large from the
/// configured open-tendering threshold where the method says so.
pub async fn panel_rule(
    state: &AppState,
    tx: &mut crate::db::Tx,
    tender_id: &str,
) -> AppResult<crate::draw::PanelRule> {
    let (method, _) = method_and_terms(tx, tender_id).await?;
    Ok(state
        .runtime::<MethodRules>()
        .panel_rule(method, state.config.open_tendering_threshold_fen))
}

/// The statutory periods for this tender at this instant: the earliest bid deadline if it
/// were published, or amended in a way affecting bids, now (the agency's forms offer it).
pub async fn time_limits(
    state: &AppState,
    actor: &CurrentUser,
    id: &str,
) -> AppResult<super::rules::TimeLimitsView> {
    let tender = get(state, actor, id).await?;
    let method = ProcurementMethod::parse(&tender.method).ok_or(AppError::NotFound)?;
    Ok(super::rules::view(
        state.runtime::<crate::calendar::Deadlines>(),
        state.runtime::<MethodRules>(),
        state.config.statutory_periods,
        method,
        state.clock.now_ms(),
    ))
}

#[tracing::instrument(skip_all, fields(tender = %id), err)]
pub async fn cancel(
    state: &AppState,
    actor: &CurrentUser,
    id: &str,
    req: CancelRequest,
) -> AppResult<TenderView> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    let (head, next) = lock_for(&mut tx, actor, id, TenderAction::Cancel, now).await?;
    if head.status == TenderStatus::Published && now >= head.bid_deadline {
        return Err(AppError::DeadlinePassed);
    }
    if req.reason.trim().is_empty() {
        return Err(AppError::field(
            "reason",
            "须说明终止理由 / a reason is required",
        ));
    }
    repo::set_status(&mut tx, id, next, None).await?;
    if let Some(plan_id) = repo::plan_id(&mut tx, id).await? {
        plan::service::release_budget(&mut tx, &plan_id, id, &actor.id, now).await?;
    }
    let event = LedgerEvent::TenderCancelled(TenderCancelled {
        reason: req.reason.trim().to_string(),
        from: head.status.as_str().to_string(),
    });
    ledger::repo::append(&mut tx, id, now, &actor.id, &event).await?;
    tx.commit().await?;
    state.rooms.notify(id);
    get(state, actor, id).await
}

pub async fn get(state: &AppState, actor: &CurrentUser, id: &str) -> AppResult<TenderView> {
    let head = repo::head(&state.db.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !can_see(actor, &head) {
        return Err(AppError::NotFound);
    }
    let mut conn = state.db.pool.acquire().await?;
    repo::view(&mut conn, id).await?.ok_or(AppError::NotFound)
}

pub async fn list_for(state: &AppState, actor: &CurrentUser) -> AppResult<Vec<TenderListItem>> {
    let org = actor.org_id.as_deref().unwrap_or("-");
    let filter = match actor.role {
        Role::Agency => ListFilter {
            agency_org_id: org,
            ..Default::default()
        },
        Role::Purchaser => ListFilter {
            purchaser_org_id: org,
            ..Default::default()
        },
        Role::Finance | Role::Oversight | Role::Admin => ListFilter::default(),
        Role::Supplier | Role::Expert | Role::Bank => return Err(AppError::Forbidden),
    };
    Ok(repo::list(&state.db.pool, &filter).await?)
}

/// Published (non-draft) tenders for the public list.
pub async fn announcements(
    state: &AppState,
    region: &str,
    category: &str,
    q: &str,
) -> AppResult<Vec<TenderListItem>> {
    let filter = ListFilter {
        region_code: region,
        category,
        title_like: q,
        public_only: true,
        ..Default::default()
    };
    Ok(repo::list(&state.db.pool, &filter).await?)
}

pub async fn announcement(state: &AppState, id: &str) -> AppResult<AnnouncementView> {
    let mut conn = state.db.pool.acquire().await?;
    match repo::view(&mut conn, id).await? {
        Some(t) if t.status != TenderStatus::Draft => Ok(t.into()),
        _ => Err(AppError::NotFound),
    }
}

/// The ledger of a tender: public once published; a draft's only to those who may see it.
pub async fn ledger(
    state: &AppState,
    user: Option<&CurrentUser>,
    id: &str,
) -> AppResult<ledger::Ledger> {
    let head = repo::head(&state.db.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if head.status == TenderStatus::Draft && !user.is_some_and(|u| can_see(u, &head)) {
        return Err(AppError::NotFound);
    }
    let mut ledger = ledger::repo::load(&state.db.pool, id).await?;
    let supervisor = user.is_some_and(|u| u.role.is_supervisor());
    if sees_bids(state, user, &head) {
        ledger.bid_register = Some(ledger::repo::register(&state.db.pool, id).await?);
    } else {
        // Ledgers written before the register existed kept bid events in the chain.
        ledger.truncate_before("bid_");
        ledger.withheld_until = Some(head.bid_deadline);
    }
    ledger.actors = ledger_actors(state, &ledger, supervisor, &head).await?;
    Ok(ledger)
}

/// Whether `user` may see the bid register now. Before the deadline only supervisors do:
/// the names and number of bidders are not told before the opening (GPL art. 38's
/// confidentiality of potential bidders). Everyone else is told it is withheld whether or
/// not anyone has bid.
fn sees_bids(state: &AppState, user: Option<&CurrentUser>, head: &repo::TenderHead) -> bool {
    user.is_some_and(|u| u.role.is_supervisor()) || !head.bids_secret(state.clock.now_ms())
}

/// What the hub replays to a subscriber: the ledger events after seq `since` that `user`
/// may see, the bid register's events when they may see it, and until when it is withheld
/// otherwise. Reads only what is after `since`, not the whole ledger.
pub struct Replay {
    pub events: Vec<ledger::Event>,
    pub bid_events: Vec<ledger::Event>,
    pub withheld_until: Option<i64>,
}

/// The replay for `user` from `since` (see [`Replay`]) of the tender `head`, which the
/// caller has read; the same visibility as [`ledger`].
pub async fn replay(
    state: &AppState,
    user: &CurrentUser,
    head: &repo::TenderHead,
    since: i64,
) -> AppResult<Replay> {
    if head.status == TenderStatus::Draft && !can_see(user, head) {
        return Err(AppError::NotFound);
    }
    let (pool, id) = (&state.db.pool, head.id.as_str());
    let mut events = ledger::repo::load_since(pool, id, since).await?;
    if sees_bids(state, Some(user), head) {
        Ok(Replay {
            events,
            bid_events: ledger::repo::register_since(pool, id, 0).await?,
            withheld_until: None,
        })
    } else {
        // As the live room sends it: a ledger from before the bid register kept bid
        // events in the chain.
        events.retain(|e| !e.kind.starts_with("bid_"));
        Ok(Replay {
            events,
            bid_events: Vec::new(),
            withheld_until: Some(head.bid_deadline),
        })
    }
}

/// Who acted in `ledger`, for its reader: each person's role and organisation; a drawn
/// expert by seat only until the award (R-EVAL-2; a supervisor also sees the name). No
/// login names. The platform, the system and seats need no entry.
async fn ledger_actors(
    state: &AppState,
    ledger: &ledger::Ledger,
    supervisor: bool,
    head: &repo::TenderHead,
) -> AppResult<std::collections::BTreeMap<String, ledger::Actor>> {
    let mut ids: std::collections::BTreeSet<&str> = ledger
        .events
        .iter()
        .chain(ledger.bid_register.iter().flat_map(|r| &r.events))
        .map(|e| e.actor.as_str())
        .filter(|a| !matches!(*a, "platform" | "system") && !a.starts_with("seat-"))
        .collect();
    let mut out = std::collections::BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let mut conn = state.db.pool.acquire().await?;
    // Drawn experts act under this evaluation's pseudonyms: a seat, and the name the award
    // publishes.
    let key: Option<Option<String>> =
        sqlx::query_scalar("SELECT pseudonym_key FROM evaluations WHERE tender_id = $1")
            .bind(&head.id)
            .fetch_optional(&mut *conn)
            .await?;
    let names = crate::evaluation::pseudonyms::Pseudonyms::from_stored(key.flatten().as_deref());
    let seats: Vec<(String, Option<String>, i64, String)> = sqlx::query_as(
        "SELECT e.id, e.user_id, p.seat, e.name FROM evaluation_panel p \
         JOIN experts e ON e.id = p.expert_id WHERE p.tender_id = $1 ORDER BY p.seat",
    )
    .bind(&head.id)
    .fetch_all(&mut *conn)
    .await?;
    let awarded = !head.experts_secret();
    let public_name = |name: &str| (awarded || supervisor).then(|| name.to_string());
    ids.retain(|id| {
        let Some((_, _, seat, name)) = seats.iter().find(|s| names.expert(&s.0) == *id) else {
            return true;
        };
        out.insert(
            id.to_string(),
            ledger::Actor {
                role: "expert".into(),
                org: None,
                seat: Some(*seat),
                name: public_name(name),
            },
        );
        false
    });
    for id in std::mem::take(&mut ids) {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT u.role, u.display_name, o.name FROM users u \
             LEFT JOIN organisations o ON o.id = u.org_id WHERE u.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((role, name, org)) = row else {
            continue;
        };
        // Who might bid is not told before the deadline, not even by an actor's name.
        if role == "supplier" && !supervisor && head.bids_secret(state.clock.now_ms()) {
            continue;
        }
        // (An evaluation begun before pseudonyms named its experts by login id.)
        let drawn = seats.iter().find(|s| s.1.as_deref() == Some(id));
        let actor = if role == "expert" {
            ledger::Actor {
                role,
                org: None,
                seat: drawn.map(|d| d.2),
                name: public_name(drawn.map_or(&name, |d| &d.3)),
            }
        } else {
            ledger::Actor {
                role,
                org,
                seat: None,
                name: None,
            }
        };
        out.insert(id.to_string(), actor);
    }
    Ok(out)
}
