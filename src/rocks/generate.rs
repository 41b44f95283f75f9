//! Procedural face-like rocks ("jinmenseki"): the built-in gallery a fresh install
//! renders, because the real museum photos cannot ship with the product.
//!
//! Everything is a pure function of `(seed, index)`: rock parameters come from a
//! splitmix64 stream, textures from hashed gradient noise, and only IEEE add, mul,
//! div, floor and sqrt are used, so the pixels are identical on every machine.
//! Geometry lives in *frame units*: the photo is the square [0, 1] x [0, 1], with
//! y pointing down. The face crop is the same scene rendered again over a smaller
//! square, so it is sharp at any photo size.
use image::{Rgb, RgbImage};

mod names;
mod noise;

use names::Mood;
use noise::{
    clamp01, cos_sin_small, fbm, floor, hash3, hash_unit, perlin, smoothstep, wave, SplitMix64,
};

/// Side of [`RenderedRock::face`] in pixels.
pub const FACE_SIZE: u32 = 256;

/// One generated rock.
pub struct RenderedRock {
    /// `size` x `size` museum-style photo: the rock on a wooden stand.
    pub photo: RgbImage,
    /// [`FACE_SIZE`] square crop around the eyes, nose and mouth (for embedding).
    pub face: RgbImage,
    /// Whimsical, deterministic name.
    pub name: String,
}

/// Where a rock's face features are, in photo pixels (for cropping and tests).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceLayout {
    /// Eye-pit centres, the left one in the image first.
    pub eyes: [(f32, f32); 2],
    /// Smaller semi-axis of each eye pit (slit eyes are much wider than tall).
    pub eye_radius: [f32; 2],
    /// Larger semi-axis of each eye pit.
    pub eye_extent: [f32; 2],
    /// Centre of the mouth.
    pub mouth: (f32, f32),
    /// The face crop: left, top, side. May reach past the photo's edges.
    pub face_box: (f32, f32, f32),
}

impl FaceLayout {
    /// Maps a photo pixel position to the matching position in the face crop.
    pub fn photo_to_face(&self, p: (f32, f32)) -> (f32, f32) {
        let (x0, y0, side) = self.face_box;
        let k = FACE_SIZE as f32 / side;
        ((p.0 - x0) * k, (p.1 - y0) * k)
    }
}

/// Renders rock `index` of the gallery `seed` with a `size` x `size` photo.
pub fn render_rock(seed: u64, index: u32, size: u32) -> RenderedRock {
    let rock = Rock::new(seed, index);
    let size = size.max(1);
    let photo = render_region(&rock, 0.0, 0.0, 1.0, size);
    let (fx, fy, fside) = rock.face_box();
    let face = render_region(&rock, fx, fy, fside, FACE_SIZE);
    RenderedRock {
        photo,
        face,
        name: rock.name.clone(),
    }
}

/// The face layout of the rock [`render_rock`] draws for the same arguments.
pub fn face_layout(seed: u64, index: u32, size: u32) -> FaceLayout {
    let rock = Rock::new(seed, index);
    let s = size.max(1) as f32;
    let px = |p: (f32, f32)| (p.0 * s, p.1 * s);
    let eye = |e: &Eye| px(rock.face_to_frame(e.x, e.y));
    let (fx, fy, fside) = rock.face_box();
    FaceLayout {
        eyes: [eye(&rock.eyes[0]), eye(&rock.eyes[1])],
        eye_radius: [
            rock.eyes[0].rx.min(rock.eyes[0].ry) * rock.unit * s,
            rock.eyes[1].rx.min(rock.eyes[1].ry) * rock.unit * s,
        ],
        eye_extent: [
            rock.eyes[0].rx.max(rock.eyes[0].ry) * rock.unit * s,
            rock.eyes[1].rx.max(rock.eyes[1].ry) * rock.unit * s,
        ],
        mouth: px(rock.face_to_frame(rock.mouth.x, rock.mouth.y)),
        face_box: (fx * s, fy * s, fside * s),
    }
}

/// A grid of the first `count` rocks' photos, `tile` pixels each, about 4:3.
pub fn contact_sheet(seed: u64, count: u32, tile: u32) -> RgbImage {
    const GAP: u32 = 4;
    let count = count.max(1);
    let tile = tile.max(1);
    let mut cols = 1;
    while cols * cols * 3 < count * 4 {
        cols += 1;
    }
    let rows = count.div_ceil(cols);
    let mut sheet = RgbImage::from_pixel(
        cols * (tile + GAP) + GAP,
        rows * (tile + GAP) + GAP,
        Rgb([12, 12, 14]),
    );
    for i in 0..count {
        let rock = Rock::new(seed, i);
        let photo = render_region(&rock, 0.0, 0.0, 1.0, tile);
        let x = GAP + (i % cols) * (tile + GAP);
        let y = GAP + (i / cols) * (tile + GAP);
        image::imageops::replace(&mut sheet, &photo, i64::from(x), i64::from(y));
    }
    sheet
}

// ---------------------------------------------------------------------------
// Parameters

/// A kind of stone: colours and surface character.
#[derive(Clone, Copy)]
struct Stone {
    name: &'static str,
    base: [f32; 3],
    alt: [f32; 3],
    speck_dark: [f32; 3],
    speck_light: [f32; 3],
    /// Fraction of speckle cells that hold a grain.
    specks: f32,
    /// Strength of sedimentary banding.
    strata: f32,
    vein: [f32; 3],
    veins: f32,
    /// Specular strength (polished jade vs. dull tuff).
    gloss: f32,
    /// Density of small pores (vesicles) in the surface.
    pores: f32,
    /// Large-scale relief amplitude.
    lumpy: f32,
}

