//! The rounds as a hub room (`rounds:<tender id>`): the panel and the host conduct (and
//! speak), the supervisors watch, each supplier still in takes part and listens — shown to
//! the others as a bidder's pseudonym, an expert by seat.

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde_json::Value;

use super::access::member;
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::hub::kind::{RoomKind, Standing};
use crate::hub::room::{Audience, Hidden};
use crate::state::AppState;

pub struct RoundsRoom;

impl RoomKind for RoundsRoom {
    fn name(&self) -> &'static str {
        "rounds"
    }

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
            let hidden = match (&m.seat, &m.supplier) {
                (Some(s), _) => Hidden::Expert {
                    seat: s.seat,
                    seated: s.status == "accepted",
                },
                (None, Some(_)) => Hidden::Bidder,
                (None, None) => Hidden::No,
            };
            Ok(Standing { audience, hidden })
        }
        .boxed()
    }

    /// The host and the panel speak; suppliers, supervisors and the purchaser listen. The
    /// panel negotiates with each supplier separately: a supplier speaking here would be
    /// heard by the others, so its side of a talk is not in this shared room.
    fn media_role<'a>(
        &'a self,
        state: &'a AppState,
        user: &'a CurrentUser,
        tender_id: &'a str,
    ) -> BoxFuture<'a, AppResult<kaibiao_media::Role>> {
        async move {
            let m = member(state, user, tender_id).await?;
            Ok(if m.conducts() {
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
