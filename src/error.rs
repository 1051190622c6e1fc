//! The one error type of the HTTP API. Every variant has a stable `code`, an HTTP
//! status and a message in Chinese and English; 5xx details are logged, never sent.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Field name → messages, for `VALIDATION`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("invalid credit code")]
    InvalidCreditCode { field: String },
    #[error("unauthenticated")]
    Unauthenticated,
    #[error("login failed")]
    LoginFailed,
    #[error("login throttled")]
    LoginThrottled { retry_after_secs: i64 },
    /// Too much at once from one user or address (uploads in flight, bid starts, hub
    /// connections): what, and when to try again.
    #[error("rate limited: {what}")]
    RateLimited {
        what: &'static str,
        retry_after_secs: i64,
    },
    #[error("forbidden")]
    Forbidden,
    #[error("csrf check failed")]
    CsrfFailed,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("illegal transition from {from} by {action}")]
    IllegalTransition { from: String, action: &'static str },
    #[error("tender not editable")]
    TenderNotEditable,
    #[error("deadline passed")]
    DeadlinePassed,
    #[error("invalid public key")]
    KeyInvalid,
    #[error("key proof failed")]
    KeyProofFailed,
    #[error("signing key required")]
    SigningKeyRequired,
    #[error("key revoked")]
    KeyRevoked,
    #[error("signature invalid")]
    SignatureInvalid,
    #[error("encryption key required")]
    EncryptionKeyRequired,
    #[error("upload offset mismatch")]
    UploadOffset { received: i64 },
    #[error("upload incomplete")]
    UploadIncomplete { received: i64, size: i64 },
    /// An area's own refusal (a bid container, the opening, the evaluation, …): the area
    /// implements [`AreaError`] and its `From` into `AppError`, so this module knows none.
    #[error("{0}")]
    Area(Box<dyn AreaError>),
    #[error("media: {0}")]
    Media(#[from] kaibiao_media::MediaError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What an area's error type tells the API: a stable code, the HTTP status, and messages in
/// Chinese and English a user can act on.
pub trait AreaError: std::fmt::Debug + std::fmt::Display + Send + Sync + 'static {
    fn code(&self) -> &'static str;
    fn status(&self) -> StatusCode;
    /// (Chinese, English).
    fn messages(&self) -> (String, String);
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    message_en: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a FieldErrors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_secs: Option<i64>,
    /// Bytes the server holds of an upload, to resume from.
    #[serde(skip_serializing_if = "Option::is_none")]
    received: Option<i64>,
}

impl AppError {
    /// One validation error on one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut f = FieldErrors::new();
        f.insert(field.into(), vec![message.into()]);
        AppError::Validation(f)
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::MalformedJson(_) => "MALFORMED_JSON",
            AppError::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            AppError::Validation(_) => "VALIDATION",
            AppError::InvalidCreditCode { .. } => "INVALID_CREDIT_CODE",
            AppError::Unauthenticated => "UNAUTHENTICATED",
            AppError::LoginFailed => "LOGIN_FAILED",
            AppError::LoginThrottled { .. } => "LOGIN_THROTTLED",
            AppError::RateLimited { .. } => "RATE_LIMITED",
            AppError::Forbidden => "FORBIDDEN",
            AppError::CsrfFailed => "CSRF_FAILED",
            AppError::NotFound => "NOT_FOUND",
            AppError::Conflict(_) => "CONFLICT",
            AppError::IllegalTransition { .. } => "ILLEGAL_TRANSITION",
            AppError::TenderNotEditable => "TENDER_NOT_EDITABLE",
            AppError::DeadlinePassed => "DEADLINE_PASSED",
            AppError::KeyInvalid => "KEY_INVALID",
            AppError::KeyProofFailed => "KEY_PROOF_FAILED",
            AppError::SigningKeyRequired => "SIGNING_KEY_REQUIRED",
            AppError::KeyRevoked => "KEY_REVOKED",
            AppError::SignatureInvalid => "SIGNATURE_INVALID",
            AppError::EncryptionKeyRequired => "ENCRYPTION_KEY_REQUIRED",
            AppError::UploadOffset { .. } => "UPLOAD_OFFSET",
            AppError::UploadIncomplete { .. } => "UPLOAD_INCOMPLETE",
            AppError::Area(e) => e.code(),
            AppError::Media(e) => e.code(),
            AppError::Internal(e) if storage_full(e) => "STORAGE_FULL",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation(_)
            | AppError::InvalidCreditCode { .. }
            | AppError::KeyInvalid
            | AppError::KeyProofFailed
            | AppError::SignatureInvalid => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::SigningKeyRequired
            | AppError::KeyRevoked
            | AppError::EncryptionKeyRequired
            | AppError::UploadOffset { .. }
            | AppError::UploadIncomplete { .. } => StatusCode::CONFLICT,
            AppError::Area(e) => e.status(),
            AppError::Media(e) => match e.code() {
                "NOT_A_MEMBER" | "RECEIVE_ONLY" => StatusCode::FORBIDDEN,
                "MEDIA_INTERNAL" => StatusCode::INTERNAL_SERVER_ERROR,
                "MEDIA_NODE_UNREACHABLE" => StatusCode::SERVICE_UNAVAILABLE,
                "ROOM_FULL" | "NO_MEDIA_PORT" | "WRONG_SIGNALLING_STATE" => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
            AppError::Unauthenticated | AppError::LoginFailed => StatusCode::UNAUTHORIZED,
            AppError::LoginThrottled { .. } | AppError::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Forbidden | AppError::CsrfFailed => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_)
            | AppError::IllegalTransition { .. }
            | AppError::TenderNotEditable
            | AppError::DeadlinePassed => StatusCode::CONFLICT,
            AppError::Internal(e) if storage_full(e) => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// (Chinese, English) messages a user can act on.
    pub fn messages(&self) -> (String, String) {
        let (zh, en): (String, String) = match self {
            AppError::MalformedJson(detail) => (
                format!("请求内容不是有效的 JSON:{detail}"),
                format!("The request body is not valid JSON: {detail}"),
            ),
            AppError::UnsupportedMediaType => (
                "请求须为 application/json".into(),
                "The request must be application/json".into(),
            ),
            AppError::Validation(_) => (
                "输入有误,请按提示修改".into(),
                "Some fields are invalid; see the details".into(),
            ),
            AppError::InvalidCreditCode { .. } => (
                "统一社会信用代码无效(校验码不符或含非法字符)".into(),
                "Invalid unified social credit code (check character or characters wrong)".into(),
            ),
            AppError::Unauthenticated => (
                "请先登录,或登录已过期".into(),
                "Please log in; your session may have expired".into(),
            ),
            AppError::LoginFailed => (
                "用户名或密码错误".into(),
                "Wrong user name or password".into(),
            ),
            AppError::LoginThrottled { retry_after_secs } => (
                format!("登录失败次数过多,请 {retry_after_secs} 秒后再试"),
                format!("Too many failed logins; try again in {retry_after_secs} s"),
            ),
            AppError::RateLimited {
                what,
                retry_after_secs,
            } => {
                let zh = match *what {
                    "uploads" => "同时上传的请求过多",
                    "bid_starts" => "开始投标的次数过多",
                    "hub_connections" => "实时连接过多",
                    "messages" => "发言过于频繁",
                    "logins" => "同时登录的请求过多",
                    _ => "请求过于频繁",
                };
                (
                    format!("{zh},请 {retry_after_secs} 秒后再试"),
                    format!("Too many {what} at once; try again in {retry_after_secs} s"),
                )
            }
            AppError::Forbidden => (
                "您的角色无权执行此操作".into(),
                "Your role may not do this".into(),
            ),
            AppError::CsrfFailed => (
                "安全校验失败,请刷新页面后重试".into(),
                "Security check failed; reload the page and try again".into(),
            ),
            AppError::NotFound => ("未找到该记录".into(), "Not found".into()),
            AppError::Conflict(what) => (
                format!("记录已存在或冲突:{what}"),
                format!("Already exists or conflicts: {what}"),
            ),
            AppError::IllegalTransition { from, action } => (
                format!("项目当前状态({from})不允许此操作({action})"),
                format!("The tender's state ({from}) does not allow {action}"),
            ),
            AppError::TenderNotEditable => (
                "项目已发布,不能直接修改;请发布更正公告".into(),
                "A published tender cannot be edited; publish an amendment instead".into(),
            ),
            AppError::DeadlinePassed => (
                "已过投标截止时间(以服务器时间为准)".into(),
                "The bid deadline has passed (server time)".into(),
            ),
            AppError::KeyInvalid => (
                "公钥无效:须为 P-256 未压缩公钥(65 字节,base64url)".into(),
                "Invalid public key: a P-256 uncompressed point (65 bytes, base64url)".into(),
            ),
            AppError::KeyProofFailed => (
                "密钥持有证明校验失败,请在本设备重新生成密钥".into(),
                "Proof of key possession failed; make the key again on this device".into(),
            ),
            AppError::SigningKeyRequired => (
                "请先登记签名密钥,再登记加密密钥".into(),
                "Register a signing key before an encryption key".into(),
            ),
            AppError::KeyRevoked => (
                "该密钥证书已吊销".into(),
                "This key's certificate has been revoked".into(),
            ),
            AppError::SignatureInvalid => (
                "签名无效或证书链校验失败".into(),
                "The signature or its certificate chain does not verify".into(),
            ),
            AppError::EncryptionKeyRequired => (
                "请先在本设备生成并登记加密密钥,再制作投标文件".into(),
                "Make and register an encryption key on this device before sealing a bid".into(),
            ),
            AppError::UploadOffset { received } => (
                format!("上传位置不符,服务器已收到 {received} 字节,请从该处续传"),
                format!("Wrong upload offset; the server has {received} bytes, resume from there"),
            ),
            AppError::UploadIncomplete { received, size } => (
                format!("投标文件尚未传完(已收 {received} / {size} 字节)"),
                format!("The bid file is incomplete ({received} of {size} bytes received)"),
            ),
            AppError::Area(e) => e.messages(),
            AppError::Media(e) => (e.message_zh(), e.message_en()),
            AppError::Internal(e) if storage_full(e) => (
                "服务器存储空间已满,本次操作未保存;已保存的内容不受影响(投标文件可稍后从断点续传)".into(),
                "The server's storage is full; this was not saved. Nothing saved before is affected (a bid upload can resume later)".into(),
            ),
            AppError::Internal(_) => (
                "服务器内部错误,请稍后再试".into(),
                "Internal server error; please try again later".into(),
            ),
        };
        (zh, en)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        // Constraint violations are mapped where they can happen (see `db::is_unique_violation`).
        AppError::Internal(e.into())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let (message, message_en) = self.messages();
        let fields = match &self {
            AppError::Validation(f) => Some(f.clone()),
            AppError::InvalidCreditCode { field } => Some(FieldErrors::from([(
                field.clone(),
                vec!["统一社会信用代码校验失败 / credit code check failed".to_string()],
            )])),
            _ => None,
        };
        let received = match &self {
            AppError::UploadOffset { received } | AppError::UploadIncomplete { received, .. } => {
                Some(*received)
            }
            _ => None,
        };
        let retry_after_secs = match &self {
            AppError::LoginThrottled { retry_after_secs }
            | AppError::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            AppError::Internal(e) if storage_full(e) => Some(STORAGE_FULL_RETRY_SECS),
            _ => None,
        };
        let body = ErrorBody {
            code: self.code(),
            message,
            message_en,
            fields: fields.as_ref(),
            retry_after_secs,
            received,
        };
        let mut response = (self.status(), axum::Json(body)).into_response();
        // The standard header too (RFC 9110 §10.2.3), for clients and proxies that read no
        // body: every 429 says when to come back.
        if let Some(secs) = retry_after_secs {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs.max(1)),
            );
        }
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// A required free text of at most `max` characters, trimmed; otherwise `VALIDATION` on
/// `field`.
pub fn required_text(field: &str, s: &str, max: usize) -> AppResult<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n == 0 || n > max {
        return Err(AppError::field(
            field,
            format!("必填，不超过 {max} 字 / required, at most {max} characters"),
        ));
    }
    Ok(t.to_string())
}

