//! Requesting, deciding and recording payments; the view.

use super::repo::{self, Request};
use super::rules;
use super::types::{Ack, Command, ContractPayments, PaymentError, PaymentsView};
use crate::auth::CurrentUser;
use crate::calendar::Deadlines;
use crate::contract::repo::Facts;
use crate::db::Tx;
use crate::error::{optional_text, required_text, AppError, AppResult};
use crate::ledger::repo::append;
use crate::ledger::{LedgerEvent, PaymentDecided, PaymentMade, PaymentRequested};
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::Action;

/// The contract `id` of this tender, or `NOT_FOUND`.
async fn contract_of(tx: &mut Tx, head: &TenderHead, id: &str) -> AppResult<Facts> {
    crate::contract::repo::of_tender(&mut **tx, &head.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A request of this tender with its contract, for the purchasing unit, or `NOT_FOUND`
/// / `FORBIDDEN`.
async fn for_purchaser(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    id: &str,
) -> AppResult<(Request, Facts)> {
    let r = repo::one(&mut **tx, id)
        .await?
        .filter(|r| r.tender_id == head.id)
        .ok_or(AppError::NotFound)?;
    let c = contract_of(tx, head, &r.contract_id).await?;
    if !c.purchaser_is(user) {
        return Err(AppError::Forbidden);
    }
    Ok((r, c))
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
        Command::Request {
            contract_id,
            amount_fen,
            note,
        } => request(tx, user, head, &contract_id, amount_fen, &note, now).await?,
        Command::Approve { request_id } => decide(tx, user, head, &request_id, None, now).await?,
        Command::Reject { request_id, reason } => {
            let reason = required_text("reason", &reason, rules::MAX_NOTE_CHARS)?;
            decide(tx, user, head, &request_id, Some(reason), now).await?
        }
        Command::Pay {
            request_id,
            paid_on,
            reference,
            account_no,
        } => {
            let paid = Paid {
                paid_on: &paid_on,
                reference: &reference,
                account_no: &account_no,
            };
            pay(tx, user, head, &request_id, paid, now).await?
        }
    };
    a.commit(state).await?;
    Ok(ack)
}

/// How much a contract's requests may add up to now, and whether it passed acceptance.
struct Ceiling {
    fen: i64,
    accepted: bool,
}

/// After acceptance, all the contract owes; before it, the schedule's advance on
/// signing and, once a round of acceptance recorded the delivery, its payment on
/// delivery (`rules::requestable_before_acceptance`).
async fn ceiling(conn: &mut sqlx::AnyConnection, c: &Facts) -> AppResult<Ceiling> {
    if crate::acceptance::repo::accepted_at(&mut *conn, &c.id)
        .await?
        .is_some()
    {
        return Ok(Ceiling {
            fen: c.payable_fen(),
            accepted: true,
        });
    }
    let instalments: Vec<crate::contract::rules::Instalment> =
        serde_json::from_value(c.document["terms"]["instalments"].clone()).unwrap_or_default();
    let delivered = crate::acceptance::repo::delivered(&mut *conn, &c.id).await?;
    Ok(Ceiling {
        fen: rules::requestable_before_acceptance(c.amount_fen, &instalments, delivered),
        accepted: false,
    })
}

#[allow(clippy::too_many_arguments)]
async fn request(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    contract_id: &str,
    amount_fen: i64,
    note: &str,
    now: i64,
) -> AppResult<Ack> {
    let c = contract_of(tx, head, contract_id).await?;
    if !c.supplier_is(user) {
        return Err(AppError::Forbidden);
    }
    let ceiling = ceiling(tx, &c).await?;
    let note = optional_text("note", note, rules::MAX_NOTE_CHARS)?;
    let requests = repo::of_contract(&mut **tx, &c.id).await?;
    if requests.len() as i64 >= rules::MAX_REQUESTS {
        return Err(AppError::field(
            "contract_id",
            "该合同的支付申请已达上限 / this contract has its most requests",
        ));
    }
    let committed: i64 = requests
        .iter()
        .filter(|r| r.status != "rejected")
        .map(|r| r.amount_fen)
        .sum();
    if !rules::fits(amount_fen, committed, ceiling.fen) {
        return Err(if ceiling.accepted {
            PaymentError::OverContract
        } else {
            PaymentError::BeforeAcceptance
        }
        .into());
    }
    let id = crate::org::service::new_id();
    sqlx::query(
        "INSERT INTO payment_requests (id, contract_id, tender_id, amount_fen, note, status, \
         requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, 'requested', $6, $7)",
    )
    .bind(&id)
    .bind(&c.id)
    .bind(&head.id)
    .bind(amount_fen)
    .bind(&note)
    .bind(&user.id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let event = PaymentRequested {
        request_id: id.clone(),
        contract_id: c.id,
        amount_fen,
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::PaymentRequested(event),
    )
    .await?;
    Ok(Ack {
        request_id: id,
        status: "requested".into(),
    })
}

/// Approved (`reason` none) or rejected with the reason, once.
async fn decide(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    id: &str,
    reason: Option<String>,
    now: i64,
) -> AppResult<Ack> {
    let (r, _) = for_purchaser(tx, user, head, id).await?;
    if r.status != "requested" {
        return Err(AppError::IllegalTransition {
            from: r.status,
            action: if reason.is_some() {
                "reject"
            } else {
                "approve"
            },
        });
    }
    let status = if reason.is_some() {
        "rejected"
    } else {
        "approved"
    };
    sqlx::query(
        "UPDATE payment_requests SET status = $1, decided_by = $2, decided_at = $3, \
         reason = $4 WHERE id = $5",
    )
    .bind(status)
    .bind(&user.id)
    .bind(now)
    .bind(reason.as_deref())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let event = PaymentDecided {
        request_id: id.to_string(),
        approved: reason.is_none(),
        reason_sha256: reason.map(|r| crate::crypto::sha256_hex(r.as_bytes())),
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::PaymentDecided(event),
    )
    .await?;
    Ok(Ack {
        request_id: id.to_string(),
        status: status.into(),
    })
}

/// What the purchasing unit records of a payment made.
struct Paid<'a> {
    paid_on: &'a str,
    reference: &'a str,
    account_no: &'a str,
}

async fn pay(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    id: &str,
    paid: Paid<'_>,
    now: i64,
) -> AppResult<Ack> {
    let Paid {
        paid_on,
        reference,
        account_no,
    } = paid;
    let (r, c) = for_purchaser(tx, user, head, id).await?;
    if r.status != "approved" {
        return Err(AppError::IllegalTransition {
            from: r.status,
            action: "pay",
        });
    }
    let paid_on = paid_on.trim();
    let day = chrono::NaiveDate::parse_from_str(paid_on, "%Y-%m-%d").ok();
    if day.is_none_or(|d| d > crate::clock::cst_date(now)) {
        return Err(AppError::field(
            "paid_on",
            "支付日期须为不晚于今天的日期（YYYY-MM-DD）/ the day paid, not after today (YYYY-MM-DD)",
        ));
    }
    let reference = required_text("reference", reference, rules::MAX_REFERENCE_CHARS)?;
    let account = match account_no.trim() {
        "" => None,
        given => Some(crate::financing::rules::account_no(given).ok_or_else(|| {
            AppError::field(
                "account_no",
                "收款账号为 8–32 位数字 / the account is 8–32 digits",
            )
        })?),
    };
    // A financed contract is paid into the account its bank approved, and nowhere else.
    let financing = crate::financing::repo::pay_to(&mut **tx, &c.id).await?;
    if let Some(to) = &financing {
        if account.as_deref() != Some(to.account_no.as_str()) {
            return Err(PaymentError::NotFinancingAccount.into());
        }
    }
    sqlx::query(
        "UPDATE payment_requests SET status = 'paid', paid_by = $1, paid_at = $2, \
         paid_on = $3, reference = $4, paid_account = $5 WHERE id = $6",
    )
    .bind(&user.id)
    .bind(now)
    .bind(paid_on)
    .bind(&reference)
    .bind(account.as_deref())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let total_paid_fen: i64 = repo::of_contract(&mut **tx, &c.id)
        .await?
        .iter()
        .filter(|r| r.status == "paid")
        .map(|r| r.amount_fen)
        .sum();
    let event = PaymentMade {
        request_id: id.to_string(),
        contract_id: c.id,
        amount_fen: r.amount_fen,
        paid_on: paid_on.to_string(),
        reference,
        total_paid_fen,
        financing_application_id: financing.map(|f| f.application_id),
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::PaymentMade(event),
    )
    .await?;
    Ok(Ack {
        request_id: id.to_string(),
        status: "paid".into(),
    })
}

pub async fn view(
    state: &AppState,
    user: Option<&CurrentUser>,
    tender_id: &str,
) -> AppResult<PaymentsView> {
    let pool = &state.db.pool;
    crate::tender::repo::published_head(pool, tender_id).await?;
    let deadlines = state.runtime::<Deadlines>();
    let mut out = Vec::new();
    for c in crate::contract::repo::signed_of_tender(pool, tender_id).await? {
        if !crate::acceptance::service::reads(user, &c) {
            continue;
        }
        let accepted_at = crate::acceptance::repo::accepted_at(pool, &c.id).await?;
        let requests: Vec<_> = repo::of_contract(pool, &c.id)
            .await?
            .into_iter()
            .map(|r| r.view)
            .collect();
        let paid_fen: i64 = requests
            .iter()
            .filter(|r| r.status == "paid")
            .map(|r| r.amount_fen)
            .sum();
        let settled_at = (paid_fen >= c.payable_fen())
            .then(|| requests.iter().filter_map(|r| r.paid_at).max())
            .flatten();
        let committed: i64 = requests
            .iter()
            .filter(|r| r.status != "rejected")
            .map(|r| r.amount_fen)
            .sum();
        let requestable_fen =
            (ceiling(&mut *pool.acquire().await?, &c).await?.fen - committed).max(0);
        out.push(ContractPayments {
            may_request: user.is_some_and(|u| c.supplier_is(u)) && requestable_fen > 0,
            requestable_fen,
            purchaser: user.is_some_and(|u| c.purchaser_is(u)),
            due_at: accepted_at.map(|a| deadlines.due_after(rules::term(c.payment_days()), a)),
            contract_id: c.id.clone(),
            contract_no: c.document["contract_no"].clone(),
            lot_no: c.lot_no,
            supplier: c.document["supplier"].clone(),
            sme: c.sme(),
            payment_days: c.payment_days(),
            payable_fen: c.payable_fen(),
            paid_fen,
            pay_to: crate::financing::repo::pay_to(pool, &c.id).await?,
            accepted_at,
            settled_at,
            requests,
        });
    }
    Ok(PaymentsView {
        tender_id: tender_id.to_string(),
        contracts: out,
    })
}
