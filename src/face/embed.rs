//! The embedder (FaceRecognitionNet) and the views behind the appearance features.
use super::align::CHIP;
use super::sampling::{warp, Affine, Border};
use super::{FaceError, APPEARANCE_DIM, IDENTITY_DIM};
use image::RgbImage;
use ort::session::Session;
use ort::value::TensorRef;
use zeroize::Zeroizing;

/// Pixels per chip channel-interleaved buffer.
pub(crate) const CHIP_LEN: usize = (CHIP * CHIP * 3) as usize;

/// Raw outputs for a batch of chips.
pub(crate) struct Embedded {
    /// N x 128, raw (not normalised).
    pub embedding: Vec<f32>,
    /// N x 2048, raw.
    pub appearance: Vec<f32>,
}

fn output(
    outputs: &ort::session::SessionOutputs<'_>,
    name: &str,
    per: usize,
    n: usize,
) -> Result<Vec<f32>, FaceError> {
    let value = outputs
        .get(name)
        .ok_or_else(|| FaceError::Unavailable(format!("the embedder has no output {name}")))?;
    let (_, data) = value
        .try_extract_tensor::<f32>()
        .map_err(|e| FaceError::Unavailable(format!("embedder output {name}: {e}")))?;
    if data.len() != per * n {
        return Err(FaceError::Unavailable(format!(
            "embedder output {name} has {} values, expected {}",
            data.len(),
            per * n
        )));
    }
    Ok(data.to_vec())
}

/// Runs the embedder on `chips` (each CHIP_LEN values, RGB 0-255 NHWC), as one batch.
pub(crate) fn run(session: &mut Session, chips: &[Vec<f32>]) -> Result<Embedded, FaceError> {
    let slices: Vec<&[f32]> = chips.iter().map(|c| c.as_slice()).collect();
    run_slices(session, &slices)
}

/// [`run`] on borrowed chips.
pub(crate) fn run_slices(session: &mut Session, chips: &[&[f32]]) -> Result<Embedded, FaceError> {
    // Face pixels: wiped when dropped, and lent to ONNX Runtime rather than handed over.
    let mut input = Zeroizing::new(Vec::with_capacity(chips.len() * CHIP_LEN));
    for c in chips {
        input.extend_from_slice(whole_chip(c)?);
    }
    run_batch(session, &input)
}

fn whole_chip(chip: &[f32]) -> Result<&[f32], FaceError> {
    if chip.len() == CHIP_LEN {
        Ok(chip)
    } else {
        Err(FaceError::Unavailable("a chip has the wrong size".into()))
    }
}

/// Each chip followed by its mirror image, as one batch for [`run_batch`] (wiped when dropped).
pub(crate) fn with_mirrors(chips: &[&[f32]]) -> Result<Zeroizing<Vec<f32>>, FaceError> {
    let mut input = Zeroizing::new(Vec::with_capacity(chips.len() * 2 * CHIP_LEN));
    for c in chips {
        let c = whole_chip(c)?;
        input.extend_from_slice(c);
        push_mirrored(&mut input, c, CHIP as usize);
    }
    Ok(input)
}

/// Runs the embedder on chips laid end to end (`CHIP_LEN` floats each).
pub(crate) fn run_batch(session: &mut Session, input: &[f32]) -> Result<Embedded, FaceError> {
    let n = input.len() / CHIP_LEN;
    if n * CHIP_LEN != input.len() {
        return Err(FaceError::Unavailable(
            "a batch holds part of a chip".into(),
        ));
    }
    if n == 0 {
        return Ok(Embedded {
            embedding: Vec::new(),
            appearance: Vec::new(),
        });
    }
    let side = CHIP as usize;
    let tensor = TensorRef::from_array_view(([n, side, side, 3], input))
        .map_err(|e| FaceError::Unavailable(format!("embedder input: {e}")))?;
    let outputs = session
        .run(ort::inputs!["input" => tensor])
        .map_err(|e| FaceError::Unavailable(format!("embedder failed: {e}")))?;
    Ok(Embedded {
        embedding: output(&outputs, "embedding", IDENTITY_DIM, n)?,
        appearance: output(&outputs, "appearance", APPEARANCE_DIM, n)?,
    })
}

pub(crate) fn l2_normalised(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter().map(|x| x / norm).collect()
    } else {
        v.to_vec()
    }
}

/// Mean of L2-normalised rows, L2-normalised again.
pub(crate) fn mean_of_normalised(rows: &[f32], dim: usize) -> Vec<f32> {
    let mut acc = vec![0.0f32; dim];
    for row in rows.chunks_exact(dim) {
        for (a, x) in acc.iter_mut().zip(l2_normalised(row)) {
            *a += x;
        }
    }
    l2_normalised(&acc)
}

pub(crate) fn mirrored(chip: &[f32], side: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(chip.len());
    push_mirrored(&mut out, chip, side);
    out
}

/// Appends the left-right mirror image of an RGB image `side` pixels wide.
fn push_mirrored(out: &mut Vec<f32>, chip: &[f32], side: usize) {
    for row in chip.chunks_exact(side * 3) {
        for px in row.chunks_exact(3).rev() {
            out.extend_from_slice(px);
        }
    }
}

