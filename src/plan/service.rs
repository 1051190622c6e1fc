//! One transaction per action: budget lines (finance), plans and their intentions (the
//! purchasing unit), and what the tender asks of its plan.

use super::repo::{self, Group, CANCELLED, FILED};
use super::rules;
use super::types::{
    BudgetLineInput, BudgetLineView, ExecutionRow, IntentionInput, IntentionView, PlanError,
    PlanInput, PlanView, ProcurementMethod,
};
use crate::auth::{CurrentUser, Role};
use crate::calendar::Deadlines;
use crate::db::Tx;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ledger::{
    self, IntentionPublished, Ledger, LedgerEvent, PlanCancelled, PlanDrawn, PlanFiled,
};
use crate::org::repo as org_repo;
use crate::org::types::OrgKind;
use crate::state::AppState;

/// Longest intention description, in characters.
const MAX_DESCRIPTION: usize = 2000;

fn push(errors: &mut FieldErrors, field: &str, msg: &str) {
    errors.entry(field.into()).or_default().push(msg.into());
}

fn text_ok(s: &str, max: usize) -> bool {
    let n = s.trim().chars().count();
    (1..=max).contains(&n)
}

fn done(errors: FieldErrors) -> AppResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Whose plans, lines and approvals `user` sees: their own unit's (purchasers),
/// everyone's (the agencies that run tenders from them, finance, oversight, admin), none
/// (others); the empty string is everyone's.
pub(crate) fn scope(user: &CurrentUser) -> AppResult<String> {
    match user.role {
        Role::Purchaser => user.org_id.clone().ok_or(AppError::Forbidden),
        Role::Agency | Role::Finance | Role::Oversight | Role::Admin => Ok(String::new()),
        Role::Supplier | Role::Expert | Role::Bank => Err(AppError::Forbidden),
    }
}

fn sees(user: &CurrentUser, org_id: &str) -> bool {
    scope(user).is_ok_and(|s| s.is_empty() || s == org_id)
}

