//! Accounts: sign up with a selfie, profiles, deletion.
use super::auth::{hash_password, AuthUser};
use crate::db;
use crate::domain::{DisplayName, Note, Password, Username};
use crate::error::{ApiError, ErrorBody};
use crate::face::Photo;
use crate::http::http_get;
use crate::startup::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures::StreamExt;
use secrecy::SecretString;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/accounts").route(web::post().to(sign_up)))
        .service(
            web::resource("/accounts/verify_credentials").route(http_get().to(verify_credentials)),
        )
        .service(
            web::resource("/accounts/me")
                .route(http_get().to(verify_credentials))
                .route(web::patch().to(update_me))
                .route(web::delete().to(delete_me)),
        )
        .service(web::resource("/accounts/{username}").route(http_get().to(get_account)))
        .service(web::resource("/usernames/{username}").route(http_get().to(username_status)));
}

/// Whether a username can be signed up with, and if not, why.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct UsernameStatus {
    /// The name as it would be stored (lowercase).
    pub username: String,
    pub available: bool,
    /// Why not: `username_taken`, `username_reserved` or `invalid_username` (absent when
    /// available).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// An account as everyone sees it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Account {
    /// Account id (a string, as in Mastodon).
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// The profile text ("bio").
    pub note: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub rock: Rock,
}

/// The account's Rockelganger.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Rock {
    pub id: String,
    pub name: String,
    /// The whole rock photo.
    pub image_url: String,
    /// The rock's face region.
    pub face_url: String,
    /// How alike the face and the rock were at sign-up (cosine in rock space, -1..1).
    pub similarity: f32,
    /// How that match compares with the best matches of reference faces: the share of
    /// them (0..1) whose Rockelganger is less alike. Null for accounts from before it was
    /// recorded.
    pub likeness: Option<f32>,
}

impl From<db::accounts::AccountRow> for Account {
    fn from(row: db::accounts::AccountRow) -> Self {
        Account {
            id: row.id.to_string(),
            username: row.username,
            display_name: row.display_name,
            note: row.note,
            created_at: row.created_at,
            rock: Rock {
                id: row.rock_id.to_string(),
                name: row.rock_name,
                image_url: super::rock_image_url(row.rock_id, "photo", &row.rock_photo_key),
                face_url: super::rock_image_url(row.rock_id, "face", &row.rock_face_key),
                similarity: row.rock_similarity,
                likeness: row.rock_likeness,
            },
        }
    }
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SignUpResponse {
    pub account: Account,
    /// Bearer token for the new session.
    pub token: String,
}

/// The multipart form of a sign-up (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SignUpForm {
    /// 3–30 characters of a-z, 0-9 and _ (case-insensitive).
    username: String,
    /// 8–128 characters.
    password: String,
    /// A selfie, JPEG, PNG or WebP. Processed once in memory and discarded.
    #[schema(value_type = String, format = Binary)]
    photo: Vec<u8>,
    /// Must be `true`: you agree that the photo is processed once, in memory, and discarded.
    consent: bool,
}

/// Text fields are short; anything longer is not a username or password.
const TEXT_FIELD_LIMIT: usize = 1024;

#[derive(Default)]
struct SignUpFields {
    username: Option<String>,
    password: Option<SecretString>,
    consent: Option<String>,
    photo: Option<Photo>,
}

/// Sign up with a selfie; get your Rockelganger.
#[utoipa::path(
    post, path = "/api/v1/accounts", tag = "accounts",
    request_body(content = SignUpForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Account created", body = SignUpResponse),
        (status = 400, description = "Malformed form or missing field", body = ErrorBody),
        (status = 409, description = "username_taken", body = ErrorBody),
        (status = 413, description = "image_too_large / payload_too_large", body = ErrorBody),
        (status = 415, description = "unsupported_image", body = ErrorBody),
        (status = 422, description = "invalid_username, password_too_short, consent_required, no_face, multiple_faces, face_too_small", body = ErrorBody),
        (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody),
        (status = 503, description = "overloaded / face_engine_unavailable (Retry-After)", body = ErrorBody),
    )
)]
pub async fn sign_up(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let result = sign_up_inner(&req, &state, payload).await;
    if let Err(e) = &result {
        state
            .metrics
            .signup_rejections
            .with_label_values(&[e.code])
            .inc();
    }
    result
}

