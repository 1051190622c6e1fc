//! Sign-in to the opening hall (签到, docs/opening.md): each bidder once, and the host and
//! supervisors present (到场), each signing a statement with their device key while the
//! server keeps the time. Who signed in for a bidder tells who has bid: before the deadline
//! a bidder's sign-in goes to the bid register and is shown to supervisors only.

use serde_json::{json, Value};
use sqlx::Row;

use super::service::MINUTE;
use super::types::{Ack, MySignIn, OpeningError, SignInView};
use crate::auth::{CurrentUser, Role};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{LedgerEvent, SignedIn};
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::types::TenderStatus;

/// What is signed: the tender, the organisation (the bidder's; staff's own, or empty)
/// and the person.
pub fn statement(tender_id: &str, org_id: &str, user_id: &str) -> String {
    format!("kaibiao-sign-in-v1\n{tender_id}\n{org_id}\n{user_id}")
}

/// When sign-in opens for a tender whose bids close at `deadline`.
pub fn opens_at(state: &AppState, deadline: i64) -> i64 {
    deadline - state.config.opening.sign_in_mins * MINUTE
}

/// As whom `user` signs in to `head`'s hall, if at all: `bidder` for a supplier whose
/// organisation has a submitted bid, `host` for the tender's agency, a supervisor by
/// role.
pub(super) async fn role_of(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
) -> AppResult<&'static str> {
    let org = user.org_id.as_deref();
    match user.role {
        Role::Supplier => {
            let bids: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM bids WHERE tender_id = $1 AND bidder_org_id = $2 \
                 AND status = 'submitted'",
            )
            .bind(&head.id)
            .bind(org.unwrap_or(""))
            .fetch_one(&mut **tx)
            .await?;
            if bids > 0 {
                Ok("bidder")
            } else {
                Err(AppError::Forbidden)
            }
        }
        Role::Agency if org == Some(head.agency_org_id.as_str()) => Ok("host"),
        r if r.is_supervisor() => Ok(r.as_str()),
        _ => Err(AppError::Forbidden),
    }
}

