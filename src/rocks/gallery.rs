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
    /// SHA-256 of the files an imported rock was made from (None for generated rocks).
    pub source_digest: Option<Vec<u8>>,
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
        // Files are written and their row inserted under the stem's lock, and files are only
        // ever removed under it after checking that no row points at them: two imports of
        // one folder (or two servers completing the built-in gallery) write the same keys, and
        // the one that fails must not remove what the other stored. PostgreSQL drops the
        // lock as soon as a statement fails, so the check is made afresh, not remembered.
        let mut tx = self.pool.begin().await?;
        sql::lock_image_stem(&mut *tx, &stem).await?;
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
                &mut *tx,
                &NewRock {
                    source_key: &rock.source_key,
                    name: &rock.name,
                    photo_key: &photo_key,
                    face_key: &face_key,
                    embedding: &rock.embedding,
                    source: rock.source,
                    source_digest: rock.source_digest.as_deref(),
                },
            )
            .await?;
            Ok::<_, super::RockError>(id)
        }
        .await;
        match stored {
            Ok(Some(id)) => match tx.commit().await {
                Ok(()) => Ok(Some(id)),
                Err(e) => {
                    // The commit's answer was lost: the row may exist, which the check sees.
                    self.remove_unreferenced(&stem, &photo_key, &face_key).await;
                    Err(e.into())
                }
            },
            // Ok(None): the source key was taken, by a rock with other images or with these.
            other => {
                // Ended now, not when the pool next uses the connection: it holds the lock.
                if let Err(e) = tx.rollback().await {
                    tracing::warn!(error = %e, "rolling back a refused rock");
                }
                self.remove_unreferenced(&stem, &photo_key, &face_key).await;
                other
            }
        }
    }

    /// Removes a refused add's images unless a row points at them, checked under the stem's
    /// lock. Best effort: what is left behind is unreferenced files, never a rock's images.
    async fn remove_unreferenced(&self, stem: &str, photo_key: &str, face_key: &str) {
        let outcome = async {
            let mut tx = self.pool.begin().await?;
            sql::lock_image_stem(&mut *tx, stem).await?;
            if !sql::uses_image_key(&mut *tx, photo_key).await? {
                self.storage
                    .delete_all_best_effort(&[photo_key.to_string(), face_key.to_string()])
                    .await;
            }
            tx.commit().await
        }
        .await;
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "a refused rock's images are left in place: checking them failed");
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

    /// The stored ones of these source keys, with the digest of what each was made from.
    pub async fn source_digests(
        &self,
        keys: &[String],
    ) -> Result<std::collections::HashMap<String, Option<Vec<u8>>>, sqlx::Error> {
        Ok(sql::source_digests(&self.pool, keys)
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

/// JPEG bytes of a rock image (quality 90, no metadata).
pub fn encode_jpeg(img: &RgbImage) -> Result<Bytes, image::ImageError> {
    crate::imaging::encode_jpeg(img, 90).map(Bytes::from)
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
