//! `rocks import`: every image in a folder becomes a rock, idempotently.
use super::gallery::{display_name, encode_jpeg, slug, RockInput};
use super::{RockError, RockService};
use bytes::Bytes;
use image::RgbImage;
use std::path::{Path, PathBuf};

/// Rocks embedded per engine call.
pub const BATCH: usize = 16;
/// Larger files are refused before they are read (the command line's face engine refuses
/// them too).
const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;
/// Stored images are re-encoded at most this big: no metadata (GPS, camera serials,
/// thumbnails) is served, and serving one costs a bounded read.
const MAX_PHOTO_SIDE: u32 = 2048;
const MAX_FACE_SIDE: u32 = 1024;

const IMAGE_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

#[derive(Debug, Default, serde::Serialize)]
pub struct ImportReport {
    /// Ids of the rocks added by this run.
    pub added: Vec<i64>,
    /// Files whose rock was already in the gallery.
    pub already_present: usize,
    /// Files skipped, with the reason.
    pub failed: Vec<(PathBuf, String)>,
    /// Why the run stopped early (storage or the database failing), if it did; the files it
    /// did not reach are in `failed`.
    pub stopped: Option<String>,
}

/// Progress callback: (done, total).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

struct Prepared {
    path: PathBuf,
    stem: String,
    source_digest: Vec<u8>,
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

/// The source key of the rock imported from a file with this stem.
fn import_key(stem: &str) -> String {
    format!("import:{}", slug(stem))
}

/// Why a file the run did not reach was not imported.
const NOT_REACHED: &str = "not imported: the run stopped";

fn read_limited(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "the file has {} bytes; the limit is {MAX_FILE_BYTES}",
            meta.len()
        ));
    }
    std::fs::read(path).map_err(|e| e.to_string())
}

/// The bytes a rock is made from: its photo file and, with `--faces`, its face crop.
struct SourceFiles {
    photo: Vec<u8>,
    face: Option<(PathBuf, Vec<u8>)>,
}

