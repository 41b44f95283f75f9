//! Import, generate, match and serve rocks with the real face engine, into local
//! storage and into a real S3 server.
#![allow(clippy::expect_used)]
mod common;
mod face_support;

use actix_web::{test, web, App};
use rockstar::rocks::{RockService, RockSettings};
use rockstar::storage::{ObjectStorage, StorageConfig};

fn settings() -> RockSettings {
    RockSettings {
        human_reference: common::repo().join("models/human_reference.bin"),
        ..RockSettings::default()
    }
}

async fn import_into(
    storage: ObjectStorage,
    keys_present: impl Fn(&str) -> bool,
) -> anyhow::Result<()> {
    let Some(engine) = face_support::engine() else {
        return Ok(());
    };
    let Some(pool) = common::database().await else {
        return Ok(());
    };
    let Some((_dir, photos, faces)) = common::handful(5) else {
        return Ok(());
    };
    let service = RockService::load_with(pool.clone(), storage.clone(), engine, settings()).await?;
    assert_eq!(service.len(), 0);

    let report = service
        .import_dir(&photos, Some(&faces), &|_, _| {})
        .await?;
    assert_eq!(report.added.len(), 5, "skipped: {:?}", report.failed);
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].0.ends_with("broken_rock.jpg"));
    assert_eq!(service.len(), 5);

    let rock = service.get(report.added[0]).await?;
    assert!(keys_present(&rock.photo_key) && keys_present(&rock.face_key));
    let photo = service
        .image(&rock, rockstar::rocks::RockImage::Photo)
        .await?;
    // Keys are rocks/imported/<file stem>-<content hash>/photo.jpg.
    let stem = rock.photo_key.split('/').nth(2).unwrap_or_default();
    let stem = stem.rsplit_once('-').map_or(stem, |(stem, _)| stem);
    // Stored re-encoded (no metadata kept), at the original's size and looking like it.
    let original = image::open(photos.join(format!("{stem}.jpg")))?.to_rgb8();
    let stored = image::load_from_memory(&photo)?.to_rgb8();
    let diff = mean_difference(&stored, &original);
    assert!(
        diff.is_some_and(|d| d < 4.0),
        "mean pixel difference {diff:?}"
    );
    let embedding = service.embedding(rock.id).await?;
    assert_eq!(embedding.len(), rockstar::face::APPEARANCE_DIM);

    // Idempotent: a second run adds nothing.
    let again = service
        .import_dir(&photos, Some(&faces), &|_, _| {})
        .await?;
    assert!(again.added.is_empty());
    assert_eq!(again.already_present, 5);
    assert_eq!(rockstar::db::rocks::count(&pool).await?, 5);

    // Another image under a known name is reported, not counted as present.
    let known = photos.join(format!("{stem}.jpg"));
    let mirrored = image::imageops::flip_horizontal(&image::open(&known)?.to_rgb8());
    std::fs::remove_file(&known)?; // a link to the shared data, which stays as it is
    mirrored.save(&known)?;
    let changed = service
        .import_dir(&photos, Some(&faces), &|_, _| {})
        .await?;
    assert!(changed.added.is_empty());
    assert_eq!(changed.already_present, 4);
    let refused: Vec<_> = changed
        .failed
        .iter()
        .filter(|(path, _)| path == &known)
        .collect();
    assert_eq!(refused.len(), 1, "{:?}", changed.failed);
    assert!(refused[0].1.contains("another image"), "{}", refused[0].1);
    assert_eq!(rockstar::db::rocks::count(&pool).await?, 5);

    // A reload from the database sees the same gallery.
    let reloaded = RockService::load_with(
        pool,
        storage,
        face_support::engine().expect("engine"),
        settings(),
    )
    .await?;
    assert_eq!(reloaded.len(), 5);
    Ok(())
}

