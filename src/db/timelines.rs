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
    let order = if ascending { "ASC" } else { "DESC" };
    let in_window = |col: &str| {
        format!("($2::BIGINT IS NULL OR {col} < $2) AND ($3::BIGINT IS NULL OR {col} > $3)")
    };
    let (prefix, feed_sql, account) = match feed {
        // Each author's newest statuses by the (account_id, id) index, then merged: the
        // cost is bounded by the number of follows, however quiet they are. (Filtering
        // a scan of every status by author made a home page of quiet follows cost ~10x
        // more at 2 M statuses.)
        Feed::Home => (
            format!(
                "WITH page AS MATERIALIZED (SELECT c.id FROM \
                 (SELECT $1::BIGINT AS id UNION SELECT followee_id FROM follows WHERE follower_id = $1) au \
                 CROSS JOIN LATERAL (SELECT s2.id FROM statuses s2 WHERE s2.account_id = au.id AND {} \
                 ORDER BY s2.id {order} LIMIT $4) c WHERE {} AND {} ORDER BY c.id {order} LIMIT $4) ",
                in_window("s2.id"),
                not_muted("au.id"),
                not_blocked("au.id")
            ),
            "s.id IN (SELECT id FROM page)".to_owned(),
            None,
        ),
        Feed::Public => (String::new(), not_muted("s.account_id"), None),
        Feed::Account(id) => (String::new(), "s.account_id = $5".to_owned(), Some(id)),
    };
    let sql = format!(
        "{prefix}{} WHERE {feed_sql} AND {} AND {} ORDER BY s.id {order} LIMIT $4",
        select_statuses(),
        not_blocked("s.account_id"),
        in_window("s.id"),
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
