use super::decode::{self, DecodeLimits};
use super::pipeline::{self, Models};
use super::runtime::{self, ModelFiles};
use super::{Detection, FaceError, FaceSignature, Photo};
use crossbeam_channel::{Sender, TrySendError};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

pub use super::pipeline::{IdentityOptions, KeypointAlignment, Precision, StageTimings};

/// Where the models and runtime are, and how much the engine may do at once.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaceEngineConfig {
    /// Folder with the ONNX files and manifest.json.
    pub models_dir: PathBuf,
    /// libonnxruntime.so; None = ORT_DYLIB_PATH or vendor/onnxruntime.
    pub onnxruntime: Option<PathBuf>,
    /// Inference sessions (one per core).
    pub workers: usize,
    /// Requests that may wait for a session before `Overloaded`.
    pub queue: usize,
    /// Upload limits.
    pub max_bytes: usize,
    pub max_pixels: u64,
    pub max_side: u32,
}

impl Default for FaceEngineConfig {
    /// `models/` of the repository or next to the executable, one worker per core, a queue of
    /// four per worker, and images up to 20 MiB, 50 megapixels and 12,000 px per side (the
    /// command-line tools; the server takes its limits from its configuration).
    fn default() -> Self {
        let workers = num_cpus::get().max(1);
        FaceEngineConfig {
            models_dir: runtime::default_models_dir(),
            onnxruntime: None,
            workers,
            queue: workers * 4,
            max_bytes: 20 << 20,
            max_pixels: 50_000_000,
            max_side: 12_000,
        }
    }
}

/// Work for one worker, run with its sessions; false when it was skipped unrun.
type Job = Box<dyn FnOnce(&mut Models) -> bool + Send>;

struct Pool {
    jobs: Sender<Job>,
    alive: Arc<AtomicUsize>,
    workers: usize,
    limits: DecodeLimits,
    job_time: Arc<JobTime>,
}

/// Seconds a job holds a worker, smoothed over recent jobs (f64 bits), so that a full queue
/// can say how long it will take to drain.
struct JobTime(AtomicU64);

impl JobTime {
    /// Before any job has run: a selfie takes tens of milliseconds, a large photo about a second.
    const FIRST_GUESS: f64 = 0.25;

    fn new() -> Self {
        JobTime(AtomicU64::new(Self::FIRST_GUESS.to_bits()))
    }

