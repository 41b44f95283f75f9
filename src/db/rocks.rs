//! SQL for the `rocks` table (and the member count, read from `accounts`).
use sqlx::{PgExecutor, PgPool};

/// One row of `rocks`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RockRow {
    pub id: i64,
    pub source_key: String,
    pub name: String,
    pub photo_key: String,
    pub face_key: String,
    pub source: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What a new row needs.
#[derive(Debug, Clone)]
pub struct NewRock<'a> {
    pub source_key: &'a str,
    pub name: &'a str,
    pub photo_key: &'a str,
    pub face_key: &'a str,
    pub embedding: &'a [f32],
    pub source: &'a str,
    /// SHA-256 of the files an imported rock was made from.
    pub source_digest: Option<&'a [u8]>,
}

/// Inserts unless the source_key exists. Some(id) when inserted, None when it was there.
pub async fn insert(
    db: impl PgExecutor<'_>,
    rock: &NewRock<'_>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO rocks (source_key, name, photo_key, face_key, embedding, source, source_digest)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (source_key) DO NOTHING
         RETURNING id",
    )
    .bind(rock.source_key)
    .bind(rock.name)
    .bind(rock.photo_key)
    .bind(rock.face_key)
    .bind(rock.embedding)
    .bind(rock.source)
    .bind(rock.source_digest)
    .fetch_optional(db)
    .await
}

/// Whether a stored rock's photo is under this object key.
pub async fn uses_image_key(db: impl PgExecutor<'_>, photo_key: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM rocks WHERE photo_key = $1)")
        .bind(photo_key)
        .fetch_one(db)
        .await
}

/// Takes the lock under which a rock's images are written or removed (by key stem), held
/// until the transaction ends or one of its statements fails.
pub async fn lock_image_stem(db: impl PgExecutor<'_>, stem: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))")
        .bind(stem)
        .execute(db)
        .await?;
    Ok(())
}

/// The stored ones of these source keys, with the digest of what each was made from.
pub async fn source_digests(
    pool: &PgPool,
    keys: &[String],
) -> Result<Vec<(String, Option<Vec<u8>>)>, sqlx::Error> {
    sqlx::query_as("SELECT source_key, source_digest FROM rocks WHERE source_key = ANY($1)")
        .bind(keys)
        .fetch_all(pool)
        .await
}

/// Which of these source keys are already stored.
pub async fn existing_source_keys(
    pool: &PgPool,
    keys: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT source_key FROM rocks WHERE source_key = ANY($1)")
        .bind(keys)
        .fetch_all(pool)
        .await
}

pub async fn count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM rocks")
        .fetch_one(pool)
        .await
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Option<RockRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, source_key, name, photo_key, face_key, source, created_at FROM rocks WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Keyset page in id order: rocks with id > `after`, at most `limit`.
pub async fn page(pool: &PgPool, after: i64, limit: i64) -> Result<Vec<RockRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, source_key, name, photo_key, face_key, source, created_at FROM rocks
         WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// (id, embedding) of every rock, in id order, for the in-memory index: one row at a
/// time, since a million rocks' features are 8 GB.
pub async fn each_embedding(
    pool: &PgPool,
    mut f: impl FnMut(i64, Vec<f32>),
) -> Result<(), sqlx::Error> {
    use futures::TryStreamExt;
    let mut rows =
        sqlx::query_as::<_, (i64, Vec<f32>)>("SELECT id, embedding FROM rocks ORDER BY id")
            .fetch(pool);
    while let Some((id, embedding)) = rows.try_next().await? {
        f(id, embedding);
    }
    Ok(())
}

pub async fn embedding(pool: &PgPool, id: i64) -> Result<Option<Vec<f32>>, sqlx::Error> {
    sqlx::query_scalar("SELECT embedding FROM rocks WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Members whose rock this is.
pub async fn member_count(pool: &PgPool, id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM accounts WHERE rock_id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
}

/// Members per rock for these ids (absent = 0).
pub async fn member_counts(
    pool: &PgPool,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, i64>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT rock_id, count(*) FROM accounts WHERE rock_id = ANY($1) GROUP BY rock_id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}
