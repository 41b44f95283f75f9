//! The face pipeline: decode -> detect (BlazeFace) -> align -> embed (FaceRecognitionNet).
//!
//! The only way in is [`FaceEngine`]. Photos and signatures never leave this module
//! in a form that can be serialised or printed, and nothing here writes images,
//! embeddings or their values to disk or logs; the decoded photo and chips are wiped
//! after use.
//!
//! - Decode: JPEG/PNG/WebP, size limits checked from the header before any pixels are
//!   allocated, EXIF orientation applied.
//! - Detect: BlazeFace front-128 on the whole photo; the back-256 model when faces are
//!   small; the photo zoomed out when the face fills it; overlapping tiles for small faces
//!   in big photos. Exactly one usable face is required (`multiple_faces`,
//!   `face_too_small`, `no_face` otherwise).
//! - Align: face-api's 68-point landmarks on a crop 1.4x the detection box, once more on a
//!   crop 1.3x the landmarks, then a least-squares similarity from 33 landmarks to dlib's
//!   150-px template (4-point BlazeFace alignment when the landmark model is absent).
//! - Embed: identity = FaceRecognitionNet's 128-D embedding, by default from the int8 model
//!   on the chip and its mirror image (LFW folds 1-3: 99.28 %, as float32;
//!   [`IdentityOptions::FAST`]: no landmark net, the detection's keypoints on a learned
//!   template, with the mirror image, 99.06 %);
//!   appearance = mean of the float32 model's normalised conv128 features of four views (as
//!   is, mirrored, grey, grey matched to the rocks' grey histogram), for rock matching.
//! - Run: one single-threaded ONNX session set per worker thread behind a bounded queue;
//!   a full queue answers `overloaded` at once.
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

pub use engine::{
    FaceEngine, FaceEngineConfig, IdentityOptions, KeypointAlignment, Precision, StageTimings,
};
pub use error::FaceError;
pub use types::{Detection, FaceSignature, Photo, APPEARANCE_DIM, IDENTITY_DIM};