/// An optional free text of at most `max` characters, trimmed (empty when absent);
/// otherwise `VALIDATION` on `field`.
pub fn optional_text(field: &str, s: &str, max: usize) -> AppResult<String> {
    let t = s.trim();
    if t.chars().count() > max {
        return Err(AppError::field(
            field,
            format!("不超过 {max} 字 / at most {max} characters"),
        ));
    }
    Ok(t.to_string())
}

/// When a client refused for a full disk is told to try again.
const STORAGE_FULL_RETRY_SECS: i64 = 60;

/// Whether an internal error is the disk (or the database's) being full: told to the user
/// as `STORAGE_FULL` (507), a state they can wait out, not as a fault. Still logged as an
/// error: the operator must free space.
fn storage_full(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            );
        }
        if let Some(sqlx::Error::Database(db)) = cause.downcast_ref::<sqlx::Error>() {
            // SQLite's SQLITE_FULL (13), PostgreSQL's disk_full (53100).
            return matches!(db.code().as_deref(), Some("13") | Some("53100"));
        }
        false
    })
}

/// `axum::Json` whose rejections are `AppError`s with stable codes, and which refuses
/// text with NUL characters (PostgreSQL cannot store them; SQLite would): the same answer
/// on both databases, before anything is written.
pub struct Json<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime_guess::mime::Mime>().ok())
            .is_some_and(|m| {
                m.type_() == "application"
                    && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
            });
        if !json {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = bytes::Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::field("body", e.body_text()))?;
        if has_nul(&bytes) {
            return Err(nul_error());
        }
        let axum::Json(v) = axum::Json::<T>::from_bytes(&bytes)?;
        Ok(Json(v))
    }
}

