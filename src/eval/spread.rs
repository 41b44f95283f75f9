//! `rockstar eval spread DIR --gallery FACES_DIR`: do distinct people get distinct rocks?
//! One photo per person (LFW layout: a sub-folder per person); each is matched with the
//! product matcher; prints the share of the most-used rock and the Gini coefficient.
//! `rocks calibrate` uses every other person (name order) as reference faces, so the
//! figures for the other half (`unseen_*`) are the ones free of any calibration overlap.
use crate::rocks::matcher::{Matcher, MatcherSettings};
use crate::rocks::offline::{self, progress_bar};
use crate::rocks::Calibration;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct SpreadArgs {
    /// LFW-style folder, one sub-folder per person.
    pub dir: PathBuf,
    /// Rock face crops forming the gallery.
    #[arg(long, default_value = "../shared/data/rocks/faces")]
    pub gallery: PathBuf,
    #[arg(long, default_value = "models/human_reference.bin")]
    pub reference: PathBuf,
    /// At most this many people (0 = all).
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
    #[command(flatten)]
    pub engine: crate::rocks::cli::EngineArgs,
}

#[derive(Debug, serde::Serialize)]
pub struct Spread {
    pub people: usize,
    pub distinct_rocks: usize,
    pub max_share: f64,
    pub gini: f64,
}

/// Spread of rock choices over a gallery of `gallery` rocks (unused rocks count as 0).
pub fn spread(choices: &[i64], gallery: usize) -> Spread {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for c in choices {
        *counts.entry(*c).or_default() += 1;
    }
    let people = choices.len();
    let max = counts.values().copied().max().unwrap_or(0);
    let mut use_: Vec<f64> = counts.values().map(|&c| c as f64).collect();
    use_.resize(gallery.max(counts.len()), 0.0);
    use_.sort_by(|a, b| a.total_cmp(b));
    // Gini = sum_i (2i - n - 1) x_i / (n sum x), x sorted ascending, i from 1.
    let n = use_.len() as f64;
    let total: f64 = use_.iter().sum();
    let gini = if total > 0.0 {
        use_.iter()
            .enumerate()
            .map(|(i, x)| (2.0 * (i as f64 + 1.0) - n - 1.0) * x)
            .sum::<f64>()
            / (n * total)
    } else {
        0.0
    };
    Spread {
        people,
        distinct_rocks: counts.len(),
        max_share: if people > 0 {
            max as f64 / people as f64
        } else {
            0.0
        },
        gini,
    }
}

pub async fn run(args: SpreadArgs) -> anyhow::Result<()> {
    let engine = args.engine.engine()?;
    let calibration = Arc::new(Calibration::load(&args.reference).unwrap_or_else(|e| {
        eprintln!("no human reference ({e}); evaluating uncalibrated");
        Calibration::uncalibrated(crate::face::APPEARANCE_DIM)
    }));
    let rock_files = offline::images_in(&args.gallery)?;
    let bar = progress_bar(rock_files.len() as u64, "rocks");
    let feats = offline::rock_features(&engine, &rock_files, &|n| bar.set_position(n)).await?;
    bar.finish();
    let rocks: Vec<(i64, Vec<f32>)> = feats
        .into_iter()
        .enumerate()
        .filter_map(|(i, f)| f.map(|f| (i as i64, f)))
        .collect();
    anyhow::ensure!(
        !rocks.is_empty(),
        "no readable rocks in {}",
        args.gallery.display()
    );
    let matcher = Matcher::build(calibration, MatcherSettings::default(), &rocks);

    let mut people = offline::one_photo_per_person(&args.dir)?;
    if args.limit > 0 {
        people.truncate(args.limit);
    }
    let bar = progress_bar(people.len() as u64, "people");
    let mut all = Vec::new();
    let mut unseen = Vec::new();
    let mut unseen_likeness = Vec::new();
    for (k, (name, path)) in people.iter().enumerate() {
        match offline::human_features(&engine, path).await {
            Ok(f) => {
                if let Some(hit) = matcher.best(&f.appearance) {
                    all.push(hit.rock_id);
                    if k % 2 == 1 {
                        unseen.push(hit.rock_id);
                        unseen_likeness.extend(matcher.likeness(hit.score));
                    }
                }
            }
            Err(e) => eprintln!("skipped {name}: {e}"),
        }
        bar.inc(1);
    }
    bar.finish();
    let s = spread(&all, rocks.len());
    let u = spread(&unseen, rocks.len());
    // Likeness is a percentile among reference faces: for people outside the reference it
    // should be about uniform (mean 0.5, a tenth above 0.9) if it is unbiased.
    let n = unseen_likeness.len().max(1) as f32;
    let likeness_mean = unseen_likeness.iter().sum::<f32>() / n;
    let likeness_above_09 = unseen_likeness.iter().filter(|&&l| l > 0.9).count() as f32 / n;
    println!(
        "{}",
        serde_json::json!({
            "people": s.people, "distinct_rocks": s.distinct_rocks, "max_share": s.max_share, "gini": s.gini,
            "gallery": rocks.len(), "settings": matcher.settings(),
            "unseen_people": u.people, "unseen_distinct_rocks": u.distinct_rocks, "unseen_max_share": u.max_share, "unseen_gini": u.gini,
            "unseen_likeness_mean": likeness_mean, "unseen_likeness_above_0_9": likeness_above_09,
        })
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_of_equal_use_is_zero_and_of_one_rock_is_near_one() {
        let even = spread(&[1, 2, 3, 4], 4);
        assert!(even.gini.abs() < 1e-9);
        assert_eq!(even.max_share, 0.25);
        let one = spread(&[7; 100], 100);
        assert!((one.gini - 0.99).abs() < 1e-9);
        assert_eq!(one.distinct_rocks, 1);
        assert_eq!(one.max_share, 1.0);
    }
}
