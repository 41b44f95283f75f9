//! Alignment: a least-squares similarity from keypoints to dlib's mean face, then a bilinear warp.
use super::sampling::{warp, Affine, Border};
use image::RgbImage;

/// Side of the aligned chip the embedder takes.
pub(crate) const CHIP: u32 = 150;

/// dlib's mean face for a 150-px chip with padding 0.25: eye on image left, eye on image right,
/// nose tip, mouth centre (dlib pixel-centre coordinates).
pub(crate) const TEMPLATE_4: [[f32; 2]; 4] =
    [[47.6, 46.6], [100.6, 46.6], [74.0, 76.6], [74.0, 105.4]];

/// Where BlazeFace's own keypoints (eye, eye, nose tip, mouth centre) fall in dlib's chip,
/// learned from the 183 human photos of the pairings (not LFW): each photo aligned with two
/// 68-point landmark passes to dlib's template below, its BlazeFace keypoints mapped into
/// that chip and averaged (models/tools/keypoint_template.py), then made left-right
/// symmetric about dlib's centre line (x 74.0127) so a mirrored face aligns as the mirror
/// image. BlazeFace's eyes and mouth sit 2-3 px lower than the 4-point mean face above.
pub(crate) const TEMPLATE_4_LEARNED: [[f32; 2]; 4] = [
    [45.833, 48.470],
    [102.193, 48.470],
    [74.0127, 78.603],
    [74.0127, 107.871],
];

/// dlib's chip template for its ResNet (`get_face_chip_details(shape, 150, 0.25)`,
/// dlib/image_transforms/interpolation.h): iBUG landmark indices (nose, eyes, upper mouth,
/// inner upper lip) and their positions in the 150-px chip.
pub(crate) const TEMPLATE_68_INDEX: [usize; 33] = [
    27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50,
    51, 52, 53, 54, 60, 61, 62, 63, 64,
];
#[rustfmt::skip]
pub(crate) const TEMPLATE_68: [[f32; 2]; 33] = [
    [74.0127, 45.3352],
    [74.0127, 55.7009],
    [74.0127, 65.9805],
    [74.0127, 76.5625],
    [61.688, 83.7326],
    [67.6036, 85.9345],
    [74.0127, 87.8106],
    [80.4217, 85.9345],
    [86.3373, 83.7326],
    [37.1737, 46.6423],
    [43.7122, 42.8758],
    [51.5825, 42.9852],
    [58.4606, 48.1733],
    [51.0918, 49.5099],
    [43.2743, 49.4077],
    [89.5647, 48.1733],
    [96.4428, 42.9852],
    [104.3132, 42.8758],
    [110.8516, 46.6423],
    [104.751, 49.4077],
    [96.9335, 49.5099],
    [50.4149, 103.0233],
    [59.0985, 99.5405],
    [67.8858, 97.7388],
    [74.0127, 99.2578],
    [80.1395, 97.7388],
    [88.9268, 99.5405],
    [97.6104, 103.0233],
    [54.0379, 103.4792],
    [67.8096, 102.8746],
    [74.0127, 103.5343],
    [80.2157, 102.8746],
    [93.9874, 103.4792],
];

/// dst = [a -b; b a] src + t.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    /// Least-squares fit (Umeyama, no reflection) mapping `src` onto `dst`.
    pub fn fit(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Option<Similarity> {
        let n = src.len().min(dst.len());
        if n < 2 {
            return None;
        }
        let nf = n as f64;
        let (mut msx, mut msy, mut mdx, mut mdy) = (0.0f64, 0.0, 0.0, 0.0);
        for i in 0..n {
            msx += f64::from(src[i][0]);
            msy += f64::from(src[i][1]);
            mdx += f64::from(dst[i][0]);
            mdy += f64::from(dst[i][1]);
        }
        let (msx, msy, mdx, mdy) = (msx / nf, msy / nf, mdx / nf, mdy / nf);
        let (mut dot, mut cross, mut var) = (0.0f64, 0.0, 0.0);
        for i in 0..n {
            let (sx, sy) = (f64::from(src[i][0]) - msx, f64::from(src[i][1]) - msy);
            let (dx, dy) = (f64::from(dst[i][0]) - mdx, f64::from(dst[i][1]) - mdy);
            dot += sx * dx + sy * dy;
            cross += sx * dy - sy * dx;
            var += sx * sx + sy * sy;
        }
        // NaN keypoints fail too.
        if var.is_nan() || var <= 1e-9 {
            return None;
        }
        let (a, b) = (dot / var, cross / var);
        let tx = mdx - (a * msx - b * msy);
        let ty = mdy - (b * msx + a * msy);
        // A map that shrinks to (nearly) a point has no usable inverse.
        if ![a, b, tx, ty].iter().all(|v| v.is_finite()) || a * a + b * b < 1e-10 {
            return None;
        }
        Some(Similarity {
            a: a as f32,
            b: b as f32,
            tx: tx as f32,
            ty: ty as f32,
        })
    }

    /// The inverse map (chip -> source), as a sampler map.
    pub fn inverse_affine(&self) -> Affine {
        let d = self.a * self.a + self.b * self.b;
        let (ia, ib) = (self.a / d, -self.b / d);
        // src = [ia -ib; ib ia] (dst - t)
        let c = -(ia * self.tx - ib * self.ty);
        let f = -(ib * self.tx + ia * self.ty);
        Affine([ia, -ib, c, ib, ia, f])
    }
}

