//! Face -> rock matching in a shared "rock space".
//!
//! Both sides are the embedder's conv128 appearance features (zero-shot: nothing is
//! learned from human-rock pairs). Each domain is centred on its own mean (humans on a
//! reference set of faces, rocks on the gallery), optionally projected onto a calibrated
//! PCA basis (which makes a million-rock scan cheap), and L2-normalised. Hubs — rocks
//! that are near everyone — are penalised per rock against the reference faces (CSLS or
//! z-scoring), so distinct people spread over the gallery.
use super::calibration::Calibration;
use super::index::{quantise, Hit, RockIndex};
use std::sync::Arc;

/// How rock scores are corrected for hubness.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AntiHub {
    None,
    /// score = cos - weight * mean(top-k cos to reference faces).
    Csls {
        k: usize,
        weight: f32,
    },
    /// score = (cos - mean) / std over all reference faces.
    ZScore,
}

/// The choices the evaluation compares.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MatcherSettings {
    pub anti_hub: AntiHub,
    /// Use the calibrated PCA projection (false = full feature dimension).
    pub project: bool,
    /// Divide each feature by its standard deviation within its own domain (after centring).
    #[serde(default)]
    pub standardise: bool,
}

impl Default for MatcherSettings {
    /// Chosen by grouped cross-validation on the dev pairs (see README, `eval pairs`).
    fn default() -> Self {
        MatcherSettings {
            anti_hub: AntiHub::Csls { k: 10, weight: 1.0 },
            project: true,
            standardise: false,
        }
    }
}

pub struct Matcher {
    calibration: Arc<Calibration>,
    settings: MatcherSettings,
    rock_mean: Vec<f32>,
    /// Per-feature 1/std of each domain, when standardising.
    human_scale: Option<Vec<f32>>,
    rock_scale: Option<Vec<f32>>,
    /// Reference faces in rock space (n_ref x dim), for the anti-hub statistics.
    reference: Vec<f32>,
    index: RockIndex,
    /// Rocks offered but not indexed (features of the wrong length, or not finite).
    skipped: usize,
    /// The reference faces quantised as queries, and each one's best score in this gallery
    /// (as the index scores it), kept up to date as rocks are added.
    reference_queries: Vec<(Vec<i8>, f32)>,
    reference_best: Vec<f32>,
}

