//! Quality figures.
pub mod lfw;
pub mod pairs;
pub mod spread;