/// Finance records a purchasing unit's budget line for a year.
pub async fn create_line(
    state: &AppState,
    actor: &CurrentUser,
    l: BudgetLineInput,
) -> AppResult<BudgetLineView> {
    let mut errors = FieldErrors::new();
    match org_repo::org(&state.db.pool, &l.org_id).await? {
        Some(o) if o.kind == OrgKind::PurchaserUnit.as_str() => {}
        _ => push(
            &mut errors,
            "org_id",
            "采购单位不存在 / no such purchasing unit",
        ),
    }
    if !(2000..=2100).contains(&l.year) {
        push(
            &mut errors,
            "year",
            "年度须在 2000–2100 之间 / year: 2000–2100",
        );
    }
    if !text_ok(&l.code, 40) {
        push(
            &mut errors,
            "code",
            "预算项目编码必填,不超过 40 字 / code: 1–40 characters",
        );
    }
    if !text_ok(&l.title, 200) {
        push(
            &mut errors,
            "title",
            "预算项目名称必填,不超过 200 字 / title: 1–200 characters",
        );
    }
    if !rules::valid_amount(l.amount_fen) {
        push(
            &mut errors,
            "amount_fen",
            "金额须为正数 / amount must be positive",
        );
    }
    done(errors)?;
    let now = state.clock.now_ms();
    let id = crate::org::service::new_id();
    let mut tx = state.db.begin().await?;
    if repo::line_code_taken(&mut tx, &l.org_id, l.year, l.code.trim()).await? {
        return Err(PlanError::DuplicateBudgetLine.into());
    }
    repo::insert_line(&mut tx, &id, &l, &actor.id, now).await?;
    tx.commit().await?;
    tracing::info!(line = %id, org = %l.org_id, year = l.year, "budget line recorded");
    repo::line(&state.db.pool, &id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn lines(
    state: &AppState,
    user: &CurrentUser,
    year: i32,
) -> AppResult<Vec<BudgetLineView>> {
    Ok(repo::lines(&state.db.pool, &scope(user)?, year).await?)
}

fn new_code(year: i64) -> String {
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..6];
    format!("JH-{year}-{}", suffix.to_ascii_uppercase())
}

/// The purchasing unit files a plan against one of its budget lines (R-PLAN-2).
pub async fn create_plan(
    state: &AppState,
    actor: &CurrentUser,
    p: PlanInput,
) -> AppResult<PlanView> {
    create_plan_at(state, actor, p, state.clock.now_ms()).await
}

/// [`create_plan`] at a given time (the demo city's history).
pub(crate) async fn create_plan_at(
    state: &AppState,
    actor: &CurrentUser,
    p: PlanInput,
    now: i64,
) -> AppResult<PlanView> {
    let mut tx = state.db.begin().await?;
    let line = repo::lock_line(&mut tx, &p.budget_line_id).await?;
    let Some(line) = line.filter(|l| actor.org_id.as_deref() == Some(l.org_id.as_str())) else {
        return Err(AppError::field(
            "budget_line_id",
            "本单位无此预算项目 / no such budget line of your unit",
        ));
    };
    let mut errors = FieldErrors::new();
    if !text_ok(&p.title, 200) {
        push(
            &mut errors,
            "title",
            "计划名称必填,不超过 200 字 / title: 1–200 characters",
        );
    }
    if !rules::valid_amount(p.amount_fen) {
        push(
            &mut errors,
            "amount_fen",
            "金额须为正数 / amount must be positive",
        );
    }
    if rules::parse_month(&p.expected_month, line.year as i32).is_none() {
        push(
            &mut errors,
            "expected_month",
            "预计采购月份格式为 YYYY-MM,且在预算年度前后一年内 / expected month: YYYY-MM, within a year of the budget year",
        );
    }
    if p.intention_exception.is_some() && !text_ok(&p.exception_reason, 500) {
        push(
            &mut errors,
            "exception_reason",
            "登记例外情形须说明理由(不超过 500 字)/ an exception needs its reason (at most 500 characters)",
        );
    }
    done(errors)?;
    let planned = repo::planned_on_line(&mut tx, &line.id, "").await?;
    rules::check_plan_amount(line.amount_fen, planned, p.amount_fen)?;
    let id = crate::org::service::new_id();
    let code = new_code(line.year);
    repo::insert_plan(&mut tx, &id, &code, &line, &p, &actor.id, now).await?;
    let event = LedgerEvent::PlanFiled(PlanFiled {
        code,
        budget_line_id: line.id.clone(),
        budget_line_code: line.code.clone(),
        title: p.title.trim().to_string(),
        category: line.category.clone(),
        method: p.method.as_str().into(),
        amount_fen: p.amount_fen,
        imported: p.imported,
        expected_month: p.expected_month.trim().to_string(),
        intention_exception: p.intention_exception.map(|e| e.as_str().to_string()),
        exception_reason: p.exception_reason.trim().to_string(),
    });
    ledger::repo::append_plan(&mut tx, &id, now, &actor.id, &event).await?;
    tx.commit().await?;
    tracing::info!(plan = %id, line = %line.id, "procurement plan filed");
    plan(state, actor, &id).await
}

/// Adds when a tender of the plan may be published (R-PLAN-1): at once with a recorded
/// exception, else 30 days after its intention, by the server's calendar.
fn dated(state: &AppState, mut p: PlanView) -> PlanView {
    p.publishable_from = match (&p.intention_exception, &p.intention) {
        (Some(_), _) => Some(p.created_at),
        (None, Some(i)) => Some(rules::publishable_from(
            state.runtime::<Deadlines>(),
            i.published_at,
        )),
        (None, None) => None,
    };
    p
}

pub async fn plans(state: &AppState, user: &CurrentUser) -> AppResult<Vec<PlanView>> {
    let plans = repo::plans(&state.db.pool, &scope(user)?).await?;
    Ok(plans.into_iter().map(|p| dated(state, p)).collect())
}

pub async fn plan(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<PlanView> {
    match repo::plan(&state.db.pool, id).await? {
        Some(p) if sees(user, &p.org_id) => Ok(dated(state, p)),
        _ => Err(AppError::NotFound),
    }
}

/// Locks one of the actor's own plans that is still filed.
async fn own_plan(
    tx: &mut Tx,
    actor: &CurrentUser,
    id: &str,
    now: i64,
) -> AppResult<repo::PlanRow> {
    let p = repo::lock_plan(tx, id, now)
        .await?
        .filter(|p| actor.org_id.as_deref() == Some(p.org_id.as_str()))
        .ok_or(AppError::NotFound)?;
    if p.status != FILED {
        return Err(AppError::IllegalTransition {
            from: p.status,
            action: "plan",
        });
    }
    Ok(p)
}

/// R-PLAN-1: the purchasing unit publishes the plan's intention (what, budget, month).
pub async fn publish_intention(
    state: &AppState,
    actor: &CurrentUser,
    plan_id: &str,
    i: IntentionInput,
) -> AppResult<PlanView> {
    publish_intention_at(state, actor, plan_id, i, state.clock.now_ms()).await
}

/// [`publish_intention`] at a given time (the demo city's history).
pub(crate) async fn publish_intention_at(
    state: &AppState,
    actor: &CurrentUser,
    plan_id: &str,
    i: IntentionInput,
    now: i64,
) -> AppResult<PlanView> {
    if !text_ok(&i.description, MAX_DESCRIPTION) {
        return Err(AppError::field(
            "description",
            "采购需求概况必填,不超过 2000 字 / description: 1–2000 characters",
        ));
    }
    let mut tx = state.db.begin().await?;
    let p = own_plan(&mut tx, actor, plan_id, now).await?;
    if p.intention_published_at.is_some() {
        return Err(PlanError::IntentionAlreadyPublished.into());
    }
    let id = crate::org::service::new_id();
    let description = i.description.trim();
    repo::insert_intention(&mut tx, &id, plan_id, description, &actor.id, now).await?;
    let event = LedgerEvent::IntentionPublished(IntentionPublished {
        intention_id: id,
        description: description.to_string(),
    });
    ledger::repo::append_plan(&mut tx, plan_id, now, &actor.id, &event).await?;
    tx.commit().await?;
    tracing::info!(plan = %plan_id, "procurement intention published");
    plan(state, actor, plan_id).await
}

/// The purchasing unit withdraws a plan no tender was created from; its amount returns to
/// the budget line.
pub async fn cancel_plan(
    state: &AppState,
    actor: &CurrentUser,
    plan_id: &str,
) -> AppResult<PlanView> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    own_plan(&mut tx, actor, plan_id, now).await?;
    if repo::tender_count(&mut tx, plan_id).await? > 0 {
        return Err(PlanError::PlanInUse.into());
    }
    repo::set_status(&mut tx, plan_id, CANCELLED).await?;
    let event = LedgerEvent::PlanCancelled(PlanCancelled {});
    ledger::repo::append_plan(&mut tx, plan_id, now, &actor.id, &event).await?;
    tx.commit().await?;
    plan(state, actor, plan_id).await
}

pub async fn intentions(state: &AppState, q: &str, region: &str) -> AppResult<Vec<IntentionView>> {
    Ok(repo::intentions(&state.db.pool, q.trim(), region).await?)
}

pub async fn intention(state: &AppState, id: &str) -> AppResult<IntentionView> {
    repo::plan_of_intention(&state.db.pool, id)
        .await?
        .filter(|p| p.status != CANCELLED)
        .and_then(|p| p.intention)
        .ok_or(AppError::NotFound)
}

/// Budget execution for `year` (0: this year) grouped by unit, region or category.
pub async fn execution(state: &AppState, year: i32, group: Group) -> AppResult<Vec<ExecutionRow>> {
    let year = match year {
        0 => chrono::Datelike::year(&crate::clock::cst_date(state.clock.now_ms())),
        y => y,
    };
    Ok(repo::execution(&state.db.pool, year, group).await?)
}

/// What a tender is, as its plan checks it.
pub struct TenderDraw<'a> {
    pub tender_id: &'a str,
    pub purchaser_org_id: &'a str,
    pub category: &'a str,
    pub method: ProcurementMethod,
    pub budget_fen: i64,
}

