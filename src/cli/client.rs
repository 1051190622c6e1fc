//! A small API client with a bearer token, turning the server's error bodies into
//! messages with their codes.

use anyhow::Context;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// An error answer of the server, with its stable code.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message} ({message_en})")]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub message_en: String,
    pub body: Value,
}

impl Client {
    /// Logs in with a password and gets a bearer token labelled `label`.
    pub async fn login(
        base: &str,
        username: &str,
        password: &str,
        label: &str,
    ) -> anyhow::Result<Client> {
        crate::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("kaibiao-cli/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(crate::serve::CLIENT_IDLE)
            .build()?;
        let base = base.trim_end_matches('/').to_string();
        let mut c = Client {
            http,
            base,
            token: String::new(),
        };
        let v: Value = c
            .call(
                Method::POST,
                "/api/auth/tokens",
                Some(
                    serde_json::json!({"username": username, "password": password, "label": label}),
                ),
            )
            .await?;
        c.token = v["token"]
            .as_str()
            .context("no token in the answer")?
            .to_string();
        Ok(c)
    }

    /// The bearer token, for clients of other protocols (the hub's WebSocket).
    pub fn token(&self) -> &str {
        &self.token
    }

    async fn answer<T: DeserializeOwned>(r: reqwest::Response) -> anyhow::Result<T> {
        let status = r.status();
        let text = r.text().await?;
        if status.is_success() {
            return serde_json::from_str(&text)
                .with_context(|| format!("unexpected answer: {text}"));
        }
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Err(ApiError {
            status: status.as_u16(),
            code: body["code"].as_str().unwrap_or("HTTP").to_string(),
            message: body["message"].as_str().unwrap_or("").to_string(),
            message_en: body["message_en"].as_str().unwrap_or("").to_string(),
            body,
        }
        .into())
    }

    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<T> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if !self.token.is_empty() {
            req = req.bearer_auth(&self.token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::answer(
            req.send()
                .await
                .with_context(|| format!("connecting to {}", self.base))?,
        )
        .await
    }

    /// `PUT` raw bytes.
    pub async fn put_bytes<T: DeserializeOwned>(
        &self,
        path: &str,
        bytes: impl Into<reqwest::Body>,
    ) -> anyhow::Result<T> {
        let r = self
            .http
            .put(format!("{}{}", self.base, path))
            .bearer_auth(&self.token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .with_context(|| format!("connecting to {}", self.base))?;
        Self::answer(r).await
    }
}

/// The API error inside an `anyhow::Error`, if that is what it is.
pub fn api_error(e: &anyhow::Error) -> Option<&ApiError> {
    e.downcast_ref::<ApiError>()
}
