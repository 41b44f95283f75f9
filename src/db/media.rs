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

/// Object keys (image and preview) of the media a status or an account owns, so storage
/// can follow once the rows are deleted.
pub async fn object_keys(
    db: impl PgExecutor<'_>,
    owner: Owner,
) -> Result<Vec<String>, sqlx::Error> {
    let (sql, id) = match owner {
        Owner::Status(id) => (
            "SELECT key, preview_key FROM media_attachments WHERE status_id = $1",
            id,
        ),
        Owner::Account(id) => (
            "SELECT key, preview_key FROM media_attachments WHERE account_id = $1",
            id,
        ),
    };
    let keys: Vec<(String, String)> = sqlx::query_as(sql).bind(id).fetch_all(db).await?;
    Ok(keys
        .into_iter()
        .flat_map(|(key, preview)| [key, preview])
        .collect())
}

/// Deletes uploads never attached to a status and older than `seconds`, returning their
/// object keys so storage can follow.
pub async fn delete_unattached(
    db: impl PgExecutor<'_>,
    seconds: f64,
) -> Result<Vec<String>, sqlx::Error> {
    let keys: Vec<(String, String)> = sqlx::query_as(
        "DELETE FROM media_attachments WHERE status_id IS NULL AND created_at < now() - make_interval(secs => $1) \
         RETURNING key, preview_key",
    )
    .bind(seconds)
    .fetch_all(db)
    .await?;
    Ok(keys
        .into_iter()
        .flat_map(|(key, preview)| [key, preview])
        .collect())
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
