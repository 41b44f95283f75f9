//! Exact top-k search over rock vectors, kept in one contiguous i8 block.
//!
//! Each rock is stored as `dim` signed bytes plus a per-rock affine score correction:
//! `score = gain[r] * dot_i32(query_i8, rock_i8[r]) - offset[r]`. `gain` folds in both
//! quantisation scales and the anti-hub scale; `offset` is the anti-hub penalty. One
//! byte per value keeps a million 128-D rocks at 128 MB, a scan bounded by memory
//! bandwidth; the dot product is a plain loop that LLVM turns into packed multiply-adds.

/// One hit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub rock_id: i64,
    pub score: f32,
}

/// Quantises a vector to i8 with one symmetric scale (value ≈ q * scale).
pub fn quantise(v: &[f32]) -> (Vec<i8>, f32) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        return (vec![0; v.len()], 0.0);
    }
    let scale = max / 127.0;
    let q = v
        .iter()
        .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (q, scale)
}

#[derive(Debug, Clone, Default)]
pub struct RockIndex {
    dim: usize,
    ids: Vec<i64>,
    codes: Vec<i8>,
    /// Sum of each rock's codes, for the unsigned-query form of the dot product.
    code_sum: Vec<i32>,
    gain: Vec<f32>,
    offset: Vec<f32>,
}

/// Rocks scored per block before the top-k update (fits L1 with its scores).
const BLOCK: usize = 256;

impl RockIndex {
    pub fn new(dim: usize) -> Self {
        RockIndex {
            dim,
            ..Default::default()
        }
    }

