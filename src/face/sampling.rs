//! Resampling: one affine sampler used for detector inputs, aligned chips and rock views.
use image::RgbImage;

/// What lies outside the source image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Border {
    /// Black (0).
    Zero,
    /// The nearest edge pixel.
    Replicate,
}

/// Target -> source affine map: src = [a b c; d e f] * [x y 1], in continuous pixel
/// coordinates (pixel k spans [k, k+1), its centre is k + 0.5).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Affine(pub [f32; 6]);

impl Affine {
    /// Maps the target rectangle [0,tw)x[0,th) onto the source rectangle (x0, y0, w, h).
    pub fn rect(x0: f32, y0: f32, w: f32, h: f32, tw: u32, th: u32) -> Self {
        Affine([w / tw as f32, 0.0, x0, 0.0, h / th as f32, y0])
    }
    pub fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        let m = &self.0;
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }
    /// Source pixels covered per target pixel (geometric mean of the axes).
    fn scale(&self) -> f32 {
        let m = &self.0;
        (m[0] * m[4] - m[1] * m[3]).abs().sqrt()
    }
}

/// floor() without a libm call (the baseline x86-64 target has no SSE4.1 round).
#[inline(always)]
fn floor_i64(v: f32) -> i64 {
    let t = v as i64;
    if (t as f32) > v {
        t - 1
    } else {
        t
    }
}

/// The source image as the sampler reads it.
struct Source<'a> {
    raw: &'a [u8],
    w: i64,
    h: i64,
    border: Border,
}

impl Source<'_> {
    #[inline(always)]
    fn pixel(&self, x: i64, y: i64) -> [f32; 3] {
        let (x, y) = match self.border {
            Border::Zero => {
                if x < 0 || y < 0 || x >= self.w || y >= self.h {
                    return [0.0; 3];
                }
                (x, y)
            }
            Border::Replicate => (x.clamp(0, self.w - 1), y.clamp(0, self.h - 1)),
        };
        let i = ((y * self.w + x) * 3) as usize;
        [
            f32::from(self.raw[i]),
            f32::from(self.raw[i + 1]),
            f32::from(self.raw[i + 2]),
        ]
    }

    /// Bilinear sample at continuous source coordinates.
    #[inline(always)]
    fn bilinear(&self, x: f32, y: f32) -> [f32; 3] {
        let (fx, fy) = (x - 0.5, y - 0.5);
        let (xi, yi) = (floor_i64(fx), floor_i64(fy));
        let (ax, ay) = (fx - xi as f32, fy - yi as f32);
        let (p00, p10, p01, p11) = if xi >= 0 && yi >= 0 && xi + 1 < self.w && yi + 1 < self.h {
            // Fast path: no bounds logic per tap.
            let i = ((yi * self.w + xi) * 3) as usize;
            let j = i + self.w as usize * 3;
            let q = &self.raw[i..i + 6];
            let r = &self.raw[j..j + 6];
            let get =
                |s: &[u8], k: usize| [f32::from(s[k]), f32::from(s[k + 1]), f32::from(s[k + 2])];
            (get(q, 0), get(q, 3), get(r, 0), get(r, 3))
        } else {
            (
                self.pixel(xi, yi),
                self.pixel(xi + 1, yi),
                self.pixel(xi, yi + 1),
                self.pixel(xi + 1, yi + 1),
            )
        };
        let mut out = [0.0; 3];
        for c in 0..3 {
            let top = p00[c] + (p10[c] - p00[c]) * ax;
            let bottom = p01[c] + (p11[c] - p01[c]) * ax;
            out[c] = top + (bottom - top) * ay;
        }
        out
    }
}

/// Samples a `tw` x `th` RGB image (f32, 0-255, interleaved) through `map`. When the map
/// shrinks by more than 2, each target pixel averages a grid of bilinear taps over its footprint, so
/// large photos do not alias.
pub(crate) fn warp(img: &RgbImage, map: Affine, tw: u32, th: u32, border: Border) -> Vec<f32> {
    // A bilinear tap already averages a 2x2 neighbourhood, so one tap per 2 source pixels
    // keeps shrinking free of aliasing (at exactly 2x it is a 2x2 box filter).
    let taps = ((map.scale() / 2.0).ceil() as usize).clamp(1, 4);
    let src = Source {
        raw: img.as_raw(),
        w: i64::from(img.width()),
        h: i64::from(img.height()),
        border,
    };
    let mut out = vec![0.0f32; (tw * th * 3) as usize];
    if out.is_empty() {
        return out;
    }
    if src.w == 0 || src.h == 0 {
        return out;
    }
    let m = &map.0;
    if taps == 1 && m[1] == 0.0 && m[3] == 0.0 {
        warp_axis_aligned(&src, map, tw, &mut out);
    } else if taps == 1 {
        warp_bilinear(&src, map, tw, &mut out);
    } else {
        warp_general(&src, map, taps, tw, &mut out);
    }
    out
}

