//! `serve` and `migrate`.
use crate::config::Settings;
use crate::embedded::EmbeddedPostgres;
use crate::startup::Application;
use anyhow::Context;
use std::path::PathBuf;

/// Buffers of 4 MiB and more (argon2's 19 MiB per password check, decoded photos) go back to
/// the system when freed. Otherwise glibc raises its mmap threshold after the first such
/// free and keeps later ones in its per-thread arenas: measured, the server's memory grew
/// by 6 MB per sign-in (431 → 602 MB over 28) and peaked at 1.9 GB under a sign-in flood.
pub fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

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
    // Start-up (initdb, the first gallery) takes a while; a stop signal then ends it cleanly.
    let Some(app) = until_stop_signal(Application::build(settings)).await? else {
        return Ok(());
    };
    app.run_until_stopped().await
}

/// Runs `work` unless SIGINT or SIGTERM comes first. Then `work` is dropped, and with it
/// anything it holds, such as its lease on the embedded cluster (which stops it when it was
/// the last user): Ok(None).
pub async fn until_stop_signal<T>(
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<Option<T>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    tokio::select! {
        done = work => done.map(Some),
        _ = tokio::signal::ctrl_c() => {
            tracing::warn!("interrupted (SIGINT); stopping");
            Ok(None)
        }
        _ = term.recv() => {
            tracing::warn!("asked to stop (SIGTERM); stopping");
            Ok(None)
        }
    }
}

pub async fn migrate(args: CommonArgs) -> anyhow::Result<()> {
    let settings = args.settings()?;
    let Some((pool, _, cluster)) =
        until_stop_signal(crate::startup::open_database(&settings, 2)).await?
    else {
        return Ok(());
    };
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