/// dlib pixel-centre coordinates -> the sampler's continuous coordinates.
pub(crate) fn template_continuous(points: &[[f32; 2]]) -> Vec<[f32; 2]> {
    points.iter().map(|p| [p[0] + 0.5, p[1] + 0.5]).collect()
}

/// The aligned 150-px chip, RGB f32 0-255, for source keypoints matching `template`.
pub(crate) fn chip(
    img: &RgbImage,
    keypoints: &[[f32; 2]],
    template: &[[f32; 2]],
) -> Option<Vec<f32>> {
    let dst = template_continuous(template);
    let sim = Similarity::fit(keypoints, &dst)?;
    Some(warp(
        img,
        sim.inverse_affine(),
        CHIP,
        CHIP,
        Border::Replicate,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_learned_template_is_a_mirror_image_of_itself() {
        let t = TEMPLATE_4_LEARNED;
        let axis = TEMPLATE_68[3][0]; // dlib's nose tip: the chip's centre line
        assert!((t[0][0] + t[1][0] - 2.0 * axis).abs() < 1e-3 && t[0][1] == t[1][1]);
        assert!((t[2][0] - axis).abs() < 1e-3 && (t[3][0] - axis).abs() < 1e-3);
        assert!(
            t[0][1] < t[2][1] && t[2][1] < t[3][1],
            "eyes, nose, mouth from top"
        );
    }

    #[test]
    fn fit_recovers_a_known_similarity() {
        let truth = Similarity {
            a: 0.8,
            b: 0.3,
            tx: 12.0,
            ty: -4.0,
        };
        let src = [[10.0, 20.0], [60.0, 22.0], [35.0, 50.0], [36.0, 70.0]];
        let dst: Vec<[f32; 2]> = src
            .iter()
            .map(|p| {
                [
                    truth.a * p[0] - truth.b * p[1] + truth.tx,
                    truth.b * p[0] + truth.a * p[1] + truth.ty,
                ]
            })
            .collect();
        let Some(fit) = Similarity::fit(&src, &dst) else {
            panic!("degenerate points")
        };
        assert!((fit.a - truth.a).abs() < 1e-4 && (fit.b - truth.b).abs() < 1e-4);
        assert!((fit.tx - truth.tx).abs() < 1e-3 && (fit.ty - truth.ty).abs() < 1e-3);
        let inv = fit.inverse_affine();
        let (x, y) = inv.apply(dst[2][0], dst[2][1]);
        assert!((x - src[2][0]).abs() < 1e-3 && (y - src[2][1]).abs() < 1e-3);
    }

    #[test]
    fn points_that_give_no_invertible_map_give_no_fit() {
        let dst = [[47.6, 46.6], [100.6, 46.6], [74.0, 76.6], [74.0, 105.4]];
        let nan = [[f32::NAN, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]];
        let same = [[5.0, 5.0]; 4];
        // Spread over a billion pixels: the map to the chip shrinks to a point.
        let huge = [[0.0, 0.0], [1e9, 0.0], [5e8, 8e8], [5e8, 1.6e9]];
        for src in [nan, same, huge] {
            assert!(Similarity::fit(&src, &dst).is_none(), "{src:?}");
        }
    }
}
