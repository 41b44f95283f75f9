//! Quality figures.
pub mod pairs;
pub mod spread;
