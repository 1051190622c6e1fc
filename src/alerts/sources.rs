//! Where deadlines come from: one function per kind of deadline, each reading its stage
//! through the stage's own `repo` and handing over the deadlines that are open (or were
//! missed: closed at or after their instant) and whose first alert falls within
//! [`rules::LOOKAHEAD_MS`]. A later stage (challenges, contracts, payment) adds its
//! deadlines by adding a function to [`all`]; nothing else changes (docs/alerts.md).

use futures_util::future::BoxFuture;
use futures_util::FutureExt;

use super::rules::LOOKAHEAD_MS;
use super::types::{Audience, Deadline, Notice, Subject};
use crate::auth::Role;
use crate::calendar::deadlines::DeadlineRule;
use crate::calendar::Deadlines;
use crate::state::AppState;

/// Most deadlines one source hands over per run (the latest first, so that the oldest,
/// long since alerted, are the ones left out).
pub const LIMIT: i64 = 500;

/// How long after a deadline was missed, or a tender became publishable, its alerts are
/// still made (a server down over it catches up when it starts again).
pub const CATCH_UP_MS: i64 = 30 * DAY;

const DAY: i64 = 86_400_000;

/// A kind of deadline: its name (for the log) and the function that reads them at `now`.
pub struct Source {
    pub name: &'static str,
    pub read: for<'a> fn(&'a AppState, i64) -> BoxFuture<'a, anyhow::Result<Vec<Deadline>>>,
}

/// Every kind of deadline the alerts know.
pub fn all() -> Vec<Source> {
    vec![
        Source {
            name: "single-source decisions",
            read: |state, now| single_source_decisions(state, now).boxed(),
        },
        Source {
            name: "winner confirmations",
            read: |state, now| winner_confirmations(state, now).boxed(),
        },
        Source {
            name: "publishable tenders",
            read: |state, now| publishable_tenders(state, now).boxed(),
        },
        Source {
            name: "question replies",
            read: |state, now| question_replies(state, now).boxed(),
        },
        Source {
            name: "deposit refunds",
            read: |state, now| deposit_refunds(state, now).boxed(),
        },
        Source {
            name: "result announcements",
            read: |state, now| result_announcements(state, now).boxed(),
        },
        Source {
            name: "SME payments",
            read: |state, now| sme_payments(state, now).boxed(),
        },
        Source {
            name: "contract signings",
            read: |state, now| contract_signings(state, now).boxed(),
        },
        Source {
            name: "contract publications and filings",
            read: |state, now| contract_publications(state, now).boxed(),
        },
        Source {
            name: "challenge replies",
            read: |state, now| challenge_replies(state, now).boxed(),
        },
        Source {
            name: "complaint examinations",
            read: |state, now| complaint_deadlines(state, now, false).boxed(),
        },
        Source {
            name: "complaint decisions",
            read: |state, now| complaint_deadlines(state, now, true).boxed(),
        },
    ]
}

/// A deadline counted from `start` by `rule`: handed over while open and due within the
/// look-ahead, or when done at or after it (within the catch-up).
fn counted(
    deadlines: &Deadlines,
    rule: DeadlineRule,
    start: i64,
    done: Option<i64>,
    now: i64,
) -> Option<(i64, Option<i64>)> {
    counted_at(deadlines.due(rule, start), done, now)
}

/// As [`counted`], for a deadline whose instant the stage computed (a contract's own term).
fn counted_at(due_at: i64, done: Option<i64>, now: i64) -> Option<(i64, Option<i64>)> {
    let late = done.filter(|d| *d >= due_at);
    let open = done.is_none() && due_at - LOOKAHEAD_MS <= now;
    (open || late.is_some_and(|d| d >= now - CATCH_UP_MS)).then_some((due_at, late))
}

/// A tender as an alert's subject, linked to the stage's page (`/<page>?tender=<id>`).
fn tender_subject(page: &str, tender_id: String, title: String) -> Subject {
    Subject {
        kind: "tender",
        link: format!("/{page}?tender={tender_id}"),
        id: tender_id,
        title,
    }
}

/// R-CON-1: the contracts signed within 30 days of the award letter; the purchasing unit
/// told the working day before and at the deadline, finance when it passes.
pub async fn contract_signings(state: &AppState, now: i64) -> anyhow::Result<Vec<Deadline>> {
    let deadlines = state.runtime::<Deadlines>();
    let rows =
        crate::contract::repo::signings_since(&state.db.pool, now - CATCH_UP_MS - 45 * DAY, LIMIT)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let (due_at, late) = counted(
                deadlines,
                DeadlineRule::ContractSigning,
                r.letter_at,
                r.signed_at,
                now,
            )?;
            Some(Deadline {
                key: format!("contract:{}:signing", r.tender_id),
                rule: DeadlineRule::ContractSigning,
                closed_late_at: late,
                subject: tender_subject("contracts.html", r.tender_id, r.title),
                due_at,
                owners: vec![Audience::Org {
                    org_id: r.purchaser_org_id,
                    role: Some(Role::Purchaser),
                }],
                escalate_to: vec![Role::Finance],
                warn_before: true,
                notice: Notice::ActBy,
                act: ("签订政府采购合同", "Signing the contract"),
            })
        })
        .collect())
}