#[tokio::test]
async fn import_a_handful_into_local_storage() -> anyhow::Result<()> {
    let media = tempfile::tempdir()?;
    let root = media.path().to_path_buf();
    let storage = ObjectStorage::new(&StorageConfig::Local { root: root.clone() })?;
    import_into(storage, |key| root.join(key).is_file()).await
}

#[tokio::test]
async fn import_a_handful_into_s3() -> anyhow::Result<()> {
    let Some(server) = common::s3_server().await else {
        return Ok(());
    };
    let storage = ObjectStorage::new(&server.config())?;
    let bucket_dir = server.root.path().join(&server.bucket);
    import_into(storage, |key| bucket_dir.join(key).is_file()).await
}

/// Runs the PL/pgSQL `statements` before every insert into `rocks` (to make inserts fail).
async fn before_each_rock_insert(pool: &sqlx::PgPool, statements: &str) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "CREATE FUNCTION before_rock_insert() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN {statements} RETURN NEW; END $$"
    ))
    .execute(pool)
    .await?;
    sqlx::query(
        "CREATE TRIGGER before_rock_insert BEFORE INSERT ON rocks \
         FOR EACH ROW EXECUTE FUNCTION before_rock_insert()",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Mean absolute difference of two images' samples (0-255), None when their sizes differ.
fn mean_difference(a: &image::RgbImage, b: &image::RgbImage) -> Option<f64> {
    (a.dimensions() == b.dimensions()).then(|| {
        a.as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| f64::from(x.abs_diff(*y)))
            .sum::<f64>()
            / a.as_raw().len() as f64
    })
}

