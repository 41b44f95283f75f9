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
mod social_follows;
mod social_helpers;
mod social_notifications;
mod social_query_counter;
mod social_rock_names;
mod social_safety;
mod social_statuses;
mod social_timelines;
