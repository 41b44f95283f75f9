//! The rock gallery: rocks in PostgreSQL, their images in object storage, and the
//! matcher that finds a face's Rockelganger. The only way in is [`RockService`].
pub mod generate;

use crate::face::{FaceEngine, FaceSignature};
use crate::storage::ObjectStorage;

/// A face's best rock.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct RockMatch {
    pub rock_id: i64,
    /// Cosine similarity in rock space, in [-1, 1].
    pub similarity: f32,
}

#[derive(Debug, thiserror::Error)]
pub enum RockError {
    #[error("the rock gallery is empty")]
    EmptyGallery,
    #[error("rock not found")]
    NotFound,
    #[error(transparent)]
    Face(#[from] crate::face::FaceError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error("storage: {0}")]
    Storage(String),
}

/// Gallery + in-memory index. Cheap to clone.
#[derive(Clone)]
pub struct RockService {
    #[allow(dead_code)]
    pool: sqlx::PgPool,
    #[allow(dead_code)]
    storage: ObjectStorage,
    #[allow(dead_code)]
    engine: FaceEngine,
}

impl RockService {
    /// Loads the index from the database. Call `ensure_gallery` after to fill an empty one.
    pub async fn load(pool: sqlx::PgPool, storage: ObjectStorage, engine: FaceEngine) -> Result<Self, RockError> {
        Ok(RockService { pool, storage, engine })
    }

    /// Generates the built-in gallery when there are no rocks at all.
    pub async fn ensure_gallery(&self) -> Result<(), RockError> {
        Err(RockError::EmptyGallery)
    }

    /// The signature's Rockelganger.
    pub fn best_match(&self, _signature: &FaceSignature) -> Result<RockMatch, RockError> {
        Err(RockError::EmptyGallery)
    }

    /// Number of rocks in the index.
    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
