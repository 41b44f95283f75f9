//! The REST API. Each module exports its own `routes`; `routes` here mounts them all.
pub mod accounts;
pub mod auth;
pub mod follows;
pub mod health;
pub mod media;
pub mod notifications;
pub mod openapi;
pub mod rock_names;
pub mod rocks;
pub mod safety;
pub mod sessions;
pub mod statuses;
pub mod timelines;
pub mod web_app;

use crate::error::ApiError;
use actix_web::{web, HttpRequest, HttpResponse};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

pub use auth::{AuthUser, MaybeAuthUser};

/// A JSON request body that must be an object. `web::Json` would let serde read a struct
/// from an array by position (`["alice", "secret"]` as a sign-in); this refuses that with
/// the same error as any other body of the wrong shape. Size limits and syntax errors are
/// `web::Json`'s, configured in `startup`.
pub struct JsonObject<T>(pub T);

impl<T> JsonObject<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonObject<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for JsonObject<T> {
    type Error = actix_web::Error;
    type Future = futures::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = value.await?.into_inner();
            if !value.is_object() {
                return Err(ApiError::not_a_json_object().into());
            }
            serde_json::from_value(value)
                .map(JsonObject)
                .map_err(|e| ApiError::from_json(&e).into())
        })
    }
}

/// A JSON object that carries a password. Like [`JsonObject`], but the body is read into a
/// buffer wiped when dropped and parsed straight into `T` (no `serde_json::Value` in
/// between), so the only copy left is the one `T` holds (a `SecretString`, wiped too).
/// What stays unwiped: actix's connection buffer, and serde_json's scratch buffer for a
/// string with escapes in it. A compressed body is refused (415).
pub struct SecretJsonObject<T>(pub T);

impl<T> SecretJsonObject<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for SecretJsonObject<T> {
    type Error = actix_web::Error;
    type Future = futures::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        use actix_web::error::JsonPayloadError;
        use actix_web::HttpMessage;
        use futures::StreamExt;
        let req = req.clone();
        let mut body_stream = payload.take();
        Box::pin(async move {
            let refuse = |e: JsonPayloadError| crate::error::json_error_handler(e, &req);
            // A decompressor would leave the plain text in buffers of its own, and browsers
            // never compress what they send.
            let encoded = req
                .headers()
                .get(actix_web::http::header::CONTENT_ENCODING)
                .is_some_and(|e| !e.as_bytes().eq_ignore_ascii_case(b"identity"));
            if encoded {
                return Err(ApiError::new(
                    actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "This body must not be compressed (no Content-Encoding).",
                )
                .into());
            }
            // The same content types `web::Json` takes.
            let is_json = req.mime_type().ok().flatten().is_some_and(|mime| {
                mime.subtype() == actix_web::mime::JSON
                    || mime.suffix() == Some(actix_web::mime::JSON)
            });
            if !is_json {
                return Err(refuse(JsonPayloadError::ContentType));
            }
            let limit = req
                .app_data::<web::Data<crate::startup::AppState>>()
                .map_or(64 * 1024, |state| state.settings.server.json_limit);
            let mut body = zeroize::Zeroizing::new(Vec::new());
            while let Some(chunk) = body_stream.next().await {
                let chunk = chunk.map_err(|e| refuse(JsonPayloadError::Payload(e)))?;
                if body.len() + chunk.len() > limit {
                    return Err(refuse(JsonPayloadError::Overflow { limit }));
                }
                append_zeroizing(&mut body, &chunk);
            }
            // serde would read a struct from an array by position.
            if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
                return Err(
                    match serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
                        Ok(_) => ApiError::not_a_json_object(),
                        Err(e) => ApiError::from_json(&e),
                    }
                    .into(),
                );
            }
            serde_json::from_slice(&body)
                .map(SecretJsonObject)
                .map_err(|e| ApiError::from_json(&e).into())
        })
    }
}

/// A multipart form that could not be read: `invalid_multipart`, 413 when the body ran
/// past the server's limit, 408 when it stopped arriving.
pub(crate) fn multipart_error(e: actix_multipart::MultipartError) -> ApiError {
    match e {
        actix_multipart::MultipartError::Payload(actix_web::error::PayloadError::Overflow) => {
            ApiError::body_too_large()
        }
        actix_multipart::MultipartError::Payload(e) if crate::error::is_body_timeout(&e) => {
            ApiError::body_timeout()
        }
        e => ApiError::bad_request(
            "invalid_multipart",
            format!("The multipart form could not be read: {e}."),
        ),
    }
}

