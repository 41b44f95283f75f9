//! Covering faces with rocks: every detected human face in an uploaded image is covered
//! by a rock's face, scaled to the head (the face box enlarged 1.6x, taller than wide,
//! centred a little above the box) and rotated to the eye line. What the detector still
//! finds afterwards is pixelated. Pixels only: the result is re-encoded, so no metadata
//! of the upload survives.
use crate::face::Detection;
use image::{Rgb, RgbImage};

/// How much larger than the face box the cover is, so the whole head is hidden.
pub const HEAD_SCALE: f32 = 1.6;
/// A larger cover, for when the detector still sees a head-shaped outline around the
/// first one (measured: with 39 museum rocks over two LFW faces, 20 covers at 1.6x were
/// still detected as faces, 3 at 2.24x).
pub const WIDE_HEAD_SCALE: f32 = 2.24;
/// Longest side of a stored image; larger uploads are scaled down.
pub const MAX_SIDE: u32 = 2048;
/// Longest side of a preview.
pub const PREVIEW_SIDE: u32 = 400;

/// Where a cover goes: centre, half-axes of its ellipse, and rotation (radians).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub cx: f32,
    pub cy: f32,
    pub half_w: f32,
    pub half_h: f32,
    pub angle: f32,
}

impl Placement {
    /// The head around a detected face: the box enlarged, a little taller than wide and
    /// shifted up (the box spans brows to mouth), turned to the line through the eyes.
    pub fn for_face(face: &Detection) -> Placement {
        Self::for_face_scaled(face, HEAD_SCALE)
    }

    /// [`Self::for_face`] with the cover `scale` times the face box.
    pub fn for_face_scaled(face: &Detection, scale: f32) -> Placement {
        let [x0, y0, x1, y1] = face.bbox;
        let (w, h) = ((x1 - x0).max(1.0), (y1 - y0).max(1.0));
        let [[ax, ay], [bx, by]] = [face.keypoints[0], face.keypoints[1]];
        // keypoints[0] is the eye on the image's left; atan2 gives the eye line's tilt.
        let (left, right) = if ax <= bx {
            ((ax, ay), (bx, by))
        } else {
            ((bx, by), (ax, ay))
        };
        let mut angle = (right.1 - left.1).atan2(right.0 - left.0);
        if !angle.is_finite() || angle.abs() > std::f32::consts::FRAC_PI_3 {
            angle = 0.0;
        }
        let side = w.max(h);
        Placement {
            cx: (x0 + x1) / 2.0,
            cy: (y0 + y1) / 2.0 - 0.1 * h,
            half_w: scale * side / 2.0,
            half_h: scale * side * 1.15 / 2.0,
            angle,
        }
    }

    /// Position of image point (x, y) in the cover's own frame, scaled so the ellipse is
    /// the unit circle.
    fn local(&self, x: f32, y: f32) -> (f32, f32) {
        let (dx, dy) = (x - self.cx, y - self.cy);
        let (s, c) = self.angle.sin_cos();
        let u = dx * c + dy * s;
        let v = -dx * s + dy * c;
        (u / self.half_w, v / self.half_h)
    }

    /// Whether the point is under the opaque part of the cover.
    pub fn covers(&self, x: f32, y: f32) -> bool {
        let (u, v) = self.local(x, y);
        u * u + v * v <= 1.0
    }
}

