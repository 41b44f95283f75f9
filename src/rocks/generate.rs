//! PLACEHOLDER until the `rockgen` branch lands (its generate.rs replaces this file on
//! merge). Same signature: a grey stone with two hollows and a crack, seeded.
use image::{Rgb, RgbImage};

pub fn render_rock(seed: u64, index: u32, size: u32) -> (RgbImage, RgbImage, String) {
    let mut s = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5851_F42D_4C95_7F2D;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f32 / (1u64 << 53) as f32
    };
    let tone = 90.0 + 80.0 * next();
    let (rx, ry) = (0.32 + 0.1 * next(), 0.36 + 0.1 * next());
    let eye_y = 0.42 + 0.06 * next();
    let mouth_y = 0.66 + 0.06 * next();
    let photo = RgbImage::from_fn(size, size, |x, y| {
        let (u, v) = (x as f32 / size as f32 - 0.5, y as f32 / size as f32 - 0.5);
        let inside = (u / rx).powi(2) + (v / ry).powi(2) < 1.0;
        if !inside {
            return Rgb([200, 196, 188]);
        }
        let (fx, fy) = (u + 0.5, v + 0.5);
        let eye = ((fx - 0.4).powi(2) + (fy - eye_y).powi(2)).min((fx - 0.6).powi(2) + (fy - eye_y).powi(2)) < 0.003;
        let mouth = (fy - mouth_y).abs() < 0.012 && (fx - 0.5).abs() < 0.09;
        let shade = tone * (1.0 - 0.6 * (u + v).max(-0.5)) - if eye || mouth { 60.0 } else { 0.0 };
        let g = shade.clamp(0.0, 255.0) as u8;
        Rgb([g, g.saturating_sub(4), g.saturating_sub(10)])
    });
    let c = size / 5;
    let face = image::imageops::crop_imm(&photo, c, c, size - 2 * c, size - 2 * c).to_image();
    (photo, face, format!("Stone {}", index + 1))
}
