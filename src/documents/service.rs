//! Obtaining the documents, questions and answers: one transaction per action, under the
//! tender's lock (`tender::Action`), with its event.

use super::repo::{self, NewQuestion};
use super::rules;
use super::types::{
    AnswerInput, DocumentsError, HolderView, ObtainedView, QuestionInput, QuestionView,
};
use crate::auth::{CurrentUser, Role};
use crate::calendar::deadlines::DeadlineRule;
use crate::calendar::Deadlines;
use crate::crypto::sha256_hex;
use crate::error::{required_text, AppError, AppResult};
use crate::ledger::{self, DocumentsObtained, LedgerEvent, QuestionAnswered, QuestionAsked};
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::types::TenderStatus;
use crate::tender::Action;

/// Questions one supplier may ask on one tender.
const MAX_QUESTIONS: i64 = 20;
const MAX_QUESTION: usize = 2000;
const MAX_ANSWER: usize = 4000;

/// The tender as a supplier sees it: published (else not found), before its deadline;
/// `action` names what the supplier does, for the error of a tender past publication.
pub fn open_to_suppliers(head: &TenderHead, now: i64, action: &'static str) -> AppResult<()> {
    if head.status == TenderStatus::Draft || head.status == TenderStatus::Cancelled {
        return Err(AppError::NotFound);
    }
    if now >= head.bid_deadline {
        return Err(AppError::DeadlinePassed);
    }
    if head.status != TenderStatus::Published {
        return Err(AppError::IllegalTransition {
            from: head.status.as_str().to_string(),
            action,
        });
    }
    Ok(())
}

/// The supplier's organisation, or `FORBIDDEN` for anyone else.
pub fn supplier_org(user: &CurrentUser) -> AppResult<&str> {
    match (user.role, user.org_id.as_deref()) {
        (Role::Supplier, Some(org)) => Ok(org),
        _ => Err(AppError::Forbidden),
    }
}

