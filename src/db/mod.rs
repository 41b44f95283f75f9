//! SQL only, one file per table family. Functions take an executor and plain values.
pub mod accounts;
pub mod blocks;
pub mod favourites;
pub mod follows;
pub mod media;
pub mod notifications;
pub mod reports;
pub mod rock_names;
pub mod rocks;
pub mod sessions;
pub mod statuses;
pub mod timelines;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;

/// Connects lazily-checked: the pool is created and one connection is tried.
pub async fn connect(url: &secrecy::SecretString, max_connections: u32) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url.expose_secret())
        .map_err(|e| anyhow::anyhow!("invalid database URL: {e}"))?;
    // One direct connection first: its error says why (refused, wrong password, no such
    // database), where the pool would only say that it timed out.
    let first = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        sqlx::ConnectOptions::connect(&options),
    )
    .await
    .map_err(|_| anyhow::anyhow!("cannot connect to the database: no answer within 10 s"))?
    .map_err(|e: sqlx::Error| anyhow::anyhow!("cannot connect to the database: {e}"))?;
    sqlx::Connection::close(first).await.ok();
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
    Ok(pool)
}

/// Applies the migrations in `migrations/`.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}

/// Whether the database answers a trivial query.
pub async fn ping(pool: &PgPool) -> bool {
    sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(pool)
        .await
        .is_ok()
}
