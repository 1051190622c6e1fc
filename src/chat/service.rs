//! Posting to a room's channel and reading it.

use super::repo::{self, Stored};
use super::types::{
    Audience, MessageView, Post, Quoted, Reader, MAX_TEXT, RATE_LIMIT, RATE_WINDOW_MS,
};
use crate::db::Tx;
use crate::error::{AppError, AppResult};
use crate::ledger::{LedgerEvent, MessagePosted};

/// How many of a room's latest messages a reader is sent.
const LIST_LIMIT: i64 = 1000;

/// Posts `post` by `user_id` at `now` inside the caller's transaction (tender row locked),
/// with its digest in the tender's ledger; returns the message's id. A reply names a
/// bidder's question of the same room; a private reply goes to that bidder.
pub async fn post(
    tx: &mut Tx,
    tender_id: &str,
    user_id: &str,
    now: i64,
    p: Post<'_>,
) -> AppResult<String> {
    let text = crate::error::required_text("text", p.text, MAX_TEXT)?;
    let (n, first) =
        repo::posted_since(tx, tender_id, p.room, user_id, now - RATE_WINDOW_MS).await?;
    if n >= RATE_LIMIT {
        let free_at = first.unwrap_or(now) + RATE_WINDOW_MS;
        return Err(AppError::RateLimited {
            what: "messages",
            retry_after_secs: ((free_at - now) / 1000).max(1),
        });
    }
    let mut org_id = p.org_id;
    if let Some(q) = p.reply_to {
        let question = repo::get(tx, tender_id, p.room, q)
            .await?
            .filter(|m| m.audience == Audience::Host.as_str())
            .ok_or_else(|| AppError::field("reply_to", "没有这条提问 / no such question"))?;
        if p.audience == Audience::Private {
            org_id = question.org_id;
        }
    } else if p.audience == Audience::Private {
        return Err(AppError::field(
            "reply_to",
            "私下答复须针对一条提问 / a private answer answers a question",
        ));
    }
    let m = Stored {
        id: uuid::Uuid::now_v7().to_string(),
        author_user_id: user_id.to_string(),
        author_role: p.author_role.to_string(),
        author_label: p.author_label,
        org_id,
        audience: p.audience.as_str().to_string(),
        reply_to: p.reply_to.map(str::to_string),
        text,
        posted_at: now,
    };
    let sha = crate::crypto::sha256_hex(m.text.as_bytes());
    repo::insert(tx, tender_id, p.room, &m, &sha).await?;
    // The message's id as the actor: the archive names the author, the public chain does
    // not (a bidder's question must not tell the others who asked).
    let event = LedgerEvent::MessagePosted(MessagePosted {
        room: p.room.to_string(),
        message_id: m.id.clone(),
        audience: m.audience.clone(),
        text_sha256: sha,
    });
    crate::ledger::repo::append(tx, tender_id, now, &m.id, &event).await?;
    Ok(m.id)
}

/// The room's messages that `reader` may read, oldest first.
pub async fn list(
    pool: &sqlx::AnyPool,
    tender_id: &str,
    room: &str,
    reader: &Reader,
) -> AppResult<Vec<MessageView>> {
    let all = repo::latest(pool, tender_id, room, LIST_LIMIT).await?;
    let by_id: std::collections::HashMap<&str, &Stored> =
        all.iter().map(|m| (m.id.as_str(), m)).collect();
    let own_org = |m: &Stored| m.org_id.is_some() && m.org_id == reader.bidder_org;
    let mut out = Vec::new();
    for m in &all {
        let Some(audience) = Audience::parse(&m.audience) else {
            continue;
        };
        let reads = match audience {
            Audience::Public => true,
            Audience::Host | Audience::Private => reader.supervisor || reader.host || own_org(m),
            Audience::Panel => reader.supervisor || reader.panel,
        };
        if !reads {
            continue;
        }
        let bidder = m.author_role == "bidder";
        let author = (!bidder || reader.supervisor || reader.host || own_org(m))
            .then(|| m.author_label.clone());
        out.push(MessageView {
            id: m.id.clone(),
            at: m.posted_at,
            author_role: m.author_role.clone(),
            author,
            audience: audience.as_str(),
            text: m.text.clone(),
            reply_to: m
                .reply_to
                .as_deref()
                .and_then(|q| by_id.get(q))
                .map(|q| Quoted {
                    id: q.id.clone(),
                    text: q.text.clone(),
                }),
            mine: m.author_user_id == reader.user_id || (bidder && own_org(m)),
        });
    }
    Ok(out)
}