/// A supplier obtains the documents (once; again is the same answer).
pub async fn obtain(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<ObtainedView> {
    let org = supplier_org(user)?;
    let mut a = Action::begin(state, tender_id).await?;
    open_to_suppliers(&a.head, a.now, "documents")?;
    if let Some(at) = repo::holder_since(&mut *a.tx, tender_id, org).await? {
        return Ok(ObtainedView {
            tender_id: tender_id.into(),
            obtained_at: at,
        });
    }
    repo::insert_holder(&mut a.tx, tender_id, org, &user.id, a.now, &user.client_ip).await?;
    let event = LedgerEvent::DocumentsObtained(DocumentsObtained { org_id: org.into() });
    ledger::repo::append_bid(&mut a.tx, tender_id, a.now, &user.id, &event).await?;
    let at = a.now;
    a.commit(state).await?;
    Ok(ObtainedView {
        tender_id: tender_id.into(),
        obtained_at: at,
    })
}

/// The documents from the template (`template::render`): for a supplier that obtained
/// them, and for the tender's members — the agency previews them while drafting, with the
/// template's warnings; a supplier never sees those.
pub async fn document(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<crate::tender::template::TenderDocument> {
    let head = head(state, tender_id).await?;
    if user.role == Role::Supplier {
        let org = supplier_org(user)?;
        if matches!(head.status, TenderStatus::Draft | TenderStatus::Cancelled) {
            return Err(DocumentsError::NotObtained.into());
        }
        check_held(state, tender_id, org).await?;
    } else if !crate::tender::service::can_see(user, &head) {
        return Err(AppError::NotFound);
    }
    let mut conn = state.db.pool.acquire().await?;
    let mut doc = crate::tender::template::render_of(&mut conn, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if user.role == Role::Supplier {
        doc.warnings.clear();
    }
    Ok(doc)
}

/// `DOCUMENTS_NOT_OBTAINED` unless organisation `org` obtained the documents of the
/// tender: asked when a bid starts.
pub async fn check_held(state: &AppState, tender_id: &str, org: &str) -> AppResult<()> {
    match repo::holder_since(&state.db.pool, tender_id, org).await? {
        Some(_) => Ok(()),
        None => Err(DocumentsError::NotObtained.into()),
    }
}

/// Whether the caller's organisation holds the documents.
pub async fn mine(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<ObtainedView> {
    let org = supplier_org(user)?;
    let at = repo::holder_since(&state.db.pool, tender_id, org)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(ObtainedView {
        tender_id: tender_id.into(),
        obtained_at: at,
    })
}

async fn head(state: &AppState, tender_id: &str) -> AppResult<TenderHead> {
    crate::tender::repo::head(&state.db.pool, tender_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Who obtained the documents: the supervisors at any time; the tender's agency and
/// purchaser only once the bids are no longer secret (R-DOC-3).
pub async fn holders(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<Vec<HolderView>> {
    let head = head(state, tender_id).await?;
    let member = crate::tender::service::can_see(user, &head);
    if !member {
        return Err(AppError::NotFound);
    }
    if !user.role.is_supervisor() && head.bids_secret(state.clock.now_ms()) {
        return Err(AppError::Forbidden);
    }
    Ok(repo::holders(&state.db.pool, tender_id).await?)
}

/// A holder asks before the clarification deadline; the agency owes an answer within 3
/// working days (R-CHAL-1).
pub async fn ask(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    q: QuestionInput,
) -> AppResult<QuestionView> {
    let org = supplier_org(user)?;
    let body = required_text("text", &q.text, MAX_QUESTION)?;
    // Published with its answer to every holder: the question may not name its asker.
    let asker = crate::org::repo::org(&state.db.pool, org)
        .await?
        .ok_or(AppError::Forbidden)?;
    let ids = rules::identifiers(
        &asker.name,
        &asker.credit_code,
        &user.display_name,
        &user.username,
    );
    if rules::reveals(&body, &ids) {
        return Err(DocumentsError::QuestionRevealsAsker.into());
    }
    let mut a = Action::begin(state, tender_id).await?;
    open_to_suppliers(&a.head, a.now, "documents")?;
    if a.now >= a.head.clarify_deadline {
        return Err(DocumentsError::QuestionsClosed.into());
    }
    if repo::holder_since(&mut *a.tx, tender_id, org)
        .await?
        .is_none()
    {
        return Err(DocumentsError::NotObtained.into());
    }
    if repo::questions_by(&mut a.tx, tender_id, org).await? >= MAX_QUESTIONS {
        return Err(AppError::RateLimited {
            what: "questions",
            retry_after_secs: 3600,
        });
    }
    let id = crate::org::service::new_id();
    let due = state
        .runtime::<Deadlines>()
        .due(DeadlineRule::QuestionReply, a.now);
    repo::insert_question(
        &mut a.tx,
        &NewQuestion {
            id: &id,
            tender_id,
            org_id: org,
            user_id: &user.id,
            text: &body,
            at: a.now,
            reply_due_at: due,
        },
    )
    .await?;
    let event = LedgerEvent::QuestionAsked(QuestionAsked {
        question_id: id.clone(),
        text_sha256: sha256_hex(body.as_bytes()),
        reply_due_at: due,
    });
    ledger::repo::append_bid(&mut a.tx, tender_id, a.now, &user.id, &event).await?;
    let at = a.now;
    a.commit(state).await?;
    Ok(QuestionView {
        id,
        text: body,
        asked_at: at,
        reply_due_at: due,
        answer: None,
        answered_at: None,
        mine: true,
        asker_org_name: None,
    })
}

/// The questions as `user` may see them: the agency and purchaser all, anonymous; the
/// supervisors all, with the asker; a holder the answered ones and its own.
pub async fn questions(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<Vec<QuestionView>> {
    let head = head(state, tender_id).await?;
    let rows = repo::questions(&state.db.pool, tender_id).await?;
    let view = |r: repo::QuestionRow, mine: bool, asker: bool| QuestionView {
        mine,
        asker_org_name: asker.then(|| r.org_name.clone()),
        id: r.id,
        text: r.text,
        asked_at: r.asked_at,
        reply_due_at: r.reply_due_at,
        answer: r.answer,
        answered_at: r.answered_at,
    };
    if user.role == Role::Supplier {
        let org = supplier_org(user)?;
        if head.status == TenderStatus::Draft {
            return Err(DocumentsError::NotObtained.into());
        }
        check_held(state, tender_id, org).await?;
        return Ok(rows
            .into_iter()
            .filter(|r| r.org_id == org || r.answer.is_some())
            .map(|r| {
                let mine = r.org_id == org;
                view(r, mine, false)
            })
            .collect());
    }
    if !crate::tender::service::can_see(user, &head) {
        return Err(AppError::NotFound);
    }
    let supervisor = user.role.is_supervisor();
    Ok(rows
        .into_iter()
        .map(|r| view(r, false, supervisor))
        .collect())
}

/// The agency answers; the answer goes to every holder with the question, never the asker.
pub async fn answer(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    question_id: &str,
    input: AnswerInput,
) -> AppResult<QuestionView> {
    let body = required_text("text", &input.text, MAX_ANSWER)?;
    let mut a = Action::begin(state, tender_id).await?;
    if user.role != Role::Agency || user.org_id.as_deref() != Some(a.head.agency_org_id.as_str()) {
        return Err(AppError::Forbidden);
    }
    let q = repo::question(&mut a.tx, tender_id, question_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if q.answer.is_some() {
        return Err(DocumentsError::AlreadyAnswered.into());
    }
    let ids = rules::identifiers(
        &q.org_name,
        &q.credit_code,
        &q.user_display_name,
        &q.username,
    );
    if rules::reveals(&body, &ids) {
        return Err(DocumentsError::AnswerRevealsAsker.into());
    }
    repo::answer(&mut a.tx, question_id, &body, &user.id, a.now).await?;
    let event = LedgerEvent::QuestionAnswered(QuestionAnswered {
        question_id: question_id.into(),
        question: q.text.clone(),
        answer: body.clone(),
    });
    ledger::repo::append(&mut a.tx, tender_id, a.now, &user.id, &event).await?;
    let at = a.now;
    a.commit(state).await?;
    Ok(QuestionView {
        id: q.id,
        text: q.text,
        asked_at: q.asked_at,
        reply_due_at: q.reply_due_at,
        answer: Some(body),
        answered_at: Some(at),
        mine: false,
        asker_org_name: None,
    })
}
