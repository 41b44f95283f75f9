//! After several sign-ups, neither the photos nor anything close to the face embeddings
//! may be found in the database, the object store, the data folder or the logs.
use crate::helpers::*;
use rockstar::face::Photo;
use std::collections::{HashMap, HashSet};

/// Cosine above this counts as "the face embedding, stored".
const CLOSE: f64 = 0.9;
const WINDOW: usize = 32;

#[tokio::test]
async fn no_photo_bytes_or_face_vectors_are_kept_anywhere() {
    let photos: Vec<Vec<u8>> = (5..9).filter_map(human_photo).collect();
    if photos.len() < 3 {
        println!("SKIPPED: privacy test needs 3 photos from ../shared/data/pairs");
        return;
    }
    let engine = require_face_engine();
    let app = spawn_app().await;
    let before = float_arrays(&app)
        .await
        .into_iter()
        .map(bits)
        .collect::<HashSet<_>>();

    let mut created = 0;
    for (i, photo) in photos.iter().enumerate() {
        let response = app
            .sign_up(Form::new(
                &format!("private_{i}"),
                "correct horse battery",
                photo.clone(),
            ))
            .await;
        if response.status() == 201 {
            created += 1;
        }
    }
    assert!(
        created >= 3,
        "at least three sign-ups should succeed, got {created}"
    );
    // A refused sign-up (taken name) also carried a photo.
    let refused = app
        .sign_up(Form::new(
            "private_0",
            "correct horse battery",
            photos[0].clone(),
        ))
        .await;
    assert_eq!(refused.status(), 409);
    // Everything the server would do with those requests is done once it has stopped.
    app.stop().await;

    // The face vectors, computed independently by the engine.
    let mut faces: Vec<Vec<f64>> = Vec::new();
    for photo in &photos {
        if let Ok(signature) = engine.analyse(Photo::new(photo.clone())).await {
            faces.push(signature.identity().iter().map(|&v| v as f64).collect());
            faces.push(signature.appearance().iter().map(|&v| v as f64).collect());
        }
    }
    assert!(
        faces.len() >= 6,
        "the engine should describe the test faces"
    );
    let needles = PhotoNeedles::new(&photos);

    // Positive controls: the scanners do find what they look for.
    let planted = format!(
        "{{{}}}",
        faces[0]
            .iter()
            .map(|v| format!("{}", *v as f32))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!(
        vectors_close_in_text(&planted, &faces, &HashSet::new()).is_some(),
        "text scanner control"
    );
    let mid = photos[0].len() / 2;
    let mut haystack = b"prefix".to_vec();
    haystack.extend_from_slice(&photos[0][mid..mid + 40]);
    assert!(needles.find_in(&haystack).is_some(), "byte scanner control");
    assert!(
        needles
            .find_in(hex::encode(&photos[0][mid..mid + 40]).as_bytes())
            .is_some(),
        "hex scanner control"
    );

    // 1. Database: every float array, typed.
    for array in float_arrays(&app).await {
        if before.contains(&bits(array.clone())) {
            continue; // gallery vectors that predate the sign-ups
        }
        for face in &faces {
            if let Some(c) = best_window_cosine(&array, face) {
                assert!(
                    c < CLOSE,
                    "a stored float array has cosine {c:.3} with a face vector"
                );
            }
        }
    }
    // 2. Database: every row of every table, as text.
    let dump = dump_database(&app).await;
    assert!(dump.contains("private_0"), "the dump covers the accounts");
    if let Some(c) = vectors_close_in_text(&dump, &faces, &before) {
        panic!("the database text holds a vector with cosine {c:.3} to a face");
    }
    assert!(
        needles.find_in(dump.as_bytes()).is_none(),
        "photo bytes found in the database"
    );
    // 3. Object store and the data folder.
    for root in [app.storage_root.clone(), app.data_dir.path().to_path_buf()] {
        for file in walk(&root) {
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            assert!(
                needles.find_in(&bytes).is_none(),
                "photo bytes found in {}",
                file.display()
            );
        }
    }
    // 4. Logs.
    let logs = String::from_utf8_lossy(&captured_logs()).into_owned();
    assert!(logs.contains("account created"), "the logs were captured");
    assert!(
        needles.find_in(logs.as_bytes()).is_none(),
        "photo bytes found in the logs"
    );
    if let Some(c) = vectors_close_in_text(&logs, &faces, &HashSet::new()) {
        panic!("the logs hold a vector with cosine {c:.3} to a face");
    }
}

fn bits(v: Vec<f64>) -> Vec<u32> {
    v.into_iter().map(|x| (x as f32).to_bits()).collect()
}

/// Every value of every float-array column in the public schema.
async fn float_arrays(app: &TestApp) -> Vec<Vec<f64>> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND data_type = 'ARRAY' AND udt_name IN ('_float4', '_float8', '_numeric')",
    )
    .fetch_all(&app.db)
    .await
    .expect("columns");
    assert!(
        !columns.is_empty(),
        "rocks.embedding and accounts.rock_embedding are float arrays"
    );
    let mut out = Vec::new();
    for (table, column) in columns {
        let rows: Vec<Option<Vec<f64>>> =
            sqlx::query_scalar(&format!("SELECT \"{column}\"::float8[] FROM \"{table}\""))
                .fetch_all(&app.db)
                .await
                .expect("array column");
        out.extend(rows.into_iter().flatten());
    }
    out
}

