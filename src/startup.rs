//! Builds the application: database (external or embedded), migrations, face engine,
//! rock gallery, storage, and the HTTP server on a bound port.
use crate::config::Settings;
use crate::embedded::{ClusterOptions, EmbeddedPostgres};
use crate::error::{self, ApiError};
use crate::face::FaceEngine;
use crate::http::auth::JwtKeys;
use crate::http::media::MediaUrls;
use crate::http::RateLimiters;
use crate::rocks::RockService;
use crate::storage::ObjectStorage;
use crate::telemetry::Metrics;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpMessage, HttpServer, ResponseError};
use anyhow::Context;
use secrecy::SecretString;
use sqlx::PgPool;
use std::net::TcpListener;
use tracing_actix_web::TracingLogger;

/// Everything a handler may use. Shared by all workers.
pub struct AppState {
    pub db: PgPool,
    /// None when the models could not be loaded: sign-up answers 503, /readyz says why.
    pub face: Option<FaceEngine>,
    pub rocks: Option<RockService>,
    pub storage: ObjectStorage,
    pub settings: Settings,
    pub metrics: Metrics,
    pub limits: RateLimiters,
    pub jwt: JwtKeys,
    pub media_urls: MediaUrls,
    pub readiness: crate::http::health::Readiness,
}

pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    cluster: Option<EmbeddedPostgres>,
}

impl Application {
    /// Builds with a face engine made from the settings.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Self::build_with(settings, None).await
    }

    /// Builds with an existing face engine (tests share one across apps).
    pub async fn build_with(
        mut settings: Settings,
        face: Option<FaceEngine>,
    ) -> anyhow::Result<Application> {
        // What can fail at once is tried first (the port, the web app, the models), before
        // a database is initialised or a gallery rendered. The port is only tried here: held
        // through start-up, it would leave clients waiting instead of refused.
        drop(bind(&settings.server.bind)?);
        if let Some(metrics_bind) = &settings.server.metrics_bind {
            drop(bind(metrics_bind).context("server.metrics_bind")?);
        }
        let static_dir = crate::http::web_app::locate(&settings.server.static_dir);
        anyhow::ensure!(
            static_dir.join("index.html").is_file(),
            "server.static_dir: {} holds no index.html (the web app)",
            static_dir.display()
        );
        let face = match face {
            Some(engine) => Some(engine),
            None => {
                let config = settings.face.clone();
                match tokio::task::spawn_blocking(move || FaceEngine::new(config)).await? {
                    Ok(engine) => Some(engine),
                    // Without it nobody can sign up and no rock can be matched: refuse to
                    // start, saying why, rather than serve a site that cannot work.
                    Err(e) => {
                        return Err(anyhow::Error::new(e).context("the face engine could not start"))
                    }
                }
            }
        };
        let (db, db_url, cluster) =
            open_database(&settings, settings.database.max_connections).await?;
        if settings.database.url.is_none() {
            settings.database.url = Some(db_url);
        }
        let storage =
            ObjectStorage::new(&settings.storage_config()).context("opening object storage")?;
        let rocks = match &face {
            Some(engine) => {
                let rock_settings = crate::rocks::RockSettings {
                    human_reference: settings.face.models_dir.join("human_reference.bin"),
                    ..Default::default()
                };
                match RockService::load_with(
                    db.clone(),
                    storage.clone(),
                    engine.clone(),
                    rock_settings,
                )
                .await
                {
                    Ok(rocks) => {
                        if let Err(e) = rocks.ensure_gallery().await {
                            tracing::error!(error = %e, "the rock gallery could not be prepared");
                        }
                        tracing::info!(rocks = rocks.len(), "rock gallery loaded");
                        Some(rocks)
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the rock gallery could not be loaded");
                        None
                    }
                }
            }
            None => None,
        };

        let secret = settings.jwt_secret()?;
        let jwt = JwtKeys::new(&secret, settings.auth.token_ttl_secs);
        let media_urls = MediaUrls::new(&secret);
        let state = web::Data::new(AppState {
            db: db.clone(),
            face,
            rocks,
            storage,
            metrics: Metrics::new()?,
            limits: RateLimiters::new(&settings.rate_limit),
            jwt,
            media_urls,
            readiness: Default::default(),
            settings: settings.clone(),
        });
        spawn_housekeeping(state.clone());
        spawn_gallery_refresh(state.clone());

        let listener = bind(&settings.server.bind)?;
        let port = listener.local_addr()?.port();
        tracing::info!(address = %listener.local_addr()?, "listening");
        let metrics_listener = settings
            .server
            .metrics_bind
            .as_deref()
            .map(bind)
            .transpose()?;
        let metrics_addr = metrics_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?;
        match metrics_addr {
            Some(address) => tracing::info!(%address, "serving /metrics"),
            None if !listener.local_addr()?.ip().is_loopback() => tracing::warn!(
                "/metrics is served on the main listener, which is not on loopback: set \
                 server.metrics_bind to keep the server's traffic figures private"
            ),
            None => {}
        }
        let metrics_data =
            metrics_addr.map(|addr| web::Data::new(crate::http::health::MetricsListener(addr)));
        let json_limit = settings.server.json_limit;
        let image_origin = state
            .storage
            .image_origin()
            .await
            .context("working out where presigned images come from")?;
        let csp = crate::http::web_app::content_security_policy(image_origin.as_deref());
        // The rocks routes take the service itself as app data.
        let rocks_data = state.rocks.clone().map(web::Data::new);
        let mut server = HttpServer::new(move || {
            let mut app = App::new();
            if let Some(rocks) = &rocks_data {
                app = app.app_data(rocks.clone());
            }
            if let Some(metrics) = &metrics_data {
                app = app.app_data(metrics.clone());
            }
            app.wrap(from_fn(guard_and_measure))
                .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
                .app_data(state.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(json_limit)
                        .error_handler(error::json_error_handler),
                )
                .app_data(web::QueryConfig::default().error_handler(error::query_error_handler))
                .app_data(web::PathConfig::default().error_handler(error::path_error_handler))
                .configure(crate::http::routes)
                .configure(crate::http::web_app::routes(
                    static_dir.clone(),
                    csp.clone(),
                ))
        })
        .listen(listener)?;
        if let Some(metrics_listener) = metrics_listener {
            server = server.listen(metrics_listener)?;
        }
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        Ok(Application {
            port,
            metrics_port: metrics_addr.map(|a| a.port()),
            server: server.run(),
            cluster,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `/metrics` listener, when `server.metrics_bind` gives it one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Stops the server from elsewhere (`stop(true)` waits for requests in flight).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM, then leaves the embedded cluster, which stops unless
    /// another process (a gallery command) still uses it.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Application {
            server, cluster, ..
        } = self;
        let served = server.await;
        if let Some(mut cluster) = cluster {
            tokio::task::spawn_blocking(move || cluster.stop()).await??;
        }
        Ok(served?)
    }
}

