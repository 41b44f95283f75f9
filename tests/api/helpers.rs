//! spawn_app(): the real server on port 0 with a fresh database per test.
//!
//! One PostgreSQL cluster serves the whole test binary: DATABASE_URL when set (the role
//! needs CREATEDB), otherwise a throwaway cluster under /tmp (fsync off) that a watcher
//! stops and deletes when the test process exits. Migrations and the rock gallery are
//! prepared once in a template database; each test copies it.
use rockstar::config::Settings;
use rockstar::embedded::{ClusterOptions, EmbeddedPostgres};
use rockstar::face::{FaceEngine, FaceEngineConfig};
use rockstar::startup::Application;
use rockstar::storage::{ObjectStorage, StorageConfig};
use secrecy::SecretString;
use sqlx::{Connection, PgConnection, PgPool};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// An attachment's URL as the test apps sign it (they all run on JWT_SECRET).
pub fn media_url(id: &str, file: &str) -> String {
    let id = id.parse::<i64>().expect("numeric media id");
    rockstar::http::media::MediaUrls::new(&SecretString::from(JWT_SECRET.to_owned()))
        .attachment_url(id, file)
}

/// Everything the tracing subscriber wrote, for the privacy test.
pub static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct CaptureWriter;

impl std::io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut logs) = LOGS.lock() {
            logs.extend_from_slice(buf);
        }
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stderr().write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn captured_logs() -> Vec<u8> {
    LOGS.lock().map(|l| l.clone()).unwrap_or_default()
}

struct Shared {
    /// URL template with `{db}` for the database name.
    url_template: String,
    /// Database used for CREATE DATABASE.
    admin_db: String,
    template_db: String,
    storage_root: PathBuf,
    face: Result<FaceEngine, String>,
    gallery: Result<(), String>,
    // Keeps the runtime that created the face engine alive.
    _runtime: tokio::runtime::Runtime,
    _storage_dir: Option<tempfile::TempDir>,
}

static SHARED: OnceLock<Shared> = OnceLock::new();

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn face_config() -> FaceEngineConfig {
    FaceEngineConfig {
        models_dir: repo_root().join("models"),
        onnxruntime: None,
        workers: 2,
        queue: 16,
        max_bytes: 10 * 1024 * 1024,
        max_pixels: 40_000_000,
        max_side: 12_000,
    }
}

fn shared() -> &'static Shared {
    SHARED.get_or_init(|| {
        std::thread::spawn(setup_shared)
            .join()
            .expect("test setup thread panicked")
    })
}

