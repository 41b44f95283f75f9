//! Statuses: post (idempotent with `Idempotency-Key`), read, delete, thread context,
//! favourite / unfavourite. A status's JSON embeds its author as an account with the
//! rock, and lists mentions as structured objects (the text stays plain text).
use super::follows::AccountView;
use super::media::MediaUrls;
use super::{AuthUser, MaybeAuthUser};
use crate::db;
use crate::db::statuses::{CreateOutcome, NewStatus, StatusRow};
use crate::domain::StatusText;
use crate::error::{ApiError, ErrorBody};
use crate::http::http_get;
use crate::startup::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

/// Images per status.
pub const MAX_MEDIA: usize = 4;
/// Statuses shown on each side of a thread.
const CONTEXT_LIMIT: i64 = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/statuses").route(web::post().to(create)))
        .service(
            web::resource("/statuses/{id}")
                .route(http_get().to(show))
                .route(web::delete().to(delete)),
        )
        .service(web::resource("/statuses/{id}/context").route(http_get().to(context)))
        .service(web::resource("/statuses/{id}/favourite").route(web::post().to(favourite)))
        .service(web::resource("/statuses/{id}/unfavourite").route(web::post().to(unfavourite)));
}

/// A mentioned account.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Mention {
    pub id: String,
    pub username: String,
}

/// An image attached to a status (faces covered by rocks before it was stored).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct MediaAttachment {
    pub id: String,
    /// Always `image`.
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub preview_url: String,
    pub width: i32,
    pub height: i32,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct StatusView {
    /// Time-ordered id (a string, as in Mastodon); larger is newer.
    pub id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Plain text; `@username` mentions are listed in `mentions`.
    pub text: String,
    pub in_reply_to_id: Option<String>,
    pub in_reply_to_account_id: Option<String>,
    pub replies_count: i64,
    pub favourites_count: i64,
    /// Whether the viewer favourited it (absent when signed out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub favourited: Option<bool>,
    pub mentions: Vec<Mention>,
    pub media_attachments: Vec<MediaAttachment>,
    pub account: AccountView,
}

impl StatusView {
    pub fn from_row(row: StatusRow, viewer: Option<i64>, media: &MediaUrls) -> StatusView {
        StatusView {
            id: row.id.to_string(),
            created_at: row.created_at,
            text: row.text,
            in_reply_to_id: row.in_reply_to_id.map(|id| id.to_string()),
            in_reply_to_account_id: row.in_reply_to_account_id.map(|id| id.to_string()),
            replies_count: i64::from(row.replies_count),
            favourites_count: i64::from(row.favourites_count),
            favourited: viewer.map(|_| row.favourited),
            mentions: row
                .mentions
                .0
                .into_iter()
                .map(|m| Mention {
                    id: m.id.to_string(),
                    username: m.username,
                })
                .collect(),
            media_attachments: row
                .media
                .0
                .into_iter()
                .map(|m| MediaAttachment {
                    id: m.id.to_string(),
                    kind: "image".into(),
                    url: media.attachment_url(m.id, "image"),
                    preview_url: media.attachment_url(m.id, "preview"),
                    width: m.width,
                    height: m.height,
                })
                .collect(),
            account: AccountView::from_row(row.account, viewer),
        }
    }
}

/// An id given as a JSON string (Mastodon) or number.
#[derive(Debug, Clone)]
pub enum IdParam {
    Text(String),
    Number(i64),
}