/// A GET route that also answers HEAD (actix sends the headers without the body).
pub(crate) fn http_get() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::routes)
        .configure(openapi::routes)
        .configure(rocks::routes)
        .configure(media::file_routes)
        .service(
            web::scope("/api/v1")
                .configure(accounts::routes)
                .configure(sessions::routes)
                .configure(statuses::routes)
                .configure(timelines::routes)
                .configure(follows::routes)
                .configure(notifications::routes)
                .configure(safety::routes)
                .configure(rock_names::routes)
                .configure(media::routes),
        );
}

/// Appends to a secret buffer; a buffer given up by a reallocation is zeroed first, so no
/// copy of a photo or password is left behind in freed memory.
pub(crate) fn append_zeroizing(buffer: &mut zeroize::Zeroizing<Vec<u8>>, chunk: &[u8]) {
    if buffer.capacity() - buffer.len() < chunk.len() {
        let mut bigger =
            Vec::with_capacity((buffer.len() + chunk.len()).max(buffer.capacity() * 2));
        bigger.extend_from_slice(buffer);
        *buffer = zeroize::Zeroizing::new(bigger);
    }
    buffer.extend_from_slice(chunk);
}

/// A multipart form that repeats a field.
pub(crate) fn duplicate_field(name: &str) -> ApiError {
    ApiError::bad_request(
        "duplicate_field",
        format!("The form field `{name}` appears more than once."),
    )
}

type KeyedLimiter<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// Limits on the expensive, abusable endpoints: per IP before sign-in, per account after.
#[derive(Clone)]
pub struct RateLimiters {
    signup: Option<Arc<KeyedLimiter<IpAddr>>>,
    login: Option<Arc<KeyedLimiter<IpAddr>>>,
    login_account: Option<Arc<KeyedLimiter<crate::domain::Username>>>,
    post: Option<Arc<KeyedLimiter<i64>>>,
    media: Option<Arc<KeyedLimiter<i64>>>,
    requests: Option<Arc<KeyedLimiter<IpAddr>>>,
    /// Reverse proxies whose X-Forwarded-For names the client.
    trusted_proxies: Arc<Vec<IpAddr>>,
}

impl RateLimiters {
    /// A per-minute rate of 0 turns that limit off.
    pub fn new(settings: &crate::config::RateLimitSettings) -> RateLimiters {
        fn make<K: Clone + Eq + std::hash::Hash>(
            per_minute: u32,
            burst: u32,
        ) -> Option<Arc<KeyedLimiter<K>>> {
            let per_minute = NonZeroU32::new(per_minute)?;
            let burst = NonZeroU32::new(burst).unwrap_or(per_minute);
            Some(Arc::new(RateLimiter::keyed(
                Quota::per_minute(per_minute).allow_burst(burst),
            )))
        }
        RateLimiters {
            signup: make(settings.signup_per_minute, settings.signup_burst),
            login: make(settings.login_per_minute, settings.login_burst),
            login_account: make(
                settings.login_per_account_per_minute,
                settings.login_per_account_burst,
            ),
            post: make(settings.post_per_minute, settings.post_burst),
            media: make(settings.media_per_minute, settings.media_burst),
            requests: make(settings.requests_per_minute, settings.requests_burst),
            trusted_proxies: Arc::new(settings.trusted_proxies.clone()),
        }
    }

    pub fn check_signup(&self, req: &HttpRequest) -> Result<(), ApiError> {
        self.per_ip(self.signup.as_deref(), req)
    }

    pub fn check_login(&self, req: &HttpRequest) -> Result<(), ApiError> {
        self.per_ip(self.login.as_deref(), req)
    }

    /// Sign-in attempts for one (well-formed) username, whatever the address.
    pub fn check_login_account(&self, username: &crate::domain::Username) -> Result<(), ApiError> {
        check(self.login_account.as_deref(), username)
    }