fn setup_shared() -> Shared {
    init_logs();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the shared setup");
    let (url_template, admin_db, storage_dir, storage_root) = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let (base, query) = match url.split_once('?') {
                Some((b, q)) => (b.to_owned(), format!("?{q}")),
                None => (url.clone(), String::new()),
            };
            let (prefix, admin_db) = base
                .rsplit_once('/')
                .expect("DATABASE_URL has a database name");
            let dir = tempfile::tempdir().expect("a temp dir for media");
            let root = dir.path().join("media");
            (
                format!("{prefix}/{{db}}{query}"),
                admin_db.to_owned(),
                Some(dir),
                root,
            )
        }
        _ => {
            let dir = std::env::temp_dir().join(format!("rockstar-test-pg-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let cluster = EmbeddedPostgres::start(&ClusterOptions {
                dir: dir.clone(),
                durable: false,
            })
            .expect("starting the test PostgreSQL cluster (is postgresql installed?)");
            let template = cluster.url_for("{db}");
            cluster
                .stop_after_exit_of(std::process::id(), &dir)
                .expect("cluster watcher");
            (template, "rockstar".to_owned(), None, dir.join("media"))
        }
    };
    std::fs::create_dir_all(&storage_root).expect("media folder");
    let template_db = format!("rockstar_template_{}", std::process::id());
    let url_for = |db: &str| url_template.replace("{db}", db);

    let (face, gallery) = runtime.block_on(async {
        let mut admin = PgConnection::connect(&url_for(&admin_db))
            .await
            .expect("connecting to the test cluster");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {template_db}"))
            .execute(&mut admin)
            .await
            .expect("drop");
        sqlx::query(&format!("CREATE DATABASE {template_db}"))
            .execute(&mut admin)
            .await
            .expect("create template");
        admin.close().await.ok();
        let pool = PgPool::connect(&url_for(&template_db))
            .await
            .expect("connecting to the template");
        rockstar::db::migrate(&pool).await.expect("migrations");
        let face = match FaceEngine::new(face_config()) {
            Ok(engine) => Ok(engine),
            Err(e) => Err(e.to_string()),
        };
        let gallery = match &face {
            Ok(engine) => {
                let storage = ObjectStorage::new(&StorageConfig::Local {
                    root: storage_root.clone(),
                })
                .expect("local storage");
                match rockstar::rocks::RockService::load(pool.clone(), storage, engine.clone())
                    .await
                {
                    Ok(rocks) => rocks.ensure_gallery().await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
            Err(e) => Err(format!("no face engine: {e}")),
        };
        pool.close().await;
        (face, gallery)
    });
    Shared {
        url_template,
        admin_db,
        template_db,
        storage_root,
        face,
        gallery,
        _runtime: runtime,
        _storage_dir: storage_dir,
    }
}

fn init_logs() {
    rockstar::telemetry::init(
        "info,rockstar=debug,tracing_actix_web=debug,sqlx=warn",
        || CaptureWriter,
    );
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// Set when `server.metrics_bind` gives `/metrics` a listener of its own.
    pub metrics_port: Option<u16>,
    pub db: PgPool,
    pub db_name: String,
    pub client: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    pub storage_root: PathBuf,
    server: actix_web::dev::ServerHandle,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like spawn_app, letting the test change the settings (e.g. rate limits) first.
pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_inner(customise, None).await
}

/// With its own face engine (e.g. one worker and no queue).
pub async fn spawn_app_with_engine(
    customise: impl FnOnce(&mut Settings),
    engine: FaceEngine,
) -> TestApp {
    spawn_app_inner(customise, Some(engine)).await
}

async fn spawn_app_inner(
    customise: impl FnOnce(&mut Settings),
    engine: Option<FaceEngine>,
) -> TestApp {
    let shared = shared();
    init_logs();
    let db_name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let url_for = |db: &str| shared.url_template.replace("{db}", db);
    let mut admin = PgConnection::connect(&url_for(&shared.admin_db))
        .await
        .expect("admin connection");
    let mut attempt = 0;
    loop {
        // Concurrent copies of one template can collide; retry briefly.
        match sqlx::query(&format!(
            "CREATE DATABASE {db_name} TEMPLATE {}",
            shared.template_db
        ))
        .execute(&mut admin)
        .await
        {
            Ok(_) => break,
            Err(e) if attempt < 20 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100 + 50 * attempt)).await;
                let _ = e;
            }
            Err(e) => panic!("creating the test database: {e}"),
        }
    }
    admin.close().await.ok();

    let data_dir = tempfile::tempdir().expect("data dir");
    let mut settings = Settings::load(None).expect("settings");
    settings.server.bind = "127.0.0.1:0".into();
    settings.server.workers = 2;
    settings.data_dir = data_dir.path().to_path_buf();
    settings.database.url = Some(SecretString::from(url_for(&db_name)));
    settings.database.max_connections = 5;
    // Each app stores its uploads apart: media ids come from per-database sequences that
    // start alike in every copy of the template, so two apps could pick the same id. The
    // gallery's rock images are shared through a link.
    let storage_root = data_dir.path().join("storage");
    std::fs::create_dir_all(&storage_root).expect("media folder");
    std::os::unix::fs::symlink(
        shared.storage_root.join("rocks"),
        storage_root.join("rocks"),
    )
    .expect("link the gallery's images");
    settings.storage = Some(StorageConfig::Local {
        root: storage_root.clone(),
    });
    settings.face = face_config();
    settings.auth.jwt_secret = Some(SecretString::from(JWT_SECRET.to_owned()));
    settings.rate_limit.signup_per_minute = 10_000;
    settings.rate_limit.signup_burst = 10_000;
    settings.rate_limit.login_per_minute = 10_000;
    settings.rate_limit.login_burst = 10_000;
    settings.rate_limit.login_per_account_per_minute = 10_000;
    settings.rate_limit.login_per_account_burst = 10_000;
    settings.rate_limit.post_per_minute = 10_000;
    settings.rate_limit.post_burst = 10_000;
    settings.rate_limit.media_per_minute = 10_000;
    settings.rate_limit.media_burst = 10_000;
    settings.rate_limit.requests_per_minute = 100_000;
    settings.rate_limit.requests_burst = 100_000;
    customise(&mut settings);

    let engine = engine.or_else(|| shared.face.as_ref().ok().cloned());
    let app = Application::build_with(settings, engine)
        .await
        .expect("building the app");
    let port = app.port();
    let metrics_port = app.metrics_port();
    let server = app.handle();
    tokio::spawn(app.run_until_stopped());
    let db = PgPool::connect(&url_for(&db_name))
        .await
        .expect("test db pool");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        metrics_port,
        db,
        db_name,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        data_dir,
        storage_root,
        server,
    }
}

/// Fails the test with the reason when the face engine or the gallery is not there.
/// (They are part of the product: a missing engine is a failure, not a skip.)
pub fn require_face_engine() -> FaceEngine {
    let shared = shared();
    match (&shared.face, &shared.gallery) {
        (Ok(engine), Ok(())) => engine.clone(),
        (Err(e), _) => panic!("the face engine could not start: {e}"),
        (_, Err(e)) => panic!("the rock gallery could not be prepared: {e}"),
    }
}

