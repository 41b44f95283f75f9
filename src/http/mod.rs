//! HTTP routes per resource.
pub mod rocks;
