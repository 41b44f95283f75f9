//! LFW face verification: cosine of identity embeddings, threshold cross-validated over folds.
use crate::face::cli::EngineOptions;
use crate::face::{IdentityOptions, KeypointAlignment, Precision};
use anyhow::{bail, Context};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Image name -> (identity embedding, whether a face was detected).
type Embeddings = HashMap<String, (Vec<f32>, bool)>;

#[derive(Debug, Clone, clap::Args)]
pub struct LfwArgs {
    /// LFW folder with pairs.tsv (columns: fold, same, a, b) and the images it names.
    pub dir: PathBuf,
    #[command(flatten)]
    pub identity: IdentityArgs,
    #[command(flatten)]
    pub engine: EngineOptions,
}

/// How identity embeddings are made (defaults: the product's [`IdentityOptions`]).
#[derive(Debug, Clone, clap::Args)]
pub struct IdentityArgs {
    /// Embed only the chip, not also its mirror image.
    #[arg(long)]
    pub no_flip: bool,
    /// 68-point landmark passes for alignment (0 = BlazeFace's 4 keypoints).
    #[arg(long, default_value_t = IdentityOptions::default().landmark_passes)]
    pub landmark_passes: usize,
    /// Embedder arithmetic.
    #[arg(long, value_enum, default_value_t = IdentityOptions::default().precision)]
    pub precision: Precision,
    /// With --landmark-passes 0: re-detect and fit dlib's mean face (refined), or fit the
    /// detection's keypoints to the learned template (learned).
    #[arg(long, value_enum, default_value_t = IdentityOptions::default().keypoints)]
    pub keypoints: KeypointAlignment,
}

impl IdentityArgs {
    pub fn options(&self) -> IdentityOptions {
        IdentityOptions {
            flip: !self.no_flip,
            landmark_passes: self.landmark_passes,
            precision: self.precision,
            keypoints: self.keypoints,
        }
    }
}

/// One verification pair.
#[derive(Debug, Clone)]
pub struct Pair {
    pub fold: u32,
    pub same: bool,
    pub a: String,
    pub b: String,
}

pub fn read_pairs(path: &Path) -> anyhow::Result<Vec<Pair>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut pairs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 || cols[0] == "fold" {
            continue;
        }
        let fold = cols[0]
            .trim()
            .parse()
            .with_context(|| format!("line {}: bad fold", i + 1))?;
        let same = match cols[1].trim() {
            "1" => true,
            "0" => false,
            other => bail!("line {}: `same` is {other:?}, expected 0 or 1", i + 1),
        };
        pairs.push(Pair {
            fold,
            same,
            a: cols[2].trim().to_string(),
            b: cols[3].trim().to_string(),
        });
    }
    Ok(pairs)
}

/// Threshold maximising accuracy on (similarity, same) samples: the midpoint between
/// consecutive sorted similarities with the most correct decisions (`same` iff sim > t).
pub fn best_threshold(samples: &[(f32, bool)]) -> f32 {
    let mut s: Vec<(f32, bool)> = samples.to_vec();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Threshold below everything: all called "same".
    let mut correct = s.iter().filter(|x| x.1).count() as i64;
    let (mut best, mut best_t) = (correct, s.first().map(|x| x.0 - 1e-4).unwrap_or(0.5));
    for i in 0..s.len() {
        // Moving the threshold above s[i] calls it "different".
        correct += if s[i].1 { -1 } else { 1 };
        let next = if i + 1 < s.len() {
            s[i + 1].0
        } else {
            s[i].0 + 1e-4
        };
        // Between equal similarities there is no threshold to put.
        let split = i + 1 == s.len() || s[i].0 < s[i + 1].0;
        if split && correct > best {
            best = correct;
            best_t = (s[i].0 + next) / 2.0;
        }
    }
    best_t
}

pub fn accuracy(samples: &[(f32, bool)], threshold: f32) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples
        .iter()
        .filter(|(s, same)| (*s > threshold) == *same)
        .count() as f64
        / samples.len() as f64
}

/// Verification figures over every pair of distinct images (about 2.7 M on folds 1-3), a
/// larger and steadier sample than the official pairs' ~20 errors for comparing settings.
/// The person is the image's folder. Returns (same-person pairs, different pairs,
/// equal error rate, true-accept rate at a false-accept rate of 0.1 %).
pub fn all_pairs_figures(embeddings: &[(&str, &[f32])]) -> (usize, usize, f64, f64) {
    let person = |name: &str| name.split('/').next().unwrap_or(name).to_string();
    let people: Vec<String> = embeddings.iter().map(|(n, _)| person(n)).collect();
    let mut same = Vec::new();
    let mut different = Vec::new();
    for i in 0..embeddings.len() {
        for j in i + 1..embeddings.len() {
            let s = cosine(embeddings[i].1, embeddings[j].1);
            if people[i] == people[j] {
                same.push(s);
            } else {
                different.push(s);
            }
        }
    }
    (
        same.len(),
        different.len(),
        equal_error_rate(&same, &different),
        tar_at_far(&same, &different, 1e-3),
    )
}

