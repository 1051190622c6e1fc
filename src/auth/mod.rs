//! Authentication (password login, cookie sessions with CSRF protection, bearer tokens),
//! throttling, the audit log, and the per-route access policy.

pub mod policy;
pub mod repo;
pub mod routes;
pub mod service;
pub mod types;

pub use policy::{Access, Api, RouteSpec};
pub use types::{CurrentUser, Role};
