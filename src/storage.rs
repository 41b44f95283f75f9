//! Object storage: local disk (embedded default) or S3, behind one type.
//!
//! Both backends go through the `object_store` crate; nothing here speaks S3 by hand.
//! Keys are plain relative paths such as `rocks/imported/rock_12/photo.jpg`.
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::signer::Signer;
use object_store::{Attribute, Attributes, ObjectStore, PutOptions, PutPayload};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, serde::Deserialize, serde::Serialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum StorageConfig {
    Local {
        root: PathBuf,
    },
    /// `endpoint` None = AWS itself. An `http://` endpoint (a test server) is allowed as such.
    S3 {
        endpoint: Option<String>,
        bucket: String,
        region: String,
        /// Path-style requests (MinIO, s3s and most self-hosted servers); default
        /// virtual-hosted, as AWS wants.
        #[serde(default)]
        path_style: bool,
        access_key_id: String,
        secret_access_key: String,
    },
}

/// Never prints the secret key.
impl std::fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageConfig::Local { root } => f.debug_struct("Local").field("root", root).finish(),
            StorageConfig::S3 {
                endpoint,
                bucket,
                region,
                path_style,
                access_key_id,
                ..
            } => f
                .debug_struct("S3")
                .field("endpoint", endpoint)
                .field("bucket", bucket)
                .field("region", region)
                .field("path_style", path_style)
                .field("access_key_id", access_key_id)
                .field("secret_access_key", &"[redacted]")
                .finish(),
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig::Local {
            root: PathBuf::from("data/media"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found: {0}")]
    NotFound(String),
    #[error("invalid object key: {0}")]
    InvalidKey(String),
    #[error("storage configuration: {0}")]
    Config(String),
    #[error("object storage: {0}")]
    Backend(#[from] object_store::Error),
    #[error("object storage: {0}")]
    Io(#[from] std::io::Error),
}

/// What `head` knows of an object.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    pub size: u64,
    /// Backend entity tag, when it gives one.
    pub e_tag: Option<String>,
}

#[derive(Clone)]
enum Backend {
    Local,
    S3(Arc<AmazonS3>),
}

/// Cheap to clone.
#[derive(Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    backend: Backend,
}

/// How long a presigned GET stays valid.
const PRESIGN_TTL: Duration = Duration::from_secs(3600);

impl ObjectStorage {
    pub fn new(config: &StorageConfig) -> anyhow::Result<Self> {
        Ok(Self::build(config)?)
    }

    fn build(config: &StorageConfig) -> Result<Self, StorageError> {
        match config {
            StorageConfig::Local { root } => {
                std::fs::create_dir_all(root)?;
                let fs = LocalFileSystem::new_with_prefix(root)?.with_automatic_cleanup(true);
                Ok(ObjectStorage {
                    store: Arc::new(fs),
                    backend: Backend::Local,
                })
            }
            StorageConfig::S3 {
                endpoint,
                bucket,
                region,
                path_style,
                access_key_id,
                secret_access_key,
            } => {
                if bucket.is_empty() {
                    return Err(StorageError::Config("the S3 bucket name is empty".into()));
                }
                // An outage must fail a request in seconds, not after object_store's
                // default of 10 retries over 3 minutes.
                let client = object_store::ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(3))
                    .with_timeout(Duration::from_secs(15));
                let retry = object_store::RetryConfig {
                    max_retries: 2,
                    retry_timeout: Duration::from_secs(20),
                    ..Default::default()
                };
                let mut builder = AmazonS3Builder::new()
                    .with_client_options(client)
                    .with_retry(retry)
                    .with_bucket_name(bucket)
                    .with_region(region)
                    .with_access_key_id(access_key_id)
                    .with_secret_access_key(secret_access_key)
                    .with_virtual_hosted_style_request(!path_style);
                if let Some(endpoint) = endpoint {
                    let endpoint = bucket_endpoint(endpoint, bucket, *path_style)?;
                    builder = builder
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_endpoint(endpoint);
                }
                let s3 = Arc::new(builder.build()?);
                Ok(ObjectStorage {
                    store: s3.clone(),
                    backend: Backend::S3(s3),
                })
            }
        }
    }

    /// Whether files are served by presigned S3 URLs rather than through the app.
    /// Whether the store answers (an absent probe object is an answer): for readiness.
    pub async fn probe(&self) -> Result<(), StorageError> {
        match self.store.head(&path("health/probe")?).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub fn is_s3(&self) -> bool {
        matches!(self.backend, Backend::S3(_))
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        let p = path(key)?;
        let payload = PutPayload::from_bytes(bytes);
        match &self.backend {
            // Browsers fetch S3 objects directly (presigned): the object itself must say
            // what it is, and that its bytes never change (keys are never rewritten).
            Backend::S3(_) => {
                let mut attributes = Attributes::new();
                attributes.insert(Attribute::ContentType, content_type(key).into());
                attributes.insert(
                    Attribute::CacheControl,
                    "public, max-age=31536000, immutable".into(),
                );
                let options = PutOptions {
                    attributes,
                    ..Default::default()
                };
                self.store.put_opts(&p, payload, options).await?;
            }
            Backend::Local => {
                self.store.put(&p, payload).await?;
            }
        }
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        match self.store.get(&path(key)?).await {
            Ok(found) => Ok(found.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => {
                Err(StorageError::NotFound(key.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// None when absent.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StorageError> {
        match self.store.head(&path(key)?).await {
            Ok(meta) => Ok(Some(ObjectInfo {
                size: meta.size,
                e_tag: meta.e_tag,
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deleting an absent object is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes each key, logging (not returning) failures: for files that follow rows
    /// already deleted, where there is nothing left to roll back.
    pub async fn delete_all_best_effort(&self, keys: &[String]) {
        for key in keys {
            if let Err(e) = self.delete(key).await {
                tracing::warn!(error = %e, "deleting a stored object failed");
            }
        }
    }

    /// Every key under `prefix` (recursive), sorted.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let prefix = if prefix.is_empty() {
            None
        } else {
            Some(path(prefix)?)
        };
        let metas: Vec<_> = self.store.list(prefix.as_ref()).try_collect().await?;
        let mut keys: Vec<String> = metas.into_iter().map(|m| m.location.to_string()).collect();
        keys.sort();
        Ok(keys)
    }

    /// The origin browsers load images from besides the app's own: the S3 endpoint of
    /// presigned URLs (for the Content-Security-Policy), None for local storage.
    pub async fn image_origin(&self) -> Result<Option<String>, StorageError> {
        match &self.backend {
            Backend::Local => Ok(None),
            Backend::S3(s3) => {
                let url = s3
                    .signed_url(http::Method::GET, &path("origin-probe")?, PRESIGN_TTL)
                    .await?;
                Ok(Some(url.origin().ascii_serialization()))
            }
        }
    }

    /// A presigned URL (valid one hour) for `method` (GET or HEAD) on the object, for S3;
    /// None for local storage, whose files the app serves itself.
    pub async fn presigned_url(
        &self,
        key: &str,
        method: http::Method,
    ) -> Result<Option<String>, StorageError> {
        let p = path(key)?;
        match &self.backend {
            Backend::Local => Ok(None),
            Backend::S3(s3) => Ok(Some(
                s3.signed_url(method, &p, PRESIGN_TTL).await?.to_string(),
            )),
        }
    }

    /// Where a browser fetches an object from: None for local storage (the app serves it),
    /// else a presigned URL for `method`, once `head` has found the object, so that a
    /// missing one is `NotFound` here rather than S3's own error page after a redirect.
    pub async fn presigned_existing(
        &self,
        key: &str,
        method: http::Method,
    ) -> Result<Option<String>, StorageError> {
        if !self.is_s3() {
            return Ok(None);
        }
        if self.head(key).await?.is_none() {
            return Err(StorageError::NotFound(key.to_string()));
        }
        self.presigned_url(key, method).await
    }
}

/// What an object is, from its key's extension (every stored image is a JPEG today).
fn content_type(key: &str) -> &'static str {
    match key
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
    {
        Some(ext) if ext == "jpg" || ext == "jpeg" => "image/jpeg",
        Some(ext) if ext == "png" => "image/png",
        Some(ext) if ext == "webp" => "image/webp",
        _ => "application/octet-stream",
    }
}

/// The endpoint object_store should use. With virtual-hosted requests it takes the endpoint
/// as the bucket's own address, so `https://s3.example.com` and bucket `media` become
/// `https://media.s3.example.com` (as AWS SDKs do); with path-style requests it adds the
/// bucket to the path itself.
fn bucket_endpoint(endpoint: &str, bucket: &str, path_style: bool) -> Result<String, StorageError> {
    let Some((scheme, host)) = endpoint.split_once("://") else {
        return Err(StorageError::Config(format!(
            "the S3 endpoint {endpoint:?} has no scheme: write https://{endpoint}"
        )));
    };
    if !matches!(scheme, "http" | "https") || host.is_empty() {
        return Err(StorageError::Config(format!(
            "the S3 endpoint {endpoint:?} is not an http:// or https:// address"
        )));
    }
    if path_style {
        return Ok(endpoint.to_string());
    }
    if bucket.contains('.') && scheme == "https" {
        // A dotted bucket name breaks the endpoint's TLS certificate as a subdomain.
        return Err(StorageError::Config(format!(
            "the S3 bucket {bucket:?} has dots, so it cannot be a subdomain of an https endpoint: set path_style = true"
        )));
    }
    Ok(format!("{scheme}://{bucket}.{host}"))
}

/// Rejects keys that could escape the store (`..`, absolute, empty segments).
fn path(key: &str) -> Result<StorePath, StorageError> {
    if key.is_empty()
        || key.starts_with('/')
        || key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(StorageError::InvalidKey(key.to_string()));
    }
    StorePath::parse(key).map_err(|_| StorageError::InvalidKey(key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn presigned_images_come_from_the_s3_endpoint_origin() -> anyhow::Result<()> {
        let s3 = |endpoint: Option<&str>, path_style: bool| StorageConfig::S3 {
            endpoint: endpoint.map(str::to_owned),
            bucket: "rocks".into(),
            region: "eu-west-1".into(),
            path_style,
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
        };
        let self_hosted = ObjectStorage::new(&s3(Some("http://127.0.0.1:9000"), true))?;
        assert_eq!(
            self_hosted.image_origin().await?.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        let aws = ObjectStorage::new(&s3(None, false))?;
        assert_eq!(
            aws.image_origin().await?.as_deref(),
            Some("https://rocks.s3.eu-west-1.amazonaws.com")
        );
        let dir = tempfile::tempdir()?;
        let local = ObjectStorage::new(&StorageConfig::Local {
            root: dir.path().to_path_buf(),
        })?;
        assert_eq!(local.image_origin().await?, None);
        Ok(())
    }

    #[tokio::test]
    async fn a_custom_endpoint_keeps_the_bucket_in_either_style() -> anyhow::Result<()> {
        let s3_bucket = |endpoint: &str, path_style: bool, bucket: &str| StorageConfig::S3 {
            endpoint: Some(endpoint.to_owned()),
            bucket: bucket.into(),
            region: "eu-central-1".into(),
            path_style,
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
        };
        let s3 = |endpoint: &str, path_style: bool| s3_bucket(endpoint, path_style, "media");
        let signed = |storage: ObjectStorage| async move {
            storage
                .presigned_url("rocks/a/photo.jpg", http::Method::GET)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no presigned URL from S3 storage"))
        };
        let virtual_hosted = ObjectStorage::new(&s3("https://s3.example.com", false))?;
        let url = signed(virtual_hosted).await?;
        assert!(
            url.starts_with("https://media.s3.example.com/rocks/a/photo.jpg?"),
            "{url}"
        );
        let path_style = ObjectStorage::new(&s3("https://s3.example.com/", true))?;
        let url = signed(path_style).await?;
        assert!(
            url.starts_with("https://s3.example.com/media/rocks/a/photo.jpg?"),
            "{url}"
        );
        let head = ObjectStorage::new(&s3("https://s3.example.com", true))?
            .presigned_url("rocks/a/photo.jpg", http::Method::HEAD)
            .await?
            .unwrap_or_default();
        assert_ne!(
            head,
            signed(ObjectStorage::new(&s3("https://s3.example.com", true))?).await?
        );
        for bad in ["s3.example.com", "ftp://s3.example.com", "https://"] {
            let refused = ObjectStorage::new(&s3(bad, false))
                .err()
                .map(|e| e.to_string());
            assert!(
                refused.as_deref().is_some_and(|m| m.contains("endpoint")),
                "{bad}: {refused:?}"
            );
        }
        let dotted = s3_bucket("https://s3.example.com", false, "media.example");
        assert!(
            ObjectStorage::new(&dotted).is_err(),
            "a dotted bucket as an https subdomain"
        );
        Ok(())
    }

    #[test]
    fn debug_output_never_shows_the_secret_key() {
        let config = StorageConfig::S3 {
            endpoint: Some("http://127.0.0.1:9000".into()),
            bucket: "rocks".into(),
            region: "us-east-1".into(),
            path_style: true,
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI-very-secret".into(),
        };
        let printed = format!("{config:?}");
        assert!(printed.contains("AKIDEXAMPLE") && printed.contains("rocks"));
        assert!(!printed.contains("very-secret"), "{printed}");
    }

    #[test]
    fn keys_that_escape_are_rejected() {
        for bad in ["", "/abs", "a/../b", "a//b", "./a", "a/"] {
            assert!(path(bad).is_err(), "{bad:?} accepted");
        }
        assert!(path("rocks/imported/rock_1/photo.jpg").is_ok());
    }

    #[tokio::test]
    async fn local_round_trip() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let storage = ObjectStorage::new(&StorageConfig::Local {
            root: dir.path().join("media"),
        })?;
        storage
            .put("rocks/a/photo.jpg", Bytes::from_static(b"abc"))
            .await?;
        assert_eq!(
            storage.get("rocks/a/photo.jpg").await?,
            Bytes::from_static(b"abc")
        );
        assert_eq!(
            storage.head("rocks/a/photo.jpg").await?.map(|i| i.size),
            Some(3)
        );
        assert_eq!(
            storage.list("rocks").await?,
            vec!["rocks/a/photo.jpg".to_string()]
        );
        assert_eq!(
            storage
                .presigned_url("rocks/a/photo.jpg", http::Method::GET)
                .await?,
            None
        );
        storage.delete("rocks/a/photo.jpg").await?;
        assert!(storage.head("rocks/a/photo.jpg").await?.is_none());
        assert!(matches!(
            storage.get("rocks/a/photo.jpg").await,
            Err(StorageError::NotFound(_))
        ));
        Ok(())
    }
}
