//! BlazeFace (MediaPipe) face detection: preprocessing, anchor decoding and weighted NMS.
use super::sampling::{warp, Affine, Border};
use super::{Detection, FaceError};
use image::RgbImage;
use ort::session::Session;
use ort::value::TensorRef;
use std::sync::OnceLock;
use zeroize::Zeroizing;

/// Candidates below this score are dropped before NMS.
pub(crate) const MIN_SCORE: f32 = 0.5;
const NMS_IOU: f32 = 0.3;

/// The 896 anchor centres (unit coordinates): 16x16 cells x 2, then 8x8 cells x 6.
fn anchors() -> &'static [[f32; 2]] {
    static ANCHORS: OnceLock<Vec<[f32; 2]>> = OnceLock::new();
    ANCHORS.get_or_init(|| {
        let mut a = Vec::with_capacity(896);
        for (n, per_cell) in [(16usize, 2usize), (8, 6)] {
            for row in 0..n {
                for col in 0..n {
                    for _ in 0..per_cell {
                        a.push([(col as f32 + 0.5) / n as f32, (row as f32 + 0.5) / n as f32]);
                    }
                }
            }
        }
        a
    })
}

/// A square region of the source image (may extend past its edges; the outside is black).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Square {
    pub x0: f32,
    pub y0: f32,
    pub side: f32,
}

/// Which BlazeFace model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Model {
    Front128,
    Back256,
}

impl Model {
    pub fn size(self) -> u32 {
        match self {
            Model::Front128 => 128,
            Model::Back256 => 256,
        }
    }
}

/// The detector input for `region`: resized to S x S, scaled to [-1, 1], NHWC.
pub(crate) fn prepare(img: &RgbImage, region: Square, s: u32) -> Vec<f32> {
    let map = Affine::rect(region.x0, region.y0, region.side, region.side, s, s);
    let mut buf = warp(img, map, s, s, Border::Zero);
    for v in &mut buf {
        *v = *v / 127.5 - 1.0;
    }
    buf
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-80.0, 80.0)).exp())
}

fn output<'a>(
    outputs: &'a ort::session::SessionOutputs<'_>,
    name: &str,
) -> Result<&'a [f32], FaceError> {
    let value = outputs
        .get(name)
        .ok_or_else(|| FaceError::Unavailable(format!("the detector has no output {name}")))?;
    let (_, data) = value
        .try_extract_tensor::<f32>()
        .map_err(|e| FaceError::Unavailable(format!("detector output {name}: {e}")))?;
    Ok(data)
}

/// Runs the model on a prepared input; detections in unit coordinates of the region.
pub(crate) fn infer(
    session: &mut Session,
    input: &[f32],
    s: u32,
) -> Result<Vec<Detection>, FaceError> {
    let su = s as usize;
    let tensor = TensorRef::from_array_view(([1usize, su, su, 3], input))
        .map_err(|e| FaceError::Unavailable(format!("detector input: {e}")))?;
    let outputs = session
        .run(ort::inputs!["input:0" => tensor])
        .map_err(|e| FaceError::Unavailable(format!("detector failed: {e}")))?;
    let s0 = output(&outputs, "Identity:0")?;
    let s1 = output(&outputs, "Identity_1:0")?;
    let r0 = output(&outputs, "Identity_2:0")?;
    let r1 = output(&outputs, "Identity_3:0")?;
    if s0.len() != 512 || s1.len() != 384 || r0.len() != 512 * 16 || r1.len() != 384 * 16 {
        return Err(FaceError::Unavailable(
            "the detector outputs have unexpected shapes".into(),
        ));
    }
    let sf = s as f32;
    let mut found = Vec::new();
    for (i, anchor) in anchors().iter().enumerate() {
        let (logit, d) = if i < 512 {
            (s0[i], &r0[i * 16..i * 16 + 16])
        } else {
            (s1[i - 512], &r1[(i - 512) * 16..(i - 512) * 16 + 16])
        };
        let score = sigmoid(logit);
        if score.is_nan() || score < MIN_SCORE {
            continue;
        }
        // A box with no area, or any value not finite, is no face (and would stall NMS).
        if d.iter().any(|v| !v.is_finite()) || !(d[2] > 0.0 && d[3] > 0.0) {
            continue;
        }
        let cx = anchor[0] + d[0] / sf;
        let cy = anchor[1] + d[1] / sf;
        let (w, h) = (d[2] / sf, d[3] / sf);
        let mut keypoints = [[0.0f32; 2]; 6];
        for (k, kp) in keypoints.iter_mut().enumerate() {
            *kp = [anchor[0] + d[4 + 2 * k] / sf, anchor[1] + d[5 + 2 * k] / sf];
        }
        found.push(Detection {
            bbox: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0],
            score,
            keypoints,
        });
    }
    Ok(weighted_nms(found, NMS_IOU))
}

