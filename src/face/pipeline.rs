//! One worker's models and the steps of the pipeline, run synchronously on that worker.
use super::align::{self, TEMPLATE_4};
use super::decode::{self, DecodeLimits};
use super::detect::{self, Model, Square};
use super::embed::{self, CHIP_LEN};
use super::landmarks;
use super::runtime::{self, ModelFiles};
use super::{Detection, FaceError, FaceSignature, APPEARANCE_DIM, IDENTITY_DIM};
use image::RgbImage;
use ort::session::Session;
use std::time::{Duration, Instant};
use zeroize::{Zeroize, Zeroizing};

/// Points of the aligned chip that alignment maps source points onto.
type Template = &'static [[f32; 2]];

/// Faces with eyes closer than this (source pixels) are too small to embed well.
pub(crate) const MIN_EYE_DISTANCE: f32 = 20.0;
/// A second face at least this fraction of the largest one's area, with a high score, makes
/// the photo ambiguous.
const RIVAL_AREA: f32 = 0.4;
const RIVAL_SCORE: f32 = 0.75;
/// A face must score this high to count at all.
const USABLE_SCORE: f32 = 0.6;

/// Per-stage wall time of one analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimings {
    pub decode: Duration,
    pub detect: Duration,
    pub align: Duration,
    pub embed: Duration,
}

/// One worker's sessions.
pub(crate) struct Models {
    pub front: Session,
    pub back: Session,
    pub embedder: Session,
    pub embedder_int8: Option<Session>,
    pub landmarks: Option<Session>,
}

/// Arithmetic of the identity embedder.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Deserialize,
    serde::Serialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// The int8 model (about twice as fast; cosine >= 0.999 to float32, see models/manifest.json).
    #[default]
    Int8,
    Float32,
}

/// How BlazeFace's 4 keypoints align a face when no landmark pass runs.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Deserialize,
    serde::Serialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum KeypointAlignment {
    /// Both detectors run again on a crop around the face; their keypoints, averaged, are
    /// fitted to dlib's 4-point mean face.
    #[default]
    Refined,
    /// The detection's keypoints as they are, fitted to where BlazeFace's keypoints fall in
    /// dlib's chip ([`align::TEMPLATE_4_LEARNED`]): no further model runs.
    Learned,
}

/// How identity embeddings are made: the speed/accuracy settings `eval lfw` and
/// `bench face` measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct IdentityOptions {
    /// Also embed the mirror image and average (one more embedder run).
    pub flip: bool,
    /// 68-point landmark passes for alignment (0 = BlazeFace's 4 keypoints).
    pub landmark_passes: usize,
    pub precision: Precision,
    /// With 0 landmark passes: how the keypoints align.
    #[serde(default)]
    pub keypoints: KeypointAlignment,
}

impl Default for IdentityOptions {
    /// Two landmark passes, flip averaging and the int8 embedder: LFW folds 1-3 99.28 %
    /// (float32 the same), at about 1.5 times the cost of [`IdentityOptions::FAST`].
    fn default() -> Self {
        IdentityOptions {
            flip: true,
            landmark_passes: 2,
            precision: Precision::Int8,
            keypoints: KeypointAlignment::Refined,
        }
    }
}

impl IdentityOptions {
    /// No landmark net: the detection's keypoints on the learned template, with flip
    /// averaging, int8: LFW folds 1-3 99.06 % at about 1.45x the compute floor (README).
    pub const FAST: IdentityOptions = IdentityOptions {
        flip: true,
        landmark_passes: 0,
        precision: Precision::Int8,
        keypoints: KeypointAlignment::Learned,
    };
}

/// Alignment settings, chosen on LFW folds 1-3 (eval lfw): 68-point landmarks on a crop
/// 1.4x the detection box, then once more on a crop 1.3x the landmarks' extent, gave 99.28 %
/// (1.2x: 98.78 %, 1.4x once: 99.22 %, 4-point with 128+256 keypoints: 98.89 %). How many
/// passes run is [`IdentityOptions::landmark_passes`].
#[derive(Debug, Clone, Copy)]
struct Tuning {
    /// Use the 68-point landmarks when the model is present.
    use_68: bool,
    /// 4-point fallback: re-run both detectors on a crop around the face, average keypoints.
    refine: bool,
    /// Landmark crop side, relative to the detection box.
    lm_scale: f32,
    /// Landmark crop centre shift down, relative to the box side.
    lm_dy: f32,
    /// Crop side relative to the landmarks' extent in passes after the first.
    lm_scale2: f32,
}

