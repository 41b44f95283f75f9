//! Names members suggest for rocks. Suggesting a name is voting for it; a member has one
//! vote per rock (names compare case-insensitively), and voting again moves it.
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RockNameRow {
    pub name: String,
    pub votes: i64,
    pub voted: bool,
}

/// True when the vote is new or moved. Fails with a foreign-key violation when the rock is absent.
pub async fn vote(
    db: impl PgExecutor<'_>,
    rock_id: i64,
    account_id: i64,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO rock_name_votes (rock_id, name_key, name, account_id) VALUES ($1, lower($2), $2, $3) \
         ON CONFLICT (rock_id, account_id) DO UPDATE \
           SET name_key = EXCLUDED.name_key, name = EXCLUDED.name, created_at = now() \
           WHERE rock_name_votes.name_key <> EXCLUDED.name_key",
    )
    .bind(rock_id)
    .bind(name)
    .bind(account_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Names with their votes, most votes first (ties: the earliest suggestion first). The
/// shown spelling is the first suggester's.
pub async fn list(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    rock_id: i64,
) -> Result<Vec<RockNameRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT (array_agg(name ORDER BY created_at, account_id))[1] AS name, count(*) AS votes, \
                COALESCE(bool_or(account_id = $2), false) AS voted \
         FROM rock_name_votes WHERE rock_id = $1 GROUP BY name_key \
         ORDER BY count(*) DESC, min(created_at), name_key",
    )
    .bind(rock_id)
    .bind(viewer)
    .fetch_all(db)
    .await
}

/// The most-voted name of each rock (absent = no suggestions yet).
pub async fn top_names(
    db: &sqlx::PgPool,
    rock_ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, sqlx::Error> {
    if rock_ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (rock_id) rock_id, name FROM ( \
             SELECT rock_id, name_key, (array_agg(name ORDER BY created_at, account_id))[1] AS name, \
                    count(*) AS votes, min(created_at) AS first \
             FROM rock_name_votes WHERE rock_id = ANY($1) GROUP BY rock_id, name_key) t \
         ORDER BY rock_id, votes DESC, first, name_key",
    )
    .bind(rock_ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

/// (name, votes) of a rock, most votes first.
pub async fn vote_counts(
    db: &sqlx::PgPool,
    rock_id: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    Ok(list(db, None, rock_id)
        .await?
        .into_iter()
        .map(|r| (r.name, r.votes))
        .collect())
}
