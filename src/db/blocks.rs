//! Blocks and mutes.
use sqlx::PgConnection;

/// Serialises changes between two accounts (a follow and a block racing each other) until
/// the transaction ends.
pub async fn lock_pair(conn: &mut PgConnection, a: i64, b: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtextextended(least($1, $2)::text || ':' || greatest($1, $2)::text, 0))",
    )
    .bind(a)
    .bind(b)
    .execute(conn)
    .await?;
    Ok(())
}

/// Blocks `target`: follows both ways end. True when the block is new.
pub async fn block(
    conn: &mut PgConnection,
    account_id: i64,
    target: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    lock_pair(&mut tx, account_id, target).await?;
    sqlx::query(
        "DELETE FROM follows WHERE (follower_id = $1 AND followee_id = $2) OR (follower_id = $2 AND followee_id = $1)",
    )
    .bind(account_id)
    .bind(target)
    .execute(&mut *tx)
    .await?;
    let done = sqlx::query(
        "INSERT INTO blocks (account_id, target_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(account_id)
    .bind(target)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

pub async fn unblock(
    db: impl sqlx::PgExecutor<'_>,
    account_id: i64,
    target: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM blocks WHERE account_id = $1 AND target_id = $2")
        .bind(account_id)
        .bind(target)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mute(
    db: impl sqlx::PgExecutor<'_>,
    account_id: i64,
    target: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO mutes (account_id, target_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(account_id)
    .bind(target)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn unmute(
    db: impl sqlx::PgExecutor<'_>,
    account_id: i64,
    target: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM mutes WHERE account_id = $1 AND target_id = $2")
        .bind(account_id)
        .bind(target)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether either account blocks the other.
pub async fn either_blocks(
    db: impl sqlx::PgExecutor<'_>,
    a: i64,
    b: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE (account_id = $1 AND target_id = $2) OR (account_id = $2 AND target_id = $1))",
    )
    .bind(a)
    .bind(b)
    .fetch_one(db)
    .await
}
