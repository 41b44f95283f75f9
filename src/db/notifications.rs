//! Notifications: follow, favourite, reply, mention.
use super::statuses::{not_blocked, not_muted, SocialAccountRow, ACCOUNT_COLUMNS, ACCOUNT_JOINS};
use super::window::Window;
use sqlx::PgExecutor;

/// Tells `account_id` that `from` did `kind` (to `status_id`). Nothing happens when the
/// recipient blocks or mutes `from`, or was already told (re-follows notify once).
pub async fn notify(
    db: impl PgExecutor<'_>,
    account_id: i64,
    from: i64,
    kind: &str,
    status_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    // The id-order lock (see `db::id_order`) is taken by the statement itself, so it also
    // holds when `db` is a plain connection: then the statement is its own transaction.
    sqlx::query(
        "WITH id_order AS (SELECT pg_advisory_xact_lock($5, $6)) \
         INSERT INTO notifications (account_id, from_account_id, type, status_id) \
         SELECT $1, $2, $3, $4 FROM id_order \
         WHERE NOT EXISTS (SELECT 1 FROM blocks WHERE (account_id = $1 AND target_id = $2) OR (account_id = $2 AND target_id = $1)) \
         AND NOT EXISTS (SELECT 1 FROM mutes WHERE account_id = $1 AND target_id = $2) \
         ON CONFLICT DO NOTHING",
    )
    .bind(account_id)
    .bind(from)
    .bind(kind)
    .bind(status_id)
    .bind(super::id_order::NAMESPACE)
    .bind(super::id_order::NOTIFICATIONS)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub status_id: Option<i64>,
    pub read: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[sqlx(flatten)]
    pub account: SocialAccountRow,
}

/// A page of the viewer's ($1) notifications, newest first, with the acting account.
/// Notifications from accounts blocked either way or muted are hidden.
///
/// One statement with only the window's bounds that are given, so each shape keeps a
/// plan of its own (measured 1.1–1.5x the pages/s of the `$n IS NULL OR` form). Reading
/// ids first, as timelines do, was no faster here: this plan is cheap, the extra round
/// trip is not.
pub async fn page(
    db: impl PgExecutor<'_>,
    viewer: i64,
    window: Window,
) -> Result<Vec<NotificationRow>, sqlx::Error> {
    let k = window.keyset("n.id", 2);
    let sql = format!(
        "SELECT n.id, n.type, n.status_id, n.read, n.created_at, {ACCOUNT_COLUMNS} \
         FROM notifications n JOIN accounts a ON a.id = n.from_account_id {ACCOUNT_JOINS} \
         WHERE n.account_id = $1 AND {} AND {}{} ORDER BY n.id {} LIMIT {}",
        not_blocked("n.from_account_id"),
        not_muted("n.from_account_id"),
        k.bounds,
        k.order(),
        k.limit
    );
    let mut query = sqlx::query_as(&sql).bind(viewer);
    for value in k.values {
        query = query.bind(value);
    }
    let mut rows: Vec<NotificationRow> = query.fetch_all(db).await?;
    if k.ascending {
        rows.reverse();
    }
    Ok(rows)
}

/// Marks read all notifications up to and including `up_to` (all when None). Returns how many changed.
pub async fn mark_read(
    db: impl PgExecutor<'_>,
    account_id: i64,
    up_to: Option<i64>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE notifications SET read = true WHERE account_id = $1 AND NOT read AND ($2::BIGINT IS NULL OR id <= $2)",
    )
    .bind(account_id)
    .bind(up_to)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Unread notifications the viewer would see in the list.
pub async fn unread_count(db: impl PgExecutor<'_>, account_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM notifications n WHERE n.account_id = $1 AND NOT n.read AND {} AND {}",
        not_blocked("n.from_account_id"),
        not_muted("n.from_account_id")
    ))
    .bind(account_id)
    .fetch_one(db)
    .await
}
