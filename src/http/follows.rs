//! Follows: follow / unfollow, follower and following lists, and the account object as
//! a viewer sees it (the accounts module's account + counters + relationship flags).
use super::accounts::Account;
use super::timelines::{page_response, visible_account, PageQuery};
use super::{AuthUser, MaybeAuthUser};
use crate::db;
use crate::db::follows::Direction;
use crate::db::statuses::SocialAccountRow;
use crate::error::{ApiError, ErrorBody};
use crate::http::http_get;
use crate::startup::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/accounts/{username}/follow").route(web::post().to(follow)))
        .service(web::resource("/accounts/{username}/unfollow").route(web::post().to(unfollow)))
        .service(web::resource("/accounts/{username}/followers").route(http_get().to(followers)))
        .service(web::resource("/accounts/{username}/following").route(http_get().to(following)))
        .service(
            web::resource("/accounts/{username}/relationship").route(http_get().to(relationship)),
        );
}

/// The viewer's relationship with an account.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Relationship {
    /// The viewer follows them.
    pub following: bool,
    /// They follow the viewer.
    pub followed_by: bool,
    /// The viewer blocks them.
    pub blocking: bool,
    /// They block the viewer.
    pub blocked_by: bool,
    /// The viewer mutes them.
    pub muting: bool,
}

/// An account with its counters and, for a signed-in viewer, the relationship.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AccountView {
    #[serde(flatten)]
    pub account: Account,
    pub statuses_count: i64,
    pub followers_count: i64,
    pub following_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relationship: Option<Relationship>,
}

impl AccountView {
    pub fn from_row(row: SocialAccountRow, viewer: Option<i64>) -> AccountView {
        let relationship = viewer.map(|_| Relationship {
            following: row.a_following,
            followed_by: row.a_followed_by,
            blocking: row.a_blocking,
            blocked_by: row.a_blocked_by,
            muting: row.a_muting,
        });
        AccountView {
            account: Account::from(row.account_row()),
            statuses_count: i64::from(row.a_statuses_count),
            followers_count: i64::from(row.a_followers_count),
            following_count: i64::from(row.a_following_count),
            relationship,
        }
    }
}

/// The target of an action by `me`: exists, is not `me`, and neither blocks the other.
pub async fn action_target(
    state: &AppState,
    me: i64,
    username: &str,
    verb: &str,
) -> Result<SocialAccountRow, ApiError> {
    let target = visible_account(state, Some(me), username).await?;
    if target.a_id == me {
        return Err(ApiError::unprocessable(
            "self_action",
            format!("You cannot {verb} yourself."),
        ));
    }
    Ok(target)
}

async fn refreshed(state: &AppState, me: i64, id: i64) -> Result<HttpResponse, ApiError> {
    let row = db::follows::account_by_id(&state.db, Some(me), id)
        .await?
        .ok_or_else(|| ApiError::not_found("No account has that username."))?;
    Ok(HttpResponse::Ok().json(AccountView::from_row(row, Some(me))))
}

#[utoipa::path(post, path = "/api/v1/accounts/{username}/follow", tag = "follows", security(("bearer" = [])), params(("username" = String, Path)),
    responses((status = 200, body = AccountView), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, description = "self_action", body = ErrorBody)))]
/// Follow an account (idempotent). Answers the account with the new relationship.
pub async fn follow(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let target = action_target(&state, me, &path, "follow").await?;
    if target.a_blocking {
        return Err(ApiError::forbidden(
            "Unblock this account before following it.",
        ));
    }
    let mut conn = state.db.acquire().await?;
    match db::follows::follow(&mut conn, me, target.a_id).await? {
        db::follows::FollowOutcome::New => {
            db::notifications::notify(&mut *conn, target.a_id, me, "follow", None).await?;
        }
        db::follows::FollowOutcome::AlreadyFollowing => {}
        // A block landed since action_target looked: answer as if it had been there.
        db::follows::FollowOutcome::Blocked => {
            return Err(ApiError::not_found("No account has that username."));
        }
    }
    drop(conn);
    refreshed(&state, me, target.a_id).await
}

#[utoipa::path(post, path = "/api/v1/accounts/{username}/unfollow", tag = "follows", security(("bearer" = [])), params(("username" = String, Path)),
    responses((status = 200, body = AccountView), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Stop following an account (idempotent).
pub async fn unfollow(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let target = action_target(&state, me, &path, "unfollow").await?;
    db::follows::unfollow(&state.db, me, target.a_id).await?;
    refreshed(&state, me, target.a_id).await
}

#[utoipa::path(get, path = "/api/v1/accounts/{username}/relationship", tag = "follows", params(("username" = String, Path)),
    responses((status = 200, description = "Counters, and the relationship for a signed-in viewer", body = AccountView), (status = 404, body = ErrorBody)))]
/// An account as the viewer sees it, with counters and relationship.
pub async fn relationship(
    user: MaybeAuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.0.map(|u| u.account_id);
    let row = visible_account(&state, viewer, &path).await?;
    Ok(HttpResponse::Ok().json(AccountView::from_row(row, viewer)))
}

async fn list(
    req: HttpRequest,
    user: MaybeAuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
    direction: Direction,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.0.map(|u| u.account_id);
    let window = query.window()?;
    let subject = visible_account(&state, viewer, &path).await?;
    let rows = db::follows::list(&state.db, viewer, subject.a_id, direction, window).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.a_id).collect();
    let views: Vec<AccountView> = rows
        .into_iter()
        .map(|r| AccountView::from_row(r, viewer))
        .collect();
    Ok(page_response(&req, &ids, &window, &views))
}

#[utoipa::path(get, path = "/api/v1/accounts/{username}/followers", tag = "follows", params(PageQuery, ("username" = String, Path)),
    responses((status = 200, body = [AccountView]), (status = 404, body = ErrorBody)))]
/// Accounts that follow this one (paged by account id).
pub async fn followers(
    req: HttpRequest,
    user: MaybeAuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    list(req, user, state, path, query, Direction::Followers).await
}

#[utoipa::path(get, path = "/api/v1/accounts/{username}/following", tag = "follows", params(PageQuery, ("username" = String, Path)),
    responses((status = 200, body = [AccountView]), (status = 404, body = ErrorBody)))]
/// Accounts this one follows (paged by account id).
pub async fn following(
    req: HttpRequest,
    user: MaybeAuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    list(req, user, state, path, query, Direction::Following).await
}