#[rustfmt::skip]
const STONES: &[(f32, Stone)] = &[
    (5.0, Stone { name: "Granite", base: [0.55, 0.55, 0.53], alt: [0.45, 0.45, 0.44], speck_dark: [0.13, 0.13, 0.14], speck_light: [0.86, 0.85, 0.82], specks: 0.45, strata: 0.0, vein: [0.85, 0.85, 0.82], veins: 0.15, gloss: 0.05, pores: 0.15, lumpy: 0.9 }),
    (4.0, Stone { name: "Tuff", base: [0.66, 0.64, 0.58], alt: [0.55, 0.53, 0.48], speck_dark: [0.30, 0.28, 0.25], speck_light: [0.82, 0.80, 0.74], specks: 0.25, strata: 0.0, vein: [0.80, 0.78, 0.72], veins: 0.0, gloss: 0.0, pores: 0.85, lumpy: 1.1 }),
    (3.0, Stone { name: "Sandstone", base: [0.72, 0.58, 0.41], alt: [0.60, 0.46, 0.31], speck_dark: [0.42, 0.32, 0.22], speck_light: [0.86, 0.78, 0.62], specks: 0.3, strata: 0.6, vein: [0.85, 0.75, 0.58], veins: 0.0, gloss: 0.0, pores: 0.3, lumpy: 0.8 }),
    (3.0, Stone { name: "Greywacke", base: [0.46, 0.46, 0.42], alt: [0.38, 0.39, 0.35], speck_dark: [0.20, 0.20, 0.18], speck_light: [0.70, 0.70, 0.66], specks: 0.3, strata: 0.0, vein: [0.90, 0.89, 0.86], veins: 0.7, gloss: 0.08, pores: 0.2, lumpy: 0.7 }),
    (2.0, Stone { name: "Basalt", base: [0.27, 0.27, 0.28], alt: [0.2, 0.2, 0.21], speck_dark: [0.08, 0.08, 0.09], speck_light: [0.50, 0.50, 0.50], specks: 0.2, strata: 0.0, vein: [0.55, 0.55, 0.55], veins: 0.1, gloss: 0.18, pores: 0.55, lumpy: 0.8 }),
    (2.0, Stone { name: "Slate", base: [0.38, 0.39, 0.41], alt: [0.30, 0.31, 0.33], speck_dark: [0.18, 0.20, 0.22], speck_light: [0.55, 0.58, 0.60], specks: 0.1, strata: 0.45, vein: [0.70, 0.72, 0.74], veins: 0.2, gloss: 0.12, pores: 0.05, lumpy: 0.5 }),
    (1.2, Stone { name: "Jade", base: [0.30, 0.50, 0.37], alt: [0.19, 0.37, 0.27], speck_dark: [0.10, 0.22, 0.15], speck_light: [0.60, 0.76, 0.62], specks: 0.08, strata: 0.0, vein: [0.72, 0.84, 0.72], veins: 0.55, gloss: 0.65, pores: 0.0, lumpy: 0.4 }),
    (1.2, Stone { name: "Jasper", base: [0.54, 0.27, 0.2], alt: [0.42, 0.19, 0.15], speck_dark: [0.25, 0.08, 0.06], speck_light: [0.78, 0.55, 0.45], specks: 0.12, strata: 0.2, vein: [0.82, 0.72, 0.62], veins: 0.6, gloss: 0.35, pores: 0.05, lumpy: 0.5 }),
    (1.2, Stone { name: "Quartz", base: [0.86, 0.85, 0.82], alt: [0.76, 0.75, 0.73], speck_dark: [0.55, 0.54, 0.52], speck_light: [0.96, 0.96, 0.95], specks: 0.15, strata: 0.0, vein: [0.58, 0.58, 0.60], veins: 0.35, gloss: 0.3, pores: 0.1, lumpy: 0.6 }),
    (1.5, Stone { name: "Porphyry", base: [0.38, 0.28, 0.30], alt: [0.30, 0.21, 0.23], speck_dark: [0.15, 0.10, 0.11], speck_light: [0.78, 0.74, 0.70], specks: 0.35, strata: 0.0, vein: [0.80, 0.78, 0.75], veins: 0.2, gloss: 0.1, pores: 0.1, lumpy: 0.7 }),
    (1.5, Stone { name: "Ironstone", base: [0.50, 0.36, 0.24], alt: [0.38, 0.26, 0.17], speck_dark: [0.22, 0.14, 0.09], speck_light: [0.70, 0.58, 0.44], specks: 0.25, strata: 0.3, vein: [0.75, 0.62, 0.45], veins: 0.1, gloss: 0.05, pores: 0.4, lumpy: 1.0 }),
];

#[derive(Clone, Copy)]
enum Backdrop {
    Navy,
    Charcoal,
    Black,
    Beige,
}

/// An eye hollow, in face units.
#[derive(Clone, Copy)]
struct Eye {
    x: f32,
    y: f32,
    rx: f32,
    ry: f32,
    cos: f32,
    sin: f32,
    depth: f32,
}

#[derive(Clone, Copy)]
struct Nose {
    x: f32,
    top: f32,
    len: f32,
    width: f32,
    height: f32,
}

#[derive(Clone, Copy)]
struct Brow {
    x: f32,
    y: f32,
    half_len: f32,
    slant: f32,
    thick: f32,
    /// Positive: a ridge; negative: a groove.
    height: f32,
}

#[derive(Clone, Copy)]
struct MouthShape {
    x: f32,
    y: f32,
    half_width: f32,
    /// > 0 corners up (smile), < 0 corners down (frown).
    curve: f32,
    /// S-shaped wobble.
    wobble: f32,
    thick: f32,
    depth: f32,
    /// Some((rx, ry)) for an open "O" mouth instead of a groove.
    open: Option<(f32, f32)>,
}

/// A two-tier turned wooden stand, seen slightly from above.
#[derive(Clone, Copy)]
struct Plinth {
    cx: f32,
    top: f32,
    half_width: f32,
    /// Half-height of the top ellipse (perspective).
    ellipse: f32,
    height: f32,
    foot_half_width: f32,
    foot_height: f32,
    wood: [f32; 3],
}

