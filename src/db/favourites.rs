//! Favourites (likes). Counters are kept by a trigger.
use sqlx::PgExecutor;

/// True when the favourite is new.
pub async fn add(
    db: impl PgExecutor<'_>,
    account_id: i64,
    status_id: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO favourites (account_id, status_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(account_id)
    .bind(status_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn remove(
    db: impl PgExecutor<'_>,
    account_id: i64,
    status_id: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM favourites WHERE account_id = $1 AND status_id = $2")
        .bind(account_id)
        .bind(status_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