/// The migrated database every command shares: the configured URL, or the embedded
/// cluster under the data folder (started, or adopted when it already runs), with its URL.
pub async fn open_database(
    settings: &Settings,
    max_connections: u32,
) -> anyhow::Result<(sqlx::PgPool, SecretString, Option<EmbeddedPostgres>)> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating the data folder {}", settings.data_dir.display()))?;
    let (url, cluster) = database_url(settings).await?;
    let db = crate::db::connect(&url, max_connections).await?;
    crate::db::migrate(&db)
        .await
        .context("running database migrations")?;
    Ok((db, url, cluster))
}

/// The configured URL, or a started (or adopted) embedded cluster's.
async fn database_url(
    settings: &Settings,
) -> anyhow::Result<(SecretString, Option<EmbeddedPostgres>)> {
    if let Some(url) = &settings.database.url {
        return Ok((url.clone(), None));
    }
    let options = ClusterOptions {
        dir: settings.data_dir.join("postgres"),
        durable: true,
    };
    let cluster = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&options))
        .await?
        .context("starting the embedded PostgreSQL cluster")?;
    Ok((SecretString::from(cluster.url()), Some(cluster)))
}

/// Picks up rocks that `rockstar rocks import` (or another node) added to the database.
fn spawn_gallery_refresh(state: web::Data<AppState>) {
    let Some(rocks) = state.rocks.clone() else {
        return;
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(GALLERY_REFRESH);
        tick.tick().await;
        loop {
            tick.tick().await;
            match rocks.refresh_if_changed().await {
                Ok(true) => tracing::info!(rocks = rocks.len(), "rock index reloaded"),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "checking the gallery for new rocks failed"),
            }
        }
    });
}

/// How often a server looks for rocks added by other processes.
const GALLERY_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

/// Drops expired sessions, idle rate-limit keys and never-attached uploads now and then, and
/// retries removing stored files that storage refused to remove before.
fn spawn_housekeeping(state: web::Data<AppState>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            state.limits.retain_recent();
            if let Err(e) = crate::db::sessions::purge_expired(&state.db).await {
                tracing::warn!(error = %e, "purging expired sessions failed");
            }
            let day = std::time::Duration::from_secs(86_400);
            if let Err(e) = crate::db::statuses::purge_idempotency_keys(&state.db, day).await {
                tracing::warn!(error = %e, "purging old idempotency keys failed");
            }
            let lifetime = crate::social::uploads::UNATTACHED_LIFETIME;
            match crate::social::uploads::purge_unattached(&state.db, &state.storage, lifetime)
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(uploads = n, "removed uploads never attached to a status"),
                Err(e) => tracing::warn!(error = %e, "purging unattached uploads failed"),
            }
            match crate::social::uploads::retry_removals(&state.db, &state.storage).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(files = n, "removed stored files left by an earlier failure")
                }
                Err(e) => tracing::warn!(error = %e, "retrying file removals failed"),
            }
        }
    });
}