/// Everything that defines one rock scene.
struct Rock {
    name: String,
    seed: u32,
    cx: f32,
    cy: f32,
    rx: f32,
    ry: f32,
    cos_t: f32,
    sin_t: f32,
    square: f32,
    egg: f32,
    wobble: f32,
    wobble_freq: f32,
    /// Two- and three-fold lobes: (amplitude, cos phase, sin phase).
    lobes: [(f32, f32, f32); 2],
    /// Outline radius multiplier sampled over the diamond angle (see `diamond_angle`).
    outline_table: Vec<f32>,
    /// Exponent of the dome profile: 2 is a half-sphere, 4 a flatter face.
    dome_power: u32,
    bump_amp: f32,
    bump_freq: f32,
    /// Face origin relative to the rock centre (rotated frame, frame units).
    fox: f32,
    foy: f32,
    /// Frame units per face unit.
    unit: f32,
    eyes: [Eye; 2],
    nose: Option<Nose>,
    brows: Option<[Brow; 2]>,
    mouth: MouthShape,
    stone: Stone,
    tint: [f32; 3],
    tex_scale: f32,
    tex_off: (f32, f32),
    strata_dir: (f32, f32),
    strata_freq: f32,
    speck_freq: f32,
    pore_freq: f32,
    backdrop: Backdrop,
    cloth: [f32; 3],
    plinth: Plinth,
}

/// Samples in the outline table (over the full turn).
const OUTLINE_SAMPLES: usize = 1024;

/// A monotonic stand-in for the angle of (x, y), in [0, 4): each quadrant maps
/// linearly along the diamond |x| + |y| = 1. Needs no trig, so it is exact everywhere.
#[inline]
fn diamond_angle(x: f32, y: f32) -> f32 {
    if y >= 0.0 {
        if x >= 0.0 {
            y / (x + y)
        } else {
            1.0 - x / (y - x)
        }
    } else if x < 0.0 {
        2.0 - y / (-x - y)
    } else {
        3.0 + x / (x - y)
    }
}

/// The unit vector whose [`diamond_angle`] is `t`.
fn diamond_direction(t: f32) -> (f32, f32) {
    let q = floor(t);
    let f = t - q;
    let (x, y) = match (q as i32).rem_euclid(4) {
        0 => (1.0 - f, f),
        1 => (-f, 1.0 - f),
        2 => (f - 1.0, -f),
        _ => (f, f - 1.0),
    };
    let len = (x * x + y * y).sqrt();
    (x / len, y / len)
}

/// A uniformly random unit vector, by rejection (no trig).
fn random_direction(rng: &mut SplitMix64) -> (f32, f32) {
    loop {
        let x = rng.range(-1.0, 1.0);
        let y = rng.range(-1.0, 1.0);
        let r2 = x * x + y * y;
        if r2 > 0.01 && r2 <= 1.0 {
            let r = r2.sqrt();
            return (x / r, y / r);
        }
    }
}

