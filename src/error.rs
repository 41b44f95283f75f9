//! The one error type of the HTTP API and its JSON body
//! `{"error": "snake_case_code", "message": "human sentence"}`.
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable code, e.g. `username_taken`.
    pub error: String,
    /// A sentence for people.
    pub message: String,
}

/// Display and Debug show the status and code only: the message can quote what the client
/// sent (serde's "invalid type: integer `12345678`" for a password), and errors are logged.
#[derive(thiserror::Error)]
#[error("{code}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, sent as `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
}

impl std::fmt::Debug for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status.as_u16())
            .field("code", &self.code)
            .finish_non_exhaustive()
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }
    /// A request body over `server.body_limit` (or the JSON limit).
    pub fn body_too_large() -> Self {
        Self::payload_too_large("The request body is too large.")
    }
    /// A request body that stopped arriving (`server.body_idle_timeout_secs`) or took
    /// longer than `server.body_timeout_secs`.
    pub fn body_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            "The request body did not arrive in time; send it again.",
        )
    }
    /// JSON that is not an object where the API expects one.
    pub fn not_a_json_object() -> Self {
        Self::unprocessable(
            "invalid_field",
            "The JSON body must be an object with the documented fields.",
        )
    }
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("Too many requests; try again in {retry_after} seconds."),
        );
        e.retry_after = Some(retry_after);
        e
    }
    pub fn unavailable(code: &'static str, message: impl Into<String>, retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message);
        e.retry_after = Some(retry_after);
        e
    }
    /// The rock gallery is not loaded; worth retrying soon.
    pub fn gallery_unavailable() -> Self {
        Self::unavailable(
            "gallery_unavailable",
            "The rock gallery is not available right now.",
            30,
        )
    }
    /// The token's session is gone: logged out, or the account deleted.
    pub fn token_revoked(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "token_revoked", message)
    }
    pub fn rock_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "rock_not_found",
            "There is no rock with this id.",
        )
    }
    /// For failures that are ours, not the client's. The cause is logged, not returned.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side.",
        )
    }

    /// Turns a violation of the named unique constraint into `on_violation`; any other
    /// database error becomes an internal error.
    pub fn on_constraint(
        error: sqlx::Error,
        constraint: &str,
        on_violation: impl FnOnce() -> ApiError,
    ) -> ApiError {
        match &error {
            sqlx::Error::Database(db) if db.constraint() == Some(constraint) => on_violation(),
            _ => ApiError::from_database(error),
        }
    }

    /// Object storage that fails (unreachable, refusing our credentials) is a 503 worth
    /// retrying; an absent object is the caller's 404.
    pub fn from_storage(error: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %error, "object storage failed");
        ApiError::storage_unavailable("Image storage is not reachable right now.")
    }

    /// 503 `storage_unavailable`, worth retrying in a few seconds.
    pub fn storage_unavailable(message: impl Into<String>) -> ApiError {
        ApiError::unavailable("storage_unavailable", message, 10)
    }

    /// A database that cannot be reached is a 503 worth retrying; anything else is a bug.
    pub fn from_database(error: sqlx::Error) -> ApiError {
        match &error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                tracing::error!(error = %error, "the database is unreachable");
                ApiError::unavailable(
                    "database_unavailable",
                    "The database is not reachable right now.",
                    5,
                )
            }
            // A row this request refers to was deleted at the same moment (foreign key), or
            // two requests deadlocked: nothing was written, and trying again is safe.
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("23503" | "40P01" | "40001")) =>
            {
                tracing::warn!(error = %error, "a concurrent change refused a write");
                ApiError::conflict(
                    "concurrent_change",
                    "Something this request refers to changed at the same moment; nothing was saved. Reload and try again.",
                )
            }
            _ => ApiError::internal(error),
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.code.to_owned(),
            message: self.message.clone(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        // RFC 9110 / 6750: a 401 names the scheme that would be accepted.
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = match self.code {
                "invalid_token" | "token_expired" | "token_revoked" => {
                    r#"Bearer realm="rockstar", error="invalid_token""#
                }
                _ => r#"Bearer realm="rockstar""#,
            };
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        response.json(self.body())
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::from_database(error)
    }
}

