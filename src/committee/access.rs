//! Who belongs to a tender's evaluation, and as what. Checked on every command, view and
//! hub subscription. Suppliers are not members: they see their own clarifications only.

use std::collections::HashMap;

use sqlx::Row;

use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tender::repo as tender_repo;
use crate::tender::repo::TenderHead;

use super::types::EvalRoomError;

/// An expert's seat on a panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    pub expert_id: String,
    pub seat: i64,
    /// invited | accepted | declined
    pub status: String,
}

#[derive(Debug, Clone, Default)]
pub struct Member {
    /// Finance, oversight, admin: see everything, live.
    pub supervisor: bool,
    pub finance: bool,
    /// A user of the tender's agency: runs the session.
    pub host: bool,
    pub purchaser: bool,
    pub seat: Option<Seat>,
}

impl Member {
    /// Seated (accepted) expert.
    pub fn expert(&self) -> Option<&Seat> {
        self.seat.as_ref().filter(|s| s.status == "accepted")
    }
}

pub fn of(user: &CurrentUser, head: &TenderHead) -> Member {
    let org = user.org_id.as_deref();
    Member {
        supervisor: user.role.is_supervisor(),
        finance: user.role == Role::Finance,
        host: user.role == Role::Agency && org == Some(head.agency_org_id.as_str()),
        purchaser: user.role == Role::Purchaser && org == Some(head.purchaser_org_id.as_str()),
        seat: None,
    }
}

/// The expert record of a user, if the user is an expert.
pub async fn expert_id<'e, E>(exec: E, user: &CurrentUser) -> sqlx::Result<Option<String>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if user.role != Role::Expert {
        return Ok(None);
    }
    sqlx::query_scalar("SELECT id FROM experts WHERE user_id = $1")
        .bind(&user.id)
        .fetch_optional(exec)
        .await
}

/// An expert user's seat on the tender's panel, in one read: `None` for a user who is not
/// an expert (no expert record), `Some(None)` for an expert not drawn for it.
pub async fn seat_of<'e, E>(
    exec: E,
    user: &CurrentUser,
    tender_id: &str,
) -> sqlx::Result<Option<Option<Seat>>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if user.role != Role::Expert {
        return Ok(None);
    }
    let Some(r) = sqlx::query(
        "SELECT e.id AS expert_id, p.seat, p.status FROM experts e \
         LEFT JOIN evaluation_panel p ON p.expert_id = e.id AND p.tender_id = $1 \
         WHERE e.user_id = $2",
    )
    .bind(tender_id)
    .bind(&user.id)
    .fetch_optional(exec)
    .await?
    else {
        return Ok(None);
    };
    let (seat, status): (Option<i64>, Option<String>) = (r.try_get("seat")?, r.try_get("status")?);
    Ok(Some(match (seat, status) {
        (Some(seat), Some(status)) => Some(Seat {
            expert_id: r.try_get("expert_id")?,
            seat,
            status,
        }),
        _ => None,
    }))
}

/// Every drawn expert's seat on the panels of several tenders, by tender id and user id,
/// in one read.
pub async fn panels<'e, E>(
    exec: E,
    tender_ids: &[&str],
) -> sqlx::Result<HashMap<String, HashMap<String, Seat>>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut out: HashMap<String, HashMap<String, Seat>> = HashMap::new();
    for r in crate::db::fetch_in(exec, tender_ids, |list| {
        format!(
            "SELECT p.tender_id, e.user_id, e.id AS expert_id, p.seat, p.status \
             FROM evaluation_panel p JOIN experts e ON e.id = p.expert_id \
             WHERE p.tender_id IN ({list})"
        )
    })
    .await?
    {
        let seat = Seat {
            expert_id: r.try_get("expert_id")?,
            seat: r.try_get("seat")?,
            status: r.try_get("status")?,
        };
        out.entry(r.try_get("tender_id")?)
            .or_default()
            .insert(r.try_get("user_id")?, seat);
    }
    Ok(out)
}

/// The user's standing in the tender's evaluation: FORBIDDEN for other roles, NOT_ON_PANEL
/// for an expert who was not drawn for it, NOT_FOUND for a tender they cannot see.
pub async fn member(state: &AppState, user: &CurrentUser, tender_id: &str) -> AppResult<Member> {
    let head = tender_repo::head(&state.db.pool, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut m = of(user, &head);
    if let Some(seat) = seat_of(&state.db.pool, user, tender_id).await? {
        m.seat = seat;
        if m.seat.is_none() {
            return Err(EvalRoomError::NotOnPanel.into());
        }
        return Ok(m);
    }
    if m.supervisor || m.host || m.purchaser {
        Ok(m)
    } else {
        Err(AppError::Forbidden)
    }
}
