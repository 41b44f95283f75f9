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

#[inline]
fn pixel(img: &RgbImage, x: i64, y: i64, border: Border) -> [f32; 3] {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let (x, y) = match border {
        Border::Zero => {
            if x < 0 || y < 0 || x >= w || y >= h {
                return [0.0; 3];
            }
            (x, y)
        }
        Border::Replicate => (x.clamp(0, w - 1), y.clamp(0, h - 1)),
    };
    let i = ((y * w + x) * 3) as usize;
    let raw = img.as_raw();
    [
        f32::from(raw[i]),
        f32::from(raw[i + 1]),
        f32::from(raw[i + 2]),
    ]
}

/// Bilinear sample at continuous source coordinates.
#[inline]
fn bilinear(img: &RgbImage, x: f32, y: f32, border: Border) -> [f32; 3] {
    let (fx, fy) = (x - 0.5, y - 0.5);
    let (x0, y0) = (fx.floor(), fy.floor());
    let (ax, ay) = (fx - x0, fy - y0);
    let (xi, yi) = (x0 as i64, y0 as i64);
    let inside =
        xi >= 0 && yi >= 0 && xi + 1 < i64::from(img.width()) && yi + 1 < i64::from(img.height());
    let (p00, p10, p01, p11) = if inside {
        // Fast path: no bounds logic per tap.
        let w = img.width() as usize;
        let raw = img.as_raw();
        let i = (yi as usize * w + xi as usize) * 3;
        let j = i + w * 3;
        let get = |k: usize| {
            [
                f32::from(raw[k]),
                f32::from(raw[k + 1]),
                f32::from(raw[k + 2]),
            ]
        };
        (get(i), get(i + 3), get(j), get(j + 3))
    } else {
        (
            pixel(img, xi, yi, border),
            pixel(img, xi + 1, yi, border),
            pixel(img, xi, yi + 1, border),
            pixel(img, xi + 1, yi + 1, border),
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

/// Samples a `tw` x `th` RGB image (f32, 0-255, interleaved) through `map`. When the map
/// shrinks by more than 2, each target pixel averages a grid of bilinear taps over its footprint, so
/// large photos do not alias.
pub(crate) fn warp(img: &RgbImage, map: Affine, tw: u32, th: u32, border: Border) -> Vec<f32> {
    // A bilinear tap already averages a 2x2 neighbourhood, so one tap per 2 source pixels
    // keeps shrinking free of aliasing (at exactly 2x it is a 2x2 box filter).
    let taps = ((map.scale() / 2.0).ceil() as usize).clamp(1, 4);
    let mut out = Vec::with_capacity((tw * th * 3) as usize);
    let inv = 1.0 / (taps * taps) as f32;
    for ty in 0..th {
        for tx in 0..tw {
            let mut acc = [0.0f32; 3];
            for sy in 0..taps {
                for sx in 0..taps {
                    let u = tx as f32 + (sx as f32 + 0.5) / taps as f32;
                    let v = ty as f32 + (sy as f32 + 0.5) / taps as f32;
                    let (x, y) = map.apply(u, v);
                    let p = bilinear(img, x, y, border);
                    acc[0] += p[0];
                    acc[1] += p[1];
                    acc[2] += p[2];
                }
            }
            out.extend_from_slice(&[acc[0] * inv, acc[1] * inv, acc[2] * inv]);
        }
    }
    out
}

/// f32 RGB buffer -> RgbImage (rounded, clamped).
pub(crate) fn to_image(buf: &[f32], w: u32, h: u32) -> RgbImage {
    let raw = buf
        .iter()
        .map(|v| v.round().clamp(0.0, 255.0) as u8)
        .collect();
    RgbImage::from_raw(w, h, raw).unwrap_or_else(|| RgbImage::new(w, h))
}