/// `VALIDATION` naming the field of a JSON document that does not fit its type, from
/// serde's message with its path ("lots[0].budget_fen: invalid type ..."); errors of the
/// whole document (an unknown `type`, say) are the field `body`.
fn data_error(detail: String) -> AppError {
    match detail.split_once(": ") {
        Some((path, msg)) if !path.contains(' ') => AppError::field(path, msg),
        _ => AppError::field("body", detail),
    }
}

/// Reads a message written `{"type": "<name>", <fields>}` (a hub frame, a room command,
/// over HTTP or the hub) as `T`, an enum in serde's default external tagging
/// (`{"<name>": {<fields>}}`). serde cannot follow a field's path into an internally
/// tagged enum, so a refusal could only say "body"; read this way it names the field
/// (`index`, `items.技术方案`), or `type` for an unknown one.
pub fn from_tagged<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> AppResult<T> {
    let serde_json::Value::Object(mut fields) = v else {
        return Err(AppError::field(
            "body",
            "须为 JSON 对象 / must be a JSON object",
        ));
    };
    let kind = match fields.remove("type") {
        Some(serde_json::Value::String(kind)) => kind,
        _ => {
            return Err(AppError::field(
                "type",
                "须为命令名称的文本 / must be the name of a command, as text",
            ))
        }
    };
    let mut wrapped = serde_json::Map::new();
    wrapped.insert(kind, serde_json::Value::Object(fields));
    serde_path_to_error::deserialize(serde_json::Value::Object(wrapped)).map_err(|e| {
        let path = e.path().to_string();
        let field = match path.split_once('.') {
            Some((_variant, field)) => field,
            // The variant itself: unknown (the path is ".") or a field unknown to it.
            None if path == "." => "type",
            None => "body",
        };
        AppError::field(field, e.inner().to_string())
    })
}

