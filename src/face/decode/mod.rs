//! Image decoding with limits checked from the header, before any pixel buffer exists.
use super::FaceError;
use image::{ImageDecoder, ImageFormat, ImageReader, RgbImage};
use std::io::Cursor;

mod jpeg;
mod png;

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
    // Refuse a giant canvas from the header alone, before a decoder looks at it. A JPEG is
    // walked to its end marker on the way: decoders fill a truncated one with grey.
    let jpeg_layout = match format {
        Some(ImageFormat::Jpeg) => Some(jpeg::layout(bytes).map_err(|jpeg::Truncated| {
            FaceError::UnsupportedImage("the JPEG file is truncated".into())
        })?),
        _ => None,
    };
    let declared = match &jpeg_layout {
        Some(layout) => layout.size,
        None => png_or_webp_dimensions(bytes),
    };
    if let Some((w, h)) = declared {
        check_size(w, h, limits)?;
        // Huffman coding spends at least one bit on every 8x8 block of the first component,
        // so less data than that means a header claiming more pixels than the file holds;
        // decoders would make up the rest as grey.
        if let Some(scan_bytes) = jpeg_layout.as_ref().map(|layout| layout.scan_bytes) {
            if (scan_bytes as u64) * 512 < u64::from(w) * u64::from(h) {
                return Err(FaceError::UnsupportedImage(format!(
                    "the JPEG holds {scan_bytes} bytes of image data, too few for its declared {w}x{h} pixels"
                )));
            }
        }
    }
    if format == Some(ImageFormat::Png) {
        return png::decode(bytes, limits);
    }
    if let Some(layout) = &jpeg_layout {
        // Sizes are within limits here, so the walk is bounded like the decode.
        if let Some((coded, needed)) = jpeg::coded_mcus(bytes, layout) {
            if coded < needed {
                return Err(FaceError::UnsupportedImage(format!(
                    "the JPEG's image data ends after {coded} of its {needed} blocks: it was cut short, or its header claims more pixels than it holds"
                )));
            }
        }
    }
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    // Dimensions come from the header; check them before the decoder allocates pixels.
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(FaceError::UnsupportedImage(
            "the image has no pixels".into(),
        ));
    }
    check_size(w, h, limits)?;
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(limits.max_side);
    decoder_limits.max_image_height = Some(limits.max_side);
    // RGBA8 is the widest layout we accept (below), plus headroom for decoder scratch.
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(4).saturating_add(64 << 20));
    decoder
        .set_limits(decoder_limits)
        .map_err(|e| FaceError::ImageTooLarge(e.to_string()))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    // Decoded into a buffer of ours, so it is wiped whether decoding succeeds or not.
    let channels = match decoder.color_type() {
        image::ColorType::L8 => 1,
        image::ColorType::La8 => 2,
        image::ColorType::Rgb8 => 3,
        image::ColorType::Rgba8 => 4,
        other => {
            return Err(FaceError::UnsupportedImage(format!(
                "unexpected sample layout {other:?}"
            )))
        }
    };
    let size = usize::try_from(decoder.total_bytes())
        .map_err(|_| FaceError::ImageTooLarge("the image does not fit in memory".into()))?;
    let mut samples = zeroize::Zeroizing::new(vec![0u8; size]);
    decoder.read_image(&mut samples).map_err(decode_error)?;
    let rgb = if channels == 3 {
        std::mem::take(&mut *samples)
    } else {
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        samples_to_rgb(&samples, channels, &mut rgb);
        rgb
    };
    let rgb = RgbImage::from_raw(w, h, rgb)
        .ok_or_else(|| FaceError::UnsupportedImage("the image's size does not add up".into()))?;
    Ok(upright(rgb, orientation))
}

/// 8-bit grey, grey+alpha, RGB or RGBA samples (`channels` 1-4) -> RGB; alpha is dropped.
pub(super) fn samples_to_rgb(samples: &[u8], channels: usize, rgb: &mut [u8]) {
    for (px, out) in samples.chunks_exact(channels).zip(rgb.chunks_exact_mut(3)) {
        match channels {
            1 | 2 => out.fill(px[0]),
            _ => out.copy_from_slice(&px[..3]),
        }
    }
}

