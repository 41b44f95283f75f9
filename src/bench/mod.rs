//! Speed figures.
pub mod search;
