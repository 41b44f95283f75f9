//! Statuses: create (with idempotency key, mentions, media, notifications), read one,
//! thread context, delete. Also the row shapes every social query returns: a status
//! joined with its author, the author's rock and counters, and the viewer's flags.
//!
//! Convention: `$1` is always the viewer's account id (NULL when signed out).
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};

/// An account as a viewer sees it: profile, rock, counters and relationship flags.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SocialAccountRow {
    pub a_id: i64,
    pub a_username: String,
    pub a_display_name: String,
    pub a_note: String,
    pub a_created_at: chrono::DateTime<chrono::Utc>,
    pub a_rock_id: i64,
    pub a_rock_name: String,
    pub a_rock_photo_key: String,
    pub a_rock_face_key: String,
    pub a_rock_similarity: f32,
    pub a_rock_likeness: Option<f32>,
    pub a_statuses_count: i32,
    pub a_followers_count: i32,
    pub a_following_count: i32,
    pub a_following: bool,
    pub a_followed_by: bool,
    pub a_blocking: bool,
    pub a_blocked_by: bool,
    pub a_muting: bool,
}

impl SocialAccountRow {
    /// The accounts module's row, for its JSON serializer.
    pub fn account_row(&self) -> super::accounts::AccountRow {
        super::accounts::AccountRow {
            id: self.a_id,
            username: self.a_username.clone(),
            display_name: self.a_display_name.clone(),
            note: self.a_note.clone(),
            created_at: self.a_created_at,
            rock_id: self.a_rock_id,
            rock_name: self.a_rock_name.clone(),
            rock_photo_key: self.a_rock_photo_key.clone(),
            rock_face_key: self.a_rock_face_key.clone(),
            rock_similarity: self.a_rock_similarity,
            rock_likeness: self.a_rock_likeness,
        }
    }
}

/// Columns of [`SocialAccountRow`] for an account aliased `a`, its rock `r` and its
/// counters `st` (see [`ACCOUNT_JOINS`]).
pub(super) const ACCOUNT_COLUMNS: &str = "a.id AS a_id, a.username AS a_username, a.display_name AS a_display_name, \
     a.note AS a_note, a.created_at AS a_created_at, a.rock_id AS a_rock_id, r.name AS a_rock_name, \
     r.photo_key AS a_rock_photo_key, r.face_key AS a_rock_face_key, \
     a.rock_similarity AS a_rock_similarity, a.rock_likeness AS a_rock_likeness, \
     COALESCE(st.statuses_count, 0) AS a_statuses_count, COALESCE(st.followers_count, 0) AS a_followers_count, \
     COALESCE(st.following_count, 0) AS a_following_count, \
     EXISTS (SELECT 1 FROM follows x WHERE x.follower_id = $1 AND x.followee_id = a.id) AS a_following, \
     EXISTS (SELECT 1 FROM follows x WHERE x.follower_id = a.id AND x.followee_id = $1) AS a_followed_by, \
     EXISTS (SELECT 1 FROM blocks x WHERE x.account_id = $1 AND x.target_id = a.id) AS a_blocking, \
     EXISTS (SELECT 1 FROM blocks x WHERE x.account_id = a.id AND x.target_id = $1) AS a_blocked_by, \
     EXISTS (SELECT 1 FROM mutes x WHERE x.account_id = $1 AND x.target_id = a.id) AS a_muting";

pub(super) const ACCOUNT_JOINS: &str =
    "JOIN rocks r ON r.id = a.rock_id LEFT JOIN account_stats st ON st.account_id = a.id";

/// Neither the viewer ($1) nor the account `{col}` blocks the other.
pub(super) fn not_blocked(col: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = $1 AND b.target_id = {col}) \
         OR (b.account_id = {col} AND b.target_id = $1))"
    )
}

/// The viewer ($1) has not muted the account `{col}`.
pub(super) fn not_muted(col: &str) -> String {
    format!("NOT EXISTS (SELECT 1 FROM mutes mu WHERE mu.account_id = $1 AND mu.target_id = {col})")
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct MentionRow {
    pub id: i64,
    pub username: String,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct MediaRow {
    pub id: i64,
    pub key: String,
    pub preview_key: String,
    pub width: i32,
    pub height: i32,
}

/// A status with everything its JSON needs, from one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatusRow {
    pub id: i64,
    pub text: String,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_account_id: Option<i64>,
    pub replies_count: i32,
    pub favourites_count: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub favourited: bool,
    pub mentions: Json<Vec<MentionRow>>,
    pub media: Json<Vec<MediaRow>>,
    #[sqlx(flatten)]
    pub account: SocialAccountRow,
}

/// `SELECT ... FROM statuses s JOIN accounts a ...`; add WHERE / ORDER BY.
pub fn select_statuses() -> String {
    format!(
        "SELECT s.id, s.text, s.in_reply_to_id, s.in_reply_to_account_id, s.replies_count, \
         s.favourites_count, s.created_at, \
         EXISTS (SELECT 1 FROM favourites f WHERE f.status_id = s.id AND f.account_id = $1) AS favourited, \
         COALESCE((SELECT json_agg(json_build_object('id', ma.id, 'username', ma.username) ORDER BY ma.username) \
                   FROM status_mentions sm JOIN accounts ma ON ma.id = sm.account_id WHERE sm.status_id = s.id), \
                  '[]'::json) AS mentions, \
         COALESCE((SELECT json_agg(json_build_object('id', md.id, 'key', md.key, 'preview_key', md.preview_key, \
                   'width', md.width, 'height', md.height) ORDER BY md.id) \
                   FROM media_attachments md WHERE md.status_id = s.id), '[]'::json) AS media, \
         {ACCOUNT_COLUMNS} \
         FROM statuses s JOIN accounts a ON a.id = s.account_id {ACCOUNT_JOINS}"
    )
}

/// One status the viewer may see (None when absent or blocked either way).
pub async fn get(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    id: i64,
) -> Result<Option<StatusRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{} WHERE s.id = $2 AND {}",
        select_statuses(),
        not_blocked("s.account_id")
    ))
    .bind(viewer)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Statuses by id, newest first, that the viewer may see.
