//! Passwords (argon2id), tokens (JWT HS256 with a revocable jti) and the
//! `AuthUser` / `MaybeAuthUser` extractors.
use crate::db;
use crate::domain::Password;
use crate::error::ApiError;
use crate::startup::AppState;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use futures::future::LocalBoxFuture;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// OWASP's argon2id parameters: 19 MiB, 2 passes, 1 lane.
fn params() -> Result<Params, ApiError> {
    Params::new(19_456, 2, 1, None).map_err(ApiError::internal)
}

/// How long a password check may wait for a free hashing slot before `503 overloaded`.
const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Argon2 runs one per core at most, each in a 19 MiB work buffer that is kept and reused
/// (wiped after each use). Unbounded, a flood of sign-ins (from many addresses, which no
/// per-address limit stops) started hundreds of blocking threads and took 13.5 GB; a fresh
/// buffer per check also costs its page faults every time.
struct Hashing {
    slots: tokio::sync::Semaphore,
    buffers: std::sync::Mutex<Vec<Vec<Block>>>,
}

async fn hashing<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    static HASHING: std::sync::OnceLock<Hashing> = std::sync::OnceLock::new();
    let hashing = HASHING.get_or_init(|| Hashing {
        slots: tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        ),
        buffers: std::sync::Mutex::new(Vec::new()),
    });
    let _slot = tokio::time::timeout(HASH_WAIT, hashing.slots.acquire())
        .await
        .map_err(|_| {
            ApiError::unavailable(
                "overloaded",
                "The server is checking too many passwords; try again shortly.",
                2,
            )
        })?
        .map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || {
        let buffers = &hashing.buffers;
        let mut memory = buffers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default();
        let result = work(&mut memory);
        memory.fill(Block::default());
        buffers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(memory);
        result
    })
    .await
    .map_err(ApiError::internal)?
}

/// Argon2 of `password` with `salt`, in `memory` (grown to the parameters' size if need be).
fn argon2_output(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: Salt<'_>,
    memory: &mut Vec<Block>,
) -> Result<Output, ApiError> {
    let params = argon2.params();
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), Block::default());
    }
    let mut salt_buffer = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buffer)
        .map_err(ApiError::internal)?;
    let length = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    Output::init_with(length, |out| {
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut memory[..])
            .map_err(|_| argon2::password_hash::Error::Password)
    })
    .map_err(ApiError::internal)
}

/// Hashes into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
fn hash_in(password: &[u8], memory: &mut Vec<Block>) -> Result<String, ApiError> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params()?);
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let hash = argon2_output(&argon2, password, salt.as_salt(), memory)?;
    Ok(PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(ApiError::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(hash),
    }
    .to_string())
}

/// Whether `password` matches a PHC string made by `hash_in` (or any argon2 with its own
/// parameters). The comparison of the outputs is constant-time (`Output`'s equality).
fn verify_in(password: &[u8], stored: &str, memory: &mut Vec<Block>) -> Result<bool, ApiError> {
    let parsed = PasswordHash::new(stored).map_err(ApiError::internal)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(ApiError::internal)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(ApiError::internal)?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(ApiError::internal)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(ApiError::internal(
            "a stored password hash lacks its salt or output",
        ));
    };
    let argon2 = Argon2::new(algorithm, version, params);
    Ok(argon2_output(&argon2, password, salt, memory)? == expected)
}

/// Hashes on a blocking thread (tens of milliseconds of CPU).
pub async fn hash_password(password: Password) -> Result<String, ApiError> {
    hashing(move |memory| hash_in(password.expose().as_bytes(), memory)).await
}

/// Checks a password against a stored hash on a blocking thread. Passwords are hashed in
/// NFKC; one typed otherwise is also tried as typed, for hashes made before that. With no
/// hash (unknown user) it still does the same work, so timing does not reveal which
/// usernames exist.
pub async fn verify_password(
    password: SecretString,
    hash: Option<String>,
) -> Result<bool, ApiError> {
    let normal = crate::domain::nfkc_password(password.expose_secret());
    hashing(move |memory| {
        let typed = password.expose_secret().as_bytes();
        let forms = match &normal {
            Some(normal) => vec![normal.expose_secret().as_bytes(), typed],
            None => vec![typed],
        };
        let mut ok = false;
        for form in forms {
            ok |= match &hash {
                Some(hash) => verify_in(form, hash, memory)?,
                None => hash_in(form, memory).map(|_| false)?,
            };
            if ok {
                break;
            }
        }
        Ok(ok)
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
    let mut all = req
        .headers()
        .get_all(actix_web::http::header::AUTHORIZATION);
    let Some(value) = all.next() else {
        return Ok(None);
    };
    // Two credentials: which one a proxy or a library would use is anyone's guess.
    if all.next().is_some() {
        return Err(ApiError::bad_request(
            "duplicate_header",
            "Send one Authorization header, not several.",
        ));
    }
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

#[cfg(test)]
mod tests {
    use super::{hash_in, verify_in};
    use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

    #[test]
    fn hashes_agree_with_the_argon2_crates_own_hasher_both_ways() -> Result<(), String> {
        let mut memory = Vec::new();
        let ours = hash_in(b"correct horse battery", &mut memory).map_err(|e| e.message)?;
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        // The reused buffer is wiped after use by the caller; here it is simply reused dirty,
        // which must not matter either.
        let crate_argon2 = argon2::Argon2::default();
        let parsed = PasswordHash::new(&ours).map_err(|e| e.to_string())?;
        assert!(crate_argon2
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        assert!(crate_argon2.verify_password(b"wrong", &parsed).is_err());

        // A hash made by the crate (its default parameters differ from ours).
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = crate_argon2
            .hash_password(b"another password", &salt)
            .map_err(|e| e.to_string())?
            .to_string();
        assert!(verify_in(b"another password", &theirs, &mut memory).map_err(|e| e.message)?);
        assert!(!verify_in(b"another passworD", &theirs, &mut memory).map_err(|e| e.message)?);
        assert!(verify_in(b"correct horse battery", &ours, &mut memory).map_err(|e| e.message)?);
        Ok(())
    }
}