/// Whether the body's Content-Encoding, if any, is one coding the server can undo: actix
/// passes an unknown one (or a list) through untouched, and the body would be read as if
/// it were plain.
fn known_content_encoding(headers: &actix_web::http::header::HeaderMap) -> bool {
    let mut codings = headers.get_all(actix_web::http::header::CONTENT_ENCODING);
    match (codings.next(), codings.next()) {
        (None, _) => true,
        (Some(value), None) => value
            .to_str()
            .ok()
            .and_then(|v| v.parse::<actix_web::http::header::ContentEncoding>().ok())
            .is_some(),
        (Some(_), Some(_)) => false,
    }
}

/// actix answers an unknown path or a wrong method with an empty or plain-text body; give
/// those the one error format too.
fn with_json_error_body(
    response: ServiceResponse<actix_web::body::BoxBody>,
) -> ServiceResponse<actix_web::body::BoxBody> {
    use actix_web::http::StatusCode;
    // The router answers with an empty body, the static files service with plain text.
    let replace = !response
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    // Outside the API and media routes is the web app's files, served for GET and HEAD only.
    let path = response.request().path();
    let static_file = !(path.starts_with("/api/") || path.starts_with("/media/"));
    // A body read by actix's own extractors (`web::Bytes`) that stopped arriving.
    let timed_out = response
        .response()
        .error()
        .and_then(|e| e.as_error::<actix_web::error::PayloadError>())
        .is_some_and(crate::error::is_body_timeout);
    let error = match response.status() {
        StatusCode::BAD_REQUEST if replace && timed_out => ApiError::body_timeout(),
        StatusCode::NOT_FOUND if replace => ApiError::not_found("No such endpoint or file."),
        // The files service refuses names it will never serve (`/.env`, an encoded slash)
        // as a bad request in plain text: to a client they are simply not there.
        StatusCode::BAD_REQUEST if replace && static_file => {
            ApiError::not_found("No such endpoint or file.")
        }
        StatusCode::BAD_REQUEST if replace => {
            ApiError::bad_request("bad_request", "The request could not be read.")
        }
        StatusCode::METHOD_NOT_ALLOWED if replace => ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This endpoint does not take that method.",
        ),
        _ => return response,
    };
    let allow = response
        .headers()
        .get(actix_web::http::header::ALLOW)
        .cloned()
        .or_else(|| {
            (error.status_code() == StatusCode::METHOD_NOT_ALLOWED && static_file)
                .then(|| actix_web::http::header::HeaderValue::from_static("GET, HEAD"))
        });
    let (req, _) = response.into_parts();
    let mut res = error.error_response();
    if let Some(allow) = allow {
        res.headers_mut()
            .insert(actix_web::http::header::ALLOW, allow);
    }
    ServiceResponse::new(req, res)
}

fn bind(address: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address).with_context(|| format!("binding {address}"))
}

/// How much of a body may arrive, and how slowly.
#[derive(Clone, Copy)]
struct BodyGuard {
    limit: usize,
    idle: std::time::Duration,
    total: std::time::Duration,
}

impl BodyGuard {
    fn new(server: &crate::config::ServerSettings) -> BodyGuard {
        BodyGuard {
            limit: server.body_limit,
            idle: std::time::Duration::from_secs(server.body_idle_timeout_secs),
            total: std::time::Duration::from_secs(server.body_timeout_secs),
        }
    }

    /// For an app without settings (none is built so); a day is "never" for a body.
    const UNBOUNDED: BodyGuard = BodyGuard {
        limit: usize::MAX,
        idle: std::time::Duration::from_secs(86_400),
        total: std::time::Duration::from_secs(86_400),
    };
}

/// The request body, kept alive until the response has been sent. actix drains a chunked
/// body whose reader was dropped before it answers on the connection again, with no
/// timeout, so a client that stops sending would hold the connection for ever; a body still
/// held and unfinished when the response goes out makes it close the connection instead.
type RequestBody = std::rc::Rc<std::cell::RefCell<actix_web::dev::Payload>>;