/// The image as it is meant to be shown (EXIF orientation applied), the turned copy's
/// source wiped.
pub(super) fn upright(mut rgb: RgbImage, orientation: image::metadata::Orientation) -> RgbImage {
    use image::imageops::{flip_horizontal_in_place, flip_vertical_in_place, rotate180_in_place};
    use image::imageops::{rotate270, rotate90};
    use image::metadata::Orientation;
    let turned = match orientation {
        Orientation::NoTransforms => return rgb,
        Orientation::Rotate180 => {
            rotate180_in_place(&mut rgb);
            return rgb;
        }
        Orientation::FlipHorizontal => {
            flip_horizontal_in_place(&mut rgb);
            return rgb;
        }
        Orientation::FlipVertical => {
            flip_vertical_in_place(&mut rgb);
            return rgb;
        }
        Orientation::Rotate90 => rotate90(&rgb),
        Orientation::Rotate270 => rotate270(&rgb),
        Orientation::Rotate90FlipH => {
            let mut t = rotate90(&rgb);
            flip_horizontal_in_place(&mut t);
            t
        }
        Orientation::Rotate270FlipH => {
            let mut t = rotate270(&rgb);
            flip_horizontal_in_place(&mut t);
            t
        }
    };
    let pixels: &mut [u8] = &mut rgb;
    zeroize::Zeroize::zeroize(pixels);
    turned
}

pub(super) fn check_size(w: u32, h: u32, limits: DecodeLimits) -> Result<(), FaceError> {
    if w > limits.max_side || h > limits.max_side || u64::from(w) * u64::from(h) > limits.max_pixels
    {
        return Err(FaceError::ImageTooLarge(format!(
            "{w}x{h} pixels; the limits are {} px per side and {} pixels in all",
            limits.max_side, limits.max_pixels
        )));
    }
    Ok(())
}

/// A decoder's own size and memory limits mean "too large", anything else "unsupported".
fn decode_error(e: image::ImageError) -> FaceError {
    match e {
        image::ImageError::Limits(l) => FaceError::ImageTooLarge(l.to_string()),
        other => FaceError::UnsupportedImage(other.to_string()),
    }
}