async fn dump_database(app: &TestApp) -> String {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&app.db)
    .await
    .expect("tables");
    let mut dump = String::new();
    for table in tables {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t"))
            .fetch_all(&app.db)
            .await
            .expect("rows");
        dump.push_str(&table);
        dump.push('\n');
        for row in rows {
            dump.push_str(&row);
            dump.push('\n');
        }
    }
    dump
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let (mut dot, mut na, mut nb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// Highest cosine between `face` and any face-length window of `values`.
fn best_window_cosine(values: &[f64], face: &[f64]) -> Option<f64> {
    if values.len() < face.len() || face.is_empty() {
        return None;
    }
    (0..=values.len() - face.len())
        .map(|i| cosine(&values[i..i + face.len()], face))
        .reduce(f64::max)
}

/// Finds runs of numbers in text (separated by commas/spaces/brackets) and compares
/// every face-length window with the faces; runs that are gallery vectors are skipped.
fn vectors_close_in_text(text: &str, faces: &[Vec<f64>], known: &HashSet<Vec<u32>>) -> Option<f64> {
    let min_len = faces.iter().map(Vec::len).min().unwrap_or(0);
    let mut best: Option<f64> = None;
    for run in number_runs(text) {
        if run.len() < min_len || known.contains(&bits(run.clone())) {
            continue;
        }
        for face in faces {
            if let Some(c) = best_window_cosine(&run, face) {
                if c >= CLOSE {
                    best = Some(best.map_or(c, |b: f64| b.max(c)));
                }
            }
        }
    }
    best
}

fn number_runs(text: &str) -> Vec<Vec<f64>> {
    let is_num = |c: char| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E');
    let mut runs = Vec::new();
    let mut run: Vec<f64> = Vec::new();
    let mut rest = text;
    loop {
        let start = rest.find(|c: char| is_num(c));
        let Some(start) = start else { break };
        let gap = &rest[..start];
        let separator = gap.len() <= 4
            && gap
                .chars()
                .all(|c| matches!(c, ',' | ' ' | '\n' | '\t' | '{' | '[' | '('));
        if !separator && !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
        let token_end = rest[start..]
            .find(|c: char| !is_num(c))
            .map_or(rest.len(), |e| start + e);
        match rest[start..token_end].parse::<f64>() {
            Ok(v) => run.push(v),
            Err(_) => {
                if !run.is_empty() {
                    runs.push(std::mem::take(&mut run));
                }
            }
        }
        rest = &rest[token_end..];
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// 32-byte windows of the photos' compressed image data (after the JPEG start-of-scan
/// marker, so shared standard tables in headers do not match unrelated JPEGs), also
/// searched as lowercase hex.
struct PhotoNeedles {
    raw: HashMap<u64, Vec<[u8; WINDOW]>>,
    hex: HashMap<u64, Vec<Vec<u8>>>,
}

impl PhotoNeedles {
    fn new(photos: &[Vec<u8>]) -> Self {
        let mut raw: HashMap<u64, Vec<[u8; WINDOW]>> = HashMap::new();
        let mut hex_map: HashMap<u64, Vec<Vec<u8>>> = HashMap::new();
        for photo in photos {
            let start = photo
                .windows(2)
                .position(|w| w == [0xFF, 0xDA])
                .map_or(0, |p| p + 64);
            let body = &photo[start.min(photo.len())..photo.len().saturating_sub(2)];
            for (i, window) in body.windows(WINDOW).enumerate() {
                let mut w = [0u8; WINDOW];
                w.copy_from_slice(window);
                raw.entry(key(&w)).or_default().push(w);
                if i % 2 == 0 {
                    let h = hex::encode(window).into_bytes();
                    hex_map.entry(key(&h)).or_default().push(h);
                }
            }
        }
        PhotoNeedles { raw, hex: hex_map }
    }

    fn find_in(&self, haystack: &[u8]) -> Option<usize> {
        if haystack.len() < 8 {
            return None;
        }
        for i in 0..=haystack.len() - 8 {
            let k = key(&haystack[i..]);
            if let Some(candidates) = self.raw.get(&k) {
                if candidates.iter().any(|w| haystack[i..].starts_with(w)) {
                    return Some(i);
                }
            }
            if let Some(candidates) = self.hex.get(&k) {
                if candidates.iter().any(|w| haystack[i..].starts_with(w)) {
                    return Some(i);
                }
            }
        }
        None
    }
}

fn key(bytes: &[u8]) -> u64 {
    let mut k = [0u8; 8];
    k.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(k)
}
