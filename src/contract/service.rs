//! Drafting, adjusting, signing, publishing, filing and supplementing contracts.

use serde_json::{json, Value};
use sqlx::Row;

use super::rules::{self, Adjustable, ContractBundle, PartySignature};
use super::types::{Ack, Command, ContractError, ContractView, ContractsView, SupplementView};
use crate::auth::{CurrentUser, Role};
use crate::calendar::deadlines::DeadlineRule;
use crate::calendar::Deadlines;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::repo::append;
use crate::ledger::{
    ContractDrafted, ContractFiled, ContractPublished, ContractSigned, ContractSupplemented,
    LedgerEvent,
};
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::Action;

/// A contract row as the commands read it.
struct Row_ {
    id: String,
    tender_id: String,
    purchaser_org_id: String,
    supplier_org_id: String,
    amount_fen: i64,
    document: Value,
    document_sha256: String,
    status: String,
    award_letter_at: i64,
    signed_at: Option<i64>,
    published_at: Option<i64>,
    filed_at: Option<i64>,
    lot_no: i64,
}

const ROW_SQL: &str = "SELECT id, tender_id, lot_no, purchaser_org_id, supplier_org_id, \
     amount_fen, document, document_sha256, status, award_letter_at, signed_at, published_at, \
     filed_at FROM contracts";

fn row(r: &sqlx::any::AnyRow) -> AppResult<Row_> {
    let document: String = r.try_get("document")?;
    Ok(Row_ {
        id: r.try_get("id")?,
        tender_id: r.try_get("tender_id")?,
        lot_no: r.try_get("lot_no")?,
        purchaser_org_id: r.try_get("purchaser_org_id")?,
        supplier_org_id: r.try_get("supplier_org_id")?,
        amount_fen: r.try_get("amount_fen")?,
        document: serde_json::from_str(&document).map_err(anyhow::Error::from)?,
        document_sha256: r.try_get("document_sha256")?,
        status: r.try_get("status")?,
        award_letter_at: r.try_get("award_letter_at")?,
        signed_at: r.try_get("signed_at")?,
        published_at: r.try_get("published_at")?,
        filed_at: r.try_get("filed_at")?,
    })
}

async fn contract<'e, E>(exec: E, id: &str) -> AppResult<Option<Row_>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!("{ROW_SQL} WHERE id = $1"))
        .bind(id)
        .fetch_optional(exec)
        .await?
        .as_ref()
        .map(row)
        .transpose()
}

async fn contracts<'e, E>(exec: E, tender_id: &str) -> AppResult<Vec<Row_>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(&format!("{ROW_SQL} WHERE tender_id = $1 ORDER BY lot_no"))
        .bind(tender_id)
        .fetch_all(exec)
        .await?
        .iter()
        .map(row)
        .collect()
}

/// The contract `id` of this tender, or `NOT_FOUND`.
async fn of_tender(tx: &mut Tx, head: &TenderHead, id: &str) -> AppResult<Row_> {
    contract(&mut **tx, id)
        .await?
        .filter(|c| c.tender_id == head.id)
        .ok_or(AppError::NotFound)
}

fn digest(document: &Value) -> String {
    crate::ledger::canonical_sha256(document)
}

/// The party `user` signs for: the purchasing unit's purchaser or the supplier's user.
fn party_of(user: &CurrentUser, c: &Row_) -> Option<&'static str> {
    match (user.role, user.org_id.as_deref()) {
        (Role::Purchaser, Some(org)) if org == c.purchaser_org_id => Some("purchaser"),
        (Role::Supplier, Some(org)) if org == c.supplier_org_id => Some("supplier"),
        _ => None,
    }
}

fn is_purchaser(user: &CurrentUser, head: &TenderHead) -> bool {
    crate::committee::access::of(user, head).purchaser
}

