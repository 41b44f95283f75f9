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
pub mod window;

pub use window::Window;

/// Clients poll for what is new with `since_id` / `min_id`, so a row must never commit with a
/// smaller id than one a client has already been shown. Statuses and notifications therefore
/// take their id under a transaction-scoped advisory lock, one key per table: ids are handed
/// out and committed in the same order. (Ids read the clock, `snowflake_id()`, so a
/// transaction that waits for the lock gets a later id.)
pub mod id_order {
    /// `pg_advisory_xact_lock(NAMESPACE, key)`: "RKST" and the table.
    pub const NAMESPACE: i32 = 0x524b_5354;
    pub const STATUSES: i32 = 1;
    pub const NOTIFICATIONS: i32 = 2;

    /// Holds the table's id-order lock until the transaction ends.
    pub async fn lock(db: impl sqlx::PgExecutor<'_>, key: i32) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(NAMESPACE)
            .bind(key)
            .execute(db)
            .await?;
        Ok(())
    }
}

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;

/// Connects lazily-checked: the pool is created and one connection is tried.
pub async fn connect(url: &secrecy::SecretString, max_connections: u32) -> anyhow::Result<PgPool> {
    // Each shape of a paged query is a statement of its own (see `window`). The app has
    // more than sqlx's default of 100 per connection, and evicted ones are planned again,
    // which is what the shapes are there to avoid.
    let options = PgConnectOptions::from_str(url.expose_secret())
        .map_err(|e| anyhow::anyhow!("invalid database URL: {e}"))?
        .statement_cache_capacity(256);
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
