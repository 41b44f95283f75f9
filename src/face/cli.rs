//! `rockstar face ...`: the engine on single images, for people checking a photo or a setup.
use super::{FaceEngine, FaceEngineConfig};
use anyhow::Context;
use std::path::PathBuf;

/// Where the engine finds its files, and how many workers it runs.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineOptions {
    /// Folder with the ONNX models and manifest.json (default: models/ of the repository or
    /// next to the executable).
    #[arg(long, env = "ROCKSTAR_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
    /// libonnxruntime.so (default: ORT_DYLIB_PATH, else vendor/onnxruntime/).
    #[arg(long)]
    pub onnxruntime: Option<PathBuf>,
    /// Inference workers (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,
}

impl EngineOptions {
    pub fn config(&self) -> FaceEngineConfig {
        let mut config = FaceEngineConfig::default();
        if let Some(dir) = &self.models_dir {
            config.models_dir = dir.clone();
        }
        config.onnxruntime = self.onnxruntime.clone();
        if let Some(w) = self.workers {
            config.workers = w.max(1);
        }
        // Bulk tools wait for room rather than being refused.
        config.queue = config.workers * 8;
        config
    }

    pub fn engine(&self) -> anyhow::Result<FaceEngine> {
        FaceEngine::new(self.config()).context("starting the face engine")
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum FaceCommand {
    /// Print the faces found in an image as JSON (box, score, keypoints, in source pixels).
    Detect {
        image: PathBuf,
        #[command(flatten)]
        engine: EngineOptions,
    },
    /// Check one photo as sign-up would: prints `{"ok": true}` or the error code and message
    /// (never the embedding).
    Check {
        image: PathBuf,
        #[command(flatten)]
        engine: EngineOptions,
    },
}

pub fn run(command: FaceCommand) -> anyhow::Result<()> {
    match command {
        FaceCommand::Detect { image, engine } => {
            let bytes =
                std::fs::read(&image).with_context(|| format!("reading {}", image.display()))?;
            let engine = engine.engine()?;
            match engine.detect_blocking(&bytes) {
                Ok(faces) => println!("{}", serde_json::json!({ "faces": faces })),
                Err(e) => {
                    println!(
                        "{}",
                        serde_json::json!({ "error": e.code(), "message": e.to_string() })
                    );
                    std::process::exit(1);
                }
            }
        }
        FaceCommand::Check { image, engine } => {
            let bytes =
                std::fs::read(&image).with_context(|| format!("reading {}", image.display()))?;
            let engine = engine.engine()?;
            match engine.analyse_timed_blocking(super::Photo::new(bytes))?.0 {
                Ok(_) => println!("{}", serde_json::json!({ "ok": true })),
                Err(e) => {
                    println!(
                        "{}",
                        serde_json::json!({ "error": e.code(), "message": e.to_string() })
                    );
                    std::process::exit(1);
                }
            }
        }
    }
    Ok(())
}