/// [`warp`] for any map: `taps` x `taps` bilinear taps per target pixel.
fn warp_general(src: &Source<'_>, map: Affine, taps: usize, tw: u32, out: &mut [f32]) {
    let inv = 1.0 / (taps * taps) as f32;
    let step = 1.0 / taps as f32;
    for (ty, row) in out.chunks_exact_mut(tw as usize * 3).enumerate() {
        for (tx, px) in row.chunks_exact_mut(3).enumerate() {
            let mut acc = [0.0f32; 3];
            for sy in 0..taps {
                let v = ty as f32 + (sy as f32 + 0.5) * step;
                for sx in 0..taps {
                    let u = tx as f32 + (sx as f32 + 0.5) * step;
                    let (x, y) = map.apply(u, v);
                    let p = src.bilinear(x, y);
                    acc[0] += p[0];
                    acc[1] += p[1];
                    acc[2] += p[2];
                }
            }
            px[0] = acc[0] * inv;
            px[1] = acc[1] * inv;
            px[2] = acc[2] * inv;
        }
    }
}

/// [`warp`] with one bilinear tap per target pixel (aligned chips): pixels whose four
/// neighbours are all inside the source skip the border logic and the floor() calls.
fn warp_bilinear(src: &Source<'_>, map: Affine, tw: u32, out: &mut [f32]) {
    let m = &map.0;
    let stride = src.w as usize * 3;
    // Interior: both neighbours inside, i.e. 0 <= f and f < len - 1 (f = position - 0.5).
    let (x_max, y_max) = ((src.w - 1) as f32, (src.h - 1) as f32);
    for (ty, row) in out.chunks_exact_mut(tw as usize * 3).enumerate() {
        let v = ty as f32 + 0.5;
        for (tx, px) in row.chunks_exact_mut(3).enumerate() {
            let u = tx as f32 + 0.5;
            let fx = m[0] * u + m[1] * v + m[2] - 0.5;
            let fy = m[3] * u + m[4] * v + m[5] - 0.5;
            if fx >= 0.0 && fy >= 0.0 && fx < x_max && fy < y_max {
                // non-negative, so truncation is floor
                let (xi, yi) = (fx as usize, fy as usize);
                let (ax, ay) = (fx - xi as f32, fy - yi as f32);
                let i = yi * stride + xi * 3;
                let (Some(q), Some(r)) = (
                    src.raw.get(i..i + 6),
                    src.raw.get(i + stride..i + stride + 6),
                ) else {
                    continue; // not reached: the interior test keeps both rows in bounds
                };
                for c in 0..3 {
                    let top = f32::from(q[c]) + (f32::from(q[c + 3]) - f32::from(q[c])) * ax;
                    let bottom = f32::from(r[c]) + (f32::from(r[c + 3]) - f32::from(r[c])) * ax;
                    px[c] = top + (bottom - top) * ay;
                }
            } else {
                px.copy_from_slice(&src.bilinear(fx + 0.5, fy + 0.5));
            }
        }
    }
}

/// One output coordinate's two source neighbours and their weights (0 for a neighbour
/// outside a zero border).
#[derive(Clone, Copy)]
struct Tap {
    i0: usize,
    i1: usize,
    w0: f32,
    w1: f32,
}

/// Bilinear taps along one axis: target t samples source s = scale * (t + 0.5) + offset.
fn taps_1d(scale: f32, offset: f32, targets: usize, len: i64, border: Border) -> Vec<Tap> {
    (0..targets)
        .map(|t| {
            let f = scale * (t as f32 + 0.5) + offset - 0.5;
            let i = floor_i64(f);
            let a = f - i as f32;
            let inside = |k: i64| (0..len).contains(&k);
            let clamp = |k: i64| k.clamp(0, len - 1) as usize;
            let (w0, w1) = match border {
                Border::Zero => (
                    if inside(i) { 1.0 - a } else { 0.0 },
                    if inside(i + 1) { a } else { 0.0 },
                ),
                Border::Replicate => (1.0 - a, a),
            };
            Tap {
                i0: clamp(i),
                i1: clamp(i + 1),
                w0,
                w1,
            }
        })
        .collect()
}

