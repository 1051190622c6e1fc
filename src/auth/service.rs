//! Login, sessions, bearer tokens and throttling of failed logins. Every login attempt,
//! good or bad, is written to the audit log; throttling counts the failures there.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::repo;
use super::types::{ClientInfo, CurrentUser, KeyProof, SessionView, TokenResponse};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Failures counted over this window.
pub const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failed attempts for one user name from one address before it must wait: then each
/// further failure doubles the wait, from 30 s up to the window. Someone guessing from
/// elsewhere cannot lock the real user out this way.
pub const MAX_FAILURES_PER_PAIR: i64 = 5;
/// Failed attempts for one user name from all addresses before it must wait (a guess
/// spread over many addresses); far above what a person mistypes.
pub const MAX_FAILURES_PER_USER: i64 = 100;
/// Failed attempts from one address before it must wait, except for user names that
/// logged in from there before (colleagues behind one office NAT keep working).
pub const MAX_FAILURES_PER_IP: i64 = 30;
/// A user name that logged in from an address within this time is known there.
pub const KNOWN_ADDRESS_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// Longest user name and password taken; longer is refused before anything is written.
pub const MAX_USERNAME_CHARS: usize = 64;
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// An attempt under way longer than this was a node's killed mid-way: no longer counted.
const IN_FLIGHT_MS: i64 = 60 * 1000;
/// A throttled attempt is audited once per this interval per user name and address.
const THROTTLE_AUDIT_EVERY_MS: i64 = 60 * 1000;

/// How long to wait after `failures` failed attempts of one user name from one address.
pub fn pair_backoff_ms(failures: i64) -> Option<i64> {
    let over = failures - MAX_FAILURES_PER_PAIR;
    (over >= 0).then(|| (30_000i64 << over.min(10)).min(THROTTLE_WINDOW_MS))
}

