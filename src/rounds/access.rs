//! Who belongs to a tender's rounds, and as what: the supervisors, the host (the tender's
//! agency), the purchaser, the seated panel, and the suppliers in the negotiation. Checked
//! on every command, view and hub subscription.

use crate::auth::{CurrentUser, Role};
use crate::committee::access::{self as panel, Seat};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tender::repo as tender_repo;
use crate::tender::repo::TenderHead;
use crate::tender::types::TenderStatus;

#[derive(Debug, Clone, Default)]
pub struct Member {
    pub supervisor: bool,
    pub host: bool,
    pub purchaser: bool,
    /// A drawn expert's seat (accepted or not).
    pub seat: Option<Seat>,
    /// The supplier's organisation, when it is in the negotiation (or withdrew from it).
    pub supplier: Option<String>,
}

impl Member {
    /// A seated expert of the panel.
    pub fn on_panel(&self) -> bool {
        self.seat.as_ref().is_some_and(|s| s.status == "accepted")
    }

    /// May conduct the negotiation: the host or a seated expert.
    pub fn conducts(&self) -> bool {
        self.host || self.on_panel()
    }

    /// Sees every offer once a round is read (not a supplier).
    pub fn reads_all(&self) -> bool {
        self.supervisor || self.host || self.purchaser || self.on_panel()
    }
}

/// The user's standing, inside a transaction or not.
pub async fn of(
    conn: &mut sqlx::AnyConnection,
    user: &CurrentUser,
    head: &TenderHead,
) -> AppResult<Member> {
    if head.status == TenderStatus::Draft {
        return Err(AppError::NotFound);
    }
    let org = user.org_id.as_deref();
    // The tender's own roles, as the evaluation room has them.
    let roles = panel::of(user, head);
    let mut m = Member {
        supervisor: roles.supervisor,
        host: roles.host,
        purchaser: roles.purchaser,
        ..Member::default()
    };
    if let Some(seat) = panel::seat_of(&mut *conn, user, &head.id).await? {
        m.seat = seat;
    }
    if user.role == Role::Supplier {
        if let Some(org) = org {
            if super::repo::supplier(&mut *conn, &head.id, org)
                .await?
                .is_some()
            {
                m.supplier = Some(org.to_string());
            }
        }
    }
    if m.supervisor || m.host || m.purchaser || m.on_panel() || m.supplier.is_some() {
        Ok(m)
    } else if user.role == Role::Expert {
        // Drawn and not (yet) seated, or not drawn for this tender at all.
        Err(crate::committee::types::EvalRoomError::NotOnPanel.into())
    } else {
        Err(AppError::Forbidden)
    }
}

/// As [`of`], reading the tender first.
pub async fn member(state: &AppState, user: &CurrentUser, tender_id: &str) -> AppResult<Member> {
    let head = tender_repo::head(&state.db.pool, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut conn = state.db.pool.acquire().await?;
    of(&mut conn, user, &head).await
}