pub(crate) fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 && n.is_finite() {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// 1/std of each column of a row-major matrix (floored, so dead features stay small).
fn inverse_std(rows: &[f32], dim: usize) -> Vec<f32> {
    let mut spread = Spread::new(dim);
    rows.chunks_exact(dim.max(1)).for_each(|r| spread.push(r));
    spread.inverse_std()
}

/// Per-feature mean and mean square over rows pushed one at a time.
struct Spread {
    sum: Vec<f32>,
    sq: Vec<f32>,
    n: usize,
}

impl Spread {
    fn new(dim: usize) -> Spread {
        Spread {
            sum: vec![0.0; dim],
            sq: vec![0.0; dim],
            n: 0,
        }
    }

    fn push(&mut self, row: &[f32]) {
        for ((m, q), x) in self.sum.iter_mut().zip(self.sq.iter_mut()).zip(row) {
            *m += x;
            *q += x * x;
        }
        self.n += 1;
    }

    /// 1 / standard deviation per feature, floored at a tenth of the typical one.
    fn inverse_std(&self) -> Vec<f32> {
        let n = self.n.max(1) as f32;
        let sds: Vec<f32> = self
            .sum
            .iter()
            .zip(&self.sq)
            .map(|(m, q)| ((q / n) - (m / n) * (m / n)).max(0.0).sqrt())
            .collect();
        let typical = {
            let mut s = sds.clone();
            s.sort_by(|a, b| a.total_cmp(b));
            s.get(s.len() / 2).copied().unwrap_or(0.0).max(1e-6)
        };
        sds.iter().map(|sd| 1.0 / sd.max(0.1 * typical)).collect()
    }
}

/// The gallery mean, over the rocks the index can hold (first pass over a gallery).
pub struct RockMean {
    sum: Vec<f32>,
    count: usize,
}

impl RockMean {
    pub fn new(dim: usize) -> RockMean {
        RockMean {
            sum: vec![0.0; dim],
            count: 0,
        }
    }

    pub fn push(&mut self, raw: &[f32]) {
        if usable_features(raw, self.sum.len()) {
            self.sum.iter_mut().zip(raw).for_each(|(m, x)| *m += x);
            self.count += 1;
        }
    }

    fn mean(&self) -> Vec<f32> {
        let n = self.count.max(1) as f32;
        self.sum.iter().map(|m| m / n).collect()
    }
}

/// The spread of the centred, normalised rocks, for standardising (second pass).
pub struct RockSpread {
    mean: Vec<f32>,
    spread: Spread,
}

impl RockSpread {
    pub fn new(mean: &RockMean) -> RockSpread {
        RockSpread {
            mean: mean.mean(),
            spread: Spread::new(mean.sum.len()),
        }
    }

    pub fn push(&mut self, raw: &[f32]) {
        if usable_features(raw, self.mean.len()) {
            let mut c: Vec<f32> = raw.iter().zip(&self.mean).map(|(x, m)| x - m).collect();
            normalise(&mut c);
            self.spread.push(&c);
        }
    }

    fn finish(&self) -> Vec<f32> {
        self.spread.inverse_std()
    }
}

/// A reference face's score for one rock with that face left out of the rock's anti-hub
/// statistics. Counted in, every reference face would lower its own scores, and a selfie
/// (never a reference face) would look likelier than it is.
enum LeaveOneOut<'a> {
    Unchanged,
    /// The k highest cosines' sum, the k-th (the cut) and the (k+1)-th.
    Csls {
        sims: &'a [f32],
        k: usize,
        weight: f32,
        top_sum: f32,
        cut: f32,
        next: Option<f32>,
    },
    /// Sum and sum of squares over all reference faces.
    ZScore {
        sims: &'a [f32],
        sum: f64,
        sum_sq: f64,
    },
}

impl<'a> LeaveOneOut<'a> {
    fn new(anti_hub: AntiHub, sims: &'a [f32]) -> Self {
        if sims.len() < 2 {
            return LeaveOneOut::Unchanged;
        }
        match anti_hub {
            AntiHub::None => LeaveOneOut::Unchanged,
            AntiHub::Csls { k, weight } => {
                let k = k.clamp(1, sims.len());
                let mut sorted = sims.to_vec();
                sorted.sort_by(|a, b| b.total_cmp(a));
                LeaveOneOut::Csls {
                    sims,
                    k,
                    weight,
                    top_sum: sorted[..k].iter().sum(),
                    cut: sorted[k - 1],
                    next: sorted.get(k).copied(),
                }
            }
            AntiHub::ZScore => LeaveOneOut::ZScore {
                sims,
                sum: sims.iter().map(|&s| f64::from(s)).sum(),
                sum_sq: sims.iter().map(|&s| f64::from(s) * f64::from(s)).sum(),
            },
        }
    }