/// Refuses a user name or password that is empty, too long or has control characters,
/// before it reaches the audit log or the password hash.
pub fn check_credentials(username: &str, password: &str) -> AppResult<()> {
    let bad_name = username.is_empty()
        || username.chars().count() > MAX_USERNAME_CHARS
        || username.chars().any(char::is_control);
    if bad_name {
        return Err(AppError::field(
            "username",
            "用户名为 1–64 个字符 / a user name has 1–64 characters",
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES || password.contains('\0') {
        return Err(AppError::field(
            "password",
            "密码过长或含无效字符 / the password is too long or has an invalid character",
        ));
    }
    Ok(())
}

/// Why a new password is too weak, if it is: under 10 characters (not counting spaces at
/// either end), the user name in it, fewer than 5 different characters, or only one kind
/// of character (letters, digits, others).
pub fn password_problem(username: &str, password: &str) -> Option<&'static str> {
    let trimmed = password.trim();
    if trimmed.chars().count() < 10 || password.len() > MAX_PASSWORD_BYTES {
        return Some("密码须为 10 位以上(首尾空格不计)/ at least 10 characters, not counting spaces at either end");
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Some("密码不得包含用户名 / the password may not contain the user name");
    }
    let distinct: std::collections::BTreeSet<char> = trimmed.chars().collect();
    let kinds = [
        trimmed.chars().any(char::is_alphabetic),
        trimmed.chars().any(|c| c.is_ascii_digit()),
        trimmed.chars().any(|c| !c.is_alphanumeric()),
    ];
    if distinct.len() < 5 || kinds.iter().filter(|k| **k).count() < 2 {
        return Some("密码须含至少两类字符(字母、数字、符号)/ use at least two kinds of character (letters, digits, symbols)");
    }
    None
}

/// Login attempts for one user name are checked one at a time in this node (striped by
/// the name's hash), so that they do not all queue for the database's lock (see
/// [`authenticate`] for the nodes). One per server (a runtime), not per process.
pub struct AttemptLocks(Vec<tokio::sync::Mutex<()>>);

impl Default for AttemptLocks {
    fn default() -> Self {
        AttemptLocks((0..64).map(|_| tokio::sync::Mutex::new(())).collect())
    }
}

impl AttemptLocks {
    fn of(&self, username: &str) -> &tokio::sync::Mutex<()> {
        let h = Sha256::digest(username.as_bytes());
        &self.0[h[0] as usize % self.0.len()]
    }
}

/// Logins (and passwords being set) admitted at once on a node, waiting for a password
/// check or in one; more are told to come back.
pub const PASSWORD_CHECKS_ADMITTED: usize = 128;

/// Logins proving the user's device key let in to wait for a password check, at most,
/// apart from the others ([`PasswordChecks`]); one per user name at a time, so that a
/// stolen key takes one of them, not all.
pub const PROVEN_CHECKS_ADMITTED: usize = 16;

/// Password checks run one per core at most on a node: each is Argon2id, ~19 MiB and a
/// core for a while on purpose. Guesses from many addresses at once (the throttle counts
/// per name and per address, and a botnet has many) would otherwise take the blocking
/// threads and memory of the node — 400 at once took 1.2 GB — and queue honest logins
/// for many seconds; past [`PASSWORD_CHECKS_ADMITTED`] waiting or running, a login is
/// refused at once (429 `RATE_LIMITED`, retry in a second) before anything is counted.
/// A login that proves the user's device key (a signed challenge, as past the throttle)
/// has places of its own, [`PROVEN_CHECKS_ADMITTED`] checked one at a time, one per user
/// name, which a flood of guesses never fills. One per server (a runtime).
pub struct PasswordChecks {
    open: Places,
    proven: Places,
    /// The user names holding a proven place.
    proven_names: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// Logins admitted to wait for a password check, and the checks running.
struct Places {
    running: tokio::sync::Semaphore,
    admitted: std::sync::atomic::AtomicUsize,
    most: usize,
}

impl Places {
    fn new(running: usize, most: usize) -> Places {
        Places {
            running: tokio::sync::Semaphore::new(running),
            admitted: std::sync::atomic::AtomicUsize::new(0),
            most,
        }
    }
}

impl Default for PasswordChecks {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        PasswordChecks {
            open: Places::new(cores, PASSWORD_CHECKS_ADMITTED),
            proven: Places::new(1, PROVEN_CHECKS_ADMITTED),
            proven_names: Default::default(),
        }
    }
}

/// A place among the admitted (with the user name holding it, for a proven place); given
/// back when dropped.
pub struct Admitted<'a> {
    places: &'a Places,
    name: Option<(
        &'a std::sync::Mutex<std::collections::HashSet<String>>,
        String,
    )>,
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.places
            .admitted
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        if let Some((names, name)) = self.name.take() {
            names
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&name);
        }
    }
}

impl Admitted<'_> {
    /// Runs `check` (Argon2) on a blocking thread once one of its places' cores is free.
    pub async fn run<T: Send + 'static>(
        &self,
        check: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let _core = self
            .places
            .running
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        tokio::task::spawn_blocking(check)
            .await
            .map_err(|e| AppError::Internal(e.into()))
    }
}

impl PasswordChecks {
    /// A place for one more login, or `RATE_LIMITED` if [`PASSWORD_CHECKS_ADMITTED`] are in.
    pub fn admit(&self) -> AppResult<Admitted<'_>> {
        Self::take(&self.open)
    }

    /// A place for a login that has proven the device key of `username`, or `RATE_LIMITED`
    /// if [`PROVEN_CHECKS_ADMITTED`] such are in or one of that name's is.
    pub fn admit_proven(&self, username: &str) -> AppResult<Admitted<'_>> {
        let mut admitted = Self::take(&self.proven)?;
        let mut names = self
            .proven_names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !names.insert(username.to_string()) {
            return Err(busy());
        }
        admitted.name = Some((&self.proven_names, username.to_string()));
        Ok(admitted)
    }

    fn take(places: &Places) -> AppResult<Admitted<'_>> {
        use std::sync::atomic::Ordering;
        let before = places.admitted.fetch_add(1, Ordering::Relaxed);
        let admitted = Admitted { places, name: None };
        if before >= places.most {
            return Err(busy());
        }
        Ok(admitted)
    }
}