fn tuning() -> Tuning {
    Tuning {
        use_68: true,
        refine: true,
        lm_scale: 1.4,
        lm_dy: 0.0,
        lm_scale2: 1.3,
    }
}

impl Models {
    pub(crate) fn load(files: &ModelFiles) -> Result<Self, FaceError> {
        Ok(Models {
            front: runtime::session(&files.front, "BlazeFace front-128")?,
            back: runtime::session(&files.back, "BlazeFace back-256")?,
            embedder: runtime::session(&files.embedder, "face recognition")?,
            embedder_int8: match &files.embedder_int8 {
                Some(bytes) => Some(runtime::session(bytes, "int8 face recognition")?),
                None => None,
            },
            landmarks: match &files.landmarks {
                Some(bytes) => Some(runtime::session(bytes, "68-point landmark")?),
                None => None,
            },
        })
    }

    fn session(&mut self, model: Model) -> &mut Session {
        match model {
            Model::Front128 => &mut self.front,
            Model::Back256 => &mut self.back,
        }
    }

    fn detect_in(
        &mut self,
        model: Model,
        img: &RgbImage,
        region: Square,
    ) -> Result<Vec<Detection>, FaceError> {
        detect::detect_region(self.session(model), model, img, region)
    }

    /// All faces, found in passes of increasing cost until one pass finds something:
    /// the whole photo at 128 and 256, the photo zoomed out (faces filling the frame), then
    /// overlapping tiles for small faces in big photos.
    pub(crate) fn find_faces(&mut self, img: &RgbImage) -> Result<Vec<Detection>, FaceError> {
        let (w, h) = (img.width() as f32, img.height() as f32);
        let long = w.max(h);
        let whole = Square {
            x0: 0.0,
            y0: 0.0,
            side: long,
        };
        let mut found = self.detect_in(Model::Front128, img, whole)?;
        // The 128 model misses faces under ~1/10 of the frame; the 256 model reaches further.
        if found.iter().all(|d| detect::width(d) < long * 0.2) {
            found.extend(self.detect_in(Model::Back256, img, whole)?);
        }
        let none_usable = |f: &[Detection]| f.iter().all(|d| d.score < USABLE_SCORE);
        if none_usable(&found) {
            let side = long * 1.6;
            let zoomed = Square {
                x0: (w - side) / 2.0,
                y0: (h - side) / 2.0,
                side,
            };
            found.extend(self.detect_in(Model::Front128, img, zoomed)?);
        }
        // Tiles: each level halves the tile until a tile would be too small to matter
        // (the 256 model finds faces of ~1/16 of its input; we need eyes >= MIN_EYE_DISTANCE).
        // Tiles are cut from a half-size pyramid so each shrinks by at most 2: one bilinear
        // tap per input pixel instead of up to 16, which made a big faceless photo cost
        // seconds of a worker's time.
        let mut pyramid = Pyramid::new(img);
        let mut tile = long / 2.0;
        while none_usable(&found) && tile >= 480.0 {
            let (level, factor) = pyramid.level_for(tile / Model::Back256.size() as f32);
            for y in positions(h, tile) {
                for x in positions(w, tile) {
                    let region = Square {
                        x0: x / factor,
                        y0: y / factor,
                        side: tile / factor,
                    };
                    let dets = self.detect_in(Model::Back256, level, region)?;
                    found.extend(dets.iter().map(|d| d.scaled(factor)));
                }
            }
            tile /= 2.0;
        }
        Ok(merge(found))
    }