/// Paints `rock` over the placement: opaque inside the ellipse, feathered just outside it.
pub fn paste_rock(img: &mut RgbImage, rock: &RgbImage, place: &Placement) {
    let (iw, ih) = (img.width() as i64, img.height() as i64);
    let reach = place.half_w.max(place.half_h) * 1.1;
    let (x_from, x_to) = (
        ((place.cx - reach).floor() as i64).max(0),
        ((place.cx + reach).ceil() as i64).min(iw - 1),
    );
    let (y_from, y_to) = (
        ((place.cy - reach).floor() as i64).max(0),
        ((place.cy + reach).ceil() as i64).min(ih - 1),
    );
    let (rw, rh) = (rock.width() as f32, rock.height() as f32);
    const FEATHER: f32 = 0.08;
    for y in y_from..=y_to {
        for x in x_from..=x_to {
            let (u, v) = place.local(x as f32 + 0.5, y as f32 + 0.5);
            let r = (u * u + v * v).sqrt();
            if r > 1.0 + FEATHER {
                continue;
            }
            let alpha = if r <= 1.0 {
                1.0
            } else {
                1.0 - (r - 1.0) / FEATHER
            };
            // The rock image fills the ellipse's bounding box, in the cover's own frame.
            let sx = ((u.clamp(-1.0, 1.0) + 1.0) / 2.0 * (rw - 1.0)).max(0.0);
            let sy = ((v.clamp(-1.0, 1.0) + 1.0) / 2.0 * (rh - 1.0)).max(0.0);
            let src = bilinear(rock, sx, sy);
            let dst = img.get_pixel_mut(x as u32, y as u32);
            for (d, s) in dst.0.iter_mut().zip(src) {
                *d = (alpha * s + (1.0 - alpha) * f32::from(*d))
                    .round()
                    .clamp(0.0, 255.0) as u8;
            }
        }
    }
}

fn bilinear(img: &RgbImage, x: f32, y: f32) -> [f32; 3] {
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = (
        (x0 + 1).min(img.width() - 1),
        (y0 + 1).min(img.height() - 1),
    );
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let p = |xx, yy| img.get_pixel(xx, yy).0;
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    let mut out = [0.0; 3];
    for k in 0..3 {
        let top = f32::from(a[k]) * (1.0 - fx) + f32::from(b[k]) * fx;
        let bottom = f32::from(c[k]) * (1.0 - fx) + f32::from(d[k]) * fx;
        out[k] = top * (1.0 - fy) + bottom * fy;
    }
    out
}

/// Replaces the enlarged box around a detection with `blocks` × `blocks` coarse blocks
/// (the last resort when a face is still found after covering).
pub fn pixelate(img: &mut RgbImage, face: &Detection, blocks: u32) {
    let [x0, y0, x1, y1] = face.bbox;
    let (w, h) = (x1 - x0, y1 - y0);
    let grow = |a: f32, len: f32, lo: bool| if lo { a - len * 0.4 } else { a + len * 0.4 };
    let bx0 = grow(x0, w, true).max(0.0) as u32;
    let by0 = grow(y0, h, true).max(0.0) as u32;
    let bx1 = (grow(x1, w, false).ceil() as u32).min(img.width());
    let by1 = (grow(y1, h, false).ceil() as u32).min(img.height());
    if bx1 <= bx0 || by1 <= by0 {
        return;
    }
    // `blocks` across the longer side; 1 fills the whole region with its mean colour.
    let block = ((bx1 - bx0).max(by1 - by0) / blocks.max(1)).max(4);
    let mut by = by0;
    while by < by1 {
        let mut bx = bx0;
        let bh = block.min(by1 - by);
        while bx < bx1 {
            let bw = block.min(bx1 - bx);
            let mut sum = [0u64; 3];
            for y in by..by + bh {
                for x in bx..bx + bw {
                    let p = img.get_pixel(x, y).0;
                    for k in 0..3 {
                        sum[k] += u64::from(p[k]);
                    }
                }
            }
            let n = u64::from(bw * bh).max(1);
            let mean = Rgb([(sum[0] / n) as u8, (sum[1] / n) as u8, (sum[2] / n) as u8]);
            for y in by..by + bh {
                for x in bx..bx + bw {
                    img.put_pixel(x, y, mean);
                }
            }
            bx += bw;
        }
        by += bh;
    }
}

/// Covers each face with a rock: `rocks[i]` covers the i-th face of `faces` sorted
/// largest first (so the caller puts the uploader's own rock first). Rocks are reused
/// round-robin when there are fewer rocks than faces.
pub fn cover_faces(img: &mut RgbImage, faces: &[Detection], rocks: &[&RgbImage]) -> usize {
    cover_faces_scaled(img, faces, rocks, HEAD_SCALE)
}

