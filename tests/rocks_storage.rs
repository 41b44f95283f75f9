//! Object storage against a real S3 server (s3s-fs) and the local backend.
mod common;

use bytes::Bytes;
use rockstar::storage::{ObjectStorage, StorageConfig};

#[tokio::test]
async fn s3_put_get_head_list_delete_and_presigned_get() -> anyhow::Result<()> {
    let Some(server) = common::s3_server().await else {
        return Ok(());
    };
    let storage = ObjectStorage::new(&server.config())?;
    assert!(storage.is_s3());
    let body = Bytes::from(vec![7u8; 3000]);
    storage
        .put("rocks/imported/a/photo.jpg", body.clone())
        .await?;
    storage
        .put("rocks/imported/b/photo.jpg", Bytes::from_static(b"b"))
        .await?;
    storage.put("other/x", Bytes::from_static(b"x")).await?;
    assert_eq!(storage.get("rocks/imported/a/photo.jpg").await?, body);
    assert_eq!(
        storage
            .head("rocks/imported/a/photo.jpg")
            .await?
            .map(|i| i.size),
        Some(3000)
    );
    assert!(storage.head("rocks/nope").await?.is_none());
    assert_eq!(
        storage.list("rocks").await?,
        vec!["rocks/imported/a/photo.jpg", "rocks/imported/b/photo.jpg"]
    );
    // The object really is in the server's folder.
    assert!(server
        .root
        .path()
        .join("rocks/rocks/imported/a/photo.jpg")
        .exists());

    // A presigned URL works without credentials; an altered signature does not.
    let url = storage
        .presigned_url("rocks/imported/a/photo.jpg", http::Method::GET)
        .await?
        .ok_or_else(|| anyhow::anyhow!("S3 storage gave no presigned URL"))?;
    assert!(url.starts_with(&server.endpoint), "{url}");
    let got = reqwest::get(&url).await?;
    assert_eq!(got.status(), 200);
    // Browsers load these objects directly: each says what it is and that it never changes.
    let header = |name: &str| {
        got.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-type").as_deref(), Some("image/jpeg"));
    assert_eq!(
        header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(got.bytes().await?.len(), 3000);
    // A HEAD request needs a URL signed for HEAD.
    let head_url = storage
        .presigned_url("rocks/imported/a/photo.jpg", http::Method::HEAD)
        .await?
        .unwrap_or_default();
    let client = reqwest::Client::new();
    assert_eq!(client.head(&head_url).send().await?.status(), 200);
    // One hex digit of the signature changed: well formed, but not what the secret signs.
    let at = url
        .find("X-Amz-Signature=")
        .map(|i| i + "X-Amz-Signature=".len())
        .ok_or_else(|| anyhow::anyhow!("no signature in {url}"))?;
    let flipped = if url[at..].starts_with('0') { "1" } else { "0" };
    let tampered = format!("{}{flipped}{}", &url[..at], &url[at + 1..]);
    assert_eq!(
        reqwest::get(&tampered).await?.status(),
        403,
        "a tampered signature is refused as such"
    );

    storage.delete("rocks/imported/a/photo.jpg").await?;
    assert!(storage.head("rocks/imported/a/photo.jpg").await?.is_none());
    storage.delete("rocks/imported/a/photo.jpg").await?; // absent: still fine
    Ok(())
}

#[tokio::test]
async fn s3_rejects_a_wrong_secret() -> anyhow::Result<()> {
    let Some(server) = common::s3_server().await else {
        return Ok(());
    };
    let StorageConfig::S3 {
        endpoint,
        bucket,
        region,
        path_style,
        access_key_id,
        ..
    } = server.config()
    else {
        anyhow::bail!("not an S3 config")
    };
    let wrong = StorageConfig::S3 {
        endpoint,
        bucket,
        region,
        path_style,
        access_key_id,
        secret_access_key: "wrong-secret-xxxxxxxx".into(),
    };
    let storage = ObjectStorage::new(&wrong)?;
    let err = match storage.put("rocks/x", Bytes::from_static(b"x")).await {
        Ok(()) => anyhow::bail!("a put signed with the wrong secret was accepted"),
        Err(e) => format!("{e:?}"),
    };
    assert!(
        err.contains("403") || err.contains("SignatureDoesNotMatch") || err.contains("Forbidden"),
        "refused for its signature, not for another reason: {err}"
    );
    // The same put with the right secret goes through: the server was there all along.
    ObjectStorage::new(&server.config())?
        .put("rocks/x", Bytes::from_static(b"x"))
        .await?;
    Ok(())
}

#[tokio::test]
async fn local_keys_cannot_escape_the_root() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let storage = ObjectStorage::new(&StorageConfig::Local {
        root: dir.path().join("media"),
    })?;
    assert!(storage
        .put("../outside", Bytes::from_static(b"x"))
        .await
        .is_err());
    assert!(!dir.path().join("outside").exists());
    Ok(())
}
