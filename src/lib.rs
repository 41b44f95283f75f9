//! RockStar: a social network in which nobody shows a face.
//!
//! Layout: `face` (selfie -> signature), `rocks` (gallery and matching),
//! `storage` (object storage), `db` (SQL), `http` (REST API), `embedded` (private
//! PostgreSQL), `eval` and `bench` (quality and speed figures).
pub mod bench;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod embedded;
pub mod error;
pub mod eval;
pub mod face;
pub mod http;
pub mod imaging;
pub mod rocks;
pub mod social;
pub mod startup;
pub mod storage;
pub mod telemetry;