impl Rock {
    fn new(seed: u64, index: u32) -> Rock {
        let mut rng = SplitMix64::new(seed ^ u64::from(index).wrapping_mul(0xD6E8_FEB8_6659_FD93));
        // Burn a few values so neighbouring indices decorrelate fully.
        rng.next_u64();
        let nseed = rng.next_u32();

        let weights: Vec<f32> = STONES.iter().map(|(w, _)| *w).collect();
        let stone = STONES[rng.weighted(&weights)].1;
        let bright = rng.range(0.88, 1.12);
        let tint = [
            bright * rng.range(0.96, 1.04),
            bright * rng.range(0.96, 1.04),
            bright * rng.range(0.96, 1.04),
        ];

        // Silhouette.
        let ry = rng.range(0.25, 0.335);
        let aspect = if rng.chance(0.6) {
            rng.range(0.68, 0.95)
        } else {
            rng.range(0.95, 1.22)
        };
        let rx = (ry * aspect).min(0.4);
        let (cos_t, sin_t) = cos_sin_small(rng.range(-0.16, 0.16));
        let square = if rng.chance(0.5) {
            rng.range(0.0, 0.15)
        } else {
            0.0
        };
        let egg = rng.range(-0.14, 0.14);
        let wobble = rng.range(0.03, 0.09);
        let wobble_freq = rng.range(1.0, 2.4);
        let mut lobe = |max: f32| {
            let (c, s) = random_direction(&mut rng);
            (rng.range(0.0, max), c, s)
        };
        let lobes = [lobe(0.09), lobe(0.06)];
        let dome_power = [2, 3, 3, 4][rng.below(4)];
        let bump_amp = rng.range(0.05, 0.12) * stone.lumpy;
        let bump_freq = rng.range(3.0, 6.0);

        // Stand and backdrop.
        let backdrop = match rng.weighted(&[4.0, 2.0, 1.5, 1.5]) {
            0 => Backdrop::Navy,
            1 => Backdrop::Charcoal,
            2 => Backdrop::Black,
            _ => Backdrop::Beige,
        };
        let cloth = match backdrop {
            Backdrop::Navy => [
                rng.range(0.07, 0.11),
                rng.range(0.10, 0.14),
                rng.range(0.22, 0.30),
            ],
            Backdrop::Charcoal => {
                let g = rng.range(0.13, 0.20);
                [g, g, g * 1.05]
            }
            Backdrop::Black => {
                let g = rng.range(0.04, 0.07);
                [g, g, g]
            }
            Backdrop::Beige => {
                let g = rng.range(0.62, 0.74);
                [g, g * 0.95, g * 0.86]
            }
        };
        // Pale pine, honey, or reddish cherry.
        let wood_l = rng.range(0.6, 0.86);
        let wood = match rng.weighted(&[3.0, 2.0, 1.0]) {
            0 => [
                wood_l,
                wood_l * rng.range(0.74, 0.8),
                wood_l * rng.range(0.52, 0.6),
            ],
            1 => [
                wood_l,
                wood_l * rng.range(0.66, 0.72),
                wood_l * rng.range(0.4, 0.48),
            ],
            _ => [
                wood_l * 0.72,
                wood_l * 0.72 * rng.range(0.56, 0.62),
                wood_l * 0.72 * rng.range(0.36, 0.42),
            ],
        };
        let half_width = rx * rng.range(0.6, 0.85);
        let plinth = Plinth {
            cx: 0.5,
            top: rng.range(0.79, 0.83),
            half_width,
            ellipse: half_width * rng.range(0.18, 0.26),
            height: rng.range(0.06, 0.10),
            foot_half_width: half_width * rng.range(1.1, 1.3),
            foot_height: rng.range(0.05, 0.08),
            wood,
        };

        let mut rock = Rock {
            name: String::new(),
            seed: nseed,
            cx: 0.5 + rng.range(-0.02, 0.02),
            cy: 0.0,
            rx,
            ry,
            cos_t,
            sin_t,
            square,
            egg,
            wobble,
            wobble_freq,
            lobes,
            outline_table: Vec::new(),
            dome_power,
            bump_amp,
            bump_freq,
            fox: 0.0,
            foy: 0.0,
            unit: 0.5 * (rx + ry),
            eyes: [Eye {
                x: 0.0,
                y: 0.0,
                rx: 0.1,
                ry: 0.1,
                cos: 1.0,
                sin: 0.0,
                depth: 0.1,
            }; 2],
            nose: None,
            brows: None,
            mouth: MouthShape {
                x: 0.0,
                y: 0.3,
                half_width: 0.2,
                curve: 0.0,
                wobble: 0.0,
                thick: 0.03,
                depth: 0.05,
                open: None,
            },
            stone,
            tint,
            tex_scale: rng.range(0.8, 1.3),
            tex_off: (rng.range(0.0, 50.0), rng.range(0.0, 50.0)),
            strata_dir: cos_sin_small(rng.range(-0.5, 0.5)),
            strata_freq: rng.range(14.0, 30.0),
            speck_freq: rng.range(150.0, 260.0),
            pore_freq: rng.range(35.0, 70.0),
            backdrop,
            cloth,
            plinth,
        };
        rock.outline_table = (0..=OUTLINE_SAMPLES)
            .map(|k| {
                let (ux, uy) = diamond_direction(4.0 * k as f32 / OUTLINE_SAMPLES as f32);
                rock.outline_exact(ux, uy)
            })
            .collect();
        // Seat the rock in the stand: its lowest point dips just behind the front rim.
        let down = rock.boundary_distance(0.0, 1.0);
        rock.cy = plinth.top + plinth.ellipse * 0.35 - down;

        // Face: eyes, nose, mouth, brows in face units (unit = mean rock radius).
        rock.fox = rng.range(-0.07, 0.07) * rx;
        rock.foy = rng.range(-0.04, 0.08) * ry;
        let eye_spread = rng.range(0.2, 0.34);
        let eye_y = rng.range(-0.32, -0.14);
        let eye_kind = rng.weighted(&[4.5, 4.0, 1.5]);
        let mut eyes = [rock.eyes[0]; 2];
        let tilt = rng.range(-0.35, 0.35);
        let base_r = rng.range(0.06, 0.12);
        for (i, eye) in eyes.iter_mut().enumerate() {
            let side = if i == 0 { -1.0 } else { 1.0 };
            let asym = rng.range(0.8, 1.2);
            let (erx, ery) = match eye_kind {
                0 => (base_r * asym, base_r * asym * rng.range(0.85, 1.15)),
                1 => {
                    let w = rng.range(0.1, 0.17) * asym;
                    (w, w * rng.range(0.22, 0.4))
                }
                _ => {
                    let w = base_r * asym;
                    (w, w * rng.range(1.2, 1.5))
                }
            };
            let (c, s) = cos_sin_small(side * tilt + rng.range(-0.08, 0.08));
            let depth = erx.min(ery) * rng.range(0.9, 1.5) + 0.02;
            *eye = Eye {
                x: side * eye_spread * rng.range(0.92, 1.08),
                y: eye_y + rng.range(-0.035, 0.035),
                rx: erx,
                ry: ery,
                cos: c,
                sin: s,
                depth,
            };
        }
        rock.eyes = eyes;

        let mood_kind = rng.weighted(&[2.8, 2.0, 2.0, 2.0, 1.2]);
        let mouth_y = rng.range(0.26, 0.44);
        let half_width = rng.range(0.13, 0.3);
        let mut mouth = MouthShape {
            x: rng.range(-0.04, 0.04),
            y: mouth_y,
            half_width,
            curve: 0.0,
            wobble: 0.0,
            thick: rng.range(0.026, 0.05),
            depth: rng.range(0.05, 0.09),
            open: None,
        };
        let mood = match mood_kind {
            0 => {
                mouth.curve = rng.range(0.15, 0.45);
                Mood::Happy
            }
            1 => {
                mouth.curve = -rng.range(0.12, 0.4);
                Mood::Grumpy
            }
            2 => {
                let orx = rng.range(0.06, 0.14);
                mouth.open = Some((orx, orx * rng.range(0.6, 1.4)));
                mouth.depth = rng.range(0.12, 0.2);
                Mood::Surprised
            }
            3 => {
                mouth.curve = rng.range(-0.05, 0.05);
                Mood::Calm
            }
            _ => {
                mouth.curve = rng.range(-0.08, 0.08);
                mouth.wobble = rng.range(0.1, 0.22) * if rng.chance(0.5) { 1.0 } else { -1.0 };
                Mood::Puzzled
            }
        };
        rock.mouth = mouth;

        if rng.chance(0.6) {
            let top = eye_y + 0.04;
            rock.nose = Some(Nose {
                x: rng.range(-0.03, 0.03),
                top,
                len: (mouth_y - top) * rng.range(0.55, 0.8),
                width: rng.range(0.06, 0.12),
                height: rng.range(0.05, 0.1),
            });
        }
        if rng.chance(0.35) {
            let slant = rng.range(-0.35, 0.35);
            let ridge = if rng.chance(0.5) { 1.0 } else { -0.7 };
            let half_len = rng.range(0.09, 0.15);
            let thick = rng.range(0.022, 0.035);
            let height = rng.range(0.03, 0.05) * ridge;
            let gap = rng.range(0.05, 0.09);
            let brow = |e: &Eye, side: f32| Brow {
                x: e.x,
                y: e.y - e.ry - gap,
                half_len,
                slant: slant * side,
                thick,
                height,
            };
            rock.brows = Some([brow(&eyes[0], -1.0), brow(&eyes[1], 1.0)]);
        }

        rock.name = names::rock_name(&mut rng, mood, stone.name);
        rock
    }

