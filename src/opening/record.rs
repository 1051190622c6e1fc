//! The opening record (开标记录): what was read out, who decrypted, which custodians
//! unsealed, objections and answers, who confirmed and who is deemed to, and the ledger
//! head it closes on; signed by the platform key (ECDSA P-256 over its canonical JSON).
//! `kaibiao verify record.json` checks a downloaded copy offline.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::Row;

use super::repo::opening_row;
use super::service::org_name;
use super::types::Phase;
use crate::auth::CurrentUser;
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{canonical_json, repo::append, Ledger, LedgerEvent, OpeningClosed};
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::types::TenderAction;

/// The record with the platform's signature, as stored and served.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedRecord {
    pub record: Value,
    /// base64url r‖s over `canonical_json(record)`.
    pub signature: String,
    pub signer_pem: String,
}

/// What `GET /api/tenders/{id}/opening/record` returns and `kaibiao verify` reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordBundle {
    #[serde(flatten)]
    pub signed: SignedRecord,
    pub ca_pem: String,
    pub ledger: Ledger,
}

fn parse_json(s: Option<String>) -> Value {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

/// Builds, signs and stores the record; the tender goes on to evaluation, or fails (流标)
/// when no lot stands. Runs inside the caller's transaction, tender row locked.
pub async fn close(
    state: &AppState,
    tx: &mut Tx,
    head: &TenderHead,
    now: i64,
    reason: &str,
) -> AppResult<()> {
    let o = opening_row(&mut **tx, &head.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let t =
        sqlx::query("SELECT code, title, method, custodian_threshold FROM tenders WHERE id = $1")
            .bind(&head.id)
            .fetch_one(&mut **tx)
            .await?;
    let host_name: String = sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1")
        .bind(&o.host_user_id)
        .fetch_one(&mut **tx)
        .await?;

    let mut bids = Vec::new();
    let mut bidders = std::collections::BTreeSet::new();
    for r in sqlx::query(
        "SELECT ob.bid_id, ob.position, ob.lot_no, ob.bidder_org_id, o.name, ob.decrypt_status, \
         ob.decrypt_started_at, ob.decrypted_at, ob.result, ob.sheet, ob.cause, b.ciphertext_sha256 \
         FROM opening_bids ob JOIN bids b ON b.id = ob.bid_id \
         JOIN organisations o ON o.id = ob.bidder_org_id \
         WHERE ob.tender_id = $1 ORDER BY ob.position",
    )
    .bind(&head.id)
    .fetch_all(&mut **tx)
    .await?
    {
        let org: String = r.try_get("bidder_org_id")?;
        bidders.insert(org.clone());
        bids.push(json!({
            "bid_id": r.try_get::<String, _>("bid_id")?,
            "position": r.try_get::<i64, _>("position")?,
            "lot_no": r.try_get::<i64, _>("lot_no")?,
            "bidder_org_id": org,
            "bidder_name": r.try_get::<String, _>("name")?,
            "ciphertext_sha256": r.try_get::<Option<String>, _>("ciphertext_sha256")?,
            "decrypt_status": r.try_get::<String, _>("decrypt_status")?,
            "decrypt_started_at": r.try_get::<Option<i64>, _>("decrypt_started_at")?,
            "decrypted_at": r.try_get::<Option<i64>, _>("decrypted_at")?,
            "result": r.try_get::<Option<String>, _>("result")?,
            "sheet": parse_json(r.try_get("sheet")?),
            "cause": parse_json(r.try_get("cause")?),
        }));
    }

    let custodians: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM tender_key_shares WHERE tender_id = $1")
            .bind(&head.id)
            .fetch_one(&mut **tx)
            .await?;
    let shares: Vec<Value> = sqlx::query(
        "SELECT s.share_index, s.custodian_user_id, u.display_name, s.submitted_at \
         FROM opening_shares s JOIN users u ON u.id = s.custodian_user_id \
         WHERE s.tender_id = $1 ORDER BY s.share_index",
    )
    .bind(&head.id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| -> sqlx::Result<Value> {
        Ok(json!({
            "index": r.try_get::<i64, _>("share_index")?,
            "custodian_user_id": r.try_get::<String, _>("custodian_user_id")?,
            "custodian_name": r.try_get::<String, _>("display_name")?,
            "submitted_at": r.try_get::<i64, _>("submitted_at")?,
        }))
    })
    .collect::<Result<_, _>>()?;

    let objections: Vec<Value> = sqlx::query(
        "SELECT j.id, j.bidder_org_id, o.name, j.kind, j.text, j.raised_at, j.answer, \
         j.answered_by, j.answered_at FROM opening_objections j \
         JOIN organisations o ON o.id = j.bidder_org_id \
         WHERE j.tender_id = $1 ORDER BY j.raised_at, j.id",
    )
    .bind(&head.id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| -> sqlx::Result<Value> {
        Ok(json!({
            "objection_id": r.try_get::<String, _>("id")?,
            "bidder_org_id": r.try_get::<String, _>("bidder_org_id")?,
            "bidder_name": r.try_get::<String, _>("name")?,
            "kind": r.try_get::<String, _>("kind")?,
            "text": r.try_get::<String, _>("text")?,
            "raised_at": r.try_get::<i64, _>("raised_at")?,
            "answer": r.try_get::<Option<String>, _>("answer")?,
            "answered_by": r.try_get::<Option<String>, _>("answered_by")?,
            "answered_at": r.try_get::<Option<i64>, _>("answered_at")?,
        }))
    })
    .collect::<Result<_, _>>()?;

    let confirmed: std::collections::BTreeMap<String, i64> = sqlx::query(
        "SELECT bidder_org_id, confirmed_at FROM opening_confirmations WHERE tender_id = $1",
    )
    .bind(&head.id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| -> sqlx::Result<(String, i64)> {
        Ok((r.try_get("bidder_org_id")?, r.try_get("confirmed_at")?))
    })
    .collect::<Result<_, _>>()?;
    let mut confirmations = Vec::new();
    let mut deemed = Vec::new();
    for org in &bidders {
        let name = org_name(&mut **tx, org).await?;
        match confirmed.get(org) {
            Some(at) => confirmations.push(json!({
                "bidder_org_id": org, "bidder_name": name, "how": "confirmed", "at": at,
            })),
            None => {
                deemed.push(org.clone());
                confirmations.push(json!({
                    "bidder_org_id": org, "bidder_name": name, "how": "deemed", "at": now,
                }));
            }
        }
    }

    let sign_ins = super::signin::for_record(tx, &head.id, &bidders).await?;

    let (ledger_seq, ledger_head) = crate::ledger::repo::head(tx, &head.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("tender without ledger"))?;
    let standing = o.lots.iter().any(|l| l.status == "open");

    let record = json!({
        "kind": "opening_record",
        "version": 1,
        "tender": {
            "id": head.id,
            "code": t.try_get::<String, _>("code")?,
            "title": t.try_get::<String, _>("title")?,
            "method": t.try_get::<String, _>("method")?,
        },
        "host": { "user_id": o.host_user_id, "display_name": host_name },
        "started_at": o.started_at,
        "decrypt_ends_at": o.decrypt_ends_at,
        "closed_at": now,
        "close_reason": reason,
        "outcome": if standing { "evaluation" } else { "failed" },
        "lots": o.lots,
        "bids": bids,
        "threshold": t.try_get::<i64, _>("custodian_threshold")?,
        // How many custodians hold a share (the shares list has those submitted only).
        "custodians": custodians,
        "custodian_shares": shares,
        "objections": objections,
        "confirmations": confirmations,
        "sign_ins": sign_ins,
        "ledger_seq": ledger_seq,
        "ledger_head": ledger_head,
    });
    let message = canonical_json(&record);
    let signature = crate::crypto::b64url::encode(&state.pki.sign(message.as_bytes())?);
    let signed = SignedRecord {
        record,
        signature: signature.clone(),
        signer_pem: state.pki.signer_pem.clone(),
    };
    sqlx::query("UPDATE openings SET phase = $1, closed_at = $2, record = $3 WHERE tender_id = $4")
        .bind(Phase::Closed.as_str())
        .bind(now)
        .bind(serde_json::to_string(&signed).map_err(anyhow::Error::from)?)
        .bind(&head.id)
        .execute(&mut **tx)
        .await?;
    let action = if standing {
        TenderAction::CloseOpening
    } else {
        TenderAction::FailOpening
    };
    let next = head
        .status
        .after(action)
        .ok_or(AppError::IllegalTransition {
            from: head.status.as_str().into(),
            action: action.as_str(),
        })?;
    crate::tender::repo::set_status(tx, &head.id, next, None).await?;
    let event = LedgerEvent::OpeningClosed(OpeningClosed {
        record_sha256: crate::crypto::sha256_hex(message.as_bytes()),
        ledger_head,
        signature,
        deemed_confirmed: deemed,
        outcome: if standing { "evaluation" } else { "failed" }.into(),
    });
    append(tx, &head.id, now, "platform", &event).await?;
    Ok(())
}

/// The signed record with the CA and the ledger (as `user` may read it), once the
/// opening closed. The caller has checked that `user` may read the record: a member of
/// the opening (`access::member`), or a reader a later stage admits (the evaluation's
/// seated experts: `GET /api/tenders/{id}/opening/record` is served by the committee's
/// routes, which know both).
pub async fn bundle(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<RecordBundle> {
    let stored: Option<Option<String>> =
        sqlx::query_scalar("SELECT record FROM openings WHERE tender_id = $1")
            .bind(tender_id)
            .fetch_optional(&state.db.pool)
            .await?;
    let signed: SignedRecord = match stored.flatten() {
        Some(s) => serde_json::from_str(&s).map_err(anyhow::Error::from)?,
        None => return Err(AppError::NotFound),
    };
    let ledger = crate::tender::service::ledger(state, Some(user), tender_id).await?;
    Ok(RecordBundle {
        signed,
        ca_pem: state.pki.ca_pem.clone(),
        ledger,
    })
}

/// Why a downloaded record does not verify.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("ledger: {0}")]
    Ledger(#[from] crate::ledger::VerifyError),
    #[error("the ledger has no opening_closed event for this record")]
    NotInLedger,
    #[error("the record's ledger head is not the event before opening_closed")]
    HeadMismatch,
    #[error("the signer certificate does not chain to the CA: {0}")]
    Chain(String),
    #[error("the platform signature does not verify")]
    Signature,
    #[error("the sign-in of {0} does not verify")]
    SignIn(String),
}

/// Checks a record bundle offline: the ledger chain, the record's place in it, and the
/// signature by a certificate of the bundled CA. Returns the closing event's seq.
pub fn verify(b: &RecordBundle) -> Result<i64, RecordError> {
    crate::ledger::verify(&b.ledger)?;
    let message = canonical_json(&b.signed.record);
    let digest = crate::crypto::sha256_hex(message.as_bytes());
    let closed = b
        .ledger
        .events
        .iter()
        .find(|e| {
            e.body_as::<OpeningClosed>()
                .is_some_and(|c| c.record_sha256 == digest)
        })
        .ok_or(RecordError::NotInLedger)?;
    if b.signed.record["ledger_head"] != closed.prev_hash.as_str()
        || b.signed.record["ledger_seq"] != closed.seq - 1
    {
        return Err(RecordError::HeadMismatch);
    }
    let ca = crate::pki::authority::pem_to_der(&b.ca_pem)
        .map_err(|e| RecordError::Chain(e.to_string()))?;
    let public = crate::pki::authority::check_chain(&b.signed.signer_pem, &ca, closed.at)
        .map_err(|e| RecordError::Chain(e.to_string()))?;
    let sig = crate::crypto::b64url::decode(&b.signed.signature).ok_or(RecordError::Signature)?;
    if !crate::pki::authority::verify_signature(&public, message.as_bytes(), &sig) {
        return Err(RecordError::Signature);
    }
    verify_sign_ins(&b.signed.record, &b.ca_pem)?;
    Ok(closed.seq)
}

/// Checks each sign-in of a record: its statement names the record's tender and the
/// bidder, and is signed by a key the CA (`ca_pem`) certified. Returns how many.
pub fn verify_sign_ins(record: &Value, ca_pem: &str) -> Result<usize, RecordError> {
    let ca =
        crate::pki::authority::pem_to_der(ca_pem).map_err(|e| RecordError::Chain(e.to_string()))?;
    let tender_id = record["tender"]["id"].as_str().unwrap_or_default();
    let sign_ins = record["sign_ins"]
        .as_array()
        .map_or(&[][..], |a| a.as_slice());
    for s in sign_ins {
        let field = |k: &str| s[k].as_str().unwrap_or_default();
        let bad = || RecordError::SignIn(field("name").to_string());
        let mut lines = field("statement").split('\n');
        if lines.next() != Some("kaibiao-sign-in-v1")
            || lines.next() != Some(tender_id)
            || lines.next() != Some(field("org_id"))
        {
            return Err(bad());
        }
        let at = s["signed_in_at"].as_i64().unwrap_or(0);
        let public =
            crate::pki::authority::check_chain(field("cert_pem"), &ca, at).map_err(|_| bad())?;
        let sig = crate::crypto::b64url::decode(field("signature")).ok_or_else(bad)?;
        if !crate::pki::authority::verify_signature(&public, field("statement").as_bytes(), &sig) {
            return Err(bad());
        }
    }
    Ok(sign_ins.len())
}