/// R-PLAN-2, inside the tender's transaction: the tender draws `budget_fen` from its plan,
/// which must be filed, of the tender's purchasing unit, category and method, and have that
/// much left. Replaces what the tender drew before.
pub async fn commit_budget(
    tx: &mut Tx,
    plan_id: &str,
    t: &TenderDraw<'_>,
    actor: &str,
    now: i64,
) -> AppResult<()> {
    let p = repo::lock_plan(tx, plan_id, now)
        .await?
        .ok_or(PlanError::PlanMismatch("采购计划不存在 / no such plan"))?;
    let mismatch = if p.status != FILED {
        Some("计划已撤销 / the plan is cancelled")
    } else if p.org_id != t.purchaser_org_id {
        Some("计划属于其他采购单位 / the plan is another unit's")
    } else if p.category != t.category {
        Some("品目类别不同 / another category")
    } else if p.method != t.method.as_str() {
        Some("采购方式不同 / another method")
    } else {
        None
    };
    if let Some(m) = mismatch {
        return Err(PlanError::PlanMismatch(m).into());
    }
    let others = repo::committed(tx, plan_id, t.tender_id).await?;
    rules::check_tender_budget(p.amount_fen, others, t.budget_fen)?;
    drawn(tx, plan_id, t.tender_id, t.budget_fen, actor, now).await
}

