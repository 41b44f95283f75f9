//! The face pipeline: decode -> detect (BlazeFace) -> align -> embed (FaceRecognitionNet).
//!
//! The only way in is [`FaceEngine`]. Photos and signatures never leave this module
//! in a form that can be serialised or printed, and nothing here writes images,
//! embeddings or their values to disk or logs.
mod align;
pub mod cli;
mod decode;
mod detect;
mod embed;
mod engine;
mod error;
mod landmarks;
mod pipeline;
mod rock_histogram;
mod runtime;
mod sampling;
mod types;

pub use engine::{FaceEngine, FaceEngineConfig, StageTimings};
pub use error::FaceError;
pub use types::{Detection, FaceSignature, Photo, APPEARANCE_DIM, IDENTITY_DIM};

/// Decodes an upload (JPEG, PNG or WebP, EXIF orientation applied) with the engine's
/// limits, checked from the header before pixels are allocated. Detection boxes refer
/// to this image's pixels.
pub fn decode_image(bytes: &[u8], config: &FaceEngineConfig) -> Result<image::RgbImage, FaceError> {
    decode::decode(
        bytes,
        decode::DecodeLimits { max_bytes: config.max_bytes, max_pixels: config.max_pixels, max_side: config.max_side },
    )
}
