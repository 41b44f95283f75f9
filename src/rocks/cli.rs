//! `rockstar rocks ...`: import, generate, calibrate.
use super::offline::{self, progress_bar};
use super::{Calibration, RockService, RockSettings};
use crate::face::{FaceEngine, FaceEngineConfig};
use crate::storage::ObjectStorage;
use anyhow::Context;
use std::path::PathBuf;

/// Where the face models are.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// Folder with the ONNX models (default: the configuration's face.models_dir for the
    /// gallery commands, else models/).
    #[arg(long, env = "ROCKSTAR_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
    /// libonnxruntime.so (default: ORT_DYLIB_PATH, the configuration's face.onnxruntime,
    /// then vendor/onnxruntime).
    #[arg(long, env = "ORT_DYLIB_PATH")]
    pub onnxruntime: Option<PathBuf>,
}

impl EngineArgs {
    pub fn engine(&self) -> anyhow::Result<FaceEngine> {
        self.engine_configured(None)
    }

    /// Flags first, then the server's configuration, then the defaults.
    pub fn engine_configured(
        &self,
        configured: Option<&FaceEngineConfig>,
    ) -> anyhow::Result<FaceEngine> {
        let onnxruntime = self
            .onnxruntime
            .clone()
            .or_else(|| configured.and_then(|c| c.onnxruntime.clone()))
            .or_else(|| {
                let vendored = PathBuf::from("vendor/onnxruntime/libonnxruntime.so.1.31.1");
                vendored.exists().then_some(vendored)
            });
        let config = FaceEngineConfig {
            models_dir: self.models_dir_or(configured),
            onnxruntime,
            workers: num_cpus::get().max(1),
            queue: 256,
            max_bytes: 20 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_side: 10_000,
        };
        FaceEngine::new(config).context("starting the face engine")
    }

    pub(crate) fn models_dir_or(&self, configured: Option<&FaceEngineConfig>) -> PathBuf {
        self.models_dir
            .clone()
            .or_else(|| configured.map(|c| c.models_dir.clone()))
            .unwrap_or_else(|| PathBuf::from("models"))
    }
}

/// The gallery the server uses: the same configuration file, environment and data
/// folder as `serve` (the embedded cluster is started, or joined when a server runs).
#[derive(Debug, Clone, clap::Args)]
pub struct GalleryArgs {
    #[command(flatten)]
    pub common: crate::cli::CommonArgs,
    /// The calibrated human reference (default: human_reference.bin in the models folder).
    #[arg(long, env = "ROCKSTAR_HUMAN_REFERENCE")]
    pub human_reference: Option<PathBuf>,
}

/// A gallery opened by a command; `close` stops the embedded cluster if it started it.
pub struct OpenGallery {
    pub service: RockService,
    db: sqlx::PgPool,
    cluster: Option<crate::embedded::EmbeddedPostgres>,
}

impl GalleryArgs {
    /// Opens the server's gallery, with a face engine on the server's models unless the
    /// engine flags say otherwise.
    pub async fn open(&self, engine: &EngineArgs) -> anyhow::Result<OpenGallery> {
        let settings = self.common.settings()?;
        let models_dir = engine.models_dir_or(Some(&settings.face));
        let engine = engine.engine_configured(Some(&settings.face))?;
        let (db, _, cluster) = crate::startup::open_database(&settings, 4).await?;
        let storage =
            ObjectStorage::new(&settings.storage_config()).context("opening object storage")?;
        let rock_settings = RockSettings {
            human_reference: self
                .human_reference
                .clone()
                .unwrap_or_else(|| models_dir.join("human_reference.bin")),
            ..RockSettings::default()
        };
        let service = RockService::load_with(db.clone(), storage, engine, rock_settings).await?;
        Ok(OpenGallery {
            service,
            db,
            cluster,
        })
    }
}