/// A cancelled tender returns what it drew to its plan.
pub async fn release_budget(
    tx: &mut Tx,
    plan_id: &str,
    tender_id: &str,
    actor: &str,
    now: i64,
) -> AppResult<()> {
    repo::lock_plan(tx, plan_id, now).await?;
    drawn(tx, plan_id, tender_id, 0, actor, now).await
}

/// Records what a tender draws from the plan, in its table and its chain.
async fn drawn(
    tx: &mut Tx,
    plan_id: &str,
    tender_id: &str,
    amount_fen: i64,
    actor: &str,
    now: i64,
) -> AppResult<()> {
    repo::set_commitment(tx, plan_id, tender_id, amount_fen).await?;
    let event = LedgerEvent::PlanDrawn(PlanDrawn {
        tender_id: tender_id.to_string(),
        amount_fen,
    });
    ledger::repo::append_plan(tx, plan_id, now, actor, &event).await?;
    Ok(())
}

/// The plan's chain, for who may see the plan (`kaibiao verify` checks it offline).
pub async fn ledger(state: &AppState, user: &CurrentUser, plan_id: &str) -> AppResult<Ledger> {
    plan(state, user, plan_id).await?;
    Ok(ledger::repo::load_plan(&state.db.pool, plan_id).await?)
}

/// R-PLAN-1 at the tender's publication: its plan's intention has been public for 30 days,
/// or the plan records a lawful exception.
pub async fn check_publication(
    state: &AppState,
    tx: &mut Tx,
    plan_id: &str,
    now: i64,
) -> AppResult<()> {
    let p = repo::lock_plan(tx, plan_id, now)
        .await?
        .ok_or(PlanError::PlanMismatch("采购计划不存在 / no such plan"))?;
    let exception = p
        .intention_exception
        .as_deref()
        .and_then(super::types::IntentionException::parse);
    let deadlines = state.runtime::<Deadlines>();
    rules::check_publication(deadlines, p.intention_published_at, exception, now)?;
    Ok(())
}
