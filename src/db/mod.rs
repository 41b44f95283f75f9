//! SQL only, one file per table family.
pub mod rocks;
