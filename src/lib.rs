//! mmt-clinic: one service for a county's methadone maintenance treatment network.
//!
//! Layers (dependencies point one way): `http` → `services` → (`domain`, `db`).
//! `domain` holds the rules of RULES.md as pure functions; `services` are the use cases,
//! one transaction each; `db` owns every line of SQL.

pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod reports;
pub mod seed;
pub mod services;
pub mod telemetry;
#[doc(hidden)]
pub mod test_support;

pub use http::build_app as app;
