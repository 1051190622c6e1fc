//! Recording a deposit, reading the list, refunds, and the check at a bid's start: one
//! transaction per action, under the tender's lock (`tender::Action`), with its event in
//! the bid register.

use super::repo::{self, DepositRow, NewDeposit};
use crate::auth::{CurrentUser, Role};
use crate::calendar::deadlines::DeadlineRule;
use crate::calendar::Deadlines;
use crate::crypto::sha256_hex;
use crate::deposit::rules;
use crate::deposit::types::{DepositError, DepositInput, DepositKind, DepositView, RefundInput};
use crate::documents::service::{open_to_suppliers, supplier_org};
use crate::error::{required_text, AppError, AppResult};
use crate::ledger::{self, DepositRecorded, DepositRefunded, Kind, LedgerEvent};
use crate::money::Money;
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::types::TenderStatus;
use crate::tender::Action;

const MAX_TEXT: usize = 100;

/// The ledger events that end a tender, from which its deposits are due back.
pub const ENDINGS: &[Kind] = &[
    Kind::WinnerConfirmed,
    Kind::OpeningFailed,
    Kind::EvaluationFailed,
    Kind::TenderCancelled,
];

/// The states in which deposits are refunded.
pub const ENDED: [TenderStatus; 3] = [
    TenderStatus::Awarded,
    TenderStatus::Failed,
    TenderStatus::Cancelled,
];

/// R-DEP-1: deposits are due back by 24:00 of the 5th working day after the tender ended
/// (None while it runs).
pub async fn refund_due<'e, E>(
    state: &AppState,
    exec: E,
    head: &TenderHead,
) -> AppResult<Option<i64>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if !ENDED.contains(&head.status) {
        return Ok(None);
    }
    let ended = ledger::repo::last_at(exec, &head.id, ENDINGS).await?;
    Ok(ended.map(|at| {
        state
            .runtime::<Deadlines>()
            .due(DeadlineRule::DepositReturn, at)
    }))
}

fn view(r: DepositRow, due: Option<i64>, now: i64, shared_account: bool) -> DepositView {
    DepositView {
        kind: DepositKind::parse(&r.kind).unwrap_or(DepositKind::Payment),
        amount_fen: Money(r.amount_fen),
        refund_due_at: due,
        overdue: due.is_some_and(|d| rules::refund_overdue(d, r.refunded_at, now)),
        shared_account,
        tender_id: r.tender_id,
        org_id: r.org_id,
        org_name: r.org_name,
        payer_name: r.payer_name,
        bank: r.bank,
        account_no: r.account_no,
        transfer_ref: r.transfer_ref,
        issuer: r.issuer,
        guarantee_no: r.guarantee_no,
        valid_until: r.valid_until,
        recorded_at: r.recorded_at,
        refunded_at: r.refunded_at,
        refund_ref: r.refund_ref,
    }
}

/// The fields of a deposit as kept: texts trimmed and required, the account as digits, a
/// guarantee valid until the bid deadline.
fn checked(input: &DepositInput, bid_deadline: i64) -> AppResult<NewDeposit> {
    Ok(match input {
        DepositInput::Payment {
            amount_fen,
            payer_name,
            bank,
            account_no,
            transfer_ref,
        } => NewDeposit {
            kind: DepositKind::Payment,
            amount_fen: amount_fen.fen(),
            payer_name: Some(required_text("payer_name", payer_name, MAX_TEXT)?),
            bank: Some(required_text("bank", bank, MAX_TEXT)?),
            account_no: Some(rules::normalise_account(account_no).ok_or_else(|| {
                AppError::field(
                    "account_no",
                    "账号须为 6–32 位数字 / an account number is 6–32 digits",
                )
            })?),
            transfer_ref: Some(required_text("transfer_ref", transfer_ref, MAX_TEXT)?),
            issuer: None,
            guarantee_no: None,
            valid_until: None,
        },
        DepositInput::Guarantee {
            amount_fen,
            issuer,
            guarantee_no,
            valid_until,
        } => {
            let new = NewDeposit {
                kind: DepositKind::Guarantee,
                amount_fen: amount_fen.fen(),
                payer_name: None,
                bank: None,
                account_no: None,
                transfer_ref: None,
                issuer: Some(required_text("issuer", issuer, MAX_TEXT)?),
                guarantee_no: Some(required_text("guarantee_no", guarantee_no, MAX_TEXT)?),
                valid_until: Some(*valid_until),
            };
            if !rules::guarantee_valid(*valid_until, bid_deadline) {
                return Err(DepositError::GuaranteeExpires.into());
            }
            new
        }
    })
}

