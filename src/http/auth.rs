//! Passwords (argon2id), tokens (JWT HS256 with a revocable jti) and the
//! `AuthUser` / `MaybeAuthUser` extractors.
use crate::db;
use crate::domain::Password;
use crate::error::ApiError;
use crate::startup::AppState;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use futures::future::LocalBoxFuture;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Result<Argon2<'static>, ApiError> {
    let params = Params::new(19_456, 2, 1, None).map_err(ApiError::internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// How long a password check may wait for a free hashing slot before `503 overloaded`.
const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs argon2 work on a blocking thread, one per core at most. Each hash takes 19 MiB and
/// tens of milliseconds: unbounded, a flood of sign-ins (from many addresses, which no
/// per-address limit stops) would start hundreds of blocking threads and gigabytes.
async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    });
    let _slot = tokio::time::timeout(HASH_WAIT, slots.acquire())
        .await
        .map_err(|_| {
            ApiError::unavailable(
                "overloaded",
                "The server is checking too many passwords; try again shortly.",
                2,
            )
        })?
        .map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
}

/// Hashes on a blocking thread (tens of milliseconds of CPU).
pub async fn hash_password(password: Password) -> Result<String, ApiError> {
    hashing(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        argon2()?
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(ApiError::internal)
    })
    .await
}

/// Checks a password against a stored hash on a blocking thread. With no hash (unknown
/// user) it still does the work, so timing does not reveal which usernames exist.
pub async fn verify_password(
    password: SecretString,
    hash: Option<String>,
) -> Result<bool, ApiError> {
    hashing(move || {
        let argon2 = argon2()?;
        match hash {
            Some(hash) => {
                let parsed = PasswordHash::new(&hash).map_err(ApiError::internal)?;
                Ok(argon2
                    .verify_password(password.expose_secret().as_bytes(), &parsed)
                    .is_ok())
            }
            None => {
                let salt = SaltString::generate(&mut rand::rngs::OsRng);
                let _ = argon2.hash_password(password.expose_secret().as_bytes(), &salt);
                Ok(false)
            }
        }
    })
    .await
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    /// Account id.
    pub sub: String,
    /// Token id, a row in `sessions` while the token is valid.
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signing keys and token lifetime.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: chrono::Duration,
}

impl JwtKeys {
    pub fn new(secret: &SecretString, ttl_secs: i64) -> JwtKeys {
        let bytes = secret.expose_secret().as_bytes();
        JwtKeys {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            ttl: chrono::Duration::seconds(ttl_secs.max(60)),
        }
    }

    /// Records a session and signs its token.
    pub async fn issue(&self, db: &sqlx::PgPool, account_id: i64) -> Result<IssuedToken, ApiError> {
        let now = chrono::Utc::now();
        let expires_at = now + self.ttl;
        let jti = Uuid::new_v4();
        db::sessions::create(db, jti, account_id, expires_at).await?;
        let claims = Claims {
            sub: account_id.to_string(),
            jti: jti.to_string(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::default(), &claims, &self.encoding)
            .map_err(ApiError::internal)?;
        Ok(IssuedToken { token, expires_at })
    }

    fn decode(&self, token: &str) -> Result<(i64, Uuid), ApiError> {
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(
            |e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => ApiError::new(
                    actix_web::http::StatusCode::UNAUTHORIZED,
                    "token_expired",
                    "The token has expired; sign in again.",
                ),
                _ => ApiError::new(
                    actix_web::http::StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "The token is not valid.",
                ),
            },
        )?;
        let invalid = || {
            ApiError::new(
                actix_web::http::StatusCode::UNAUTHORIZED,
                "invalid_token",
                "The token is not valid.",
            )
        };
        let account_id = data.claims.sub.parse::<i64>().map_err(|_| invalid())?;
        let jti = Uuid::parse_str(&data.claims.jti).map_err(|_| invalid())?;
        Ok((account_id, jti))
    }
}

pub struct IssuedToken {
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// A signed-in account: the request carried a valid, unrevoked bearer token.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub account_id: i64,
    pub jti: Uuid,
}

/// `Some` when the request carried a valid token, `None` when it carried none.
/// A token that is present but invalid is still an error.
#[derive(Debug, Clone, Copy)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("The Authorization header is not valid."))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(ApiError::unauthorized(
            "Use `Authorization: Bearer <token>`.",
        )),
    }
}

async fn authenticate(state: web::Data<AppState>, token: String) -> Result<AuthUser, ApiError> {
    let (account_id, jti) = state.jwt.decode(&token)?;
    if !db::sessions::is_live(&state.db, jti, account_id).await? {
        return Err(ApiError::token_revoked(
            "The token has been revoked; sign in again.",
        ));
    }
    Ok(AuthUser { account_id, jti })
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("AppState missing"))
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = app_state(req);
        Box::pin(async move {
            let token = token?.ok_or_else(|| {
                ApiError::unauthorized("Sign in first: send `Authorization: Bearer <token>`.")
            })?;
            authenticate(state?, token).await
        })
    }
}

impl FromRequest for MaybeAuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = app_state(req);
        Box::pin(async move {
            match token? {
                Some(token) => Ok(MaybeAuthUser(Some(authenticate(state?, token).await?))),
                None => Ok(MaybeAuthUser(None)),
            }
        })
    }
}
