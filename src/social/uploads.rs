//! Uploaded images waiting for a status: those never attached are removed after a day.

/// How long an upload may wait to be attached to a status before housekeeping removes it.
pub const UNATTACHED_LIFETIME: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Removes uploads older than `older_than` that no status uses, rows first, then their
/// files; returns how many uploads went.
pub async fn purge_unattached(
    db: &sqlx::PgPool,
    storage: &crate::storage::ObjectStorage,
    older_than: std::time::Duration,
) -> Result<usize, sqlx::Error> {
    let keys = crate::db::media::delete_unattached(db, older_than.as_secs_f64()).await?;
    storage.delete_all_best_effort(&keys).await;
    Ok(keys.len() / 2)
}