    fn observe(&self, seconds: f64) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((0.8 * f64::from_bits(bits) + 0.2 * seconds).to_bits())
            });
    }

    fn seconds(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// Whole seconds until a request arriving now would reach a worker: the jobs queued and those
/// running, shared by the workers. At least 1, at most a minute.
pub(crate) fn drain_seconds(queued: usize, workers: usize, job_seconds: f64) -> u64 {
    let workers = workers.max(1);
    let seconds = (queued + workers) as f64 * job_seconds / workers as f64;
    if seconds.is_finite() {
        seconds.ceil().clamp(1.0, 60.0) as u64
    } else {
        60
    }
}

/// The face engine: a bounded pool of ONNX sessions. Cheap to clone.
#[derive(Clone)]
pub struct FaceEngine {
    pool: Arc<Pool>,
}

/// Decrements the live-worker count however the worker thread ends.
struct AliveGuard(Arc<AtomicUsize>);
impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl FaceEngine {
    /// Loads ONNX Runtime (once per process), verifies the models and starts the workers,
    /// each with its own single-threaded sessions.
    pub fn new(config: FaceEngineConfig) -> Result<Self, FaceError> {
        runtime::init_runtime(config.onnxruntime.as_deref())?;
        let files = Arc::new(ModelFiles::load(&config.models_dir)?);
        let workers = config.workers.max(1);
        let (tx, rx) = crossbeam_channel::bounded::<Job>(config.queue);
        let alive = Arc::new(AtomicUsize::new(0));
        let job_time = Arc::new(JobTime::new());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), FaceError>>();
        for i in 0..workers {
            let rx = rx.clone();
            let files = Arc::clone(&files);
            let ready_tx = ready_tx.clone();
            let alive = Arc::clone(&alive);
            let job_time = Arc::clone(&job_time);
            std::thread::Builder::new()
                .name(format!("face-worker-{i}"))
                .spawn(move || {
                    let mut models = match Models::load(&files) {
                        Ok(m) => m,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    drop(files);
                    alive.fetch_add(1, Ordering::SeqCst);
                    let _guard = AliveGuard(alive);
                    let _ = ready_tx.send(Ok(()));
                    // Ends when every FaceEngine clone (and so the sender) is gone.
                    // Every job runs its work through `caught`, so a panic never ends the
                    // worker.
                    while let Ok(job) = rx.recv() {
                        let started = std::time::Instant::now();
                        if job(&mut models) {
                            job_time.observe(started.elapsed().as_secs_f64());
                        }
                    }
                })
                .map_err(|e| {
                    FaceError::Unavailable(format!("could not start a face worker: {e}"))
                })?;
        }
        drop(ready_tx);
        for _ in 0..workers {
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    return Err(FaceError::Unavailable(
                        "a face worker stopped while loading".into(),
                    ))
                }
            }
        }
        let limits = DecodeLimits {
            max_bytes: config.max_bytes,
            max_pixels: config.max_pixels,
            max_side: config.max_side,
        };
        Ok(FaceEngine {
            pool: Arc::new(Pool {
                jobs: tx,
                alive,
                workers,
                limits,
                job_time,
            }),
        })
    }

    /// The engine with [`FaceEngineConfig::default`] locations and sizes.
    pub fn from_default_locations() -> Result<Self, FaceError> {
        Self::new(FaceEngineConfig::default())
    }

    /// Number of inference workers.
    pub fn workers(&self) -> usize {
        self.pool.workers
    }

    /// Queues `f` for a worker; `Overloaded` at once when the queue is full.
    async fn submit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Models) -> Result<T, FaceError> + Send + 'static,
    ) -> Result<T, FaceError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |m| {
            // The client went away while the job queued: nobody waits for the answer.
            if tx.is_closed() {
                return false;
            }
            let _ = tx.send(caught(f, m));
            true
        });
        match self.pool.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let pool = &self.pool;
                return Err(FaceError::Overloaded {
                    retry_after: drain_seconds(
                        pool.jobs.len(),
                        pool.workers,
                        pool.job_time.seconds(),
                    ),
                });
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(FaceError::Unavailable(
                    "the face workers have stopped".into(),
                ))
            }
        }
        rx.await.map_err(|_| {
            FaceError::Unavailable("a face worker stopped during the request".into())
        })?
    }

    /// Queues `f` and blocks the calling thread until it is done, waiting for queue room
    /// (bulk work from the CLI; never call from async code).
    pub(crate) fn run_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Models) -> Result<T, FaceError> + Send + 'static,
    ) -> Result<T, FaceError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let job: Job = Box::new(move |m| {
            let _ = tx.send(caught(f, m));
            true
        });
        self.pool
            .jobs
            .send(job)
            .map_err(|_| FaceError::Unavailable("the face workers have stopped".into()))?;
        rx.recv().map_err(|_| {
            FaceError::Unavailable("a face worker stopped during the request".into())
        })?
    }

    /// Selfie -> exactly one usable face -> signature.
    pub async fn analyse(&self, photo: Photo) -> Result<FaceSignature, FaceError> {
        let limits = self.pool.limits;
        self.submit(move |m| m.analyse(photo.bytes(), limits).0)
            .await
    }

    /// [`Self::analyse`] with per-stage timings, blocking (benchmarks).
    pub fn analyse_timed_blocking(
        &self,
        photo: Photo,
    ) -> Result<(Result<FaceSignature, FaceError>, StageTimings), FaceError> {
        let limits = self.pool.limits;
        self.run_blocking(move |m| Ok(m.analyse(photo.bytes(), limits)))
    }

    /// The identity embedding (L2-normalised, 128-D) of the one usable face of a photo, with
    /// per-stage timings, blocking (benchmarks).
    pub fn identity_timed_blocking(
        &self,
        photo: Photo,
        options: IdentityOptions,
    ) -> Result<(Result<Vec<f32>, FaceError>, StageTimings), FaceError> {
        let limits = self.pool.limits;
        self.run_blocking(move |m| Ok(m.identity(photo.bytes(), limits, options)))
    }

    /// All faces found in an image.
    pub async fn detect(&self, bytes: &[u8]) -> Result<Vec<Detection>, FaceError> {
        let limits = self.pool.limits;
        let photo = Photo::new(bytes.to_vec());
        self.submit(move |m| {
            let img = decode::decode(photo.bytes(), limits)?;
            m.find_faces(&img)
        })
        .await
    }

    /// Decodes an image with the engine's limits: EXIF orientation applied; a truncated JPEG,
    /// an oversized canvas or another format refused (gallery imports).
    pub async fn decode(&self, bytes: Vec<u8>) -> Result<image::RgbImage, FaceError> {
        let limits = self.pool.limits;
        let photo = Photo::new(bytes);
        self.submit(move |_| decode::decode(photo.bytes(), limits))
            .await
    }

    /// Decodes an image and finds every face in it in one pass, returning the decoded
    /// pixels too (post images, which are covered and re-encoded, so decoded only once).
    pub async fn decode_and_detect(
        &self,
        photo: Photo,
    ) -> Result<(image::RgbImage, Vec<Detection>), FaceError> {
        let limits = self.pool.limits;
        self.submit(move |m| {
            let img = decode::decode(photo.bytes(), limits)?;
            let faces = m.find_faces(&img)?;
            Ok((img, faces))
        })
        .await
    }

    /// [`Self::detect`], blocking (CLI).
    pub fn detect_blocking(&self, bytes: &[u8]) -> Result<Vec<Detection>, FaceError> {
        let limits = self.pool.limits;
        let photo = Photo::new(bytes.to_vec());
        self.run_blocking(move |m| {
            let img = decode::decode(photo.bytes(), limits)?;
            m.find_faces(&img)
        })
    }

    /// Appearance features (rock domain, multi-view, L2-normalised) of rock face crops, batched.
    /// Bulk work: waits for queue room instead of failing with `Overloaded`, and spreads the
    /// crops over the workers.
    pub async fn rock_appearance(
        &self,
        crops: Vec<image::RgbImage>,
    ) -> Result<Vec<Vec<f32>>, FaceError> {
        if crops.is_empty() {
            return Ok(Vec::new());
        }
        let per = crops.len().div_ceil(self.pool.workers).clamp(1, 32);
        let mut waiting = Vec::new();
        let mut crops = crops.into_iter().peekable();
        while crops.peek().is_some() {
            let chunk: Vec<image::RgbImage> = crops.by_ref().take(per).collect();
            let (tx, rx) = tokio::sync::oneshot::channel();
            let job: Job = Box::new(move |m| {
                let _ = tx.send(caught(|m| m.rock_appearance(&chunk), m));
                true
            });
            let jobs = self.pool.jobs.clone();
            tokio::task::spawn_blocking(move || jobs.send(job))
                .await
                .map_err(|e| FaceError::Unavailable(format!("queueing failed: {e}")))?
                .map_err(|_| FaceError::Unavailable("the face workers have stopped".into()))?;
            waiting.push(rx);
        }
        let mut out = Vec::new();
        for rx in waiting {
            out.extend(
                rx.await
                    .map_err(|_| FaceError::Unavailable("a face worker stopped".into()))??,
            );
        }
        Ok(out)
    }

    /// Identity embedding (L2-normalised, 128-D) of the main face of a photo in which faces are
    /// already framed (datasets such as LFW), and whether a face was detected; without one the
    /// centre of the photo at the usual face footprint is embedded. Blocking; for evaluations.
    pub fn main_face_identity_blocking(
        &self,
        bytes: Vec<u8>,
        options: IdentityOptions,
    ) -> Result<(Vec<f32>, bool), FaceError> {
        let limits = self.pool.limits;
        self.run_blocking(move |m| m.main_face_identity(&bytes, limits, options))
    }

    /// Identity embeddings (L2-normalised) of already aligned 150x150 chips, in one batch,
    /// blocking (benchmarks, tests, bulk work).
    pub fn embed_chips_blocking(
        &self,
        chips: Vec<image::RgbImage>,
        precision: Precision,
    ) -> Result<Vec<Vec<f32>>, FaceError> {
        let chips = chips_to_buffers(&chips)?;
        self.run_blocking(move |m| m.identities(&chips, false, precision))
    }

    /// The aligned 150x150 chip of the one usable face of a photo (benchmarks and tools;
    /// the chip is a face image: never store it).
    pub fn aligned_chip_blocking(&self, photo: Photo) -> Result<image::RgbImage, FaceError> {
        let limits = self.pool.limits;
        self.run_blocking(move |m| {
            let img = decode::decode(photo.bytes(), limits)?;
            let faces = m.find_faces(&img)?;
            let face = pipeline::choose_single(&faces)?;
            let chip = m.chip(&img, &face)?;
            Ok(super::sampling::to_image(
                &chip,
                super::align::CHIP,
                super::align::CHIP,
            ))
        })
    }

    /// Whether the sessions are loaded and answering (for /readyz).
    pub fn ready(&self) -> bool {
        self.pool.alive.load(Ordering::SeqCst) > 0
    }
}

