//! The evaluation room as a hub room (`evaluation:<tender id>`): who is who in it (drawn
//! experts by seat until the award), who speaks in its media, and its commands
//! (`service::command`).

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde_json::Value;

use super::access::member;
use super::types::EvalRoomError;
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::hub::kind::{RoomKind, Standing};
use crate::hub::room::{Audience, Hidden};
use crate::state::AppState;

pub struct EvaluationRoom;

impl RoomKind for EvaluationRoom {
    fn name(&self) -> &'static str {
        "evaluation"
    }

    /// Supervisors see everyone by name; an expert is shown by seat (and not at all
    /// before taking it) to the others.
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
            } else {
                Audience::Member
            };
            let hidden = match &m.seat {
                Some(s) => Hidden::Expert {
                    seat: s.seat,
                    seated: s.status == "accepted",
                },
                None => Hidden::No,
            };
            Ok(Standing { audience, hidden })
        }
        .boxed()
    }

    /// Seated experts and the agency running the session publish; supervisors and the
    /// purchaser receive; a drawn expert not (or no longer) seated is refused.
    fn media_role<'a>(
        &'a self,
        state: &'a AppState,
        user: &'a CurrentUser,
        tender_id: &'a str,
    ) -> BoxFuture<'a, AppResult<kaibiao_media::Role>> {
        async move {
            let m = member(state, user, tender_id).await?;
            if m.seat.is_some() && m.expert().is_none() {
                return Err(EvalRoomError::NotOnPanel.into());
            }
            Ok(if m.expert().is_some() || m.host {
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
