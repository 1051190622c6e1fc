//! The kinds of room the hub serves. An area with a live room implements [`RoomKind`]
//! (who is who in the room, what part they take in its media, what its commands do) and
//! start-up registers it; the hub itself knows no area. A room is named
//! `<kind>:<tender id>` and streams that tender's ledger.

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::room::{Audience, Hidden};
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::state::AppState;

/// Who a member is in a room: what they may be shown, and how others see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub audience: Audience,
    pub hidden: Hidden,
}

/// A kind of live room. Each method checks membership itself and refuses non-members
/// (`NotFound`, `Forbidden`, or the area's own code) as the area's HTTP routes do.
pub trait RoomKind: Send + Sync + 'static {
    /// The part of the room's name before the colon (`opening`, `evaluation`).
    fn name(&self) -> &'static str;

    /// Who `user` is in the tender's room.
    fn standing<'a>(
        &'a self,
        state: &'a AppState,
        user: &'a CurrentUser,
        tender_id: &'a str,
    ) -> BoxFuture<'a, AppResult<Standing>>;

    /// Whether `user` publishes audio and video in the room or only receives.
    fn media_role<'a>(
        &'a self,
        state: &'a AppState,
        user: &'a CurrentUser,
        tender_id: &'a str,
    ) -> BoxFuture<'a, AppResult<kaibiao_media::Role>>;

    /// Runs one of the room's commands (a JSON object tagged by `type`) for `user`: the
    /// ack's result, or the refusal. The area declares its acknowledgements as typed
    /// structs and hands them over serialised ([`run_command`]): the hub only forwards them,
    /// and JSON keeps this trait free of any area's types without a type-erasing
    /// dependency (commands are a person's clicks, so the one extra tree costs nothing).
    fn command<'a>(
        &'a self,
        state: &'a AppState,
        user: &'a CurrentUser,
        tender_id: &'a str,
        command: Value,
    ) -> BoxFuture<'a, AppResult<Value>>;
}

/// A room's command as every room runs it: the stage's serde-tagged `Command` read from
/// the frame (`error::from_tagged`), run by `service`, and its typed acknowledgement
/// handed back as the `result` of the hub's `ack` frame.
pub async fn run_command<C, A, Fut>(
    command: Value,
    service: impl FnOnce(C) -> Fut,
) -> AppResult<Value>
where
    C: serde::de::DeserializeOwned,
    A: serde::Serialize,
    Fut: std::future::Future<Output = AppResult<A>>,
{
    let ack = service(crate::error::from_tagged(command)?).await?;
    Ok(serde_json::to_value(&ack).map_err(anyhow::Error::from)?)
}