fn busy() -> AppError {
    AppError::RateLimited {
        what: "logins",
        retry_after_secs: 1,
    }
}

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
    crate::crypto::sha256_hex(token.as_bytes())
}

/// A hash to verify against when the user does not exist, so timing does not tell.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default())
}

/// How long a login challenge may be used.
pub const CHALLENGE_TTL_MS: i64 = 2 * 60 * 1000;

/// Keys login challenges: nothing is stored per challenge, so asking for many costs the
/// server nothing. Made anew at each start (challenges of the last run are void).
fn challenge_key() -> &'static ring::hmac::Key {
    static KEY: std::sync::OnceLock<ring::hmac::Key> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &ring::rand::SystemRandom::new())
            .expect("the system's random source")
    })
}

/// A challenge for `username` to sign with its device key: `<expiry ms>.<tag>`, the tag
/// binding the name and the expiry.
pub fn login_challenge(username: &str, now_ms: i64) -> String {
    let expires = now_ms + CHALLENGE_TTL_MS;
    let tag = ring::hmac::sign(challenge_key(), format!("{username}\n{expires}").as_bytes());
    format!(
        "{expires}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
    )
}

/// What a device key signs to log in.
pub fn login_proof_message(username: &str, challenge: &str) -> String {
    format!("kaibiao-login-v1\n{username}\n{challenge}")
}

/// Whether `proof` shows that the caller holds the device key of `username`: a live
/// challenge issued for this name, signed by the user's certified signing key.
async fn key_proven(state: &AppState, username: &str, proof: &KeyProof) -> bool {
    let Some((expires, tag)) = proof.challenge.split_once('.') else {
        return false;
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return false;
    };
    let Ok(tag) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(tag) else {
        return false;
    };
    let issued = ring::hmac::verify(
        challenge_key(),
        format!("{username}\n{expires}").as_bytes(),
        &tag,
    );
    if issued.is_err() || state.clock.now_ms() > expires {
        return false;
    }
    let Ok(Some(user)) = repo::user_by_username(&state.db.pool, username).await else {
        return false;
    };
    let message = login_proof_message(username, &proof.challenge);
    state
        .keyring()
        .verify_user_signature(
            &user.id,
            &proof.key_id,
            message.as_bytes(),
            &proof.signature,
        )
        .await
        .is_ok()
}

/// Until when attempts of `username` from `ip` must wait, if they must: after repeated
/// failures of the pair (doubling waits), of the name from anywhere, or from the address
/// for a name never logged in from there. Failures count since the name's last login.
async fn throttled_until(
    conn: &mut sqlx::AnyConnection,
    username: &str,
    ip: &str,
    now: i64,
) -> sqlx::Result<Option<i64>> {
    let window_start = now - THROTTLE_WINDOW_MS;
    let since = repo::last_success(&mut *conn, username)
        .await?
        .map_or(window_start, |s| s.max(window_start));
    let f = repo::recent_failures(conn, username, ip, since, now - IN_FLIGHT_MS).await?;
    let mut locked_until = pair_backoff_ms(f.by_pair)
        .and_then(|wait| f.last_pair.map(|t| t + wait))
        .filter(|until| *until > now);
    if locked_until.is_none() && f.by_user >= MAX_FAILURES_PER_USER {
        locked_until = f.oldest_user.map(|t| t + THROTTLE_WINDOW_MS);
    }
    if locked_until.is_none()
        && f.by_ip >= MAX_FAILURES_PER_IP
        && !repo::logged_in_from(&mut *conn, username, ip, now - KNOWN_ADDRESS_MS).await?
    {
        locked_until = f.oldest_ip.map(|t| t + THROTTLE_WINDOW_MS);
    }
    Ok(locked_until)
}