/// A JPEG with an EXIF segment (orientation, and a description holding `text`) after SOI.
fn with_exif(jpeg: &[u8], orientation: u16, text: &str) -> Vec<u8> {
    let mut desc = text.as_bytes().to_vec();
    desc.push(0);
    // Big-endian TIFF: header, IFD0 with ImageDescription and Orientation, then the text.
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend(2u16.to_be_bytes());
    tiff.extend(0x010eu16.to_be_bytes());
    tiff.extend(2u16.to_be_bytes());
    tiff.extend((desc.len() as u32).to_be_bytes());
    tiff.extend(38u32.to_be_bytes());
    tiff.extend(0x0112u16.to_be_bytes());
    tiff.extend(3u16.to_be_bytes());
    tiff.extend(1u32.to_be_bytes());
    tiff.extend(orientation.to_be_bytes());
    tiff.extend([0, 0]);
    tiff.extend(0u32.to_be_bytes());
    assert_eq!(tiff.len(), 38);
    tiff.extend(desc);
    let mut segment = vec![0xff, 0xe1];
    segment.extend(((tiff.len() + 8) as u16).to_be_bytes());
    segment.extend(b"Exif\0\0");
    segment.extend(tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend(segment);
    out.extend(&jpeg[2..]);
    out
}

#[tokio::test]
async fn imported_images_are_stored_upright_bounded_and_without_metadata() -> anyhow::Result<()> {
    let Some(engine) = face_support::engine() else {
        return Ok(());
    };
    let Some(pool) = common::database().await else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let (photos, faces) = (dir.path().join("photos"), dir.path().join("faces"));
    std::fs::create_dir_all(&photos)?;
    std::fs::create_dir_all(&faces)?;
    // A 3000x1000 photo stored on its side: EXIF orientation 6 shows it 1000x3000.
    let wide = image::RgbImage::from_fn(3000, 1000, |x, y| {
        image::Rgb([(x / 12) as u8, (y / 4) as u8, ((x + y) / 16) as u8])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85).encode_image(&wide)?;
    const MARK: &str = "GPS 48.8584 N, taken by serial 12345";
    std::fs::write(photos.join("turned.jpg"), with_exif(&jpeg, 6, MARK))?;
    // Its face crop has an extension in mixed case.
    let mut face = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut face, 85)
        .encode_image(&image::imageops::crop_imm(&wide, 1000, 0, 1000, 1000).to_image())?;
    std::fs::write(faces.join("turned.Jpg"), &face)?;
    // A JPEG cut short: decoders would fill its lower half with grey.
    std::fs::write(photos.join("cut.jpg"), &jpeg[..jpeg.len() / 2])?;
    std::fs::write(faces.join("cut.jpg"), &face)?;

    let media = tempfile::tempdir()?;
    let storage = ObjectStorage::new(&StorageConfig::Local {
        root: media.path().to_path_buf(),
    })?;
    let service = RockService::load_with(pool, storage, engine, settings()).await?;
    let report = service
        .import_dir(&photos, Some(&faces), &|_, _| {})
        .await?;
    assert_eq!(report.added.len(), 1, "{:?}", report.failed);
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    assert!(report.failed[0].0.ends_with("cut.jpg"));
    assert!(
        report.failed[0].1.contains("truncated"),
        "{}",
        report.failed[0].1
    );
    assert!(report.stopped.is_none());

    let rock = service.get(report.added[0]).await?;
    let photo = service
        .image(&rock, rockstar::rocks::RockImage::Photo)
        .await?;
    assert!(!photo.windows(6).any(|w| w == b"Exif\0\0"), "EXIF kept");
    assert!(
        !photo.windows(MARK.len()).any(|w| w == MARK.as_bytes()),
        "metadata kept"
    );
    let stored = image::load_from_memory(&photo)?;
    // Upright (taller than wide), and at most 2048 px on a side.
    assert_eq!((stored.width(), stored.height()), (683, 2048));
    Ok(())
}

#[tokio::test]
async fn two_files_with_one_rock_id_import_once_and_keep_the_first_images() -> anyhow::Result<()> {
    let Some(engine) = face_support::engine() else {
        return Ok(());
    };
    let Some(pool) = common::database().await else {
        return Ok(());
    };
    let Some((dir, photos, faces)) = common::handful(2) else {
        return Ok(());
    };
    // "dup 1" and "dup_1" are both rock id dup_1; "dup 1" sorts first.
    let (both, both_faces) = (dir.path().join("both"), dir.path().join("both_faces"));
    std::fs::create_dir_all(&both)?;
    std::fs::create_dir_all(&both_faces)?;
    let mut names: Vec<_> = std::fs::read_dir(&photos)?
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n != "broken_rock.jpg")
        .collect();
    names.sort();
    for (name, alias) in names.iter().zip(["dup 1.jpg", "dup_1.jpg"]) {
        std::os::unix::fs::symlink(std::fs::canonicalize(photos.join(name))?, both.join(alias))?;
        std::os::unix::fs::symlink(
            std::fs::canonicalize(faces.join(name))?,
            both_faces.join(alias),
        )?;
    }
    let media = tempfile::tempdir()?;
    let storage = ObjectStorage::new(&StorageConfig::Local {
        root: media.path().to_path_buf(),
    })?;
    let service = RockService::load_with(pool, storage.clone(), engine, settings()).await?;
    let report = service
        .import_dir(&both, Some(&both_faces), &|_, _| {})
        .await?;
    assert_eq!(report.added.len(), 1, "{:?}", report.failed);
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].0.ends_with("dup_1.jpg"));
    assert!(
        report.failed[0].1.contains("dup 1.jpg"),
        "{}",
        report.failed[0].1
    );

    let rock = service.get(report.added[0]).await?;
    let photo = service
        .image(&rock, rockstar::rocks::RockImage::Photo)
        .await?;
    // The first file's image (stored re-encoded, so compared by its pixels).
    let stored = image::load_from_memory(&photo)?.to_rgb8();
    let first = image::open(both.join("dup 1.jpg"))?.to_rgb8();
    let second = image::open(both.join("dup_1.jpg"))?.to_rgb8();
    let to_first = mean_difference(&stored, &first).unwrap_or(f64::INFINITY);
    assert!(
        to_first < 4.0,
        "mean difference to the first file {to_first}"
    );
    if let Some(to_second) = mean_difference(&stored, &second) {
        assert!(to_first < to_second, "{to_first} vs {to_second}");
    }
    let mut stored = storage.list("rocks").await?;
    stored.sort();
    let mut expected = vec![rock.photo_key.clone(), rock.face_key.clone()];
    expected.sort();
    assert_eq!(stored, expected, "nothing else is written");
    // An imported gallery is the operator's: the built-in one is not added to it.
    service.ensure_gallery().await?;
    assert_eq!(service.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_database_error_leaves_no_unreferenced_images_behind() -> anyhow::Result<()> {
    let Some(engine) = face_support::engine() else {
        return Ok(());
    };
    let Some(pool) = common::database().await else {
        return Ok(());
    };
    let Some((_dir, photos, faces)) = common::handful(3) else {
        return Ok(());
    };
    // The first rock goes in; every later insert fails inside PostgreSQL.
    before_each_rock_insert(
        &pool,
        "IF (SELECT count(*) FROM rocks) >= 1 THEN RAISE EXCEPTION 'disk full'; END IF;",
    )
    .await?;
    let media = tempfile::tempdir()?;
    let storage = ObjectStorage::new(&StorageConfig::Local {
        root: media.path().to_path_buf(),
    })?;
    let service = RockService::load_with(pool.clone(), storage.clone(), engine, settings()).await?;
    let report = service
        .import_dir(&photos, Some(&faces), &|_, _| {})
        .await?;
    // The run stops at the first database error, and says which files it did not reach.
    assert_eq!(report.added.len(), 1, "{report:?}");
    let stopped = report.stopped.clone().unwrap_or_default();
    assert!(stopped.contains("disk full"), "{report:?}");
    let failed: Vec<&str> = report.failed.iter().map(|(_, why)| why.as_str()).collect();
    assert_eq!(
        failed
            .iter()
            .filter(|why| why.contains("disk full"))
            .count(),
        1,
        "{report:?}"
    );
    assert_eq!(
        failed
            .iter()
            .filter(|why| why.contains("the run stopped"))
            .count(),
        1,
        "{report:?}"
    );

    let kept: Vec<(String, String)> = sqlx::query_as("SELECT photo_key, face_key FROM rocks")
        .fetch_all(&pool)
        .await?;
    assert_eq!(kept.len(), 1);
    let mut expected = vec![kept[0].0.clone(), kept[0].1.clone()];
    expected.sort();
    let mut stored = storage.list("rocks").await?;
    stored.sort();
    assert_eq!(stored, expected, "only the stored row's images remain");
    Ok(())
}

#[tokio::test]
async fn a_failed_import_never_removes_images_a_concurrent_one_stored() -> anyhow::Result<()> {
    let Some(engine) = face_support::engine() else {
        return Ok(());
    };
    let Some(pool) = common::database().await else {
        return Ok(());
    };
    let Some((_dir, photos, faces)) = common::handful(1) else {
        return Ok(());
    };
    // The first insert waits 3 s, then fails; later ones pass (a sequence is not rolled
    // back). Two imports of one folder write the same image keys: the one that fails must
    // not remove what the other, meanwhile, stored and pointed its row at.
    sqlx::query("CREATE SEQUENCE insert_attempts")
        .execute(&pool)
        .await?;
    before_each_rock_insert(
        &pool,
        "IF nextval('insert_attempts') = 1 THEN PERFORM pg_sleep(3); \
         RAISE EXCEPTION 'disk full'; END IF;",
    )
    .await?;
    let media = tempfile::tempdir()?;
    let storage = ObjectStorage::new(&StorageConfig::Local {
        root: media.path().to_path_buf(),
    })?;
    let service = RockService::load_with(pool.clone(), storage.clone(), engine, settings()).await?;
    let (a, b) = tokio::join!(
        service.import_dir(&photos, Some(&faces), &|_, _| {}),
        service.import_dir(&photos, Some(&faces), &|_, _| {}),
    );
    let (a, b) = (a?, b?);
    assert_eq!(a.added.len() + b.added.len(), 1, "{a:?} {b:?}");
    assert_eq!(
        [&a, &b].iter().filter(|r| r.stopped.is_some()).count(),
        1,
        "{a:?} {b:?}"
    );
    let kept: Vec<(String, String)> = sqlx::query_as("SELECT photo_key, face_key FROM rocks")
        .fetch_all(&pool)
        .await?;
    assert_eq!(kept.len(), 1);
    for key in [&kept[0].0, &kept[0].1] {
        assert!(
            storage.head(key).await?.is_some(),
            "{key}: the stored rock's image was removed; {a:?} {b:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn import_without_faces_uses_a_detected_or_centred_crop() -> anyhow::Result<()> {
    let Some(engine) = face_support::engine() else {
        return Ok(());
    };
    let Some(pool) = common::database().await else {
        return Ok(());
    };
    let Some((_dir, photos, _faces)) = common::handful(3) else {
        return Ok(());
    };
    let media = tempfile::tempdir()?;
    let storage = ObjectStorage::new(&StorageConfig::Local {
        root: media.path().to_path_buf(),
    })?;
    let service = RockService::load_with(pool, storage, engine, settings()).await?;
    let report = service.import_dir(&photos, None, &|_, _| {}).await?;
    assert_eq!(report.added.len(), 3);
    let rock = service.get(report.added[0]).await?;
    let face = image::load_from_memory(
        &service
            .image(&rock, rockstar::rocks::RockImage::Face)
            .await?,
    )?;
    let photo = image::load_from_memory(
        &service
            .image(&rock, rockstar::rocks::RockImage::Photo)
            .await?,
    )?;
    assert!(
        face.width() < photo.width() || face.height() < photo.height(),
        "the face is a crop of the photo"
    );
    Ok(())
}

#[tokio::test]
async fn a_photo_turned_by_exif_is_imported_upright() -> anyhow::Result<()> {
    let Some(engine) = face_support::engine() else {
        return Ok(());
    };
    let Some(pool) = common::database().await else {
        return Ok(());
    };
    let Some((_dir, photos, faces)) = common::handful(1) else {
        return Ok(());
    };
    // The same rock again, its photo and face stored a quarter turn round with EXIF
    // orientation 6, as a phone writes a portrait shot.
    let name = std::fs::read_dir(&photos)?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n != "broken_rock.jpg")
        .expect("one photo");
    let turned = tempfile::tempdir()?;
    let (turned_photos, turned_faces) = (turned.path().join("photos"), turned.path().join("faces"));
    let mut upright = Vec::new();
    for (from, to) in [(&photos, &turned_photos), (&faces, &turned_faces)] {
        std::fs::create_dir_all(to)?;
        let img = image::open(from.join(&name))?.to_rgb8();
        let jpeg = face_support::encode_jpeg(&image::imageops::rotate270(&img));
        std::fs::write(
            to.join(format!("turned_{name}")),
            face_support::with_exif_orientation(&jpeg, 6),
        )?;
        upright.push(img.dimensions());
    }
    // A name that is not UTF-8 cannot give a rock id: reported, not imported as "rock".
    let latin1 = <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"caf\xe9.jpg");
    std::fs::copy(photos.join(&name), turned_photos.join(latin1))?;
    let media = tempfile::tempdir()?;
    let storage = ObjectStorage::new(&StorageConfig::Local {
        root: media.path().to_path_buf(),
    })?;
    let service = RockService::load_with(pool, storage, engine, settings()).await?;
    let plain = service
        .import_dir(&photos, Some(&faces), &|_, _| {})
        .await?;
    let report = service
        .import_dir(&turned_photos, Some(&turned_faces), &|_, _| {})
        .await?;
    assert_eq!(report.added.len(), 1, "{:?}", report.failed);
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    assert!(report.failed[0].1.contains("UTF-8"), "{:?}", report.failed);
    let rock = service.get(report.added[0]).await?;
    // Stored upright, with no EXIF left to say otherwise (decoders that ignore it agree).
    for (which, want) in [
        (rockstar::rocks::RockImage::Photo, upright[0]),
        (rockstar::rocks::RockImage::Face, upright[1]),
    ] {
        let stored = image::load_from_memory(&service.image(&rock, which).await?)?;
        assert_eq!((stored.width(), stored.height()), want, "{which:?}");
    }
    // And embedded as the upright rock is.
    let (a, b) = (
        service.embedding(plain.added[0]).await?,
        service.embedding(rock.id).await?,
    );
    let cosine = face_support::cosine(&a, &b);
    assert!(cosine > 0.95, "cosine {cosine}");
    Ok(())
}

#[tokio::test]
async fn generated_gallery_fills_an_empty_install_once() -> anyhow::Result<()> {
    let Some(engine) = face_support::engine() else {
        return Ok(());
    };
    let Some(pool) = common::database().await else {
        return Ok(());
    };
    let media = tempfile::tempdir()?;
    let storage = ObjectStorage::new(&StorageConfig::Local {
        root: media.path().to_path_buf(),
    })?;
    let settings = RockSettings {
        generate_count: 6,
        ..settings()
    };
    // A second process (a server) loaded the empty gallery before the rocks came.
    let server = RockService::load_with(
        pool.clone(),
        storage.clone(),
        engine.clone(),
        settings.clone(),
    )
    .await?;
    // A first start interrupted after two rocks: the next start completes the gallery.
    let interrupted = RockService::load_with(
        pool.clone(),
        storage.clone(),
        engine.clone(),
        RockSettings {
            generate_count: 2,
            ..settings.clone()
        },
    )
    .await?;
    interrupted.ensure_gallery().await?;
    assert_eq!(rockstar::db::rocks::count(&pool).await?, 2);
    let service = RockService::load_with(pool.clone(), storage, engine, settings).await?;
    service.ensure_gallery().await?;
    assert_eq!(service.len(), 6);
    service.ensure_gallery().await?;
    assert_eq!(rockstar::db::rocks::count(&pool).await?, 6);
    assert_eq!(server.len(), 0);
    assert!(
        server.refresh_if_changed().await?,
        "the server sees new rocks"
    );
    assert_eq!(server.len(), 6);
    assert!(
        !server.refresh_if_changed().await?,
        "and reloads only on change"
    );
    let sources: Vec<String> = sqlx::query_scalar("SELECT DISTINCT source FROM rocks")
        .fetch_all(&pool)
        .await?;
    assert_eq!(sources, vec!["generated".to_string()]);
    Ok(())
}

#[tokio::test]
async fn a_face_gets_a_rock_of_the_gallery_and_the_api_serves_it() -> anyhow::Result<()> {
    let Some(engine) = face_support::engine() else {
        return Ok(());
    };
    let Some(pool) = common::database().await else {
        return Ok(());
    };
    let Some((_dir, photos, faces)) = common::handful(8) else {
        return Ok(());
    };
    let Some(pairs) = common::shared_data("pairs") else {
        return Ok(());
    };
    let media = tempfile::tempdir()?;
    let storage = ObjectStorage::new(&StorageConfig::Local {
        root: media.path().to_path_buf(),
    })?;
    let service = RockService::load_with(pool, storage, engine.clone(), settings()).await?;
    let report = service
        .import_dir(&photos, Some(&faces), &|_, _| {})
        .await?;

    let selfie = std::fs::read(pairs.join("human_000.jpg"))?;
    let signature = engine.analyse(rockstar::face::Photo::new(selfie)).await?;
    let found = service.best_match(&signature)?;
    assert!(report.added.contains(&found.rock_id));
    assert!((-1.0..=1.0).contains(&found.similarity));

    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(service.clone()))
            .configure(rockstar::http::rocks::routes),
    )
    .await;
    let resp = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/rocks?limit=5")
            .to_request(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    let link = resp
        .headers()
        .get("link")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_default();
    assert!(link.contains("rel=\"next\""), "{link}");
    let page: Vec<serde_json::Value> = test::read_body_json(resp).await;
    assert_eq!(page.len(), 5);

    let id = found.rock_id;
    let body: serde_json::Value = test::call_and_read_body_json(
        &app,
        test::TestRequest::get()
            .uri(&format!("/api/v1/rocks/{id}"))
            .to_request(),
    )
    .await;
    assert_eq!(body["id"], id.to_string());
    let photo_url = body["photo_url"].as_str().unwrap_or_default().to_string();
    let face_url = body["face_url"].as_str().unwrap_or_default().to_string();
    assert!(
        photo_url.starts_with(&format!("/media/rocks/{id}/photo?v=")),
        "{body}"
    );
    assert!(
        face_url.starts_with(&format!("/media/rocks/{id}/face?v=")),
        "{body}"
    );
    assert_eq!(body["members"], 0);

    // The URL the API gives names the stored bytes: cached for good. The same image asked
    // for without that version (or with another) may change, after a rebuilt gallery
    // reuses the id: revalidated each time.
    let cache_control = |resp: &actix_web::dev::ServiceResponse| {
        resp.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    for (uri, want) in [
        (format!("/media/rocks/{id}/face"), "public, no-cache"),
        (
            format!("/media/rocks/{id}/face?v=0123456789abcdef"),
            "public, no-cache",
        ),
        (face_url.clone(), "public, max-age=31536000, immutable"),
    ] {
        let resp = test::call_service(&app, test::TestRequest::get().uri(&uri).to_request()).await;
        assert_eq!(resp.status(), 200, "{uri}");
        assert_eq!(cache_control(&resp), want, "{uri}");
    }
    let resp = test::call_service(&app, test::TestRequest::get().uri(&face_url).to_request()).await;
    assert_eq!(resp.status(), 200);
    let etag = resp
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_default();
    let bytes = test::read_body(resp).await;
    assert!(image::load_from_memory(&bytes).is_ok());
    let resp = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&format!("/media/rocks/{id}/face"))
            .insert_header(("if-none-match", etag.clone()))
            .to_request(),
    )
    .await;
    assert_eq!(resp.status(), 304);
    // A client holding the image is answered without reading it from storage.
    let rock = service.get(id).await?;
    std::fs::remove_file(media.path().join(&rock.face_key))?;
    let resp = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&format!("/media/rocks/{id}/face"))
            .insert_header(("if-none-match", etag))
            .to_request(),
    )
    .await;
    assert_eq!(resp.status(), 304, "answered from the ETag alone");

    for (uri, status, code) in [
        ("/api/v1/rocks/999999", 404, "rock_not_found"),
        ("/api/v1/rocks/abc", 404, "rock_not_found"),
        ("/media/rocks/999999/face", 404, "rock_not_found"),
        ("/api/v1/rocks?limit=0", 400, "invalid_parameter"),
        ("/api/v1/rocks?after=x", 400, "invalid_parameter"),
        ("/media/rocks/1/ear", 404, "not_found"),
    ] {
        let resp = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(resp.status(), status, "{uri}");
        let body: serde_json::Value = test::read_body_json(resp).await;
        assert_eq!(body["error"], code, "{uri}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{uri}: {body}"
        );
    }
    // Empty parameters mean the defaults, as on the timelines.
    let resp = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/rocks?limit=&after=")
            .to_request(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    Ok(())
}
