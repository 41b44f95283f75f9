/// Why a photo could not be turned into a face signature. `code()` is the stable API code.
#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    #[error("no face was found in the photo")]
    NoFace,
    #[error("more than one face is in the photo; take a selfie alone")]
    MultipleFaces,
    #[error("the face is too small; move closer to the camera")]
    FaceTooSmall,
    #[error("the file is not a supported image (JPEG, PNG or WebP): {0}")]
    UnsupportedImage(String),
    #[error("the image is too large: {0}")]
    ImageTooLarge(String),
    /// The queue is full; `retry_after` is the seconds it should take to drain, from the
    /// measured time per job.
    #[error("the face engine is busy; try again in {retry_after} s")]
    Overloaded { retry_after: u64 },
    #[error("the face engine is not available: {0}")]
    Unavailable(String),
    /// A bug met while handling this image (a worker caught a panic): retrying the same
    /// image will not help.
    #[error("the face engine failed on this image")]
    Internal,
}

impl FaceError {
    pub fn code(&self) -> &'static str {
        match self {
            FaceError::NoFace => "no_face",
            FaceError::MultipleFaces => "multiple_faces",
            FaceError::FaceTooSmall => "face_too_small",
            FaceError::UnsupportedImage(_) => "unsupported_image",
            FaceError::ImageTooLarge(_) => "image_too_large",
            FaceError::Overloaded { .. } => "overloaded",
            FaceError::Unavailable(_) => "face_engine_unavailable",
            FaceError::Internal => "internal_error",
        }
    }
}
