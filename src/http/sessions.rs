//! Sign in (issue a token) and sign out (revoke it).
use super::auth::{verify_password, AuthUser};
use crate::db;
use crate::domain::Username;
use crate::error::{ApiError, ErrorBody};
use crate::startup::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/sessions").route(web::post().to(sign_in)))
        .service(web::resource("/sessions/current").route(web::delete().to(sign_out)));
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct SignIn {
    pub username: String,
    #[schema(value_type = String)]
    pub password: SecretString,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Session {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Sign in with username and password.
#[utoipa::path(
    post, path = "/api/v1/sessions", tag = "sessions",
    request_body = SignIn,
    responses(
        (status = 200, body = Session),
        (status = 400, description = "Malformed JSON or missing field", body = ErrorBody),
        (status = 401, description = "invalid_credentials", body = ErrorBody),
        (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody),
    )
)]
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: super::SecretJsonObject<SignIn>,
) -> Result<HttpResponse, ApiError> {
    state.limits.check_login(&req)?;
    let SignIn { username, password } = body.into_inner();
    // A malformed username cannot exist; it fails like a wrong password.
    let found = match Username::parse(&username) {
        Ok(username) => {
            state.limits.check_login_account(&username)?;
            db::accounts::credentials(&state.db, username.as_str()).await?
        }
        Err(_) => None,
    };
    let (account_id, hash) = match found {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    let ok = verify_password(password, hash).await?;
    let account_id = match (ok, account_id) {
        (true, Some(id)) => id,
        _ => {
            return Err(ApiError::new(
                actix_web::http::StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "The username or password is wrong.",
            ))
        }
    };
    let issued = state.jwt.issue(&state.db, account_id).await?;
    Ok(HttpResponse::Ok().json(Session {
        token: issued.token,
        expires_at: issued.expires_at,
    }))
}

/// Sign out: revoke the token used for this request.
#[utoipa::path(
    delete, path = "/api/v1/sessions/current", tag = "sessions",
    security(("bearer" = [])),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody))
)]
pub async fn sign_out(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    db::sessions::revoke(&state.db, user.jti).await?;
    Ok(HttpResponse::NoContent().finish())
}
