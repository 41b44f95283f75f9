//! Feature extraction from folders of files, for the CLI tools (calibrate, eval).
//! Nothing here runs in the server.
use crate::face::{FaceEngine, FaceError, Photo};
use std::path::{Path, PathBuf};

/// Raw features of one human photo.
pub struct HumanFeatures {
    pub appearance: Vec<f32>,
    pub identity: Vec<f32>,
}

/// Features kept between runs of `rocks calibrate` and `eval pairs` (keyed by kind and path).
/// They hold only for the models that made them: the file records the SHA-256 of those
/// models' `manifest.json`, and a cache made with other models is set aside, not reused.
pub fn load_feature_cache(
    path: Option<&Path>,
    models_dir: &Path,
) -> anyhow::Result<std::collections::HashMap<String, Vec<f32>>> {
    use sha2::Digest;
    let manifest = models_dir.join("manifest.json");
    let stamp = format!(
        "models:{}",
        hex::encode(sha2::Sha256::digest(std::fs::read(&manifest).map_err(
            |e| { anyhow::anyhow!("reading {}: {e}", manifest.display()) }
        )?))
    );
    let mut cache: std::collections::HashMap<String, Vec<f32>> = match path {
        Some(p) if p.exists() => serde_json::from_slice(&std::fs::read(p)?)
            .map_err(|e| anyhow::anyhow!("{} is not a features cache: {e}", p.display()))?,
        _ => Default::default(),
    };
    if !cache.is_empty() && !cache.contains_key(&stamp) {
        eprintln!("the features cache was made with other models; computing afresh");
        cache.clear();
    }
    cache.insert(stamp, Vec::new());
    Ok(cache)
}

pub fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| {
            matches!(
                e.to_ascii_lowercase().as_str(),
                "jpg" | "jpeg" | "png" | "webp"
            )
        })
        .unwrap_or(false)
}

/// Image files directly in `dir`, sorted.
pub fn images_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_image(p))
        .collect();
    files.sort();
    Ok(files)
}

/// One photo per person for an LFW-style folder (one sub-folder per person), sorted by name.
pub fn one_photo_per_person(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut people: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    people.sort();
    let mut out = Vec::new();
    for p in people {
        if let Some(first) = images_in(&p)?.into_iter().next() {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            out.push((name, first));
        }
    }
    Ok(out)
}

pub async fn human_features(engine: &FaceEngine, path: &Path) -> Result<HumanFeatures, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let sig = engine
        .analyse(Photo::new(bytes))
        .await
        .map_err(|e: FaceError| e.to_string())?;
    Ok(HumanFeatures {
        appearance: sig.appearance().to_vec(),
        identity: sig.identity().to_vec(),
    })
}

/// Rock-domain features of face crops, batched; None for files that do not decode.
pub async fn rock_features(
    engine: &FaceEngine,
    paths: &[PathBuf],
    progress: &dyn Fn(u64),
) -> Result<Vec<Option<Vec<f32>>>, FaceError> {
    let mut out: Vec<Option<Vec<f32>>> = Vec::with_capacity(paths.len());
    for chunk in paths.chunks(16) {
        let decoded: Vec<Option<image::RgbImage>> = chunk
            .iter()
            .map(|p| image::open(p).ok().map(|i| i.to_rgb8()))
            .collect();
        let crops: Vec<image::RgbImage> = decoded.iter().flatten().cloned().collect();
        let mut feats = engine.rock_appearance(crops).await?.into_iter();
        for d in &decoded {
            out.push(if d.is_some() { feats.next() } else { None });
        }
        progress(out.len() as u64);
    }
    Ok(out)
}

/// A grey 24x24 thumbnail in [0, 1], for near-duplicate detection.
pub fn thumbnail(path: &Path) -> Option<Vec<f32>> {
    let img = image::open(path).ok()?.to_luma8();
    let small = image::imageops::resize(&img, 24, 24, image::imageops::FilterType::Triangle);
    Some(small.pixels().map(|p| p.0[0] as f32 / 255.0).collect())
}

pub fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}
