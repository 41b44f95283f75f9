//! API tests: one binary, a real server and a fresh database per test.
#![allow(clippy::expect_used, dead_code)]
mod accounts;
mod errors;
mod fixtures;
mod health;
mod helpers;
mod privacy;
mod sessions;
mod signup;