async fn sign_up_inner(
    req: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    state.limits.check_signup(req)?;
    let fields = read_form(req, payload, state.settings.face.max_bytes).await?;

    // Cheap checks before the face engine runs.
    let username = Username::parse(&fields.username.ok_or_else(|| missing("username"))?)?;
    let password = Password::parse(fields.password.ok_or_else(|| missing("password"))?)?;
    // What HTML forms and clients send for a ticked box, in any case.
    let consent = fields
        .consent
        .as_deref()
        .map(|v| v.trim().to_ascii_lowercase());
    match consent.as_deref() {
        Some("true") | Some("on") | Some("1") | Some("yes") => {}
        _ => {
            return Err(ApiError::unprocessable(
                "consent_required",
                "Set consent=true to agree that your photo is processed once, in memory, and discarded.",
            ))
        }
    }
    let photo = fields.photo.ok_or_else(|| missing("photo"))?;
    if photo.bytes().is_empty() {
        return Err(ApiError::bad_request(
            "missing_field",
            "The photo is empty.",
        ));
    }
    let engine = state.face.as_ref().ok_or_else(|| {
        ApiError::unavailable(
            "face_engine_unavailable",
            "The face engine is not available right now.",
            30,
        )
    })?;
    let rocks = state
        .rocks
        .as_ref()
        .ok_or_else(ApiError::gallery_unavailable)?;
    // A taken name is refused before the face engine spends time on the photo (the insert
    // below still settles a race for a free one).
    if db::accounts::username_exists(&state.db, username.as_str()).await? {
        return Err(username_taken());
    }

    // The photo moves into the engine and is dropped (zeroed) there; the signature is
    // dropped (zeroed) right after matching. Neither outlives this block.
    let matched = {
        let in_flight = crate::telemetry::InFlight::start(&state.metrics.face_in_flight);
        let analysed = engine.analyse(photo).await;
        drop(in_flight);
        let signature = analysed?;
        let matched = rocks.best_match(&signature);
        drop(signature);
        matched?
    };

    let password_hash = hash_password(password).await?;
    let account_id = db::accounts::create(
        &state.db,
        username.as_str(),
        &password_hash,
        matched.rock_id,
        matched.similarity,
        matched.likeness,
    )
    .await
    .map_err(|e| ApiError::on_constraint(e, db::accounts::USERNAME_UNIQUE, username_taken))?
    .ok_or_else(|| ApiError::internal("the matched rock is not in the database"))?;

    let issued = state.jwt.issue(&state.db, account_id).await?;
    let row = db::accounts::by_id(&state.db, account_id)
        .await?
        .ok_or_else(|| ApiError::internal("the new account vanished"))?;
    state.metrics.signups.inc();
    tracing::info!(account_id, rock_id = matched.rock_id, "account created");
    Ok(HttpResponse::Created().json(SignUpResponse {
        account: row.into(),
        token: issued.token,
    }))
}

fn username_taken() -> ApiError {
    ApiError::conflict("username_taken", "That username is taken.")
}

fn missing(field: &str) -> ApiError {
    ApiError::bad_request(
        "missing_field",
        format!("The form field `{field}` is required."),
    )
}

/// Reads the multipart form with a hard cap per field. Unknown fields are refused.
async fn read_form(
    req: &HttpRequest,
    payload: web::Payload,
    photo_limit: usize,
) -> Result<SignUpFields, ApiError> {
    let is_multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
        .unwrap_or(false);
    if !is_multipart {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the sign-up as multipart/form-data with username, password, photo and consent.",
        ));
    }
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    let mut fields = SignUpFields::default();
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(super::multipart_error)?;
        let name = field
            .content_disposition()
            .and_then(|cd| cd.get_name())
            .unwrap_or("")
            .to_owned();
        // Each field once, so the whole form is bounded by the field limits.
        let seen = match name.as_str() {
            "photo" => fields.photo.is_some(),
            "username" => fields.username.is_some(),
            "password" => fields.password.is_some(),
            "consent" => fields.consent.is_some(),
            _ => false,
        };
        if seen {
            return Err(super::duplicate_field(&name));
        }
        match name.as_str() {
            "photo" => {
                // Zeroed on every exit, errors included: the buffer grows to at most the limit.
                let mut bytes = zeroize::Zeroizing::new(Vec::new());
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(super::multipart_error)?;
                    if bytes.len() + chunk.len() > photo_limit {
                        return Err(ApiError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "image_too_large",
                            format!("The photo is larger than {} bytes.", photo_limit),
                        ));
                    }
                    super::append_zeroizing(&mut bytes, &chunk);
                }
                fields.photo = Some(Photo::new(std::mem::take(&mut *bytes)));
            }
            "username" | "password" | "consent" => {
                let mut bytes = zeroize::Zeroizing::new(Vec::new());
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(super::multipart_error)?;
                    if bytes.len() + chunk.len() > TEXT_FIELD_LIMIT {
                        return Err(ApiError::payload_too_large(format!(
                            "The field `{name}` is too long."
                        )));
                    }
                    super::append_zeroizing(&mut bytes, &chunk);
                }
                let text = String::from_utf8(std::mem::take(&mut *bytes)).map_err(|_| {
                    ApiError::bad_request(
                        "invalid_field",
                        format!("The field `{name}` is not UTF-8 text."),
                    )
                })?;
                match name.as_str() {
                    "username" => fields.username = Some(text),
                    "password" => fields.password = Some(SecretString::from(text)),
                    _ => fields.consent = Some(text),
                }
            }
            other => {
                return Err(ApiError::bad_request(
                    "unknown_field",
                    format!(
                        "Unexpected form field `{}`.",
                        other.chars().take(40).collect::<String>()
                    ),
                ));
            }
        }
    }
    Ok(fields)
}

