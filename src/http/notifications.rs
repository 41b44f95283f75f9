//! Notifications: a page of them (newest first, with the acting account and the
//! status), the unread count, and mark-as-read.
use super::follows::AccountView;
use super::statuses::StatusView;
use super::timelines::{page_response, PageQuery};
use super::AuthUser;
use crate::db;
use crate::error::{ApiError, ErrorBody};
use crate::http::http_get;
use crate::startup::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/notifications").route(http_get().to(list)))
        .service(web::resource("/notifications/unread_count").route(http_get().to(unread_count)))
        .service(web::resource("/notifications/read").route(web::post().to(mark_read)));
}

#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: String,
    /// `follow`, `favourite`, `reply` or `mention`.
    #[serde(rename = "type")]
    pub kind: String,
    pub read: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Who did it.
    pub account: AccountView,
    /// The status concerned (favourite, reply, mention).
    pub status: Option<StatusView>,
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = [Notification]), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody)))]
/// Your notifications, newest first. Two queries per page whatever its size.
pub async fn list(
    req: HttpRequest,
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let window = query.window()?;
    let rows = db::notifications::page(&state.db, me, window).await?;
    let status_ids: Vec<i64> = rows.iter().filter_map(|n| n.status_id).collect();
    let statuses: std::collections::HashMap<i64, StatusView> =
        db::statuses::by_ids(&state.db, Some(me), &status_ids)
            .await?
            .into_iter()
            .map(|r| (r.id, StatusView::from_row(r, Some(me), &state.media_urls)))
            .collect();
    let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
    let items: Vec<Notification> = rows
        .into_iter()
        .map(|n| Notification {
            id: n.id.to_string(),
            kind: n.kind,
            read: n.read,
            created_at: n.created_at,
            // A status may appear in two notifications (a reply that also mentions).
            status: n.status_id.and_then(|id| statuses.get(&id).cloned()),
            account: AccountView::from_row(n.account, Some(me)),
        })
        .collect();
    Ok(page_response(&req, &ids, &window, &items))
}

#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct UnreadCount {
    pub count: i64,
}

#[utoipa::path(get, path = "/api/v1/notifications/unread_count", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody)))]
pub async fn unread_count(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let count = db::notifications::unread_count(&state.db, user.account_id).await?;
    Ok(HttpResponse::Ok().json(UnreadCount { count }))
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// Mark read up to and including this notification id (string or number); all when absent.
    #[schema(value_type = Option<String>)]
    pub up_to_id: Option<super::statuses::IdParam>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct MarkedRead {
    pub marked: u64,
    pub unread: i64,
}

#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications", security(("bearer" = [])), request_body(content = MarkRead, description = "May be left out (an empty body marks all read); `null` is refused"),
    responses((status = 200, body = MarkedRead), (status = 400, description = "invalid_json", body = ErrorBody), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 422, description = "invalid_field", body = ErrorBody)))]
/// Mark notifications read. The body is optional; a body that is there must be valid,
/// so a mistyped request never marks everything read.
pub async fn mark_read(
    user: AuthUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request: Option<MarkRead> = if body.trim_ascii().is_empty() {
        None
    } else {
        // An object, not `null`: a body that says nothing must not mean "all".
        Some(serde_json::from_slice::<MarkRead>(&body).map_err(|e| ApiError::from_json(&e))?)
    };
    let up_to = match request.as_ref().and_then(|r| r.up_to_id.as_ref()) {
        None => None,
        Some(id) => Some(id.parse("up_to_id")?),
    };
    let marked = db::notifications::mark_read(&state.db, user.account_id, up_to).await?;
    let unread = db::notifications::unread_count(&state.db, user.account_id).await?;
    Ok(HttpResponse::Ok().json(MarkedRead { marked, unread }))
}