/// [`warp`] for maps without rotation and one tap per pixel (detector and landmark crops):
/// separable, so the neighbours and weights are worked out once per row and column.
fn warp_axis_aligned(src: &Source<'_>, map: Affine, tw: u32, out: &mut [f32]) {
    let m = &map.0;
    let th = out.len() / (tw as usize * 3);
    let xs = taps_1d(m[0], m[2], tw as usize, src.w, src.border);
    let ys = taps_1d(m[4], m[5], th, src.h, src.border);
    let stride = src.w as usize * 3;
    for (row, ty) in out.chunks_exact_mut(tw as usize * 3).zip(&ys) {
        let (r0, r1) = (
            &src.raw[ty.i0 * stride..][..stride],
            &src.raw[ty.i1 * stride..][..stride],
        );
        for (px, tx) in row.chunks_exact_mut(3).zip(&xs) {
            let (a, b) = (tx.i0 * 3, tx.i1 * 3);
            for c in 0..3 {
                let top = f32::from(r0[a + c]) * tx.w0 + f32::from(r0[b + c]) * tx.w1;
                let bottom = f32::from(r1[a + c]) * tx.w0 + f32::from(r1[b + c]) * tx.w1;
                px[c] = top * ty.w0 + bottom * ty.w1;
            }
        }
    }
}

/// f32 RGB buffer -> RgbImage (rounded, clamped).
pub(crate) fn to_image(buf: &[f32], w: u32, h: u32) -> RgbImage {
    let raw = buf
        .iter()
        .map(|v| v.round().clamp(0.0, 255.0) as u8)
        .collect();
    RgbImage::from_raw(w, h, raw).unwrap_or_else(|| RgbImage::new(w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_difference(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    }

    #[test]
    fn the_one_tap_path_samples_as_the_general_one() {
        let img = RgbImage::from_fn(41, 29, |x, y| {
            image::Rgb([
                (x * 5 + y * 7) as u8,
                (x * y * 3) as u8,
                (250 - x * 6) as u8,
            ])
        });
        for border in [Border::Zero, Border::Replicate] {
            // Rotated and scaled, inside and reaching past every edge.
            for (angle, scale, cx, cy) in [
                (0.3f32, 0.8f32, 20.0f32, 14.0f32),
                (-1.1, 1.3, 5.0, 3.0),
                (2.5, 0.5, 38.0, 27.0),
            ] {
                let (c, s) = (angle.cos() * scale, angle.sin() * scale);
                let map = Affine([
                    c,
                    -s,
                    cx - 12.0 * c + 12.0 * s,
                    s,
                    c,
                    cy - 12.0 * s - 12.0 * c,
                ]);
                let src = Source {
                    raw: img.as_raw(),
                    w: 41,
                    h: 29,
                    border,
                };
                let (mut fast, mut general) = (vec![0.0; 24 * 24 * 3], vec![0.0; 24 * 24 * 3]);
                warp_bilinear(&src, map, 24, &mut fast);
                warp_general(&src, map, 1, 24, &mut general);
                let worst = max_difference(&fast, &general);
                assert!(
                    worst < 1e-3,
                    "{border:?} angle {angle}: max difference {worst}"
                );
            }
        }
    }

    #[test]
    fn the_axis_aligned_path_samples_as_the_general_one() {
        let img = RgbImage::from_fn(37, 23, |x, y| {
            image::Rgb([(x * 7 + y * 3) as u8, (x * y) as u8, (255 - x * 5) as u8])
        });
        for border in [Border::Zero, Border::Replicate] {
            // Inside, enlarging, and reaching past every edge.
            for (x0, y0, w, h) in [
                (2.0, 3.0, 30.0, 15.0),
                (5.5, 4.2, 8.0, 6.0),
                (-10.0, -7.0, 60.0, 40.0),
            ] {
                let map = Affine::rect(x0, y0, w, h, 31, 19);
                let src = Source {
                    raw: img.as_raw(),
                    w: 37,
                    h: 23,
                    border,
                };
                let (mut fast, mut general) = (vec![0.0; 31 * 19 * 3], vec![0.0; 31 * 19 * 3]);
                warp_axis_aligned(&src, map, 31, &mut fast);
                warp_general(&src, map, 1, 31, &mut general);
                let worst = max_difference(&fast, &general);
                assert!(
                    worst < 1e-3,
                    "{border:?} ({x0}, {y0}, {w}, {h}): max difference {worst}"
                );
            }
        }
    }
}