/// [`cover_faces`] with covers `scale` times the face box.
pub fn cover_faces_scaled(
    img: &mut RgbImage,
    faces: &[Detection],
    rocks: &[&RgbImage],
    scale: f32,
) -> usize {
    if rocks.is_empty() {
        return 0;
    }
    let ordered = largest_first(faces);
    for (i, face) in ordered.iter().enumerate() {
        paste_rock(
            img,
            rocks[i % rocks.len()],
            &Placement::for_face_scaled(face, scale),
        );
    }
    ordered.len()
}

/// Faces sorted by box area, largest first.
pub fn largest_first(faces: &[Detection]) -> Vec<Detection> {
    let area = |d: &Detection| (d.bbox[2] - d.bbox[0]).max(0.0) * (d.bbox[3] - d.bbox[1]).max(0.0);
    let mut sorted = faces.to_vec();
    sorted.sort_by(|a, b| area(b).total_cmp(&area(a)));
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(bbox: [f32; 4], left_eye: [f32; 2], right_eye: [f32; 2]) -> Detection {
        Detection {
            bbox,
            score: 0.9,
            keypoints: [left_eye, right_eye, [0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]],
        }
    }

    #[test]
    fn the_cover_hides_the_whole_face_box_even_when_tilted() {
        for tilt in [0.0f32, 10.0, -25.0, 40.0] {
            let (s, c) = tilt.to_radians().sin_cos();
            let (cx, cy, d) = (200.0, 150.0, 30.0);
            let f = face(
                [150.0, 100.0, 250.0, 200.0],
                [cx - d * c, cy - 20.0 - d * s],
                [cx + d * c, cy - 20.0 + d * s],
            );
            let place = Placement::for_face(&f);
            assert!(
                (place.angle.to_degrees() - tilt).abs() < 0.01,
                "tilt {tilt}: angle {}",
                place.angle.to_degrees()
            );
            for x in (150..=250).step_by(5) {
                for y in (100..=200).step_by(5) {
                    assert!(
                        place.covers(x as f32, y as f32),
                        "tilt {tilt}: ({x}, {y}) uncovered"
                    );
                }
            }
        }
    }

    #[test]
    fn pasting_replaces_the_face_pixels_with_the_rock() {
        let mut img = RgbImage::from_pixel(300, 300, Rgb([255, 0, 0]));
        let rock = RgbImage::from_pixel(64, 64, Rgb([90, 90, 90]));
        let f = face([100.0, 100.0, 200.0, 200.0], [130.0, 130.0], [170.0, 130.0]);
        assert_eq!(cover_faces(&mut img, &[f], &[&rock]), 1);
        for (x, y) in [(100, 100), (150, 150), (199, 199), (150, 60)] {
            assert_eq!(img.get_pixel(x, y).0, [90, 90, 90], "({x}, {y})");
        }
        assert_eq!(
            img.get_pixel(2, 2).0,
            [255, 0, 0],
            "far from the face nothing changes"
        );
    }

    #[test]
    fn the_largest_face_gets_the_first_rock() {
        let small = face([0.0, 0.0, 10.0, 10.0], [2.0, 3.0], [8.0, 3.0]);
        let big = face([50.0, 50.0, 150.0, 150.0], [80.0, 80.0], [120.0, 80.0]);
        assert_eq!(
            largest_first(&[small.clone(), big.clone()])[0].bbox,
            big.bbox
        );
    }

    #[test]
    fn pixelating_with_one_block_leaves_one_flat_colour() {
        let mut img =
            RgbImage::from_fn(200, 200, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 0]));
        let f = face([80.0, 80.0, 120.0, 120.0], [90.0, 95.0], [110.0, 95.0]);
        pixelate(&mut img, &f, 1);
        // The box grows by 40 % each side: 64..136.
        let inside = img.get_pixel(64, 64).0;
        for (x, y) in [(64, 64), (100, 100), (135, 135), (64, 135)] {
            assert_eq!(img.get_pixel(x, y).0, inside, "({x}, {y})");
        }
        assert_eq!(img.get_pixel(63, 63).0, [63, 63, 0], "outside is untouched");
        assert_eq!(img.get_pixel(136, 100).0, [136, 100, 0]);
    }
}
