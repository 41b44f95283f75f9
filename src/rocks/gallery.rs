//! The gallery store: rock images in object storage, rows in PostgreSQL.
use crate::db::rocks::{self as sql, NewRock, RockRow};
use crate::storage::ObjectStorage;
use bytes::Bytes;
use image::RgbImage;
use sha2::Digest;
use sqlx::PgPool;

/// A rock ready to be stored.
pub struct RockInput {
    pub source_key: String,
    pub name: String,
    /// Object key stem: images go to `rocks/{slug}/photo.jpg` and `.../face.jpg`.
    pub slug: String,
    pub photo_jpeg: Bytes,
    pub face_jpeg: Bytes,
    pub embedding: Vec<f32>,
    pub source: &'static str,
}

#[derive(Clone)]
pub struct Gallery {
    pub(crate) pool: PgPool,
    pub(crate) storage: ObjectStorage,
}

impl Gallery {
    pub fn new(pool: PgPool, storage: ObjectStorage) -> Self {
        Gallery { pool, storage }
    }

    /// Stores the images, then the row. Some(id) when added, None when the source key was
    /// already there. Keys carry a hash of the images, so the bytes under a stored key
    /// never change (clients cache them for a year): a second rock with the same source key
    /// but other images writes new keys, which are removed again when its row is refused.
    pub async fn add(&self, rock: &RockInput) -> Result<Option<i64>, super::RockError> {
        let mut hash = sha2::Sha256::new();
        for part in [&rock.photo_jpeg, &rock.face_jpeg] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        let stem = format!(
            "rocks/{}-{}",
            rock.slug,
            &hex::encode(hash.finalize())[..16]
        );
        let photo_key = format!("{stem}/photo.jpg");
        let face_key = format!("{stem}/face.jpg");
        let storage_err =
            |e: crate::storage::StorageError| super::RockError::Storage(e.to_string());
        // Images already referenced by a row must survive whatever happens below.
        let shared = sql::uses_image_key(&self.pool, &photo_key).await?;
        let stored = async {
            self.storage
                .put(&photo_key, rock.photo_jpeg.clone())
                .await
                .map_err(storage_err)?;
            self.storage
                .put(&face_key, rock.face_jpeg.clone())
                .await
                .map_err(storage_err)?;
            let id = sql::insert(
                &self.pool,
                &NewRock {
                    source_key: &rock.source_key,
                    name: &rock.name,
                    photo_key: &photo_key,
                    face_key: &face_key,
                    embedding: &rock.embedding,
                    source: rock.source,
                },
            )
            .await?;
            Ok::<_, super::RockError>(id)
        }
        .await;
        match stored {
            Ok(None) if !sql::uses_image_key(&self.pool, &photo_key).await? => {
                for key in [&photo_key, &face_key] {
                    self.storage.delete(key).await.map_err(storage_err)?;
                }
                Ok(None)
            }
            Err(e) if !shared => {
                // No row points at them: left behind, they would never be served or removed.
                self.storage
                    .delete_all_best_effort(&[photo_key, face_key])
                    .await;
                Err(e)
            }
            other => other,
        }
    }

    pub async fn existing(
        &self,
        keys: &[String],
    ) -> Result<std::collections::HashSet<String>, sqlx::Error> {
        Ok(sql::existing_source_keys(&self.pool, keys)
            .await?
            .into_iter()
            .collect())
    }

    pub async fn count(&self) -> Result<i64, sqlx::Error> {
        sql::count(&self.pool).await
    }

    pub async fn get(&self, id: i64) -> Result<Option<RockRow>, sqlx::Error> {
        sql::get(&self.pool, id).await
    }

    pub async fn page(&self, after: i64, limit: i64) -> Result<Vec<RockRow>, sqlx::Error> {
        sql::page(&self.pool, after, limit).await
    }

    pub async fn member_counts(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, i64>, sqlx::Error> {
        sql::member_counts(&self.pool, ids).await
    }

    pub async fn each_embedding(&self, f: impl FnMut(i64, Vec<f32>)) -> Result<(), sqlx::Error> {
        sql::each_embedding(&self.pool, f).await
    }
}

/// JPEG bytes of an image (quality 90).
pub fn encode_jpeg(img: &RgbImage) -> Result<Bytes, image::ImageError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(img)?;
    Ok(Bytes::from(out))
}

/// A safe object-key segment from a file stem.
pub fn slug(stem: &str) -> String {
    let s: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if s.is_empty() {
        "rock".into()
    } else {
        s
    }
}

/// "rock_123" -> "Rock 123".
pub fn display_name(stem: &str) -> String {
    let spaced: String = stem
        .chars()
        .map(|c| if c == '_' || c == '-' { ' ' } else { c })
        .collect();
    let trimmed = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Rock".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_slugs() {
        assert_eq!(display_name("rock_123"), "Rock 123");
        assert_eq!(display_name("__"), "Rock");
        assert_eq!(slug("rock 1/../x"), "rock_1____x");
        assert_eq!(slug(""), "rock");
    }
}
