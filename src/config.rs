//! Settings: built-in defaults < `rockstar.toml` < `ROCKSTAR_*` environment.
//!
//! Nested keys use a double underscore in the environment, e.g.
//! `ROCKSTAR_DATABASE__URL`, `ROCKSTAR_AUTH__TOKEN_TTL_SECS`. `DATABASE_URL` is
//! honoured when no database URL is configured otherwise. Secrets are held in
//! [`SecretString`] so they never appear in `Debug` output or logs.
use crate::face::FaceEngineConfig;
use crate::storage::StorageConfig;
use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};

const DEFAULTS: &str = r#"
data_dir = "./data"

[server]
bind = "127.0.0.1:8080"
body_limit = 12582912
json_limit = 65536
body_idle_timeout_secs = 20
body_timeout_secs = 300
workers = 0
# The web app's files; relative paths are taken from the working directory.
static_dir = "static"

[database]
max_connections = 10

[face]
models_dir = "./models"
queue = 16
max_bytes = 10485760
max_pixels = 40000000
max_side = 12000

[auth]
token_ttl_secs = 2592000

[rate_limit]
signup_per_minute = 10
signup_burst = 5
login_per_minute = 30
login_burst = 10
login_per_account_per_minute = 10
login_per_account_burst = 10
post_per_minute = 30
post_burst = 10
media_per_minute = 20
media_burst = 10
requests_per_minute = 600
requests_burst = 300
"#;

#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    /// All local state: the embedded PostgreSQL cluster, local media, the JWT secret.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    /// None = local disk under `data_dir/media`.
    #[serde(default)]
    pub storage: Option<StorageConfig>,
    pub face: FaceEngineConfig,
    pub auth: AuthSettings,
    pub rate_limit: RateLimitSettings,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    /// Largest request body in bytes (multipart sign-up included).
    pub body_limit: usize,
    /// Largest JSON body in bytes.
    pub json_limit: usize,
    /// A body that sends nothing for this long is refused (408): actix times out only the
    /// head, so a stalled upload would hold its connection for ever.
    pub body_idle_timeout_secs: u64,
    /// The whole body must arrive within this (a byte now and then is no way round it).
    pub body_timeout_secs: u64,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// The web app's files (`static/`).
    pub static_dir: PathBuf,
    /// A second listener for `/metrics` alone (e.g. `127.0.0.1:9464`); the main one then
    /// answers 404 there. None: `/metrics` is on the main listener.
    #[serde(default)]
    pub metrics_bind: Option<String>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// None = start the embedded cluster under `data_dir/postgres`.
    #[serde(default)]
    pub url: Option<SecretString>,
    pub max_connections: u32,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// None = generated once and kept in `data_dir/jwt_secret`.
    #[serde(default)]
    pub jwt_secret: Option<SecretString>,
    pub token_ttl_secs: i64,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub signup_per_minute: u32,
    pub signup_burst: u32,
    pub login_per_minute: u32,
    pub login_burst: u32,
    /// Sign-in attempts per username, from any address (slows a password guess spread over
    /// many addresses).
    pub login_per_account_per_minute: u32,
    pub login_per_account_burst: u32,
    /// Statuses (posts and replies) per account.
    pub post_per_minute: u32,
    pub post_burst: u32,
    /// Image uploads per account (each runs the face detector).
    pub media_per_minute: u32,
    pub media_burst: u32,
    /// Every request but the health probes, per IP: reads cost the database too.
    pub requests_per_minute: u32,
    pub requests_burst: u32,
    /// Reverse proxies (load balancers) whose X-Forwarded-For names the client for the
    /// per-IP limits; empty = every peer is a client.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