/// Checks the throttle, then the password. Audits the outcome. Returns the user id. A
/// caller who proves the user's device key passes the throttle (the password is still
/// checked): a guesser elsewhere cannot lock a bidder out before a deadline.
async fn authenticate(
    state: &AppState,
    username: &str,
    password: &str,
    key_proof: Option<&KeyProof>,
    client: &ClientInfo,
) -> AppResult<String> {
    check_credentials(username, password)?;
    let checks = state.runtime::<PasswordChecks>();
    // Past the places a flood can fill, the user's device key still gets one in.
    let mut proven = false;
    let admitted = match (checks.admit(), key_proof) {
        (Ok(admitted), _) => admitted,
        (Err(_), Some(proof)) if key_proven(state, username, proof).await => {
            proven = true;
            checks.admit_proven(username)?
        }
        (Err(busy), _) => return Err(busy),
    };
    let one_at_a_time = state.runtime::<AttemptLocks>().of(username).lock().await;
    let db = &state.db.pool;
    let now = state.clock.now_ms();
    // Checked, and counted as a failure until its outcome is known, under one lock per
    // user name over all the nodes: guesses sent to several nodes at once cannot all pass
    // the same count.
    let attempt = uuid::Uuid::new_v4().to_string();
    let mut tx = state.db.begin().await?;
    state
        .runtime::<crate::cluster::Cluster>()
        .hold_in(&mut tx, &format!("login:{username}"))
        .await?;
    let mut locked_until = throttled_until(&mut tx, username, &client.ip, now).await?;
    if locked_until.is_none() {
        repo::attempt_started(&mut tx, &attempt, username, &client.ip, now).await?;
    }
    tx.commit().await?;
    // The attempt is counted (as a failure until its outcome is known): the next attempt
    // for the name need not wait for this one's password check.
    drop(one_at_a_time);
    if locked_until.is_some() {
        if let Some(proof) = key_proof {
            if proven || key_proven(state, username, proof).await {
                tracing::info!(username, ip = %client.ip, "throttle passed with the device key");
                locked_until = None;
                let mut conn = db.acquire().await?;
                repo::attempt_started(&mut conn, &attempt, username, &client.ip, now).await?;
            }
        }
    }
    if let Some(until) = locked_until {
        // One line per user name and address a minute, however fast they come.
        let last = repo::last_throttled(db, username, &client.ip).await?;
        if last.is_none_or(|t| now - t >= THROTTLE_AUDIT_EVERY_MS) {
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
        }
        return Err(AppError::LoginThrottled {
            retry_after_secs: ((until - now) / 1000).max(1),
        });
    }

    let user = repo::user_by_username(db, username).await?;
    let (phc, ok_user) = match &user {
        Some(u) if !u.disabled => (Some(u.password_hash.clone()), true),
        _ => (None, false),
    };
    let pw = password.to_string();
    // An unknown user's password is checked against a hash of no one's (made once, on the
    // check's own thread), so that the answer takes as long.
    let matches = admitted
        .run(move || match phc {
            Some(phc) => verify_password(&pw, &phc),
            None => verify_password(&pw, dummy_hash()),
        })
        .await?;
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
            repo::attempt_done(db, &attempt, now - IN_FLIGHT_MS).await?;
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
            repo::attempt_done(db, &attempt, now - IN_FLIGHT_MS).await?;
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
    key_proof: Option<&KeyProof>,
    client: &ClientInfo,
) -> AppResult<(String, SessionView)> {
    let user_id = authenticate(state, username, password, key_proof, client).await?;
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
    key_proof: Option<&KeyProof>,
    client: &ClientInfo,
) -> AppResult<TokenResponse> {
    let user_id = authenticate(state, username, password, key_proof, client).await?;
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
    // Its hub connections close too: presence shows who is really there.
    state.rooms.end_session(&user.session_id);
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
    #[test]
    fn weak_passwords_are_named() {
        use super::password_problem as p;
        assert!(p("zhang", "          ").is_some(), "ten spaces");
        assert!(p("zhangwei01", "zhangwei01").is_some(), "the user name");
        assert!(p("zhang", "aaaaaaaaaaaa1").is_some(), "few characters");
        assert!(p("zhang", "abcdefghijkl").is_some(), "one kind");
        assert!(p("zhang", "短").is_some());
        assert_eq!(p("supplier1", "test-password-1"), None);
        assert_eq!(p("zhang", "黄石市采购中心2026年"), None);
    }

    use super::*;

    #[test]
    fn password_hash_verifies_only_the_right_password() {
        let h = hash_password("correct horse").unwrap();
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a phc string"));
    }
}
