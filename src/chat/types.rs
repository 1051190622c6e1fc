//! Messages of a room's channel, who reads them, and the channel's refusals.

use axum::http::StatusCode;
use serde::Serialize;

/// Longest message, in characters.
pub const MAX_TEXT: usize = 1000;
/// Messages one person may post to a room within [`RATE_WINDOW_MS`].
pub const RATE_LIMIT: i64 = 6;
pub const RATE_WINDOW_MS: i64 = 60_000;

/// Who reads a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Everyone in the room.
    Public,
    /// A bidder's question: the host, supervisors and the asking bidder.
    Host,
    /// The host's private answer: the bidder who asked, and supervisors.
    Private,
    /// The evaluation panel among themselves, and supervisors.
    Panel,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Public => "public",
            Audience::Host => "host",
            Audience::Private => "private",
            Audience::Panel => "panel",
        }
    }

    pub fn parse(s: &str) -> Option<Audience> {
        [
            Audience::Public,
            Audience::Host,
            Audience::Private,
            Audience::Panel,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// A message as its stage posts it.
#[derive(Debug, Clone)]
pub struct Post<'a> {
    /// The room's kind: `opening`, `evaluation`.
    pub room: &'static str,
    /// `bidder`, `host`, `expert`, or a supervisor's role.
    pub author_role: &'static str,
    /// How the author is named to those who may know: a bidder's organisation's name, the
    /// host's name, an expert's seat (`第 n 席`).
    pub author_label: String,
    /// The bidder's organisation, for a bidder's question.
    pub org_id: Option<String>,
    pub audience: Audience,
    /// The bidder's question this answers.
    pub reply_to: Option<&'a str>,
    pub text: &'a str,
}

/// Who reads a room's channel, as the stage knows them.
#[derive(Debug, Clone, Default)]
pub struct Reader {
    pub user_id: String,
    /// Supervisors read everything, with every author's name.
    pub supervisor: bool,
    /// The host reads bidders' questions with their names.
    pub host: bool,
    /// A seated expert reads the panel's messages.
    pub panel: bool,
    /// A bidder reads its own questions and the answers to them.
    pub bidder_org: Option<String>,
}

/// A message as a reader sees it (`GET /api/tenders/{id}/opening/messages` and
/// `…/evaluation/messages`).
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: String,
    pub at: i64,
    pub author_role: String,
    /// The author's name as this reader may know it; `null` for another bidder.
    pub author: Option<String>,
    pub audience: &'static str,
    pub text: String,
    /// The question answered, as the answer's readers may see it (without its author).
    pub reply_to: Option<Quoted>,
    /// Written by the reader (or the reader's organisation).
    pub mine: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quoted {
    pub id: String,
    pub text: String,
}

/// Refusals of the channel; each leaves everything unchanged. (Too many messages is the
/// common `RATE_LIMITED`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("chat closed")]
    Closed,
}

impl crate::error::AreaError for ChatError {
    fn code(&self) -> &'static str {
        "CHAT_CLOSED"
    }
    fn status(&self) -> StatusCode {
        StatusCode::CONFLICT
    }
    fn messages(&self) -> (String, String) {
        (
            "互动区现在不可发言".into(),
            "The room's channel is not open for this now".into(),
        )
    }
}

impl From<ChatError> for crate::error::AppError {
    fn from(e: ChatError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}
