//! `/api/v1/openapi.json`, generated from the handlers, and `/api/docs`, a page in the
//! crate that renders it without any CDN.
use super::{accounts, health, rocks, sessions};
use crate::error::ErrorBody;
use crate::http::http_get;
use actix_web::{web, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "RockStar API", description = "A social network in which nobody shows a face."),
    paths(
        accounts::sign_up,
        accounts::verify_credentials,
        accounts::get_account,
        accounts::username_status,
        accounts::update_me,
        accounts::delete_me,
        sessions::sign_in,
        sessions::sign_out,
        health::healthz,
        health::readyz,
        health::metrics,
        rocks::list,
        rocks::show,
        rocks::media,
    ),
    components(schemas(
        ErrorBody,
        accounts::Account,
        accounts::Rock,
        accounts::SignUpResponse,
        accounts::SignUpForm,
        accounts::UpdateProfile,
        accounts::UsernameStatus,
        sessions::SignIn,
        sessions::Session,
        rocks::RockView,
    )),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/openapi.json").route(http_get().to(spec)))
        .service(web::resource("/api/docs").route(http_get().to(docs)));
}

async fn spec() -> HttpResponse {
    let mut doc = ApiDoc::openapi();
    doc.merge(<super::statuses::SocialApiDoc as OpenApi>::openapi());
    HttpResponse::Ok().json(doc)
}

async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(DOCS_HTML)
}

const DOCS_HTML: &str = include_str!("openapi_docs.html");