impl SourceFiles {
    /// SHA-256 over both files, each preceded by its length.
    fn digest(&self) -> Vec<u8> {
        use sha2::Digest;
        let mut hash = sha2::Sha256::new();
        let face = self.face.as_ref().map(|(_, bytes)| bytes.as_slice());
        for part in [Some(self.photo.as_slice()), face].into_iter().flatten() {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        hash.finalize().to_vec()
    }
}

fn source_files(
    path: &Path,
    faces: Option<&std::collections::HashMap<String, PathBuf>>,
) -> Result<SourceFiles, String> {
    let photo = read_limited(path)?;
    let face = match faces {
        None => None,
        Some(faces) => {
            let stem = stem(path).ok_or("file name is not valid UTF-8")?;
            let file = faces
                .get(&stem)
                .ok_or_else(|| format!("no face crop named {stem}.* beside it"))?;
            let bytes =
                read_limited(file).map_err(|e| format!("face crop {}: {e}", file.display()))?;
            Some((file.clone(), bytes))
        }
    };
    Ok(SourceFiles { photo, face })
}

/// The face crops of a folder by file stem, extensions compared without case; of two files
/// with one stem, the first by name.
fn face_files(dir: &Path) -> Result<std::collections::HashMap<String, PathBuf>, RockError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| RockError::Storage(format!("reading {}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_image(p) && p.is_file())
        .collect();
    files.sort();
    let mut by_stem = std::collections::HashMap::new();
    for file in files {
        if let Some(stem) = stem(&file) {
            by_stem.entry(stem).or_insert(file);
        }
    }
    Ok(by_stem)
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
            .map(|s| import_key(&s))
            .collect();
        let existing = self.gallery.source_digests(&keys).await?;
        let faces = faces.map(face_files).transpose()?;
        let mut done = 0u64;
        let mut todo = Vec::new();
        // Names that differ only in characters a rock id cannot hold ("rock 1", "rock_1")
        // would be one rock: the first is imported, the others reported.
        let mut claimed: std::collections::HashMap<String, PathBuf> = Default::default();
        for path in files {
            let stem = stem(&path).unwrap_or_default();
            let key = import_key(&stem);
            if let Some(stored) = existing.get(&key) {
                // Known by name: the same files, or (for rocks from before digests were kept)
                // nothing to compare with.
                match (stored, source_files(&path, faces.as_ref())) {
                    (Some(stored), Ok(files)) if *stored != files.digest() => {
                        report.failed.push((
                            path,
                            format!("rock id {} is already in the gallery with another image (imported earlier from a file of this name); rename the file to add it as another rock", slug(&stem)),
                        ));
                    }
                    (_, Err(reason)) if stored.is_some() => report.failed.push((path, reason)),
                    _ => report.already_present += 1,
                }
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
        let mut remaining = todo.into_iter();
        while report.stopped.is_none() {
            let chunk: Vec<PathBuf> = remaining.by_ref().take(BATCH).collect();
            if chunk.is_empty() {
                break;
            }
            let mut prepared = Vec::with_capacity(chunk.len());
            for path in &chunk {
                match self.prepare(path, faces.as_ref()).await {
                    Ok(p) => prepared.push(p),
                    Err(reason) => report.failed.push((path.clone(), reason)),
                }
            }
            // The crops go to the engine; the rest of each stays for storing.
            let crops: Vec<RgbImage> = prepared
                .iter_mut()
                .map(|p| std::mem::take(&mut p.face))
                .collect();
            let embeddings = match self.engine.rock_appearance(crops).await {
                Ok(e) if e.len() == prepared.len() => e,
                Ok(_) => {
                    return Err(RockError::Storage(
                        "the face engine returned the wrong number of features".into(),
                    ))
                }
                Err(e) => {
                    let reason = format!("embedding failed: {e}");
                    let failed = prepared.drain(..).map(|p| (p.path, reason.clone()));
                    report.failed.extend(failed);
                    Vec::new()
                }
            };
            let mut prepared = prepared.into_iter();
            for (p, embedding) in prepared.by_ref().zip(embeddings) {
                let input = RockInput {
                    source_key: import_key(&p.stem),
                    name: display_name(&p.stem),
                    slug: format!("imported/{}", slug(&p.stem)),
                    photo_jpeg: p.photo_jpeg,
                    face_jpeg: p.face_jpeg,
                    embedding,
                    source: "imported",
                    source_digest: Some(p.source_digest),
                };
                match self.gallery.add(&input).await {
                    Ok(Some(id)) => {
                        self.index_rock(id, &input.embedding);
                        report.added.push(id);
                    }
                    Ok(None) => report.already_present += 1,
                    Err(e) => {
                        // Storage or the database is failing: the next file would too.
                        report.failed.push((p.path, e.to_string()));
                        report.stopped = Some(e.to_string());
                        break;
                    }
                }
            }
            report
                .failed
                .extend(prepared.map(|p| (p.path, NOT_REACHED.to_string())));
            done += chunk.len() as u64;
            progress(done, total);
        }
        report
            .failed
            .extend(remaining.map(|path| (path, NOT_REACHED.to_string())));
        Ok(report)
    }

    async fn prepare(
        &self,
        path: &Path,
        faces: Option<&std::collections::HashMap<String, PathBuf>>,
    ) -> Result<Prepared, String> {
        let stem = stem(path).ok_or("file name is not valid UTF-8")?;
        let files = source_files(path, faces)?;
        let source_digest = files.digest();
        let (photo, face) = match files.face {
            Some((file, bytes)) => {
                let photo = self
                    .engine
                    .decode(files.photo)
                    .await
                    .map_err(|e| e.to_string())?;
                let face = self
                    .engine
                    .decode(bytes)
                    .await
                    .map_err(|e| format!("face crop {}: {e}", file.display()))?;
                (photo, face)
            }
            None => {
                let (photo, detections) = self
                    .engine
                    .decode_and_detect(crate::face::Photo::new(files.photo))
                    .await
                    .map_err(|e| e.to_string())?;
                let face = best_face_crop(&photo, &detections);
                (photo, face)
            }
        };
        let face = crate::imaging::fit(face, MAX_FACE_SIDE);
        let photo_jpeg =
            encode_jpeg(&crate::imaging::fit(photo, MAX_PHOTO_SIDE)).map_err(|e| e.to_string())?;
        let face_jpeg = encode_jpeg(&face).map_err(|e| e.to_string())?;
        Ok(Prepared {
            path: path.to_path_buf(),
            stem,
            source_digest,
            photo_jpeg,
            face,
            face_jpeg,
        })
    }
}

/// The detector's most confident face-like region (grown by a third), else the centre crop.
fn best_face_crop(photo: &RgbImage, detections: &[crate::face::Detection]) -> RgbImage {
    let best = detections.iter().max_by(|a, b| a.score.total_cmp(&b.score));
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
