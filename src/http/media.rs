//! `POST /api/v1/media`: an image for a status, stored only after every face the
//! detector finds is covered by a rock (the uploader's own Rockelganger for the largest
//! face, other gallery rocks for the rest). The upload is decoded, covered, checked
//! again with the detector, and re-encoded as JPEG, so neither the original bytes nor
//! their metadata (EXIF, GPS, ...) are ever stored. A preview is stored alongside.
use super::AuthUser;
use crate::db;
use crate::error::{ApiError, ErrorBody};
use crate::face::{Detection, FaceEngine, Photo};
use crate::http::http_get;
use crate::rocks::{RockImage, RockService};
use crate::social::scrub;
use crate::startup::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures::StreamExt;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/media").route(web::post().to(upload)));
}

/// The stored files, outside `/api/v1`: `GET /media/attachments/{id}/{token}/image|preview`.
pub fn file_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/media/attachments/{id}/{token}/{file}").route(http_get().to(file)));
}

/// Capability URLs for attachments. Images load through `<img>`, which carries no bearer
/// token, so the URL itself is the permission: it holds an HMAC of the attachment id under
/// a key derived from the server secret. Ids are sequential and easy to guess; the token is
/// not, so an image is reachable only by those shown the status (or the uploader, for a
/// draft), as with Mastodon's media URLs.
pub struct MediaUrls {
    key: [u8; 32],
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;
/// Bytes of the HMAC kept in the URL (128 bits).
const TOKEN_BYTES: usize = 16;

impl MediaUrls {
    pub fn new(secret: &secrecy::SecretString) -> MediaUrls {
        use secrecy::ExposeSecret;
        use sha2::Digest;
        // Its own key, so a media token never doubles as anything signed with the JWT key.
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"rockstar media urls\0");
        hasher.update(secret.expose_secret().as_bytes());
        MediaUrls {
            key: hasher.finalize().into(),
        }
    }

    fn mac(&self, id: i64) -> HmacSha256 {
        use hmac::Mac;
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(&id.to_be_bytes());
        mac
    }

    /// Where an attachment's image (`image`) or preview (`preview`) is served.
    pub fn attachment_url(&self, id: i64, file: &str) -> String {
        use hmac::Mac;
        let tag = self.mac(id).finalize().into_bytes();
        format!(
            "/media/attachments/{id}/{}/{file}",
            hex::encode(&tag[..TOKEN_BYTES])
        )
    }

    /// Whether `token` is this attachment's (compared in constant time).
    fn allows(&self, id: i64, token: &str) -> bool {
        use hmac::Mac;
        match hex::decode(token) {
            Ok(tag) if tag.len() == TOKEN_BYTES => self.mac(id).verify_truncated_left(&tag).is_ok(),
            _ => false,
        }
    }
}

fn object_key(id: i64, file: &str) -> String {
    format!("media/{id}/{file}.jpg")
}

#[utoipa::path(get, path = "/media/attachments/{id}/{token}/{file}", tag = "media", params(("id" = String, Path), ("token" = String, Path, description = "the URL's signature, as given in the status or upload"), ("file" = String, Path, description = "image or preview")),
    responses((status = 200, description = "JPEG"), (status = 302, description = "Presigned S3 URL"), (status = 404, body = ErrorBody)))]
/// Serves a stored image: a redirect to a presigned URL when storage is S3, else the
/// bytes with an ETag and an immutable cache policy (stored images never change).
pub async fn file(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (raw_id, token, which) = path.into_inner();
    let not_found = || ApiError::not_found("No such media file.");
    let id = raw_id
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && state.media_urls.allows(*id, &token))
        .ok_or_else(not_found)?;
    if which != "image" && which != "preview" {
        return Err(not_found());
    }
    // Served only while the upload's row is there: files of a deleted status or account
    // that storage has not removed yet (an outage) are already gone for everyone.
    if !db::media::exists(&state.db, id).await? {
        return Err(not_found());
    }
    let key = object_key(id, &which);
    match state
        .storage
        .presigned_existing(&key, super::presign_method(&req))
        .await
    {
        Ok(Some(url)) => return Ok(super::presigned_redirect(url)),
        Ok(None) => {}
        Err(crate::storage::StorageError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(ApiError::from_storage(e)),
    }
    let etag = format!("\"m{id}-{which}\"");
    // The row, checked above, is what says the upload still exists; its bytes never change.
    if let Some(held) = super::not_modified(&req, &etag, super::ImageCache::Immutable) {
        return Ok(held);
    }
    let bytes = match state.storage.get(&key).await {
        Ok(bytes) => bytes,
        Err(crate::storage::StorageError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(ApiError::from_storage(e)),
    };
    Ok(super::stored_jpeg(
        etag,
        bytes,
        super::ImageCache::Immutable,
    ))
}

#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct UploadedMedia {
    /// Pass in `media_ids` when posting a status.
    pub id: String,
    /// Always `image`.
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub preview_url: String,
    pub width: u32,
    pub height: u32,
    /// Faces found and covered with rocks.
    pub faces_covered: usize,
}

