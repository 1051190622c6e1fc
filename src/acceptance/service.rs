//! Recording, signing and remedying acceptance; the view and the evidence files.

use serde_json::json;

use super::repo::{self, Report};
use super::rules::{self, ItemCheck};
use super::types::{
    AcceptanceError, AcceptanceOverview, AcceptanceView, Ack, Command, ContractAcceptance,
    SignerView,
};
use crate::approval::types::AttachmentView;
use crate::auth::{CurrentUser, Role};
use crate::contract::repo::Facts;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::repo::append;
use crate::ledger::{AcceptanceSigned, LedgerEvent, RemedyReplied};
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::Action;

/// Who reads a contract's acceptance: its parties and the supervisors.
pub fn reads(user: Option<&CurrentUser>, c: &Facts) -> bool {
    user.is_some_and(|u| u.role.is_supervisor() || c.purchaser_is(u) || c.supplier_is(u))
}

/// As `reads`, and the members of the contract's acceptance panels.
async fn reads_or_sits<'e, E>(exec: E, user: Option<&CurrentUser>, c: &Facts) -> AppResult<bool>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if reads(user, c) {
        return Ok(true);
    }
    let Some(u) = user else {
        return Ok(false);
    };
    Ok(repo::member_of(exec, &u.id).await?.contains(&c.id))
}

/// A member of the panel as the report names it.
#[derive(Debug, Clone, serde::Serialize)]
struct Member {
    user_id: String,
    name: String,
    role: Role,
}

/// The panel named by username: experts, the tender's agency staff, or the purchasing
/// unit's colleagues (not the recorder), at most `rules::MAX_MEMBERS`, each once; with
/// at least `experts` experts (the contract's `acceptance_experts`).
async fn panel(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    usernames: &[String],
    experts: i64,
) -> AppResult<Vec<Member>> {
    let mut out: Vec<Member> = Vec::new();
    if usernames.len() > rules::MAX_MEMBERS {
        return Err(AppError::field(
            "members",
            "验收小组成员至多 7 人 / at most 7 members",
        ));
    }
    for name in usernames {
        // Named back in the refusal: at most a username's length of it.
        let name: String = name.trim().chars().take(64).collect();
        let name = name.as_str();
        let row: Option<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, display_name, role, org_id FROM users WHERE username = $1 AND disabled = 0",
        )
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?;
        let member = row.and_then(|(id, display, role, org)| {
            let role = Role::parse(&role)?;
            let org = org.as_deref();
            let eligible = match role {
                Role::Expert => true,
                Role::Agency => org == Some(head.agency_org_id.as_str()),
                Role::Purchaser => org == Some(head.purchaser_org_id.as_str()) && id != user.id,
                _ => false,
            };
            eligible.then_some(Member {
                user_id: id,
                name: display,
                role,
            })
        });
        match member {
            Some(m) if !out.iter().any(|o| o.user_id == m.user_id) => out.push(m),
            _ => {
                return Err(AppError::field(
                    "members",
                    format!(
                        "{name} 不能担任验收小组成员（专家、本项目代理机构或本单位人员，各一次）\
                         / {name} cannot sit on the panel (experts, the tender's agency or your \
                         unit's colleagues, each once)"
                    ),
                ))
            }
        }
    }
    if (out.iter().filter(|m| m.role == Role::Expert).count() as i64) < experts {
        return Err(AcceptanceError::PanelShort.into());
    }
    Ok(out)
}

