//! `rocks import`: every image in a folder becomes a rock, idempotently.
use super::gallery::{display_name, encode_jpeg, slug, RockInput};
use super::{RockError, RockService};
use bytes::Bytes;
use image::RgbImage;
use std::path::{Path, PathBuf};

/// Rocks embedded per engine call.
pub const BATCH: usize = 16;
/// Larger inputs are refused rather than decoded.
const MAX_FILE_BYTES: u64 = 25 * 1024 * 1024;
const MAX_PIXELS: u64 = 40_000_000;

const IMAGE_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

#[derive(Debug, Default, serde::Serialize)]
pub struct ImportReport {
    /// Ids of the rocks added by this run.
    pub added: Vec<i64>,
    /// Files whose rock was already in the gallery.
    pub already_present: usize,
    /// Files skipped, with the reason.
    pub failed: Vec<(PathBuf, String)>,
}

/// Progress callback: (done, total).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

struct Prepared {
    stem: String,
    photo_jpeg: Bytes,
    face: RgbImage,
    face_jpeg: Bytes,
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

fn stem(path: &Path) -> Option<String> {
    path.file_stem()
        .and_then(|s| s.to_str())
        .map(str::to_string)
}

/// Decodes with limits; keeps the original bytes when they are already JPEG.
fn load_image(path: &Path) -> Result<(RgbImage, Bytes), String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("file is larger than {MAX_FILE_BYTES} bytes"));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let reader = image::ImageReader::new(std::io::Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let format = reader
        .format()
        .ok_or("not a supported image (JPEG, PNG or WebP)")?;
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| format!("not a readable image: {e}"))?;
    let (w, h) = image::ImageDecoder::dimensions(&decoder);
    if w as u64 * h as u64 > MAX_PIXELS {
        return Err(format!("image is too large ({w}x{h})"));
    }
    let orientation = image::ImageDecoder::orientation(&mut decoder)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder)
        .map_err(|e| format!("not a readable image: {e}"))?;
    // Crops and the detector work on the photo as it is shown: upright. A turned JPEG is
    // stored re-encoded upright, so its bytes and its crop agree without EXIF.
    let upright = orientation == image::metadata::Orientation::NoTransforms;
    img.apply_orientation(orientation);
    let img = img.to_rgb8();
    let jpeg = if format == image::ImageFormat::Jpeg && upright {
        Bytes::from(bytes)
    } else {
        encode_jpeg(&img).map_err(|e| e.to_string())?
    };
    Ok((img, jpeg))
}

/// The face file next to a photo: same stem, any image extension.
fn face_file(faces: &Path, stem: &str) -> Option<PathBuf> {
    IMAGE_EXTENSIONS
        .iter()
        .flat_map(|e| [e.to_string(), e.to_ascii_uppercase()])
        .map(|e| faces.join(format!("{stem}.{e}")))
        .find(|p| p.is_file())
}

/// Square centre crop over 70 % of the shorter side: where a face-like rock's face usually is.
fn centre_crop(img: &RgbImage) -> RgbImage {
    let side = ((img.width().min(img.height()) as f32) * 0.7).max(1.0) as u32;
    let x = (img.width() - side) / 2;
    let y = (img.height() - side) / 2;
    image::imageops::crop_imm(img, x, y, side, side).to_image()
}