/// R-CON-2 and R-CON-3: a signed contract published within 2 working days and filed with
/// finance within 7; the purchasing unit told, finance when either passes.
pub async fn contract_publications(state: &AppState, now: i64) -> anyhow::Result<Vec<Deadline>> {
    let deadlines = state.runtime::<Deadlines>();
    let rows =
        crate::contract::repo::signed_since(&state.db.pool, now - CATCH_UP_MS - 21 * DAY, LIMIT)
            .await?;
    let mut out = Vec::new();
    for r in rows {
        for (rule, done, what, act) in [
            (
                DeadlineRule::ContractPublication,
                r.published_at,
                "publication",
                ("公告政府采购合同", "Publishing the contract"),
            ),
            (
                DeadlineRule::ContractFiling,
                r.filed_at,
                "filing",
                ("政府采购合同备案", "Filing the contract with finance"),
            ),
        ] {
            let Some((due_at, late)) = counted(deadlines, rule, r.signed_at, done, now) else {
                continue;
            };
            out.push(Deadline {
                key: format!("contract:{}:{what}", r.id),
                rule,
                closed_late_at: late,
                subject: tender_subject("contracts.html", r.tender_id.clone(), r.title.clone()),
                due_at,
                owners: vec![Audience::Org {
                    org_id: r.purchaser_org_id.clone(),
                    role: Some(Role::Purchaser),
                }],
                escalate_to: vec![Role::Finance],
                warn_before: true,
                notice: Notice::ActBy,
                act,
            });
        }
    }
    Ok(out)
}

/// R-CHAL-2: the agency answers a challenge within 7 working days; its users are told the
/// working day before and at the deadline, finance and oversight when it passes.
pub async fn challenge_replies(state: &AppState, now: i64) -> anyhow::Result<Vec<Deadline>> {
    let rows = crate::challenge::repo::replies_due(
        &state.db.pool,
        now + LOOKAHEAD_MS,
        now - CATCH_UP_MS,
        LIMIT,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Deadline {
            key: format!("challenge:{}:reply", r.id),
            rule: DeadlineRule::ChallengeReply,
            closed_late_at: r.done_at,
            subject: tender_subject("challenges.html", r.tender_id, r.title),
            due_at: r.due_at,
            owners: vec![Audience::Org {
                org_id: r.agency_org_id,
                role: Some(Role::Agency),
            }],
            escalate_to: vec![Role::Finance, Role::Oversight],
            warn_before: true,
            notice: Notice::ActBy,
            act: ("答复质疑", "Answering a challenge"),
        })
        .collect())
}

/// R-CHAL-3: finance examines a complaint within 5 working days and decides within 30;
/// finance is told the working day before and at each deadline, oversight when it passes.
pub async fn complaint_deadlines(
    state: &AppState,
    now: i64,
    decision: bool,
) -> anyhow::Result<Vec<Deadline>> {
    let rows = crate::challenge::repo::complaints_due(
        &state.db.pool,
        decision,
        now + LOOKAHEAD_MS,
        now - CATCH_UP_MS,
        LIMIT,
    )
    .await?;
    let (rule, what, act) = if decision {
        (
            DeadlineRule::ComplaintDecision,
            "decision",
            ("作出投诉处理决定", "Deciding a complaint"),
        )
    } else {
        (
            DeadlineRule::ComplaintExamination,
            "examination",
            ("审查投诉是否受理", "Examining a complaint"),
        )
    };
    Ok(rows
        .into_iter()
        .map(|r| Deadline {
            key: format!("complaint:{}:{what}", r.id),
            rule,
            closed_late_at: r.done_at,
            subject: tender_subject("challenges.html", r.tender_id, r.title),
            due_at: r.due_at,
            owners: vec![Audience::Role(Role::Finance)],
            escalate_to: vec![Role::Oversight],
            warn_before: true,
            notice: Notice::ActBy,
            act,
        })
        .collect())
}