// By hand, so that S3 credentials inside StorageConfig are never printed.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let storage = match &self.storage {
            None => "local (data_dir/media)".to_owned(),
            Some(StorageConfig::Local { root }) => format!("local {}", root.display()),
            Some(StorageConfig::S3 {
                endpoint,
                bucket,
                region,
                ..
            }) => {
                format!("s3 bucket={bucket} region={region} endpoint={endpoint:?}")
            }
        };
        f.debug_struct("Settings")
            .field("server", &self.server)
            .field("data_dir", &self.data_dir)
            .field("database", &self.database)
            .field("storage", &storage)
            .field("face", &self.face)
            .field("auth", &self.auth)
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

impl Settings {
    /// Loads the layers. `file` = an explicit config file (must exist); otherwise
    /// `rockstar.toml` in the working directory is read when present.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        Self::load_with(file, std::env::vars())
    }

    /// `load` with the given environment in place of the process's.
    fn load_with(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Settings> {
        let workers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .set_default("face.workers", workers as i64)?;
        builder = match file {
            Some(path) => builder.add_source(config::File::from(path.to_path_buf()).required(true)),
            None => builder.add_source(config::File::with_name("rockstar.toml").required(false)),
        };
        // Values stay strings (a 40-digit secret or a bucket named "0070" must not turn
        // into a number); serde converts the numeric settings itself.
        builder = builder.add_source(
            config::Environment::with_prefix("ROCKSTAR")
                .prefix_separator("_")
                .separator("__")
                .source(Some(environment_settings(env)?)),
        );
        let mut settings: Settings = builder
            .build()
            .context("reading configuration")?
            .try_deserialize()
            .context("invalid configuration (a misspelt key is refused, not ignored)")?;
        settings.validate()?;
        if settings.database.url.is_none() {
            if let Ok(url) = std::env::var("DATABASE_URL") {
                if !url.is_empty() {
                    settings.database.url = Some(SecretString::from(url));
                }
            }
        }
        Ok(settings)
    }

    /// Values that parse but cannot work: refused here with the key's name, rather than as
    /// a panic or an abort later.
    fn validate(&self) -> anyhow::Result<()> {
        let check = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(anyhow::anyhow!("invalid configuration: {what}"))
            }
        };
        check(
            (60..=10 * 365 * 86_400).contains(&self.auth.token_ttl_secs),
            "auth.token_ttl_secs must be between 60 and 315360000 (ten years)",
        )?;
        check(
            (1..=1000).contains(&self.database.max_connections),
            "database.max_connections must be between 1 and 1000",
        )?;
        check(
            (1..=256).contains(&self.face.workers),
            "face.workers must be between 1 and 256",
        )?;
        check(
            (1..=10_000).contains(&self.face.queue),
            "face.queue must be between 1 and 10000",
        )?;
        check(
            self.server.body_limit >= 1024,
            "server.body_limit must be at least 1024 bytes",
        )?;
        check(
            (1..=86_400).contains(&self.server.body_idle_timeout_secs)
                && (1..=86_400).contains(&self.server.body_timeout_secs),
            "server.body_idle_timeout_secs and server.body_timeout_secs must be between 1 and 86400",
        )?;
        check(
            self.server.json_limit >= 1024,
            "server.json_limit must be at least 1024 bytes",
        )?;
        check(
            self.face.max_bytes >= 1024 && self.face.max_pixels >= 1 && self.face.max_side >= 1,
            "face.max_bytes must be at least 1024, face.max_pixels and face.max_side at least 1",
        )?;
        if let Some(metrics_bind) = &self.server.metrics_bind {
            check(
                !metrics_bind.trim().is_empty(),
                "server.metrics_bind must be an address such as 127.0.0.1:9464, or be left out",
            )?;
            check(
                metrics_bind != &self.server.bind || metrics_bind.ends_with(":0"),
                "server.metrics_bind must differ from server.bind (metrics get a listener of their own)",
            )?;
        }
        check(
            self.server.workers <= 1024,
            "server.workers must be at most 1024 (0 = one per core)",
        )?;
        Ok(())
    }

    /// The storage to use: the configured one, or local disk under the data folder.
    pub fn storage_config(&self) -> StorageConfig {
        match &self.storage {
            Some(config) => config.clone(),
            None => StorageConfig::Local {
                root: self.data_dir.join("media"),
            },
        }
    }

    /// The configured JWT secret, or the one persisted in `data_dir/jwt_secret`
    /// (generated on first use, mode 0600).
    pub fn jwt_secret(&self) -> anyhow::Result<SecretString> {
        if let Some(secret) = &self.auth.jwt_secret {
            anyhow::ensure!(
                secret.expose_secret().len() >= 32,
                "auth.jwt_secret must be at least 32 characters"
            );
            return Ok(secret.clone());
        }
        load_or_create_secret(&self.data_dir.join("jwt_secret"))
    }
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<SecretString> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::read_to_string(path) {
        Ok(text) => return secret_from_file(path, text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut bytes = [0u8; 48];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let secret = hex::encode(bytes);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    Ok(SecretString::from(secret))
}

/// A persisted secret, refused if others may read it (anyone holding it can sign tokens
/// and attachment URLs).
fn secret_from_file(path: &Path, text: String) -> anyhow::Result<SecretString> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    anyhow::ensure!(
        mode & 0o077 == 0,
        "{} can be read by other users (mode {:o}); run `chmod 600` on it",
        path.display(),
        mode & 0o777
    );
    let text = text.trim().to_owned();
    anyhow::ensure!(
        text.len() >= 32,
        "{} is too short; delete it to regenerate",
        path.display()
    );
    Ok(SecretString::from(text))
}