/// A response body that holds the request body (see [`RequestBody`]).
struct HoldingRequestBody {
    body: actix_web::body::BoxBody,
    _request_body: RequestBody,
}

impl MessageBody for HoldingRequestBody {
    type Error = <actix_web::body::BoxBody as MessageBody>::Error;

    fn size(&self) -> actix_web::body::BodySize {
        self.body.size()
    }

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<actix_web::web::Bytes, Self::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

/// The body as a stream that fails with `Overflow` once it passes `limit` bytes (a chunked
/// body has no Content-Length to refuse up front, and not every reader bounds itself), and
/// with a `TimedOut` error once it stalls for `idle` or runs past `total`.
fn guarded_payload(body: RequestBody, guard: BodyGuard) -> actix_web::dev::Payload {
    use actix_web::error::PayloadError;
    use futures::StreamExt;
    let deadline = tokio::time::Instant::now() + guard.total;
    // (body, bytes read, failed: nothing more is read after an error)
    let guarded = futures::stream::unfold(
        (body, 0usize, false),
        move |(body, read, failed)| async move {
            if failed {
                return None;
            }
            let wait_until = deadline.min(tokio::time::Instant::now() + guard.idle);
            // Borrowed only inside each poll, never across an await.
            let next = futures::future::poll_fn(|cx| body.borrow_mut().poll_next_unpin(cx));
            match tokio::time::timeout_at(wait_until, next).await {
                Err(_) => Some((Err(crate::error::body_timed_out()), (body, read, true))),
                Ok(None) => None,
                Ok(Some(Err(e))) => Some((Err(e), (body, read, true))),
                Ok(Some(Ok(chunk))) => {
                    let read = read.saturating_add(chunk.len());
                    if read > guard.limit {
                        Some((Err(PayloadError::Overflow), (body, read, true)))
                    } else {
                        Some((Ok(chunk), (body, read, false)))
                    }
                }
            }
        },
    );
    // Readers may poll again after the end (the multipart reader does); `unfold` panics then.
    actix_web::dev::Payload::from(guarded.fuse().boxed_local())
}

/// Refuses bodies over the limit (before reading them when Content-Length says so, else
/// while they stream), and records request metrics.
async fn guard_and_measure(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    // A label per method token a client invents would grow the metrics without bound.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m,
        _ => "OTHER",
    }
    .to_owned();
    let started = std::time::Instant::now();
    let (http_req, payload) = req.into_parts();
    let request_body: RequestBody = std::rc::Rc::new(std::cell::RefCell::new(payload));

    let too_large = match (
        &state,
        http_req
            .headers()
            .get(actix_web::http::header::CONTENT_LENGTH),
    ) {
        (Some(state), Some(length)) => length
            .to_str()
            .ok()
            .and_then(|l| l.parse::<u64>().ok())
            .map(|l| l > state.settings.server.body_limit as u64)
            .unwrap_or(false),
        _ => false,
    };
    let request_id = http_req
        .extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string());
    let refusal = if crate::http::health::off_its_listener(&http_req) {
        Some(ApiError::not_found("No such endpoint or file."))
    } else if let Some(limited) = state
        .as_ref()
        .filter(|_| !crate::http::health::is_probe(http_req.match_info().as_str()))
        .and_then(|state| state.limits.check_request(&http_req).err())
    {
        Some(limited)
    } else if !known_content_encoding(http_req.headers()) {
        Some(ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_content_encoding",
            "Send the body as it is, or compressed with one of gzip, deflate, br or zstd.",
        ))
    } else if too_large {
        Some(ApiError::body_too_large())
    } else {
        None
    };
    let mut response = match refusal {
        Some(error) => ServiceResponse::new(http_req, error.error_response()),
        None => {
            let guard = state.as_ref().map_or(BodyGuard::UNBOUNDED, |state| {
                BodyGuard::new(&state.settings.server)
            });
            let payload = guarded_payload(request_body.clone(), guard);
            let req = ServiceRequest::from_parts(http_req, payload);
            with_json_error_body(next.call(req).await?.map_into_boxed_body())
        }
    };

    if let Some(id) =
        request_id.and_then(|id| actix_web::http::header::HeaderValue::from_str(&id).ok())
    {
        response.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            id,
        );
    }
    if let Some(state) = state {
        let status = response.status().as_u16().to_string();
        state
            .metrics
            .http_requests
            .with_label_values(&[&route, &method, &status])
            .inc();
        state
            .metrics
            .http_seconds
            .with_label_values(&[&route, &method])
            .observe(started.elapsed().as_secs_f64());
    }
    Ok(response.map_body(|_, body| {
        actix_web::body::BoxBody::new(HoldingRequestBody {
            body,
            _request_body: request_body,
        })
    }))
}