/// ITU-R 601 luma (as PIL's "L"), replicated to three channels.
pub(crate) fn grey(chip: &[f32]) -> Vec<f32> {
    let mut out = Vec::with_capacity(chip.len());
    for px in chip.chunks_exact(3) {
        let y = 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];
        out.extend_from_slice(&[y, y, y]);
    }
    out
}

/// Grey chip whose level histogram is matched to `target_cdf` (256 cumulative fractions).
pub(crate) fn grey_matched(chip: &[f32], target_cdf: &[f32; 256]) -> Vec<f32> {
    let g = grey(chip);
    let mut hist = [0u32; 256];
    let levels: Vec<usize> = g
        .chunks_exact(3)
        .map(|p| p[0].round().clamp(0.0, 255.0) as usize)
        .collect();
    for &l in &levels {
        hist[l] += 1;
    }
    let total = levels.len().max(1) as f32;
    let mut map = [0.0f32; 256];
    let mut cum = 0u32;
    let mut t = 0usize;
    for (level, count) in hist.iter().enumerate() {
        cum += count;
        let q = cum as f32 / total;
        while t < 255 && target_cdf[t] < q {
            t += 1;
        }
        map[level] = t as f32;
    }
    let mut out = Vec::with_capacity(chip.len());
    for &l in &levels {
        let v = map[l];
        out.extend_from_slice(&[v, v, v]);
    }
    out
}

/// The human-side views of an aligned chip: as is, mirrored, grey, grey matched to rocks.
pub(crate) fn human_views(chip: &[f32]) -> Vec<Vec<f32>> {
    let side = CHIP as usize;
    vec![
        chip.to_vec(),
        mirrored(chip, side),
        grey(chip),
        grey_matched(chip, &super::rock_histogram::ROCK_GREY_CDF),
    ]
}

/// The rock-side views of a face crop, each resized to the chip: as is, mirrored, grey, grey
/// mirrored, centre crops at 90 % and 80 %, zoomed out to 1/1.15 and 1/1.3 (replicated
/// borders), and padded to a square (replicated borders).
pub(crate) fn rock_views(crop: &RgbImage) -> Vec<Vec<f32>> {
    let (w, h) = (crop.width() as f32, crop.height() as f32);
    let resize = |x0: f32, y0: f32, cw: f32, ch: f32| {
        warp(
            crop,
            Affine::rect(x0, y0, cw, ch, CHIP, CHIP),
            CHIP,
            CHIP,
            Border::Replicate,
        )
    };
    let centred = |f: f32| resize(w * (1.0 - f) / 2.0, h * (1.0 - f) / 2.0, w * f, h * f);
    let side = CHIP as usize;
    let plain = resize(0.0, 0.0, w, h);
    let mirror = mirrored(&plain, side);
    let grey_plain = grey(&plain);
    let grey_mirror = mirrored(&grey_plain, side);
    let long = w.max(h);
    let square = resize((w - long) / 2.0, (h - long) / 2.0, long, long);
    vec![
        plain,
        mirror,
        grey_plain,
        grey_mirror,
        centred(0.9),
        centred(0.8),
        centred(1.15),
        centred(1.3),
        square,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_with_mirrors_holds_each_chip_then_its_mirror() {
        let a: Vec<f32> = (0..CHIP_LEN).map(|i| (i % 251) as f32).collect();
        let b: Vec<f32> = (0..CHIP_LEN).map(|i| (i % 13) as f32 * 7.0).collect();
        let batch = with_mirrors(&[&a, &b]).unwrap_or_else(|e| panic!("{e}"));
        let side = CHIP as usize;
        let expected = [a.clone(), mirrored(&a, side), b.clone(), mirrored(&b, side)].concat();
        assert!(batch.as_slice() == expected.as_slice());
        assert!(with_mirrors(&[&a[1..]]).is_err());
    }

    #[test]
    fn mirror_twice_is_identity() {
        let chip: Vec<f32> = (0..CHIP_LEN).map(|i| (i % 251) as f32).collect();
        assert_eq!(mirrored(&mirrored(&chip, 150), 150), chip);
        assert_ne!(mirrored(&chip, 150), chip);
    }

    #[test]
    fn matching_to_own_cdf_keeps_levels_ordered() {
        let chip: Vec<f32> = (0..CHIP_LEN).map(|i| ((i / 3) % 200) as f32).collect();
        let uniform: [f32; 256] = std::array::from_fn(|i| (i + 1) as f32 / 256.0);
        let out = grey_matched(&chip, &uniform);
        // Monotone: a brighter input level never maps darker.
        let pairs: Vec<(f32, f32)> = grey(&chip)
            .chunks_exact(3)
            .map(|p| p[0])
            .zip(out.chunks_exact(3).map(|p| p[0]))
            .collect();
        for (a, b) in pairs.iter().zip(pairs.iter().skip(1)) {
            if a.0 < b.0 {
                assert!(a.1 <= b.1);
            }
        }
    }
}