    /// Rotates a frame offset from the rock centre into the rock's own frame.
    #[inline]
    fn to_local(&self, x: f32, y: f32) -> (f32, f32) {
        let dx = x - self.cx;
        let dy = y - self.cy;
        (
            self.cos_t * dx + self.sin_t * dy,
            -self.sin_t * dx + self.cos_t * dy,
        )
    }

    /// Face units to frame coordinates.
    fn face_to_frame(&self, fx: f32, fy: f32) -> (f32, f32) {
        let lx = self.fox + fx * self.unit;
        let ly = self.foy + fy * self.unit;
        (
            self.cx + self.cos_t * lx - self.sin_t * ly,
            self.cy + self.sin_t * lx + self.cos_t * ly,
        )
    }

    /// The outline's radius multiplier along the unit direction (ux, uy) of the
    /// normalised ellipse: squarish corners, egg taper, lobes and fbm wobble.
    fn outline_exact(&self, ux: f32, uy: f32) -> f32 {
        let mut r = 1.0 + self.square * 4.0 * ux * ux * uy * uy;
        r *= 1.0 + self.egg * uy;
        // cos(2a), sin(2a), cos(3a), sin(3a) from the direction, no trig needed.
        let (c2, s2) = (ux * ux - uy * uy, 2.0 * ux * uy);
        let (c3, s3) = (4.0 * ux * ux * ux - 3.0 * ux, 3.0 * uy - 4.0 * uy * uy * uy);
        let [(a2, p2c, p2s), (a3, p3c, p3s)] = self.lobes;
        r *= 1.0 + a2 * (c2 * p2c + s2 * p2s) + a3 * (c3 * p3c + s3 * p3s);
        let f = self.wobble_freq;
        r *= 1.0 + self.wobble * fbm(ux * f + 3.1, uy * f - 7.7, 5, self.seed ^ 0x51ED);
        r
    }

    /// Table lookup of [`Rock::outline_exact`] along (qx, qy) (any length > 0).
    #[inline]
    fn outline(&self, qx: f32, qy: f32) -> f32 {
        let t = diamond_angle(qx, qy) * (OUTLINE_SAMPLES as f32 / 4.0);
        let i = (t as usize).min(OUTLINE_SAMPLES - 1);
        let f = t - i as f32;
        self.outline_table[i] + (self.outline_table[i + 1] - self.outline_table[i]) * f
    }

    /// Normalised distance (< 1 inside) and the frame distance from the centre to
    /// the outline along this ray (for anti-aliasing).
    #[inline]
    fn shape(&self, lx: f32, ly: f32) -> (f32, f32) {
        let qx = lx / self.rx;
        let qy = ly / self.ry;
        let len = (qx * qx + qy * qy).sqrt();
        if len < 1e-6 {
            return (0.0, self.rx.min(self.ry));
        }
        let ux = qx / len;
        let uy = qy / len;
        let r = self.outline(qx, qy);
        let ray = r * ((ux * self.rx) * (ux * self.rx) + (uy * self.ry) * (uy * self.ry)).sqrt();
        (len / r, ray)
    }

    /// Distance from the centre to the outline along a rock-frame direction.
    fn boundary_distance(&self, dx: f32, dy: f32) -> f32 {
        let lx = self.cos_t * dx + self.sin_t * dy;
        let ly = -self.sin_t * dx + self.cos_t * dy;
        let (_, ray) = self.shape(lx * 1e-3, ly * 1e-3);
        ray
    }

