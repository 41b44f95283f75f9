//! `serve` and `migrate`.
use crate::config::Settings;
use crate::embedded::EmbeddedPostgres;
use crate::startup::Application;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// Configuration file (default: ./rockstar.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Folder for local state (default ./data).
    #[arg(long = "data")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    pub bind: Option<String>,
}

impl CommonArgs {
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let mut settings = Settings::load(self.config.as_deref())?;
        if let Some(dir) = &self.data_dir {
            settings.data_dir = dir.clone();
        }
        Ok(settings)
    }
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut settings = args.common.settings()?;
    if let Some(bind) = args.bind {
        settings.server.bind = bind;
    }
    let app = Application::build(settings).await?;
    app.run_until_stopped().await
}

pub async fn migrate(args: CommonArgs) -> anyhow::Result<()> {
    let settings = args.settings()?;
    let (pool, _, cluster) = crate::startup::open_database(&settings, 2).await?;
    pool.close().await;
    tracing::info!("migrations applied");
    release(cluster).await
}

/// Leaves the embedded cluster: it stops unless another process (a server) uses it.
pub async fn release(cluster: Option<EmbeddedPostgres>) -> anyhow::Result<()> {
    if let Some(mut cluster) = cluster {
        tokio::task::spawn_blocking(move || cluster.stop()).await??;
    }
    Ok(())
}
