//! The procedural rock gallery: determinism, variety, crop geometry, and that the
//! faces are really there (eye hollows darker than the stone around them).
use image::RgbImage;
use rockstar::rocks::generate::{contact_sheet, face_layout, render_rock, FaceLayout, FACE_SIZE};

fn luma(img: &RgbImage, x: u32, y: u32) -> f32 {
    let p = img.get_pixel(x, y).0;
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// Mean luma of the pixels whose centres lie between radii r0 and r1 of (cx, cy).
fn ring_mean(img: &RgbImage, (cx, cy): (f32, f32), r0: f32, r1: f32) -> Option<f32> {
    let (mut sum, mut n) = (0.0, 0u32);
    let x_lo = (cx - r1).floor().max(0.0) as u32;
    let y_lo = (cy - r1).floor().max(0.0) as u32;
    let x_hi = ((cx + r1).ceil() as u32).min(img.width());
    let y_hi = ((cy + r1).ceil() as u32).min(img.height());
    for y in y_lo..y_hi {
        for x in x_lo..x_hi {
            let dx = x as f32 + 0.5 - cx;
            let dy = y as f32 + 0.5 - cy;
            let d = (dx * dx + dy * dy).sqrt();
            if d >= r0 && d <= r1 {
                sum += luma(img, x, y);
                n += 1;
            }
        }
    }
    (n > 0).then(|| sum / n as f32)
}

fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f32 {
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f32 / a.as_raw().len() as f32
}

#[test]
fn same_arguments_give_identical_pixels_and_name() {
    let a = render_rock(42, 7, 96);
    let b = render_rock(42, 7, 96);
    assert_eq!(a.photo.as_raw(), b.photo.as_raw());
    assert_eq!(a.face.as_raw(), b.face.as_raw());
    assert_eq!(a.name, b.name);
    assert_eq!(face_layout(42, 7, 96), face_layout(42, 7, 96));
}

#[test]
fn photo_and_face_have_the_promised_sizes() {
    for size in [1, 33, 128] {
        let rock = render_rock(1, 0, size);
        assert_eq!(rock.photo.dimensions(), (size, size));
        assert_eq!(rock.face.dimensions(), (FACE_SIZE, FACE_SIZE));
        assert!(!rock.name.trim().is_empty());
    }
}

#[test]
fn different_indices_and_seeds_give_different_rocks() {
    let photos: Vec<RgbImage> = (0..8).map(|i| render_rock(3, i, 64).photo).collect();
    for i in 0..photos.len() {
        for j in i + 1..photos.len() {
            let diff = mean_abs_diff(&photos[i], &photos[j]);
            assert!(
                diff > 3.0,
                "rocks {i} and {j} are nearly the same (mean abs diff {diff})"
            );
        }
    }
    let other_seed = render_rock(4, 0, 64).photo;
    assert!(
        mean_abs_diff(&photos[0], &other_seed) > 3.0,
        "seed does not change the rock"
    );
}

#[test]
fn names_vary_across_the_gallery() {
    let names: std::collections::HashSet<String> =
        (0..40).map(|i| render_rock(9, i, 8).name).collect();
    assert!(
        names.len() >= 25,
        "only {} distinct names in 40 rocks: {names:?}",
        names.len()
    );
}

#[test]
fn face_features_sit_inside_the_crop_in_face_order() {
    for index in 0..20 {
        let layout: FaceLayout = face_layout(5, index, 512);
        let (x0, y0, side) = layout.face_box;
        assert!(side > 0.0);
        // The face box is a real crop of the rock, not the whole photo.
        assert!(
            side < 512.0 * 0.8,
            "rock {index}: face box {side} px is most of the photo"
        );
        for p in [layout.eyes[0], layout.eyes[1], layout.mouth] {
            assert!(
                p.0 > x0 && p.0 < x0 + side && p.1 > y0 && p.1 < y0 + side,
                "rock {index}: {p:?} outside {:?}",
                layout.face_box
            );
        }
        let [l, r] = layout.eyes;
        assert!(l.0 < r.0, "rock {index}: eyes out of order");
        assert!(
            layout.mouth.1 > l.1.max(r.1),
            "rock {index}: mouth above the eyes"
        );
        let f = layout.photo_to_face(layout.mouth);
        assert!(
            f.1 > FACE_SIZE as f32 / 2.0,
            "rock {index}: mouth in the upper half of the crop"
        );
    }
}

#[test]
fn layout_scales_with_photo_size() {
    let small = face_layout(11, 2, 100);
    let big = face_layout(11, 2, 400);
    for k in 0..2 {
        assert!((big.eyes[k].0 - 4.0 * small.eyes[k].0).abs() < 0.01);
        assert!((big.eyes[k].1 - 4.0 * small.eyes[k].1).abs() < 0.01);
        assert!((big.eye_radius[k] - 4.0 * small.eye_radius[k]).abs() < 0.01);
        assert!(big.eye_extent[k] >= big.eye_radius[k]);
    }
}

/// The face reads as a face only if the eye hollows are darker than the stone
/// just around them. Checked in the face crop, at the positions the layout gives.
#[test]
fn eye_hollows_are_darker_than_the_surrounding_stone() {
    for index in 0..12 {
        let rock = render_rock(2024, index, 32);
        let layout = face_layout(2024, index, 32);
        let scale = FACE_SIZE as f32 / layout.face_box.2;
        for k in 0..2 {
            let centre = layout.photo_to_face(layout.eyes[k]);
            let r = layout.eye_radius[k] * scale;
            let extent = layout.eye_extent[k] * scale;
            assert!(
                r >= 2.0,
                "rock {index}: eye {k} is only {r} px in the face crop"
            );
            let Some(inside) = ring_mean(&rock.face, centre, 0.0, (0.4 * r).max(1.0)) else {
                panic!("rock {index}: eye {k} centre {centre:?} is outside the face crop");
            };
            // Beyond the hollow's long axis (edges are ragged by up to ~40 %).
            let Some(around) = ring_mean(&rock.face, centre, 1.7 * extent, 2.5 * extent) else {
                panic!("rock {index}: no stone around eye {k} inside the face crop");
            };
            assert!(
                inside < 0.8 * around,
                "rock {index} ({}): eye {k} luma {inside:.1} not darker than the stone around it ({around:.1})",
                rock.name
            );
        }
    }
}

#[test]
fn contact_sheet_tiles_are_the_rock_photos() {
    let (count, tile) = (10, 40);
    let sheet = contact_sheet(8, count, tile);
    assert!(sheet.width() * sheet.height() >= count * tile * tile);
    // Find each photo somewhere on the sheet, exactly.
    for index in [0, count - 1] {
        let photo = render_rock(8, index, tile).photo;
        let found = (0..=sheet.height() - tile).any(|y| {
            (0..=sheet.width() - tile).any(|x| {
                (0..tile).all(|dy| {
                    (0..tile).all(|dx| sheet.get_pixel(x + dx, y + dy) == photo.get_pixel(dx, dy))
                })
            })
        });
        assert!(found, "photo of rock {index} is not on the sheet");
    }
}
