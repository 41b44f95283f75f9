//! Reports of accounts (and optionally one of their statuses) to the moderators.
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub id: i64,
    /// None once the reported account is deleted.
    pub target_account_id: Option<i64>,
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
) -> Result<Option<ReportRow>, sqlx::Error> {
    // The username and status text are kept with the report: it outlives them. None when
    // the account was deleted meanwhile.
    sqlx::query_as(
        "INSERT INTO reports (account_id, target_account_id, target_username, status_id, status_text, comment) \
         SELECT $1, a.id, a.username, $3, (SELECT text FROM statuses WHERE id = $3), $4 \
         FROM accounts a WHERE a.id = $2 \
         RETURNING id, target_account_id, status_id, comment, created_at",
    )
    .bind(account_id)
    .bind(target)
    .bind(status_id)
    .bind(comment)
    .fetch_optional(db)
    .await
}
