//! Images made by code for the error paths.
use image::{ImageFormat, Rgb, RgbImage};
use std::io::Cursor;

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encoding a fixture");
    out.into_inner()
}

/// Sky, sun, hills and a lake: a landscape with no face.
pub fn landscape_jpeg() -> Vec<u8> {
    let (w, h) = (800u32, 500u32);
    let img = RgbImage::from_fn(w, h, |x, y| {
        let hill = 300.0 + 40.0 * ((x as f32) / 90.0).sin() + 25.0 * ((x as f32) / 37.0).cos();
        let (dx, dy) = (x as f32 - 620.0, y as f32 - 110.0);
        if dx * dx + dy * dy < 45.0 * 45.0 {
            Rgb([250, 220, 90])
        } else if (y as f32) < hill {
            let t = y as f32 / hill;
            Rgb([(90.0 + 80.0 * t) as u8, (150.0 + 60.0 * t) as u8, 235])
        } else if y > 430 {
            Rgb([40, 90, (150 + (x % 7) * 3) as u8])
        } else {
            Rgb([
                (50 + (x * 7 + y * 3) % 30) as u8,
                (120 + (x * 3 + y * 5) % 40) as u8,
                40,
            ])
        }
    });
    encode(&img, ImageFormat::Jpeg)
}

/// A plain grey PNG.
pub fn blank_png() -> Vec<u8> {
    encode(
        &RgbImage::from_pixel(640, 480, Rgb([128, 128, 128])),
        ImageFormat::Png,
    )
}

/// The first third of a JPEG: headers intact, image data cut off.
pub fn truncated_jpeg(jpeg: &[u8]) -> Vec<u8> {
    jpeg[..jpeg.len() / 3].to_vec()
}

/// Two photos side by side on one canvas, both at the same height.
pub fn side_by_side(a: &[u8], b: &[u8]) -> Vec<u8> {
    let a = image::load_from_memory(a).expect("decode a").to_rgb8();
    let b = image::load_from_memory(b).expect("decode b").to_rgb8();
    let h = a.height().max(b.height());
    let mut canvas = RgbImage::from_pixel(a.width() + b.width(), h, Rgb([200, 200, 200]));
    image::imageops::overlay(&mut canvas, &a, 0, ((h - a.height()) / 2) as i64);
    image::imageops::overlay(
        &mut canvas,
        &b,
        a.width() as i64,
        ((h - b.height()) / 2) as i64,
    );
    encode(&canvas, ImageFormat::Jpeg)
}

/// A valid PNG signature and IHDR claiming width x height, then a tiny IDAT and IEND.
pub fn png_header_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn crc32_matches_the_png_specification_value() {
    // CRC of "IEND" with no data is the well-known AE426082.
    assert_eq!(crc32(b"IEND"), 0xAE42_6082);
}

#[test]
fn the_huge_png_header_decodes_to_the_claimed_size() {
    let png = png_header_claiming(20_000, 20_000);
    let reader = image::ImageReader::with_format(Cursor::new(png), ImageFormat::Png);
    assert_eq!(
        reader.into_dimensions().expect("header parses"),
        (20_000, 20_000)
    );
}