    /// `indexed` is the score the index gives (scale * cos - offset, all faces counted).
    fn score(&self, j: usize, indexed: f32, scale: f32, offset: f32) -> f32 {
        match *self {
            LeaveOneOut::Unchanged => indexed,
            LeaveOneOut::Csls {
                sims,
                k,
                weight,
                top_sum,
                cut,
                next,
            } => {
                let Some(&own) = sims.get(j) else {
                    return indexed;
                };
                if own < cut {
                    return indexed;
                }
                let mean_without = match next {
                    Some(next) => (top_sum - own + next) / k as f32,
                    None => (top_sum - own) / (k - 1).max(1) as f32,
                };
                indexed + offset - weight * mean_without
            }
            LeaveOneOut::ZScore { sims, sum, sum_sq } => {
                let (Some(&own), false) = (sims.get(j), scale == 0.0) else {
                    return indexed;
                };
                let own = f64::from(own);
                let n = sims.len() as f64 - 1.0;
                let cos = f64::from((indexed + offset) / scale);
                let mean = (sum - own) / n;
                let var = (sum_sq - own * own) / n - mean * mean;
                let sd = var.max(0.0).sqrt().max(1e-4);
                ((cos - mean) / sd) as f32
            }
        }
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Matcher {
    /// Builds the index from every rock's raw appearance features; the rock mean is theirs.
    pub fn build(
        calibration: Arc<Calibration>,
        settings: MatcherSettings,
        rocks: &[(i64, Vec<f32>)],
    ) -> Self {
        let mut mean = RockMean::new(calibration.in_dim());
        rocks.iter().for_each(|(_, v)| mean.push(v));
        let spread = settings.standardise.then(|| {
            let mut spread = RockSpread::new(&mean);
            rocks.iter().for_each(|(_, v)| spread.push(v));
            spread
        });
        let mut matcher = Matcher::empty(calibration, settings, &mean, spread);
        for (id, v) in rocks {
            matcher.add(*id, v);
        }
        matcher
    }

    /// An index with no rocks yet, for a gallery whose statistics are known: rocks then go
    /// in one by one with `add` (so a gallery can be streamed in, never held whole).
    pub fn empty(
        calibration: Arc<Calibration>,
        settings: MatcherSettings,
        mean: &RockMean,
        spread: Option<RockSpread>,
    ) -> Self {
        let in_dim = calibration.in_dim();
        let dim = if settings.project {
            calibration.out_dim()
        } else {
            in_dim
        };
        let (human_scale, rock_scale) = match spread {
            Some(spread) if settings.standardise => (
                Some(inverse_std(calibration.reference_rows(), in_dim)),
                Some(spread.finish()),
            ),
            _ => (None, None),
        };
        let mut matcher = Matcher {
            calibration,
            settings,
            rock_mean: mean.mean(),
            human_scale,
            rock_scale,
            reference: Vec::new(),
            index: RockIndex::with_capacity(dim, mean.count),
            reference_queries: Vec::new(),
            reference_best: Vec::new(),
            skipped: 0,
        };
        // Reference rows are already centred and normalised: only scale and project them.
        let zero = vec![0f32; in_dim];
        matcher.reference = matcher
            .calibration
            .reference_rows()
            .chunks_exact(in_dim)
            .flat_map(|r| matcher.to_space(r, &zero, matcher.human_scale.as_deref()))
            .collect();
        matcher.reference_queries = matcher
            .reference
            .chunks_exact(dim.max(1))
            .map(quantise)
            .collect();
        matcher.reference_best = vec![f32::NEG_INFINITY; matcher.reference_queries.len()];
        matcher
    }

    pub fn settings(&self) -> MatcherSettings {
        self.settings
    }
    pub fn len(&self) -> usize {
        self.index.len()
    }
    /// Rocks offered to the index, usable or not: what the database count should equal.
    pub fn offered(&self) -> usize {
        self.index.len() + self.skipped
    }
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
    pub fn ids(&self) -> &[i64] {
        self.index.ids()
    }
    pub fn in_dim(&self) -> usize {
        self.calibration.in_dim()
    }

    /// Adds a rock with the current gallery mean (a few new rocks barely move it; a
    /// reload recomputes it).
    pub fn add(&mut self, rock_id: i64, raw: &[f32]) {
        if !usable_features(raw, self.calibration.in_dim()) {
            tracing::warn!(
                rock_id,
                len = raw.len(),
                "rock features have the wrong length or are not finite; not indexed"
            );
            self.skipped += 1;
            return;
        }
        let v = self.rock_vector(raw);
        let sims: Vec<f32> = self
            .reference
            .chunks_exact(v.len())
            .map(|r| dot(r, &v))
            .collect();
        let (scale, offset) = self.correction(&sims);
        self.index.push(rock_id, &v, scale, offset);
        let row = self.index.len() - 1;
        let left_out = LeaveOneOut::new(self.settings.anti_hub, &sims);
        for (j, (best, (q, qs))) in self
            .reference_best
            .iter_mut()
            .zip(&self.reference_queries)
            .enumerate()
        {
            let indexed = self.index.score_quantised(row, q, *qs);
            *best = best.max(left_out.score(j, indexed, scale, offset));
        }
    }

    /// Share of the reference faces whose own best rock scores below `score` (0..1): how a
    /// match compares with the matches faces usually get, as raw scores mean little to people.
    /// None without reference faces or rocks.
    pub fn likeness(&self, score: f32) -> Option<f32> {
        if self.reference_best.is_empty() || self.index.is_empty() {
            return None;
        }
        let below = self
            .reference_best
            .iter()
            .filter(|&&best| best < score)
            .count();
        Some(below as f32 / self.reference_best.len() as f32)
    }

    fn to_space(&self, raw: &[f32], mean: &[f32], scale: Option<&[f32]>) -> Vec<f32> {
        let mut c: Vec<f32> = raw.iter().zip(mean).map(|(x, m)| x - m).collect();
        normalise(&mut c);
        if let Some(scale) = scale {
            c.iter_mut().zip(scale).for_each(|(x, s)| *x *= s);
            normalise(&mut c);
        }
        let mut v = if self.settings.project {
            let projected = self.calibration.project(&c);
            zeroize::Zeroize::zeroize(&mut c);
            projected
        } else {
            c
        };
        normalise(&mut v);
        v
    }

    fn rock_vector(&self, raw: &[f32]) -> Vec<f32> {
        self.to_space(raw, &self.rock_mean, self.rock_scale.as_deref())
    }

    fn human_vector(&self, raw: &[f32]) -> Vec<f32> {
        self.to_space(
            raw,
            self.calibration.human_mean(),
            self.human_scale.as_deref(),
        )
    }

    /// (scale, offset) so that score = scale * cos - offset, from the rock's cosines to the
    /// reference faces.
    fn correction(&self, sims: &[f32]) -> (f32, f32) {
        if sims.is_empty() {
            return (1.0, 0.0);
        }
        match self.settings.anti_hub {
            AntiHub::None => (1.0, 0.0),
            AntiHub::Csls { k, weight } => {
                let mut all = sims.to_vec();
                let k = k.clamp(1, all.len());
                all.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
                let mean_top = all[..k].iter().sum::<f32>() / k as f32;
                (1.0, weight * mean_top)
            }
            AntiHub::ZScore => {
                let n = sims.len() as f32;
                let mean = sims.iter().sum::<f32>() / n;
                let var = sims.iter().map(|s| (s - mean) * (s - mean)).sum::<f32>() / n;
                let sd = var.sqrt().max(1e-4);
                (1.0 / sd, mean / sd)
            }
        }
    }

    /// The best rock for a face's raw appearance features.
    pub fn best(&self, human_raw: &[f32]) -> Option<Hit> {
        self.top_k(human_raw, 1).into_iter().next()
    }

    pub fn top_k(&self, human_raw: &[f32], k: usize) -> Vec<Hit> {
        if human_raw.len() != self.calibration.in_dim() {
            return Vec::new();
        }
        // The face's features in rock space: wiped when dropped, like the signature.
        let query = zeroize::Zeroizing::new(self.human_vector(human_raw));
        self.index.top_k(&query, k)
    }

    /// Every rock's score for a face, in index order (see `ids`), for evaluation.
    pub fn scores(&self, human_raw: &[f32]) -> Vec<f32> {
        self.index.scores(&self.human_vector(human_raw))
    }
}

/// Features the index can hold: the calibration's length, every value finite (one NaN
/// would spread through the gallery mean into every rock).
fn usable_features(v: &[f32], dim: usize) -> bool {
    v.len() == dim && v.iter().all(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rocks::calibration::Calibration;

    /// Deterministic pseudo-random features.
    fn features(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                (0..dim)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        (state >> 40) as f32 / (1u64 << 24) as f32
                    })
                    .collect()
            })
            .collect()
    }

    /// Rocks with ids 0, 1, 2, ...
    fn numbered(rocks: Vec<Vec<f32>>) -> Vec<(i64, Vec<f32>)> {
        rocks
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i as i64, v))
            .collect()
    }

    #[test]
    fn likeness_is_the_share_of_reference_faces_matched_less_closely() {
        let (humans, rocks) = (features(40, 16, 1), features(60, 16, 2));
        let calibration = Arc::new(
            Calibration::compute(&humans, &rocks, 8).unwrap_or_else(|e| panic!("calibration: {e}")),
        );
        let gallery = numbered(rocks);
        let matcher = Matcher::build(calibration, MatcherSettings::default(), &gallery);
        assert_eq!(matcher.likeness(-100.0), Some(0.0));
        assert_eq!(matcher.likeness(100.0), Some(1.0));
        // Each reference face's own best score sits inside the distribution, and a higher
        // score never ranks lower.
        let scores: Vec<f32> = humans
            .iter()
            .filter_map(|h| matcher.best(h).map(|hit| hit.score))
            .collect();
        assert_eq!(scores.len(), humans.len());
        let mut sorted = scores.clone();
        sorted.sort_by(f32::total_cmp);
        let likeness: Vec<f32> = sorted.iter().filter_map(|&s| matcher.likeness(s)).collect();
        assert!(likeness.windows(2).all(|w| w[0] <= w[1]), "{likeness:?}");
        assert_eq!(
            likeness.first().copied(),
            Some(0.0),
            "the lowest best score beats no reference face"
        );
        assert!(likeness.iter().all(|l| (0.0..1.0).contains(l)));
    }

    #[test]
    fn rocks_with_non_finite_or_misshapen_features_are_left_out_and_counted() {
        let (humans, rocks) = (features(30, 16, 5), features(40, 16, 6));
        let calibration = Arc::new(
            Calibration::compute(&humans, &rocks, 8).unwrap_or_else(|e| panic!("calibration: {e}")),
        );
        let clean = numbered(rocks);
        let mut spoilt = clean.clone();
        spoilt[3].1[0] = f32::NAN;
        spoilt[7].1[5] = f32::INFINITY;
        spoilt[9].1.pop();
        let good = Matcher::build(calibration.clone(), MatcherSettings::default(), &clean);
        let mut matcher = Matcher::build(calibration, MatcherSettings::default(), &spoilt);
        assert_eq!((matcher.len(), matcher.offered()), (37, 40));
        matcher.add(99, &[f32::NAN; 16]);
        assert_eq!((matcher.len(), matcher.offered()), (37, 41));
        // Each human still gets a real rock with a finite score, and not the same rock for
        // everyone (one NaN in the mean used to give every face the first rock).
        let best: Vec<Hit> = humans.iter().filter_map(|h| matcher.best(h)).collect();
        assert_eq!(best.len(), humans.len());
        assert!(best
            .iter()
            .all(|hit| hit.score.is_finite() && ![3, 7, 9, 99].contains(&hit.rock_id)));
        let distinct: std::collections::HashSet<i64> = best.iter().map(|hit| hit.rock_id).collect();
        let distinct_clean: std::collections::HashSet<i64> = humans
            .iter()
            .filter_map(|h| good.best(h))
            .map(|hit| hit.rock_id)
            .collect();
        assert!(
            distinct.len() > 1 && distinct_clean.len() > 1,
            "{distinct:?}"
        );
    }

    #[test]
    fn a_reference_face_is_scored_as_if_it_were_not_a_reference_face() {
        let (humans, rocks) = (features(30, 16, 3), features(50, 16, 4));
        let full =
            Calibration::compute(&humans, &rocks, 8).unwrap_or_else(|e| panic!("calibration: {e}"));
        let gallery = numbered(rocks);
        for anti_hub in [AntiHub::Csls { k: 5, weight: 1.0 }, AntiHub::ZScore] {
            let settings = MatcherSettings {
                anti_hub,
                project: true,
                standardise: false,
            };
            let matcher = Matcher::build(Arc::new(full.clone()), settings, &gallery);
            for j in [0, 7, 29] {
                // The same mean and basis, with face j simply absent from the reference set.
                let without =
                    Matcher::build(Arc::new(full.without_reference(j)), settings, &gallery);
                let fresh = without
                    .best(&humans[j])
                    .unwrap_or_else(|| panic!("no rock"))
                    .score;
                let counted = matcher.reference_best[j];
                assert!(
                    (fresh - counted).abs() < 0.02 * fresh.abs().max(1.0),
                    "{anti_hub:?} face {j}: as a newcomer {fresh}, as counted {counted}"
                );
            }
        }
    }
}
