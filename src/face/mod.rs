//! The face pipeline: decode -> detect (BlazeFace) -> align -> embed (FaceRecognitionNet).
//!
//! The only way in is [`FaceEngine`]. Photos and signatures never leave this module
//! in a form that can be serialised or printed.
mod engine;
mod error;
mod types;

pub use engine::{FaceEngine, FaceEngineConfig};
pub use error::FaceError;
pub use types::{Detection, FaceSignature, Photo, APPEARANCE_DIM, IDENTITY_DIM};
