//! Seeded randomness and noise built only from integer hashing and IEEE
//! add/mul/floor/sqrt, so every platform renders the same pixels (no libm calls,
//! no `rand` version drift).

/// splitmix64: tiny, well mixed, and fixed forever.
pub(super) struct SplitMix64(u64);

impl SplitMix64 {
    pub(super) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits, exact in f32.
    pub(super) fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / 16_777_216.0)
    }

    pub(super) fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    pub(super) fn chance(&mut self, p: f32) -> bool {
        self.unit() < p
    }

    /// Uniform integer in 0..n (n > 0).
    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Index drawn with the given relative weights.
    pub(super) fn weighted(&mut self, weights: &[f32]) -> usize {
        let total: f32 = weights.iter().sum();
        let mut t = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if t < *w {
                return i;
            }
            t -= w;
        }
        weights.len().saturating_sub(1)
    }

    pub(super) fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
}

/// Mixes a lattice point and a seed into 32 well-scrambled bits (lowbias32 finaliser).
#[inline]
pub(super) fn hash3(x: i32, y: i32, seed: u32) -> u32 {
    let mut h = (x as u32).wrapping_mul(0x8DA6_B343)
        ^ (y as u32).wrapping_mul(0xD816_3841)
        ^ seed.wrapping_mul(0xCB1A_B31F);
    h ^= h >> 16;
    h = h.wrapping_mul(0x7FEB_352D);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846C_A68B);
    h ^= h >> 16;
    h
}

/// Top 24 bits of a hash as a float in [0, 1).
#[inline]
pub(super) fn hash_unit(h: u32) -> f32 {
    (h >> 8) as f32 * (1.0 / 16_777_216.0)
}

const D: f32 = std::f32::consts::FRAC_1_SQRT_2;
const GRADIENTS: [(f32, f32); 8] = [
    (1.0, 0.0),
    (-1.0, 0.0),
    (0.0, 1.0),
    (0.0, -1.0),
    (D, D),
    (-D, D),
    (D, -D),
    (-D, -D),
];

/// A fixed permutation of 0..=255 (Fisher-Yates driven by splitmix64 seed 0x5EED),
/// built at compile time. Table lookups keep Perlin noise cheap.
const PERM: [u8; 256] = {
    let mut p = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        p[i] = i as u8;
        i += 1;
    }
    let mut state: u64 = 0x5EED;
    let mut i = 255;
    while i > 0 {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let j = (z % (i as u64 + 1)) as usize;
        let t = p[i];
        p[i] = p[j];
        p[j] = t;
        i -= 1;
    }
    p
};

/// floor() without a libm call (inlined; exact for |x| < 2^31).
#[inline]
pub(super) fn floor(x: f32) -> f32 {
    let t = x as i32 as f32;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

#[inline]
fn fade(t: f32) -> f32 {
    t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
}

/// 2-D gradient (Perlin) noise, roughly in [-0.7, 0.7], period 256. The seed
/// selects a different region of the periodic field.
#[inline]
pub(super) fn perlin(x: f32, y: f32, seed: u32) -> f32 {
    let xf = floor(x);
    let yf = floor(y);
    let fx = x - xf;
    let fy = y - yf;
    let ix = (xf as i32).wrapping_add(seed as i32) as usize & 255;
    let iy = (yf as i32).wrapping_add((seed >> 8) as i32) as usize & 255;
    let row0 = PERM[ix & 255] as usize;
    let row1 = PERM[(ix + 1) & 255] as usize;
    let g = |row: usize, j: usize, dx: f32, dy: f32| {
        let (gx, gy) = GRADIENTS[(PERM[(row + j) & 255] & 7) as usize];
        gx * dx + gy * dy
    };
    let n00 = g(row0, iy, fx, fy);
    let n10 = g(row1, iy, fx - 1.0, fy);
    let n01 = g(row0, iy + 1, fx, fy - 1.0);
    let n11 = g(row1, iy + 1, fx - 1.0, fy - 1.0);
    let u = fade(fx);
    let v = fade(fy);
    let a = n00 + (n10 - n00) * u;
    let b = n01 + (n11 - n01) * u;
    a + (b - a) * v
}

/// Fractal sum of `octaves` Perlin layers; each octave is rotated to hide the lattice.
#[inline]
pub(super) fn fbm(x: f32, y: f32, octaves: u32, seed: u32) -> f32 {
    let (mut x, mut y) = (x, y);
    let mut sum = 0.0;
    let mut amp = 0.5;
    for o in 0..octaves {
        sum += amp * perlin(x, y, seed.wrapping_add(o.wrapping_mul(0x4F1B)));
        let nx = 1.6 * x - 1.2 * y + 17.3;
        let ny = 1.2 * x + 1.6 * y - 9.1;
        x = nx;
        y = ny;
        amp *= 0.5;
    }
    sum * 1.6
}

#[inline]
pub(super) fn clamp01(x: f32) -> f32 {
    x.clamp(0.0, 1.0)
}

/// Smooth Hermite step from e0 to e1 (e0 > e1 gives a falling step).
#[inline]
pub(super) fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = clamp01((x - e0) / (e1 - e0));
    t * t * (3.0 - 2.0 * t)
}

/// Smooth periodic wave in [0, 1] with period 1 (a rounded triangle, no trig).
#[inline]
pub(super) fn wave(t: f32) -> f32 {
    let f = t - floor(t);
    let tri = 1.0 - (2.0 * f - 1.0).abs();
    tri * tri * (3.0 - 2.0 * tri)
}

/// cos and sin of a small angle (|a| < 0.8) by Taylor series: deterministic everywhere.
pub(super) fn cos_sin_small(a: f32) -> (f32, f32) {
    let a2 = a * a;
    let c = 1.0 - a2 / 2.0 + a2 * a2 / 24.0 - a2 * a2 * a2 / 720.0;
    let s = a * (1.0 - a2 / 6.0 + a2 * a2 / 120.0 - a2 * a2 * a2 / 5040.0);
    (c, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_known_first_value() {
        // Reference value of splitmix64 seeded with 0 (published test vector).
        assert_eq!(SplitMix64::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn floor_matches_std() {
        for x in [-2.5f32, -1.0, -0.0, 0.0, 0.3, 1.0, 7.99, -7.99, 123456.7] {
            assert_eq!(floor(x), x.floor());
        }
    }

    #[test]
    fn perlin_is_zero_on_lattice_and_bounded() {
        assert_eq!(perlin(3.0, -2.0, 7), 0.0);
        for i in 0..1000 {
            let v = perlin(i as f32 * 0.173, i as f32 * 0.071, 1);
            assert!(v.abs() <= 1.0);
        }
    }

    #[test]
    fn small_angle_trig_is_accurate() {
        for a in [-0.7f32, -0.2, 0.0, 0.3, 0.7] {
            let (c, s) = cos_sin_small(a);
            assert!((c - a.cos()).abs() < 1e-4 && (s - a.sin()).abs() < 1e-4);
        }
    }
}