/// A supplier records its deposit before the bid deadline (once; again is the same
/// record).
#[tracing::instrument(skip_all, fields(tender = %tender_id), err)]
pub async fn record(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    input: DepositInput,
) -> AppResult<DepositView> {
    let org = supplier_org(user)?;
    let mut a = Action::begin(state, tender_id).await?;
    open_to_suppliers(&a.head, a.now, "deposit")?;
    let required = a.head.deposit_fen.ok_or(DepositError::NotRequired)?;
    if let Some(r) = repo::deposit(&mut *a.tx, tender_id, org).await? {
        return Ok(view(r, None, a.now, false));
    }
    let new = checked(&input, a.head.bid_deadline)?;
    if !rules::covers(Money(new.amount_fen), required) {
        return Err(DepositError::BelowRequired {
            required: required.fen(),
        }
        .into());
    }
    repo::insert(&mut a.tx, tender_id, org, &user.id, &new, a.now).await?;
    let event = LedgerEvent::DepositRecorded(DepositRecorded {
        org_id: org.into(),
        kind: new.kind.as_str().into(),
        amount_fen: new.amount_fen,
        account_sha256: new.account_no.as_ref().map(|n| sha256_hex(n.as_bytes())),
        valid_until: new.valid_until,
    });
    ledger::repo::append_bid(&mut a.tx, tender_id, a.now, &user.id, &event).await?;
    let row = repo::deposit(&mut *a.tx, tender_id, org)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = a.now;
    a.commit(state).await?;
    Ok(view(row, None, now, false))
}

async fn head(state: &AppState, tender_id: &str) -> AppResult<TenderHead> {
    crate::tender::repo::head(&state.db.pool, tender_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The caller's organisation's deposit.
pub async fn mine(state: &AppState, user: &CurrentUser, tender_id: &str) -> AppResult<DepositView> {
    let org = supplier_org(user)?;
    let head = head(state, tender_id).await?;
    let row = repo::deposit(&state.db.pool, tender_id, org)
        .await?
        .ok_or(AppError::NotFound)?;
    let due = refund_due(state, &state.db.pool, &head).await?;
    Ok(view(row, due, state.clock.now_ms(), false))
}

/// Who recorded a deposit: the supervisors at any time; the tender's agency and purchaser
/// once the bids are no longer secret, or the tender was cancelled before its deadline
/// (R-DOC-3: no opening will tell them, and they refund).
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<Vec<DepositView>> {
    let head = head(state, tender_id).await?;
    if !crate::tender::service::can_see(user, &head) {
        return Err(AppError::NotFound);
    }
    let now = state.clock.now_ms();
    if !user.role.is_supervisor() && head.bids_secret(now) && head.status != TenderStatus::Cancelled
    {
        return Err(AppError::Forbidden);
    }
    let rows = repo::deposits(&state.db.pool, tender_id).await?;
    let due = refund_due(state, &state.db.pool, &head).await?;
    let shared = |r: &DepositRow| {
        r.account_no.is_some() && rows.iter().filter(|o| o.account_no == r.account_no).count() > 1
    };
    let flags: Vec<bool> = rows.iter().map(shared).collect();
    Ok(rows
        .into_iter()
        .zip(flags)
        .map(|(r, s)| view(r, due, now, s))
        .collect())
}

/// The agency records a deposit's refund (a guarantee's release) after the tender ended;
/// again is the same record.
#[tracing::instrument(skip_all, fields(tender = %tender_id), err)]
pub async fn refund(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    org_id: &str,
    input: RefundInput,
) -> AppResult<DepositView> {
    let reference: String = input.reference.trim().chars().take(MAX_TEXT).collect();
    let mut a = Action::begin(state, tender_id).await?;
    if !crate::tender::service::can_see(user, &a.head) {
        return Err(AppError::NotFound);
    }
    if user.role != Role::Agency {
        return Err(AppError::Forbidden);
    }
    if !ENDED.contains(&a.head.status) {
        return Err(DepositError::NotRefundable.into());
    }
    let row = repo::deposit(&mut *a.tx, tender_id, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let due = refund_due(state, &mut *a.tx, &a.head)
        .await?
        .ok_or(DepositError::NotRefundable)?;
    if row.refunded_at.is_some() {
        return Ok(view(row, Some(due), a.now, false));
    }
    repo::refund(&mut a.tx, tender_id, org_id, &user.id, &reference, a.now).await?;
    let event = LedgerEvent::DepositRefunded(DepositRefunded {
        org_id: org_id.into(),
        refund_due_at: due,
    });
    // The register is closed at the deadline (`bids_sealed` names its head, and `kaibiao
    // verify` checks that nothing follows): a refund after it goes to the tender's chain,
    // where who paid is no longer secret; one before it (a tender cancelled early) stays in
    // the register, withheld like the deposits themselves.
    if a.head.bids_secret(a.now) {
        ledger::repo::append_bid(&mut a.tx, tender_id, a.now, &user.id, &event).await?;
    } else {
        ledger::repo::append(&mut a.tx, tender_id, a.now, &user.id, &event).await?;
    }
    let row = repo::deposit(&mut *a.tx, tender_id, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = a.now;
    a.commit(state).await?;
    Ok(view(row, Some(due), now, false))
}

/// At a bid's start: a tender that asks a deposit takes bids only from suppliers that
/// recorded one (`DEPOSIT_MISSING`).
pub async fn check_recorded(state: &AppState, org_id: &str, tender_id: &str) -> AppResult<()> {
    let head = head(state, tender_id).await?;
    if head.deposit_fen.is_none() {
        return Ok(());
    }
    match repo::deposit(&state.db.pool, tender_id, org_id).await? {
        Some(_) => Ok(()),
        None => Err(DepositError::Missing.into()),
    }
}
