//! Rock routes: `GET /api/v1/rocks` (keyset pages, Link header), `GET /api/v1/rocks/{id}`,
//! and the images `GET /media/rocks/{id}/photo|face`, served with an ETag and an
//! immutable cache policy (a rock's images never change), or redirected to a presigned
//! S3 URL when storage is S3.
//!
//! Uses `web::Data<RockService>` from the app data; without it (no face engine, so no
//! gallery) the routes answer 503 `gallery_unavailable`.
use crate::rocks::{Rock, RockError, RockImage, RockService};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/rocks", web::get().to(list))
        .route("/api/v1/rocks/{id}", web::get().to(show))
        .route("/media/rocks/{id}/{image}", web::get().to(media));
}

/// A rock as the API shows it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RockView {
    pub id: String,
    pub name: String,
    /// `imported` or `generated`.
    pub source: String,
    pub photo_url: String,
    pub face_url: String,
    /// Members whose Rockelganger this is.
    pub members: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The name members voted for most (`POST /api/v1/rocks/{id}/names`), if any.
    pub community_name: Option<String>,
    /// Names members suggested, most votes first (on a single rock's page only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<RockNameVotes>>,
}

/// A suggested name and its votes.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RockNameVotes {
    pub name: String,
    pub votes: i64,
}

impl RockView {
    pub fn new(rock: &Rock, members: i64) -> Self {
        RockView {
            id: rock.id.to_string(),
            name: rock.name.clone(),
            source: rock.source.clone(),
            photo_url: format!("/media/rocks/{}/photo", rock.id),
            face_url: format!("/media/rocks/{}/face", rock.id),
            members,
            created_at: rock.created_at,
            community_name: None,
            names: None,
        }
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct PageQuery {
    /// Rocks with an id greater than this.
    pub after: Option<String>,
    pub limit: Option<String>,
}

const DEFAULT_LIMIT: i64 = 40;
const MAX_LIMIT: i64 = 200;

fn error(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({"error": code, "message": message}))
}

fn unavailable() -> HttpResponse {
    error(
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
        "gallery_unavailable",
        "The rock gallery is not available right now.",
    )
}

fn rock_error(e: RockError) -> HttpResponse {
    use actix_web::http::StatusCode;
    match e {
        RockError::NotFound => error(
            StatusCode::NOT_FOUND,
            "rock_not_found",
            "There is no rock with this id.",
        ),
        e => {
            tracing::error!(error = %e, "rock request failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Something went wrong on our side.",
            )
        }
    }
}

fn parse_id(raw: &str) -> Result<i64, Box<HttpResponse>> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| {
        Box::new(error(
            actix_web::http::StatusCode::NOT_FOUND,
            "rock_not_found",
            "There is no rock with this id.",
        ))
    })
}

/// Rocks in id order; `Link: <...>; rel="next"` when there may be more.
#[utoipa::path(get, path = "/api/v1/rocks", tag = "rocks",
    params(("after" = Option<i64>, Query, description = "Only rocks with a greater id"),
           ("limit" = Option<i64>, Query, description = "1 to 200, default 40")),
    responses((status = 200, description = "A page of rocks", body = [RockView]),
              (status = 400, description = "invalid_parameter")))]
pub async fn list(
    service: Option<web::Data<RockService>>,
    query: web::Query<PageQuery>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let Some(service) = service else {
        return unavailable();
    };
    let after = match query.after.as_deref().map(str::parse::<i64>) {
        None => 0,
        Some(Ok(a)) if a >= 0 => a,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                "`after` must be a rock id.",
            )
        }
    };
    let limit = match query.limit.as_deref().map(str::parse::<i64>) {
        None => DEFAULT_LIMIT,
        Some(Ok(l)) if (1..=MAX_LIMIT).contains(&l) => l,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_parameter",
                &format!("`limit` must be between 1 and {MAX_LIMIT}."),
            )
        }
    };
    let rocks = match service.page(after, limit).await {
        Ok(r) => r,
        Err(e) => return rock_error(e),
    };
    let ids: Vec<i64> = rocks.iter().map(|r| r.id).collect();
    let counts = match service.member_counts(&ids).await {
        Ok(c) => c,
        Err(e) => return rock_error(e),
    };
    let names = match service.top_names(&ids).await {
        Ok(n) => n,
        Err(e) => return rock_error(e),
    };
    let views: Vec<RockView> = rocks
        .iter()
        .map(|r| RockView {
            community_name: names.get(&r.id).cloned(),
            ..RockView::new(r, counts.get(&r.id).copied().unwrap_or(0))
        })
        .collect();
    let mut response = HttpResponse::Ok();
    if rocks.len() as i64 == limit {
        if let Some(last) = rocks.last() {
            response.insert_header((
                header::LINK,
                format!(
                    "</api/v1/rocks?after={}&limit={limit}>; rel=\"next\"",
                    last.id
                ),
            ));
        }
    }
    response.json(views)
}

