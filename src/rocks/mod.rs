//! The rock gallery: rocks in PostgreSQL, their images in object storage, and the
//! matcher that finds a face's Rockelganger. The only way in is [`RockService`].
pub mod calibration;
pub mod cli;
mod gallery;
pub mod generate;
mod import;
pub mod index;
pub mod matcher;
pub mod offline;

pub use calibration::Calibration;
pub use gallery::RockInput;
pub use import::ImportReport;
pub use matcher::{AntiHub, MatcherSettings};

use crate::db::rocks::RockRow;
use crate::face::{FaceEngine, FaceSignature};
use crate::storage::ObjectStorage;
use gallery::{encode_jpeg, Gallery};
use matcher::{Matcher, RockMean, RockSpread};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// A face's best rock.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct RockMatch {
    pub rock_id: i64,
    /// Cosine similarity in rock space, in [-1, 1].
    pub similarity: f32,
    /// Share of reference faces whose best rock scores lower (0..1), when the calibration
    /// has reference faces.
    pub likeness: Option<f32>,
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

/// How the service is set up; `Default` is the product's.
#[derive(Debug, Clone)]
pub struct RockSettings {
    /// The calibrated human reference (see `rocks calibrate`). Missing = uncalibrated
    /// matching with a warning.
    pub human_reference: PathBuf,
    /// Rocks generated when the gallery is empty.
    pub generate_count: u32,
    pub generate_seed: u64,
    pub matcher: MatcherSettings,
}

impl Default for RockSettings {
    fn default() -> Self {
        RockSettings {
            human_reference: PathBuf::from("models/human_reference.bin"),
            generate_count: 300,
            generate_seed: 1,
            matcher: MatcherSettings::default(),
        }
    }
}

/// A rock as the API shows it.
#[derive(Debug, Clone)]
pub struct Rock {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub photo_key: String,
    pub face_key: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<RockRow> for Rock {
    fn from(r: RockRow) -> Self {
        Rock {
            id: r.id,
            name: r.name,
            source: r.source,
            photo_key: r.photo_key,
            face_key: r.face_key,
            created_at: r.created_at,
        }
    }
}

impl Rock {
    /// The object-storage key of one of its images.
    pub fn image_key(&self, which: RockImage) -> &str {
        match which {
            RockImage::Photo => &self.photo_key,
            RockImage::Face => &self.face_key,
        }
    }
}

/// Which image of a rock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RockImage {
    Photo,
    Face,
}

/// Gallery + in-memory index. Cheap to clone.
#[derive(Clone)]
pub struct RockService {
    gallery: Gallery,
    engine: FaceEngine,
    settings: RockSettings,
    calibration: Arc<Calibration>,
    matcher: Arc<RwLock<Matcher>>,
}

/// The index of every stored rock, streamed from the database in two passes (three when
/// standardising): the gallery statistics first, then the rocks, so no pass holds them all.
async fn build_matcher(
    gallery: &Gallery,
    calibration: Arc<Calibration>,
    settings: MatcherSettings,
) -> Result<Matcher, RockError> {
    let mut mean = RockMean::new(calibration.in_dim());
    gallery.each_embedding(|_, v| mean.push(&v)).await?;
    let spread = if settings.standardise {
        let mut spread = RockSpread::new(&mean);
        gallery.each_embedding(|_, v| spread.push(&v)).await?;
        Some(spread)
    } else {
        None
    };
    let mut matcher = Matcher::empty(calibration, settings, &mean, spread);
    gallery.each_embedding(|id, v| matcher.add(id, &v)).await?;
    Ok(matcher)
}

impl RockService {
    /// Loads the index from the database. Call `ensure_gallery` after to fill an empty one.
    pub async fn load(
        pool: sqlx::PgPool,
        storage: ObjectStorage,
        engine: FaceEngine,
    ) -> Result<Self, RockError> {
        Self::load_with(pool, storage, engine, RockSettings::default()).await
    }