    /// Keypoints for alignment: both models run again on a crop around the face, and their
    /// eye, nose and mouth points averaged.
    pub(crate) fn refine(
        &mut self,
        img: &RgbImage,
        face: &Detection,
    ) -> Result<[[f32; 2]; 4], FaceError> {
        let (cx, cy) = (
            (face.bbox[0] + face.bbox[2]) / 2.0,
            (face.bbox[1] + face.bbox[3]) / 2.0,
        );
        let size = (face.bbox[2] - face.bbox[0]).max(face.bbox[3] - face.bbox[1]);
        let side = size * 2.4;
        let region = Square {
            x0: cx - side / 2.0,
            y0: cy - side / 2.0,
            side,
        };
        let mut sets = vec![four(face)];
        for model in [Model::Front128, Model::Back256] {
            let dets = self.detect_in(model, img, region)?;
            if let Some(best) = dets
                .iter()
                .filter(|d| detect::iou(&d.bbox, &face.bbox) > 0.5)
                .max_by(|a, b| a.score.total_cmp(&b.score))
            {
                sets.push(four(best));
            }
        }
        // The crop pass replaces the whole-photo estimate when it succeeded.
        if sets.len() > 1 {
            sets.remove(0);
        }
        let mut mean = [[0.0f32; 2]; 4];
        for s in &sets {
            for k in 0..4 {
                mean[k][0] += s[k][0] / sets.len() as f32;
                mean[k][1] += s[k][1] / sets.len() as f32;
            }
        }
        Ok(mean)
    }

    /// Source points and the chip template they map to: dlib's 33 landmark positions when
    /// the landmark model is present, else the four BlazeFace keypoints.
    pub(crate) fn alignment_points(
        &mut self,
        img: &RgbImage,
        face: &Detection,
        landmark_passes: usize,
        keypoints: KeypointAlignment,
    ) -> Result<(Vec<[f32; 2]>, Template), FaceError> {
        let t = tuning();
        if landmark_passes == 0 && keypoints == KeypointAlignment::Learned {
            return Ok((four(face).to_vec(), &align::TEMPLATE_4_LEARNED));
        }
        if let (true, true, Some(session)) =
            (t.use_68, landmark_passes > 0, self.landmarks.as_mut())
        {
            let (cx, cy) = (
                (face.bbox[0] + face.bbox[2]) / 2.0,
                (face.bbox[1] + face.bbox[3]) / 2.0,
            );
            let size = (face.bbox[2] - face.bbox[0]).max(face.bbox[3] - face.bbox[1]);
            let side = size * t.lm_scale;
            let mut region = Square {
                x0: cx - side / 2.0,
                y0: cy + t.lm_dy * size - side / 2.0,
                side,
            };
            let mut points = landmarks::locate(session, img, region)?;
            for _ in 1..landmark_passes {
                let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
                for p in &points {
                    x0 = x0.min(p[0]);
                    y0 = y0.min(p[1]);
                    x1 = x1.max(p[0]);
                    y1 = y1.max(p[1]);
                }
                let side = (x1 - x0).max(y1 - y0) * t.lm_scale2;
                region = Square {
                    x0: (x0 + x1) / 2.0 - side / 2.0,
                    y0: (y0 + y1) / 2.0 - side / 2.0,
                    side,
                };
                points = landmarks::locate(session, img, region)?;
            }
            let src = align::TEMPLATE_68_INDEX
                .iter()
                .map(|&i| points[i])
                .collect();
            return Ok((src, &align::TEMPLATE_68));
        }
        let points = if t.refine {
            self.refine(img, face)?
        } else {
            four(face)
        };
        Ok((points.to_vec(), &TEMPLATE_4))
    }

    /// Aligned chip of `face` as [`IdentityOptions::default`] aligns it.
    pub(crate) fn chip(&mut self, img: &RgbImage, face: &Detection) -> Result<Vec<f32>, FaceError> {
        let options = IdentityOptions::default();
        self.chip_with(img, face, options.landmark_passes, options.keypoints)
    }

    /// Aligned chip of `face` with `landmark_passes` landmark passes.
    pub(crate) fn chip_with(
        &mut self,
        img: &RgbImage,
        face: &Detection,
        landmark_passes: usize,
        keypoints: KeypointAlignment,
    ) -> Result<Vec<f32>, FaceError> {
        let (src, template) = self.alignment_points(img, face, landmark_passes, keypoints)?;
        align::chip(img, &src, template).ok_or(FaceError::NoFace)
    }

