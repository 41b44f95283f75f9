//! Counts the SQL statements the app runs, with pg_stat_statements, in a private
//! PostgreSQL cluster started with the module preloaded (the shared test cluster is not).
use rockstar::embedded::{ClusterOptions, EmbeddedPostgres};
use secrecy::SecretString;
use sqlx::{Connection, PgConnection, PgPool};

pub struct QueryCounter {
    cluster: Option<EmbeddedPostgres>,
    dir: std::path::PathBuf,
    admin: PgPool,
    app_url: String,
}

fn as_superuser(url: &str) -> String {
    url.replacen("rockstar@", "postgres@", 1)
}

impl QueryCounter {
    /// None (with the reason printed) when no private cluster can be started here.
    pub async fn start() -> Option<QueryCounter> {
        let dir = std::env::temp_dir().join(format!(
            "rockstar-test-pgss-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let options = ClusterOptions {
            dir: dir.clone(),
            durable: false,
        };
        let start = |options: ClusterOptions| {
            tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&options))
        };
        let mut cluster = match start(options.clone()).await {
            Ok(Ok(cluster)) => cluster,
            Ok(Err(e)) => {
                println!("SKIPPED: no private PostgreSQL cluster for pg_stat_statements: {e:#}");
                return None;
            }
            Err(e) => panic!("cluster start thread: {e}"),
        };
        let admin_url = as_superuser(&cluster.url_for("postgres"));
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("superuser connection over the socket");
        sqlx::query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            .execute(&mut admin)
            .await
            .expect("ALTER SYSTEM");
        admin.close().await.ok();
        let cluster = tokio::task::spawn_blocking(move || {
            cluster.stop()?;
            drop(cluster);
            EmbeddedPostgres::start(&options)
        })
        .await
        .expect("restart thread")
        .expect("restarting the cluster with pg_stat_statements");
        let app_url = cluster.url();
        let mut in_app_db = PgConnection::connect(&as_superuser(&app_url))
            .await
            .expect("superuser in the app database");
        sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .execute(&mut in_app_db)
            .await
            .expect("extension");
        in_app_db.close().await.ok();
        let admin = PgPool::connect(&admin_url).await.expect("admin pool");
        // The view lives where the extension is created; the counter reads it from here.
        sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .execute(&admin)
            .await
            .expect("extension");
        Some(QueryCounter {
            cluster: Some(cluster),
            dir,
            admin,
            app_url,
        })
    }

    pub fn app_url(&self) -> String {
        self.app_url.clone()
    }

    pub async fn app_pool(&self) -> PgPool {
        PgPool::connect(&self.app_url)
            .await
            .expect("app database pool")
    }

    /// Statements executed so far in the app's database (this counter's own queries run
    /// in another database and are not included).
    pub async fn calls(&self) -> i64 {
        sqlx::query_scalar(
            "SELECT COALESCE(sum(calls), 0)::BIGINT FROM pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'rockstar')",
        )
        .fetch_one(&self.admin)
        .await
        .expect("reading pg_stat_statements")
    }
}

impl Drop for QueryCounter {
    fn drop(&mut self) {
        if let Some(mut cluster) = self.cluster.take() {
            let _ = cluster.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A member inserted with SQL (rock row + account row) and the product's password hash.
pub async fn insert_member(db: &PgPool, username: &str) -> i64 {
    let rock_id: i64 = sqlx::query_scalar(
        "INSERT INTO rocks (source_key, name, photo_key, face_key, embedding, source) \
         VALUES ('test:fixture', 'Fixture Rock', 'rocks/fixture.jpg', 'rocks/fixture_face.jpg', ARRAY[0.25, 0.5]::real[], 'imported') \
         ON CONFLICT (source_key) DO UPDATE SET name = EXCLUDED.name RETURNING id",
    )
    .fetch_one(db)
    .await
    .expect("fixture rock");
    let password = rockstar::domain::Password::parse(SecretString::from(
        crate::social_helpers::PASSWORD.to_owned(),
    ))
    .expect("valid password");
    let hash = rockstar::http::auth::hash_password(password)
        .await
        .expect("hash");
    rockstar::db::accounts::create(db, username, &hash, rock_id, 0.5, Some(0.5))
        .await
        .expect("insert account")
        .expect("fixture rock exists")
}
