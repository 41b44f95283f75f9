//! RockStar: a social network in which nobody shows a face.
//!
//! Layout: `face` (selfie -> signature), `rocks` (gallery, storage of rock images,
//! matching), `storage` (object storage), `db` (SQL), `http` (REST API),
//! `embedded` (private PostgreSQL), `eval` and `bench` (quality and speed figures).
pub mod face;
