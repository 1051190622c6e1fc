//! Holders, questions and answers; the stage's errors.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize)]
pub struct ObtainedView {
    pub tender_id: String,
    pub obtained_at: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct HolderView {
    pub org_id: String,
    pub org_name: String,
    pub obtained_at: i64,
}

/// Body of `POST /api/tenders/{id}/questions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    pub text: String,
}

/// Body of `POST /api/tenders/{id}/questions/{qid}/answer`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    pub text: String,
}

/// A question as a reader may see it: the asker only for supervisors and for the asker.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionView {
    pub id: String,
    pub text: String,
    pub asked_at: i64,
    /// R-CHAL-1: 24:00 of the 3rd working day after the question.
    pub reply_due_at: i64,
    pub answer: Option<String>,
    pub answered_at: Option<i64>,
    /// The caller's own question.
    pub mine: bool,
    /// The asking supplier: supervisors only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asker_org_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentsError {
    /// Questions and answers are for suppliers that obtained the documents.
    #[error("documents not obtained")]
    NotObtained,
    /// After the clarification deadline no more questions are taken.
    #[error("questions closed")]
    QuestionsClosed,
    /// The answer names the supplier that asked.
    #[error("answer reveals the asker")]
    AnswerRevealsAsker,
    /// The question names the supplier asking: it is published with its answer to every
    /// holder, so it may not.
    #[error("question reveals the asker")]
    QuestionRevealsAsker,
    #[error("already answered")]
    AlreadyAnswered,
}

impl DocumentsError {
    pub fn code(&self) -> &'static str {
        match self {
            DocumentsError::NotObtained => "DOCUMENTS_NOT_OBTAINED",
            DocumentsError::QuestionsClosed => "QUESTIONS_CLOSED",
            DocumentsError::AnswerRevealsAsker => "ANSWER_REVEALS_ASKER",
            DocumentsError::QuestionRevealsAsker => "QUESTION_REVEALS_ASKER",
            DocumentsError::AlreadyAnswered => "ALREADY_ANSWERED",
        }
    }
}

impl crate::error::AreaError for DocumentsError {
    fn code(&self) -> &'static str {
        DocumentsError::code(self)
    }
    fn status(&self) -> StatusCode {
        match self {
            DocumentsError::NotObtained => StatusCode::FORBIDDEN,
            DocumentsError::AnswerRevealsAsker | DocumentsError::QuestionRevealsAsker => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            DocumentsError::QuestionsClosed | DocumentsError::AlreadyAnswered => {
                StatusCode::CONFLICT
            }
        }
    }
    fn messages(&self) -> (String, String) {
        let (zh, en) = match self {
            DocumentsError::NotObtained => (
                "请先获取采购文件",
                "obtain the procurement documents first",
            ),
            DocumentsError::QuestionsClosed => (
                "已过澄清截止时间,不再受理提问",
                "the clarification deadline has passed; no more questions",
            ),
            DocumentsError::AnswerRevealsAsker => (
                "答复中含有提问供应商的名称、代码或联系人,答复须匿名发布(R-DOC-3)",
                "the answer names the supplier that asked; answers are published anonymously (R-DOC-3)",
            ),
            DocumentsError::QuestionRevealsAsker => (
                "问题中含有贵单位的名称、代码或联系人:问题将随答复发给所有获取文件的供应商,请勿署名(R-DOC-3)",
                "the question names your organisation or contact: it goes to every holder with its answer, so leave your name out (R-DOC-3)",
            ),
            DocumentsError::AlreadyAnswered => ("该问题已答复", "this question is already answered"),
        };
        (zh.into(), en.into())
    }
}

impl From<DocumentsError> for crate::error::AppError {
    fn from(e: DocumentsError) -> Self {
        crate::error::AppError::Area(Box::new(e))
    }
}