    /// Any request, per client address.
    pub fn check_request(&self, req: &HttpRequest) -> Result<(), ApiError> {
        self.per_ip(self.requests.as_deref(), req)
    }

    /// A per-IP limit, keyed by the client's address (its /64 for IPv6).
    fn per_ip(
        &self,
        limiter: Option<&KeyedLimiter<IpAddr>>,
        req: &HttpRequest,
    ) -> Result<(), ApiError> {
        check(limiter, &limit_key(client_ip(req, &self.trusted_proxies)))
    }

    pub fn check_post(&self, account_id: i64) -> Result<(), ApiError> {
        check(self.post.as_deref(), &account_id)
    }

    pub fn check_media(&self, account_id: i64) -> Result<(), ApiError> {
        check(self.media.as_deref(), &account_id)
    }

    /// Forgets idle keys so the maps do not grow without bound.
    pub fn retain_recent(&self) {
        fn prune<K: Clone + Eq + std::hash::Hash>(limiter: &Option<Arc<KeyedLimiter<K>>>) {
            if let Some(limiter) = limiter {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
        prune(&self.signup);
        prune(&self.login);
        prune(&self.login_account);
        prune(&self.post);
        prune(&self.media);
        prune(&self.requests);
    }
}

fn check<K: Clone + Eq + std::hash::Hash>(
    limiter: Option<&KeyedLimiter<K>>,
    key: &K,
) -> Result<(), ApiError> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::too_many_requests(wait.as_secs_f64().ceil().max(1.0) as u64)
    })
}

/// An optional id from the query string: absent or empty means none.
pub(crate) fn query_id(name: &str, raw: &Option<String>) -> Result<Option<i64>, ApiError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_parameter",
                    format!("`{name}` must be an id (a non-negative integer)."),
                )
            }),
    }
}

/// A page size from the query string: absent or empty means `default`.
pub(crate) fn query_limit(raw: &Option<String>, default: i64, max: i64) -> Result<i64, ApiError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_parameter",
                    format!("`limit` must be between 1 and {max}."),
                )
            }),
    }
}

/// The client's address: the peer's, or, when the peer is one of `trusted` reverse
/// proxies, the nearest address in X-Forwarded-For that is not one of them (addresses
/// further left were written by the client and prove nothing). Read from the right, an
/// entry that is not an address (a port, `unknown`) ends the walk at the proxy: skipping it
/// would let the client's own entries through. IPv4 addresses written as IPv6 count as IPv4.
pub fn client_ip(req: &HttpRequest, trusted: &[IpAddr]) -> IpAddr {
    let trusted: Vec<IpAddr> = trusted.iter().map(IpAddr::to_canonical).collect();
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_canonical())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if !trusted.contains(&peer) {
        return peer;
    }
    let entries: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|part| part.trim().to_owned())
        .collect();
    let mut nearest = peer;
    for entry in entries.iter().rev() {
        match forwarded_address(entry) {
            Some(ip) if trusted.contains(&ip) => nearest = ip,
            Some(ip) => return ip,
            None => return nearest,
        }
    }
    nearest
}

/// An X-Forwarded-For entry: `1.2.3.4`, `1.2.3.4:567`, `::1` or `[::1]:567`.
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    entry
        .parse::<std::net::SocketAddr>()
        .ok()
        .map(|a| a.ip().to_canonical())
}

/// The per-IP limits' key: an IPv6 client usually holds a whole /64, so it is one key.
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// How long a browser may keep a stored image without asking again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageCache {
    /// The URL names these bytes for good (an attachment's signed URL; a rock image URL
    /// with the current `v`): a year, immutable.
    Immutable,
    /// The URL may name other bytes later (a rock image URL without `v`, or with a stale
    /// one, after the gallery was rebuilt): ask each time, answered 304 by ETag.
    Revalidate,
}

impl ImageCache {
    fn header(self) -> (actix_web::http::header::HeaderName, &'static str) {
        let value = match self {
            ImageCache::Immutable => "public, max-age=31536000, immutable",
            ImageCache::Revalidate => "public, no-cache",
        };
        (actix_web::http::header::CACHE_CONTROL, value)
    }
}

