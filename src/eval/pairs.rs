//! `rockstar eval pairs DIR --gallery FACES_DIR`: how well the matcher agrees with
//! people's own human-rock pairings, ranked over the whole gallery.
//!
//! The matcher learns nothing from the pairs; what the pairs choose is the matcher's
//! settings (anti-hub method, projection). That choice is made by grouped
//! cross-validation: pairs are grouped so that the same person (identity cosine > 0.94)
//! or the same physical rock (identical file, near-identical 24x24 thumbnail, or centred
//! appearance cosine > 0.5) never sits on both sides; settings are picked on the
//! training folds and scored on the held-out fold. The headline figures are the
//! held-out ranks, pooled over folds and repeats; `median_rank_bootstrap_se` says how much
//! that median moves when the pairs are resampled.
use crate::face::FaceEngine;
use crate::rocks::matcher::{AntiHub, Matcher, MatcherSettings};
use crate::rocks::offline::{self, progress_bar};
use crate::rocks::Calibration;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct PairsArgs {
    /// Folder with human_<n>.jpg and rock_<n>.jpg.
    pub dir: PathBuf,
    /// Rock face crops forming the gallery (with DIR's own rocks, deduplicated by content).
    #[arg(long)]
    pub gallery: PathBuf,
    #[arg(long, default_value = "models/human_reference.bin")]
    pub reference: PathBuf,
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Keep computed features in this JSON file and reuse them (for repeated runs).
    #[arg(long)]
    pub features_cache: Option<PathBuf>,
    #[command(flatten)]
    pub engine: crate::rocks::cli::EngineArgs,
}

/// Recall and rank figures of a set of ranks (1 = best) over a gallery.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RankFigures {
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    pub recall_at_10: f64,
    pub recall_at_50: f64,
    pub median_rank: f64,
}

pub fn figures(ranks: &[usize]) -> RankFigures {
    let n = ranks.len().max(1) as f64;
    let at = |k: usize| ranks.iter().filter(|&&r| r <= k).count() as f64 / n;
    RankFigures {
        recall_at_1: at(1),
        recall_at_5: at(5),
        recall_at_10: at(10),
        recall_at_50: at(50),
        median_rank: median(ranks),
    }
}

fn median(ranks: &[usize]) -> f64 {
    if ranks.is_empty() {
        return f64::NAN;
    }
    let mut s = ranks.to_vec();
    s.sort_unstable();
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m] as f64
    } else {
        (s[m - 1] + s[m]) as f64 / 2.0
    }
}

/// The settings compared.
pub fn candidate_settings() -> Vec<MatcherSettings> {
    let mut out = Vec::new();
    for standardise in [false, true] {
        for project in [true, false] {
            for anti_hub in [
                AntiHub::None,
                AntiHub::Csls { k: 10, weight: 0.5 },
                AntiHub::Csls { k: 10, weight: 1.0 },
                AntiHub::ZScore,
            ] {
                out.push(MatcherSettings {
                    anti_hub,
                    project,
                    standardise,
                });
            }
        }
    }
    out
}

struct Pair {
    n: String,
    human: PathBuf,
    rock: PathBuf,
}

fn list_pairs(dir: &Path) -> anyhow::Result<Vec<Pair>> {
    let files = offline::images_in(dir)?;
    let mut rocks: HashMap<String, PathBuf> = HashMap::new();
    let mut humans: Vec<(String, PathBuf)> = Vec::new();
    for f in files {
        let stem = f
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if let Some(n) = stem.strip_prefix("rock_") {
            rocks.insert(n.to_string(), f.clone());
        } else if let Some(n) = stem.strip_prefix("human_") {
            humans.push((n.to_string(), f.clone()));
        }
    }
    Ok(humans
        .into_iter()
        .filter_map(|(n, human)| {
            rocks.get(&n).map(|rock| Pair {
                n: n.clone(),
                human,
                rock: rock.clone(),
            })
        })
        .collect())
}

