//! Liveness, readiness and metrics.
use crate::http::http_get;
use crate::startup::AppState;
use actix_web::{web, HttpResponse};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").route(http_get().to(healthz)))
        .service(web::resource("/readyz").route(http_get().to(readyz)))
        .service(web::resource("/metrics").route(http_get().to(metrics)));
}

/// The database and storage probes of `/readyz`, kept for a moment: the endpoint is public,
/// and each probe is a database query and a storage request (S3 traffic, billed).
#[derive(Default)]
pub struct Readiness {
    last: tokio::sync::Mutex<Option<(std::time::Instant, (bool, bool))>>,
}

impl Readiness {
    const KEPT: std::time::Duration = std::time::Duration::from_secs(2);

    /// The last result if it is recent, else a fresh one (callers meanwhile wait for it).
    async fn get_or_probe<F: std::future::Future<Output = (bool, bool)>>(
        &self,
        probe: impl FnOnce() -> F,
    ) -> (bool, bool) {
        let mut last = self.last.lock().await;
        match *last {
            Some((at, result)) if at.elapsed() < Self::KEPT => result,
            _ => {
                let result = probe().await;
                *last = Some((std::time::Instant::now(), result));
                result
            }
        }
    }
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "Alive")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The database and object storage answer, the face engine is loaded, the gallery has rocks.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "Ready"), (status = 503, description = "Not ready")))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let (database, storage) = state
        .readiness
        .get_or_probe(|| async {
            let database = tokio::time::timeout(
                std::time::Duration::from_secs(3),
                crate::db::ping(&state.db),
            )
            .await
            .unwrap_or(false);
            let storage = matches!(
                tokio::time::timeout(std::time::Duration::from_secs(3), state.storage.probe())
                    .await,
                Ok(Ok(()))
            );
            (database, storage)
        })
        .await;
    let face_engine = state.face.as_ref().map(|f| f.ready()).unwrap_or(false);
    let gallery = state.rocks.as_ref().map(|r| !r.is_empty()).unwrap_or(false);
    let status = |ok: bool| if ok { "ok" } else { "unavailable" };
    let checks = serde_json::json!({
        "database": status(database),
        "storage": status(storage),
        "face_engine": status(face_engine),
        "gallery": status(gallery),
    });
    if database && storage && face_engine && gallery {
        HttpResponse::Ok().json(serde_json::json!({"status": "ok", "checks": checks}))
    } else {
        HttpResponse::ServiceUnavailable().json(serde_json::json!({
            "error": "not_ready",
            "message": "A dependency is not ready.",
            "checks": checks,
        }))
    }
}

/// The address of `/metrics`' own listener (`server.metrics_bind`); app data only when set.
#[derive(Debug, Clone, Copy)]
pub struct MetricsListener(pub std::net::SocketAddr);

/// With a metrics listener, `/metrics` is served there and nowhere else, and that listener
/// serves nothing else: the main port can then face the public without telling it the
/// server's traffic and load.
pub fn off_its_listener(req: &actix_web::HttpRequest) -> bool {
    let Some(metrics) = req.app_data::<web::Data<MetricsListener>>() else {
        return false;
    };
    // The path as the router sees it: `/%6Detrics` is routed to `/metrics` too.
    let path = req.match_info().as_str();
    (req.app_config().local_addr() == metrics.0) != (path == "/metrics")
}

/// The health and metrics endpoints (the path as the router sees it), which orchestrators
/// and scrapers poll from one address and so stay outside the per-IP request limit.
pub fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "Prometheus metrics")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
