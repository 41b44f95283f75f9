//! ONNX Runtime: loaded once per process, and the model files checked against the manifest.
use super::FaceError;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The process-wide ONNX Runtime environment. ONNX Runtime allows one per process, and
/// under `cargo test` every test shares the process, so the first caller's outcome sticks.
static ENVIRONMENT: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Candidate roots: the repository (compile time), the working directory, and the
/// executable's folder and its ancestors (target/release/rockstar -> repo).
pub(crate) fn search_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd);
    }
    if let Ok(exe) = std::env::current_exe() {
        let mut dir = exe.parent().map(Path::to_path_buf);
        for _ in 0..4 {
            match dir {
                Some(d) => {
                    roots.push(d.clone());
                    dir = d.parent().map(Path::to_path_buf);
                }
                None => break,
            }
        }
    }
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    roots
}

/// libonnxruntime.so: explicit path, else ORT_DYLIB_PATH, else `vendor/onnxruntime/` under a root.
pub(crate) fn locate_runtime(explicit: Option<&Path>) -> Result<PathBuf, FaceError> {
    let hint =
        "run scripts/fetch-onnxruntime.sh (it puts libonnxruntime.so into vendor/onnxruntime/) \
                or set ORT_DYLIB_PATH";
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(FaceError::Unavailable(format!(
                "ONNX Runtime library {} not found; {hint}",
                p.display()
            )))
        };
    }
    if let Ok(p) = std::env::var("ORT_DYLIB_PATH") {
        if !p.is_empty() {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(FaceError::Unavailable(format!(
                    "ORT_DYLIB_PATH points to {}, which is not a file; {hint}",
                    p.display()
                )))
            };
        }
    }
    for root in search_roots() {
        let p = root.join("vendor/onnxruntime/libonnxruntime.so");
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(FaceError::Unavailable(format!(
        "ONNX Runtime library not found; {hint}"
    )))
}

/// Loads ONNX Runtime and creates the environment, once. Later calls return the first outcome.
pub(crate) fn init_runtime(explicit: Option<&Path>) -> Result<(), FaceError> {
    if let Some(done) = ENVIRONMENT.get() {
        return done
            .as_ref()
            .map(|_| ())
            .map_err(|e| FaceError::Unavailable(e.clone()));
    }
    // Serialise first initialisation: the dlopen and the environment must happen once.
    let _guard = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let outcome = ENVIRONMENT.get_or_init(|| {
        let path = locate_runtime(explicit).map_err(|e| match e {
            FaceError::Unavailable(message) => message,
            other => other.to_string(),
        })?;
        // ort resolves relative paths against the executable's folder; ours mean the working one.
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        let builder = ort::init_from(&path)
            .map_err(|e| format!("could not load ONNX Runtime from {}: {e}", path.display()))?;
        builder
            .with_name("rockstar")
            .build()
            .map_err(|e| format!("could not create the ONNX Runtime environment: {e}"))
    });
    outcome
        .as_ref()
        .map(|_| ())
        .map_err(|e| FaceError::Unavailable(e.clone()))
}

/// Default models folder: `models/` under the first root holding a manifest.
pub(crate) fn default_models_dir() -> PathBuf {
    for root in search_roots() {
        let dir = root.join("models");
        if dir.join("manifest.json").is_file() {
            return dir;
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// The model files, verified. Bytes are kept so each worker builds its sessions from memory.
pub(crate) struct ModelFiles {
    pub front: Vec<u8>,
    pub back: Vec<u8>,
    pub embedder: Vec<u8>,
    /// The int8 embedder for identity embeddings, used when present.
    pub embedder_int8: Option<Vec<u8>>,
    /// The 68-point landmark model, used for alignment when present.
    pub landmarks: Option<Vec<u8>>,
}

// The channel-padded graphs models/convert.py derives from the npm files: same outputs, about
// a third faster in ONNX Runtime's blocked layout.
pub(crate) const FRONT_FILE: &str = "blazeface_front_128_padded.onnx";
pub(crate) const BACK_FILE: &str = "blazeface_back_256_padded.onnx";
pub(crate) const EMBEDDER_FILE: &str = "face_recognition.onnx";
pub(crate) const LANDMARKS_FILE: &str = "face_landmark_68.onnx";
pub(crate) const EMBEDDER_INT8_FILE: &str = "face_recognition_int8.onnx";

/// Every (file name, sha256) pair the manifest lists, whatever its exact layout.
fn manifest_checksums(
    value: &serde_json::Value,
    key: Option<&str>,
    out: &mut Vec<(String, String)>,
) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(sum) = map.get("sha256").and_then(|v| v.as_str()) {
                let name = ["file", "path", "name", "filename"]
                    .iter()
                    .find_map(|k| map.get(*k).and_then(|v| v.as_str()))
                    .or(key);
                if let Some(name) = name {
                    out.push((file_name(name), sum.to_ascii_lowercase()));
                }
            }
            for (k, v) in map {
                if let Some(s) = v.as_str() {
                    if k.contains('.') && s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
                    {
                        out.push((file_name(k), s.to_ascii_lowercase()));
                    }
                } else {
                    manifest_checksums(v, Some(k), out);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                manifest_checksums(v, None, out);
            }
        }
        _ => {}
    }
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(path)
        .to_string()
}

fn read_verified(dir: &Path, name: &str, sums: &[(String, String)]) -> Result<Vec<u8>, FaceError> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).map_err(|e| {
        FaceError::Unavailable(format!("model {} could not be read: {e}", path.display()))
    })?;
    let expected = sums
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s.as_str())
        .ok_or_else(|| {
            FaceError::Unavailable(format!(
                "{} lists no sha256 for {name}",
                dir.join("manifest.json").display()
            ))
        })?;
    let actual = hex::encode(Sha256::digest(&bytes));
    if actual != expected {
        return Err(FaceError::Unavailable(format!(
            "model {} is corrupt or the wrong version: sha256 {actual}, manifest expects {expected}",
            path.display()
        )));
    }
    Ok(bytes)
}

