//! Applying for financing, the bank's decision, and what each side reads.

use serde_json::json;

use super::repo;
use super::rules;
use super::types::{
    Ack, ApplicationView, Bank, BankCase, Command, CreditSummary, FinancingError, TenderFinancing,
};
use crate::auth::{CurrentUser, Role};
use crate::contract::repo::Facts;
use crate::db::Tx;
use crate::error::{optional_text, required_text, AppError, AppResult};
use crate::ledger::repo::append;
use crate::ledger::{FinancingApplied, FinancingDecided, LedgerEvent};
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::Action;

fn is_bank(user: &CurrentUser, a: &ApplicationView) -> bool {
    user.role == Role::Bank && user.org_id.as_deref() == Some(a.bank_org_id.as_str())
}

async fn contract_of(tx: &mut Tx, head: &TenderHead, id: &str) -> AppResult<Facts> {
    crate::contract::repo::of_tender(&mut **tx, &head.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn command(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    cmd: Command,
) -> AppResult<Ack> {
    let mut a = Action::begin(state, tender_id).await?;
    let (tx, head, now) = (&mut a.tx, &a.head, a.now);
    let ack = match cmd {
        Command::Apply {
            contract_id,
            bank_org_id,
            amount_fen,
            note,
        } => {
            let c = contract_of(tx, head, &contract_id).await?;
            if !c.supplier_is(user) {
                return Err(AppError::Forbidden);
            }
            if c.signed_at.is_none() {
                return Err(FinancingError::NotSigned.into());
            }
            let note = optional_text("note", &note, rules::MAX_TEXT_CHARS)?;
            let bank: Option<String> =
                sqlx::query_scalar("SELECT id FROM organisations WHERE id = $1 AND kind = 'bank'")
                    .bind(&bank_org_id)
                    .fetch_optional(&mut **tx)
                    .await?;
            if bank.is_none() {
                return Err(AppError::field(
                    "bank_org_id",
                    "请选择平台上的金融机构 / choose a bank on the platform",
                ));
            }
            let open = repo::of_contract(&mut **tx, &c.id)
                .await?
                .into_iter()
                .any(|a| a.status != "declined");
            if open {
                return Err(FinancingError::Pending.into());
            }
            if !rules::fits(amount_fen, c.payable_fen()) {
                return Err(FinancingError::OverContract.into());
            }
            let id = crate::org::service::new_id();
            sqlx::query(
                "INSERT INTO financing_applications (id, tender_id, contract_id, \
                 supplier_org_id, bank_org_id, amount_fen, note, status, applied_by, \
                 applied_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'applied', $8, $9)",
            )
            .bind(&id)
            .bind(&head.id)
            .bind(&c.id)
            .bind(&c.supplier_org_id)
            .bind(&bank_org_id)
            .bind(amount_fen)
            .bind(&note)
            .bind(&user.id)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            let record = json!({"application_id": id, "contract_id": c.id,
                "bank_org_id": bank_org_id, "amount_fen": amount_fen, "note": note});
            let event = FinancingApplied {
                application_id: id.clone(),
                contract_id: c.id.clone(),
                application_sha256: crate::ledger::canonical_sha256(&record),
            };
            append(
                tx,
                &head.id,
                now,
                &user.id,
                &LedgerEvent::FinancingApplied(event),
            )
            .await?;
            Ack {
                application_id: id,
                status: "applied".into(),
            }
        }
        Command::Approve {
            application_id,
            amount_fen,
            account_name,
            account_no,
        } => {
            let app = open_for_bank(tx, user, head, &application_id).await?;
            let account_name =
                required_text("account_name", &account_name, rules::MAX_ACCOUNT_NAME_CHARS)?;
            let account_no = rules::account_no(&account_no).ok_or_else(|| {
                AppError::field("account_no", "账号为 8 至 32 位数字 / 8 to 32 digits")
            })?;
            if !rules::fits(amount_fen, app.amount_fen) {
                return Err(FinancingError::OverContract.into());
            }
            let decision = json!({"application_id": app.id, "approved": true,
                "amount_fen": amount_fen, "account_name": account_name, "account_no": account_no});
            decide(
                tx,
                user,
                &app,
                now,
                Decision::Approved {
                    amount_fen,
                    account_name: &account_name,
                    account_no: &account_no,
                },
            )
            .await?;
            append_decision(tx, user, head, &app, true, &decision, now).await?;
            Ack {
                application_id: app.id,
                status: "approved".into(),
            }
        }
        Command::Decline {
            application_id,
            reason,
        } => {
            let app = open_for_bank(tx, user, head, &application_id).await?;
            let reason = required_text("reason", &reason, rules::MAX_TEXT_CHARS)?;
            let decision = json!({"application_id": app.id, "approved": false, "reason": reason});
            decide(tx, user, &app, now, Decision::Declined { reason: &reason }).await?;
            append_decision(tx, user, head, &app, false, &decision, now).await?;
            Ack {
                application_id: app.id,
                status: "declined".into(),
            }
        }
    };
    a.commit(state).await?;
    Ok(ack)
}

/// An application of this tender addressed to the user's bank and still open; another
/// bank's is `NOT_FOUND` (it does not learn that it exists).
async fn open_for_bank(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    id: &str,
) -> AppResult<ApplicationView> {
    let app = repo::one(&mut **tx, id)
        .await?
        .filter(|a| a.tender_id == head.id && is_bank(user, a))
        .ok_or(AppError::NotFound)?;
    if app.status != "applied" {
        return Err(AppError::IllegalTransition {
            from: app.status,
            action: "decide",
        });
    }
    Ok(app)
}

enum Decision<'a> {
    Approved {
        amount_fen: i64,
        account_name: &'a str,
        account_no: &'a str,
    },
    Declined {
        reason: &'a str,
    },
}

async fn decide(
    tx: &mut Tx,
    user: &CurrentUser,
    app: &ApplicationView,
    now: i64,
    d: Decision<'_>,
) -> AppResult<()> {
    let (status, amount, name, no, reason) = match d {
        Decision::Approved {
            amount_fen,
            account_name,
            account_no,
        } => (
            "approved",
            Some(amount_fen),
            Some(account_name),
            Some(account_no),
            None,
        ),
        Decision::Declined { reason } => ("declined", None, None, None, Some(reason)),
    };
    sqlx::query(
        "UPDATE financing_applications SET status = $1, approved_fen = $2, account_name = $3, \
         account_no = $4, reason = $5, decided_by = $6, decided_at = $7 WHERE id = $8",
    )
    .bind(status)
    .bind(amount)
    .bind(name)
    .bind(no)
    .bind(reason)
    .bind(&user.id)
    .bind(now)
    .bind(&app.id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn append_decision(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    app: &ApplicationView,
    approved: bool,
    decision: &serde_json::Value,
    now: i64,
) -> AppResult<()> {
    // The ledger keeps the decision by digest: the parties and the bank can show what was
    // decided (and, approved, the account the contract is now paid into); the public
    // ledger does not tell a supplier's loans.
    let event = FinancingDecided {
        application_id: app.id.clone(),
        contract_id: app.contract_id.clone(),
        approved,
        decision_sha256: crate::ledger::canonical_sha256(decision),
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::FinancingDecided(event),
    )
    .await?;
    Ok(())
}

/// The tender's applications: to the contract's parties (the purchaser, whose payments
/// go to the account; the supplier) and the supervisors; a bank reads its own cases at
/// `/api/financing`.
pub async fn tender_view(
    state: &AppState,
    user: Option<&CurrentUser>,
    tender_id: &str,
) -> AppResult<TenderFinancing> {
    let pool = &state.db.pool;
    crate::tender::repo::published_head(pool, tender_id).await?;
    let contracts = crate::contract::repo::signed_of_tender(pool, tender_id).await?;
    let applications = repo::of_tender(pool, tender_id)
        .await?
        .into_iter()
        .filter(|a| {
            contracts
                .iter()
                .find(|c| c.id == a.contract_id)
                .is_some_and(|c| crate::acceptance::service::reads(user, c))
        })
        .collect::<Vec<_>>();
    let may_apply = contracts
        .iter()
        .filter(|c| user.is_some_and(|u| c.supplier_is(u)))
        .filter(|c| {
            !applications
                .iter()
                .any(|a| a.contract_id == c.id && a.status != "declined")
        })
        .map(|c| c.id.clone())
        .collect();
    Ok(TenderFinancing {
        tender_id: tender_id.to_string(),
        applications,
        may_apply,
    })
}

async fn case(state: &AppState, app: ApplicationView) -> AppResult<BankCase> {
    let pool = &state.db.pool;
    let c = crate::contract::repo::facts(pool, &app.contract_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = state.clock.now_ms();
    let records_in_force = crate::supplier::repo::records(pool, &app.supplier_org_id)
        .await?
        .into_iter()
        .filter(|r| r.from_at <= now && r.until_at.is_none_or(|u| u > now))
        .map(|r| json!({"list": r.list, "reason": r.reason, "from_at": r.from_at, "until_at": r.until_at}))
        .collect();
    let ratings =
        crate::rating::repo::summaries(pool, Some(std::slice::from_ref(&app.supplier_org_id)))
            .await?
            .into_iter()
            .next();
    Ok(BankCase {
        contract_sha256: crate::ledger::canonical_sha256(&c.document),
        payable_fen: c.payable_fen(),
        contract: c.document,
        credit: CreditSummary {
            records_in_force,
            ratings,
        },
        application: app,
    })
}

/// A bank's cases: the applications addressed to it, each with its contract and the
/// supplier's credit summary.
pub async fn cases(state: &AppState, user: &CurrentUser) -> AppResult<Vec<BankCase>> {
    let org = user.org_id.as_deref().ok_or(AppError::Forbidden)?;
    let mut out = Vec::new();
    for app in repo::of_org(&state.db.pool, org, true).await? {
        out.push(case(state, app).await?);
    }
    Ok(out)
}

/// One case of the user's bank; another bank's is `NOT_FOUND`.
pub async fn one_case(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<BankCase> {
    let app = repo::one(&state.db.pool, id)
        .await?
        .filter(|a| is_bank(user, a))
        .ok_or(AppError::NotFound)?;
    case(state, app).await
}

pub async fn banks(state: &AppState) -> AppResult<Vec<Bank>> {
    Ok(repo::banks(&state.db.pool).await?)
}