    /// Height (frame units) and cavity (0..1, how deep in a face hollow) at a
    /// rock-frame point with normalised distance `d`.
    fn height(&self, lx: f32, ly: f32, d: f32) -> (f32, f32) {
        let mut dp = d * d;
        for _ in 2..self.dome_power {
            dp *= d;
        }
        let dome = (1.0 - dp).max(0.0).sqrt();
        let mean_r = 0.5 * (self.rx + self.ry);
        let mut h = mean_r * 0.5 * dome;
        let edge = smoothstep(0.0, 0.35, dome);
        let bx = lx * self.bump_freq + self.tex_off.0;
        let by = ly * self.bump_freq + self.tex_off.1;
        h += mean_r * self.bump_amp * fbm(bx, by, 4, self.seed ^ 0xB0B) * edge;
        // Fine grit so the surface never looks like plastic.
        h += mean_r * 0.004 * perlin(lx * 90.0, ly * 90.0, self.seed ^ 0x6A1) * edge;

        // Pores: at most one small round pit per cell.
        if self.stone.pores > 0.0 {
            let px = lx * self.pore_freq + 100.0;
            let py = ly * self.pore_freq + 100.0;
            let (cx, cy) = (floor(px), floor(py));
            let hsh = hash3(cx as i32, cy as i32, self.seed ^ 0x9035);
            if hash_unit(hsh) < self.stone.pores * 0.35 {
                let r = 0.12 + 0.28 * hash_unit(hsh.rotate_left(11));
                let ox = cx + 0.5 + (hash_unit(hsh.rotate_left(5)) - 0.5) * (1.0 - 2.0 * r);
                let oy = cy + 0.5 + (hash_unit(hsh.rotate_left(19)) - 0.5) * (1.0 - 2.0 * r);
                let dd = ((px - ox) * (px - ox) + (py - oy) * (py - oy)) / (r * r);
                if dd < 1.0 {
                    let p = 1.0 - dd;
                    h -= p * p * r * 0.9 / self.pore_freq * edge;
                }
            }
        }

        // Face features.
        let fx = (lx - self.fox) / self.unit;
        let fy = (ly - self.foy) / self.unit;
        let mut cav: f32 = 0.0;
        let mut dh = 0.0;
        if fx.abs() > 0.75 || !(-0.75..0.8).contains(&fy) {
            return (h, cav);
        }
        // Ragged feature edges: weathered hollows are never perfect ellipses.
        let rag = 1.0 + 0.6 * perlin(fx * 9.0 + 40.0, fy * 9.0 + 40.0, self.seed ^ 0xFACE);
        for e in &self.eyes {
            let ex = fx - e.x;
            let ey = fy - e.y;
            let u = (e.cos * ex + e.sin * ey) / e.rx;
            let v = (-e.sin * ex + e.cos * ey) / e.ry;
            let r2 = (u * u + v * v) * rag;
            if r2 < 1.0 {
                let p = 1.0 - r2;
                let p = p * p * (2.0 - p);
                dh -= e.depth * p;
                cav = cav.max(p);
            }
        }
        let m = &self.mouth;
        if let Some((orx, ory)) = m.open {
            let u = (fx - m.x) / orx;
            let v = (fy - m.y) / ory;
            let r2 = (u * u + v * v) * rag;
            if r2 < 1.0 {
                let p = 1.0 - r2;
                let p = p * p * (2.0 - p);
                dh -= m.depth * p;
                cav = cav.max(p);
            }
        } else {
            let t = (fx - m.x) / m.half_width;
            if t.abs() < 1.0 {
                let yc = m.y - m.curve * m.half_width * t * t
                    + m.wobble * m.half_width * (t * t * t - t);
                let slope = -2.0 * m.curve * t + m.wobble * (3.0 * t * t - 1.0);
                let dist = (fy - yc).abs() / (1.0 + slope * slope).sqrt() * rag;
                let t2 = t * t;
                let taper = 1.0 - t2 * t2;
                let hw = m.thick * (1.0 - 0.5 * t2);
                if dist < hw {
                    let q = dist / hw;
                    let p = (1.0 - q * q) * (1.0 - q * q) * taper;
                    dh -= m.depth * p;
                    cav = cav.max(p);
                }
            }
        }
        if let Some(n) = &self.nose {
            let a = (fy - n.top) / n.len;
            if (0.0..1.0).contains(&a) {
                let w = n.width * (0.45 + 0.65 * a);
                let xr = (fx - n.x) / w;
                if xr.abs() < 1.0 {
                    let env = smoothstep(0.0, 0.7, a) * smoothstep(1.0, 0.82, a);
                    let p = 1.0 - xr * xr;
                    dh += n.height * p * p * env;
                }
            }
        }
        if let Some(brows) = &self.brows {
            for b in brows {
                let t = (fx - b.x) / b.half_len;
                if t.abs() < 1.0 {
                    let yc = b.y + b.slant * t * b.half_len;
                    let q = (fy - yc) / b.thick;
                    if q.abs() < 1.0 {
                        let p = (1.0 - q * q) * (1.0 - q * q) * (1.0 - t * t);
                        dh += b.height * p;
                        if b.height < 0.0 {
                            cav = cav.max(p * 0.5);
                        }
                    }
                }
            }
        }
        h += dh * self.unit * edge;
        (h, cav * edge)
    }

    /// Surface colour (linear-ish 0..1) before lighting.
    fn albedo(&self, lx: f32, ly: f32, cav: f32) -> [f32; 3] {
        let s = &self.stone;
        let tx = lx * self.tex_scale + self.tex_off.0;
        let ty = ly * self.tex_scale + self.tex_off.1;
        let m = clamp01(0.5 + 1.4 * fbm(tx * 4.0, ty * 4.0, 2, self.seed ^ 0xA1));
        let mut c = mix(s.alt, s.base, m);
        let mottle = 1.0 + 0.3 * perlin(tx * 14.0, ty * 14.0, self.seed ^ 0xA2);
        if s.strata > 0.0 {
            let along = ly * self.strata_dir.0 + lx * self.strata_dir.1;
            let warp = fbm(tx * 3.0, ty * 3.0, 2, self.seed ^ 0xA3);
            let band = wave(along * self.strata_freq + warp * 2.5);
            let k = s.strata * (band - 0.5) * 0.25;
            for ch in &mut c {
                *ch *= 1.0 + k;
            }
        }
        if s.veins > 0.0 {
            let n = perlin(tx * 2.3, ty * 2.3, self.seed ^ 0xA4)
                + 0.25 * perlin(tx * 9.0, ty * 9.0, self.seed ^ 0xA5);
            let line = clamp01(1.0 - n.abs() / 0.035);
            let line = line * line * s.veins;
            c = mix(c, s.vein, line);
        }
        if s.specks > 0.0 {
            let px = lx * self.speck_freq + 500.0;
            let py = ly * self.speck_freq + 500.0;
            let (cx, cy) = (floor(px), floor(py));
            let hsh = hash3(cx as i32, cy as i32, self.seed ^ 0x5EC);
            if hash_unit(hsh) < s.specks {
                let ox = cx + 0.3 + 0.4 * hash_unit(hsh.rotate_left(7));
                let oy = cy + 0.3 + 0.4 * hash_unit(hsh.rotate_left(17));
                let r = 0.18 + 0.22 * hash_unit(hsh.rotate_left(27));
                // Grains are irregular: squash each along a hashed axis.
                let (gx, gy) = (px - ox, py - oy);
                let squash = 0.5 + hash_unit(hsh.rotate_left(3));
                let dd = (gx * gx * squash + gy * gy / squash) / (r * r);
                let cover = smoothstep(1.0, 0.0, dd);
                let speck = if hsh & 1 == 0 {
                    s.speck_dark
                } else {
                    s.speck_light
                };
                c = mix(c, speck, cover * 0.55);
            }
        }
        // Grime collects in the hollows, which is what makes the face read.
        let grime = 1.0 - 0.7 * cav;
        [
            c[0] * mottle * grime * self.tint[0],
            c[1] * mottle * grime * self.tint[1],
            c[2] * mottle * grime * self.tint[2],
        ]
    }