pub(crate) fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    let union = area(a) + area(b) - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

pub(crate) fn area(b: &[f32; 4]) -> f32 {
    (b[2] - b[0]).max(0.0) * (b[3] - b[1]).max(0.0)
}

/// MediaPipe's WEIGHTED non-maximum suppression: each kept face is the score-weighted mean
/// of the candidates overlapping the best one; its score is the best one's.
pub(crate) fn weighted_nms(mut dets: Vec<Detection>, threshold: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept = Vec::new();
    while !dets.is_empty() {
        // The top one always leaves the list, whatever its overlap with itself (a box
        // without area has none), so every pass makes progress.
        let top = dets.remove(0);
        let (mut overlapping, rest): (Vec<Detection>, Vec<Detection>) = dets
            .into_iter()
            .partition(|d| iou(&top.bbox, &d.bbox) > threshold);
        overlapping.insert(0, top.clone());
        dets = rest;
        let total: f32 = overlapping.iter().map(|d| d.score).sum();
        let mut merged = Detection {
            bbox: [0.0; 4],
            score: top.score,
            keypoints: [[0.0; 2]; 6],
        };
        for d in &overlapping {
            let w = d.score / total;
            for i in 0..4 {
                merged.bbox[i] += d.bbox[i] * w;
            }
            for k in 0..6 {
                merged.keypoints[k][0] += d.keypoints[k][0] * w;
                merged.keypoints[k][1] += d.keypoints[k][1] * w;
            }
        }
        kept.push(merged);
    }
    kept
}

/// Unit coordinates of `region` -> source pixels.
pub(crate) fn to_source(mut d: Detection, region: Square) -> Detection {
    let m = |v: f32, o: f32| o + v * region.side;
    d.bbox = [
        m(d.bbox[0], region.x0),
        m(d.bbox[1], region.y0),
        m(d.bbox[2], region.x0),
        m(d.bbox[3], region.y0),
    ];
    for kp in &mut d.keypoints {
        *kp = [m(kp[0], region.x0), m(kp[1], region.y0)];
    }
    d
}

/// Runs `model` on `region` and returns detections in source pixels.
pub(crate) fn detect_region(
    session: &mut Session,
    model: Model,
    img: &RgbImage,
    region: Square,
) -> Result<Vec<Detection>, FaceError> {
    let s = model.size();
    // Photo pixels: wiped when dropped, and lent to ONNX Runtime rather than handed over.
    let input = Zeroizing::new(prepare(img, region, s));
    Ok(infer(session, &input, s)?
        .into_iter()
        .map(|d| to_source(d, region))
        .collect())
}

/// Distance between the two eyes, in source pixels.
pub(crate) fn eye_distance(d: &Detection) -> f32 {
    let [l, r] = [d.keypoints[0], d.keypoints[1]];
    ((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2)).sqrt()
}

pub(crate) fn width(d: &Detection) -> f32 {
    d.bbox[2] - d.bbox[0]
}