fn chips_to_buffers(chips: &[image::RgbImage]) -> Result<Vec<Vec<f32>>, FaceError> {
    chips
        .iter()
        .map(|c| {
            if c.width() != super::align::CHIP || c.height() != super::align::CHIP {
                return Err(FaceError::UnsupportedImage(format!(
                    "an aligned chip must be {0}x{0} pixels",
                    super::align::CHIP
                )));
            }
            Ok(c.as_raw().iter().map(|&v| f32::from(v)).collect())
        })
        .collect()
}

impl Models {
    /// Identity of the main face of a dataset photo, and whether a face was detected.
    pub(crate) fn main_face_identity(
        &mut self,
        bytes: &[u8],
        limits: DecodeLimits,
        options: IdentityOptions,
    ) -> Result<(Vec<f32>, bool), FaceError> {
        let img = decode::decode(bytes, limits)?;
        let faces = self.find_faces(&img)?;
        let (chip, found) = match pipeline::choose_main(&faces, img.width(), img.height()) {
            Some(face) => (
                self.chip_with(&img, &face, options.landmark_passes, options.keypoints)?,
                true,
            ),
            None => (pipeline::centre_chip(&img), false),
        };
        let identity = self
            .identities(&[chip], options.flip, options.precision)?
            .pop()
            .ok_or(FaceError::NoFace)?;
        Ok((identity, found))
    }
}
/// Runs a job's work; a panic answers its request with an internal error (not
/// "unavailable, retry": the same image would fail again) and leaves the worker serving.
/// The sessions hold no per-request state that a half-run job could spoil.
fn caught<T>(
    f: impl FnOnce(&mut Models) -> Result<T, FaceError>,
    models: &mut Models,
) -> Result<T, FaceError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(models))).unwrap_or_else(|_| {
        tracing::error!("a face job panicked; the worker carries on");
        Err(FaceError::Internal)
    })
}

#[cfg(test)]
mod tests {
    use super::{drain_seconds, JobTime};

    #[test]
    fn a_full_queue_asks_for_the_time_it_takes_to_drain() {
        // 8 queued + 2 running on 2 workers at 0.7 s a job: 3.5 s, so 4.
        assert_eq!(drain_seconds(8, 2, 0.7), 4);
        // Fast jobs still ask for a whole second; a stuck engine for at most a minute.
        assert_eq!(drain_seconds(8, 2, 0.02), 1);
        assert_eq!(drain_seconds(100, 1, 5.0), 60);
        assert_eq!(drain_seconds(4, 0, f64::NAN), 60);
    }

    #[test]
    fn job_time_follows_recent_jobs() {
        let t = JobTime::new();
        for _ in 0..50 {
            t.observe(2.0);
        }
        assert!((t.seconds() - 2.0).abs() < 0.01, "{}", t.seconds());
        t.observe(0.0);
        assert!((t.seconds() - 1.6).abs() < 0.01, "{}", t.seconds());
    }
}