    /// The chip the rock matcher sees: the detector's four keypoints (eyes, nose tip, mouth
    /// centre) fitted to dlib's 4-point template, as in the reference recipe
    /// (face-models.md). The 68-point chip suits identity better but matched rocks worse
    /// (dev pairs, same rocks: median rank 370 against 343).
    pub(crate) fn appearance_chip(
        &mut self,
        img: &RgbImage,
        face: &Detection,
    ) -> Result<Vec<f32>, FaceError> {
        align::chip(img, &four(face), &TEMPLATE_4).ok_or(FaceError::NoFace)
    }

    /// Signature of a face: identity from the identity chip as [`IdentityOptions::default`]
    /// makes it (int8, with its mirror image), appearance from the float32 model's four human
    /// views of the appearance chip.
    pub(crate) fn signature(
        &mut self,
        chip: &[f32],
        appearance_chip: &[f32],
    ) -> Result<FaceSignature, FaceError> {
        let options = IdentityOptions::default();
        let identity = self
            .identities(&[chip], options.flip, options.precision)?
            .pop()
            .ok_or(FaceError::NoFace)?;
        let views: Vec<Zeroizing<Vec<f32>>> = embed::human_views(appearance_chip)
            .into_iter()
            .map(Zeroizing::new)
            .collect();
        let plain: Vec<&[f32]> = views.iter().map(|v| v.as_slice()).collect();
        let out = embed::run_slices(&mut self.embedder, &plain)?;
        // The views' own embeddings are not used, but they describe the face: wiped.
        drop(Zeroizing::new(out.embedding));
        let raw_appearance = Zeroizing::new(out.appearance);
        let appearance = embed::mean_of_normalised(&raw_appearance, APPEARANCE_DIM);
        Ok(FaceSignature {
            identity,
            appearance,
        })
    }

    /// Identity embeddings (L2-normalised) of aligned chips, in one batch.
    pub(crate) fn identities(
        &mut self,
        chips: &[impl AsRef<[f32]>],
        flip: bool,
        precision: Precision,
    ) -> Result<Vec<Vec<f32>>, FaceError> {
        let chips: Vec<&[f32]> = chips.iter().map(|c| c.as_ref()).collect();
        let session = match (precision, self.embedder_int8.as_mut()) {
            (Precision::Int8, Some(int8)) => int8,
            _ => &mut self.embedder,
        };
        let out = if flip {
            embed::run_batch(session, &embed::with_mirrors(&chips)?)?
        } else {
            embed::run_slices(session, &chips)?
        };
        let per = if flip { 2 } else { 1 };
        Ok(out
            .embedding
            .chunks_exact(IDENTITY_DIM * per)
            .map(|rows| embed::mean_of_normalised(rows, IDENTITY_DIM))
            .collect())
    }

    /// Rock appearance features of face crops: nine views each, averaged.
    pub(crate) fn rock_appearance(
        &mut self,
        crops: &[RgbImage],
    ) -> Result<Vec<Vec<f32>>, FaceError> {
        let mut result = Vec::with_capacity(crops.len());
        // Four crops (36 views) per run keeps the batch cache-friendly.
        for group in crops.chunks(4) {
            let views: Vec<Vec<f32>> = group.iter().flat_map(embed::rock_views).collect();
            let per = views.len() / group.len().max(1);
            let out = embed::run(&mut self.embedder, &views)?;
            for rows in out.appearance.chunks_exact(APPEARANCE_DIM * per) {
                result.push(embed::mean_of_normalised(rows, APPEARANCE_DIM));
            }
        }
        Ok(result)
    }

    /// Decodes a photo and finds its one usable face, timing both stages into `t`.
    fn single_face(
        &mut self,
        bytes: &[u8],
        limits: DecodeLimits,
        t: &mut StageTimings,
    ) -> Result<(Scrubbed, Detection), FaceError> {
        let start = Instant::now();
        let img = Scrubbed(decode::decode(bytes, limits)?);
        t.decode = start.elapsed();
        let start = Instant::now();
        let faces = self.find_faces(&img.0)?;
        let face = choose_single(&faces)?;
        t.detect = start.elapsed();
        Ok((img, face))
    }