/// R-AWARD-1: the agency publishes the result within 2 working days of the winner's
/// confirmation; told the working day before and at the deadline, finance and oversight
/// when it passes without the notice.
pub async fn result_announcements(state: &AppState, now: i64) -> anyhow::Result<Vec<Deadline>> {
    let deadlines = state.runtime::<Deadlines>();
    // Awarded at most the catch-up and a long holiday before the deadline.
    let rows =
        crate::award::repo::awarded_since(&state.db.pool, now - CATCH_UP_MS - 14 * DAY, LIMIT)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let (due_at, late) = counted(
                deadlines,
                DeadlineRule::ResultAnnouncement,
                r.awarded_at,
                r.published_at,
                now,
            )?;
            Some(Deadline {
                key: format!("result:{}:announcement", r.tender_id),
                rule: DeadlineRule::ResultAnnouncement,
                closed_late_at: late,
                subject: tender_subject("result.html", r.tender_id, r.title),
                due_at,
                owners: vec![Audience::Org {
                    org_id: r.agency_org_id,
                    role: Some(Role::Agency),
                }],
                escalate_to: vec![Role::Finance, Role::Oversight],
                warn_before: true,
                notice: Notice::ActBy,
                act: ("发布中标(成交)结果公告", "Publishing the result notice"),
            })
        })
        .collect())
}

/// R-CHAL-1: the agency answers a question (询问) within 3 working days. Its users are told
/// the working day before and at the deadline; a question unanswered by then is escalated
/// to finance and oversight. (The agency sees every question already: the alert tells no
/// one more.)
pub async fn question_replies(state: &AppState, now: i64) -> anyhow::Result<Vec<Deadline>> {
    let rows = crate::documents::repo::replies_due(
        &state.db.pool,
        now + LOOKAHEAD_MS,
        now - CATCH_UP_MS,
        LIMIT,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Deadline {
            key: format!("question:{}:reply", r.id),
            rule: DeadlineRule::QuestionReply,
            closed_late_at: r.answered_at,
            subject: Subject {
                kind: "tender",
                link: format!("/documents.html?tender={}", r.tender_id),
                id: r.tender_id,
                title: r.title,
            },
            due_at: r.reply_due_at,
            owners: vec![Audience::Org {
                org_id: r.agency_org_id,
                role: Some(Role::Agency),
            }],
            escalate_to: vec![Role::Finance, Role::Oversight],
            warn_before: true,
            notice: Notice::ActBy,
            act: ("答复供应商询问", "Answering a supplier's question"),
        })
        .collect())
}

/// R-METH-1: a single-source request whose publicity ended and is still pending; finance
/// decides it. Told when the publicity ends; a decision closes it.
pub async fn single_source_decisions(state: &AppState, now: i64) -> anyhow::Result<Vec<Deadline>> {
    let rows = crate::approval::repo::publicised_pending(&state.db.pool, now + LOOKAHEAD_MS, LIMIT)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Deadline {
            key: format!("approval:{}:publicity", r.id),
            rule: DeadlineRule::SingleSourcePublicity,
            subject: Subject {
                kind: "approval",
                link: "/approvals.html".into(),
                id: r.id,
                title: r.plan_title,
            },
            due_at: r.publicity_ends_at,
            closed_late_at: None,
            owners: vec![Audience::Role(Role::Finance)],
            escalate_to: Vec::new(),
            warn_before: false,
            notice: Notice::OpenFrom,
            act: (
                "单一来源公示期满，待财政部门审批",
                "Single-source publicity over, awaiting finance's decision",
            ),
        })
        .collect())
}

/// R-EVAL-10: the purchaser confirms the winner within 5 working days of the report. Its
/// users are told the working day before and at the deadline; a deadline passed without
/// a confirmation is escalated to finance, even though the committee then lets the
/// first-ranked candidate stand (`committee::service::advance_due`).
pub async fn winner_confirmations(state: &AppState, now: i64) -> anyhow::Result<Vec<Deadline>> {
    let rows = crate::committee::repo::confirmations(
        &state.db.pool,
        now + LOOKAHEAD_MS,
        now - CATCH_UP_MS,
        LIMIT,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Deadline {
            key: format!("evaluation:{}:confirmation", r.tender_id),
            rule: DeadlineRule::WinnerConfirmation,
            closed_late_at: if r.awarded() { r.awarded_at } else { None },
            subject: Subject {
                kind: "tender",
                link: format!("/evaluation.html?tender={}", r.tender_id),
                id: r.tender_id,
                title: r.title,
            },
            due_at: r.confirm_due_at,
            owners: vec![Audience::Org {
                org_id: r.purchaser_org_id,
                role: Some(Role::Purchaser),
            }],
            escalate_to: vec![Role::Finance],
            warn_before: true,
            notice: Notice::ActBy,
            act: ("确定中标人", "Confirming the winner"),
        })
        .collect())
}

