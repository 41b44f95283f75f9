//! Media uploads: every face is covered by a rock before anything is stored.
use crate::helpers::{require_face_engine, shared_data, spawn_app};
use crate::social_helpers::*;
use serde_json::json;

/// A photo without a face, uploaded by `token`'s member (200 asserted).
async fn upload_landscape(app: &crate::helpers::TestApp, token: &str) -> serde_json::Value {
    upload(app, token, crate::fixtures::landscape_jpeg(), "image/jpeg")
        .await
        .ok(200)
}

/// The first image of two different people from ../shared/data/lfw.
fn two_lfw_faces() -> Option<(Vec<u8>, Vec<u8>)> {
    let dir = shared_data().join("lfw");
    let mut people: Vec<_> = crate::helpers::shared_entries(&dir)?
        .into_iter()
        .filter(|p| p.is_dir())
        .collect();
    people.sort();
    let mut photos = people.iter().filter_map(|person| {
        let name = person.file_name()?.to_str()?.to_owned();
        std::fs::read(person.join(format!("{name}_0001.jpg"))).ok()
    });
    match (photos.next(), photos.next()) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => {
            println!(
                "SKIPPED: LFW photos are absent under {} (test data)",
                dir.display()
            );
            None
        }
    }
}

/// Puts an EXIF segment (with a marker) and a comment right after the JPEG's SOI.
fn with_metadata(jpeg: &[u8], marker: &[u8]) -> Vec<u8> {
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(marker);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&((marker.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(marker);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_photo_with_two_faces_is_stored_with_both_covered_by_rocks() {
    let Some((a, b)) = two_lfw_faces() else {
        return;
    };
    let engine = require_face_engine();
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    // Ann's Rockelganger is a real gallery rock with images in storage.
    let rock: i64 = sqlx::query_scalar("SELECT id FROM rocks WHERE source <> 'imported' OR source_key NOT LIKE 'test:%' ORDER BY id LIMIT 1")
        .fetch_one(&app.db)
        .await
        .expect("the gallery has rocks");
    sqlx::query("UPDATE accounts SET rock_id = $1 WHERE id = $2")
        .bind(rock)
        .bind(ann.id)
        .execute(&app.db)
        .await
        .expect("set rock");

    const MARKER: &[u8] = b"GPS-48.8584N-2.2945E-secret";
    let upload_bytes = with_metadata(&crate::fixtures::side_by_side(&a, &b), MARKER);
    let before = engine
        .detect(&upload_bytes)
        .await
        .expect("detect on the upload");
    assert!(
        before.len() >= 2,
        "the detector finds both faces in the upload: {}",
        before.len()
    );

    let media = upload(&app, &ann.token, upload_bytes.clone(), "image/jpeg")
        .await
        .ok(200);
    assert_eq!(media["faces_covered"].as_u64(), Some(before.len() as u64));
    let fetch = |url: String| {
        let request = app.client.get(app.url(&url));
        async move {
            let response = request.send().await.expect("GET media");
            (
                response.status().as_u16(),
                response.bytes().await.expect("bytes").to_vec(),
            )
        }
    };
    let image_url = media["url"].as_str().expect("url").to_owned();
    let (status, stored) = fetch(image_url.clone()).await;
    assert_eq!(status, 200);
    // The URL is the permission: knowing the id is not enough.
    let id = media["id"].as_str().expect("id");
    let parts: Vec<&str> = image_url.split('/').collect();
    assert_eq!(
        parts.len(),
        6,
        "/media/attachments/{{id}}/{{token}}/image: {image_url}"
    );
    assert_eq!((parts[3], parts[5]), (id, "image"));
    let token = parts[4];
    let flipped: String = token
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 7 {
                if c == '0' {
                    '1'
                } else {
                    '0'
                }
            } else {
                c
            }
        })
        .collect();
    let other_id = id.parse::<i64>().expect("numeric id") + 1;
    for guess in [
        format!("/media/attachments/{id}/image"),
        format!("/media/attachments/{id}/{flipped}/image"),
        format!(
            "/media/attachments/{id}/{}/image",
            &token[..token.len() - 2]
        ),
        format!("/media/attachments/{id}/{token}00/image"),
        format!("/media/attachments/{other_id}/{token}/image"),
    ] {
        let (status, _) = fetch(guess.clone()).await;
        assert_eq!(status, 404, "{guess}");
    }
    // Attachments never change: an ETag, long caching, and 304 for a client that holds it.
    let first = app
        .client
        .get(app.url(&image_url))
        .send()
        .await
        .expect("GET media");
    let header = |name: &str| {
        first
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let (etag, cache) = (header("etag"), header("cache-control"));
    assert!(!etag.is_empty(), "an ETag is sent");
    assert!(cache.contains("immutable"), "cache-control: {cache}");
    let again = app
        .client
        .get(app.url(&image_url))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("conditional GET media");
    assert_eq!(again.status().as_u16(), 304);
    assert!(again.bytes().await.expect("body").is_empty());
    // Caches send the tag back weak (W/) and in lists; If-None-Match compares weakly.
    let weak = app
        .client
        .get(app.url(&image_url))
        .header("if-none-match", format!("\"other\", W/{etag}"))
        .send()
        .await
        .expect("conditional GET media");
    assert_eq!(weak.status().as_u16(), 304, "a weak match is a match");
    let other = app
        .client
        .get(app.url(&image_url))
        .header("if-none-match", "\"someone-else\"")
        .send()
        .await
        .expect("conditional GET media");
    assert_eq!(other.status().as_u16(), 200, "a stale ETag gets the image");
    let (status, preview) = fetch(
        media["preview_url"]
            .as_str()
            .expect("preview_url")
            .to_owned(),
    )
    .await;
    assert_eq!(status, 200);
    // What is served is what is in storage, and nothing else is stored for it.
    let id = media["id"].as_str().expect("id");
    let mut files: Vec<String> = crate::helpers::walk(&app.storage_root.join("media").join(id))
        .iter()
        .filter_map(|p| p.file_name().and_then(|f| f.to_str()).map(str::to_owned))
        .collect();
    files.sort();
    assert_eq!(files, vec!["image.jpg", "preview.jpg"]);
    assert_eq!(
        std::fs::read(app.storage_root.join("media").join(id).join("image.jpg"))
            .expect("stored file"),
        stored
    );

    if let Some(dir) = std::env::var_os("ROCKSTAR_TEST_DUMP_DIR") {
        // For looking at the result by eye.
        let _ = std::fs::write(
            std::path::Path::new(&dir).join("social_media_stored.jpg"),
            &stored,
        );
    }
    assert_ne!(
        stored, upload_bytes,
        "the stored bytes differ from the upload"
    );
    assert!(
        !contains(&stored, MARKER) && !contains(&stored, b"Exif"),
        "metadata is stripped"
    );
    let after = engine
        .detect(&stored)
        .await
        .expect("detect on the stored image");
    assert!(
        after.is_empty(),
        "the detector finds no face in the stored image: {after:?}"
    );
    let in_preview = engine
        .detect(&preview)
        .await
        .expect("detect on the preview");
    assert!(in_preview.is_empty(), "no face in the preview either");
    let decoded = image::load_from_memory(&preview).expect("preview decodes");
    assert!(decoded.width().max(decoded.height()) <= 400);
    // The rock really went where the faces were: those pixels changed a lot.
    let original = image::load_from_memory(&upload_bytes)
        .expect("upload decodes")
        .to_rgb8();
    let result = image::load_from_memory(&stored)
        .expect("stored decodes")
        .to_rgb8();
    assert_eq!(original.dimensions(), result.dimensions());
    for face in &before {
        let (cx, cy) = (
            ((face.bbox[0] + face.bbox[2]) / 2.0) as u32,
            ((face.bbox[1] + face.bbox[3]) / 2.0) as u32,
        );
        let mut diff = 0u64;
        let mut n = 0u64;
        for y in cy.saturating_sub(20)..(cy + 20).min(result.height()) {
            for x in cx.saturating_sub(20)..(cx + 20).min(result.width()) {
                let (p, q) = (original.get_pixel(x, y).0, result.get_pixel(x, y).0);
                diff += (0..3)
                    .map(|k| (i32::from(p[k]) - i32::from(q[k])).unsigned_abs() as u64)
                    .sum::<u64>();
                n += 3;
            }
        }
        assert!(
            diff / n.max(1) > 15,
            "the face centre at ({cx}, {cy}) was covered (mean change {})",
            diff / n.max(1)
        );
    }
    println!(
        "checked: upload with {} faces -> stored image ({} bytes, differs from the {}-byte upload, no EXIF) \
         in which the detector finds {} faces; preview finds {}",
        before.len(),
        stored.len(),
        upload_bytes.len(),
        after.len(),
        in_preview.len()
    );

    // The image goes into a status.
    let status = post(
        &app,
        "/api/v1/statuses",
        Some(&ann.token),
        json!({ "text": "us two", "media_ids": [media["id"]] }),
    )
    .await
    .ok(200);
    assert_eq!(status["media_attachments"][0]["id"], media["id"]);
    assert_eq!(status["media_attachments"][0]["url"], media["url"]);
    // Only once, and only by its uploader.
    let bob = member(&app, "bob").await;
    post(
        &app,
        "/api/v1/statuses",
        Some(&bob.token),
        json!({ "text": "mine now", "media_ids": [media["id"]] }),
    )
    .await
    .error(422, "media_not_found");
    // Deleting the status deletes the files.
    delete(
        &app,
        &format!("/api/v1/statuses/{}", status["id"].as_str().expect("id")),
        &ann.token,
    )
    .await
    .ok(200);
    assert_eq!(
        fetch(image_url).await.0,
        404,
        "the image left storage with its status"
    );

    // Deleting the account deletes its images too, even one never attached to a status.
    let loose = upload(&app, &ann.token, upload_bytes.clone(), "image/jpeg")
        .await
        .ok(200);
    let loose_url = loose["url"].as_str().expect("url").to_owned();
    assert_eq!(
        fetch(loose_url.clone()).await.0,
        200,
        "the new upload is served"
    );
    delete(&app, "/api/v1/accounts/me", &ann.token)
        .await
        .ok(204);
    assert_eq!(
        fetch(loose_url).await.0,
        404,
        "the image left storage with its account"
    );
}

#[tokio::test]
async fn uploads_that_are_not_images_are_refused() {
    require_face_engine();
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    upload(
        &app,
        &ann.token,
        b"not an image at all".to_vec(),
        "image/jpeg",
    )
    .await
    .error(415, "unsupported_image");
    let landscape = upload_landscape(&app, &ann.token).await;
    assert_eq!(landscape["faces_covered"], 0);
    let form = reqwest::multipart::Form::new().text("other", "x");
    let response = app
        .client
        .post(app.url("/api/v1/media"))
        .bearer_auth(&ann.token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status().as_u16(), 400, "an unknown field");
    let part = || reqwest::multipart::Part::bytes(vec![0xFF, 0xD8, 0xFF]).file_name("a.jpg");
    let twice = reqwest::multipart::Form::new()
        .part("file", part())
        .part("file", part());
    let response = app
        .client
        .post(app.url("/api/v1/media"))
        .bearer_auth(&ann.token)
        .multipart(twice)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.expect("JSON error");
    assert_eq!(body["error"], "duplicate_field", "{body}");
    let response = app
        .client
        .post(app.url("/api/v1/media"))
        .json(&json!({}))
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn uploads_never_attached_are_removed_after_a_day() {
    require_face_engine();
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let media = upload_landscape(&app, &ann.token).await;
        ids.push(media["id"].as_str().expect("id").to_owned());
    }
    let (kept, orphan, fresh) = (&ids[0], &ids[1], &ids[2]);
    post(
        &app,
        "/api/v1/statuses",
        Some(&ann.token),
        json!({ "text": "a view", "media_ids": [kept] }),
    )
    .await
    .ok(200);
    let old: Vec<i64> = [kept, orphan]
        .iter()
        .map(|id| id.parse().expect("numeric id"))
        .collect();
    sqlx::query(
        "UPDATE media_attachments SET created_at = now() - interval '2 days' WHERE id = ANY($1)",
    )
    .bind(&old)
    .execute(&app.db)
    .await
    .expect("age two uploads");

    let storage = app.storage();
    let removed = rockstar::social::uploads::purge_unattached(
        &app.db,
        &storage,
        rockstar::social::uploads::UNATTACHED_LIFETIME,
    )
    .await
    .expect("purge");
    assert_eq!(removed, 1, "only the old upload no status uses goes");
    let left: Vec<i64> = sqlx::query_scalar("SELECT id FROM media_attachments ORDER BY id")
        .fetch_all(&app.db)
        .await
        .expect("rows");
    let want: Vec<i64> = [kept, fresh]
        .iter()
        .map(|id| id.parse().expect("numeric id"))
        .collect();
    assert_eq!(left, want);
    let files = |id: &str| crate::helpers::walk(&app.storage_root.join("media").join(id)).len();
    assert_eq!(files(orphan), 0, "the orphan's files are gone");
    assert_eq!(
        files(kept),
        2,
        "image and preview of the attached upload stay"
    );
    assert_eq!(files(fresh), 2, "a fresh upload may still be attached");
    let gone = app
        .client
        .get(app.url(&crate::helpers::media_url(orphan, "image")))
        .send()
        .await
        .expect("GET");
    assert_eq!(gone.status(), 404);
}

#[tokio::test]
async fn an_upload_whose_account_is_deleted_meanwhile_leaves_no_files() {
    require_face_engine();
    // Every test app has its own media folder, so anything left there is this upload's.
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    // The account disappears exactly when the upload's row is written, as when the
    // member deletes it from another device while the image is being covered.
    sqlx::query(
        "CREATE FUNCTION vanish() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN DELETE FROM accounts WHERE id = NEW.account_id; RETURN NEW; END $$",
    )
    .execute(&app.db)
    .await
    .expect("function");
    sqlx::query(
        "CREATE TRIGGER vanish BEFORE INSERT ON media_attachments \
         FOR EACH ROW EXECUTE FUNCTION vanish()",
    )
    .execute(&app.db)
    .await
    .expect("trigger");
    let response = upload(
        &app,
        &ann.token,
        crate::fixtures::landscape_jpeg(),
        "image/jpeg",
    )
    .await;
    response.error(401, "token_revoked");
    let left = crate::helpers::walk(&app.storage_root.join("media"));
    assert!(left.is_empty(), "files left behind: {left:?}");
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM media_attachments")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(rows, 0);
    app.assert_still_serving().await;
}

#[tokio::test]
async fn a_deleted_members_files_go_even_when_storage_refuses_at_first() {
    require_face_engine();
    let app = spawn_app().await;
    let ann = member(&app, "ann").await;
    let media = upload_landscape(&app, &ann.token).await;
    let id = media["id"].as_str().expect("id").to_owned();
    let url = crate::helpers::media_url(&id, "image");
    let served = app.client.get(app.url(&url)).send().await.expect("GET");
    assert_eq!(served.status(), 200);

    // Storage refuses to remove the image: a folder stands where the file was.
    let folder = app.storage_root.join("media").join(&id);
    let image = folder.join("image.jpg");
    std::fs::remove_file(&image).expect("remove the image");
    std::fs::create_dir_all(image.join("in the way")).expect("a folder in its place");
    delete(&app, "/api/v1/accounts/me", &ann.token)
        .await
        .ok(204);

    assert!(
        !folder.join("preview.jpg").exists(),
        "the preview went at once"
    );
    let queued: Vec<String> = sqlx::query_scalar("SELECT key FROM storage_deletions")
        .fetch_all(&app.db)
        .await
        .expect("queue");
    assert_eq!(queued, [format!("media/{id}/image.jpg")]);
    let gone = app.client.get(app.url(&url)).send().await.expect("GET");
    assert_eq!(gone.status(), 404, "not served while it waits for removal");

    // Storage works again: housekeeping removes what is left and forgets it.
    std::fs::remove_dir_all(&image).expect("clear the way");
    std::fs::write(&image, b"still here").expect("the file again");
    let stale = app.client.get(app.url(&url)).send().await.expect("GET");
    assert_eq!(
        stale.status(),
        404,
        "a file whose row is gone is never served"
    );
    let storage = app.storage();
    let removed = rockstar::social::uploads::retry_removals(&app.db, &storage)
        .await
        .expect("retry");
    assert_eq!(removed, 1);
    assert!(!image.exists(), "the image is removed");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM storage_deletions")
        .fetch_one(&app.db)
        .await
        .expect("queue");
    assert_eq!(left, 0);
}