    /// The face pipeline for one face: decode, detect (exactly one usable face), align and
    /// embed, with per-stage timings.
    pub(crate) fn identity(
        &mut self,
        bytes: &[u8],
        limits: DecodeLimits,
        options: IdentityOptions,
    ) -> (Result<Vec<f32>, FaceError>, StageTimings) {
        let mut t = StageTimings::default();
        let result = (|| {
            let (img, face) = self.single_face(bytes, limits, &mut t)?;
            let start = Instant::now();
            let chip = Zeroizing::new(self.chip_with(
                &img.0,
                &face,
                options.landmark_passes,
                options.keypoints,
            )?);
            t.align = start.elapsed();
            let start = Instant::now();
            let mut out = self.identities(&[chip.as_slice()], options.flip, options.precision)?;
            t.embed = start.elapsed();
            out.pop().ok_or(FaceError::NoFace)
        })();
        (result, t)
    }

    /// The whole selfie path, with per-stage timings.
    pub(crate) fn analyse(
        &mut self,
        bytes: &[u8],
        limits: DecodeLimits,
    ) -> (Result<FaceSignature, FaceError>, StageTimings) {
        let mut t = StageTimings::default();
        let result = (|| {
            let (img, face) = self.single_face(bytes, limits, &mut t)?;
            let start = Instant::now();
            let chip = Zeroizing::new(self.chip(&img.0, &face)?);
            let look = Zeroizing::new(self.appearance_chip(&img.0, &face)?);
            t.align = start.elapsed();
            let start = Instant::now();
            let sig = self.signature(&chip, &look)?;
            t.embed = start.elapsed();
            Ok(sig)
        })();
        (result, t)
    }
}

/// A decoded photo, wiped when dropped (it is a face picture).
struct Scrubbed(RgbImage);

impl Drop for Scrubbed {
    fn drop(&mut self) {
        let pixels: &mut [u8] = &mut self.0;
        pixels.zeroize();
    }
}

/// The photo and its successive 2x2-box halvings, made on demand.
struct Pyramid<'a> {
    base: &'a RgbImage,
    images: Vec<RgbImage>,
}

impl Drop for Pyramid<'_> {
    /// The levels are photo pixels: wiped, like every other copy of a photo.
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for image in &mut self.images {
            let raw: &mut [u8] = image;
            raw.zeroize();
        }
    }
}

impl<'a> Pyramid<'a> {
    fn new(base: &'a RgbImage) -> Self {
        Pyramid {
            base,
            images: Vec::new(),
        }
    }

    /// Level `k`: the photo halved `k` times (made already).
    fn level(&self, k: usize) -> &RgbImage {
        if k == 0 {
            self.base
        } else {
            &self.images[k - 1]
        }
    }

    /// The level to sample from when shrinking by `scale`, so that at most a 2x shrink
    /// is left, and its size factor (2^k).
    fn level_for(&mut self, scale: f32) -> (&RgbImage, f32) {
        let mut k = 0usize;
        while scale / (1u32 << k) as f32 > 2.0 && k < 8 {
            let below = self.level(k);
            if below.width() < 2 || below.height() < 2 {
                break;
            }
            if self.images.len() == k {
                let next = halve(below);
                self.images.push(next);
            }
            k += 1;
        }
        (self.level(k), (1u32 << k) as f32)
    }
}

/// Half width and height, each pixel the mean of a 2x2 block (a last odd row or column is
/// dropped, so level coordinates are exactly source coordinates / 2).
fn halve(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width() / 2, img.height() / 2);
    if w == 0 || h == 0 {
        return RgbImage::new(w, h);
    }
    let src = img.as_raw();
    let stride = img.width() as usize * 3;
    let mut out = vec![0u8; w as usize * h as usize * 3];
    for (y, row) in out.chunks_exact_mut(w as usize * 3).enumerate() {
        let r0 = &src[2 * y * stride..][..stride];
        let r1 = &src[(2 * y + 1) * stride..][..stride];
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            for (c, out) in px.iter_mut().enumerate() {
                let i = 6 * x + c;
                let sum = u16::from(r0[i])
                    + u16::from(r0[i + 3])
                    + u16::from(r1[i])
                    + u16::from(r1[i + 3]);
                *out = ((sum + 2) / 4) as u8;
            }
        }
    }
    RgbImage::from_raw(w, h, out).unwrap_or_else(|| RgbImage::new(0, 0))
}

