//! The embedder as run through the engine, against the reference outputs in
//! models/reference/embedder_reference.json (made by the converter with onnxruntime and
//! face-api itself, not by this code).
mod face_support;

use face_support::*;
use image::RgbImage;
use rockstar::face::Precision;

/// The committed reference outputs: part of the repository, so never a reason to skip.
fn reference() -> Option<serde_json::Value> {
    let path = models_dir().join("reference/embedder_reference.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} unreadable: {e}", path.display()));
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array"))
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN) as f32)
        .collect()
}

fn l2(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

/// The synthetic chip of the reference: pixel(y, x, c) = (x*7 + y*13 + c*29 + k*31) % 256.
fn synthetic_chip(k: u32, size: u32) -> RgbImage {
    RgbImage::from_fn(size, size, |x, y| {
        image::Rgb(std::array::from_fn(|c| {
            ((x * 7 + y * 13 + c as u32 * 29 + k * 31) % 256) as u8
        }))
    })
}

#[test]
fn synthetic_chips_match_the_reference_embeddings() {
    let (Some(reference), Some(engine)) = (reference(), engine()) else {
        return;
    };
    let synthetic = &reference["synthetic"];
    let size = synthetic["size"].as_u64().unwrap_or(150) as u32;
    let chips = synthetic["chips"]
        .as_array()
        .unwrap_or_else(|| panic!("no synthetic chips"));
    assert!(!chips.is_empty());
    let images: Vec<RgbImage> = chips
        .iter()
        .map(|c| synthetic_chip(c["k"].as_u64().unwrap_or(0) as u32, size))
        .collect();
    // One batch, so batching is covered too. The reference is the float32 model's.
    let got = engine
        .embed_chips_blocking(images, Precision::Float32)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.len(), chips.len());
    for (chip, ours) in chips.iter().zip(&got) {
        // The engine returns the L2-normalised embedding; normalise the raw reference the same way.
        let want = l2(&floats(&chip["embedding"]));
        assert_eq!(ours.len(), want.len());
        let worst = ours
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst <= 1e-4, "chip k={}: max abs diff {worst}", chip["k"]);
    }
}

#[test]
fn lfw_crops_match_the_reference_embeddings() {
    let (Some(reference), Some(engine), Some(data)) = (reference(), engine(), data_dir()) else {
        return;
    };
    let images = reference["lfw"]["images"]
        .as_array()
        .unwrap_or_else(|| panic!("no LFW references"));
    let mut checked = 0;
    for item in images {
        let path = data.join(item["path"].as_str().unwrap_or_default());
        if !path.is_file() {
            println!("not present: {}", path.display());
            continue;
        }
        checked += 1;
        let crop = &item["crop"];
        let (x, y, w, h) = (
            crop["x"].as_u64().unwrap_or(0) as u32,
            crop["y"].as_u64().unwrap_or(0) as u32,
            crop["width"].as_u64().unwrap_or(150) as u32,
            crop["height"].as_u64().unwrap_or(150) as u32,
        );
        let chip = image::imageops::crop_imm(&rgb(&path), x, y, w, h).to_image();
        let float32 = engine
            .embed_chips_blocking(vec![chip.clone()], Precision::Float32)
            .unwrap_or_else(|e| panic!("{e}"));
        // The int8 model (the default for identities) approximates the float32 one.
        let int8 = engine
            .embed_chips_blocking(vec![chip], Precision::Int8)
            .unwrap_or_else(|e| panic!("{e}"));
        for key in ["onnx_embedding", "faceapi_embedding"] {
            let want = floats(&item[key]);
            let c = cosine(&float32[0], &want);
            assert!(
                c > 0.999,
                "{}: float32 cosine {c} against {key}",
                path.display()
            );
            let c = cosine(&int8[0], &want);
            assert!(
                c > 0.995,
                "{}: int8 cosine {c} against {key}",
                path.display()
            );
        }
    }
    assert!(
        checked > 0,
        "none of the reference's LFW images is in the shared data"
    );
}
