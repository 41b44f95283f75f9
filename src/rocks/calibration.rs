//! The human reference: what the matcher knows of human faces without any photo at run
//! time. Made once by `rockstar rocks calibrate` from LFW (and the rock faces, for the
//! shared PCA basis) and shipped as `models/human_reference.bin` (about 1.3 MB).
//!
//! File layout (little-endian): magic `RSHREF01`, u32 in_dim, u32 out_dim (0 = no
//! projection), u32 n_ref; f32[in_dim] human mean; out_dim rows of (f32 scale,
//! i8[in_dim]) projection; n_ref rows of (f32 scale, i8[in_dim]) reference faces, each
//! centred on the human mean and L2-normalised.
use super::index::quantise;
use super::matcher::normalise;
use std::io::{Read, Write};
use std::path::Path;

const MAGIC: &[u8; 8] = b"RSHREF01";

#[derive(Debug, Clone)]
pub struct Calibration {
    in_dim: usize,
    out_dim: usize,
    human_mean: Vec<f32>,
    /// out_dim x in_dim, rows orthonormal.
    projection: Vec<f32>,
    /// n_ref x in_dim, centred and normalised.
    reference: Vec<f32>,
}

#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error("reading the human reference: {0}")]
    Io(#[from] std::io::Error),
    #[error("the human reference file is not valid: {0}")]
    Format(String),
}

impl Calibration {
    /// No reference: zero human mean, no projection, no anti-hub statistics.
    pub fn uncalibrated(in_dim: usize) -> Self {
        Calibration {
            in_dim,
            out_dim: 0,
            human_mean: vec![0.0; in_dim],
            projection: Vec::new(),
            reference: Vec::new(),
        }
    }

    pub fn in_dim(&self) -> usize {
        self.in_dim
    }
    /// Dimension of rock space when projecting (in_dim without a projection).
    pub fn out_dim(&self) -> usize {
        if self.out_dim == 0 {
            self.in_dim
        } else {
            self.out_dim
        }
    }
    pub fn human_mean(&self) -> &[f32] {
        &self.human_mean
    }
    pub fn reference_count(&self) -> usize {
        self.reference.len() / self.in_dim.max(1)
    }

