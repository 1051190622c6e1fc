//! Who may call what. Every API route is registered through [`Api::route`] with its
//! [`Access`]; the declarations are kept ([`RouteSpec`]) so a test can walk the whole
//! route × role matrix. A route without a declaration cannot be registered.

use axum::extract::{FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Router;
use axum_extra::extract::CookieJar;

use super::service;
use super::types::{ClientInfo, CurrentUser, Role};
use crate::error::AppError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "kb_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, logged in or not.
    Public,
    /// Any logged-in user.
    AnyUser,
    /// Logged-in users with one of these roles.
    Roles(&'static [Role]),
}

impl Access {
    pub fn allows(self, role: Option<Role>) -> bool {
        match (self, role) {
            (Access::Public, _) => true,
            (_, None) => false,
            (Access::AnyUser, Some(_)) => true,
            (Access::Roles(roles), Some(r)) => roles.contains(&r),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    /// The area that registered it: the module of the `api()` that declared it (e.g.
    /// `contract` for src/contract/routes.rs), for the API description's tags.
    pub area: &'static str,
    /// The JSON Schema of the success body, where the route declares its type
    /// ([`Api::returns`]): a reference into the generator's definitions.
    pub response: Option<fn(&mut schemars::SchemaGenerator) -> schemars::Schema>,
}

/// `src/contract/routes.rs` → `contract`; `src/dashboard.rs` → `dashboard`.
fn area_of(file: &'static str) -> &'static str {
    let rest = file.strip_prefix("src/").unwrap_or(file);
    let first = rest.split('/').next().unwrap_or(rest);
    first.strip_suffix(".rs").unwrap_or(first)
}

/// The API router together with its access declarations.
pub struct Api {
    pub router: Router<AppState>,
    pub specs: Vec<RouteSpec>,
}

impl Default for Api {
    fn default() -> Self {
        Api {
            router: Router::new(),
            specs: Vec::new(),
        }
    }
}

impl Api {
    #[track_caller]
    pub fn route<H, T>(mut self, method: Method, path: &'static str, access: Access, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a standard method");
        let mr = axum::routing::on(filter, h).route_layer(axum::middleware::from_fn(
            move |req: Request, next: Next| enforce(access, req, next),
        ));
        self.router = self.router.route(path, mr);
        self.specs.push(RouteSpec {
            method,
            path,
            access,
            area: area_of(std::panic::Location::caller().file()),
            response: None,
        });
        self
    }

    /// Declares the success body of the route declared last as `T` (the type its handler
    /// serialises), for the API description.
    pub fn returns<T: schemars::JsonSchema>(mut self) -> Self {
        if let Some(last) = self.specs.last_mut() {
            last.response = Some(|g| g.subschema_for::<T>());
        }
        self
    }

    pub fn merge(mut self, other: Api) -> Self {
        self.router = self.router.merge(other.router);
        self.specs.extend(other.specs);
        self
    }
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

async fn enforce(access: Access, req: Request, next: Next) -> Response {
    if access == Access::Public {
        return next.run(req).await;
    }
    let Some(user) = req.extensions().get::<CurrentUser>() else {
        return AppError::Unauthenticated.into_response();
    };
    if user.via_cookie && is_unsafe(req.method()) && !user.csrf_ok {
        return AppError::CsrfFailed.into_response();
    }
    if !access.allows(Some(user.role)) {
        return AppError::Forbidden.into_response();
    }
    next.run(req).await
}

/// Resolves the session cookie or bearer token into a [`CurrentUser`] request extension.
/// Runs for every request; it never rejects: [`enforce`] decides per route.
pub async fn resolve_user(
    State(state): State<AppState>,
    jar: CookieJar,
    mut req: Request,
    next: Next,
) -> Response {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let (token, via_cookie) = match bearer {
        Some(t) => (Some(t), false),
        None => (jar.get(SESSION_COOKIE).map(|c| c.value().to_string()), true),
    };
    if let Some(token) = token {
        match service::resolve(&state, &token).await {
            Ok(Some((mut user, kind))) if (kind == "cookie") == via_cookie => {
                user.via_cookie = via_cookie;
                user.csrf_ok = req
                    .headers()
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| constant_time_eq(v.as_bytes(), user.csrf_token.as_bytes()));
                user.client_ip = req
                    .extensions()
                    .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                    .map(|c| c.0.ip().to_string())
                    .unwrap_or_default();
                req.extensions_mut().insert(user);
            }
            Ok(_) => {}
            Err(e) => return e.into_response(),
        }
    }
    next.run(req).await
}

/// Equal bytes, compared in time that does not depend on where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or(AppError::Unauthenticated)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(300)
            .collect();
        Ok(ClientInfo { ip, user_agent })
    }
}

/// Optional user: `Some` when logged in, for public routes that show more to members.
pub struct MaybeUser(pub Option<CurrentUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeUser(parts.extensions.get::<CurrentUser>().cloned()))
    }
}