    pub async fn load_with(
        pool: sqlx::PgPool,
        storage: ObjectStorage,
        engine: FaceEngine,
        settings: RockSettings,
    ) -> Result<Self, RockError> {
        let calibration = match Calibration::load(&settings.human_reference) {
            Ok(c) if c.in_dim() != crate::face::APPEARANCE_DIM => {
                tracing::warn!(path = %settings.human_reference.display(), dim = c.in_dim(), expected = crate::face::APPEARANCE_DIM, "the human reference was made for other features; matching without domain centring or anti-hub correction");
                Calibration::uncalibrated(crate::face::APPEARANCE_DIM)
            }
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(path = %settings.human_reference.display(), error = %e, "no human reference; matching without domain centring or anti-hub correction");
                Calibration::uncalibrated(crate::face::APPEARANCE_DIM)
            }
        };
        let calibration = Arc::new(calibration);
        let gallery = Gallery::new(pool, storage);
        let matcher = build_matcher(&gallery, calibration.clone(), settings.matcher).await?;
        tracing::info!(rocks = matcher.len(), "rock index loaded");
        Ok(RockService {
            gallery,
            engine,
            settings,
            calibration,
            matcher: Arc::new(RwLock::new(matcher)),
        })
    }

    /// Rebuilds the index from the database (recomputes the gallery mean).
    pub async fn reload(&self) -> Result<(), RockError> {
        let fresh = build_matcher(
            &self.gallery,
            self.calibration.clone(),
            self.settings.matcher,
        )
        .await?;
        *self.matcher.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    /// Rebuilds the index when another process (`rockstar rocks import` beside a running
    /// server) has added rocks. Returns whether it did.
    pub async fn refresh_if_changed(&self) -> Result<bool, RockError> {
        let stored = self.gallery.count().await?;
        let offered = self
            .matcher
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .offered();
        if usize::try_from(stored).ok() == Some(offered) {
            return Ok(false);
        }
        self.reload().await?;
        Ok(true)
    }

    /// Generates the built-in gallery when there are no rocks at all.
    pub async fn ensure_gallery(&self) -> Result<(), RockError> {
        let (count, seed) = (self.settings.generate_count, self.settings.generate_seed);
        let total = self.gallery.count().await?;
        // A first start that was interrupted left part of the built-in gallery: finish it.
        // A gallery with any other rock (imported, or another seed) is the operator's.
        let keys: Vec<String> = (0..count)
            .map(|i| format!("generated:{seed}:{i}"))
            .collect();
        let built_in = self.gallery.existing(&keys).await?.len() as i64;
        if total > 0 && (total != built_in || built_in >= i64::from(count)) {
            return Ok(());
        }
        tracing::info!(
            count,
            present = built_in,
            "the rock gallery is empty or the built-in gallery incomplete; generating it"
        );
        let added = self
            .generate(
                self.settings.generate_count,
                self.settings.generate_seed,
                &|_, _| {},
            )
            .await?;
        tracing::info!(added, "built-in gallery generated");
        Ok(())
    }

    /// Renders and stores `count` rocks (idempotent per seed and index). Returns how many were new.
    pub async fn generate(
        &self,
        count: u32,
        seed: u64,
        progress: import::Progress<'_>,
    ) -> Result<usize, RockError> {
        let keys: Vec<String> = (0..count)
            .map(|i| format!("generated:{seed}:{i}"))
            .collect();
        let existing = self.gallery.existing(&keys).await?;
        let todo: Vec<u32> = (0..count)
            .filter(|i| !existing.contains(&keys[*i as usize]))
            .collect();
        let mut added = 0;
        let stored = self
            .generate_batches(&todo, count, seed, progress, &mut added)
            .await;
        if added > 0 {
            // The first rocks of an empty gallery define its mean: recompute it, also when
            // a batch failed part-way (the count then matches the index, so no later
            // refresh would notice).
            self.reload().await?;
        }
        stored.map(|()| added)
    }

    async fn generate_batches(
        &self,
        todo: &[u32],
        count: u32,
        seed: u64,
        progress: import::Progress<'_>,
        added: &mut usize,
    ) -> Result<(), RockError> {
        let mut done = u64::from(count) - todo.len() as u64;
        progress(done, count as u64);
        for chunk in todo.chunks(import::BATCH) {
            let rendered: Vec<(u32, image::RgbImage, image::RgbImage, String)> = {
                let chunk = chunk.to_vec();
                tokio::task::spawn_blocking(move || {
                    chunk
                        .into_iter()
                        .map(|i| {
                            let rock = generate::render_rock(seed, i, 512);
                            (i, rock.photo, rock.face, rock.name)
                        })
                        .collect()
                })
                .await
                .map_err(|e| RockError::Storage(format!("rendering rocks: {e}")))?
            };
            let crops = rendered.iter().map(|r| r.2.clone()).collect();
            let embeddings = self.engine.rock_appearance(crops).await?;
            for ((i, photo, face, name), embedding) in rendered.into_iter().zip(embeddings) {
                let jpeg = |img: &image::RgbImage| {
                    encode_jpeg(img).map_err(|e| RockError::Storage(e.to_string()))
                };
                let input = RockInput {
                    source_key: format!("generated:{seed}:{i}"),
                    name,
                    slug: format!("generated/{seed}-{i}"),
                    source_digest: None,
                    photo_jpeg: jpeg(&photo)?,
                    face_jpeg: jpeg(&face)?,
                    embedding: embedding.clone(),
                    source: "generated",
                };
                if let Some(id) = self.gallery.add(&input).await? {
                    self.index_rock(id, &embedding);
                    *added += 1;
                }
            }
            done += chunk.len() as u64;
            progress(done, count as u64);
        }
        Ok(())
    }

    fn index_rock(&self, id: i64, embedding: &[f32]) {
        self.matcher
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .add(id, embedding);
    }

    /// The signature's Rockelganger.
    pub fn best_match(&self, signature: &FaceSignature) -> Result<RockMatch, RockError> {
        let appearance = signature.appearance();
        let matcher = self.matcher.read().unwrap_or_else(|e| e.into_inner());
        if matcher.is_empty() {
            return Err(RockError::EmptyGallery);
        }
        if appearance.len() != matcher.in_dim() {
            return Err(RockError::Face(crate::face::FaceError::Unavailable(
                format!(
                    "appearance features have {} values, the gallery {}",
                    appearance.len(),
                    matcher.in_dim()
                ),
            )));
        }
        let hit = matcher.best(appearance).ok_or(RockError::EmptyGallery)?;
        Ok(RockMatch {
            rock_id: hit.rock_id,
            similarity: hit.score.clamp(-1.0, 1.0),
            likeness: matcher.likeness(hit.score),
        })
    }

    /// Up to `n` distinct rocks other than `except`, drawn at random from the index (no
    /// database scan, so it stays cheap at a million rocks).
    pub fn random_ids(&self, except: i64, n: usize) -> Vec<i64> {
        use rand::seq::IteratorRandom;
        let matcher = self.matcher.read().unwrap_or_else(|e| e.into_inner());
        matcher
            .ids()
            .iter()
            .copied()
            .filter(|&id| id != except)
            .choose_multiple(&mut rand::thread_rng(), n)
    }

    /// Number of rocks in the index.
    pub fn len(&self) -> usize {
        self.matcher.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub async fn get(&self, id: i64) -> Result<Rock, RockError> {
        self.gallery
            .get(id)
            .await?
            .map(Rock::from)
            .ok_or(RockError::NotFound)
    }

    /// Rocks with id > `after`, in id order.
    pub async fn page(&self, after: i64, limit: i64) -> Result<Vec<Rock>, RockError> {
        Ok(self
            .gallery
            .page(after, limit)
            .await?
            .into_iter()
            .map(Rock::from)
            .collect())
    }

    /// Members per rock (absent = 0).
    pub async fn member_counts(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, i64>, RockError> {
        Ok(self.gallery.member_counts(ids).await?)
    }

    /// The name members voted for most, per rock (absent = no suggestions yet).
    pub async fn top_names(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, String>, RockError> {
        Ok(crate::db::rock_names::top_names(&self.gallery.pool, ids).await?)
    }

    /// Names members suggested for a rock with their votes, most votes first.
    pub async fn names(&self, id: i64) -> Result<Vec<(String, i64)>, RockError> {
        Ok(crate::db::rock_names::vote_counts(&self.gallery.pool, id).await?)
    }

    /// The stored rock embedding (for accounts, which keep a copy).
    pub async fn embedding(&self, id: i64) -> Result<Vec<f32>, RockError> {
        crate::db::rocks::embedding(&self.gallery.pool, id)
            .await?
            .ok_or(RockError::NotFound)
    }

    /// JPEG bytes of a rock image.
    pub async fn image(&self, rock: &Rock, which: RockImage) -> Result<bytes::Bytes, RockError> {
        self.gallery
            .storage
            .get(rock.image_key(which))
            .await
            .map_err(|e| match e {
                crate::storage::StorageError::NotFound(_) => RockError::NotFound,
                e => RockError::Storage(e.to_string()),
            })
    }

    /// A presigned URL for `method` (GET or HEAD) when storage is S3; None when the app
    /// serves the bytes itself. A missing object is `NotFound`.
    pub async fn presigned_image_url(
        &self,
        rock: &Rock,
        which: RockImage,
        method: http::Method,
    ) -> Result<Option<String>, RockError> {
        self.gallery
            .storage
            .presigned_existing(rock.image_key(which), method)
            .await
            .map_err(|e| match e {
                crate::storage::StorageError::NotFound(_) => RockError::NotFound,
                e => RockError::Storage(e.to_string()),
            })
    }
}
