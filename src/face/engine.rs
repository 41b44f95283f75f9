use super::{Detection, FaceError, FaceSignature, Photo};
use std::path::PathBuf;

/// Where the models and runtime are, and how much the engine may do at once.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct FaceEngineConfig {
    /// Folder with the ONNX files and manifest.json.
    pub models_dir: PathBuf,
    /// libonnxruntime.so; None = ORT_DYLIB_PATH or vendor/onnxruntime.
    pub onnxruntime: Option<PathBuf>,
    /// Inference sessions (one per core).
    pub workers: usize,
    /// Requests that may wait for a session before `Overloaded`.
    pub queue: usize,
    /// Upload limits.
    pub max_bytes: usize,
    pub max_pixels: u64,
    pub max_side: u32,
}

/// The face engine: a bounded pool of ONNX sessions. Cheap to clone.
#[derive(Clone)]
pub struct FaceEngine {}

impl FaceEngine {
    pub fn new(_config: FaceEngineConfig) -> Result<Self, FaceError> {
        Err(FaceError::Unavailable("not built yet".into()))
    }

    /// Selfie -> exactly one usable face -> signature.
    pub async fn analyse(&self, _photo: Photo) -> Result<FaceSignature, FaceError> {
        Err(FaceError::Unavailable("not built yet".into()))
    }

    /// All faces found in an image.
    pub async fn detect(&self, _bytes: &[u8]) -> Result<Vec<Detection>, FaceError> {
        Err(FaceError::Unavailable("not built yet".into()))
    }

    /// Appearance features (rock domain, multi-view, L2-normalised) of rock face crops, batched.
    pub async fn rock_appearance(&self, _crops: Vec<image::RgbImage>) -> Result<Vec<Vec<f32>>, FaceError> {
        Err(FaceError::Unavailable("not built yet".into()))
    }

    /// Whether the sessions are loaded and answering (for /readyz).
    pub fn ready(&self) -> bool {
        false
    }
}