pub async fn by_ids(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    ids: &[i64],
) -> Result<Vec<StatusRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(&format!(
        "{} WHERE s.id = ANY($2) AND {} ORDER BY s.id DESC",
        select_statuses(),
        not_blocked("s.account_id")
    ))
    .bind(viewer)
    .bind(ids)
    .fetch_all(db)
    .await
}

/// What a new status needs.
pub struct NewStatus<'a> {
    pub account_id: i64,
    pub text: &'a str,
    pub in_reply_to_id: Option<i64>,
    pub idempotency_key: Option<&'a str>,
    /// A digest of the request, kept with the key.
    pub request_hash: Option<&'a str>,
    pub media_ids: &'a [i64],
    /// Lowercased usernames from the text.
    pub mentions: &'a [String],
}

#[derive(Debug)]
pub enum CreateOutcome {
    Created(i64),
    /// The idempotency key was used before, for this request: the status it made.
    Existing(i64),
    /// The idempotency key was used before for a different request.
    KeyReused,
    /// A concurrent request with the key won, and its status is already gone.
    KeyRaced,
    /// The idempotency key was used before, for this request, and that status was deleted.
    Deleted,
    ReplyTargetNotFound,
    /// Some media ids are not the author's unattached uploads.
    MediaNotFound,
}

/// Creates a status with its mentions, media and notifications in one transaction. An
/// Idempotency-Key used before is settled by its insert (callers answer plain retries
/// before calling, with `idempotent_request`).
pub async fn create(
    conn: &mut PgConnection,
    new: &NewStatus<'_>,
) -> Result<CreateOutcome, sqlx::Error> {
    let me = new.account_id;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;

    let parent_author: Option<i64> = match new.in_reply_to_id {
        Some(parent) => {
            // KEY SHARE: the parent cannot be deleted before this reply commits.
            let found: Option<i64> = sqlx::query_scalar(&format!(
                "SELECT s.account_id FROM statuses s WHERE s.id = $2 AND {} FOR KEY SHARE OF s",
                not_blocked("s.account_id")
            ))
            .bind(me)
            .bind(parent)
            .fetch_optional(&mut *tx)
            .await?;
            match found {
                Some(author) => Some(author),
                None => return Ok(CreateOutcome::ReplyTargetNotFound),
            }
        }
        None => None,
    };

    // The id-order lock (`db::id_order`) in the insert itself: no extra round trip.
    let id: i64 = sqlx::query_scalar(
        "WITH id_order AS (SELECT pg_advisory_xact_lock($5, $6)) \
         INSERT INTO statuses (account_id, text, in_reply_to_id, in_reply_to_account_id) \
         SELECT $1, $2, $3, $4 FROM id_order RETURNING id",
    )
    .bind(me)
    .bind(new.text)
    .bind(new.in_reply_to_id)
    .bind(parent_author)
    .bind(super::id_order::NAMESPACE)
    .bind(super::id_order::STATUSES)
    .fetch_one(&mut *tx)
    .await?;

    if let Some(key) = new.idempotency_key {
        // A concurrent retry with the same key waits here for the first to commit.
        let stored: Option<i64> = sqlx::query_scalar(
            "INSERT INTO status_idempotency_keys (account_id, key, status_id, request_hash) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING RETURNING status_id",
        )
        .bind(me)
        .bind(key)
        .bind(id)
        .bind(new.request_hash)
        .fetch_optional(&mut *tx)
        .await?;
        if stored.is_none() {
            tx.rollback().await?;
            return Ok(earlier_use(&mut *conn, new, key)
                .await?
                .unwrap_or(CreateOutcome::KeyRaced));
        }
    }

    if !new.media_ids.is_empty() {
        let attached = sqlx::query(
            "UPDATE media_attachments SET status_id = $1 \
             WHERE id = ANY($2) AND account_id = $3 AND status_id IS NULL",
        )
        .bind(id)
        .bind(new.media_ids)
        .bind(me)
        .execute(&mut *tx)
        .await?;
        if attached.rows_affected() != new.media_ids.len() as u64 {
            tx.rollback().await?;
            return Ok(CreateOutcome::MediaNotFound);
        }
    }

    // Mentions of existing accounts that are not the author and not blocked either way.
    let mentioned: Vec<i64> = if new.mentions.is_empty() {
        Vec::new()
    } else {
        sqlx::query_scalar(&format!(
            "INSERT INTO status_mentions (status_id, account_id) \
             SELECT $2, a.id FROM accounts a WHERE lower(a.username) = ANY($3) AND a.id <> $1 AND {} \
             RETURNING account_id",
            not_blocked("a.id")
        ))
        .bind(me)
        .bind(id)
        .bind(new.mentions)
        .fetch_all(&mut *tx)
        .await?
    };

    // The parent's author is told of a reply; everyone else mentioned, of a mention.
    if let Some(parent_author) = parent_author.filter(|a| *a != me) {
        super::notifications::notify(&mut *tx, parent_author, me, "reply", Some(id)).await?;
    }
    for account in mentioned.into_iter().filter(|a| Some(*a) != parent_author) {
        super::notifications::notify(&mut *tx, account, me, "mention", Some(id)).await?;
    }
    tx.commit().await?;
    Ok(CreateOutcome::Created(id))
}