impl From<crate::face::FaceError> for ApiError {
    fn from(error: crate::face::FaceError) -> Self {
        use crate::face::FaceError as F;
        // The FaceError messages describe the image, never its content.
        let message = capitalise(&error.to_string());
        match &error {
            F::NoFace | F::MultipleFaces | F::FaceTooSmall => {
                ApiError::unprocessable(error.code(), message)
            }
            F::UnsupportedImage(_) => {
                ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, error.code(), message)
            }
            F::ImageTooLarge(_) => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, error.code(), message)
            }
            F::Overloaded { retry_after } => {
                ApiError::unavailable(error.code(), message, *retry_after)
            }
            F::Internal => ApiError::internal(&error),
            F::Unavailable(_) => {
                tracing::error!(error = %error, "face engine unavailable");
                ApiError::unavailable(
                    error.code(),
                    "The face engine is not available right now.",
                    30,
                )
            }
        }
    }
}

impl From<crate::rocks::RockError> for ApiError {
    fn from(error: crate::rocks::RockError) -> Self {
        use crate::rocks::RockError as R;
        match error {
            R::Face(face) => face.into(),
            R::NotFound => ApiError::rock_not_found(),
            R::EmptyGallery => {
                tracing::error!("the rock gallery is empty");
                ApiError::unavailable(
                    "gallery_empty",
                    "The rock gallery is empty; try again later.",
                    30,
                )
            }
            R::Database(e) => ApiError::from_database(e),
            R::Storage(message) => ApiError::from_storage(message),
        }
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

impl ApiError {
    /// A JSON body that did not parse (`invalid_json`) or does not fit the request
    /// (`missing_field`, `invalid_field`).
    pub fn from_json(e: &serde_json::Error) -> ApiError {
        // serde names our Rust types ("expected struct NewStatusBody"); say it in JSON terms.
        if e.is_data() && e.to_string().contains("expected struct") {
            return ApiError::not_a_json_object();
        }
        if e.is_data() && e.to_string().starts_with("missing field") {
            ApiError::bad_request(
                "missing_field",
                format!("A required field is missing: {e}."),
            )
        } else if e.is_data() {
            ApiError::unprocessable("invalid_field", format!("The JSON body does not fit: {e}."))
        } else {
            ApiError::bad_request("invalid_json", format!("The body is not valid JSON: {e}."))
        }
    }
}

/// The error the body stream gives once a body stops arriving (`startup::guarded_payload`);
/// [`is_body_timeout`] recognises it wherever a reader passes it on.
pub fn body_timed_out() -> actix_web::error::PayloadError {
    actix_web::error::PayloadError::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the request body did not arrive in time",
    ))
}

/// Whether a body reader failed because the body stopped arriving ([`body_timed_out`]).
pub fn is_body_timeout(e: &actix_web::error::PayloadError) -> bool {
    matches!(e, actix_web::error::PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
}

/// Error handlers for actix's extractors, so malformed bodies use the one format.
pub fn json_error_handler(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    let api = match &err {
        J::OverflowKnownLength { .. }
        | J::Overflow { .. }
        | J::Payload(actix_web::error::PayloadError::Overflow) => ApiError::body_too_large(),
        J::Payload(e) if is_body_timeout(e) => ApiError::body_timeout(),
        J::ContentType => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "The request body must be JSON (Content-Type: application/json).",
        ),
        J::Deserialize(e) => ApiError::from_json(e),
        _ => ApiError::bad_request("invalid_body", "The request body could not be read."),
    };
    api.into()
}

pub fn query_error_handler(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::bad_request(
        "invalid_query",
        format!("The query string is not valid: {err}."),
    )
    .into()
}

pub fn path_error_handler(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::not_found(format!("No such resource: {err}.")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_503_with_retry_after_and_other_errors_500() {
        let down = ApiError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down.code, "database_unavailable");
        let response = actix_web::ResponseError::error_response(&down);
        assert!(response.headers().contains_key("retry-after"));
        let bug = ApiError::from(sqlx::Error::RowNotFound);
        assert_eq!(bug.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn what_is_logged_of_an_error_never_quotes_the_request() {
        let sent: Result<serde_json::Value, _> = serde_json::from_str::<
            std::collections::HashMap<String, String>,
        >(r#"{"password": 12345678}"#)
        .map(|_| serde_json::Value::Null);
        let Err(e) = sent else {
            panic!("a number is not a string")
        };
        let error = ApiError::from_json(&e);
        assert!(
            error.message.contains("12345678"),
            "the client is told: {}",
            error.message
        );
        for logged in [format!("{error}"), format!("{error:?}")] {
            assert!(!logged.contains("12345678"), "{logged}");
            assert!(logged.contains("invalid_field"), "{logged}");
        }
    }
}