/// Width and height as a PNG's IHDR or a WebP's extended header states them: these
/// formats can declare far more than their decoders allow.
fn png_or_webp_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let be32 = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let le24 = |at: usize| -> Option<u32> {
        let b = bytes.get(at..at + 3)?;
        Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16) == Some(&b"IHDR"[..]) {
        return Some((be32(16)?, be32(20)?));
    }
    if bytes.starts_with(b"RIFF") && bytes.get(8..16) == Some(&b"WEBPVP8X"[..]) {
        return Some((le24(24)? + 1, le24(27)? + 1));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DecodeLimits = DecodeLimits {
        max_bytes: 10 << 20,
        max_pixels: 40_000_000,
        max_side: 12_000,
    };

    fn jpeg() -> Vec<u8> {
        let img = RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&img)
            .unwrap_or_else(|e| panic!("encode: {e}"));
        out
    }

    /// The JPEG with its baseline frame header patched to claim `w` x `h` pixels.
    fn with_frame_size(jpeg: &[u8], w: u16, h: u16) -> Vec<u8> {
        let mut forged = jpeg.to_vec();
        let sof = forged
            .windows(2)
            .position(|pair| pair == [0xFF, 0xC0])
            .unwrap_or_else(|| panic!("no baseline frame header"));
        forged[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
        forged[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
        forged
    }

    /// The JPEG with a comment segment holding `text` right after SOI.
    fn with_comment(jpeg: &[u8], text: &[u8]) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&((text.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(text);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn every_exif_orientation_turns_as_the_image_crate_turns_it() {
        use image::metadata::Orientation;
        let img = RgbImage::from_fn(5, 3, |x, y| image::Rgb([x as u8, y as u8, (x * y) as u8]));
        for orientation in (1..=8).filter_map(Orientation::from_exif) {
            let mut want = image::DynamicImage::ImageRgb8(img.clone());
            want.apply_orientation(orientation);
            assert_eq!(
                upright(img.clone(), orientation),
                want.into_rgb8(),
                "{orientation:?}"
            );
        }
    }

    #[test]
    fn a_long_trailer_after_the_jpeg_is_accepted() {
        // Phones append motion-photo videos after EOI; 64 KiB without an FF D9 in it.
        let mut file = jpeg();
        file.extend((0..65_536u32).map(|i| (i % 251) as u8 & 0x7F));
        let img = decode(&file, LIMITS).unwrap_or_else(|e| panic!("decodes: {e}"));
        assert_eq!(img.dimensions(), (64, 48));
    }

    #[test]
    fn a_truncated_jpeg_is_refused_even_with_an_end_marker_in_a_comment() {
        let file = with_comment(&jpeg(), b"ends \xFF\xD9 here");
        assert!(decode(&file, LIMITS).is_ok(), "the whole file decodes");
        for cut in [file.len() - 2, file.len() / 2, 40] {
            match decode(&file[..cut], LIMITS) {
                Err(FaceError::UnsupportedImage(m)) => assert!(m.contains("truncated"), "{m}"),
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_jpeg_cut_short_with_its_end_marker_put_back_is_refused() {
        let file = jpeg();
        let sos = file
            .windows(2)
            .rposition(|w| w == [0xFF, 0xDA])
            .unwrap_or_else(|| panic!("no scan"));
        for keep in [file.len() - 40, (sos + file.len()) / 2, sos + 30] {
            let mut cut = file[..keep].to_vec();
            cut.extend_from_slice(&[0xFF, 0xD9]);
            match decode(&cut, LIMITS) {
                Err(FaceError::UnsupportedImage(m)) => assert!(m.contains("ends after"), "{m}"),
                other => panic!("cut at {keep}: {:?}", other.map(|img| img.dimensions())),
            }
        }
    }

    #[test]
    fn a_header_claiming_a_little_more_than_the_data_holds_is_refused() {
        // 64x48 patched to 64x96: twice the rows, far under the one-bit-per-block floor.
        let forged = with_frame_size(&jpeg(), 64, 96);
        match decode(&forged, LIMITS) {
            Err(FaceError::UnsupportedImage(m)) => assert!(m.contains("48 of its 96"), "{m}"),
            other => panic!("{:?}", other.map(|img| img.dimensions())),
        }
    }

    #[test]
    fn a_header_claiming_more_pixels_than_the_data_holds_is_refused() {
        // A small photo whose frame header is patched to 4000 x 3000 (inside the limits):
        // complete and well formed, but decoders would invent 12 MP of grey.
        let forged = with_frame_size(&jpeg(), 4000, 3000);
        match decode(&forged, LIMITS) {
            Err(FaceError::UnsupportedImage(m)) => assert!(m.contains("4000x3000"), "{m}"),
            other => panic!("{other:?}"),
        }
        // A real photo of one flat colour compresses hard, yet stays above the floor.
        let flat = RgbImage::from_pixel(4000, 3000, image::Rgb([128, 128, 128]));
        let mut file = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut file, 75)
            .encode_image(&flat)
            .unwrap_or_else(|e| panic!("encode: {e}"));
        let img = decode(&file, LIMITS).unwrap_or_else(|e| panic!("{} bytes: {e}", file.len()));
        assert_eq!(img.dimensions(), (4000, 3000));
    }

    /// A PNG file built by hand (stored zlib blocks), so tests can use layouts the `image`
    /// encoder does not write: Adam7 interlacing, eXIf and iCCP chunks.
    fn png_file(
        w: u32,
        h: u32,
        colour: u8,
        depth: u8,
        adam7: bool,
        scanlines: &[u8],
        extra: &[(&[u8; 4], Vec<u8>)],
    ) -> Vec<u8> {
        fn crc32(data: &[u8]) -> u32 {
            let mut c = !0u32;
            for &b in data {
                c ^= u32::from(b);
                for _ in 0..8 {
                    c = if c & 1 == 1 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            !c
        }
        fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let start = out.len();
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            let crc = crc32(&out[start..]);
            out.extend_from_slice(&crc.to_be_bytes());
        }
        let mut zlib = vec![0x78, 0x01];
        let blocks: Vec<&[u8]> = scanlines.chunks(65_535).collect();
        for (i, block) in blocks.iter().enumerate() {
            zlib.push(u8::from(i + 1 == blocks.len()));
            zlib.extend_from_slice(&(block.len() as u16).to_le_bytes());
            zlib.extend_from_slice(&(!(block.len() as u16)).to_le_bytes());
            zlib.extend_from_slice(block);
        }
        let (mut a, mut b) = (1u32, 0u32);
        for &x in scanlines {
            a = (a + u32::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = w.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[depth, colour, 0, 0, u8::from(adam7)]);
        chunk(&mut out, b"IHDR", &ihdr);
        for (kind, data) in extra {
            chunk(&mut out, kind, data);
        }
        chunk(&mut out, b"IDAT", &zlib);
        chunk(&mut out, b"IEND", &[]);
        out
    }

    /// Scanlines (filter byte 0) of an 8-bit RGB image, in Adam7 pass order when `adam7`.
    fn rgb_scanlines(img: &RgbImage, adam7: bool) -> Vec<u8> {
        let passes: &[(u32, u32, u32, u32)] = if adam7 {
            &[
                (0, 0, 8, 8),
                (4, 0, 8, 8),
                (0, 4, 4, 8),
                (2, 0, 4, 4),
                (0, 2, 2, 4),
                (1, 0, 2, 2),
                (0, 1, 1, 2),
            ]
        } else {
            &[(0, 0, 1, 1)]
        };
        let mut out = Vec::new();
        for &(x0, y0, dx, dy) in passes {
            if x0 >= img.width() || y0 >= img.height() {
                continue;
            }
            for y in (y0..img.height()).step_by(dy as usize) {
                out.push(0);
                for x in (x0..img.width()).step_by(dx as usize) {
                    out.extend_from_slice(&img.get_pixel(x, y).0);
                }
            }
        }
        out
    }

    fn pattern(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 7) as u8, (y * 11) as u8, (x * y) as u8])
        })
    }

    #[test]
    fn interlaced_png_decodes_to_its_pixels() {
        let img = pattern(37, 23);
        let file = png_file(37, 23, 2, 8, true, &rgb_scanlines(&img, true), &[]);
        let out = decode(&file, LIMITS).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, img);
    }

    #[test]
    fn png_icc_profiles_are_not_inflated() {
        // An iCCP chunk whose deflate stream is garbage: skipped, as a huge one would be.
        let img = pattern(20, 10);
        let mut iccp = b"profile\0\0".to_vec();
        iccp.extend_from_slice(&[0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0xFF]);
        let file = png_file(
            20,
            10,
            2,
            8,
            false,
            &rgb_scanlines(&img, false),
            &[(b"iCCP", iccp)],
        );
        assert_eq!(decode(&file, LIMITS).unwrap_or_else(|e| panic!("{e}")), img);
    }

    #[test]
    fn png_exif_orientation_is_applied() {
        // eXIf with Orientation 6: stored 3x2, shown rotated a quarter turn clockwise.
        let img = pattern(3, 2);
        let mut exif = b"MM\0\x2a\0\0\0\x08\0\x01".to_vec();
        exif.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
        let file = png_file(
            3,
            2,
            2,
            8,
            false,
            &rgb_scanlines(&img, false),
            &[(b"eXIf", exif)],
        );
        let out = decode(&file, LIMITS).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, image::imageops::rotate90(&img));
    }

    #[test]
    fn sixteen_bit_and_grey_alpha_pngs_keep_their_high_bytes() {
        let wide = image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(30, 20, |x, y| {
            image::Rgb([(x * 2000) as u16 + 0x7F, (y * 3000) as u16, 0xFFFF])
        });
        let mut file = Vec::new();
        image::DynamicImage::ImageRgb16(wide.clone())
            .write_to(&mut Cursor::new(&mut file), ImageFormat::Png)
            .unwrap_or_else(|e| panic!("encode: {e}"));
        let out = decode(&file, LIMITS).unwrap_or_else(|e| panic!("{e}"));
        for (x, y, p) in out.enumerate_pixels() {
            let q = wide.get_pixel(x, y).0;
            assert_eq!(
                p.0,
                [(q[0] >> 8) as u8, (q[1] >> 8) as u8, (q[2] >> 8) as u8],
                "({x}, {y})"
            );
        }
        let grey =
            image::GrayAlphaImage::from_fn(9, 4, |x, y| image::LumaA([(x * 25 + y) as u8, 7]));
        let mut file = Vec::new();
        image::DynamicImage::ImageLumaA8(grey.clone())
            .write_to(&mut Cursor::new(&mut file), ImageFormat::Png)
            .unwrap_or_else(|e| panic!("encode: {e}"));
        let out = decode(&file, LIMITS).unwrap_or_else(|e| panic!("{e}"));
        for (x, y, p) in out.enumerate_pixels() {
            assert_eq!(p.0, [grey.get_pixel(x, y).0[0]; 3], "({x}, {y})");
        }
    }

    #[test]
    fn a_png_cut_short_is_refused() {
        let img = pattern(40, 30);
        let file = png_file(40, 30, 2, 8, false, &rgb_scanlines(&img, false), &[]);
        // Rows missing at the end or in the middle; only the end chunk missing is accepted.
        assert!(decode(&file[..file.len() - 12], LIMITS).is_ok());
        for cut in [file.len() - 200, file.len() / 2] {
            match decode(&file[..cut], LIMITS) {
                Err(FaceError::UnsupportedImage(_)) => {}
                other => panic!("cut at {cut}: {:?}", other.map(|img| img.dimensions())),
            }
        }
    }

    #[test]
    fn giant_declared_canvases_are_too_large_not_unsupported() {
        // PNG: IHDR of 2^31 x 1.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&(1u32 << 31).to_be_bytes());
        png.extend_from_slice(&1u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        // WebP: an extended header with a 2^24 x 2^24 canvas.
        let mut webp = b"RIFF\x00\x01\x00\x00WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        webp.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        // JPEG: a frame header patched to 60000 x 60000.
        let big_jpeg = with_frame_size(&jpeg(), 60_000, 60_000);
        for (name, file) in [("png", png), ("webp", webp), ("jpeg", big_jpeg)] {
            match decode(&file, LIMITS) {
                Err(FaceError::ImageTooLarge(_)) => {}
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
