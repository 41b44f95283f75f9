//! Test services for the rocks tests: a throwaway PostgreSQL cluster per test binary
//! (or DATABASE_URL when set), a fresh database per test, s3s-fs on a free port, the
//! real face engine, and the shared data folder. Each helper returns None after
//! printing why when what it needs is absent.
#![allow(dead_code, clippy::expect_used, clippy::zombie_processes)]
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const PGBIN: &str = "/usr/lib/postgresql/15/bin";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/data/<sub>`, or None (printed) when absent.
pub fn shared_data(sub: &str) -> Option<PathBuf> {
    let p = repo().join("../shared/data").join(sub);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIP: test data {} is absent", p.display());
        None
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn as_postgres(program: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    }
}

/// The server URL (no database) of this binary's cluster.
fn cluster() -> Option<&'static str> {
    static URL: OnceLock<Option<String>> = OnceLock::new();
    let found = URL.get_or_init(|| {
        if let Ok(url) = std::env::var("DATABASE_URL") {
            return Some(url);
        }
        if !Path::new(PGBIN).join("initdb").exists() {
            eprintln!("PostgreSQL binaries not found in {PGBIN} and DATABASE_URL is not set");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("rockstar-rocks-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cluster folder");
        if is_root() {
            Command::new("chown").args(["postgres:postgres"]).arg(&dir).status().expect("chown");
        }
        let data = dir.join("data");
        let ok = as_postgres(&format!("{PGBIN}/initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=trust", "--no-sync"])
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "initdb failed");
        let port = free_port();
        let ok = as_postgres(&format!("{PGBIN}/pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-o"])
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                dir.display()
            ))
            .arg("start")
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "pg_ctl start failed; see {}/server.log", dir.display());
        // A watchdog stops the cluster and removes it once this test process is gone.
        let runuser = if is_root() { "runuser -u postgres -- " } else { "" };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {runuser}{PGBIN}/pg_ctl -D {data} stop -m immediate >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            data = data.display(),
            dir = dir.display()
        );
        Command::new("setsid").args(["sh", "-c", &script]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("watchdog");
        Some(format!("postgres://postgres@127.0.0.1:{port}"))
    });
    if found.is_none() {
        eprintln!("SKIP: no PostgreSQL for this test (binaries absent, DATABASE_URL unset)");
    }
    found.as_deref()
}

/// The same server URL with another database name.
fn with_db(url: &str, db: &str) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = url[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(url.len());
    let query = url.find('?').map(|i| &url[i..]).unwrap_or("");
    format!("{}/{db}{query}", &url[..host_end])
}

/// A fresh, migrated database for one test.
pub async fn database() -> Option<sqlx::PgPool> {
    let server = cluster()?;
    let admin_url = with_db(server, "postgres");
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("connect to the test cluster");
    let name = format!("rocks_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create database");
    admin.close().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&with_db(server, &name))
        .await
        .expect("connect to the test database");
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .expect("migrations");
    Some(pool)
}

/// A running s3s-fs: killed on drop.
pub struct S3Server {
    child: std::process::Child,
    pub endpoint: String,
    pub bucket: String,
    pub access_key: String,
    pub secret_key: String,
    pub root: tempfile::TempDir,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3Server {
    pub fn config(&self) -> rockstar::storage::StorageConfig {
        rockstar::storage::StorageConfig::S3 {
            endpoint: Some(self.endpoint.clone()),
            bucket: self.bucket.clone(),
            region: "us-east-1".into(),
            path_style: true,
            access_key_id: self.access_key.clone(),
            secret_access_key: self.secret_key.clone(),
        }
    }
}

/// Starts s3s-fs (installed by scripts/install-test-tools.sh) with one bucket.
pub async fn s3_server() -> Option<S3Server> {
    let bin = std::env::var("S3S_FS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".cache/tools/bin/s3s-fs"));
    if !bin.exists() {
        eprintln!(
            "SKIP: {} is absent; run scripts/install-test-tools.sh",
            bin.display()
        );
        return None;
    }
    let root = tempfile::tempdir().expect("s3 root");
    let bucket = "rocks".to_string();
    std::fs::create_dir_all(root.path().join(&bucket)).expect("bucket folder");
    let port = free_port();
    let (access_key, secret_key) = ("test-key".to_string(), "test-secret-0123456789".to_string());
    let child = Command::new(&bin)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--access-key",
            &access_key,
            "--secret-key",
            &secret_key,
        ])
        .arg(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start s3s-fs");
    let server = S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
        bucket,
        access_key,
        secret_key,
        root,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(server);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("s3s-fs did not start on port {port}");
}

/// A folder with the first `n` shared rocks (photos and faces) plus one broken file.
pub fn handful(n: usize) -> Option<(tempfile::TempDir, PathBuf, PathBuf)> {
    let photos_src = shared_data("rocks/photos")?;
    let faces_src = shared_data("rocks/faces")?;
    let dir = tempfile::tempdir().expect("temp dir");
    let (photos, faces) = (dir.path().join("photos"), dir.path().join("faces"));
    std::fs::create_dir_all(&photos).expect("photos dir");
    std::fs::create_dir_all(&faces).expect("faces dir");
    let mut names: Vec<_> = std::fs::read_dir(&photos_src)
        .expect("read photos")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    for name in names.into_iter().take(n) {
        // Symlinks: the shared images are never copied.
        std::os::unix::fs::symlink(photos_src.join(&name), photos.join(&name)).expect("link photo");
        std::os::unix::fs::symlink(faces_src.join(&name), faces.join(&name)).expect("link face");
    }
    std::fs::write(photos.join("broken_rock.jpg"), b"this is not a jpeg").expect("broken file");
    Some((dir, photos, faces))
}
