//! Files of uploaded images: removed from storage once their rows are gone, and uploads
//! never attached to a status are removed after a day.
//!
//! Removal goes through the `storage_deletions` queue: keys are queued in the transaction
//! that deletes their rows, removed from storage right after, and forgotten once storage
//! confirms. What storage refused (an outage) stays queued for housekeeping to retry.
use crate::storage::ObjectStorage;
use sqlx::PgPool;

/// How long an upload may wait to be attached to a status before housekeeping removes it.
pub const UNATTACHED_LIFETIME: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Keys retried per housekeeping pass.
const RETRY_BATCH: i64 = 1000;

/// Removes queued files from storage and forgets those removed; returns how many went.
/// Failures are logged and stay queued.
pub async fn remove_files(db: &PgPool, storage: &ObjectStorage, keys: &[String]) -> usize {
    let mut removed = Vec::new();
    for key in keys {
        match storage.delete(key).await {
            Ok(()) => removed.push(key.clone()),
            Err(e) => tracing::warn!(error = %e, "removing a stored file failed; it stays queued"),
        }
    }
    if let Err(e) = crate::db::media::forget_deletions(db, &removed).await {
        // They are gone from storage; removing them again later is harmless.
        tracing::warn!(error = %e, "forgetting removed files failed");
    }
    removed.len()
}

/// Retries files left queued by earlier failures; returns how many went.
pub async fn retry_removals(db: &PgPool, storage: &ObjectStorage) -> Result<usize, sqlx::Error> {
    let keys = crate::db::media::queued_deletions(db, RETRY_BATCH).await?;
    Ok(remove_files(db, storage, &keys).await)
}

/// Files stored for an upload whose row was never written: queued, then removed.
pub async fn discard_files(db: &PgPool, storage: &ObjectStorage, keys: &[String]) {
    if let Err(e) = crate::db::media::queue_deletions(db, keys).await {
        tracing::warn!(error = %e, "queueing files for removal failed");
    }
    remove_files(db, storage, keys).await;
}

/// Removes uploads older than `older_than` that no status uses, rows first, then their
/// files; returns how many uploads went.
pub async fn purge_unattached(
    db: &PgPool,
    storage: &ObjectStorage,
    older_than: std::time::Duration,
) -> Result<usize, sqlx::Error> {
    let keys = crate::db::media::delete_unattached(db, older_than.as_secs_f64()).await?;
    remove_files(db, storage, &keys).await;
    Ok(keys.len() / 2)
}