/// By hand: what a client sends is a bare string or integer, not the enum's variants.
impl utoipa::PartialSchema for IdParam {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
            )
            .description(Some(
                "An id: a string (as Mastodon sends ids) or an integer.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for IdParam {}

/// By hand rather than `untagged`, so a wrong type gets a message a client can act on.
impl<'de> serde::Deserialize<'de> for IdParam {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = IdParam;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an id (a string or an integer)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<IdParam, E> {
                Ok(IdParam::Text(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<IdParam, E> {
                Ok(IdParam::Number(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<IdParam, E> {
                i64::try_from(v)
                    .map(IdParam::Number)
                    .map_err(|_| E::custom("the id is too large"))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl IdParam {
    /// The id as given, if it is an integer at all (a number, or a string of digits).
    pub(super) fn as_i64(&self) -> Option<i64> {
        match self {
            IdParam::Text(text) => text.trim().parse::<i64>().ok(),
            IdParam::Number(n) => Some(*n),
        }
    }

    pub(super) fn parse(&self, field: &str) -> Result<i64, ApiError> {
        self.as_i64().filter(|id| *id > 0).ok_or_else(|| {
            ApiError::unprocessable("invalid_field", format!("`{field}` must be an id."))
        })
    }
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStatusBody {
    /// 1–500 characters (also accepted as `status`, Mastodon's name).
    #[serde(alias = "status")]
    pub text: String,
    pub in_reply_to_id: Option<IdParam>,
    /// Up to 4 ids from `POST /api/v1/media`.
    #[serde(default)]
    pub media_ids: Vec<IdParam>,
}

/// What a post asks for, as a digest kept with its Idempotency-Key.
fn request_digest(text: &str, in_reply_to_id: Option<i64>, media_ids: &[i64]) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    hash.update(text.as_bytes());
    hash.update([0]);
    hash.update(in_reply_to_id.unwrap_or(0).to_le_bytes());
    for id in media_ids {
        hash.update(id.to_le_bytes());
    }
    hex::encode(&hash.finalize()[..16])
}

pub fn parse_status_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(status_not_found)
}

fn status_not_found() -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "status_not_found",
        "There is no such status.",
    )
}

/// The status as the viewer sees it, or 404.
pub async fn visible_status(
    state: &AppState,
    viewer: Option<i64>,
    id: i64,
) -> Result<StatusView, ApiError> {
    let row = db::statuses::get(&state.db, viewer, id)
        .await?
        .ok_or_else(status_not_found)?;
    Ok(StatusView::from_row(row, viewer, &state.media_urls))
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value.to_str().map(str::trim).unwrap_or("");
    if key.is_empty() || key.len() > 128 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "The Idempotency-Key header must be 1–128 visible ASCII characters.",
        ));
    }
    Ok(Some(key.to_owned()))
}

#[utoipa::path(post, path = "/api/v1/statuses", tag = "statuses", security(("bearer" = [])), request_body = NewStatusBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the first status")),
    responses((status = 200, body = StatusView), (status = 400, body = ErrorBody), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 410, description = "status_deleted: a retry of a post that was deleted since", body = ErrorBody), (status = 422, description = "status_too_long, status_empty, reply_target_not_found, media_not_found, too_many_media", body = ErrorBody), (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody)))]
/// Post a status. With an `Idempotency-Key` header, a retry returns the first status
/// instead of posting again.
pub async fn create(
    req: HttpRequest,
    user: AuthUser,
    state: web::Data<AppState>,
    body: super::JsonObject<NewStatusBody>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let key = idempotency_key(&req)?;
    let text = StatusText::parse(&body.text)?;
    let in_reply_to_id = body
        .in_reply_to_id
        .as_ref()
        .map(|id| id.parse("in_reply_to_id"))
        .transpose()?;
    if body.media_ids.len() > MAX_MEDIA {
        return Err(ApiError::unprocessable(
            "too_many_media",
            format!("A status has at most {MAX_MEDIA} images."),
        ));
    }
    let mut media_ids = body
        .media_ids
        .iter()
        .map(|id| id.parse("media_ids"))
        .collect::<Result<Vec<_>, _>>()?;
    media_ids.sort_unstable();
    media_ids.dedup();
    let mentions = text.mentions();
    let request_hash = request_digest(text.as_str(), in_reply_to_id, &media_ids);
    // A retry of a post that was made answers it again, and costs no rate budget; the same
    // key with another request is a client bug, said as such.
    let key_reused = || {
        ApiError::unprocessable(
            "idempotency_key_reused",
            "This Idempotency-Key was used for a different post; use a new key for a new post.",
        )
    };
    // Nor is a retry of a post that was made and then deleted posted again.
    let made_and_deleted = || {
        ApiError::new(
            actix_web::http::StatusCode::GONE,
            "status_deleted",
            "The post made with this Idempotency-Key was deleted, so it is not posted again; use a new key for a new post.",
        )
    };
    if let Some(key) = key.as_deref() {
        if let Some((id, stored)) = db::statuses::idempotent_request(&state.db, me, key).await? {
            if stored.is_some_and(|stored| stored != request_hash) {
                return Err(key_reused());
            }
            let Some(id) = id else {
                return Err(made_and_deleted());
            };
            return Ok(HttpResponse::Ok().json(visible_status(&state, Some(me), id).await?));
        }
    }
    // Only a well-formed post spends the rate budget.
    state.limits.check_post(me)?;

    let mut conn = state.db.acquire().await?;
    let outcome = db::statuses::create(
        &mut conn,
        &NewStatus {
            account_id: me,
            text: text.as_str(),
            in_reply_to_id,
            idempotency_key: key.as_deref(),
            request_hash: Some(&request_hash),
            media_ids: &media_ids,
            mentions: &mentions,
        },
    )
    .await?;
    drop(conn);
    let id = match outcome {
        CreateOutcome::Created(id) | CreateOutcome::Existing(id) => id,
        // A concurrent request with the same key got there first (checked above otherwise).
        CreateOutcome::KeyReused => return Err(key_reused()),
        CreateOutcome::Deleted => return Err(made_and_deleted()),
        CreateOutcome::KeyRaced => {
            return Err(ApiError::conflict(
                "idempotency_key_conflict",
                "Another request with this Idempotency-Key was handled at the same time; retry it.",
            ))
        }
        CreateOutcome::ReplyTargetNotFound => {
            return Err(ApiError::unprocessable(
                "reply_target_not_found",
                "The status you reply to does not exist.",
            ))
        }
        CreateOutcome::MediaNotFound => return Err(ApiError::unprocessable(
            "media_not_found",
            "A media id is not one of your uploads, or it is attached to another status already.",
        )),
    };
    Ok(HttpResponse::Ok().json(visible_status(&state, Some(me), id).await?))
}

#[utoipa::path(get, path = "/api/v1/statuses/{id}", tag = "statuses", params(("id" = String, Path)),
    responses((status = 200, body = StatusView), (status = 404, description = "status_not_found", body = ErrorBody)))]