/// Tile origins along one side. Tiles overlap by a quarter: a face up to a quarter of
/// the tile lies wholly inside one, and bigger ones are found at the level above.
fn positions(len: f32, tile: f32) -> Vec<f32> {
    if len <= tile {
        return vec![0.0];
    }
    let step = tile * 0.75;
    let n = ((len - tile) / step).ceil() as usize + 1;
    (0..n).map(|i| (i as f32 * step).min(len - tile)).collect()
}

fn four(d: &Detection) -> [[f32; 2]; 4] {
    [
        d.keypoints[0],
        d.keypoints[1],
        d.keypoints[2],
        d.keypoints[3],
    ]
}

/// Detections of several passes: overlapping ones merged (weighted), best first.
fn merge(found: Vec<Detection>) -> Vec<Detection> {
    let mut merged = detect::weighted_nms(found, 0.3);
    merged.sort_by(|a, b| b.score.total_cmp(&a.score));
    merged
}

/// Exactly one usable face, or the reason there is not.
pub(crate) fn choose_single(faces: &[Detection]) -> Result<Detection, FaceError> {
    let usable: Vec<&Detection> = faces.iter().filter(|d| d.score >= USABLE_SCORE).collect();
    let largest = usable
        .iter()
        .max_by(|a, b| detect::area(&a.bbox).total_cmp(&detect::area(&b.bbox)))
        .ok_or(FaceError::NoFace)?;
    let big = detect::area(&largest.bbox);
    // Another confident face nearly as big as the largest: whose selfie is it? (The
    // largest need not be confident itself for the other to count.)
    let rival = usable.iter().any(|d| {
        !std::ptr::eq(*d, *largest)
            && d.score >= RIVAL_SCORE
            && detect::area(&d.bbox) >= RIVAL_AREA * big
    });
    if rival {
        return Err(FaceError::MultipleFaces);
    }
    if detect::eye_distance(largest) < MIN_EYE_DISTANCE {
        return Err(FaceError::FaceTooSmall);
    }
    Ok((*largest).clone())
}

/// The face a dataset photo is about (LFW: the one nearest the centre among the larger ones).
pub(crate) fn choose_main(faces: &[Detection], w: u32, h: u32) -> Option<Detection> {
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let big = faces
        .iter()
        .map(|d| detect::area(&d.bbox))
        .fold(0.0f32, f32::max);
    faces
        .iter()
        .filter(|d| detect::area(&d.bbox) >= 0.25 * big)
        .min_by(|a, b| {
            let da = ((a.bbox[0] + a.bbox[2]) / 2.0 - cx).powi(2)
                + ((a.bbox[1] + a.bbox[3]) / 2.0 - cy).powi(2);
            let db = ((b.bbox[0] + b.bbox[2]) / 2.0 - cx).powi(2)
                + ((b.bbox[1] + b.bbox[3]) / 2.0 - cy).powi(2);
            da.total_cmp(&db)
        })
        .cloned()
}

