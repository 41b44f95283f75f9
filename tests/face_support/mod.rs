//! Shared set-up for the face tests: one engine per test binary, data and model locations,
//! and skipping with a printed reason when something is absent.
#![allow(dead_code)]
use rockstar::face::{FaceEngine, FaceEngineConfig};
use std::path::PathBuf;
use std::sync::OnceLock;

pub fn data_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: {} is absent", dir.display());
        None
    }
}

pub fn models_dir() -> PathBuf {
    std::env::var_os("ROCKSTAR_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models"))
}

pub fn config(workers: usize, queue: usize) -> FaceEngineConfig {
    FaceEngineConfig {
        models_dir: models_dir(),
        workers,
        queue,
        ..FaceEngineConfig::default()
    }
}

/// Whether the ONNX Runtime library can be found (ORT_DYLIB_PATH or vendor/onnxruntime).
pub fn runtime_present() -> bool {
    std::env::var_os("ORT_DYLIB_PATH").is_some_and(|p| PathBuf::from(p).exists())
        || PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("vendor/onnxruntime/libonnxruntime.so.1.31.1")
            .exists()
}

/// The engine shared by a test binary's tests. None (with the reason printed) only when the
/// ONNX Runtime library is absent; the models are in the repository, so any other failure to
/// start fails the test.
pub fn engine() -> Option<FaceEngine> {
    static ENGINE: OnceLock<Result<FaceEngine, String>> = OnceLock::new();
    if !runtime_present() {
        println!("skipped: ONNX Runtime is absent; run scripts/fetch-onnxruntime.sh");
        return None;
    }
    match ENGINE.get_or_init(|| FaceEngine::new(config(2, 64)).map_err(|e| e.to_string())) {
        Ok(e) => Some(e.clone()),
        Err(e) => panic!("the face engine could not start: {e}"),
    }
}

/// A temporary copy of the models folder, for tests that alter a model.
pub fn models_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(models_dir())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok())
    {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name()))
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    dir
}

pub fn read(path: &PathBuf) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn rgb(path: &PathBuf) -> image::RgbImage {
    image::load_from_memory(&read(path))
        .unwrap_or_else(|e| panic!("decoding {}: {e}", path.display()))
        .into_rgb8()
}

pub fn encode_png(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("PNG encoding of an in-memory image: {e}"));
    out.into_inner()
}

pub fn encode_jpeg(img: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap_or_else(|e| panic!("JPEG encoding of an in-memory image: {e}"));
    out.into_inner()
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("a tokio runtime: {e}"))
        .block_on(f)
}

/// The JPEG with an APP1 Exif segment right after SOI holding one Orientation entry
/// (big-endian TIFF; 6 = turn 90° clockwise to view).
pub fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let tiff: Vec<u8> = [
        b"MM\x00\x2a".as_slice(),
        &8u32.to_be_bytes(),
        &1u16.to_be_bytes(),
        &0x0112u16.to_be_bytes(),
        &3u16.to_be_bytes(),
        &1u32.to_be_bytes(),
        &orientation.to_be_bytes(),
        &[0, 0],
        &0u32.to_be_bytes(),
    ]
    .concat();
    let mut app1 = b"Exif\x00\x00".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}
