//! 68-point landmarks (face-api FaceLandmark68Net) on a square crop around a detected face.
use super::detect::Square;
use super::sampling::{warp, Affine, Border};
use super::FaceError;
use image::RgbImage;
use ort::session::Session;
use ort::value::TensorRef;
use zeroize::Zeroizing;

const SIDE: u32 = 112;

/// Landmarks of the face in `region`, in source pixels (iBUG 68-point order).
pub(crate) fn locate(
    session: &mut Session,
    img: &RgbImage,
    region: Square,
) -> Result<Vec<[f32; 2]>, FaceError> {
    let map = Affine::rect(region.x0, region.y0, region.side, region.side, SIDE, SIDE);
    // Outside the photo is black, as face-api's zero padding.
    // Face pixels: wiped when dropped, and lent to ONNX Runtime rather than handed over.
    let input = Zeroizing::new(warp(img, map, SIDE, SIDE, Border::Zero));
    let s = SIDE as usize;
    let tensor = TensorRef::from_array_view(([1usize, s, s, 3], &input[..]))
        .map_err(|e| FaceError::Unavailable(format!("landmark input: {e}")))?;
    let outputs = session
        .run(ort::inputs!["input" => tensor])
        .map_err(|e| FaceError::Unavailable(format!("landmark model failed: {e}")))?;
    let value = outputs.get("landmarks").ok_or_else(|| {
        FaceError::Unavailable("the landmark model has no output `landmarks`".into())
    })?;
    let (_, data) = value
        .try_extract_tensor::<f32>()
        .map_err(|e| FaceError::Unavailable(format!("landmark output: {e}")))?;
    if data.len() != 136 {
        return Err(FaceError::Unavailable(
            "the landmark output has an unexpected shape".into(),
        ));
    }
    Ok(data
        .chunks_exact(2)
        .map(|p| {
            [
                region.x0 + p[0] * region.side,
                region.y0 + p[1] * region.side,
            ]
        })
        .collect())
}