/// `ROCKSTAR_*` variables of the command-line tools and tests, not settings.
const TOOL_VARIABLES: [&str; 3] = ["MODELS_DIR", "HUMAN_REFERENCE", "TEST_DUMP_DIR"];

/// The `ROCKSTAR_*` variables that are settings: nested keys (`ROCKSTAR_SECTION__KEY`) and
/// `ROCKSTAR_DATA_DIR`. Any other with the prefix that no tool reads is a misspelt setting
/// (most often a single underscore), refused like a misspelt key in a file.
fn environment_settings(
    vars: impl Iterator<Item = (String, String)>,
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    let mut settings = std::collections::HashMap::new();
    for (key, value) in vars {
        let Some(rest) = key.strip_prefix("ROCKSTAR_") else {
            continue;
        };
        if rest.contains("__") || rest == "DATA_DIR" {
            settings.insert(key, value);
        } else if !TOOL_VARIABLES.contains(&rest) {
            let nested = rest.replacen('_', "__", 1);
            anyhow::bail!(
                "invalid configuration: {key} is not a setting; a key in a section takes a \
                 double underscore, e.g. ROCKSTAR_{nested}"
            );
        }
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_override_in_order_and_secrets_stay_hidden() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("rockstar.toml");
        std::fs::write(
            &file,
            "data_dir = \"/srv/rockstar\"\n[server]\nbind = \"0.0.0.0:9000\"\n[rate_limit]\nlogin_burst = 3\n\
             [auth]\njwt_secret = \"file-secret-file-secret-file-secret-123\"\n\
             [storage]\nbackend = \"s3\"\nbucket = \"media\"\nregion = \"us-east-1\"\npath_style = true\n\
             access_key_id = \"AKID\"\nsecret_access_key = \"s3-secret-value\"\n",
        )?;
        let env = [(
            "ROCKSTAR_RATE_LIMIT__LOGIN_BURST".to_owned(),
            "7".to_owned(),
        )];
        let settings = Settings::load_with(Some(&file), env.into_iter())?;
        assert_eq!(settings.server.bind, "0.0.0.0:9000", "file beats defaults");
        assert_eq!(settings.data_dir, PathBuf::from("/srv/rockstar"));
        assert_eq!(settings.rate_limit.login_burst, 7, "environment beats file");
        assert_eq!(
            settings.rate_limit.signup_burst, 5,
            "defaults fill the rest"
        );
        assert_eq!(settings.face.max_bytes, 10 * 1024 * 1024);
        let printed = format!("{settings:?}");
        assert!(
            !printed.contains("file-secret"),
            "secrets are not printed: {printed}"
        );
        assert!(
            !printed.contains("s3-secret-value"),
            "S3 keys are not printed: {printed}"
        );
        assert!(
            matches!(settings.storage, Some(StorageConfig::S3 { ref bucket, .. }) if bucket == "media")
        );
        Ok(())
    }

    #[test]
    fn misspelt_keys_and_unworkable_values_are_refused_by_name() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        for (toml, says) in [
            ("[database]\nulr = \"postgres://x\"\n", "ulr"),
            ("[server]\nbnid = \"0.0.0.0:1\"\n", "bnid"),
            (
                "[auth]\ntoken_ttl_secs = 9223372036854775807\n",
                "token_ttl_secs",
            ),
            ("[database]\nmax_connections = 0\n", "max_connections"),
            ("[face]\nqueue = 100000000000\n", "face.queue"),
            (
                "[server]\nbind = \"0.0.0.0:8080\"\nmetrics_bind = \"0.0.0.0:8080\"\n",
                "server.metrics_bind must differ",
            ),
            ("[server]\nmetrics_bind = \" \"\n", "server.metrics_bind"),
        ] {
            let file = dir.path().join("bad.toml");
            std::fs::write(&file, toml)?;
            let error = match Settings::load(Some(&file)) {
                Ok(_) => panic!("{toml:?} was accepted"),
                Err(e) => format!("{e:#}"),
            };
            assert!(error.contains(says), "{toml:?}: {error}");
        }
        Ok(())
    }

    #[test]
    fn only_nested_rockstar_variables_are_settings() -> anyhow::Result<()> {
        let vars = [
            ("ROCKSTAR_DATABASE__URL", "postgres://db"),
            ("ROCKSTAR_DATA_DIR", "/srv"),
            ("ROCKSTAR_MODELS_DIR", "/models"),
            ("DATABASE_URL", "postgres://other"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let mut kept: Vec<String> = environment_settings(vars.into_iter())?
            .into_keys()
            .collect();
        kept.sort();
        assert_eq!(kept, ["ROCKSTAR_DATABASE__URL", "ROCKSTAR_DATA_DIR"]);

        let misspelt = [("ROCKSTAR_SERVER_BIND".to_owned(), "0.0.0.0:80".to_owned())];
        let Err(err) = environment_settings(misspelt.into_iter()) else {
            anyhow::bail!("a single underscore must be refused");
        };
        let err = err.to_string();
        assert!(err.contains("ROCKSTAR_SERVER__BIND"), "{err}");
        Ok(())
    }

    #[test]
    fn a_long_numeric_secret_from_the_environment_stays_as_written() -> anyhow::Result<()> {
        let env = [(
            "ROCKSTAR_AUTH__JWT_SECRET".to_owned(),
            "0123456789012345678901234567890123456789".to_owned(),
        )];
        let secret = Settings::load_with(None, env.into_iter())?.jwt_secret()?;
        assert_eq!(
            secret.expose_secret(),
            "0123456789012345678901234567890123456789"
        );
        Ok(())
    }

    #[test]
    fn jwt_secret_is_generated_once_with_private_permissions() -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("jwt_secret");
        let first = load_or_create_secret(&path)?;
        let second = load_or_create_secret(&path)?;
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert!(first.expose_secret().len() >= 64);
        assert_eq!(
            std::fs::metadata(&path)?.permissions().mode() & 0o777,
            0o600
        );
        // Made readable by others, it is refused rather than trusted.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        match load_or_create_secret(&path) {
            Err(refused) => assert!(refused.to_string().contains("chmod 600"), "{refused}"),
            Ok(_) => panic!("a world-readable secret was used"),
        }
        Ok(())
    }
}