/// 304 when the client already holds `etag` (of a stored image whose key names its bytes),
/// so the image need not even be read.
pub fn not_modified(req: &HttpRequest, etag: &str, cache: ImageCache) -> Option<HttpResponse> {
    use actix_web::http::header;
    let held = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            // If-None-Match compares weakly: W/"x" matches our (strong) "x".
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
        });
    held.then(|| {
        HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header(cache.header())
            .finish()
    })
}

/// A stored JPEG with its ETag and cache policy.
pub fn stored_jpeg(etag: String, bytes: web::Bytes, cache: ImageCache) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((actix_web::http::header::ETAG, etag))
        .insert_header(cache.header())
        .body(bytes)
}

/// The method a presigned URL is signed for: a HEAD request's redirect must allow HEAD.
pub fn presign_method(req: &HttpRequest) -> http::Method {
    if req.method() == actix_web::http::Method::HEAD {
        http::Method::HEAD
    } else {
        http::Method::GET
    }
}

/// A redirect to a presigned object-storage URL; its short cache must not outlive the URL.
pub fn presigned_redirect(url: String) -> HttpResponse {
    use actix_web::http::header;
    HttpResponse::Found()
        .insert_header((header::LOCATION, url))
        .insert_header((header::CACHE_CONTROL, "private, max-age=600"))
        .finish()
}

/// Where a rock's image is served (by the rocks routes, from object storage). `v` names
/// the stored bytes, so the URL can be cached for good: rock ids start again from 1 in a
/// rebuilt database, image keys do not repeat.
pub fn rock_image_url(rock_id: i64, image: &str, key: &str) -> String {
    format!("/media/rocks/{rock_id}/{image}?v={}", image_version(key))
}

/// A short name for an image key's bytes (keys carry a hash of their content).
pub fn image_version(key: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(key)[..8])
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::client_ip;
    use std::net::IpAddr;

    fn request(peer: &str, forwarded: Option<&str>) -> actix_web::HttpRequest {
        let mut req = actix_web::test::TestRequest::default()
            .peer_addr(std::net::SocketAddr::new(peer.parse().expect("peer"), 4000));
        if let Some(value) = forwarded {
            req = req.insert_header(("x-forwarded-for", value));
        }
        req.to_http_request()
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // Straight from the internet: the header is the client's own claim.
        assert_eq!(
            client_ip(&request("203.0.113.9", Some("1.2.3.4")), &[proxy]),
            ip("203.0.113.9")
        );
        // Through the proxy: the address it saw, not what the client wrote before it.
        assert_eq!(
            client_ip(
                &request("10.0.0.2", Some("6.6.6.6, 198.51.100.7")),
                &[proxy]
            ),
            ip("198.51.100.7")
        );
        assert_eq!(client_ip(&request("10.0.0.2", None), &[proxy]), proxy);
        assert_eq!(client_ip(&request("10.0.0.2", Some("1.2.3.4")), &[]), proxy);
    }

    #[test]
    fn forwarded_entries_with_ports_or_junk_never_let_the_clients_own_entries_through() {
        let proxy: IpAddr = "10.0.0.2".parse().expect("ip");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // A proxy that appends ip:port: still the address it saw.
        assert_eq!(
            client_ip(
                &request("10.0.0.2", Some("6.6.6.6, 198.51.100.7:5123")),
                &[proxy]
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(
                &request("10.0.0.2", Some("6.6.6.6, [2001:db8::7]:443")),
                &[proxy]
            ),
            ip("2001:db8::7")
        );
        // An entry that is no address stops the walk at the proxy: the client's 6.6.6.6
        // on its left is not taken for the client.
        assert_eq!(
            client_ip(&request("10.0.0.2", Some("6.6.6.6, unknown")), &[proxy]),
            proxy
        );
        // A server bound to [::] sees IPv4 proxies as ::ffff:a.b.c.d.
        assert_eq!(
            client_ip(&request("::ffff:10.0.0.2", Some("198.51.100.7")), &[proxy]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn an_ipv6_client_is_one_key_per_64() {
        use super::limit_key;
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa::1")),
            limit_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(limit_key(ip("198.51.100.7")), ip("198.51.100.7"));
        assert_eq!(limit_key(ip("::ffff:198.51.100.7")), ip("198.51.100.7"));
    }
}