/// Chip without detection: the centre of the photo at the mean face footprint (fallback
/// when no face is found in a dataset photo).
pub(crate) fn centre_chip(img: &RgbImage) -> Vec<f32> {
    // LFW-style framing: the face spans about 45 % of the frame around the centre.
    let (w, h) = (img.width() as f32, img.height() as f32);
    let side = w.min(h) * 0.5;
    let map = super::sampling::Affine::rect(
        (w - side) / 2.0,
        (h - side) / 2.0 + side * 0.03,
        side,
        side,
        align::CHIP,
        align::CHIP,
    );
    let chip = super::sampling::warp(
        img,
        map,
        align::CHIP,
        align::CHIP,
        super::sampling::Border::Replicate,
    );
    debug_assert_eq!(chip.len(), CHIP_LEN);
    chip
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halving_averages_2x2_blocks_and_drops_an_odd_edge() {
        let img = RgbImage::from_fn(5, 3, |x, y| {
            image::Rgb([(10 * x + y) as u8, 100, (x * y) as u8])
        });
        let half = halve(&img);
        assert_eq!(half.dimensions(), (2, 1));
        // Block x 2..4, y 0..2: red 20, 21, 30, 31 -> 25.5 rounds to 26; blue 0, 2, 0, 3 -> 1.25 -> 1.
        assert_eq!(half.get_pixel(1, 0).0, [26, 100, 1]);
    }

    /// A face with its box at (x, y), side `side`, eyes 40 px apart.
    fn face(x: f32, y: f32, side: f32, score: f32) -> Detection {
        let mut keypoints = [[0.0; 2]; 6];
        keypoints[0] = [x + 10.0, y + 20.0];
        keypoints[1] = [x + 50.0, y + 20.0];
        Detection {
            bbox: [x, y, x + side, y + side],
            score,
            keypoints,
        }
    }

    #[test]
    fn a_confident_face_beside_the_largest_makes_two_whatever_the_largest_scores() {
        // The larger face scores 0.70 (usable, not confident); the other, 0.95 at 0.8x area.
        let faces = [face(0.0, 0.0, 100.0, 0.70), face(300.0, 0.0, 90.0, 0.95)];
        assert!(matches!(
            choose_single(&faces),
            Err(FaceError::MultipleFaces)
        ));
        // A small or unsure second face does not count.
        let faces = [face(0.0, 0.0, 100.0, 0.70), face(300.0, 0.0, 50.0, 0.95)];
        assert!(choose_single(&faces).is_ok());
        let faces = [face(0.0, 0.0, 100.0, 0.90), face(300.0, 0.0, 90.0, 0.65)];
        assert!(choose_single(&faces).is_ok());
        let faces = [face(0.0, 0.0, 100.0, 0.90), face(300.0, 0.0, 90.0, 0.80)];
        assert!(matches!(
            choose_single(&faces),
            Err(FaceError::MultipleFaces)
        ));
    }

    #[test]
    fn merging_ends_even_with_boxes_that_have_no_area() {
        let mut flat = face(10.0, 10.0, 0.0, 0.9);
        flat.bbox[2] = 10.0;
        let found = vec![
            flat.clone(),
            face(0.0, 0.0, 100.0, 0.8),
            flat,
            face(5.0, 5.0, 100.0, 0.7),
        ];
        let merged = merge(found);
        assert_eq!(
            merged.len(),
            3,
            "two flat boxes, and the two real ones merged"
        );
    }

    #[test]
    fn pyramid_leaves_at_most_a_2x_shrink() {
        let img = RgbImage::new(4000, 3000);
        let mut pyramid = Pyramid::new(&img);
        for scale in [0.5f32, 2.0, 2.1, 3.9, 4.1, 11.7, 23.4] {
            let (level, factor) = pyramid.level_for(scale);
            assert!(scale / factor <= 2.0, "scale {scale}: factor {factor}");
            assert!(
                scale / factor > 1.0 || factor == 1.0,
                "no needless halving at {scale}"
            );
            assert_eq!(level.width(), 4000 / factor as u32);
        }
    }

    #[test]
    fn every_face_up_to_a_quarter_tile_lies_inside_one_tile() {
        for (len, tile) in [
            (4000.0f32, 1000.0f32),
            (6000.0, 750.0),
            (3000.0, 1500.0),
            (1000.0, 480.0),
        ] {
            let starts = positions(len, tile);
            assert_eq!(starts[0], 0.0);
            assert!(
                (starts[starts.len() - 1] + tile - len).abs() < 1e-3,
                "the last tile ends at the edge"
            );
            let face = tile / 4.0;
            let mut at = 0.0;
            while at + face <= len {
                assert!(
                    starts.iter().any(|&s| s <= at && at + face <= s + tile),
                    "a face at {at} of {len} (tile {tile}) is cut by every tile"
                );
                at += 7.0;
            }
        }
    }
}
