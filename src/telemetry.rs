//! Logs (tracing) and Prometheus metrics.
//!
//! Nothing here records request bodies: spans carry the method, route, status and
//! request id, never form fields, photos or embeddings.
use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: `RUST_LOG` or `default_filter`, written to `writer`.
/// A second call is a no-op (tests call it from every test).
pub fn init<W>(default_filter: &str, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false),
        )
        .try_init();
}

/// The root span of each request: method, route template, path and request id. Not the
/// query string (a client may put a token there), not the user agent.
pub struct RequestSpan;

impl tracing_actix_web::RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %request.match_pattern().unwrap_or_default(),
            http.target = %without_capabilities(request.path()),
            request_id = %request_id,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        tracing_actix_web::DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The path as logged: an attachment URL's token is the permission to see the image, so
/// it is left out (`/media/attachments/{id}/-/{file}`).
fn without_capabilities(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/media/attachments/") {
        Some(rest) => {
            let mut parts = rest.splitn(3, '/');
            let id = parts.next().unwrap_or_default();
            let file = parts.nth(1).unwrap_or_default();
            format!("/media/attachments/{id}/-/{file}").into()
        }
        None => path.into(),
    }
}

/// The server's Prometheus metrics. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_seconds: HistogramVec,
    pub signups: IntCounter,
    pub signup_rejections: IntCounterVec,
    pub face_in_flight: IntGauge,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("rockstar".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let http_seconds = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route", "method"],
        )?;
        let signups = IntCounter::new("signups_total", "Accounts created")?;
        let signup_rejections = IntCounterVec::new(
            Opts::new("signup_rejections_total", "Sign-ups refused, by error code"),
            &["code"],
        )?;
        let face_in_flight = IntGauge::new(
            "face_analyses_in_flight",
            "Selfies being analysed or waiting for the face engine",
        )?;
        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_seconds.clone()),
            Box::new(signups.clone()),
            Box::new(signup_rejections.clone()),
            Box::new(face_in_flight.clone()),
        ] {
            registry.register(collector)?;
        }
        Ok(Metrics {
            registry,
            http_requests,
            http_seconds,
            signups,
            signup_rejections,
            face_in_flight,
        })
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) =
            prometheus::TextEncoder::new().encode_utf8(&self.registry.gather(), &mut out)
        {
            tracing::warn!(error = %e, "encoding metrics failed");
        }
        out
    }
}

/// Counts one unit in a gauge for as long as it lives, so a request dropped mid-await
/// (a client that hangs up) still gives its unit back.
pub struct InFlight(IntGauge);

impl InFlight {
    pub fn start(gauge: &IntGauge) -> InFlight {
        gauge.inc();
        InFlight(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::without_capabilities;

    #[test]
    fn attachment_tokens_are_not_logged() {
        assert_eq!(
            without_capabilities("/media/attachments/42/0123abcd/image"),
            "/media/attachments/42/-/image"
        );
        assert_eq!(
            without_capabilities("/media/attachments/42"),
            "/media/attachments/42/-/"
        );
        assert_eq!(
            without_capabilities("/api/v1/statuses/7"),
            "/api/v1/statuses/7"
        );
    }
}
