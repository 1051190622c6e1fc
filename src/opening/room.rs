//! The opening hall as a hub room (`opening:<tender id>`): who is who in it, who speaks
//! in its media, and its commands (`service::command`).

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde_json::Value;

use super::access::member;
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::hub::kind::{RoomKind, Standing};
use crate::hub::room::{Audience, Hidden};
use crate::state::AppState;

pub struct OpeningRoom;

impl RoomKind for OpeningRoom {
    fn name(&self) -> &'static str {
        "opening"
    }

    /// Supervisors and the host see by name what they may; a member who is only a bidder
    /// is hidden from the others (a count after the deadline, never a name to a bidder).
    fn standing<'a>(
        &'a self,
        state: &'a AppState,
        user: &'a CurrentUser,
        tender_id: &'a str,
    ) -> BoxFuture<'a, AppResult<Standing>> {
        async move {
            let m = member(state, user, tender_id).await?;
            let audience = if m.supervisor {
                Audience::Supervisor
            } else if m.host {
                Audience::Host
            } else {
                Audience::Member
            };
            let bidder_only = m.bidder_org.is_some()
                && !(m.supervisor || m.host || m.purchaser || m.share_index.is_some());
            let hidden = if bidder_only {
                Hidden::Bidder
            } else {
                Hidden::No
            };
            Ok(Standing { audience, hidden })
        }
        .boxed()
    }

    /// The host publishes; supervisors, bidders and the purchaser receive.
    fn media_role<'a>(
        &'a self,
        state: &'a AppState,
        user: &'a CurrentUser,
        tender_id: &'a str,
    ) -> BoxFuture<'a, AppResult<kaibiao_media::Role>> {
        async move {
            let m = member(state, user, tender_id).await?;
            Ok(if m.host {
                kaibiao_media::Role::Publisher
            } else {
                kaibiao_media::Role::Subscriber
            })
        }
        .boxed()
    }

    fn command<'a>(
        &'a self,
        state: &'a AppState,
        user: &'a CurrentUser,
        tender_id: &'a str,
        command: Value,
    ) -> BoxFuture<'a, AppResult<Value>> {
        crate::hub::kind::run_command(command, |c| {
            super::service::command(state, user, tender_id, c)
        })
        .boxed()
    }
}