/// The contract `id` of this tender, or `NOT_FOUND`.
async fn contract_of(tx: &mut Tx, head: &TenderHead, id: &str) -> AppResult<Facts> {
    crate::contract::repo::of_tender(&mut **tx, &head.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A report of this tender, or `NOT_FOUND`.
async fn report_of<'e, E>(exec: E, tender_id: &str, id: &str) -> AppResult<Report>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    repo::one(exec, id)
        .await?
        .filter(|r| r.tender_id == tender_id)
        .ok_or(AppError::NotFound)
}

pub async fn command(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    cmd: Command,
) -> AppResult<Ack> {
    // Checked before the transaction (keys and blobs are outside it): the signature
    // against the report as stored (inside, the report must still be that one), the
    // evidence stored by its hash (a refused report leaves only unreferenced blobs).
    let mut verified_sha256 = String::new();
    let mut evidence = Vec::new();
    match &cmd {
        Command::Sign {
            acceptance_id,
            key_id,
            signature,
        } => {
            let r = report_of(&state.db.pool, tender_id, acceptance_id).await?;
            let message = rules::payload(&r.id, &r.document_sha256);
            state
                .keyring()
                .verify_user_signature(&user.id, key_id, message.as_bytes(), signature)
                .await?;
            verified_sha256 = r.document_sha256;
        }
        Command::Record {
            evidence: input, ..
        } if user.role == Role::Purchaser => {
            evidence = crate::approval::service::store_attachments(state, input).await?;
        }
        _ => {}
    }
    let mut a = Action::begin(state, tender_id).await?;
    let (tx, head, now) = (&mut a.tx, &a.head, a.now);
    let ack = match cmd {
        Command::Record {
            contract_id,
            delivered_on,
            items,
            conclusion,
            evidence: _,
            members,
        } => {
            let report = Recorded {
                delivered_on: delivered_on.trim(),
                items,
                conclusion: conclusion.trim(),
                evidence,
                members,
            };
            record(tx, user, head, &contract_id, report, now).await?
        }
        Command::Sign {
            acceptance_id,
            key_id,
            signature,
        } => {
            let signed = Signature {
                key_id: &key_id,
                signature: signature.trim(),
                document_sha256: &verified_sha256,
            };
            sign(tx, user, head, &acceptance_id, signed, now).await?
        }
        Command::Remedy {
            acceptance_id,
            reply,
        } => remedy(tx, user, head, &acceptance_id, reply.trim(), now).await?,
    };
    a.commit(state).await?;
    Ok(ack)
}

/// A report as the purchaser records it, its evidence already stored.
struct Recorded<'a> {
    delivered_on: &'a str,
    items: Vec<ItemCheck>,
    conclusion: &'a str,
    evidence: Vec<AttachmentView>,
    members: Vec<String>,
}