/// One rock, with how many members share it.
#[utoipa::path(get, path = "/api/v1/rocks/{id}", tag = "rocks",
    params(("id" = i64, Path, description = "Rock id")),
    responses((status = 200, description = "The rock", body = RockView),
              (status = 404, description = "rock_not_found")))]
pub async fn show(
    service: Option<web::Data<RockService>>,
    path: web::Path<String>,
) -> HttpResponse {
    let Some(service) = service else {
        return unavailable();
    };
    let id = match parse_id(&path) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let rock = match service.get(id).await {
        Ok(r) => r,
        Err(e) => return rock_error(e),
    };
    let names = match service.names(id).await {
        Ok(n) => n,
        Err(e) => return rock_error(e),
    };
    match service.member_counts(&[id]).await {
        Ok(c) => HttpResponse::Ok().json(RockView {
            community_name: names.first().map(|(name, _)| name.clone()),
            names: Some(
                names
                    .into_iter()
                    .map(|(name, votes)| RockNameVotes { name, votes })
                    .collect(),
            ),
            ..RockView::new(&rock, c.get(&id).copied().unwrap_or(0))
        }),
        Err(e) => rock_error(e),
    }
}

/// A rock image (JPEG): `photo` or `face`. Immutable, with an ETag; a 302 to a presigned
/// URL when storage is S3.
#[utoipa::path(get, path = "/media/rocks/{id}/{image}", tag = "rocks",
    params(("id" = i64, Path, description = "Rock id"), ("image" = String, Path, description = "photo or face")),
    responses((status = 200, description = "JPEG", content_type = "image/jpeg"),
              (status = 302, description = "Presigned S3 URL"),
              (status = 304, description = "Not modified"),
              (status = 404, description = "rock_not_found")))]
pub async fn media(
    req: HttpRequest,
    service: Option<web::Data<RockService>>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let Some(service) = service else {
        return unavailable();
    };
    let (raw_id, image) = path.into_inner();
    let which = match image.as_str() {
        "photo" => RockImage::Photo,
        "face" => RockImage::Face,
        _ => {
            return error(
                actix_web::http::StatusCode::NOT_FOUND,
                "not_found",
                "No such rock image.",
            )
        }
    };
    let id = match parse_id(&raw_id) {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let rock = match service.get(id).await {
        Ok(r) => r,
        Err(e) => return rock_error(e),
    };
    match service.presigned_image_url(&rock, which).await {
        // Short cache: the presigned URL expires, the redirect must not outlive it.
        Ok(Some(url)) => {
            return HttpResponse::Found()
                .insert_header((header::LOCATION, url))
                .insert_header((header::CACHE_CONTROL, "private, max-age=600"))
                .finish()
        }
        Ok(None) => {}
        Err(e) => return rock_error(e),
    }
    let bytes = match service.image(&rock, which).await {
        Ok(b) => b,
        Err(e) => return rock_error(e),
    };
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..16]));
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
        .unwrap_or(false);
    let cache = (header::CACHE_CONTROL, "public, max-age=31536000, immutable");
    if matches {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header(cache)
            .finish();
    }
    HttpResponse::Ok()
        .content_type("image/jpeg")
        .insert_header((header::ETAG, etag))
        .insert_header(cache)
        .body(bytes)
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi;

    #[derive(OpenApi)]
    #[openapi(
        paths(super::list, super::show, super::media),
        components(schemas(super::RockView))
    )]
    struct Doc;

    #[test]
    fn routes_are_documented() -> Result<(), serde_json::Error> {
        let json = Doc::openapi().to_json()?;
        for path in [
            "/api/v1/rocks",
            "/api/v1/rocks/{id}",
            "/media/rocks/{id}/{image}",
            "RockView",
        ] {
            assert!(json.contains(path), "{path} missing");
        }
        Ok(())
    }
}