fn unavailable() -> ApiError {
    ApiError::unavailable(
        "face_engine_unavailable",
        "The face engine is not available right now.",
        30,
    )
}

#[utoipa::path(post, path = "/api/v1/media", tag = "media", security(("bearer" = [])), request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 200, body = UploadedMedia), (status = 400, body = ErrorBody), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, description = "unsupported_image", body = ErrorBody), (status = 422, description = "face_not_scrubbed", body = ErrorBody), (status = 429, description = "rate_limited (Retry-After)", body = ErrorBody), (status = 503, body = ErrorBody)))]
/// Upload an image (multipart field `file`: JPEG, PNG or WebP).
pub async fn upload(
    req: HttpRequest,
    user: AuthUser,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    state.limits.check_media(me)?;
    let engine = state.face.clone().ok_or_else(unavailable)?;
    let rocks = state
        .rocks
        .clone()
        .ok_or_else(ApiError::gallery_unavailable)?;
    let limit = state.settings.face.max_bytes;
    let photo = read_file(&req, payload, limit).await?;

    let (decoded, faces) = engine.decode_and_detect(photo).await?;

    // Rock images come from object storage: a store that hangs must not hold the upload.
    let (own, others) = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        cover_images(&state, &rocks, me, faces.len()),
    )
    .await
    .map_err(|_| ApiError::storage_unavailable("Image storage is not answering right now."))??;
    let faces_covered = faces.len();
    let Encoded {
        image,
        jpeg,
        preview,
        ..
    } = scrubbed(&engine, decoded, faces, own, others).await?;
    let (width, height) = image.dimensions();

    let id = db::media::next_id(&state.db).await?;
    let key = object_key(id, "image");
    let preview_key = object_key(id, "preview");
    let stored = async {
        state
            .storage
            .put(&key, bytes::Bytes::from(jpeg))
            .await
            .map_err(ApiError::from_storage)?;
        state
            .storage
            .put(&preview_key, bytes::Bytes::from(preview))
            .await
            .map_err(ApiError::from_storage)?;
        db::media::create(
            &state.db,
            id,
            me,
            &key,
            &preview_key,
            width as i32,
            height as i32,
            faces_covered as i32,
        )
        .await
        .map_err(|e| {
            // The account was deleted while its upload was being covered.
            ApiError::on_constraint(e, "media_attachments_account_id_fkey", || {
                ApiError::token_revoked("The account was deleted during the upload.")
            })
        })
    }
    .await;
    let row = match stored {
        Ok(row) => row,
        Err(e) => {
            // No row points at the files, so nothing else would ever remove them.
            crate::social::uploads::discard_files(&state.db, &state.storage, &[key, preview_key])
                .await;
            return Err(e);
        }
    };
    tracing::info!(
        media_id = id,
        faces_covered,
        "media stored with faces covered"
    );
    Ok(HttpResponse::Ok().json(UploadedMedia {
        id: row.id.to_string(),
        kind: "image".into(),
        url: state.media_urls.attachment_url(row.id, "image"),
        preview_url: state.media_urls.attachment_url(row.id, "preview"),
        width,
        height,
        faces_covered,
    }))
}

/// One way of covering: cover size and which rocks.
struct Attempt {
    scale: f32,
    /// How many of the other gallery rocks to skip (to try different ones).
    skip: usize,
    /// Whether the uploader's own rock covers the largest face.
    own_first: bool,
}