async fn record(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    contract_id: &str,
    input: Recorded<'_>,
    now: i64,
) -> AppResult<Ack> {
    let c = contract_of(tx, head, contract_id).await?;
    if !c.purchaser_is(user) {
        return Err(AppError::Forbidden);
    }
    if c.signed_at.is_none() {
        return Err(AcceptanceError::NotSigned.into());
    }
    let rounds = repo::rounds(&mut **tx, &c.id).await?;
    if rounds.iter().any(|r| r.status == "passed") {
        return Err(AppError::IllegalTransition {
            from: "accepted".into(),
            action: "record",
        });
    }
    let last = rounds.last();
    if let Some(r) = last.filter(|r| r.status == "failed") {
        let replied = repo::remedy(&mut **tx, &r.id)
            .await?
            .is_some_and(|m| m.replied_at.is_some());
        if !replied {
            return Err(AcceptanceError::RemedyPending.into());
        }
    }
    let items: Vec<ItemCheck> = input
        .items
        .into_iter()
        .map(|i| ItemCheck {
            name: i.name.trim().to_string(),
            note: i.note.trim().to_string(),
            passed: i.passed,
        })
        .collect();
    rules::check(
        input.delivered_on,
        &items,
        input.conclusion,
        crate::clock::cst_date(now),
    )
    .map_err(|(field, message)| AppError::field(field, message))?;
    let experts = c.document["terms"]["acceptance_experts"]
        .as_i64()
        .unwrap_or(0);
    let members = panel(tx, user, head, &input.members, experts).await?;
    let draft = last.filter(|r| r.status == "draft");
    let round = draft.map_or(rounds.len() as i64 + 1, |r| r.round);
    let id = draft.map_or_else(crate::org::service::new_id, |r| r.id.clone());
    let d = &c.document;
    let document = json!({
        "type": "acceptance_report",
        "acceptance_id": id,
        "contract_id": c.id,
        "contract_no": d["contract_no"],
        "contract_sha256": crate::ledger::canonical_sha256(d),
        "tender": d["tender"],
        "lot": d["lot"],
        "purchaser": d["purchaser"],
        "supplier": d["supplier"],
        "price_fen": c.payable_fen(),
        "round": round,
        "delivered_on": input.delivered_on,
        "items": items,
        "conclusion": input.conclusion,
        "evidence": input.evidence,
        "members": members,
        "passed": rules::passed(&items),
        "recorded_at": now,
    });
    let sha = crate::ledger::canonical_sha256(&document);
    if draft.is_some() {
        sqlx::query(
            "UPDATE acceptances SET document = $1, document_sha256 = $2, recorded_by = $3, \
             recorded_at = $4 WHERE id = $5",
        )
        .bind(document.to_string())
        .bind(&sha)
        .bind(&user.id)
        .bind(now)
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    } else {
        sqlx::query(
            "INSERT INTO acceptances (id, contract_id, tender_id, round, document, \
             document_sha256, status, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8)",
        )
        .bind(&id)
        .bind(&c.id)
        .bind(&head.id)
        .bind(round)
        .bind(document.to_string())
        .bind(&sha)
        .bind(&user.id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    // The signers start afresh with every version of the draft: the purchaser, then the
    // panel in the report's order.
    sqlx::query("DELETE FROM acceptance_signers WHERE acceptance_id = $1")
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    let signers = std::iter::once((&user.id, "purchaser"))
        .chain(members.iter().map(|m| (&m.user_id, "member")));
    for (position, (user_id, kind)) in signers.enumerate() {
        sqlx::query(
            "INSERT INTO acceptance_signers (acceptance_id, user_id, kind, position) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(kind)
        .bind(position as i64)
        .execute(&mut **tx)
        .await?;
    }
    Ok(Ack {
        acceptance_id: id,
        status: "draft".into(),
        document_sha256: sha,
    })
}

/// The purchaser's signature as checked before the transaction, with the digest it covers.
struct Signature<'a> {
    key_id: &'a str,
    signature: &'a str,
    document_sha256: &'a str,
}

async fn sign(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    id: &str,
    signed_by: Signature<'_>,
    now: i64,
) -> AppResult<Ack> {
    let r = report_of(&mut **tx, &head.id, id).await?;
    let c = contract_of(tx, head, &r.contract_id).await?;
    let signers = repo::signers(&mut **tx, id).await?;
    // A member signs in its own place; a purchaser of the unit in the purchaser's.
    let member = signers
        .iter()
        .any(|s| s.kind == "member" && s.user_id == user.id);
    if !member && !c.purchaser_is(user) {
        return Err(AppError::Forbidden);
    }
    if r.status != "draft" {
        return Err(AppError::IllegalTransition {
            from: r.status,
            action: "sign",
        });
    }
    // Signed as read before the transaction: a report recorded again since is another.
    if r.document_sha256 != signed_by.document_sha256 {
        return Err(AppError::SignatureInvalid);
    }
    let kind = if member { "member" } else { "purchaser" };
    let mine = signers
        .iter()
        .find(|s| s.kind == kind && (kind == "purchaser" || s.user_id == user.id));
    if mine.is_some_and(|s| s.signed_at.is_some()) {
        return Err(AppError::IllegalTransition {
            from: "signed".into(),
            action: "sign",
        });
    }
    sqlx::query(
        "UPDATE acceptance_signers SET user_id = $1, key_id = $2, signature = $3, \
         signed_at = $4 WHERE acceptance_id = $5 AND kind = $6 \
         AND (kind = 'purchaser' OR user_id = $7)",
    )
    .bind(&user.id)
    .bind(signed_by.key_id)
    .bind(signed_by.signature)
    .bind(now)
    .bind(id)
    .bind(kind)
    .bind(&user.id)
    .execute(&mut **tx)
    .await?;
    if mine.is_none() {
        // A draft recorded before panels were kept has no signer rows: the purchaser's.
        sqlx::query(
            "INSERT INTO acceptance_signers (acceptance_id, user_id, kind, position, key_id, \
             signature, signed_at) VALUES ($1, $2, 'purchaser', 0, $3, $4, $5)",
        )
        .bind(id)
        .bind(&user.id)
        .bind(signed_by.key_id)
        .bind(signed_by.signature)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    let signers = repo::signers(&mut **tx, id).await?;
    if signers.iter().any(|s| s.signed_at.is_none()) {
        return Ok(Ack {
            acceptance_id: id.to_string(),
            status: "draft".into(),
            document_sha256: r.document_sha256,
        });
    }
    // The last signature: the report takes effect now.
    let purchaser = signers
        .iter()
        .find(|s| s.kind == "purchaser")
        .ok_or_else(|| anyhow::anyhow!("acceptance {id} without its purchaser's signature"))?;
    let passed = r.document["passed"] == true;
    let status = if passed { "passed" } else { "failed" };
    sqlx::query(
        "UPDATE acceptances SET status = $1, signed_by = $2, key_id = $3, signature = $4, \
         signed_at = $5 WHERE id = $6",
    )
    .bind(status)
    .bind(&purchaser.user_id)
    .bind(purchaser.key_id.as_deref())
    .bind(purchaser.signature.as_deref())
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if passed {
        sqlx::query(
            "UPDATE acceptance_remedies SET closed_at = $1 \
             WHERE contract_id = $2 AND closed_at IS NULL",
        )
        .bind(now)
        .bind(&c.id)
        .execute(&mut **tx)
        .await?;
    } else {
        sqlx::query(
            "INSERT INTO acceptance_remedies (acceptance_id, contract_id, opened_at) \
             VALUES ($1, $2, $3)",
        )
        .bind(id)
        .bind(&c.id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    let digest = |s: &repo::Signer| {
        crate::crypto::sha256_hex(s.signature.as_deref().unwrap_or_default().as_bytes())
    };
    let event = AcceptanceSigned {
        acceptance_id: id.to_string(),
        contract_id: c.id.clone(),
        round: r.round,
        passed,
        document_sha256: r.document_sha256.clone(),
        signature_sha256: digest(purchaser),
        member_signatures_sha256: signers
            .iter()
            .filter(|s| s.kind == "member")
            .map(digest)
            .collect(),
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::AcceptanceSigned(event),
    )
    .await?;
    Ok(Ack {
        acceptance_id: id.to_string(),
        status: status.into(),
        document_sha256: r.document_sha256,
    })
}

async fn remedy(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    id: &str,
    reply: &str,
    now: i64,
) -> AppResult<Ack> {
    let r = report_of(&mut **tx, &head.id, id).await?;
    let c = contract_of(tx, head, &r.contract_id).await?;
    if !c.supplier_is(user) {
        return Err(AppError::Forbidden);
    }
    let open = repo::remedy(&mut **tx, id)
        .await?
        .filter(|m| m.replied_at.is_none() && m.closed_at.is_none());
    if open.is_none() {
        return Err(AppError::IllegalTransition {
            from: r.status,
            action: "remedy",
        });
    }
    let n = reply.chars().count();
    if n == 0 || n > rules::MAX_TEXT_CHARS {
        return Err(AppError::field(
            "reply",
            "须说明整改情况（5,000 字以内）/ what was remedied (5,000 characters)",
        ));
    }
    sqlx::query(
        "UPDATE acceptance_remedies SET reply = $1, replied_by = $2, replied_at = $3 \
         WHERE acceptance_id = $4",
    )
    .bind(reply)
    .bind(&user.id)
    .bind(now)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let event = RemedyReplied {
        acceptance_id: id.to_string(),
        contract_id: c.id.clone(),
        reply_sha256: crate::crypto::sha256_hex(reply.as_bytes()),
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::RemedyReplied(event),
    )
    .await?;
    Ok(Ack {
        acceptance_id: id.to_string(),
        status: r.status,
        document_sha256: r.document_sha256,
    })
}

pub async fn view(
    state: &AppState,
    user: Option<&CurrentUser>,
    tender_id: &str,
) -> AppResult<AcceptanceOverview> {
    let pool = &state.db.pool;
    crate::tender::repo::published_head(pool, tender_id).await?;
    let mut out = Vec::new();
    for c in crate::contract::repo::signed_of_tender(pool, tender_id).await? {
        if !reads_or_sits(pool, user, &c).await? {
            continue;
        }
        let purchaser = user.is_some_and(|u| c.purchaser_is(u));
        let supplier = user.is_some_and(|u| c.supplier_is(u));
        let me = user.map(|u| u.id.as_str()).unwrap_or_default();
        let mut rounds = Vec::new();
        for r in repo::rounds(pool, &c.id).await? {
            let remedy = repo::remedy(pool, &r.id).await?;
            let evidence = serde_json::from_value(r.document["evidence"].clone())
                .map_err(anyhow::Error::from)?;
            let signers = repo::signers(pool, &r.id).await?;
            let member_to_sign = signers
                .iter()
                .any(|s| s.kind == "member" && s.user_id == me && s.signed_at.is_none());
            let member = signers
                .iter()
                .any(|s| s.kind == "member" && s.user_id == me);
            let purchaser_to_sign = purchaser
                && !member
                && !signers
                    .iter()
                    .any(|s| s.kind == "purchaser" && s.signed_at.is_some());
            rounds.push(AcceptanceView {
                my_payload: (r.status == "draft" && (member_to_sign || purchaser_to_sign))
                    .then(|| rules::payload(&r.id, &r.document_sha256)),
                signers: signers
                    .into_iter()
                    .map(|s| SignerView {
                        user_id: s.user_id,
                        name: s.name,
                        kind: s.kind,
                        signed_at: s.signed_at,
                    })
                    .collect(),
                id: r.id,
                round: r.round,
                status: r.status,
                document: r.document,
                document_sha256: r.document_sha256,
                evidence,
                recorded_at: r.recorded_at,
                signed_at: r.signed_at,
                remedy,
            });
        }
        let accepted_at = rounds
            .iter()
            .find(|r| r.status == "passed")
            .and_then(|r| r.signed_at);
        let waiting = rounds
            .last()
            .and_then(|r| r.remedy.as_ref())
            .is_some_and(|m| m.replied_at.is_none() && m.closed_at.is_none());
        out.push(ContractAcceptance {
            may_record: purchaser && accepted_at.is_none() && !waiting,
            may_reply: supplier && waiting,
            contract_id: c.id.clone(),
            contract_no: c.document["contract_no"].clone(),
            lot_no: c.lot_no,
            supplier: c.document["supplier"].clone(),
            items: c.document["items"].clone(),
            amount_fen: c.payable_fen(),
            acceptance_experts: c.document["terms"]["acceptance_experts"]
                .as_i64()
                .unwrap_or(0),
            accepted_at,
            rounds,
        });
    }
    Ok(AcceptanceOverview {
        tender_id: tender_id.to_string(),
        contracts: out,
    })
}

/// An evidence file of a report, to whoever reads the contract's acceptance.
pub async fn evidence(
    state: &AppState,
    user: &CurrentUser,
    acceptance_id: &str,
    seq: i64,
) -> AppResult<(AttachmentView, bytes::Bytes)> {
    let pool = &state.db.pool;
    let r = repo::one(pool, acceptance_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let c = crate::contract::repo::facts(pool, &r.contract_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !reads_or_sits(pool, Some(user), &c).await? {
        return Err(AppError::NotFound);
    }
    let files: Vec<AttachmentView> =
        serde_json::from_value(r.document["evidence"].clone()).map_err(anyhow::Error::from)?;
    crate::approval::service::stored_attachment(state, files, seq).await
}
