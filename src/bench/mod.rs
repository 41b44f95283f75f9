//! Speed figures.
pub mod face;
