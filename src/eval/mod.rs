//! Quality figures.
pub mod lfw;
