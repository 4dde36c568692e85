//! Handlers: map a request to one use case and its answer to a response. No rules here.

pub mod admin;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod dispensing;
pub mod drug_tests;
pub mod health;
pub mod home_visits;
pub mod orders;
pub mod patients;
pub mod rehab;
pub mod reports;
pub mod sites;
pub mod staff;
pub mod stock;