/// Signs `user` in, once: a bidder from `sign_in_mins` before the deadline until the host
/// starts; the host and supervisors from then until the record is signed. The head was
/// read under the tender's lock, so a sign-in never lands in the register after the seal
/// has named its head.
pub(super) async fn sign_in(
    state: &AppState,
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    key_id: &str,
    signature: &str,
    now: i64,
) -> AppResult<Ack> {
    let role = role_of(tx, user, head).await?;
    let bidder = role == "bidder";
    let open = match head.status {
        TenderStatus::Published => now >= opens_at(state, head.bid_deadline),
        TenderStatus::Sealed => true,
        TenderStatus::Opening => !bidder,
        _ => false,
    };
    if !open {
        return Err(OpeningError::SignInNotOpen.into());
    }
    let org = user.org_id.clone();
    // A bidder signs in once, whichever of its people does it.
    let dup: Option<i64> = sqlx::query_scalar(
        "SELECT signed_in_at FROM opening_sign_ins WHERE tender_id = $1 AND (user_id = $2 \
         OR (role = 'bidder' AND $3 = 'bidder' AND org_id = $4))",
    )
    .bind(&head.id)
    .bind(&user.id)
    .bind(role)
    .bind(org.as_deref().unwrap_or(""))
    .fetch_optional(&mut **tx)
    .await?;
    if dup.is_some() {
        return Err(OpeningError::AlreadySignedIn.into());
    }
    let statement = statement(&head.id, org.as_deref().unwrap_or(""), &user.id);
    state
        .keyring()
        .verify_user_signature(&user.id, key_id, statement.as_bytes(), signature)
        .await?;
    let signature = signature.trim();
    sqlx::query(
        "INSERT INTO opening_sign_ins (tender_id, user_id, role, org_id, key_id, statement, \
         signature, signed_in_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&head.id)
    .bind(&user.id)
    .bind(role)
    .bind(&org)
    .bind(key_id)
    .bind(&statement)
    .bind(signature)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let name = if bidder {
        super::service::org_name(&mut **tx, org.as_deref().unwrap_or("")).await?
    } else {
        user.display_name.clone()
    };
    let event = LedgerEvent::SignedIn(SignedIn {
        role: role.to_string(),
        org_id: org,
        name,
        statement,
        key_id: key_id.to_string(),
        signature: signature.to_string(),
    });
    if bidder && head.status == TenderStatus::Published && head.bids_secret(now) {
        crate::ledger::repo::append_bid(tx, &head.id, now, &user.id, &event).await?;
    } else {
        crate::ledger::repo::append(tx, &head.id, now, &user.id, &event).await?;
    }
    Ok(Ack::SignedIn { signed_in_at: now })
}

/// The hall's sign-ins as `user` may see them, and `user`'s own (for a bidder: its
/// organisation's). Staff are shown to every member; bidders to supervisors, and to
/// the others from the deadline.
pub(super) async fn view(
    state: &AppState,
    user: &CurrentUser,
    head: &TenderHead,
    supervisor: bool,
    bidder_org: Option<&str>,
    host: bool,
) -> AppResult<(Vec<SignInView>, Option<MySignIn>)> {
    let bids_shown = supervisor || !head.bids_secret(state.clock.now_ms());
    let mut list = Vec::new();
    let mut mine = None;
    for r in sqlx::query(
        "SELECT s.user_id, s.role, s.org_id, s.signed_in_at, o.name AS org_name, \
         u.display_name FROM opening_sign_ins s JOIN users u ON u.id = s.user_id \
         LEFT JOIN organisations o ON o.id = s.org_id WHERE s.tender_id = $1 \
         ORDER BY s.signed_in_at, s.user_id",
    )
    .bind(&head.id)
    .fetch_all(&state.db.pool)
    .await?
    {
        let role: String = r.try_get("role")?;
        let org: Option<String> = r.try_get("org_id")?;
        let at: i64 = r.try_get("signed_in_at")?;
        let is_bidder = role == "bidder";
        if (is_bidder && org.is_some() && org.as_deref() == bidder_org)
            || (!is_bidder && r.try_get::<String, _>("user_id")? == user.id)
        {
            mine = Some(at);
        }
        if is_bidder && !bids_shown {
            continue;
        }
        let name: Option<String> = if is_bidder {
            r.try_get("org_name")?
        } else {
            r.try_get("display_name")?
        };
        list.push(SignInView {
            role,
            org_id: if is_bidder { org } else { None },
            name: name.unwrap_or_default(),
            signed_in_at: at,
        });
    }
    let signs = bidder_org.is_some() || host || supervisor;
    let me = signs.then(|| MySignIn {
        statement: statement(
            &head.id,
            bidder_org.or(user.org_id.as_deref()).unwrap_or(""),
            &user.id,
        ),
        opens_at: opens_at(state, head.bid_deadline),
        signed_in_at: mine,
    });
    Ok((list, me))
}

/// The sign-ins as the opening record keeps them (bidders of the opening and staff), each
/// with its key's certificate for an offline check (`record::verify_sign_ins`).
pub(super) async fn for_record(
    tx: &mut Tx,
    tender_id: &str,
    bidders: &std::collections::BTreeSet<String>,
) -> AppResult<Vec<Value>> {
    let mut out = Vec::new();
    for r in sqlx::query(
        "SELECT s.role, s.org_id, o.name AS org_name, u.display_name, s.signed_in_at, \
         s.key_id, s.statement, s.signature, k.cert_pem FROM opening_sign_ins s \
         JOIN users u ON u.id = s.user_id LEFT JOIN organisations o ON o.id = s.org_id \
         JOIN user_keys k ON k.key_id = s.key_id WHERE s.tender_id = $1 \
         ORDER BY s.signed_in_at, s.user_id",
    )
    .bind(tender_id)
    .fetch_all(&mut **tx)
    .await?
    {
        let role: String = r.try_get("role")?;
        let org: Option<String> = r.try_get("org_id")?;
        let is_bidder = role == "bidder";
        // A bidder whose bid was not in the opening (withdrawn after signing in) is not.
        if is_bidder && !org.as_ref().is_some_and(|o| bidders.contains(o)) {
            continue;
        }
        let name: Option<String> = if is_bidder {
            r.try_get("org_name")?
        } else {
            r.try_get("display_name")?
        };
        out.push(json!({
            "role": role,
            "org_id": org,
            "name": name.unwrap_or_default(),
            "signed_in_at": r.try_get::<i64, _>("signed_in_at")?,
            "key_id": r.try_get::<String, _>("key_id")?,
            "statement": r.try_get::<String, _>("statement")?,
            "signature": r.try_get::<String, _>("signature")?,
            "cert_pem": r.try_get::<String, _>("cert_pem")?,
        }));
    }
    Ok(out)
}