/// Covering attempts in order of preference; each is checked with the detector on exactly
/// the bytes that would be stored. Rocks look like faces by design, so a cover can itself
/// be found as a face; larger covers and other rocks fix that, the uploader's own rock
/// is given up last, and pixelation is the last resort.
const ATTEMPTS: &[Attempt] = &[
    Attempt {
        scale: scrub::HEAD_SCALE,
        skip: 0,
        own_first: true,
    },
    Attempt {
        scale: scrub::WIDE_HEAD_SCALE,
        skip: 0,
        own_first: true,
    },
    Attempt {
        scale: scrub::WIDE_HEAD_SCALE,
        skip: 2,
        own_first: true,
    },
    Attempt {
        scale: scrub::WIDE_HEAD_SCALE,
        skip: 4,
        own_first: false,
    },
];

/// What would be stored for one covering attempt, and the faces the detector still finds
/// in it (in full-image coordinates).
struct Encoded {
    image: image::RgbImage,
    jpeg: Vec<u8>,
    preview: Vec<u8>,
    left: Vec<Detection>,
}

/// Encodes the image and its preview as JPEG and runs the detector on both sets of bytes:
/// downscaling can make a cover that is not a face at full size look like one.
async fn encode_and_detect(
    engine: &FaceEngine,
    image: image::RgbImage,
) -> Result<Encoded, ApiError> {
    let (image, jpeg, preview, factor) = tokio::task::spawn_blocking(move || {
        let jpeg = crate::imaging::encode_jpeg(&image, 88)?;
        let small = crate::imaging::fit_copy(&image, scrub::PREVIEW_SIDE);
        let factor = image.width() as f32 / small.width().max(1) as f32;
        let preview = crate::imaging::encode_jpeg(&small, 80)?;
        Ok::<_, image::ImageError>((image, jpeg, preview, factor))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let mut left = engine.detect(&jpeg).await?;
    left.extend(
        engine
            .detect(&preview)
            .await?
            .iter()
            .map(|face| face.scaled(factor)),
    );
    Ok(Encoded {
        image,
        jpeg,
        preview,
        left,
    })
}

/// Covers every face and returns the image, JPEG and preview bytes in which the detector
/// finds no face. Refuses rather than store a face.
async fn scrubbed(
    engine: &FaceEngine,
    decoded: image::RgbImage,
    faces: Vec<Detection>,
    own: Option<image::RgbImage>,
    others: Vec<image::RgbImage>,
) -> Result<Encoded, ApiError> {
    // Covers are drawn on the stored size, so each attempt copies at most MAX_SIDE².
    let (base, faces) = tokio::task::spawn_blocking(move || {
        let long = decoded.width().max(decoded.height()).max(1);
        let base = crate::imaging::fit(decoded, scrub::MAX_SIDE);
        let factor = base.width().max(base.height()) as f32 / long as f32;
        let faces: Vec<Detection> = faces.iter().map(|f| f.scaled(factor)).collect();
        (base, faces)
    })
    .await
    .map_err(ApiError::internal)?;
    let no_faces = faces.is_empty();
    let shared = std::sync::Arc::new((base, faces, own, others));
    let mut last = None;
    for attempt in ATTEMPTS {
        let shared = shared.clone();
        let (scale, skip, own_first) = (attempt.scale, attempt.skip, attempt.own_first);
        let image = tokio::task::spawn_blocking(move || {
            let (base, faces, own, others) = &*shared;
            let mut rocks: Vec<&image::RgbImage> = Vec::new();
            if let (true, Some(own)) = (own_first, own.as_ref()) {
                rocks.push(own);
            }
            let n = others.len();
            rocks.extend((0..n).map(|i| &others[(i + skip) % n]));
            if rocks.is_empty() {
                rocks.extend(own.as_ref());
            }
            let mut image = base.clone();
            scrub::cover_faces_scaled(&mut image, faces, &rocks, scale);
            image
        })
        .await
        .map_err(ApiError::internal)?;
        let encoded = encode_and_detect(engine, image).await?;
        if encoded.left.is_empty() {
            return Ok(encoded);
        }
        tracing::info!(
            faces = encoded.left.len(),
            scale,
            "a cover is still found as a face; trying again"
        );
        last = Some((encoded.image, encoded.left));
        if no_faces {
            break;
        }
    }
    let Some((mut image, mut left)) = last else {
        return Err(ApiError::internal("no covering attempt ran"));
    };
    // Ever coarser: 5 blocks across, then 3, then one flat colour, which no detector
    // can read as a face.
    for blocks in [5, 3, 1] {
        tracing::info!(
            faces = left.len(),
            blocks,
            "pixelating what the detector still finds"
        );
        image = tokio::task::spawn_blocking(move || {
            for face in &left {
                scrub::pixelate(&mut image, face, blocks);
            }
            image
        })
        .await
        .map_err(ApiError::internal)?;
        let encoded = encode_and_detect(engine, image).await?;
        if encoded.left.is_empty() {
            return Ok(encoded);
        }
        image = encoded.image;
        left = encoded.left;
    }
    Err(ApiError::unprocessable(
        "face_not_scrubbed",
        "A face in this image could not be covered; the image was not stored.",
    ))
}

/// Rock face images to cover `faces` faces: the uploader's own rock, and a few more
/// other gallery rocks than faces (spares for covers the detector still sees as faces).
/// Rocks whose image cannot be read are skipped.
async fn cover_images(
    state: &AppState,
    rocks: &RockService,
    me: i64,
    faces: usize,
) -> Result<(Option<image::RgbImage>, Vec<image::RgbImage>), ApiError> {
    if faces == 0 {
        return Ok((None, Vec::new()));
    }
    let own_id = db::accounts::by_id(&state.db, me)
        .await?
        .ok_or_else(|| ApiError::unauthorized("The account no longer exists."))?
        .rock_id;
    let own = rock_face(rocks, own_id).await;
    let mut others = Vec::new();
    for id in rocks.random_ids(own_id, faces + 6) {
        if let Some(img) = rock_face(rocks, id).await {
            others.push(img);
        }
    }
    if own.is_none() && others.is_empty() {
        return Err(ApiError::storage_unavailable(
            "No rock image could be read to cover the faces; try again in a moment.",
        ));
    }
    Ok((own, others))
}

async fn rock_face(rocks: &RockService, id: i64) -> Option<image::RgbImage> {
    let rock = rocks.get(id).await.ok()?;
    match rocks.image(&rock, RockImage::Face).await {
        Ok(bytes) => match image::load_from_memory(&bytes) {
            Ok(img) => Some(img.to_rgb8()),
            Err(e) => {
                tracing::warn!(rock_id = id, error = %e, "a rock image does not decode");
                None
            }
        },
        Err(e) => {
            tracing::warn!(rock_id = id, error = %e, "a rock image is missing");
            None
        }
    }
}

/// Reads the multipart field `file` (at most `limit` bytes) into a buffer that is zeroed
/// when dropped: the upload may show faces.
async fn read_file(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<Photo, ApiError> {
    let is_multipart = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    if !is_multipart {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the image as multipart/form-data in the field `file`.",
        ));
    }
    let hint = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(limit);
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    let mut file: Option<Photo> = None;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(super::multipart_error)?;
        let name = field
            .content_disposition()
            .and_then(|cd| cd.get_name())
            .unwrap_or("")
            .to_owned();
        if name == "file" && file.is_some() {
            return Err(super::duplicate_field(&name));
        }
        match name.as_str() {
            "file" => {
                // Sized once from Content-Length so the buffer is not reallocated (and
                // copies of the image left behind) in the common case.
                let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(hint));
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(super::multipart_error)?;
                    if bytes.len() + chunk.len() > limit {
                        return Err(ApiError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "image_too_large",
                            format!("The image is larger than {limit} bytes."),
                        ));
                    }
                    super::append_zeroizing(&mut bytes, &chunk);
                }
                file = Some(Photo::new(std::mem::take(&mut *bytes)));
            }
            other => {
                return Err(ApiError::bad_request(
                    "unknown_field",
                    format!(
                        "Unexpected form field `{}`.",
                        other.chars().take(40).collect::<String>()
                    ),
                ))
            }
        }
    }
    let file = file.ok_or_else(|| {
        ApiError::bad_request("missing_field", "The form field `file` is required.")
    })?;
    if file.bytes().is_empty() {
        return Err(ApiError::bad_request("missing_field", "The file is empty."));
    }
    Ok(file)
}

/// The multipart form of an upload (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// JPEG, PNG or WebP. Faces are covered by rocks before anything is stored.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}
