//! Timeline pages: one query each, keyset-paginated by the time-ordered status id.
use super::statuses::{not_blocked, not_muted, select_statuses, StatusRow};
use sqlx::PgExecutor;

/// A keyset window over ids. `max_id` = older than; `since_id` = newer than (newest
/// first); `min_id` = newer than, oldest first (the page right after it, no gap).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
}

impl Window {
    /// (lower bound, ascending?) for the SQL.
    fn lower(&self) -> (Option<i64>, bool) {
        match (self.min_id, self.since_id) {
            (Some(min), Some(since)) => (Some(min.max(since)), true),
            (Some(min), None) => (Some(min), true),
            (None, since) => (since, false),
        }
    }
}

/// Which statuses a timeline holds.
#[derive(Debug, Clone, Copy)]
pub enum Feed {
    /// The viewer's own statuses and those of the accounts they follow, minus muted ones.
    Home,
    /// Everyone's statuses (minus the viewer's muted accounts).
    Public,
    /// One account's statuses.
    Account(i64),
}

/// One page, newest first. The viewer ($1) never sees statuses of accounts they block
/// or that block them.
pub async fn page(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    feed: Feed,
    window: Window,
) -> Result<Vec<StatusRow>, sqlx::Error> {
    let (lower, ascending) = window.lower();
    let (feed_sql, account) = match feed {
        Feed::Home => (
            format!(
                "(s.account_id = $1 OR s.account_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)) AND {}",
                not_muted("s.account_id")
            ),
            None,
        ),
        Feed::Public => (not_muted("s.account_id"), None),
        Feed::Account(id) => ("s.account_id = $5".to_owned(), Some(id)),
    };
    let sql = format!(
        "{} WHERE {feed_sql} AND {} \
         AND ($2::BIGINT IS NULL OR s.id < $2) AND ($3::BIGINT IS NULL OR s.id > $3) \
         ORDER BY s.id {} LIMIT $4",
        select_statuses(),
        not_blocked("s.account_id"),
        if ascending { "ASC" } else { "DESC" }
    );
    let mut query = sqlx::query_as(&sql)
        .bind(viewer)
        .bind(window.max_id)
        .bind(lower)
        .bind(window.limit);
    if let Some(account) = account {
        query = query.bind(account);
    }
    let mut rows: Vec<StatusRow> = query.fetch_all(db).await?;
    if ascending {
        rows.reverse();
    }
    Ok(rows)
}
