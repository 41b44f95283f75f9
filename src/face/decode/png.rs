//! PNG through the `png` crate itself rather than `image`'s wrapper, for control over what
//! a small file can cost.
use super::{check_size, samples_to_rgb, DecodeLimits};
use crate::face::FaceError;
use image::RgbImage;
use std::io::Cursor;

/// PNG -> RGB, EXIF orientation applied, so that a small file cannot cost far more memory than
/// its pixels: 16-bit samples are cut to 8 bits as they are read (not held at 8 bytes a
/// pixel), ICC profiles and text chunks are skipped (a compressed iCCP can inflate to
/// gigabytes), and non-interlaced rows go straight into the RGB image.
pub(super) fn decode(bytes: &[u8], limits: DecodeLimits) -> Result<RgbImage, FaceError> {
    let png_error = |e: png::DecodingError| match e {
        png::DecodingError::LimitsExceeded => {
            FaceError::ImageTooLarge("decoding it needs more memory than allowed".into())
        }
        other => FaceError::UnsupportedImage(other.to_string()),
    };
    // Headroom over the RGBA8 frame an interlaced image needs, for the decoder's own buffers.
    let budget = limits.max_pixels.saturating_mul(4).saturating_add(64 << 20);
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: usize::try_from(budget).unwrap_or(usize::MAX),
        },
    );
    decoder.set_ignore_iccp_chunk(true);
    decoder.set_ignore_text_chunk(true);
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(png_error)?;
    let (w, h, interlaced) = {
        let info = reader.info();
        (info.width, info.height, info.interlaced)
    };
    if w == 0 || h == 0 {
        return Err(FaceError::UnsupportedImage(
            "the image has no pixels".into(),
        ));
    }
    check_size(w, h, limits)?;
    let orientation = reader
        .info()
        .exif_metadata
        .as_deref()
        .and_then(image::metadata::Orientation::from_exif_chunk)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let channels = match reader.output_color_type() {
        (png::ColorType::Grayscale, png::BitDepth::Eight) => 1,
        (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight) => 2,
        (png::ColorType::Rgb, png::BitDepth::Eight) => 3,
        (png::ColorType::Rgba, png::BitDepth::Eight) => 4,
        other => {
            return Err(FaceError::UnsupportedImage(format!(
                "unexpected PNG sample layout {other:?}"
            )))
        }
    };
    // Wiped if dropped on an error path; handed over whole when decoding succeeds.
    let mut rgb = zeroize::Zeroizing::new(vec![0u8; w as usize * h as usize * 3]);
    let row_len = w as usize * 3;
    if interlaced {
        // Adam7 passes fill the whole frame before any row is complete.
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| FaceError::ImageTooLarge("the frame does not fit in memory".into()))?;
        let mut frame = zeroize::Zeroizing::new(vec![0u8; size]);
        let info = reader.next_frame(&mut frame).map_err(png_error)?;
        for (src, dst) in frame
            .chunks_exact(info.line_size)
            .zip(rgb.chunks_exact_mut(row_len))
        {
            samples_to_rgb(src, channels, dst);
        }
    } else {
        for dst in rgb.chunks_exact_mut(row_len) {
            let row = reader
                .next_row()
                .map_err(png_error)?
                .ok_or_else(|| FaceError::UnsupportedImage("the PNG file is truncated".into()))?;
            samples_to_rgb(row.data(), channels, dst);
        }
    }
    let rgb = RgbImage::from_raw(w, h, std::mem::take(&mut *rgb))
        .ok_or_else(|| FaceError::UnsupportedImage("the PNG's size does not add up".into()))?;
    Ok(super::upright(rgb, orientation))
}
