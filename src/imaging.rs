//! Image helpers shared by the gallery and the social layer: scaling down, and JPEG
//! encoding that writes no metadata.
use image::{imageops, RgbImage};

/// Scales down so the longest side is at most `max_side`.
pub fn fit(img: RgbImage, max_side: u32) -> RgbImage {
    match fitted_size(&img, max_side) {
        Some((w, h)) => imageops::resize(&img, w, h, imageops::FilterType::Triangle),
        None => img,
    }
}

/// [`fit`] into a new image, leaving `img` as it is.
pub fn fit_copy(img: &RgbImage, max_side: u32) -> RgbImage {
    match fitted_size(img, max_side) {
        Some((w, h)) => imageops::resize(img, w, h, imageops::FilterType::Triangle),
        None => img.clone(),
    }
}

/// The size `img` scales down to, or `None` when it already fits.
fn fitted_size(img: &RgbImage, max_side: u32) -> Option<(u32, u32)> {
    let long = img.width().max(img.height());
    if long <= max_side {
        return None;
    }
    let scale = max_side as f32 / long as f32;
    Some((
        ((img.width() as f32 * scale).round() as u32).max(1),
        ((img.height() as f32 * scale).round() as u32).max(1),
    ))
}

/// Baseline JPEG with no metadata segments at all.
pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality).encode_image(img)?;
    Ok(out)
}
