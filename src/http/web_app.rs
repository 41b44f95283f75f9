//! The web app: the files in `static/`, served with a strict Content-Security-Policy so
//! that injected markup cannot run script or reach the bearer token.
use crate::error::ApiError;
use actix_web::dev::{fn_service, ServiceRequest, ServiceResponse};
use actix_web::middleware::DefaultHeaders;
use actix_web::web;
use std::path::{Path, PathBuf};

/// The policy; `image_origin` is object storage's origin when images are presigned S3 URLs.
pub fn content_security_policy(image_origin: Option<&str>) -> String {
    let extra = image_origin.map(|o| format!(" {o}")).unwrap_or_default();
    format!(
        "default-src 'self'; img-src 'self' blob: data:{extra}; media-src 'self' blob:; \
style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'"
    )
}

/// The configured folder, or the crate's own `static/` when that one is missing
/// (so `cargo run` works from any working directory).
pub fn locate(configured: &Path) -> PathBuf {
    if configured.is_dir() {
        return configured.to_path_buf();
    }
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    if configured.is_relative() && bundled.is_dir() {
        bundled
    } else {
        configured.to_path_buf()
    }
}

/// Everything not matched by the API: files, `index.html` at `/`, else a JSON 404.
pub fn routes(dir: PathBuf, csp: String) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let files = actix_files::Files::new("/", dir)
            .index_file("index.html")
            .prefer_utf8(true)
            .default_handler(fn_service(|req: ServiceRequest| async {
                let (req, _) = req.into_parts();
                let res = actix_web::ResponseError::error_response(&ApiError::not_found(
                    "No such endpoint or file.",
                ));
                Ok(ServiceResponse::new(req, res))
            }));
        cfg.service(
            web::scope("")
                .wrap(
                    DefaultHeaders::new()
                        .add(("Content-Security-Policy", csp))
                        .add(("X-Content-Type-Options", "nosniff"))
                        .add(("Referrer-Policy", "no-referrer"))
                        .add(("Permissions-Policy", "camera=(self), microphone=()")),
                )
                .service(files),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::content_security_policy;

    #[test]
    fn presigned_image_origin_is_allowed_for_images_only() {
        let local = content_security_policy(None);
        assert!(local.contains("img-src 'self' blob: data:;"), "{local}");
        let s3 = content_security_policy(Some("https://rocks.s3.eu-west-1.amazonaws.com"));
        assert!(
            s3.contains("img-src 'self' blob: data: https://rocks.s3.eu-west-1.amazonaws.com;"),
            "{s3}"
        );
        assert!(s3.contains("script-src 'self';") && s3.contains("connect-src 'self';"));
    }
}