struct UnionFind(Vec<usize>);
impl UnionFind {
    fn find(&mut self, i: usize) -> usize {
        let mut r = i;
        while self.0[r] != r {
            r = self.0[r];
        }
        let mut i = i;
        while self.0[i] != r {
            let next = self.0[i];
            self.0[i] = r;
            i = next;
        }
        r
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[ra] = rb;
        }
    }
}

/// 1-based rank of `scores[truth]`; a tie with other rocks counts as half of them ahead
/// (i8 scores can tie, and counting none ahead would flatter the matcher).
fn rank_of(scores: &[f32], truth: usize) -> usize {
    let t = scores[truth];
    let ahead = scores.iter().filter(|&&s| s > t).count();
    let tied = scores.iter().filter(|&&s| s == t).count() - 1;
    1 + ahead + tied / 2
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    let d: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    d / (na * nb).max(1e-12)
}

pub async fn run(args: PairsArgs) -> anyhow::Result<()> {
    let engine: FaceEngine = args.engine.engine()?;
    let calibration = Arc::new(match Calibration::load(&args.reference) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("no human reference ({e}); evaluating uncalibrated");
            Calibration::uncalibrated(crate::face::APPEARANCE_DIM)
        }
    });
    let pairs = list_pairs(&args.dir)?;
    anyhow::ensure!(
        !pairs.is_empty(),
        "no human_<n>/rock_<n> pairs in {}",
        args.dir.display()
    );

    // Gallery: FACES_DIR plus the pairs' rocks, deduplicated by content.
    let mut gallery_files: Vec<PathBuf> = Vec::new();
    let mut by_hash: HashMap<[u8; 32], usize> = HashMap::new();
    let mut add = |path: &Path, files: &mut Vec<PathBuf>| -> anyhow::Result<usize> {
        let hash: [u8; 32] = Sha256::digest(std::fs::read(path)?).into();
        Ok(*by_hash.entry(hash).or_insert_with(|| {
            files.push(path.to_path_buf());
            files.len() - 1
        }))
    };
    for f in offline::images_in(&args.gallery)? {
        add(&f, &mut gallery_files)?;
    }
    let pair_rock: Vec<usize> = pairs
        .iter()
        .map(|p| add(&p.rock, &mut gallery_files))
        .collect::<anyhow::Result<_>>()?;

    let mut cache = offline::load_feature_cache(
        args.features_cache.as_deref(),
        &args.engine.models_dir_or(None),
    )?;
    let key = |kind: &str, p: &Path| format!("{kind}:{}", p.display());
    // Features the matcher would refuse are left out here, with their pair.
    let dim = calibration.in_dim();
    let usable = |f: &[f32]| f.len() == dim && f.iter().all(|x| x.is_finite());
    let missing: Vec<PathBuf> = gallery_files
        .iter()
        .filter(|p| !cache.contains_key(&key("rock", p)))
        .cloned()
        .collect();
    let bar = progress_bar(missing.len() as u64, "rocks");
    let fresh = offline::rock_features(&engine, &missing, &|n| bar.set_position(n)).await?;
    bar.finish();
    for (p, f) in missing.iter().zip(fresh) {
        cache.insert(key("rock", p), f.unwrap_or_default());
    }
    let rock_feats: Vec<Option<Vec<f32>>> = gallery_files
        .iter()
        .map(|p| cache.get(&key("rock", p)).filter(|f| usable(f)).cloned())
        .collect();
    // Rocks that fail to decode are left out of the gallery.
    let rocks: Vec<(i64, Vec<f32>)> = rock_feats
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.clone().map(|f| (i as i64, f)))
        .collect();

    let bar = progress_bar(pairs.len() as u64, "humans");
    let mut humans = Vec::new(); // (pair index, features)
    for (i, p) in pairs.iter().enumerate() {
        let cached = match (
            cache.get(&key("human", &p.human)),
            cache.get(&key("identity", &p.human)),
        ) {
            (Some(a), Some(i)) if usable(a) => Ok(offline::HumanFeatures {
                appearance: a.clone(),
                identity: i.clone(),
            }),
            _ => offline::human_features(&engine, &p.human).await,
        };
        if let Ok(f) = &cached {
            cache.insert(key("human", &p.human), f.appearance.clone());
            cache.insert(key("identity", &p.human), f.identity.clone());
        }
        match cached {
            Ok(f) if !usable(&f.appearance) => {
                eprintln!("pair {}: the face's features are not finite; left out", p.n)
            }
            Ok(f) if rock_feats[pair_rock[i]].is_some() => humans.push((i, f)),
            Ok(_) => eprintln!("pair {}: the rock image is unreadable; left out", p.n),
            Err(e) => eprintln!("pair {}: {e}; left out", p.n),
        }
        bar.inc(1);
    }
    bar.finish();
    anyhow::ensure!(!humans.is_empty(), "no usable pairs");
    if let Some(p) = &args.features_cache {
        std::fs::write(p, serde_json::to_vec(&cache)?)?;
    }

    // Groups: same person or same physical rock.
    let m = humans.len();
    let mut uf = UnionFind((0..m).collect());
    let thumbs: Vec<Option<Vec<f32>>> = humans
        .iter()
        .map(|(i, _)| offline::thumbnail(&gallery_files[pair_rock[*i]]))
        .collect();
    let mut rock_mean = vec![0f32; calibration.in_dim()];
    for (_, f) in &rocks {
        rock_mean
            .iter_mut()
            .zip(f)
            .for_each(|(m, x)| *m += x / rocks.len() as f32);
    }
    let centred: Vec<Vec<f32>> = humans
        .iter()
        .map(|(i, _)| {
            rock_feats[pair_rock[*i]]
                .as_ref()
                .map(|f| f.iter().zip(&rock_mean).map(|(x, m)| x - m).collect())
                .unwrap_or_default()
        })
        .collect();
    for a in 0..m {
        for b in a + 1..m {
            let (ia, ib) = (humans[a].0, humans[b].0);
            let same_person = cos(&humans[a].1.identity, &humans[b].1.identity) > 0.94;
            let same_file = pair_rock[ia] == pair_rock[ib];
            let near_thumb = match (&thumbs[a], &thumbs[b]) {
                (Some(x), Some(y)) => {
                    x.iter().zip(y).map(|(p, q)| (p - q).abs()).sum::<f32>() / (x.len() as f32)
                        < 0.03
                }
                _ => false,
            };
            let similar_features = cos(&centred[a], &centred[b]) > 0.5;
            if same_person || same_file || near_thumb || similar_features {
                uf.union(a, b);
            }
        }
    }
    let group_of: Vec<usize> = (0..m).map(|a| uf.find(a)).collect();
    let mut groups: Vec<usize> = group_of.clone();
    groups.sort_unstable();
    groups.dedup();

    // Rank of the paired rock for every candidate setting (nothing here looks at other pairs).
    let settings = candidate_settings();
    let ranks: Vec<Vec<usize>> = settings
        .iter()
        .map(|s| {
            let matcher = Matcher::build(calibration.clone(), *s, &rocks);
            let pos: HashMap<i64, usize> = matcher
                .ids()
                .iter()
                .enumerate()
                .map(|(j, id)| (*id, j))
                .collect();
            humans
                .iter()
                .map(|(i, f)| {
                    let j = *pos.get(&(pair_rock[*i] as i64)).ok_or_else(|| {
                        anyhow::anyhow!("pair {}: its rock is not in the index", pairs[*i].n)
                    })?;
                    Ok(rank_of(&matcher.scores(&f.appearance), j))
                })
                .collect::<anyhow::Result<Vec<usize>>>()
        })
        .collect::<anyhow::Result<_>>()?;
    let gallery_size = rocks.len();
    for (s, r) in settings.iter().zip(&ranks) {
        eprintln!(
            "{}",
            serde_json::json!({"settings": s, "all_pairs": figures(r)})
        );
    }

    // Grouped cross-validation of the choice of settings.
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let mut held_out: Vec<usize> = Vec::new();
    let mut held_out_of: Vec<Vec<usize>> = vec![Vec::new(); m];
    let mut chosen: HashMap<String, usize> = HashMap::new();
    let folds = args.folds.clamp(2, groups.len().max(2));
    for _ in 0..args.repeats {
        let mut order = groups.clone();
        order.shuffle(&mut rng);
        let fold_of: HashMap<usize, usize> = order
            .iter()
            .enumerate()
            .map(|(k, g)| (*g, k % folds))
            .collect();
        for fold in 0..folds {
            let train: Vec<usize> = (0..m).filter(|&a| fold_of[&group_of[a]] != fold).collect();
            let test: Vec<usize> = (0..m).filter(|&a| fold_of[&group_of[a]] == fold).collect();
            let best = (0..settings.len())
                .min_by(|&x, &y| {
                    let fx = figures(&train.iter().map(|&a| ranks[x][a]).collect::<Vec<_>>());
                    let fy = figures(&train.iter().map(|&a| ranks[y][a]).collect::<Vec<_>>());
                    fx.median_rank
                        .total_cmp(&fy.median_rank)
                        .then(fy.recall_at_10.total_cmp(&fx.recall_at_10))
                })
                .unwrap_or(0);
            *chosen
                .entry(serde_json::to_string(&settings[best])?)
                .or_default() += 1;
            held_out.extend(test.iter().map(|&a| ranks[best][a]));
            for &a in &test {
                held_out_of[a].push(ranks[best][a]);
            }
        }
    }
    let product = MatcherSettings::default();
    let product_ranks = settings
        .iter()
        .position(|s| *s == product)
        .map(|k| figures(&ranks[k]));
    let cv = figures(&held_out);
    // How much the median rank moves when other pairs of the same kind are drawn, 1,000
    // times. Pairs of one group (a person, a rock) are not independent, so whole groups
    // are drawn, each with all the held-out ranks of its pairs; drawing single pairs is
    // also reported, and understates the spread.
    let members: Vec<Vec<usize>> = groups
        .iter()
        .map(|g| (0..m).filter(|&a| group_of[a] == *g).collect())
        .collect();
    let mut spread = |units: &[Vec<usize>]| {
        let draws: Vec<f64> = (0..1000)
            .map(|_| {
                let draw: Vec<usize> = (0..units.len())
                    .flat_map(|_| {
                        units[rand::Rng::gen_range(&mut rng, 0..units.len())]
                            .iter()
                            .flat_map(|&a| held_out_of[a].iter().copied())
                    })
                    .collect();
                median(&draw)
            })
            .collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        (draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / draws.len() as f64).sqrt()
    };
    let median_rank_se = spread(&members);
    let singles: Vec<Vec<usize>> = (0..m).map(|a| vec![a]).collect();
    let median_rank_pair_se = spread(&singles);
    println!(
        "{}",
        serde_json::json!({
            "pairs": m,
            "gallery": gallery_size,
            "recall_at_1": cv.recall_at_1,
            "recall_at_5": cv.recall_at_5,
            "recall_at_10": cv.recall_at_10,
            "recall_at_50": cv.recall_at_50,
            "median_rank": cv.median_rank,
            "median_rank_bootstrap_se": median_rank_se,
            "median_rank_pair_bootstrap_se": median_rank_pair_se,
            "chance_at_10": 10.0 / gallery_size as f64,
            "chance_median_rank": (gallery_size as f64 + 1.0) / 2.0,
            "groups": groups.len(),
            "folds": folds,
            "repeats": args.repeats,
            "chosen_settings": chosen,
            "product_settings": product,
            "product_all_pairs": product_ranks,
            "reference_faces": calibration.reference_count(),
            "dim": calibration.out_dim(),
        })
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rank_of;

    #[test]
    fn ties_put_half_of_the_tied_rocks_ahead() {
        assert_eq!(rank_of(&[0.1, 0.9, 0.5], 2), 2);
        // Tied for places 2 to 4: the middle one.
        assert_eq!(rank_of(&[0.5, 0.5, 0.5, 0.9], 0), 3);
        assert_eq!(rank_of(&[0.5, 0.5, 0.5, 0.5, 0.5], 4), 3);
        assert_eq!(rank_of(&[0.3], 0), 1);
    }
}