    /// The face crop in frame units: left, top, side.
    fn face_box(&self) -> (f32, f32, f32) {
        let eye_top = self.eyes[0].y.min(self.eyes[1].y) - self.eyes[0].ry.max(self.eyes[1].ry);
        let mouth_bottom = self.mouth.y + self.mouth.open.map_or(self.mouth.thick, |(_, ry)| ry);
        let width = 2.0
            * (self.eyes[0].x.abs().max(self.eyes[1].x.abs())
                + self.eyes[0].rx.max(self.eyes[1].rx));
        let height = mouth_bottom - eye_top;
        let side = (height * 1.65).max(width * 1.35).max(0.9) * self.unit;
        let (cx, cy) = self.face_to_frame(0.0, 0.5 * (eye_top + mouth_bottom));
        (cx - 0.5 * side, cy - 0.5 * side, side)
    }

    /// Backdrop and stand colour at a frame point, without the stand's front body.
    fn background(&self, x: f32, y: f32) -> [f32; 3] {
        let c = self.cloth;
        let mut col = match self.backdrop {
            Backdrop::Beige => {
                let g = 1.0 + 0.04 * fbm(x * 3.0, y * 3.0, 2, self.seed ^ 0xBE) - 0.12 * y;
                [c[0] * g, c[1] * g, c[2] * g]
            }
            _ => {
                let fold = perlin(x * 5.0 + 3.0, y * 0.7, self.seed ^ 0xC1)
                    + 0.5 * perlin(x * 11.0, y * 1.4 + 5.0, self.seed ^ 0xC2);
                let g = 1.0 + 0.35 * fold;
                [c[0] * g, c[1] * g, c[2] * g]
            }
        };
        let vx = x - 0.5;
        let vy = y - 0.45;
        let vignette = 1.0 - 0.9 * (vx * vx + vy * vy);
        for ch in &mut col {
            *ch *= vignette;
        }
        // Soft shadow of the rock on the backdrop, thrown down and to the right.
        let (lx, ly) = self.to_local(x - 0.045, y - 0.03);
        if lx.abs() < self.rx * 1.8 && ly.abs() < self.ry * 1.8 {
            let (d, _) = self.shape(lx / 1.04, ly / 1.04);
            let sh = 0.45 * smoothstep(1.4, 0.8, d);
            for ch in &mut col {
                *ch *= 1.0 - sh;
            }
        }
        let p = &self.plinth;
        if let Some(w) = self.tier(
            x,
            y,
            p.cx,
            p.top + p.height,
            p.foot_half_width,
            p.foot_height,
            false,
        ) {
            col = w;
        }
        if let Some(w) = self.tier(x, y, p.cx, p.top, p.half_width, p.height, true) {
            col = w;
        }
        col
    }

    /// One cylindrical tier of the stand: its top face, or its front body when
    /// `top_only` is false. `top_only` tiers leave the body to [`Rock::stand_front`].
    #[allow(clippy::too_many_arguments)]
    fn tier(
        &self,
        x: f32,
        y: f32,
        cx: f32,
        top: f32,
        hw: f32,
        height: f32,
        top_only: bool,
    ) -> Option<[f32; 3]> {
        let p = &self.plinth;
        let e = hw * (p.ellipse / p.half_width);
        let t = (x - cx) / hw;
        if t.abs() >= 1.0 {
            return None;
        }
        let arc = (1.0 - t * t).sqrt() * e;
        let wood = p.wood;
        if (y - top).abs() <= arc {
            // Top face: concentric growth rings, lit from above, darkened where
            // the rock touches it.
            let rho = (t * t + ((y - top) / e) * ((y - top) / e)).sqrt();
            let ring = wave(rho * 9.0 + 0.6 * perlin(x * 20.0, y * 20.0, self.seed ^ 0xD1));
            let mut g = 1.08 - 0.1 * ring;
            if top_only {
                let (lx, ly) = self.to_local(x - 0.01, y - 0.012);
                let (d, _) = self.shape(lx, ly);
                g *= 1.0 - 0.6 * smoothstep(1.3, 0.95, d);
            }
            let edge = smoothstep(0.8, 1.0, rho);
            g *= 1.0 - 0.25 * edge;
            return Some([wood[0] * g, wood[1] * g, wood[2] * g]);
        }
        if top_only {
            return None;
        }
        self.tier_body(x, y, cx, top, hw, height, t, arc)
    }

    #[allow(clippy::too_many_arguments)]
    fn tier_body(
        &self,
        x: f32,
        y: f32,
        _cx: f32,
        top: f32,
        _hw: f32,
        height: f32,
        t: f32,
        arc: f32,
    ) -> Option<[f32; 3]> {
        if y < top || y > top + height + arc {
            return None;
        }
        let wood = self.plinth.wood;
        // Cylinder lit from the left, grain running around it.
        let lit = 1.0 - 0.45 * (t + 0.35) * (t + 0.35);
        let grain = wave(y * 140.0 + 3.0 * fbm(x * 6.0, y * 30.0, 2, self.seed ^ 0xD2));
        let g = (0.62 + 0.38 * lit) * (1.0 - 0.08 * grain);
        // A darker lip just below the top rim.
        let lip = smoothstep(0.012, 0.0, y - (top + arc));
        let g = g * (1.0 - 0.3 * lip);
        Some([wood[0] * g, wood[1] * g, wood[2] * g])
    }

