//! Timelines with keyset pagination: home, public, an account's statuses, and the
//! members of a rock. A page costs the same few SQL statements whatever its size: its
//! ids, then the statuses with authors, rocks, counters, mentions, media and the viewer's
//! flags joined in (plus the token check).
//!
//! Paging follows Mastodon: `max_id` (older than), `since_id` (newer than, newest
//! first), `min_id` (the page right after, oldest first but returned newest first),
//! `limit` (1–40, default 20), and a `Link` header with `rel="next"` (older) and
//! `rel="prev"` (newer, by `min_id`, so no gap however many posts arrive meanwhile).
use super::follows::AccountView;
use super::statuses::StatusView;
use super::{AuthUser, MaybeAuthUser};
use crate::db;
use crate::db::timelines::Feed;
use crate::db::Window;
use crate::domain::Username;
use crate::error::{ApiError, ErrorBody};
use crate::http::http_get;
use crate::startup::AppState;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 40;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/timelines/home").route(http_get().to(home)))
        .service(web::resource("/timelines/public").route(http_get().to(public)))
        .service(
            web::resource("/accounts/{username}/statuses").route(http_get().to(account_statuses)),
        )
        .service(web::resource("/rocks/{id}/members").route(http_get().to(rock_members)));
}

/// Raw paging parameters; parsed by [`PageQuery::window`] for clear errors.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Older than this id.
    pub max_id: Option<String>,
    /// Newer than this id (newest first).
    pub since_id: Option<String>,
    /// The page right after this id (oldest first).
    pub min_id: Option<String>,
    /// 1-40, default 20.
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

impl PageQuery {
    pub fn window(&self) -> Result<Window, ApiError> {
        let limit = super::query_limit(&self.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        Ok(Window {
            max_id: super::query_id("max_id", &self.max_id)?,
            since_id: super::query_id("since_id", &self.since_id)?,
            min_id: super::query_id("min_id", &self.min_id)?,
            limit,
        })
    }
}

/// A `Link` header for a page whose items have these ids (newest first): `next` pages
/// to older items, `prev` to newer ones. None for an empty page. `next` is left out only
/// of a short page reached from the newest end (nothing older can follow it); a page
/// asked for by `min_id` or `since_id` has older items behind it however short it is.
/// The links are relative (RFC 8288), so a forged `Host` header cannot point them elsewhere.
pub fn link_header(req: &HttpRequest, ids: &[i64], window: &Window) -> Option<String> {
    let (first, last) = (ids.first()?, ids.last()?);
    let (base, limit) = (req.path(), window.limit);
    let mut links = Vec::new();
    if ids.len() as i64 >= limit || window.min_id.is_some() || window.since_id.is_some() {
        links.push(format!(
            "<{base}?max_id={last}&limit={limit}>; rel=\"next\""
        ));
    }
    links.push(format!(
        "<{base}?min_id={first}&limit={limit}>; rel=\"prev\""
    ));
    Some(links.join(", "))
}

/// A JSON page with its Link header.
pub fn page_response<T: serde::Serialize>(
    req: &HttpRequest,
    ids: &[i64],
    window: &Window,
    items: &T,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if let Some(link) = link_header(req, ids, window) {
        response.insert_header((header::LINK, link));
    }
    response.json(items)
}

async fn statuses_page(
    req: &HttpRequest,
    state: &AppState,
    viewer: Option<i64>,
    feed: Feed,
    query: &PageQuery,
) -> Result<HttpResponse, ApiError> {
    let window = query.window()?;
    let rows = db::timelines::page(&state.db, viewer, feed, window).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let views: Vec<StatusView> = rows
        .into_iter()
        .map(|r| StatusView::from_row(r, viewer, &state.media_urls))
        .collect();
    Ok(page_response(req, &ids, &window, &views))
}

#[utoipa::path(get, path = "/api/v1/timelines/home", tag = "timelines", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, description = "Statuses, newest first; Link header with next/prev", body = [StatusView]), (status = 400, body = ErrorBody), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody)))]
/// Your statuses and those of the accounts you follow, newest first; muted and blocked
/// accounts are left out.
pub async fn home(
    req: HttpRequest,
    user: AuthUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    statuses_page(&req, &state, Some(user.account_id), Feed::Home, &query).await
}

#[utoipa::path(get, path = "/api/v1/timelines/public", tag = "timelines", params(PageQuery),
    responses((status = 200, description = "Statuses, newest first; Link header with next/prev", body = [StatusView]), (status = 400, body = ErrorBody)))]
/// Everyone's statuses, newest first.
pub async fn public(
    req: HttpRequest,
    user: MaybeAuthUser,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    statuses_page(
        &req,
        &state,
        user.0.map(|u| u.account_id),
        Feed::Public,
        &query,
    )
    .await
}

/// The account named in the path, as the viewer sees it; 404 when it does not exist or
/// blocks the viewer.
pub async fn visible_account(
    state: &AppState,
    viewer: Option<i64>,
    username: &str,
) -> Result<db::statuses::SocialAccountRow, ApiError> {
    let not_found = || ApiError::not_found("No account has that username.");
    let username = Username::parse(username).map_err(|_| not_found())?;
    let row = db::follows::account_by_username(&state.db, viewer, username.as_str())
        .await?
        .ok_or_else(not_found)?;
    if row.a_blocked_by {
        return Err(not_found());
    }
    Ok(row)
}

#[utoipa::path(get, path = "/api/v1/accounts/{username}/statuses", tag = "timelines", params(PageQuery, ("username" = String, Path)),
    responses((status = 200, body = [StatusView]), (status = 404, body = ErrorBody)))]
/// One account's statuses, newest first.
pub async fn account_statuses(
    req: HttpRequest,
    user: MaybeAuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.0.map(|u| u.account_id);
    query.window()?;
    let account = visible_account(&state, viewer, &path).await?;
    statuses_page(&req, &state, viewer, Feed::Account(account.a_id), &query).await
}

#[utoipa::path(get, path = "/api/v1/rocks/{id}/members", tag = "rocks", params(PageQuery, ("id" = String, Path)),
    responses((status = 200, description = "Accounts sharing this rock, paged by account id", body = [AccountView]), (status = 404, body = ErrorBody)))]
/// Everyone who shares this rock, newest member first.
pub async fn rock_members(
    req: HttpRequest,
    user: MaybeAuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.0.map(|u| u.account_id);
    let window = query.window()?;
    let rock_id = super::rocks::parse_rock_id(&path)?;
    let rows = db::follows::rock_members(&state.db, viewer, rock_id, window).await?;
    if rows.is_empty() && db::rocks::get(&state.db, rock_id).await?.is_none() {
        return Err(ApiError::rock_not_found());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.a_id).collect();
    let views: Vec<AccountView> = rows
        .into_iter()
        .map(|r| AccountView::from_row(r, viewer))
        .collect();
    Ok(page_response(&req, &ids, &window, &views))
}