pub async fn command(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
    cmd: Command,
) -> AppResult<Ack> {
    // A signature is checked against the document as stored before the transaction (the
    // keys are read from the pool); inside it the document must still be that one.
    let mut verified_sha256 = String::new();
    if let Command::Sign {
        contract_id,
        key_id,
        signature,
    } = &cmd
    {
        let c = contract(&state.db.pool, contract_id)
            .await?
            .filter(|c| c.tender_id == tender_id)
            .ok_or(AppError::NotFound)?;
        party_of(user, &c).ok_or(AppError::Forbidden)?;
        let message = rules::payload(&c.id, &c.document_sha256);
        state
            .keyring()
            .verify_user_signature(&user.id, key_id, message.as_bytes(), signature)
            .await?;
        verified_sha256 = c.document_sha256;
    }
    let mut a = Action::begin(state, tender_id).await?;
    let (tx, head, now) = (&mut a.tx, &a.head, a.now);
    let ack = match cmd {
        Command::Draft {} => draft(tx, user, head, now).await?,
        Command::Adjust { contract_id, terms } => {
            adjust(tx, user, head, &contract_id, terms, now).await?
        }
        Command::Sign {
            contract_id,
            key_id,
            signature,
        } => {
            let signed = Signature {
                key_id: &key_id,
                signature: &signature,
                document_sha256: &verified_sha256,
            };
            sign(tx, user, head, &contract_id, signed, now).await?
        }
        Command::Publish { contract_id } => mark(tx, user, head, &contract_id, true, now).await?,
        Command::File { contract_id } => mark(tx, user, head, &contract_id, false, now).await?,
        Command::Supplement {
            contract_id,
            amount_fen,
            reason,
        } => supplement(tx, user, head, &contract_id, amount_fen, &reason, now).await?,
    };
    a.commit(state).await?;
    Ok(ack)
}

async fn org_facts(tx: &mut Tx, org: &str) -> AppResult<Value> {
    let r = sqlx::query(
        "SELECT id, name, credit_code, enterprise_size FROM organisations WHERE id = $1",
    )
    .bind(org)
    .fetch_one(&mut **tx)
    .await?;
    Ok(json!({
        "org_id": r.try_get::<String, _>("id")?,
        "name": r.try_get::<String, _>("name")?,
        "credit_code": r.try_get::<String, _>("credit_code")?,
        "enterprise_size": r.try_get::<Option<String>, _>("enterprise_size")?,
    }))
}

async fn draft(tx: &mut Tx, user: &CurrentUser, head: &TenderHead, now: i64) -> AppResult<Ack> {
    if !is_purchaser(user, head) {
        return Err(AppError::Forbidden);
    }
    let notice = crate::award::repo::notice(&mut **tx, &head.id)
        .await?
        .ok_or(ContractError::NoAward)?;
    if !contracts(&mut **tx, &head.id).await?.is_empty() {
        return Err(AppError::IllegalTransition {
            from: "drafted".into(),
            action: "draft",
        });
    }
    let n = &notice.document;
    let letter_at = n["published_at"].as_i64().unwrap_or(now);
    let category: String = sqlx::query_scalar("SELECT category FROM tenders WHERE id = $1")
        .bind(&head.id)
        .fetch_one(&mut **tx)
        .await?;
    let category = serde_json::from_value::<crate::evaluation::Category>(Value::String(category))
        .unwrap_or(crate::evaluation::Category::Goods);
    let clauses = crate::tender::template::contract_terms(category);
    let purchaser = org_facts(tx, &head.purchaser_org_id).await?;
    let mut last = None;
    for lot in n["lots"].as_array().into_iter().flatten() {
        let Some(w) = lot["winner"].as_object() else {
            continue;
        };
        let org = w["org_id"].as_str().unwrap_or_default().to_string();
        let supplier = org_facts(tx, &org).await?;
        let sme = crate::org::types::is_sme(supplier["enterprise_size"].as_str());
        let letter = crate::award::repo::letter(&mut **tx, &head.id, &org).await?;
        let id = crate::org::service::new_id();
        let lot_no = lot["lot_no"].as_i64().unwrap_or(1);
        let amount = w["price_fen"].as_i64().unwrap_or_default();
        let document = json!({
            "type": "government_procurement_contract",
            "contract_no": format!("{}-HT{lot_no}", n["tender"]["code"].as_str().unwrap_or_default()),
            "tender": n["tender"],
            "lot": {"lot_no": lot_no, "name": lot["name"]},
            "purchaser": purchaser,
            "supplier": supplier,
            "price_fen": amount,
            "price_words": w["price_words"],
            "items": w["products"],
            "brand": w["brand"],
            "delivery_days": w["delivery_days"],
            "warranty_months": w["warranty_months"],
            "sme": sme,
            "terms": Adjustable::default_for(sme),
            "clauses": clauses,
            "notice_sha256": notice.document_sha256,
            "award_letter_sha256": letter.map(|l| l.document_sha256),
            "drafted_at": now,
        });
        let sha = digest(&document);
        sqlx::query(
            "INSERT INTO contracts (id, tender_id, lot_no, purchaser_org_id, supplier_org_id, \
             amount_fen, document, document_sha256, status, award_letter_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'draft', $9, $10)",
        )
        .bind(&id)
        .bind(&head.id)
        .bind(lot_no)
        .bind(&head.purchaser_org_id)
        .bind(&org)
        .bind(amount)
        .bind(document.to_string())
        .bind(&sha)
        .bind(letter_at)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let event = ContractDrafted {
            contract_id: id.clone(),
            lot_no,
            supplier_org_id: org,
            amount_fen: amount,
            document_sha256: sha.clone(),
        };
        append(
            tx,
            &head.id,
            now,
            &user.id,
            &LedgerEvent::ContractDrafted(event),
        )
        .await?;
        last = Some(Ack {
            contract_id: id,
            status: "draft".into(),
            document_sha256: sha,
        });
    }
    last.ok_or_else(|| ContractError::NoAward.into())
}

