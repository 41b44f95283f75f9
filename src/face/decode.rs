//! Image decoding with limits checked from the header, before any pixel buffer exists.
use super::FaceError;
use image::{ImageDecoder, ImageFormat, ImageReader, RgbImage};
use std::io::Cursor;

/// Upload limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DecodeLimits {
    pub max_bytes: usize,
    pub max_pixels: u64,
    pub max_side: u32,
}

/// JPEG, PNG or WebP -> RGB, EXIF orientation applied.
pub(crate) fn decode(bytes: &[u8], limits: DecodeLimits) -> Result<RgbImage, FaceError> {
    if bytes.len() > limits.max_bytes {
        return Err(FaceError::ImageTooLarge(format!(
            "the file has {} bytes; the limit is {}",
            bytes.len(),
            limits.max_bytes
        )));
    }
    if bytes.is_empty() {
        return Err(FaceError::UnsupportedImage("the file is empty".into()));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| FaceError::UnsupportedImage(e.to_string()))?;
    let format = reader.format();
    match format {
        Some(ImageFormat::Jpeg) | Some(ImageFormat::Png) | Some(ImageFormat::WebP) => {}
        _ => {
            return Err(FaceError::UnsupportedImage(
                "it is not JPEG, PNG or WebP".into(),
            ))
        }
    }
    if format == Some(ImageFormat::Jpeg) && !jpeg_is_complete(bytes) {
        return Err(FaceError::UnsupportedImage(
            "the JPEG file is truncated".into(),
        ));
    }
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| FaceError::UnsupportedImage(e.to_string()))?;
    // Dimensions come from the header; check them before the decoder allocates pixels.
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(FaceError::UnsupportedImage(
            "the image has no pixels".into(),
        ));
    }
    if w > limits.max_side || h > limits.max_side || u64::from(w) * u64::from(h) > limits.max_pixels
    {
        return Err(FaceError::ImageTooLarge(format!(
            "{w}x{h} pixels; the limits are {} px per side and {} pixels in all",
            limits.max_side, limits.max_pixels
        )));
    }
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    // RGBA16 is the widest layout we accept, plus headroom for decoder scratch.
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20));
    decoder
        .set_limits(decoder_limits)
        .map_err(|e| FaceError::ImageTooLarge(e.to_string()))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(l) => FaceError::ImageTooLarge(l.to_string()),
        other => FaceError::UnsupportedImage(other.to_string()),
    })?;
    img.apply_orientation(orientation);
    Ok(img.into_rgb8())
}

/// A JPEG's entropy-coded data ends with EOI (FF D9). Decoders fill a truncated file with grey
/// instead of failing, so check for the marker (trailing bytes after EOI are tolerated).
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}