impl ModelFiles {
    /// Reads the models and checks each against `manifest.json`.
    pub(crate) fn load(dir: &Path) -> Result<Self, FaceError> {
        let manifest_path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&manifest_path).map_err(|e| {
            FaceError::Unavailable(format!(
                "{} could not be read ({e}); the models folder is incomplete",
                manifest_path.display()
            ))
        })?;
        let manifest: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            FaceError::Unavailable(format!(
                "{} is not valid JSON: {e}",
                manifest_path.display()
            ))
        })?;
        let mut sums = Vec::new();
        manifest_checksums(&manifest, None, &mut sums);
        let optional = |name: &str| -> Result<Option<Vec<u8>>, FaceError> {
            if dir.join(name).is_file() {
                read_verified(dir, name, &sums).map(Some)
            } else {
                Ok(None)
            }
        };
        Ok(ModelFiles {
            front: read_verified(dir, FRONT_FILE, &sums)?,
            back: read_verified(dir, BACK_FILE, &sums)?,
            embedder: read_verified(dir, EMBEDDER_FILE, &sums)?,
            embedder_int8: optional(EMBEDDER_INT8_FILE)?,
            landmarks: optional(LANDMARKS_FILE)?,
        })
    }
}

/// One single-threaded session: intra-op 1 and no spinning, so workers do not fight for cores.
pub(crate) fn session(bytes: &[u8], what: &str) -> Result<Session, FaceError> {
    let fail = |e: String| FaceError::Unavailable(format!("could not load the {what} model: {e}"));
    let env = match ENVIRONMENT.get() {
        Some(Ok(env)) => env,
        Some(Err(e)) => return Err(FaceError::Unavailable(e.clone())),
        None => {
            return Err(FaceError::Unavailable(
                "ONNX Runtime is not initialised".into(),
            ))
        }
    };
    Session::builder(env)
        .map_err(|e| fail(e.to_string()))?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| fail(e.to_string()))?
        .with_intra_threads(1)
        .map_err(|e| fail(e.to_string()))?
        .with_inter_threads(1)
        .map_err(|e| fail(e.to_string()))?
        .with_intra_op_spinning(false)
        .map_err(|e| fail(e.to_string()))?
        .with_inter_op_spinning(false)
        .map_err(|e| fail(e.to_string()))?
        .commit_from_memory(bytes)
        .map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_runtime_names_the_fetch_script() {
        let err = locate_runtime(Some(Path::new("/nonexistent/libonnxruntime.so")))
            .err()
            .map(|e| e.to_string());
        let message = err.unwrap_or_default();
        assert!(
            message.contains("scripts/fetch-onnxruntime.sh"),
            "{message}"
        );
        assert!(
            message.contains("/nonexistent/libonnxruntime.so"),
            "{message}"
        );
    }

    #[test]
    fn manifest_checksums_are_found_in_a_file_list() {
        let manifest = serde_json::json!({
            "files": [
                { "name": "blazeface_front_128.onnx", "sha256": "AB" },
                { "name": "reference/embedder_reference.json", "sha256": "cd" }
            ]
        });
        let mut sums = Vec::new();
        manifest_checksums(&manifest, None, &mut sums);
        assert!(sums.contains(&("blazeface_front_128.onnx".to_string(), "ab".to_string())));
        assert!(sums.contains(&("embedder_reference.json".to_string(), "cd".to_string())));
    }

    #[test]
    fn a_missing_manifest_is_a_clear_error() {
        let err = ModelFiles::load(Path::new("/nonexistent-models"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("manifest.json"), "{err}");
    }
}
