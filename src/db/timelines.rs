//! Timeline pages, keyset-paginated by the time-ordered status id.
use super::statuses::{not_blocked, not_muted, StatusRow};
use super::window::Window;

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
///
/// Two statements: the page's ids, then the statuses by id. Planning the full status
/// query (flags, mentions, media, author, rock) cost ~1.5 ms a page, more than running
/// it, and with the window in it PostgreSQL re-planned it every time; hydrating by id is
/// one shape whatever the window, so its plan is cached. The id query has only the
/// window's bounds that are given, so each shape plans simply.
pub async fn page(
    db: &sqlx::PgPool,
    viewer: Option<i64>,
    feed: Feed,
    window: Window,
) -> Result<Vec<StatusRow>, sqlx::Error> {
    let ids = page_ids(db, viewer, feed, window).await?;
    super::statuses::by_ids(db, viewer, &ids).await
}

/// The ids of one page, in any order.
async fn page_ids(
    db: &sqlx::PgPool,
    viewer: Option<i64>,
    feed: Feed,
    window: Window,
) -> Result<Vec<i64>, sqlx::Error> {
    if matches!(feed, Feed::Home) && viewer.is_none() {
        return Ok(Vec::new());
    }
    // The viewer is `$1` (`not_muted` and `not_blocked` name it so), then the account, then
    // the window; an anonymous page has no viewer filters at all.
    let account = match feed {
        Feed::Account(account) => Some(account),
        _ => None,
    };
    let fixed = usize::from(viewer.is_some()) + usize::from(account.is_some());
    let hidden = |col: &str, muted_too: bool| match viewer {
        Some(_) if muted_too => format!(" AND {} AND {}", not_muted(col), not_blocked(col)),
        Some(_) => format!(" AND {}", not_blocked(col)),
        None => String::new(),
    };
    let k = window.keyset("s.id", fixed + 1);
    let (bounds, order, limit) = (&k.bounds, k.order(), &k.limit);
    let sql = match feed {
        // Each author's newest statuses by the (account_id, id) index, then merged: the
        // cost is bounded by the number of follows, however quiet they are. (Filtering
        // a scan of every status by author made a home page of quiet follows cost ~10x
        // more at 2 M statuses.)
        Feed::Home => format!(
            "SELECT c.id FROM \
             (SELECT $1::BIGINT AS id UNION SELECT followee_id FROM follows WHERE follower_id = $1) au \
             CROSS JOIN LATERAL (SELECT s.id FROM statuses s WHERE s.account_id = au.id{bounds} \
             ORDER BY s.id {order} LIMIT {limit}) c WHERE TRUE{} ORDER BY c.id {order} LIMIT {limit}",
            hidden("au.id", true)
        ),
        Feed::Public => format!(
            "SELECT s.id FROM statuses s WHERE TRUE{}{bounds} ORDER BY s.id {order} LIMIT {limit}",
            hidden("s.account_id", true)
        ),
        Feed::Account(_) => format!(
            "SELECT s.id FROM statuses s WHERE s.account_id = ${fixed}{}{bounds} \
             ORDER BY s.id {order} LIMIT {limit}",
            hidden("s.account_id", false)
        ),
    };
    let mut query = sqlx::query_scalar(&sql);
    if let Some(viewer) = viewer {
        query = query.bind(viewer);
    }
    if let Some(account) = account {
        query = query.bind(account);
    }
    for value in k.values {
        query = query.bind(value);
    }
    query.fetch_all(db).await
}
