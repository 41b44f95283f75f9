//! Media attachments: scrubbed images in object storage, attached to a status on posting.
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MediaRow {
    pub id: i64,
    pub key: String,
    pub preview_key: String,
    pub width: i32,
    pub height: i32,
    pub faces_covered: i32,
}

/// Which media rows' object keys to collect before a cascading delete.
pub enum Owner {
    Status(i64),
    Account(i64),
}

/// Queues the object keys (image and preview) of the media a status or an account owns
/// for removal from storage (`storage_deletions`), in the caller's transaction, before the
/// cascading delete; returns them so the caller can remove them at once.
pub async fn queue_owned_objects(
    db: impl PgExecutor<'_>,
    owner: Owner,
) -> Result<Vec<String>, sqlx::Error> {
    let (column, id) = match owner {
        Owner::Status(id) => ("status_id", id),
        Owner::Account(id) => ("account_id", id),
    };
    sqlx::query_scalar(&format!(
        "WITH owned AS (SELECT unnest(ARRAY[key, preview_key]) AS key FROM media_attachments \
                        WHERE {column} = $1), \
              queued AS (INSERT INTO storage_deletions (key) SELECT key FROM owned \
                         ON CONFLICT DO NOTHING) \
         SELECT key FROM owned"
    ))
    .bind(id)
    .fetch_all(db)
    .await
}

/// Deletes uploads never attached to a status and older than `seconds`, queueing their
/// object keys for removal in the same statement; returns the keys.
pub async fn delete_unattached(
    db: impl PgExecutor<'_>,
    seconds: f64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH gone AS (DELETE FROM media_attachments \
                       WHERE status_id IS NULL AND created_at < now() - make_interval(secs => $1) \
                       RETURNING key, preview_key), \
              keys AS (SELECT unnest(ARRAY[key, preview_key]) AS key FROM gone), \
              queued AS (INSERT INTO storage_deletions (key) SELECT key FROM keys \
                         ON CONFLICT DO NOTHING) \
         SELECT key FROM keys",
    )
    .bind(seconds)
    .fetch_all(db)
    .await
}

/// Queues keys for removal from storage (files no row points at).
pub async fn queue_deletions(db: impl PgExecutor<'_>, keys: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO storage_deletions (key) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
    )
    .bind(keys)
    .execute(db)
    .await?;
    Ok(())
}

/// Up to `limit` keys still waiting for removal, oldest first.
pub async fn queued_deletions(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT key FROM storage_deletions ORDER BY queued_at, key LIMIT $1")
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Forgets keys storage has confirmed removed.
pub async fn forget_deletions(db: impl PgExecutor<'_>, keys: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM storage_deletions WHERE key = ANY($1)")
        .bind(keys)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether an upload's row is still there (its files are served only while it is).
pub async fn exists(db: impl PgExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM media_attachments WHERE id = $1)")
        .bind(id)
        .fetch_one(db)
        .await
}

/// A fresh time-ordered id (so object keys can be named before the row exists).
pub async fn next_id(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT snowflake_id()")
        .fetch_one(db)
        .await
}

#[allow(clippy::too_many_arguments)]
pub async fn create(
    db: impl PgExecutor<'_>,
    id: i64,
    account_id: i64,
    key: &str,
    preview_key: &str,
    width: i32,
    height: i32,
    faces_covered: i32,
) -> Result<MediaRow, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO media_attachments (id, account_id, key, preview_key, width, height, faces_covered) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, key, preview_key, width, height, faces_covered",
    )
    .bind(id)
    .bind(account_id)
    .bind(key)
    .bind(preview_key)
    .bind(width)
    .bind(height)
    .bind(faces_covered)
    .fetch_one(db)
    .await
}
