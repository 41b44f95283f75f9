//! Safety: block / unblock, mute / unmute, and reports.
//!
//! A block ends follows both ways; blocked and blocking accounts cannot see or interact
//! with each other (their statuses, profiles and notifications vanish both ways). A
//! mute hides the account from the muter's timelines and notifications only.
use super::follows::AccountView;
use super::statuses::IdParam;
use super::AuthUser;
use crate::db;
use crate::domain::Username;
use crate::error::{ApiError, ErrorBody};
use crate::startup::AppState;
use actix_web::{web, HttpResponse};

pub const MAX_REPORT_COMMENT: usize = 1000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/accounts/{username}/block").route(web::post().to(block)))
        .service(web::resource("/accounts/{username}/unblock").route(web::post().to(unblock)))
        .service(web::resource("/accounts/{username}/mute").route(web::post().to(mute)))
        .service(web::resource("/accounts/{username}/unmute").route(web::post().to(unmute)))
        .service(web::resource("/reports").route(web::post().to(report)));
}

async fn answer(state: &AppState, me: i64, id: i64) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::not_found("No account has that username.");
    let row = db::follows::account_by_id(&state.db, Some(me), id)
        .await?
        .ok_or_else(not_found)?;
    // An account that blocks us is one we cannot see (its profile is 404 to us). Our own
    // (un)block or (un)mute of it is still recorded, so a block can be returned before the
    // other side lifts theirs, but the answer is the same 404: it must not tell us that the
    // account exists, or that it blocks us.
    if row.a_blocked_by {
        return Err(not_found());
    }
    Ok(HttpResponse::Ok().json(AccountView::from_row(row, Some(me))))
}

/// A target that may block us still exists for block/unblock purposes.
async fn any_target(
    state: &AppState,
    me: i64,
    username: &str,
    verb: &str,
) -> Result<i64, ApiError> {
    let not_found = || ApiError::not_found("No account has that username.");
    let username = Username::parse(username).map_err(|_| not_found())?;
    let row = db::follows::account_by_username(&state.db, Some(me), username.as_str())
        .await?
        .ok_or_else(not_found)?;
    if row.a_id == me {
        return Err(ApiError::unprocessable(
            "self_action",
            format!("You cannot {verb} yourself."),
        ));
    }
    Ok(row.a_id)
}

#[utoipa::path(post, path = "/api/v1/accounts/{username}/block", tag = "safety", security(("bearer" = [])), params(("username" = String, Path)),
    responses((status = 200, body = AccountView), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Block an account (idempotent). Answers it with the relationship.
pub async fn block(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let target = any_target(&state, me, &path, "block").await?;
    let mut conn = state.db.acquire().await?;
    db::blocks::block(&mut conn, me, target).await?;
    drop(conn);
    answer(&state, me, target).await
}

#[utoipa::path(post, path = "/api/v1/accounts/{username}/unblock", tag = "safety", security(("bearer" = [])), params(("username" = String, Path)),
    responses((status = 200, body = AccountView), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unblock(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let target = any_target(&state, me, &path, "unblock").await?;
    db::blocks::unblock(&state.db, me, target).await?;
    answer(&state, me, target).await
}

#[utoipa::path(post, path = "/api/v1/accounts/{username}/mute", tag = "safety", security(("bearer" = [])), params(("username" = String, Path)),
    responses((status = 200, body = AccountView), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 404, body = ErrorBody)))]
/// Mute an account (idempotent): it vanishes from your timelines and notifications.
pub async fn mute(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let target = any_target(&state, me, &path, "mute").await?;
    db::blocks::mute(&state.db, me, target).await?;
    answer(&state, me, target).await
}

#[utoipa::path(post, path = "/api/v1/accounts/{username}/unmute", tag = "safety", security(("bearer" = [])), params(("username" = String, Path)),
    responses((status = 200, body = AccountView), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unmute(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let target = any_target(&state, me, &path, "unmute").await?;
    db::blocks::unmute(&state.db, me, target).await?;
    answer(&state, me, target).await
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// The reported account's username; or give `account_id` instead.
    pub account: Option<String>,
    /// The reported account's id (string or number); or give `account` instead.
    #[schema(value_type = Option<String>)]
    pub account_id: Option<IdParam>,
    /// Optionally one of their statuses.
    pub status_id: Option<IdParam>,
    /// Up to 1000 characters.
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Report {
    pub id: String,
    pub account_id: String,
    pub status_id: Option<String>,
    pub comment: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[utoipa::path(post, path = "/api/v1/reports", tag = "safety", security(("bearer" = [])), request_body = NewReport,
    responses((status = 201, body = Report), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Report an account (and optionally one of its statuses) to the moderators.
pub async fn report(
    user: AuthUser,
    state: web::Data<AppState>,
    body: super::JsonObject<NewReport>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let body = body.into_inner();
    let comment = crate::domain::normalise_text(&body.comment);
    let comment = comment.as_str();
    if crate::domain::has_refused_character(comment) {
        return Err(ApiError::unprocessable(
            "invalid_comment",
            "A report comment may not contain control, direction-changing or hidden characters.",
        ));
    }
    if comment.chars().count() > MAX_REPORT_COMMENT {
        return Err(ApiError::unprocessable(
            "comment_too_long",
            format!("A report comment has at most {MAX_REPORT_COMMENT} characters."),
        ));
    }
    // A username is never read as an id: "12345" may be somebody's name.
    let target = match (&body.account, &body.account_id) {
        (Some(name), None) => {
            let not_found = || ApiError::not_found("No account has that username.");
            let username = Username::parse(name.trim()).map_err(|_| not_found())?;
            db::follows::account_by_username(&state.db, Some(me), username.as_str())
                .await?
                .ok_or_else(not_found)?
        }
        (None, Some(id)) => {
            db::follows::account_by_id(&state.db, Some(me), id.parse("account_id")?)
                .await?
                .ok_or_else(|| ApiError::not_found("No account has that id."))?
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "missing_field",
                "Say whom you report: `account` (a username) or `account_id`.",
            ))
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::unprocessable(
                "invalid_field",
                "Give `account` or `account_id`, not both.",
            ))
        }
    };
    if target.a_id == me {
        return Err(ApiError::unprocessable(
            "self_action",
            "You cannot report yourself.",
        ));
    }
    let status_id = match &body.status_id {
        None => None,
        Some(id) => {
            let author = match id.as_i64() {
                Some(id) => db::statuses::author(&state.db, id).await?.map(|a| (id, a)),
                None => None,
            };
            match author {
                Some((id, author)) if author == target.a_id => Some(id),
                _ => {
                    return Err(ApiError::unprocessable(
                        "status_not_found",
                        "The reported status does not exist or is not by the reported account.",
                    ))
                }
            }
        }
    };
    // A report is a write like a post, and spends the same budget.
    state.limits.check_post(me)?;
    let row = db::reports::create(&state.db, me, target.a_id, status_id, comment)
        .await?
        .ok_or_else(|| ApiError::not_found("No account has that id."))?;
    tracing::info!(report_id = row.id, "report filed");
    Ok(HttpResponse::Created().json(Report {
        id: row.id.to_string(),
        account_id: target.a_id.to_string(),
        status_id: row.status_id.map(|s| s.to_string()),
        comment: row.comment,
        created_at: row.created_at,
    }))
}