async fn adjust(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    id: &str,
    terms: Adjustable,
    now: i64,
) -> AppResult<Ack> {
    if !is_purchaser(user, head) {
        return Err(AppError::Forbidden);
    }
    let mut c = of_tender(tx, head, id).await?;
    if c.status != "draft" || signatures(&mut **tx, id).await?.iter().any(|_| true) {
        return Err(ContractError::Signed.into());
    }
    let terms = Adjustable {
        delivery_place: terms.delivery_place.trim().to_string(),
        special_terms: terms.special_terms.trim().to_string(),
        ..terms
    };
    rules::check(&terms, c.document["sme"] == true)
        .map_err(|(field, message)| AppError::field(field, message))?;
    c.document["terms"] = serde_json::to_value(&terms).map_err(anyhow::Error::from)?;
    c.document["adjusted_at"] = json!(now);
    let sha = digest(&c.document);
    sqlx::query("UPDATE contracts SET document = $1, document_sha256 = $2 WHERE id = $3")
        .bind(c.document.to_string())
        .bind(&sha)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(Ack {
        contract_id: id.to_string(),
        status: c.status,
        document_sha256: sha,
    })
}

async fn signatures<'e, E>(exec: E, id: &str) -> AppResult<Vec<PartySignature>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT s.party, s.org_id, s.key_id, s.signature, s.at, k.cert_pem \
         FROM contract_signatures s JOIN user_keys k ON k.key_id = s.key_id \
         WHERE s.contract_id = $1 ORDER BY s.at, s.party",
    )
    .bind(id)
    .fetch_all(exec)
    .await?
    .iter()
    .map(|r| {
        Ok(PartySignature {
            party: r.try_get("party")?,
            org_id: r.try_get("org_id")?,
            key_id: r.try_get("key_id")?,
            signature: r.try_get("signature")?,
            cert_pem: r.try_get("cert_pem")?,
            at: r.try_get("at")?,
        })
    })
    .collect()
}

