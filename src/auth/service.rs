//! Login, sessions, bearer tokens and throttling of failed logins. Every login attempt,
//! good or bad, is written to the audit log; throttling counts the failures there.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::repo;
use super::types::{ClientInfo, CurrentUser, SessionView, TokenResponse};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Failures counted over this window.
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failed attempts for one user name within the window before it is locked.
pub const MAX_FAILURES_PER_USER: i64 = 5;
/// Failed attempts from one address within the window before it is locked.
pub const MAX_FAILURES_PER_IP: i64 = 30;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random 256-bit token, URL-safe base64.
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Sessions are stored under the SHA-256 of their token, so a database reader cannot use them.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A hash to verify against when the user does not exist, so timing does not tell.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

/// Checks the throttle, then the password. Audits the outcome. Returns the user id.
async fn authenticate(
    state: &AppState,
    username: &str,
    password: &str,
    client: &ClientInfo,
) -> AppResult<String> {
    let db = &state.db.pool;
    let now = state.clock.now_ms();
    let window_start = now - THROTTLE_WINDOW_MS;
    let since = repo::last_success(db, username)
        .await?
        .map_or(window_start, |s| s.max(window_start));
    let (by_user, by_ip, oldest_user, oldest_ip) =
        repo::recent_failures(db, username, &client.ip, since).await?;
    let locked_until = if by_user >= MAX_FAILURES_PER_USER {
        oldest_user.map(|t| t + THROTTLE_WINDOW_MS)
    } else if by_ip >= MAX_FAILURES_PER_IP {
        oldest_ip.map(|t| t + THROTTLE_WINDOW_MS)
    } else {
        None
    };
    if let Some(until) = locked_until {
        repo::audit(
            db,
            now,
            None,
            username,
            "login_throttled",
            &client.ip,
            &client.user_agent,
            "",
        )
        .await?;
        tracing::warn!(username, ip = %client.ip, "login throttled");
        return Err(AppError::LoginThrottled {
            retry_after_secs: ((until - now) / 1000).max(1),
        });
    }

    let user = repo::user_by_username(db, username).await?;
    let (phc, ok_user) = match &user {
        Some(u) if !u.disabled => (u.password_hash.clone(), true),
        _ => (dummy_hash().to_string(), false),
    };
    let pw = password.to_string();
    let matches = tokio::task::spawn_blocking(move || verify_password(&pw, &phc))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    match user {
        Some(u) if ok_user && matches => {
            repo::audit(
                db,
                now,
                Some(&u.id),
                username,
                "login_ok",
                &client.ip,
                &client.user_agent,
                "",
            )
            .await?;
            Ok(u.id)
        }
        _ => {
            repo::audit(
                db,
                now,
                None,
                username,
                "login_failed",
                &client.ip,
                &client.user_agent,
                "",
            )
            .await?;
            tracing::info!(username, ip = %client.ip, "login failed");
            Err(AppError::LoginFailed)
        }
    }
}

/// Password login for the browser: a new cookie session. Returns the session token too.
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    client: &ClientInfo,
) -> AppResult<(String, SessionView)> {
    let user_id = authenticate(state, username, password, client).await?;
    let token = new_token();
    let csrf = new_token();
    let now = state.clock.now_ms();
    let expires_at = now + state.config.session_ttl_mins * 60_000;
    repo::insert_session(
        &state.db.pool,
        &token_hash(&token),
        &user_id,
        "cookie",
        None,
        &csrf,
        now,
        expires_at,
    )
    .await?;
    let user = repo::user_view(&state.db.pool, &user_id)
        .await?
        .ok_or(AppError::LoginFailed)?;
    Ok((
        token,
        SessionView {
            user,
            csrf_token: csrf,
            expires_at,
        },
    ))
}

/// Password login for the CLI and API clients: a bearer token.
pub async fn issue_token(
    state: &AppState,
    username: &str,
    password: &str,
    label: Option<&str>,
    client: &ClientInfo,
) -> AppResult<TokenResponse> {
    let user_id = authenticate(state, username, password, client).await?;
    let token = new_token();
    let now = state.clock.now_ms();
    let expires_at = now + state.config.token_ttl_days * 86_400_000;
    repo::insert_session(
        &state.db.pool,
        &token_hash(&token),
        &user_id,
        "bearer",
        label,
        // Bearer requests need no CSRF token; store a random one that is never sent.
        &new_token(),
        now,
        expires_at,
    )
    .await?;
    let user = repo::user_view(&state.db.pool, &user_id)
        .await?
        .ok_or(AppError::LoginFailed)?;
    Ok(TokenResponse {
        token,
        expires_at,
        user,
    })
}

/// The user of a session token, if it is live. `via_cookie` and `csrf_ok` are set by the caller.
pub async fn resolve(state: &AppState, token: &str) -> AppResult<Option<(CurrentUser, String)>> {
    Ok(repo::session_user(&state.db.pool, &token_hash(token), state.clock.now_ms()).await?)
}

pub async fn logout(state: &AppState, user: &CurrentUser, client: &ClientInfo) -> AppResult<()> {
    repo::revoke_session(&state.db.pool, &user.session_id).await?;
    repo::audit(
        &state.db.pool,
        state.clock.now_ms(),
        Some(&user.id),
        &user.username,
        "logout",
        &client.ip,
        &client.user_agent,
        "",
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_verifies_only_the_right_password() {
        let h = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a phc string"));
    }
}