/// The signed-in account.
#[utoipa::path(
    get, path = "/api/v1/accounts/verify_credentials", tag = "accounts",
    security(("bearer" = [])),
    responses((status = 200, body = Account), (status = 401, body = ErrorBody))
)]
pub async fn verify_credentials(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let row = db::accounts::by_id(&state.db, user.account_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("The account no longer exists."))?;
    Ok(HttpResponse::Ok().json(Account::from(row)))
}

/// Whether a username is free, before a selfie is spent on a sign-up that would be refused
/// (sign-up checks again).
#[utoipa::path(
    get, path = "/api/v1/usernames/{username}", tag = "accounts",
    params(("username" = String, Path, description = "The name to check (case-insensitive)")),
    responses((status = 200, body = UsernameStatus))
)]
pub async fn username_status(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // The refusal sign-up would give, if any.
    let (username, refusal) = match Username::parse(&path) {
        Err(e) => (path.trim().to_lowercase(), Some(ApiError::from(e))),
        Ok(name) => {
            let taken = db::accounts::username_exists(&state.db, name.as_str()).await?;
            (name.as_str().to_owned(), taken.then(username_taken))
        }
    };
    Ok(HttpResponse::Ok().json(UsernameStatus {
        username,
        available: refusal.is_none(),
        reason: refusal.as_ref().map(|e| e.code.to_owned()),
        message: refusal.map(|e| e.message),
    }))
}

/// A public profile.
#[utoipa::path(
    get, path = "/api/v1/accounts/{username}", tag = "accounts",
    params(("username" = String, Path, description = "Username (case-insensitive)")),
    responses((status = 200, body = super::follows::AccountView), (status = 404, body = ErrorBody))
)]
pub async fn get_account(
    path: web::Path<String>,
    state: web::Data<AppState>,
    user: super::MaybeAuthUser,
) -> Result<HttpResponse, ApiError> {
    // With counters, and the relationship when signed in (the social layer's view).
    let viewer = user.0.map(|u| u.account_id);
    let row = super::timelines::visible_account(&state, viewer, &path).await?;
    Ok(HttpResponse::Ok().json(super::follows::AccountView::from_row(row, viewer)))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfile {
    /// At most 50 characters.
    pub display_name: Option<String>,
    /// At most 500 characters (also accepted as `bio`).
    #[serde(alias = "bio")]
    pub note: Option<String>,
}

/// Change the display name and bio.
#[utoipa::path(
    patch, path = "/api/v1/accounts/me", tag = "accounts",
    security(("bearer" = [])),
    request_body = UpdateProfile,
    responses((status = 200, body = Account), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn update_me(
    user: AuthUser,
    state: web::Data<AppState>,
    body: super::JsonObject<UpdateProfile>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let display_name = body
        .display_name
        .as_deref()
        .map(DisplayName::parse)
        .transpose()?;
    let note = body.note.as_deref().map(Note::parse).transpose()?;
    db::accounts::update_profile(
        &state.db,
        user.account_id,
        display_name.as_ref().map(DisplayName::as_str),
        note.as_ref().map(Note::as_str),
    )
    .await?;
    let row = db::accounts::by_id(&state.db, user.account_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("The account no longer exists."))?;
    Ok(HttpResponse::Ok().json(Account::from(row)))
}

/// Delete the signed-in account and everything it owns.
#[utoipa::path(
    delete, path = "/api/v1/accounts/me", tag = "accounts",
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody))
)]
pub async fn delete_me(
    user: AuthUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.db.acquire().await?;
    let keys = db::accounts::delete(&mut conn, user.account_id).await?;
    drop(conn);
    crate::social::uploads::remove_files(&state.db, &state.storage, &keys.unwrap_or_default())
        .await;
    tracing::info!(account_id = user.account_id, "account deleted");
    Ok(HttpResponse::NoContent().finish())
}