/// The refusal of text with a NUL character.
pub fn nul_error() -> AppError {
    AppError::field(
        "body",
        "文本不得含 NUL(\\u0000)字符 / text may not contain NUL (\\u0000) characters",
    )
}

/// Whether JSON text has a NUL character in a string: the escape `\u0000` after an even
/// number of backslashes (`\\u0000` is a backslash and "u0000"). Raw NUL bytes are not
/// valid JSON and fail to parse anyway.
pub fn has_nul(json: &[u8]) -> bool {
    let mut from = 0;
    while let Some(i) = json[from..]
        .windows(6)
        .position(|w| w.eq_ignore_ascii_case(b"\\u0000"))
    {
        let at = from + i;
        let slashes = json[..at].iter().rev().take_while(|b| **b == b'\\').count();
        if slashes % 2 == 0 {
            return true;
        }
        from = at + 1;
    }
    json.contains(&0)
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<axum::extract::rejection::JsonRejection> for AppError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as R;
        match r {
            R::JsonDataError(e) => data_error(
                std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| e.body_text()),
            ),
            R::JsonSyntaxError(e) => AppError::MalformedJson(
                std::error::Error::source(&e)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            ),
            R::MissingJsonContentType(_) => AppError::UnsupportedMediaType,
            other => AppError::MalformedJson(other.body_text()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::has_nul;

    #[test]
    fn nul_characters_are_found_in_json_strings_only_as_escapes() {
        assert!(has_nul(br#"{"a":"x\u0000y"}"#));
        assert!(has_nul(br#"{"a":"\\\u0000"}"#), "a backslash, then NUL");
        assert!(
            !has_nul(br#"{"a":"\\u0000"}"#),
            "a backslash, then the text u0000"
        );
        assert!(!has_nul(br#"{"a":"u0000 \u0001"}"#));
        assert!(has_nul(b"{\"a\":\"\0\"}"));
    }
}