impl RockService {
    /// Imports every image in `photos`; `faces` holds hand-cropped faces by the same name.
    pub async fn import_dir(
        &self,
        photos: &Path,
        faces: Option<&Path>,
        progress: Progress<'_>,
    ) -> Result<ImportReport, RockError> {
        let mut report = ImportReport::default();
        let entries = std::fs::read_dir(photos)
            .map_err(|e| RockError::Storage(format!("reading {}: {e}", photos.display())))?;
        let mut files: Vec<PathBuf> = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.as_encoded_bytes().starts_with(b"."));
            if hidden {
                continue;
            }
            if !path.is_file() {
                // Subfolders are not walked; anything else image-named is said, not skipped.
                if is_image(&path) {
                    let what = if path.is_dir() {
                        "a folder, not an image file"
                    } else {
                        "not a readable regular file (broken link, link loop or special file)"
                    };
                    report.failed.push((path, what.into()));
                }
                continue;
            }
            if stem(&path).is_none() {
                // Its id would be empty and collide with another file's.
                report
                    .failed
                    .push((path, "file name is not valid UTF-8".into()));
            } else if is_image(&path) {
                files.push(path);
            } else {
                report
                    .failed
                    .push((path, "not an image file (JPEG, PNG or WebP)".into()));
            }
        }
        files.sort();
        let total = files.len() as u64;
        let keys: Vec<String> = files
            .iter()
            .filter_map(|p| stem(p))
            .map(|s| format!("import:{}", slug(&s)))
            .collect();
        let existing = self.gallery.existing(&keys).await?;
        let mut done = 0u64;
        let mut todo = Vec::new();
        // Names that differ only in characters a rock id cannot hold ("rock 1", "rock_1")
        // would be one rock: the first is imported, the others reported.
        let mut claimed: std::collections::HashMap<String, PathBuf> = Default::default();
        for path in files {
            let key = format!("import:{}", slug(&stem(&path).unwrap_or_default()));
            if existing.contains(&key) {
                report.already_present += 1;
                done += 1;
            } else if let Some(first) = claimed.get(&key) {
                let first = first.file_name().unwrap_or_default().to_string_lossy();
                report.failed.push((
                    path,
                    format!("same rock id as {first}, which is imported instead; rename one"),
                ));
                done += 1;
            } else {
                claimed.insert(key, path.clone());
                todo.push(path);
            }
        }
        progress(done, total);
        for chunk in todo.chunks(BATCH) {
            let mut prepared = Vec::with_capacity(chunk.len());
            for path in chunk {
                match self.prepare(path, faces).await {
                    Ok(p) => prepared.push(p),
                    Err(reason) => report.failed.push((path.clone(), reason)),
                }
            }
            if !prepared.is_empty() {
                let crops: Vec<RgbImage> = prepared.iter().map(|p| p.face.clone()).collect();
                let embeddings = self.engine.rock_appearance(crops).await?;
                if embeddings.len() != prepared.len() {
                    return Err(RockError::Storage(
                        "the face engine returned the wrong number of features".into(),
                    ));
                }
                for (p, embedding) in prepared.into_iter().zip(embeddings) {
                    let input = RockInput {
                        source_key: format!("import:{}", slug(&p.stem)),
                        name: display_name(&p.stem),
                        slug: format!("imported/{}", slug(&p.stem)),
                        photo_jpeg: p.photo_jpeg,
                        face_jpeg: p.face_jpeg,
                        embedding: embedding.clone(),
                        source: "imported",
                    };
                    match self.gallery.add(&input).await? {
                        Some(id) => {
                            self.index_rock(id, &embedding);
                            report.added.push(id);
                        }
                        None => report.already_present += 1,
                    }
                }
            }
            done += chunk.len() as u64;
            progress(done, total);
        }
        Ok(report)
    }

    async fn prepare(&self, path: &Path, faces: Option<&Path>) -> Result<Prepared, String> {
        let stem = stem(path).ok_or("file name is not valid UTF-8")?;
        let (photo, photo_jpeg) = load_image(path)?;
        let (face, face_jpeg) = match faces {
            Some(dir) => {
                let file = face_file(dir, &stem)
                    .ok_or_else(|| format!("no face crop named {stem}.* in {}", dir.display()))?;
                load_image(&file).map_err(|e| format!("face crop {}: {e}", file.display()))?
            }
            None => {
                let face = self.detected_face(&photo_jpeg, &photo).await;
                let jpeg = encode_jpeg(&face).map_err(|e| e.to_string())?;
                (face, jpeg)
            }
        };
        Ok(Prepared {
            stem,
            photo_jpeg,
            face,
            face_jpeg,
        })
    }

    /// The detector's most confident face-like region (grown by a third), else the centre crop.
    async fn detected_face(&self, jpeg: &[u8], photo: &RgbImage) -> RgbImage {
        let detections = self.engine.detect(jpeg).await.unwrap_or_default();
        let best = detections
            .into_iter()
            .max_by(|a, b| a.score.total_cmp(&b.score));
        let Some(d) = best else {
            return centre_crop(photo);
        };
        let [x0, y0, x1, y1] = d.bbox;
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let side = ((x1 - x0).max(y1 - y0) * 1.33).max(8.0);
        let (w, h) = (photo.width() as f32, photo.height() as f32);
        let left = (cx - side / 2.0).clamp(0.0, w - 1.0);
        let top = (cy - side / 2.0).clamp(0.0, h - 1.0);
        let cw = side.min(w - left).max(1.0);
        let ch = side.min(h - top).max(1.0);
        image::imageops::crop_imm(photo, left as u32, top as u32, cw as u32, ch as u32).to_image()
    }
}
