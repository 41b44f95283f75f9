//! Domain logic of the social layer that is neither SQL nor HTTP.
pub mod scrub;
pub mod uploads;