/// R-PLAN-1: a plan's tender may be published from the start of the 30th day after its
/// intention; the purchasing unit is told that day (for the agency it instructs).
pub async fn publishable_tenders(state: &AppState, now: i64) -> anyhow::Result<Vec<Deadline>> {
    let deadlines = state.runtime::<Deadlines>();
    // Publishable from at least 29 days after the intention (the 30th day's 00:00), and
    // at most 30 days and the longest run of rest days after it: the window in which
    // intentions give a day from now - CATCH_UP_MS to now + LOOKAHEAD_MS.
    let rows = crate::plan::repo::intentions_published_between(
        &state.db.pool,
        now - CATCH_UP_MS - 45 * DAY,
        now + LOOKAHEAD_MS - 29 * DAY,
        LIMIT,
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let from = crate::plan::rules::publishable_from(deadlines, r.published_at);
            (from >= now - CATCH_UP_MS && from <= now + LOOKAHEAD_MS).then(|| Deadline {
                key: format!("plan:{}:intention", r.plan_id),
                rule: DeadlineRule::IntentionNotice,
                subject: Subject {
                    kind: "plan",
                    link: "/plans.html".into(),
                    id: r.plan_id,
                    title: r.title,
                },
                due_at: from,
                closed_late_at: None,
                owners: vec![Audience::Org {
                    org_id: r.org_id,
                    role: None,
                }],
                escalate_to: Vec::new(),
                warn_before: false,
                notice: Notice::OpenFrom,
                act: ("可发布采购公告", "The tender may be published"),
            })
        })
        .collect())
}

/// R-DEP-1: the bid deposits of a tender that ended (awarded, failed, cancelled) are due
/// back within 5 working days (O87 art 38). The agency is told the working day before and
/// at 24:00 of the last day; finance when it passes with deposits not refunded. The
/// deadline closes when the last is refunded.
pub async fn deposit_refunds(state: &AppState, now: i64) -> anyhow::Result<Vec<Deadline>> {
    use crate::deposits::service::{ENDED, ENDINGS};
    let deadlines = state.runtime::<Deadlines>();
    let ended: Vec<&str> = ENDED.iter().map(|s| s.as_str()).collect();
    let rows =
        crate::deposits::repo::refunds_of_ended(&state.db.pool, &ended, now - CATCH_UP_MS, LIMIT)
            .await?;
    let mut out = Vec::new();
    for r in rows {
        let Some(end) = crate::ledger::repo::last_at(&state.db.pool, &r.tender_id, ENDINGS).await?
        else {
            continue;
        };
        let due = deadlines.due(DeadlineRule::DepositReturn, end);
        let closed_late_at = match (r.unrefunded, r.last_refunded_at) {
            (0, Some(at)) if at >= due => Some(at),
            (0, _) => continue,
            _ => None,
        };
        if due > now + LOOKAHEAD_MS || (closed_late_at.is_none() && due < now - CATCH_UP_MS) {
            continue;
        }
        out.push(Deadline {
            key: format!("tender:{}:deposit-refunds", r.tender_id),
            rule: DeadlineRule::DepositReturn,
            subject: Subject {
                kind: "tender",
                link: format!("/deposits.html?tender={}", r.tender_id),
                id: r.tender_id,
                title: r.title,
            },
            due_at: due,
            closed_late_at,
            owners: vec![Audience::Org {
                org_id: r.agency_org_id,
                role: Some(Role::Agency),
            }],
            escalate_to: vec![Role::Finance],
            warn_before: true,
            notice: Notice::ActBy,
            act: ("退还投标保证金", "Returning the bid deposits"),
        });
    }
    Ok(out)
}

/// R-PAY-1: an SME paid in full within the contract's term from acceptance (30 days, 60 at
/// most); the purchasing unit told the working day before and at the due date, finance
/// when it passes.
pub async fn sme_payments(state: &AppState, now: i64) -> anyhow::Result<Vec<Deadline>> {
    let deadlines = state.runtime::<Deadlines>();
    let longest = crate::contract::rules::SME_PAYMENT_DAYS_LONGEST;
    let rows = crate::payment::repo::accepted_since(
        &state.db.pool,
        now - CATCH_UP_MS - (longest + 10) * DAY,
        LIMIT,
    )
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let document: serde_json::Value = serde_json::from_str(&r.document)?;
        let Some(due_at) = crate::payment::rules::sme_due(deadlines, &document, r.accepted_at)
        else {
            continue;
        };
        let Some((due_at, late)) = counted_at(due_at, r.settled_at(), now) else {
            continue;
        };
        out.push(Deadline {
            key: format!("payment:{}:sme", r.contract_id),
            rule: DeadlineRule::SmePayment,
            closed_late_at: late,
            subject: tender_subject("fulfilment.html", r.tender_id, r.title),
            due_at,
            owners: vec![Audience::Org {
                org_id: r.purchaser_org_id,
                role: Some(Role::Purchaser),
            }],
            escalate_to: vec![Role::Finance],
            warn_before: true,
            notice: Notice::ActBy,
            act: ("向中小企业支付合同款", "Paying the SME"),
        });
    }
    Ok(out)
}
