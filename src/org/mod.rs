//! The people of the platform: regions, organisations (with their 统一社会信用代码 and
//! enterprise size), user accounts, and the expert pool.

pub mod repo;
pub mod routes;
pub mod service;
pub mod types;