    pub fn project(&self, v: &[f32]) -> Vec<f32> {
        if self.out_dim == 0 {
            return v.to_vec();
        }
        self.projection
            .chunks_exact(self.in_dim)
            .map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum())
            .collect()
    }

    /// The same calibration with reference face `j` removed (tests of the anti-hub maths).
    #[cfg(test)]
    pub(crate) fn without_reference(&self, j: usize) -> Self {
        let mut out = self.clone();
        let d = self.in_dim;
        out.reference.drain(j * d..(j + 1) * d);
        out
    }

    /// Reference faces (n_ref x in_dim), centred on the human mean and normalised.
    pub fn reference_rows(&self) -> &[f32] {
        &self.reference
    }

    /// From raw appearance features: humans (reference faces) and rocks (for the basis).
    /// The basis is the top `out_dim` principal directions of the pooled, per-domain
    /// centred and normalised features (0 = none).
    pub fn compute(
        humans: &[Vec<f32>],
        rocks: &[Vec<f32>],
        out_dim: usize,
    ) -> Result<Self, CalibrationError> {
        Self::compute_split(humans, humans, rocks, out_dim)
    }

    /// Like [`Calibration::compute`], but the human mean and basis come from `basis_humans`
    /// and the reference faces from other people, so a new face and a reference face
    /// stand in the same relation to the basis (no fitted-on advantage in likeness).
    pub fn compute_split(
        basis_humans: &[Vec<f32>],
        reference_humans: &[Vec<f32>],
        rocks: &[Vec<f32>],
        out_dim: usize,
    ) -> Result<Self, CalibrationError> {
        let in_dim = basis_humans
            .first()
            .map(|h| h.len())
            .ok_or_else(|| CalibrationError::Format("no human features".into()))?;
        if reference_humans.is_empty() {
            return Err(CalibrationError::Format("no reference faces".into()));
        }
        let mean_of = |set: &[Vec<f32>]| -> Vec<f32> {
            let mut mean = vec![0f32; in_dim];
            for v in set {
                mean.iter_mut().zip(v).for_each(|(m, x)| *m += x);
            }
            mean.iter_mut().for_each(|m| *m /= set.len().max(1) as f32);
            mean
        };
        let centred = |set: &[Vec<f32>], mean: &[f32]| -> Vec<Vec<f32>> {
            set.iter()
                .map(|v| {
                    let mut c: Vec<f32> = v.iter().zip(mean).map(|(x, m)| x - m).collect();
                    normalise(&mut c);
                    c
                })
                .collect()
        };
        let human_mean = mean_of(basis_humans);
        let rock_mean = mean_of(rocks);
        let basis_rows = centred(basis_humans, &human_mean);
        let rock_rows = centred(rocks, &rock_mean);
        let projection = if out_dim == 0 || out_dim >= in_dim {
            Vec::new()
        } else {
            let pooled: Vec<&Vec<f32>> = basis_rows.iter().chain(rock_rows.iter()).collect();
            principal_directions(&pooled, in_dim, out_dim)
        };
        let reference = centred(reference_humans, &human_mean).concat();
        Ok(Calibration {
            in_dim,
            out_dim: if projection.is_empty() { 0 } else { out_dim },
            human_mean,
            projection,
            reference,
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), CalibrationError> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        for n in [self.in_dim, self.out_dim, self.reference_count()] {
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        for x in &self.human_mean {
            out.extend_from_slice(&x.to_le_bytes());
        }
        for row in self
            .projection
            .chunks_exact(self.in_dim)
            .chain(self.reference.chunks_exact(self.in_dim))
        {
            let (q, s) = quantise(row);
            out.extend_from_slice(&s.to_le_bytes());
            out.extend(q.iter().map(|&c| c as u8));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Written beside and renamed over, so a crash never leaves a cut file in place.
        let partial = path.with_extension("partial");
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(&out)?;
        file.sync_all()?;
        std::fs::rename(&partial, path)?;
        Ok(())
    }

    pub fn load(path: &Path) -> Result<Self, CalibrationError> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)?.read_to_end(&mut bytes)?;
        let bad = |m: &str| CalibrationError::Format(m.to_string());
        if bytes.len() < 20 || &bytes[..8] != MAGIC {
            return Err(bad("wrong magic"));
        }
        let u = |i: usize| {
            u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]) as usize
        };
        let (in_dim, out_dim, n_ref) = (u(8), u(12), u(16));
        // Checked: header counts near u32::MAX must not wrap into a length that matches.
        let want = out_dim
            .checked_add(n_ref)
            .and_then(|rows| rows.checked_mul(in_dim.checked_add(4)?))
            .and_then(|rows| rows.checked_add(in_dim.checked_mul(4)?.checked_add(20)?));
        if in_dim == 0 || want != Some(bytes.len()) {
            return Err(bad("wrong length"));
        }
        let f = |i: usize| f32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let human_mean: Vec<f32> = (0..in_dim).map(|j| f(20 + 4 * j)).collect();
        let mut rows = Vec::with_capacity((out_dim + n_ref) * in_dim);
        let mut at = 20 + 4 * in_dim;
        for _ in 0..out_dim + n_ref {
            let s = f(at);
            rows.extend(
                bytes[at + 4..at + 4 + in_dim]
                    .iter()
                    .map(|&c| c as i8 as f32 * s),
            );
            at += 4 + in_dim;
        }
        let reference = rows.split_off(out_dim * in_dim);
        let mut reference = reference;
        for r in reference.chunks_exact_mut(in_dim) {
            normalise(r);
        }
        Ok(Calibration {
            in_dim,
            out_dim,
            human_mean,
            projection: rows,
            reference,
        })
    }
}

/// Top `k` eigenvectors of the rows' scatter matrix by subspace iteration, as a k x d
/// row-major matrix with orthonormal rows.
fn principal_directions(rows: &[&Vec<f32>], d: usize, k: usize) -> Vec<f32> {
    // Scatter matrix C = sum x x^T (d x d), symmetric.
    let mut c = vec![0f64; d * d];
    for x in rows {
        for i in 0..d {
            let xi = x[i] as f64;
            if xi == 0.0 {
                continue;
            }
            let row = &mut c[i * d..(i + 1) * d];
            for (cij, &xj) in row.iter_mut().zip(x.iter()) {
                *cij += xi * xj as f64;
            }
        }
    }
    // Deterministic start: a fixed pseudo-random basis.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut q: Vec<f64> = (0..k * d)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect();
    orthonormalise(&mut q, d);
    for _ in 0..30 {
        let mut next = vec![0f64; k * d];
        for (qr, nr) in q.chunks_exact(d).zip(next.chunks_exact_mut(d)) {
            for (i, n) in nr.iter_mut().enumerate() {
                *n = c[i * d..(i + 1) * d]
                    .iter()
                    .zip(qr)
                    .map(|(a, b)| a * b)
                    .sum();
            }
        }
        orthonormalise(&mut next, d);
        q = next;
    }
    q.into_iter().map(|x| x as f32).collect()
}

