//! Rock routes: `GET /api/v1/rocks` (keyset pages, Link header), `GET /api/v1/rocks/{id}`,
//! and the images `GET /media/rocks/{id}/photo|face`, served with an ETag and an
//! immutable cache policy (a rock's images never change), or redirected to a presigned
//! S3 URL when storage is S3.
//!
//! Uses `web::Data<RockService>` from the app data; without it (no face engine, so no
//! gallery) the routes answer 503 `gallery_unavailable`.
use crate::error::{ApiError, ErrorBody};
use crate::http::http_get;
use crate::rocks::{Rock, RockImage, RockService};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/rocks").route(http_get().to(list)))
        .service(web::resource("/api/v1/rocks/{id}").route(http_get().to(show)))
        .service(web::resource("/media/rocks/{id}/{image}").route(http_get().to(media)));
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
            photo_url: super::rock_image_url(rock.id, "photo", &rock.photo_key),
            face_url: super::rock_image_url(rock.id, "face", &rock.face_key),
            members,
            created_at: rock.created_at,
            community_name: None,
            names: None,
        }
    }
}

/// Raw gallery paging parameters (rock id order, unlike the newest-first timelines).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RockPageQuery {
    /// Only rocks with a greater id.
    #[param(value_type = Option<i64>)]
    pub after: Option<String>,
    /// 1 to 200, default 40.
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

const DEFAULT_LIMIT: i64 = 40;
const MAX_LIMIT: i64 = 200;

/// A rock id from a path: a positive integer, otherwise the rock does not exist.
pub(super) fn parse_rock_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(ApiError::rock_not_found)
}

/// Rocks in id order; `Link: <...>; rel="next"` when there may be more.
#[utoipa::path(get, path = "/api/v1/rocks", tag = "rocks",
    params(RockPageQuery),
    responses((status = 200, description = "A page of rocks", body = [RockView]),
              (status = 400, description = "invalid_parameter", body = ErrorBody)))]
pub async fn list(
    service: Option<web::Data<RockService>>,
    query: web::Query<RockPageQuery>,
) -> Result<HttpResponse, ApiError> {
    let service = service.ok_or_else(ApiError::gallery_unavailable)?;
    let after = super::query_id("after", &query.after)?.unwrap_or(0);
    let limit = super::query_limit(&query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let rocks = service.page(after, limit).await?;
    let ids: Vec<i64> = rocks.iter().map(|r| r.id).collect();
    let counts = service.member_counts(&ids).await?;
    let names = service.top_names(&ids).await?;
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
    Ok(response.json(views))
}

/// One rock, with how many members share it.
#[utoipa::path(get, path = "/api/v1/rocks/{id}", tag = "rocks",
    params(("id" = i64, Path, description = "Rock id")),
    responses((status = 200, description = "The rock", body = RockView),
              (status = 404, description = "rock_not_found", body = ErrorBody)))]
pub async fn show(
    service: Option<web::Data<RockService>>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let service = service.ok_or_else(ApiError::gallery_unavailable)?;
    let id = parse_rock_id(&path)?;
    let rock = service.get(id).await?;
    let names = service.names(id).await?;
    let members = service.member_counts(&[id]).await?;
    Ok(HttpResponse::Ok().json(RockView {
        community_name: names.first().map(|(name, _)| name.clone()),
        names: Some(
            names
                .into_iter()
                .map(|(name, votes)| RockNameVotes { name, votes })
                .collect(),
        ),
        ..RockView::new(&rock, members.get(&id).copied().unwrap_or(0))
    }))
}

/// Query of a rock image URL.
#[derive(Debug, serde::Deserialize)]
pub struct ImageQuery {
    /// The version the URL was given with (see `rock_image_url`).
    v: Option<String>,
}

/// A rock image (JPEG): `photo` or `face`. With an ETag; cached for good when the URL's `v`
/// names the current image, else revalidated; a 302 to a presigned URL when storage is S3.
#[utoipa::path(get, path = "/media/rocks/{id}/{image}", tag = "rocks",
    params(("id" = i64, Path, description = "Rock id"), ("image" = String, Path, description = "photo or face"),
           ("v" = Option<String>, Query, description = "image version, as in the rock's URLs")),
    responses((status = 200, description = "JPEG", content_type = "image/jpeg"),
              (status = 302, description = "Presigned S3 URL"),
              (status = 304, description = "Not modified"),
              (status = 404, description = "rock_not_found", body = ErrorBody)))]
pub async fn media(
    req: HttpRequest,
    service: Option<web::Data<RockService>>,
    path: web::Path<(String, String)>,
    query: web::Query<ImageQuery>,
) -> Result<HttpResponse, ApiError> {
    let service = service.ok_or_else(ApiError::gallery_unavailable)?;
    let (raw_id, image) = path.into_inner();
    let which = match image.as_str() {
        "photo" => RockImage::Photo,
        "face" => RockImage::Face,
        _ => return Err(ApiError::not_found("No such rock image.")),
    };
    let rock = service.get(parse_rock_id(&raw_id)?).await?;
    if let Some(url) = service
        .presigned_image_url(&rock, which, super::presign_method(&req))
        .await?
    {
        return Ok(super::presigned_redirect(url));
    }
    let key = rock.image_key(which);
    let cache = if query.v.as_deref() == Some(super::image_version(key).as_str()) {
        super::ImageCache::Immutable
    } else {
        super::ImageCache::Revalidate
    };
    // A stored key's bytes never change (keys carry a content hash), so the key names them.
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(key)[..16]));
    if let Some(held) = super::not_modified(&req, &etag, cache) {
        return Ok(held);
    }
    let bytes = service.image(&rock, which).await?;
    Ok(super::stored_jpeg(etag, bytes, cache))
}