    /// The upper tier's front body, which hides the bottom of the rock.
    fn stand_front(&self, x: f32, y: f32) -> Option<[f32; 3]> {
        let p = &self.plinth;
        let t = (x - p.cx) / p.half_width;
        if t.abs() >= 1.0 {
            return None;
        }
        let arc = (1.0 - t * t).sqrt() * p.ellipse;
        if y < p.top + arc {
            return None;
        }
        self.tier_body(x, y, p.cx, p.top, p.half_width, p.height, t, arc)
    }
}

// ---------------------------------------------------------------------------
// Rendering

/// Light from the top left, towards the viewer (x right, y down, z out).
const LIGHT: [f32; 3] = [-0.4903, -0.5883, 0.6433];
/// Blinn half vector between LIGHT and the view direction (0, 0, 1).
const HALF: [f32; 3] = [-0.2667, -0.3200, 0.9091];

/// Per-pixel geometry of the rock.
#[derive(Clone, Copy, Default)]
struct Geo {
    h: f32,
    cav: f32,
    /// Rock coverage in [0, 1] (anti-aliased edge).
    alpha: f32,
    lx: f32,
    ly: f32,
    d: f32,
}

/// Renders the frame square [x0, x0 + side] x [y0, y0 + side] at `out` pixels.
fn render_region(rock: &Rock, x0: f32, y0: f32, side: f32, out: u32) -> RgbImage {
    let n = out as usize;
    let bw = n + 2;
    let step = side / out as f32;
    let reach_x = rock.rx * 1.3 + step;
    let reach_y = rock.ry * 1.3 + step;

    // Pass 1: heights with a one-pixel border, so normals need no edge cases.
    let mut geo = vec![Geo::default(); bw * bw];
    for j in 0..bw {
        let y = y0 + (j as f32 - 0.5) * step;
        for i in 0..bw {
            let x = x0 + (i as f32 - 0.5) * step;
            let (lx, ly) = rock.to_local(x, y);
            if lx.abs() > reach_x || ly.abs() > reach_y {
                continue;
            }
            let (d, ray) = rock.shape(lx, ly);
            let inside_px = (1.0 - d) * ray / step;
            let alpha = clamp01(inside_px + 0.5);
            if alpha <= 0.0 {
                continue;
            }
            let (h, cav) = rock.height(lx, ly, d.min(1.0));
            geo[j * bw + i] = Geo {
                h,
                cav,
                alpha,
                lx,
                ly,
                d,
            };
        }
    }

    // Pass 2: shade.
    let mut img = RgbImage::new(out, out);
    let inv2 = 1.0 / (2.0 * step);
    for j in 0..n {
        let y = y0 + (j as f32 + 0.5) * step;
        for i in 0..n {
            let x = x0 + (i as f32 + 0.5) * step;
            let g = geo[(j + 1) * bw + i + 1];
            let mut col = if g.alpha < 1.0 {
                rock.background(x, y)
            } else {
                [0.0; 3]
            };
            if g.alpha > 0.0 {
                let hx = (geo[(j + 1) * bw + i + 2].h - geo[(j + 1) * bw + i].h) * inv2;
                let hy = (geo[(j + 2) * bw + i + 1].h - geo[j * bw + i + 1].h) * inv2;
                let (hx, hy) = (hx.clamp(-6.0, 6.0), hy.clamp(-6.0, 6.0));
                let inv = 1.0 / (hx * hx + hy * hy + 1.0).sqrt();
                let nrm = [-hx * inv, -hy * inv, inv];
                let ndl = nrm[0] * LIGHT[0] + nrm[1] * LIGHT[1] + nrm[2] * LIGHT[2];
                let diffuse = ndl.max(0.0);
                // Dim fill from the right so the shadow side is not flat black.
                let fill = (0.6 * nrm[0] + 0.1 * nrm[1] + 0.79 * nrm[2]).max(0.0) * 0.18;
                // Occlusion: hollows and the lower rim get less sky.
                let rim = smoothstep(0.75, 1.0, g.d) * (0.5 + 0.5 * clamp01(g.ly / rock.ry));
                let ao = (1.0 - 0.55 * g.cav) * (1.0 - 0.35 * rim);
                let light = (0.22 + 0.85 * diffuse + fill) * ao;
                let ndh = (nrm[0] * HALF[0] + nrm[1] * HALF[1] + nrm[2] * HALF[2]).max(0.0);
                let mut spec = ndh;
                for _ in 0..5 {
                    spec *= spec; // ndh^32
                }
                let spec = spec * (0.04 + rock.stone.gloss) * 0.8 * (1.0 - g.cav);
                let a = rock.albedo(g.lx, g.ly, g.cav);
                let rc = [
                    a[0] * light + spec,
                    a[1] * light + spec,
                    a[2] * light + spec,
                ];
                col = mix(col, rc, g.alpha);
            }
            if let Some(front) = rock.stand_front(x, y) {
                col = front;
            }
            // Faint sensor grain, fixed per pixel.
            let grain = (hash_unit(hash3(i as i32, j as i32, rock.seed ^ 0x6EA1)) - 0.5) * 0.025;
            let px = Rgb([
                to_u8(col[0] + grain),
                to_u8(col[1] + grain),
                to_u8(col[2] + grain),
            ]);
            img.put_pixel(i as u32, j as u32, px);
        }
    }
    img
}

#[inline]
fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

#[inline]
fn to_u8(v: f32) -> u8 {
    // +0.5 and truncation: round-half-up without a libm call.
    (clamp01(v) * 255.0 + 0.5) as u8
}