/// Modified Gram-Schmidt on the rows.
fn orthonormalise(m: &mut [f64], d: usize) {
    let k = m.len() / d;
    for i in 0..k {
        for j in 0..i {
            let (done, rest) = m.split_at_mut(i * d);
            let prev = &done[j * d..(j + 1) * d];
            let row = &mut rest[..d];
            let p: f64 = prev.iter().zip(row.iter()).map(|(a, b)| a * b).sum();
            row.iter_mut().zip(prev).for_each(|(r, a)| *r -= p * a);
        }
        let row = &mut m[i * d..(i + 1) * d];
        let n = row.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-12);
        row.iter_mut().for_each(|x| *x /= n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_round_trip_and_projection_finds_the_dominant_axes() -> Result<(), CalibrationError>
    {
        // Data spread mostly along axes 0 and 3 of 8.
        let mut state = 1u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let mk = |n: usize, next: &mut dyn FnMut() -> f32| -> Vec<Vec<f32>> {
            (0..n)
                .map(|_| {
                    let mut v: Vec<f32> = (0..8).map(|_| 0.05 * next()).collect();
                    v[0] += 3.0 * next();
                    v[3] += 2.0 * next();
                    v
                })
                .collect()
        };
        let humans = mk(200, &mut next);
        let rocks = mk(100, &mut next);
        let cal = Calibration::compute(&humans, &rocks, 2)?;
        let p = cal.project(&[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let q = cal.project(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        let r = cal.project(&[0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert!(p.iter().map(|x| x * x).sum::<f32>() > 0.95);
        assert!(q.iter().map(|x| x * x).sum::<f32>() > 0.95);
        assert!(r.iter().map(|x| x * x).sum::<f32>() < 0.05);

        let dir = tempfile::tempdir()?;
        let file = dir.path().join("ref.bin");
        cal.save(&file)?;
        let back = Calibration::load(&file)?;
        assert_eq!(back.in_dim(), 8);
        assert_eq!(back.out_dim(), 2);
        assert_eq!(back.reference_count(), 200);
        for (a, b) in cal.human_mean().iter().zip(back.human_mean()) {
            assert!((a - b).abs() < 1e-6);
        }
        let p2 = back.project(&[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        for (a, b) in p.iter().zip(&p2) {
            assert!((a - b).abs() < 0.02);
        }
        std::fs::write(&file, b"nonsense")?;
        assert!(Calibration::load(&file).is_err());
        Ok(())
    }

    #[test]
    fn a_split_calibration_takes_mean_and_basis_from_the_basis_people_only(
    ) -> Result<(), CalibrationError> {
        let basis = vec![
            vec![2.0, 0.0, 0.0],
            vec![0.0, 0.0, 0.0],
            vec![4.0, 3.0, 0.0],
        ];
        let rocks = vec![
            vec![0.0, 0.0, 5.0],
            vec![0.0, 0.0, -5.0],
            vec![1.0, 0.0, 0.0],
        ];
        let one = vec![vec![9.0, 9.0, 9.0]];
        let other = vec![vec![-7.0, 1.0, 0.0], vec![2.0, 3.0, 4.0]];
        let a = Calibration::compute_split(&basis, &one, &rocks, 2)?;
        let b = Calibration::compute_split(&basis, &other, &rocks, 2)?;
        // Mean of the basis people, worked by hand: (2, 1, 0).
        assert_eq!(a.human_mean(), &[2.0, 1.0, 0.0]);
        assert_eq!(a.human_mean(), b.human_mean());
        assert_eq!(
            a.projection, b.projection,
            "reference faces do not move the basis"
        );
        // (9, 9, 9) - (2, 1, 0) = (7, 8, 9), normalised by sqrt(194).
        let n = 194f32.sqrt();
        for (got, want) in a.reference_rows().iter().zip([7.0 / n, 8.0 / n, 9.0 / n]) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        assert_eq!(b.reference_count(), 2);
        // Without a split the reference faces are the basis people.
        let same = Calibration::compute(&basis, &rocks, 2)?;
        let split = Calibration::compute_split(&basis, &basis, &rocks, 2)?;
        assert_eq!(same.projection, split.projection);
        assert_eq!(same.reference_rows(), split.reference_rows());
        assert!(Calibration::compute_split(&basis, &[], &rocks, 2).is_err());
        Ok(())
    }
}