/// What an earlier use of the Idempotency-Key means for this request, if there was one.
async fn earlier_use(
    db: impl PgExecutor<'_>,
    new: &NewStatus<'_>,
    key: &str,
) -> Result<Option<CreateOutcome>, sqlx::Error> {
    Ok(idempotent_request(db, new.account_id, key)
        .await?
        .map(
            |(id, stored)| match (stored.as_deref(), new.request_hash, id) {
                (Some(stored), Some(this), _) if stored != this => CreateOutcome::KeyReused,
                (_, _, Some(id)) => CreateOutcome::Existing(id),
                (_, _, None) => CreateOutcome::Deleted,
            },
        ))
}

/// The status an Idempotency-Key already created (None once deleted), with the digest of
/// its request.
pub async fn idempotent_request(
    db: impl PgExecutor<'_>,
    account_id: i64,
    key: &str,
) -> Result<Option<(Option<i64>, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT status_id, request_hash FROM status_idempotency_keys WHERE account_id = $1 AND key = $2",
    )
    .bind(account_id)
    .bind(key)
    .fetch_optional(db)
    .await
}

/// Forgets Idempotency-Keys older than `age`: a retry comes within minutes, not days.
pub async fn purge_idempotency_keys(
    db: impl PgExecutor<'_>,
    age: std::time::Duration,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM status_idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
    )
    .bind(age.as_secs_f64())
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Author of a status (None when absent).
pub async fn author(db: impl PgExecutor<'_>, id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT account_id FROM statuses WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Deletes the author's status; returns the object keys of its media, queued for removal
/// from storage in the same transaction, or None when there was no such status of theirs.
pub async fn delete(
    conn: &mut PgConnection,
    account_id: i64,
    id: i64,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let keys = super::media::queue_owned_objects(&mut *tx, super::media::Owner::Status(id)).await?;
    let done = sqlx::query("DELETE FROM statuses WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some(keys))
}

/// Thread context: (ancestor ids oldest first, descendant ids in thread order), at most
/// `limit` each, walking the `in_reply_to_id` index. Descendants are taken nearest first
/// (PostgreSQL stops the recursion once `limit` rows are pulled), so a thread with a
/// huge number of replies costs no more than `limit` rows.
pub async fn context_ids(
    db: impl PgExecutor<'_>,
    id: i64,
    limit: i64,
) -> Result<(Vec<i64>, Vec<i64>), sqlx::Error> {
    let mut rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "WITH RECURSIVE up (id, parent, depth) AS ( \
             SELECT s.id, s.in_reply_to_id, 0 FROM statuses s WHERE s.id = $1 \
             UNION ALL \
             SELECT p.id, p.in_reply_to_id, up.depth + 1 FROM statuses p JOIN up ON p.id = up.parent \
             WHERE up.depth < $2 \
         ), down (id, path) AS ( \
             SELECT c.id, ARRAY[c.id] FROM statuses c WHERE c.in_reply_to_id = $1 \
             UNION ALL \
             SELECT c.id, down.path || c.id FROM statuses c JOIN down ON c.in_reply_to_id = down.id \
             WHERE cardinality(down.path) < $2 \
         ) \
         SELECT 'a', id, -depth::BIGINT FROM up WHERE depth > 0 \
         UNION ALL \
         SELECT 'd', id, row_number() OVER (ORDER BY path) FROM (SELECT * FROM down LIMIT $2) d",
    )
    .bind(id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.sort_by_key(|(kind, _, order)| (kind.clone(), *order));
    let mut ancestors = Vec::new();
    let mut descendants = Vec::new();
    for (kind, id, _) in rows {
        if kind == "a" {
            ancestors.push(id);
        } else if (descendants.len() as i64) < limit {
            descendants.push(id);
        }
    }
    Ok((ancestors, descendants))
}

/// Holds the status against deletion until the transaction ends (rows that refer to it
/// can then be written safely). False when it does not exist.
pub async fn hold(conn: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM statuses WHERE id = $1 FOR KEY SHARE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}
