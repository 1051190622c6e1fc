//! Procurement projects (采购项目): creation and editing by the agency, publication
//! (采购公告), amendments (更正公告), cancellation, and the public announcement list.

pub mod opening_key;
pub mod repo;
pub mod routes;
pub mod service;
pub mod types;
