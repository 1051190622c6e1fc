//! The hall's channel (互动区, docs/chat.md): from the deadline a bidder asks the host,
//! who answers for everyone or for that bidder alone; the host may also speak to the hall.
//! Supervisors read everything; a bidder never learns who else asked.

use super::access::member;
use super::types::Ack;
use crate::auth::CurrentUser;
use crate::chat::types::{Audience, MessageView, Post, Reader};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::tender::repo::TenderHead;
use crate::tender::types::TenderStatus;

const ROOM: &str = "opening";

/// Open to bidders from the deadline (a question before it would tell the host who has
/// bid) until the record is signed; the host may speak from publication.
fn open(head: &TenderHead, bidder: bool) -> AppResult<()> {
    let open = match head.status {
        TenderStatus::Published => !bidder,
        TenderStatus::Sealed | TenderStatus::Opening => true,
        _ => false,
    };
    if open {
        Ok(())
    } else {
        Err(crate::chat::types::ChatError::Closed.into())
    }
}

/// A bidder's question to the host.
pub(super) async fn ask(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    text: &str,
    now: i64,
) -> AppResult<Ack> {
    if super::signin::role_of(tx, user, head).await? != "bidder" {
        return Err(AppError::Forbidden);
    }
    open(head, true)?;
    let org = user.org_id.clone().unwrap_or_default();
    let label = super::service::org_name(&mut **tx, &org).await?;
    let id = crate::chat::service::post(
        tx,
        &head.id,
        &user.id,
        now,
        Post {
            room: ROOM,
            author_role: "bidder",
            author_label: label,
            org_id: Some(org),
            audience: Audience::Host,
            reply_to: None,
            text,
        },
    )
    .await?;
    Ok(Ack::Posted { message_id: id })
}

/// The host speaks: an answer to a question (for all, or `private` for the asker), or a
/// word to the hall.
pub(super) async fn reply(
    tx: &mut Tx,
    user: &CurrentUser,
    head: &TenderHead,
    text: &str,
    reply_to: Option<&str>,
    private: bool,
    now: i64,
) -> AppResult<Ack> {
    if super::signin::role_of(tx, user, head).await? != "host" {
        return Err(AppError::Forbidden);
    }
    open(head, false)?;
    let id = crate::chat::service::post(
        tx,
        &head.id,
        &user.id,
        now,
        Post {
            room: ROOM,
            author_role: "host",
            author_label: user.display_name.clone(),
            org_id: None,
            audience: if private {
                Audience::Private
            } else {
                Audience::Public
            },
            reply_to,
            text,
        },
    )
    .await?;
    Ok(Ack::Posted { message_id: id })
}

/// `GET /api/tenders/{id}/opening/messages`: what `user` may read of the hall's channel.
pub async fn messages(
    state: &AppState,
    user: &CurrentUser,
    tender_id: &str,
) -> AppResult<Vec<MessageView>> {
    let m = member(state, user, tender_id).await?;
    let reader = Reader {
        user_id: user.id.clone(),
        supervisor: m.supervisor,
        host: m.host,
        panel: false,
        bidder_org: m.bidder_org,
    };
    crate::chat::service::list(&state.db.pool, tender_id, ROOM, &reader).await
}
