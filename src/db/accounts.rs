//! The `accounts` table, joined with the account's rock.
use sqlx::{PgExecutor, PgPool};

/// Unique index on lower(username); violations mean the name is taken.
pub const USERNAME_UNIQUE: &str = "accounts_username_key";

/// An account as the API shows it, with its rock.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub note: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub rock_id: i64,
    pub rock_name: String,
    /// The rock's image keys: they version its image URLs.
    pub rock_photo_key: String,
    pub rock_face_key: String,
    pub rock_similarity: f32,
    pub rock_likeness: Option<f32>,
}

const SELECT: &str = "SELECT a.id, a.username, a.display_name, a.note, a.created_at, \
     a.rock_id, r.name AS rock_name, r.photo_key AS rock_photo_key, r.face_key AS rock_face_key, \
     a.rock_similarity, a.rock_likeness \
     FROM accounts a JOIN rocks r ON r.id = a.rock_id";

/// Inserts an account. The stored embedding is the rock's own, copied in SQL; returns
/// None when the rock does not exist.
pub async fn create(
    db: impl PgExecutor<'_>,
    username: &str,
    password_hash: &str,
    rock_id: i64,
    similarity: f32,
    likeness: Option<f32>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO accounts (username, password_hash, rock_id, rock_embedding, rock_similarity, rock_likeness) \
         SELECT $1, $2, r.id, r.embedding, $4, $5 FROM rocks r WHERE r.id = $3 \
         RETURNING id",
    )
    .bind(username)
    .bind(password_hash)
    .bind(rock_id)
    .bind(similarity)
    .bind(likeness)
    .fetch_optional(db)
    .await
}

pub async fn by_id(db: impl PgExecutor<'_>, id: i64) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn by_username(
    db: impl PgExecutor<'_>,
    username: &str,
) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} WHERE lower(a.username) = lower($1)"))
        .bind(username)
        .fetch_optional(db)
        .await
}

/// Whether an account has this username, or had it and was deleted (case-insensitive).
pub async fn username_exists(db: impl PgExecutor<'_>, username: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE lower(username) = lower($1)) \
         OR EXISTS (SELECT 1 FROM retired_usernames WHERE username_key = lower($1))",
    )
    .bind(username)
    .fetch_one(db)
    .await
}

/// (id, password hash) for a login.
pub async fn credentials(
    db: &PgPool,
    username: &str,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, password_hash FROM accounts WHERE lower(username) = lower($1)")
        .bind(username)
        .fetch_optional(db)
        .await
}

/// Sets the given profile fields (None = unchanged).
pub async fn update_profile(
    db: impl PgExecutor<'_>,
    id: i64,
    display_name: Option<&str>,
    note: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET display_name = COALESCE($2, display_name), note = COALESCE($3, note), \
         updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(display_name)
    .bind(note)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes the account (everything it owns cascades); returns the object keys of its
/// media, queued for removal from storage in the same transaction, or None when there was
/// no such account.
pub async fn delete(
    conn: &mut sqlx::PgConnection,
    id: i64,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    // Locked first: an upload that has not inserted its row yet now waits (its foreign key
    // needs the row) and then fails, and one that has is committed before the keys are read.
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    if found.is_none() {
        tx.rollback().await?;
        return Ok(None);
    }
    let keys =
        super::media::queue_owned_objects(&mut *tx, super::media::Owner::Account(id)).await?;
    // The name is retired with the account: never given to someone new.
    sqlx::query(
        "INSERT INTO retired_usernames (username_key) SELECT lower(username) FROM accounts \
         WHERE id = $1 ON CONFLICT DO NOTHING",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM accounts WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(keys))
}

pub async fn count(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(db)
        .await
}