    pub fn with_capacity(dim: usize, n: usize) -> Self {
        RockIndex {
            dim,
            ids: Vec::with_capacity(n),
            codes: Vec::with_capacity(n * dim),
            code_sum: Vec::with_capacity(n),
            gain: Vec::with_capacity(n),
            offset: Vec::with_capacity(n),
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    /// Adds a rock: `vector` (dim long), score = scale * cos - offset.
    pub fn push(&mut self, rock_id: i64, vector: &[f32], scale: f32, offset: f32) {
        assert_eq!(
            vector.len(),
            self.dim,
            "rock vector has the wrong dimension"
        );
        let (q, s) = quantise(vector);
        self.push_quantised(rock_id, &q, s * scale, offset);
    }

    /// Adds already quantised codes with their full gain (for benchmarks and loading).
    pub fn push_quantised(&mut self, rock_id: i64, codes: &[i8], gain: f32, offset: f32) {
        assert_eq!(codes.len(), self.dim, "rock codes have the wrong dimension");
        self.ids.push(rock_id);
        self.codes.extend_from_slice(codes);
        self.code_sum.push(codes.iter().map(|&c| c as i32).sum());
        self.gain.push(gain);
        self.offset.push(offset);
    }

    /// The stored (dequantised, uncorrected) vector of the i-th rock.
    pub fn vector(&self, i: usize) -> Vec<f32> {
        self.codes[i * self.dim..(i + 1) * self.dim]
            .iter()
            .map(|&c| c as f32 * self.gain[i])
            .collect()
    }

    /// Score of every rock for the query, in insertion order (for evaluation).
    pub fn scores(&self, query: &[f32]) -> Vec<f32> {
        let (q, qs) = quantise(query);
        let mut out = vec![0f32; self.len()];
        for (start, chunk) in out.chunks_mut(BLOCK).enumerate() {
            self.score_block(&q, qs, start * BLOCK, chunk);
        }
        out
    }

    /// The k best rocks, best first. Exact over the stored codes.
    pub fn top_k(&self, query: &[f32], k: usize) -> Vec<Hit> {
        assert_eq!(query.len(), self.dim, "query has the wrong dimension");
        if k == 0 || self.is_empty() {
            return Vec::new();
        }
        let (q, qs) = quantise(query);
        // A face's query, in whatever form: wiped when dropped.
        let q = zeroize::Zeroizing::new(q);
        // best holds (score, row), sorted descending; `floor` is the k-th score once full.
        let mut best: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
        let mut floor = f32::NEG_INFINITY;
        let mut buf = [0f32; BLOCK];
        let mut start = 0;
        while start < self.len() {
            let n = BLOCK.min(self.len() - start);
            self.score_block(&q, qs, start, &mut buf[..n]);
            for (j, &s) in buf[..n].iter().enumerate() {
                // A NaN score (a rock stored before its features were checked) never enters.
                if s > floor || (best.len() < k && !s.is_nan()) {
                    let pos = best.partition_point(|&(b, _)| b >= s);
                    best.insert(pos, (s, start + j));
                    if best.len() > k {
                        best.pop();
                    }
                    if best.len() == k {
                        floor = best[k - 1].0;
                    }
                }
            }
            start += n;
        }
        best.into_iter()
            .map(|(score, row)| Hit {
                rock_id: self.ids[row],
                score,
            })
            .collect()
    }

    /// Score of the i-th rock for a query already quantised with [`quantise`], exactly as
    /// [`Self::top_k`] scores it.
    pub fn score_quantised(&self, i: usize, q: &[i8], qs: f32) -> f32 {
        let mut out = [0f32; 1];
        self.score_block(q, qs, i, &mut out);
        out[0]
    }

    fn score_block(&self, q: &[i8], qs: f32, start: usize, out: &mut [f32]) {
        let d = self.dim;
        let codes = &self.codes[start * d..(start + out.len()) * d];
        dots(q, codes, &self.code_sum[start..start + out.len()], out);
        for (j, o) in out.iter_mut().enumerate() {
            *o = *o * qs * self.gain[start + j] - self.offset[start + j];
        }
    }
}

/// out[j] = dot(q, codes[j*d..]) for each row, as f32 (exact: the i32 sum fits).
fn dots(q: &[i8], codes: &[i8], code_sum: &[i32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        if q.len().is_multiple_of(64)
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
        {
            // SAFETY: the CPU supports the enabled features (checked just above).
            return unsafe { dots_vnni(q, codes, code_sum, out) };
        }
        if std::arch::is_x86_feature_detected!("avx512bw") {
            // SAFETY: the CPU supports the enabled features (checked just above).
            return unsafe { dots_avx512(q, codes, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { dots_avx2(q, codes, out) };
        }
    }
    dots_portable(q, codes, out)
}

/// AVX-512 VNNI: `vpdpbusd` multiplies u8 by i8 and adds groups of four into i32 lanes,
/// so the query is shifted to u8 (q + 128) and 128 * sum(rock) is taken off after.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn dots_vnni(q: &[i8], codes: &[i8], code_sum: &[i32], out: &mut [f32]) {
    use std::arch::x86_64::*;
    let d = q.len();
    let lanes = d / 64;
    let shifted: Vec<u8> = q.iter().map(|&x| (x as i16 + 128) as u8).collect();
    let qv: Vec<__m512i> = (0..lanes)
        .map(|c| _mm512_loadu_si512(shifted.as_ptr().add(c * 64) as *const _))
        .collect();
    let rows = codes.chunks_exact(d);
    for ((row, sum), o) in rows.zip(code_sum).zip(out.iter_mut()) {
        let mut acc = _mm512_setzero_si512();
        for (c, qc) in qv.iter().enumerate() {
            let r = _mm512_loadu_si512(row.as_ptr().add(c * 64) as *const _);
            acc = _mm512_dpbusd_epi32(acc, *qc, r);
        }
        *o = (_mm512_reduce_add_epi32(acc) - 128 * sum) as f32;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx2")]
unsafe fn dots_avx512(q: &[i8], codes: &[i8], out: &mut [f32]) {
    dots_portable(q, codes, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dots_avx2(q: &[i8], codes: &[i8], out: &mut [f32]) {
    dots_portable(q, codes, out)
}

/// Written so that LLVM vectorises it: widening multiply-add over fixed chunks, with
/// two rows in flight so each query load feeds two accumulators.
#[inline(always)]
fn dots_portable(q: &[i8], codes: &[i8], out: &mut [f32]) {
    let d = q.len();
    let mut rows = codes.chunks_exact(d);
    let mut outs = out.iter_mut();
    loop {
        match (rows.next(), rows.next()) {
            (Some(a), Some(b)) => {
                let (mut sa, mut sb) = (0i32, 0i32);
                for ((&x, &y), &z) in q.iter().zip(a).zip(b) {
                    sa += x as i32 * y as i32;
                    sb += x as i32 * z as i32;
                }
                if let Some(o) = outs.next() {
                    *o = sa as f32;
                }
                if let Some(o) = outs.next() {
                    *o = sb as f32;
                }
            }
            (Some(a), None) => {
                let s: i32 = q.iter().zip(a).map(|(&x, &y)| x as i32 * y as i32).sum();
                if let Some(o) = outs.next() {
                    *o = s as f32;
                }
                break;
            }
            _ => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random_unit(rng: &mut impl Rng, d: usize) -> Vec<f32> {
        let v: Vec<f32> = (0..d).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    }

    #[test]
    fn top_k_matches_brute_force() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for &(d, n) in &[(128usize, 1000usize), (37, 513), (2048, 300)] {
            let mut index = RockIndex::new(d);
            for i in 0..n {
                let v = random_unit(&mut rng, d);
                index.push(
                    i as i64 * 3 + 1,
                    &v,
                    rng.gen_range(0.5..2.0),
                    rng.gen_range(-0.1..0.1),
                );
            }
            for _ in 0..20 {
                let q = random_unit(&mut rng, d);
                let (qq, qs) = quantise(&q);
                // Brute force in f64 over the same codes, independent of the block code.
                let mut brute: Vec<(f64, i64)> = (0..n)
                    .map(|i| {
                        let codes = &index.codes[i * d..(i + 1) * d];
                        let dot: f64 = qq
                            .iter()
                            .zip(codes)
                            .map(|(&a, &b)| a as f64 * b as f64)
                            .sum();
                        (
                            dot * qs as f64 * index.gain[i] as f64 - index.offset[i] as f64,
                            index.ids[i],
                        )
                    })
                    .collect();
                brute.sort_by(|a, b| b.0.total_cmp(&a.0));
                let hits = index.top_k(&q, 10);
                assert_eq!(hits.len(), 10);
                for (h, b) in hits.iter().zip(&brute) {
                    assert!(
                        (h.score as f64 - b.0).abs() < 1e-4,
                        "score {} vs {}",
                        h.score,
                        b.0
                    );
                }
                let got: Vec<i64> = hits.iter().map(|h| h.rock_id).collect();
                let want: Vec<i64> = brute.iter().take(10).map(|b| b.1).collect();
                assert_eq!(got, want);
                // Scores agree with the exact cosine up to quantisation error.
                let cos_err = (0..n)
                    .map(|i| {
                        let v = index.vector(i);
                        let exact: f32 = v.iter().zip(&q).map(|(a, b)| a * b).sum();
                        (exact - (index.scores(&q)[i] + index.offset[i])).abs()
                    })
                    .take(5)
                    .fold(0f32, f32::max);
                assert!(cos_err < 0.05, "quantised score off by {cos_err}");
            }
        }
    }

    #[test]
    fn k_larger_than_index_and_empty() {
        let mut index = RockIndex::new(4);
        assert!(index.top_k(&[1.0, 0.0, 0.0, 0.0], 3).is_empty());
        index.push(9, &[1.0, 0.0, 0.0, 0.0], 1.0, 0.0);
        index.push(8, &[0.0, 1.0, 0.0, 0.0], 1.0, 0.0);
        let hits = index.top_k(&[0.9, 0.1, 0.0, 0.0], 5);
        assert_eq!(
            hits.iter().map(|h| h.rock_id).collect::<Vec<_>>(),
            vec![9, 8]
        );
    }
}
