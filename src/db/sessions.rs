//! The `sessions` table: one row per issued token (its jti).
use sqlx::PgExecutor;
use uuid::Uuid;

pub async fn create(
    db: impl PgExecutor<'_>,
    jti: Uuid,
    account_id: i64,
    expires_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO sessions (jti, account_id, expires_at) VALUES ($1, $2, $3)")
        .bind(jti)
        .bind(account_id)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether the token id is live and belongs to the account.
pub async fn is_live(
    db: impl PgExecutor<'_>,
    jti: Uuid,
    account_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE jti = $1 AND account_id = $2 AND expires_at > now())",
    )
    .bind(jti)
    .bind(account_id)
    .fetch_one(db)
    .await
}

pub async fn revoke(db: impl PgExecutor<'_>, jti: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE jti = $1")
        .bind(jti)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Drops expired rows; returns how many.
pub async fn purge_expired(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= now()")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