/// The error rate where false rejects (same <= t) equal false accepts (different > t).
pub fn equal_error_rate(same: &[f32], different: &[f32]) -> f64 {
    if same.is_empty() || different.is_empty() {
        return f64::NAN;
    }
    let mut s = same.to_vec();
    let mut d = different.to_vec();
    s.sort_by(f32::total_cmp);
    d.sort_by(f32::total_cmp);
    let (mut best, mut eer) = (f64::INFINITY, 0.5);
    for &t in s.iter().chain(d.iter()) {
        let frr = s.partition_point(|&x| x <= t) as f64 / s.len() as f64;
        let far = (d.len() - d.partition_point(|&x| x <= t)) as f64 / d.len() as f64;
        if (frr - far).abs() < best {
            best = (frr - far).abs();
            eer = (frr + far) / 2.0;
        }
    }
    eer
}

/// Share of same-person pairs accepted at the threshold that accepts `far` of the others.
pub fn tar_at_far(same: &[f32], different: &[f32], far: f64) -> f64 {
    if same.is_empty() || different.is_empty() {
        return f64::NAN;
    }
    let mut d = different.to_vec();
    d.sort_by(|a, b| b.total_cmp(a));
    let allowed = (far * d.len() as f64).floor() as usize;
    let t = d[allowed.min(d.len() - 1)];
    same.iter().filter(|&&x| x > t).count() as f64 / same.len() as f64
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn run(args: LfwArgs) -> anyhow::Result<()> {
    let pairs = read_pairs(&args.dir.join("pairs.tsv"))?;
    if pairs.is_empty() {
        bail!("{} has no pairs", args.dir.join("pairs.tsv").display());
    }
    let mut images: Vec<String> = pairs
        .iter()
        .flat_map(|p| [p.a.clone(), p.b.clone()])
        .collect();
    images.sort();
    images.dedup();
    let engine = args.engine.engine()?;
    let options = args.identity.options();

    let bar = indicatif::ProgressBar::new(images.len() as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "embedding [{bar:40}] {pos}/{len} {per_sec} ({eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let images = Arc::new(images);
    let next = Arc::new(AtomicUsize::new(0));
    let results: Arc<Mutex<Embeddings>> = Arc::new(Mutex::new(HashMap::new()));
    let errors: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..engine.workers() {
            let (images, next, results, errors, bar, engine) = (
                Arc::clone(&images),
                Arc::clone(&next),
                Arc::clone(&results),
                Arc::clone(&errors),
                bar.clone(),
                engine.clone(),
            );
            let dir = args.dir.clone();
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(name) = images.get(i) else { break };
                let outcome = std::fs::read(dir.join(name))
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| {
                        engine
                            .main_face_identity_blocking(bytes, options)
                            .map_err(|e| e.to_string())
                    });
                match outcome {
                    Ok(r) => {
                        results
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(name.clone(), r);
                    }
                    Err(e) => errors
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(format!("{name}: {e}")),
                }
                bar.inc(1);
            });
        }
    });
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let results = results.lock().unwrap_or_else(|p| p.into_inner());
    let errors = errors.lock().unwrap_or_else(|p| p.into_inner());
    for e in errors.iter().take(10) {
        eprintln!("unreadable: {e}");
    }
    let failed_detections = results.values().filter(|(_, found)| !found).count();

    // (fold, similarity, same); pairs with an unreadable image count as wrong.
    let mut scored: Vec<(u32, f32, bool)> = Vec::new();
    let mut unscored_in: HashMap<u32, usize> = HashMap::new();
    for p in &pairs {
        match (results.get(&p.a), results.get(&p.b)) {
            (Some((ea, _)), Some((eb, _))) => scored.push((p.fold, cosine(ea, eb), p.same)),
            _ => *unscored_in.entry(p.fold).or_default() += 1,
        }
    }
    let unscored: usize = unscored_in.values().sum();
    let mut folds: Vec<u32> = pairs.iter().map(|p| p.fold).collect();
    folds.sort_unstable();
    folds.dedup();
    let mut per_fold = Vec::new();
    let mut thresholds = Vec::new();
    let mut correct = 0usize;
    for &f in &folds {
        let train: Vec<(f32, bool)> = scored
            .iter()
            .filter(|s| s.0 != f || folds.len() == 1)
            .map(|s| (s.1, s.2))
            .collect();
        let test: Vec<(f32, bool)> = scored
            .iter()
            .filter(|s| s.0 == f)
            .map(|s| (s.1, s.2))
            .collect();
        let t = best_threshold(&train);
        let right = test.iter().filter(|(s, same)| (*s > t) == *same).count();
        let in_fold = test.len() + unscored_in.get(&f).copied().unwrap_or(0);
        correct += right;
        per_fold.push(serde_json::json!({
            "fold": f,
            "pairs": in_fold,
            "accuracy": right as f64 / in_fold.max(1) as f64,
            "threshold": t,
        }));
        thresholds.push(t);
    }
    let fold_accs: Vec<f64> = per_fold
        .iter()
        .filter_map(|v| v["accuracy"].as_f64())
        .collect();
    let mean = fold_accs.iter().sum::<f64>() / fold_accs.len().max(1) as f64;
    let std = (fold_accs.iter().map(|a| (a - mean).powi(2)).sum::<f64>()
        / fold_accs.len().max(1) as f64)
        .sqrt();
    let threshold = thresholds.iter().sum::<f32>() / thresholds.len().max(1) as f32;
    let mut named: Vec<(&str, &[f32])> = results
        .iter()
        .map(|(n, (e, _))| (n.as_str(), e.as_slice()))
        .collect();
    named.sort_by(|a, b| a.0.cmp(b.0));
    let (same_pairs, different_pairs, eer, tar) = all_pairs_figures(&named);
    let summary = serde_json::json!({
        "pairs": pairs.len(),
        "accuracy": correct as f64 / pairs.len() as f64,
        "mean_fold_accuracy": mean,
        "std": std,
        "threshold": threshold,
        // One fold has no other folds to choose its threshold: it is chosen on the test pairs.
        "cross_validated": folds.len() > 1,
        "folds": per_fold,
        "images": images.len(),
        "failed_detections": failed_detections,
        "all_image_pairs": {
            "same": same_pairs,
            "different": different_pairs,
            "equal_error_rate": eer,
            "tar_at_far_0_001": tar,
        },
        "unreadable_images": errors.len(),
        "unscored_pairs": unscored,
        "flip_averaging": options.flip,
        "landmark_passes": options.landmark_passes,
        "precision": options.precision,
        "keypoints": options.keypoints,
        "workers": engine.workers(),
        "images_per_second": images.len() as f64 / seconds,
    });
    println!("{summary}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_error_rate_of_overlapping_uniform_scores() {
        // same ~ 0.30..0.99, different ~ 0.00..0.69 (step 0.01): they cross at 0.5 where
        // 20 of 70 are wrong on each side.
        let same: Vec<f32> = (30..100).map(|i| i as f32 / 100.0).collect();
        let different: Vec<f32> = (0..70).map(|i| i as f32 / 100.0).collect();
        let eer = equal_error_rate(&same, &different);
        assert!((eer - 20.0 / 70.0).abs() < 0.02, "{eer}");
        assert_eq!(equal_error_rate(&[0.9, 0.8], &[0.1, 0.2]), 0.0);
    }

    #[test]
    fn true_accepts_at_a_fixed_false_accept_rate() {
        // 1,000 different pairs at 0.000..0.999; FAR 1 % leaves 10 above the threshold 0.989.
        let different: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let same = [0.5, 0.9895, 0.995, 1.5];
        assert_eq!(tar_at_far(&same, &different, 0.01), 0.75);
    }

    #[test]
    fn all_pairs_are_split_by_folder() {
        let (a, b, c) = ([1.0, 0.0], [0.9, 0.1], [0.0, 1.0]);
        let figures = all_pairs_figures(&[("x/1.jpg", &a), ("x/2.jpg", &b), ("y/1.jpg", &c)]);
        assert_eq!((figures.0, figures.1), (1, 2));
        assert_eq!(figures.2, 0.0);
    }

    #[test]
    fn threshold_separates_separable_samples() {
        let samples = [(0.2, false), (0.4, false), (0.6, true), (0.9, true)];
        let t = best_threshold(&samples);
        assert!(t > 0.4 && t < 0.6, "threshold {t}");
        assert_eq!(accuracy(&samples, t), 1.0);
    }

    #[test]
    fn threshold_makes_the_fewest_mistakes() {
        let samples = [
            (0.1, false),
            (0.5, true),
            (0.6, false),
            (0.7, true),
            (0.8, true),
        ];
        let t = best_threshold(&samples);
        assert_eq!(accuracy(&samples, t), 0.8);
    }

    #[test]
    fn tied_similarities_are_not_split() {
        // Cutting between the two 0.5s would promise 3 of 3 correct, but "same iff > t" can
        // only call both the same or both different: 2 of 3 at best.
        let samples = [(0.5, false), (0.5, true), (0.9, true)];
        let t = best_threshold(&samples);
        assert!((accuracy(&samples, t) - 2.0 / 3.0).abs() < 1e-9);
        assert!(t < 0.5, "both 0.5s called the same, {t}");
    }
}
