//! Reports of accounts (and optionally one of their statuses) to the moderators.
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub id: i64,
    pub target_account_id: i64,
    pub status_id: Option<i64>,
    pub comment: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

pub async fn create(
    db: impl PgExecutor<'_>,
    account_id: i64,
    target: i64,
    status_id: Option<i64>,
    comment: &str,
) -> Result<ReportRow, sqlx::Error> {
    sqlx::query_as(
        "INSERT INTO reports (account_id, target_account_id, status_id, comment) VALUES ($1, $2, $3, $4) \
         RETURNING id, target_account_id, status_id, comment, created_at",
    )
    .bind(account_id)
    .bind(target)
    .bind(status_id)
    .bind(comment)
    .fetch_one(db)
    .await
}