impl OpenGallery {
    pub async fn close(self) -> anyhow::Result<()> {
        self.db.close().await;
        crate::cli::release(self.cluster).await
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum RocksCommand {
    /// Render a contact sheet of generated rocks to a PNG file.
    Sheet {
        /// Output PNG path.
        out: PathBuf,
        /// Number of rocks.
        #[arg(long, default_value_t = 48)]
        count: u32,
        /// Gallery seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Tile side in pixels.
        #[arg(long, default_value_t = 192)]
        tile: u32,
    },
    /// Add every image in PHOTOS_DIR as a rock (idempotent).
    Import {
        photos: PathBuf,
        /// Hand-cropped faces, same file names as the photos; used for matching.
        #[arg(long)]
        faces: Option<PathBuf>,
        #[command(flatten)]
        gallery: GalleryArgs,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Render and store N procedural rocks (idempotent per seed).
    Generate {
        /// 1 to 1,000,000.
        #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        count: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        gallery: GalleryArgs,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Compute the human reference (mean, PCA basis, reference faces) from an LFW-style folder.
    Calibrate {
        lfw: PathBuf,
        /// Rock face crops for the shared PCA basis.
        #[arg(long)]
        rocks: PathBuf,
        #[arg(long, default_value = "models/human_reference.bin")]
        out: PathBuf,
        /// Reference people (every other person in name order, so the rest stay unseen).
        #[arg(long, default_value_t = 300)]
        people: usize,
        /// People (after the reference people, same every-other order) who fit the human
        /// mean and basis instead of the reference faces (0 = the reference faces do).
        #[arg(long, default_value_t = 300)]
        basis_people: usize,
        /// Rock-space dimension (0 = no projection).
        #[arg(long, default_value_t = 128)]
        dim: usize,
        /// Keep computed features in this JSON file and reuse them (for repeated runs).
        #[arg(long)]
        features_cache: Option<PathBuf>,
        #[command(flatten)]
        engine: EngineArgs,
    },
}

pub async fn run(command: RocksCommand) -> anyhow::Result<()> {
    match command {
        RocksCommand::Sheet {
            out,
            count,
            seed,
            tile,
        } => rocks_sheet(&out, count, seed, tile)?,
        RocksCommand::Import {
            photos,
            faces,
            gallery,
            engine,
        } => {
            let gallery = gallery.open(&engine).await?;
            let service = &gallery.service;
            let bar = progress_bar(0, "import");
            let report = service
                .import_dir(&photos, faces.as_deref(), &|done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })
                .await?;
            bar.finish();
            for (path, reason) in &report.failed {
                eprintln!("skipped {}: {reason}", path.display());
            }
            println!(
                "{}",
                serde_json::json!({"added": report.added.len(), "already_present": report.already_present, "skipped": report.failed.len(), "gallery": service.len(), "stopped": report.stopped})
            );
            gallery.close().await?;
            if let Some(why) = report.stopped {
                anyhow::bail!("the import stopped early: {why}");
            }
        }
        RocksCommand::Generate {
            count,
            seed,
            gallery,
            engine,
        } => {
            let gallery = gallery.open(&engine).await?;
            let service = &gallery.service;
            let bar = progress_bar(count as u64, "generate");
            let added = service
                .generate(count, seed, &|done, _| bar.set_position(done))
                .await?;
            bar.finish();
            println!(
                "{}",
                serde_json::json!({"added": added, "gallery": service.len()})
            );
            gallery.close().await?;
        }
        RocksCommand::Calibrate {
            lfw,
            rocks,
            out,
            people,
            basis_people,
            dim,
            features_cache,
            engine,
        } => {
            let mut cache = offline::load_feature_cache(
                features_cache.as_deref(),
                &engine.models_dir_or(None),
            )?;
            let engine = engine.engine()?;
            let everyone = offline::one_photo_per_person(&lfw)
                .with_context(|| format!("reading {}", lfw.display()))?;
            let chosen: Vec<_> = everyone
                .into_iter()
                .step_by(2)
                .take(people + basis_people)
                .collect();
            let bar = progress_bar(chosen.len() as u64, "faces");
            let mut humans = Vec::new();
            let mut basis_humans = Vec::new();
            for (i, (name, path)) in chosen.iter().enumerate() {
                let key = format!("human:{}", path.display());
                let found = match cache.get(&key) {
                    Some(f) if f.is_empty() => Err("no usable face (cached)".to_string()),
                    Some(f) => Ok(f.clone()),
                    None => offline::human_features(&engine, path)
                        .await
                        .map(|f| f.appearance),
                };
                cache.insert(key, found.clone().unwrap_or_default());
                match found {
                    Ok(f) if i < people => humans.push(f),
                    Ok(f) => basis_humans.push(f),
                    Err(e) => eprintln!("skipped {name}: {e}"),
                }
                bar.inc(1);
            }
            bar.finish();
            let rock_files = offline::images_in(&rocks)?;
            let bar = progress_bar(rock_files.len() as u64, "rocks");
            let missing: Vec<PathBuf> = rock_files
                .iter()
                .filter(|p| !cache.contains_key(&format!("rock:{}", p.display())))
                .cloned()
                .collect();
            let fresh = offline::rock_features(&engine, &missing, &|n| bar.set_position(n)).await?;
            for (p, f) in missing.iter().zip(fresh) {
                cache.insert(format!("rock:{}", p.display()), f.unwrap_or_default());
            }
            let rock_feats: Vec<Vec<f32>> = rock_files
                .iter()
                .filter_map(|p| {
                    cache
                        .get(&format!("rock:{}", p.display()))
                        .filter(|f| !f.is_empty())
                        .cloned()
                })
                .collect();
            bar.finish();
            if let Some(p) = &features_cache {
                std::fs::write(p, serde_json::to_vec(&cache)?)?;
            }
            anyhow::ensure!(!humans.is_empty(), "no usable faces in {}", lfw.display());
            let calibration = tokio::task::spawn_blocking(move || {
                if basis_humans.is_empty() {
                    Calibration::compute(&humans, &rock_feats, dim)
                } else {
                    Calibration::compute_split(&basis_humans, &humans, &rock_feats, dim)
                }
            })
            .await??;
            calibration.save(&out)?;
            println!(
                "{}",
                serde_json::json!({"reference_faces": calibration.reference_count(), "basis_people": basis_people, "in_dim": calibration.in_dim(), "dim": calibration.out_dim(), "out": out, "bytes": std::fs::metadata(&out)?.len()})
            );
        }
    }
    Ok(())
}

fn rocks_sheet(out: &std::path::Path, count: u32, seed: u64, tile: u32) -> anyhow::Result<()> {
    if !(1..=10_000).contains(&count) {
        anyhow::bail!("--count must be between 1 and 10000, got {count}");
    }
    if !(16..=2048).contains(&tile) {
        anyhow::bail!("--tile must be between 16 and 2048 pixels, got {tile}");
    }
    // The sheet is one image in memory (3 bytes a pixel).
    const MAX_SHEET_PIXELS: u64 = 200_000_000;
    let pixels = u64::from(count) * u64::from(tile + 4).pow(2);
    if pixels > MAX_SHEET_PIXELS {
        anyhow::bail!(
            "--count {count} at --tile {tile} makes a sheet of about {} megapixels; the limit is {}: use fewer or smaller tiles",
            pixels / 1_000_000,
            MAX_SHEET_PIXELS / 1_000_000
        );
    }
    let start = std::time::Instant::now();
    let sheet = super::generate::contact_sheet(seed, count, tile);
    let elapsed = start.elapsed();
    sheet
        .save(out)
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {} ({} rocks, {tile} px tiles) in {:.1} ms, {:.2} ms per rock",
        out.display(),
        count,
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e3 / f64::from(count)
    );
    Ok(())
}
