//! Who belongs to a tender's opening, and as what. Checked on every command, view and
//! hub subscription.

use sqlx::Row;

use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tender::repo as tender_repo;
use crate::tender::types::TenderStatus;

#[derive(Debug, Clone, Default)]
pub struct Member {
    /// Finance, oversight, admin: see everything, including what is withheld from others.
    pub supervisor: bool,
    /// A user of the tender's agency: may host.
    pub host: bool,
    pub purchaser: bool,
    /// The share this user holds as a custodian of the opening key.
    pub share_index: Option<i64>,
    /// The bidder's organisation, for a supplier whose bid is in (submitted).
    pub bidder_org: Option<String>,
}

/// The user's standing in the tender's opening; FORBIDDEN if none, NOT_FOUND for a draft
/// they cannot see.
pub async fn member(state: &AppState, user: &CurrentUser, tender_id: &str) -> AppResult<Member> {
    let head = tender_repo::head(&state.db.pool, tender_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let sees = crate::tender::service::can_see(user, &head);
    if head.status == TenderStatus::Draft && !sees {
        return Err(AppError::NotFound);
    }
    let org = user.org_id.as_deref();
    let mut m = Member {
        supervisor: user.role.is_supervisor(),
        host: user.role == Role::Agency && org == Some(head.agency_org_id.as_str()),
        purchaser: user.role == Role::Purchaser && org == Some(head.purchaser_org_id.as_str()),
        ..Member::default()
    };
    m.share_index = sqlx::query(
        "SELECT share_index FROM tender_key_shares WHERE tender_id = $1 AND custodian_user_id = $2",
    )
    .bind(tender_id)
    .bind(&user.id)
    .fetch_optional(&state.db.pool)
    .await?
    .map(|r| r.try_get("share_index"))
    .transpose()?;
    if user.role == Role::Supplier {
        let org = org.unwrap_or("");
        let bids = crate::bid::repo::for_bidder(&state.db.pool, tender_id, org).await?;
        // A finished bid only: an upload merely started (by anyone with a key) must not
        // open the room, nor could a bid that was withdrawn, replaced or late.
        if bids
            .iter()
            .any(|b| b.status == crate::bid::types::BidStatus::Submitted)
        {
            m.bidder_org = Some(org.to_string());
        }
    }
    if m.supervisor || m.host || m.purchaser || m.share_index.is_some() || m.bidder_org.is_some() {
        Ok(m)
    } else {
        Err(AppError::Forbidden)
    }
}
