//! Object storage: local disk (embedded default) or S3, behind one type.
use std::path::PathBuf;

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum StorageConfig {
    Local { root: PathBuf },
    S3 {
        endpoint: Option<String>,
        bucket: String,
        region: String,
        path_style: bool,
        access_key_id: String,
        secret_access_key: String,
    },
}

/// Cheap to clone.
#[derive(Clone)]
pub struct ObjectStorage {}

impl ObjectStorage {
    pub fn new(_config: &StorageConfig) -> anyhow::Result<Self> {
        Ok(ObjectStorage {})
    }
}