pub async fn show(
    user: MaybeAuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = parse_status_id(&path)?;
    Ok(HttpResponse::Ok().json(visible_status(&state, user.0.map(|u| u.account_id), id).await?))
}

#[utoipa::path(delete, path = "/api/v1/statuses/{id}", tag = "statuses", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "The deleted status", body = StatusView), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Delete your own status. Answers the deleted status. Its images leave storage too.
pub async fn delete(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let id = parse_status_id(&path)?;
    let view = visible_status(&state, Some(me), id).await?;
    if view.account.account.id != me.to_string() {
        return Err(ApiError::forbidden(
            "You can only delete your own statuses.",
        ));
    }
    let mut conn = state.db.acquire().await?;
    let keys = db::statuses::delete(&mut conn, me, id)
        .await?
        .ok_or_else(status_not_found)?;
    drop(conn);
    crate::social::uploads::remove_files(&state.db, &state.storage, &keys).await;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Context {
    /// The statuses this one replies to, oldest first.
    pub ancestors: Vec<StatusView>,
    /// The replies, depth first in posting order.
    pub descendants: Vec<StatusView>,
}

#[utoipa::path(get, path = "/api/v1/statuses/{id}/context", tag = "statuses", params(("id" = String, Path)),
    responses((status = 200, body = Context), (status = 404, body = ErrorBody)))]
