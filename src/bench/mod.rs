//! Speed figures.
pub mod face;
pub mod search;