/// A party's signature as checked before the transaction, with the digest it covers.
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
    let Signature {
        key_id,
        signature,
        document_sha256,
    } = signed_by;
    let c = of_tender(tx, head, id).await?;
    let party = party_of(user, &c).ok_or(AppError::Forbidden)?;
    if crate::challenge::repo::blocks_contract(&mut **tx, &head.id).await? {
        return Err(ContractError::Blocked.into());
    }
    let signed = signatures(&mut **tx, id).await?;
    if signed.iter().any(|s| s.party == party) {
        return Err(AppError::IllegalTransition {
            from: format!("signed_by_{party}"),
            action: "sign",
        });
    }
    // The signature was checked against the document read before the transaction: it
    // must be the one stored now (an adjustment in between makes it void).
    if c.document_sha256 != document_sha256 {
        return Err(AppError::SignatureInvalid);
    }
    sqlx::query(
        "INSERT INTO contract_signatures (contract_id, party, org_id, user_id, key_id, \
         signature, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(party)
    .bind(user.org_id.as_deref().unwrap_or_default())
    .bind(&user.id)
    .bind(key_id)
    .bind(signature.trim())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let complete = signed.len() + 1 == 2;
    if complete {
        sqlx::query("UPDATE contracts SET status = 'signed', signed_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    let event = ContractSigned {
        contract_id: id.to_string(),
        party: party.into(),
        document_sha256: c.document_sha256.clone(),
        signature_sha256: crate::crypto::sha256_hex(signature.trim().as_bytes()),
        complete,
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::ContractSigned(event),
    )
    .await?;
    Ok(Ack {
        contract_id: id.to_string(),
        status: if complete { "signed" } else { "draft" }.into(),
        document_sha256: c.document_sha256,
    })
}

/// Published (R-CON-2) or filed with finance (R-CON-3), once, after both signatures.
async fn mark(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    id: &str,
    publish: bool,
    now: i64,
) -> AppResult<Ack> {
    if !is_purchaser(user, head) {
        return Err(AppError::Forbidden);
    }
    let c = of_tender(tx, head, id).await?;
    if c.status != "signed" {
        return Err(ContractError::NotSigned.into());
    }
    let (done, column, action) = if publish {
        (c.published_at, "published_at", "publish")
    } else {
        (c.filed_at, "filed_at", "file")
    };
    if done.is_some() {
        return Err(AppError::IllegalTransition {
            from: format!("{action}ed"),
            action,
        });
    }
    sqlx::query(&format!("UPDATE contracts SET {column} = $1 WHERE id = $2"))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let event = if publish {
        LedgerEvent::ContractPublished(ContractPublished {
            contract_id: id.to_string(),
            document_sha256: c.document_sha256.clone(),
        })
    } else {
        LedgerEvent::ContractFiled(ContractFiled {
            contract_id: id.to_string(),
            document_sha256: c.document_sha256.clone(),
        })
    };
    append(tx, &head.id, now, &user.id, &event).await?;
    Ok(Ack {
        contract_id: id.to_string(),
        status: c.status,
        document_sha256: c.document_sha256,
    })
}

#[allow(clippy::too_many_arguments)]
async fn supplement(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    id: &str,
    amount_fen: i64,
    reason: &str,
    now: i64,
) -> AppResult<Ack> {
    if !is_purchaser(user, head) {
        return Err(AppError::Forbidden);
    }
    let c = of_tender(tx, head, id).await?;
    if c.status != "signed" {
        return Err(ContractError::NotSigned.into());
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > rules::MAX_TERMS_CHARS {
        return Err(AppError::field(
            "reason",
            "须说明理由 / a reason is required",
        ));
    }
    if amount_fen <= 0 {
        return Err(AppError::field(
            "amount_fen",
            "金额须大于 0 / must be positive",
        ));
    }
    let before: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM contract_supplements \
         WHERE contract_id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let total = before.saturating_add(amount_fen);
    if !rules::supplement_allowed(c.amount_fen, total) {
        return Err(ContractError::SupplementOverLimit.into());
    }
    sqlx::query(
        "INSERT INTO contract_supplements (id, contract_id, amount_fen, reason, recorded_by, \
         recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(crate::org::service::new_id())
    .bind(id)
    .bind(amount_fen)
    .bind(reason)
    .bind(&user.id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let event = ContractSupplemented {
        contract_id: id.to_string(),
        amount_fen,
        total_fen: total,
        reason_sha256: crate::crypto::sha256_hex(reason.as_bytes()),
    };
    append(
        tx,
        &head.id,
        now,
        &user.id,
        &LedgerEvent::ContractSupplemented(event),
    )
    .await?;
    Ok(Ack {
        contract_id: id.to_string(),
        status: c.status,
        document_sha256: c.document_sha256,
    })
}

/// Who reads a tender's contracts whole: the parties, the agency, the supervisors.
fn reads_all(user: Option<&CurrentUser>, head: &TenderHead, c: &Row_) -> bool {
    user.is_some_and(|u| {
        let r = crate::committee::access::of(u, head);
        r.host || r.purchaser || r.supervisor || party_of(u, c).is_some()
    })
}

pub async fn view(
    state: &AppState,
    user: Option<&CurrentUser>,
    tender_id: &str,
) -> AppResult<ContractsView> {
    let pool = &state.db.pool;
    let head = crate::tender::repo::published_head(pool, tender_id).await?;
    let deadlines = state.runtime::<Deadlines>();
    let mut out = Vec::new();
    for c in contracts(pool, tender_id).await? {
        if !(reads_all(user, &head, &c) || c.published_at.is_some()) {
            continue;
        }
        let signatures = signatures(pool, &c.id).await?;
        let my_payload = user
            .and_then(|u| party_of(u, &c))
            .filter(|p| !signatures.iter().any(|s| s.party == *p))
            .map(|_| rules::payload(&c.id, &c.document_sha256));
        let supplements = sqlx::query(
            "SELECT amount_fen, reason, recorded_at FROM contract_supplements \
             WHERE contract_id = $1 ORDER BY recorded_at",
        )
        .bind(&c.id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(SupplementView {
                amount_fen: r.try_get("amount_fen")?,
                reason: r.try_get("reason")?,
                recorded_at: r.try_get("recorded_at")?,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
        out.push(ContractView {
            sign_due_at: deadlines.due(DeadlineRule::ContractSigning, c.award_letter_at),
            publish_due_at: c
                .signed_at
                .map(|s| deadlines.due(DeadlineRule::ContractPublication, s)),
            file_due_at: c
                .signed_at
                .map(|s| deadlines.due(DeadlineRule::ContractFiling, s)),
            id: c.id,
            lot_no: c.lot_no,
            supplier_org_id: c.supplier_org_id,
            amount_fen: c.amount_fen,
            status: c.status,
            document: c.document,
            document_sha256: c.document_sha256,
            signatures,
            signed_at: c.signed_at,
            published_at: c.published_at,
            filed_at: c.filed_at,
            supplements,
            my_payload,
        });
    }
    let roles = user.map(|u| crate::committee::access::of(u, &head));
    let purchaser = roles.as_ref().is_some_and(|r| r.purchaser);
    Ok(ContractsView {
        tender_id: tender_id.to_string(),
        may_draft: purchaser
            && out.is_empty()
            && crate::award::repo::notice(pool, tender_id).await?.is_some(),
        blocked: crate::challenge::repo::blocks_contract(pool, tender_id).await?,
        purchaser,
        contracts: out,
    })
}

/// The signed contract for `kaibiao verify`: to whoever may read it, once both signed.
pub async fn bundle(
    state: &AppState,
    user: Option<&CurrentUser>,
    contract_id: &str,
) -> AppResult<ContractBundle> {
    let pool = &state.db.pool;
    let c = contract(pool, contract_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let head = crate::tender::repo::published_head(pool, &c.tender_id).await?;
    if !(reads_all(user, &head, &c) || c.published_at.is_some()) {
        return Err(AppError::NotFound);
    }
    if c.status != "signed" {
        return Err(ContractError::NotSigned.into());
    }
    Ok(ContractBundle {
        contract_id: c.id.clone(),
        signatures: signatures(pool, &c.id).await?,
        document: c.document,
        document_sha256: c.document_sha256,
        ca_pem: state.pki.ca_pem.clone(),
    })
}