pub fn shared_data() -> PathBuf {
    repo_root().join("../shared/data")
}

/// The paths in a folder of ../shared/data, or None (with the reason printed) when the test
/// data is absent.
pub fn shared_entries(dir: &std::path::Path) -> Option<Vec<PathBuf>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Some(entries.flatten().map(|e| e.path()).collect()),
        Err(e) => {
            println!(
                "SKIPPED: {} is unreadable ({e}; test data absent)",
                dir.display()
            );
            None
        }
    }
}

/// A real face photo from ../shared/data/pairs, or None (with the reason printed).
pub fn human_photo(n: usize) -> Option<Vec<u8>> {
    let dir = shared_data().join("pairs");
    let mut files: Vec<PathBuf> = shared_entries(&dir)?
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with("human_") && f.ends_with(".jpg"))
        })
        .collect();
    files.sort();
    match files.get(n) {
        Some(path) => {
            Some(std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        }
        None => {
            println!(
                "SKIPPED: no test photo human_*.jpg #{n} under {} (test data absent)",
                dir.display()
            );
            None
        }
    }
}

pub struct Form<'a> {
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    pub consent: Option<&'a str>,
    pub photo: Option<(Vec<u8>, &'a str)>,
}

impl<'a> Form<'a> {
    pub fn new(username: &'a str, password: &'a str, photo: Vec<u8>) -> Self {
        Form {
            username: Some(username),
            password: Some(password),
            consent: Some("true"),
            photo: Some((photo, "image/jpeg")),
        }
    }
    pub fn build(self) -> reqwest::multipart::Form {
        let mut form = reqwest::multipart::Form::new();
        if let Some(u) = self.username {
            form = form.text("username", u.to_owned());
        }
        if let Some(p) = self.password {
            form = form.text("password", p.to_owned());
        }
        if let Some(c) = self.consent {
            form = form.text("consent", c.to_owned());
        }
        if let Some((bytes, mime)) = self.photo {
            let part = reqwest::multipart::Part::bytes(bytes)
                .file_name("selfie")
                .mime_str(mime)
                .expect("mime");
            form = form.part("photo", part);
        }
        form
    }
}

impl TestApp {
    /// The app's own object storage (a local folder).
    pub fn storage(&self) -> rockstar::storage::ObjectStorage {
        rockstar::storage::ObjectStorage::new(&StorageConfig::Local {
            root: self.storage_root.clone(),
        })
        .expect("storage")
    }

    /// Stops the server once every request in flight has been answered.
    pub async fn stop(&self) {
        self.server.stop(true).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn sign_up(&self, form: Form<'_>) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/accounts"))
            .multipart(form.build())
            .send()
            .await
            .expect("sign-up request")
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/sessions"))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .expect("login request")
    }

    pub async fn token_for(&self, username: &str, password: &str) -> String {
        let response = self.login(username, password).await;
        assert_eq!(response.status(), 200, "login should succeed");
        let body: serde_json::Value = response.json().await.expect("json");
        body["token"].as_str().expect("token").to_owned()
    }

    /// After refused input, the server must still answer.
    pub async fn assert_still_serving(&self) {
        assert_eq!(
            self.get("/healthz").await.status(),
            200,
            "the server keeps serving"
        );
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// POSTs a body exactly as given, with its Content-Type (for malformed-body tests).
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// An account made straight in the database with the product's own password hash and
    /// a fixture rock, for tests of sessions and profiles that do not exercise the face path.
    pub async fn create_account_directly(&self, username: &str, password: &str) -> i64 {
        let rock_id: i64 = sqlx::query_scalar(
            "INSERT INTO rocks (source_key, name, photo_key, face_key, embedding, source) \
             VALUES ('test:fixture', 'Fixture Rock', 'rocks/fixture.jpg', 'rocks/fixture_face.jpg', ARRAY[0.25, 0.5]::real[], 'imported') \
             ON CONFLICT (source_key) DO UPDATE SET name = EXCLUDED.name RETURNING id",
        )
        .fetch_one(&self.db)
        .await
        .expect("fixture rock");
        let password = rockstar::domain::Password::parse(SecretString::from(password.to_owned()))
            .expect("valid password");
        let hash = rockstar::http::auth::hash_password(password)
            .await
            .expect("hash");
        rockstar::db::accounts::create(&self.db, username, &hash, rock_id, 0.5, Some(0.5))
            .await
            .expect("insert account")
            .expect("fixture rock exists")
    }
}

pub async fn assert_error(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    let actual = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("error body is JSON");
    check_error(actual, &body, status, code);
    body
}

/// The one JSON error format: the expected status, code and a message.
pub fn check_error(actual: u16, body: &serde_json::Value, status: u16, code: &str) {
    assert_eq!(actual, status, "unexpected status; body {body}");
    assert_eq!(body["error"], code, "unexpected error code; body {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error has a message: {body}"
    );
}

/// Lists every file under a folder.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