/// The thread around a status: ancestors and descendants the viewer may see.
pub async fn context(
    user: MaybeAuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.0.map(|u| u.account_id);
    let id = parse_status_id(&path)?;
    db::statuses::get(&state.db, viewer, id)
        .await?
        .ok_or_else(status_not_found)?;
    let (ancestor_ids, descendant_ids) =
        db::statuses::context_ids(&state.db, id, CONTEXT_LIMIT).await?;
    let all: Vec<i64> = ancestor_ids
        .iter()
        .chain(descendant_ids.iter())
        .copied()
        .collect();
    let mut rows: std::collections::HashMap<i64, StatusRow> =
        db::statuses::by_ids(&state.db, viewer, &all)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
    let mut pick = |ids: &[i64]| -> Vec<StatusView> {
        ids.iter()
            .filter_map(|id| rows.remove(id))
            .map(|r| StatusView::from_row(r, viewer, &state.media_urls))
            .collect()
    };
    let ancestors = pick(&ancestor_ids);
    let descendants = pick(&descendant_ids);
    Ok(HttpResponse::Ok().json(Context {
        ancestors,
        descendants,
    }))
}

#[utoipa::path(post, path = "/api/v1/statuses/{id}/favourite", tag = "statuses", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = StatusView), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Favourite a status (idempotent: 200 every time).
pub async fn favourite(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let id = parse_status_id(&path)?;
    let before = visible_status(&state, Some(me), id).await?;
    let author: i64 = before
        .account
        .account
        .id
        .parse()
        .map_err(ApiError::internal)?;
    // The favourite and its notification are written while the status is held, so a
    // deletion at the same moment cannot break them (it waits, then removes both).
    let mut tx = state.db.begin().await?;
    if !db::statuses::hold(&mut tx, id).await? {
        return Err(status_not_found());
    }
    if db::favourites::add(&mut *tx, me, id).await? && author != me {
        db::notifications::notify(&mut *tx, author, me, "favourite", Some(id)).await?;
    }
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(visible_status(&state, Some(me), id).await?))
}

#[utoipa::path(post, path = "/api/v1/statuses/{id}/unfavourite", tag = "statuses", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = StatusView), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Take a favourite back (idempotent: 200 every time).
pub async fn unfavourite(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let id = parse_status_id(&path)?;
    visible_status(&state, Some(me), id).await?;
    db::favourites::remove(&state.db, me, id).await?;
    Ok(HttpResponse::Ok().json(visible_status(&state, Some(me), id).await?))
}

/// The social layer's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create,
        show,
        delete,
        context,
        favourite,
        unfavourite,
        super::timelines::home,
        super::timelines::public,
        super::timelines::account_statuses,
        super::timelines::rock_members,
        super::follows::follow,
        super::follows::unfollow,
        super::follows::relationship,
        super::follows::followers,
        super::follows::following,
        super::notifications::list,
        super::notifications::unread_count,
        super::notifications::mark_read,
        super::safety::block,
        super::safety::unblock,
        super::safety::mute,
        super::safety::unmute,
        super::safety::report,
        super::rock_names::list,
        super::rock_names::suggest,
        super::media::upload,
        super::media::file,
    ),
    components(schemas(
        StatusView,
        Mention,
        MediaAttachment,
        NewStatusBody,
        IdParam,
        Context,
        super::follows::AccountView,
        super::follows::Relationship,
        super::notifications::Notification,
        super::notifications::UnreadCount,
        super::notifications::MarkRead,
        super::notifications::MarkedRead,
        super::safety::NewReport,
        super::safety::Report,
        super::rock_names::NewName,
        super::rock_names::RockName,
        super::rock_names::RockNames,
        super::media::UploadedMedia,
        super::media::UploadForm,
    ))
)]
pub struct SocialApiDoc;

#[cfg(test)]
mod tests {
    use super::IdParam;

    #[test]
    fn ids_are_strings_or_integers_and_anything_else_says_so() -> Result<(), serde_json::Error> {
        let text: IdParam = serde_json::from_str("\"42\"")?;
        assert!(matches!(text, IdParam::Text(t) if t == "42"));
        let number: IdParam = serde_json::from_str("42")?;
        assert!(matches!(number, IdParam::Number(42)));
        for bad in ["true", "[1]", "1.5", "18446744073709551615"] {
            let err = serde_json::from_str::<IdParam>(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} is not an id"))
                .to_string();
            assert!(
                err.contains("an id (a string or an integer)") || err.contains("too large"),
                "{bad}: {err}"
            );
            assert!(!err.contains("IdParam"), "no type names leak: {err}");
        }
        Ok(())
    }
}
