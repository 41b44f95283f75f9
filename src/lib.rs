//! RockStar: a social network in which nobody shows a face.
//!
//! Layout: `face` (selfie -> signature), `rocks` (gallery and matching),
//! `storage` (object storage), `db` (SQL), `http` (REST API), `embedded` (private
//! PostgreSQL), `eval` and `bench` (quality and speed figures).
pub mod bench;
pub mod eval;
pub mod face;
pub mod rocks;
pub mod storage;
