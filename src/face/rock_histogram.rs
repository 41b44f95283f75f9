//! The rocks' pooled grey-level distribution, for matching human chips to the rock domain.
//!
//! ROCK_GREY_CDF[v] = fraction of grey pixels <= v, pooled over the 1,019 rock face crops of
//! the development set, each resized to the 150-px chip (the plain view). It is a summary
//! statistic, not image data; regenerate with
//! `cargo test --lib rock_histogram -- --ignored --nocapture`.
#[cfg(test)]
use image::RgbImage;

#[rustfmt::skip]
pub(crate) const ROCK_GREY_CDF: [f32; 256] = [
    0.000028, 0.000398, 0.001195, 0.002355, 0.003626, 0.005075, 0.006550, 0.008038,
    0.009564, 0.010994, 0.012476, 0.013984, 0.015373, 0.016714, 0.018032, 0.019314,
    0.020563, 0.021796, 0.023000, 0.024163, 0.025272, 0.026350, 0.027403, 0.028447,
    0.029479, 0.030490, 0.031495, 0.032477, 0.033446, 0.034388, 0.035336, 0.036264,
    0.037186, 0.038128, 0.039061, 0.039988, 0.040926, 0.041869, 0.042833, 0.043805,
    0.044796, 0.045799, 0.046826, 0.047864, 0.048910, 0.049987, 0.051094, 0.052239,
    0.053413, 0.054607, 0.055853, 0.057115, 0.058417, 0.059734, 0.061097, 0.062516,
    0.063971, 0.065445, 0.066975, 0.068535, 0.070142, 0.071780, 0.073454, 0.075181,
    0.076959, 0.078770, 0.080609, 0.082478, 0.084403, 0.086361, 0.088398, 0.090469,
    0.092587, 0.094770, 0.097028, 0.099332, 0.101690, 0.104142, 0.106654, 0.109212,
    0.111832, 0.114489, 0.117234, 0.120053, 0.122946, 0.125907, 0.128973, 0.132129,
    0.135380, 0.138699, 0.142117, 0.145623, 0.149167, 0.152826, 0.156581, 0.160422,
    0.164319, 0.168313, 0.172411, 0.176578, 0.180848, 0.185231, 0.189704, 0.194233,
    0.198903, 0.203656, 0.208510, 0.213460, 0.218496, 0.223630, 0.228881, 0.234215,
    0.239665, 0.245196, 0.250847, 0.256556, 0.262376, 0.268274, 0.274291, 0.280415,
    0.286646, 0.292980, 0.299418, 0.305918, 0.312500, 0.319180, 0.325972, 0.332758,
    0.339644, 0.346635, 0.353676, 0.360810, 0.367937, 0.375111, 0.382384, 0.389656,
    0.396986, 0.404399, 0.411845, 0.419357, 0.426925, 0.434573, 0.442242, 0.450003,
    0.457812, 0.465675, 0.473609, 0.481590, 0.489658, 0.497752, 0.505901, 0.514095,
    0.522306, 0.530592, 0.538851, 0.547173, 0.555494, 0.563827, 0.572208, 0.580562,
    0.588907, 0.597261, 0.605601, 0.613912, 0.622214, 0.630490, 0.638756, 0.646935,
    0.655123, 0.663255, 0.671352, 0.679434, 0.687456, 0.695450, 0.703352, 0.711211,
    0.719038, 0.726789, 0.734500, 0.742159, 0.749746, 0.757260, 0.764670, 0.772029,
    0.779301, 0.786483, 0.793575, 0.800542, 0.807435, 0.814189, 0.820846, 0.827371,
    0.833821, 0.840104, 0.846290, 0.852343, 0.858286, 0.864118, 0.869828, 0.875365,
    0.880792, 0.886104, 0.891292, 0.896349, 0.901304, 0.906111, 0.910790, 0.915328,
    0.919765, 0.924080, 0.928240, 0.932284, 0.936188, 0.939962, 0.943618, 0.947151,
    0.950563, 0.953832, 0.956983, 0.960019, 0.962940, 0.965717, 0.968378, 0.970924,
    0.973323, 0.975596, 0.977748, 0.979752, 0.981627, 0.983378, 0.985012, 0.986540,
    0.987957, 0.989263, 0.990464, 0.991565, 0.992576, 0.993468, 0.994277, 0.995002,
    0.995625, 0.996171, 0.996667, 0.997097, 0.997481, 0.997834, 0.998192, 0.998458,
    0.998688, 0.998895, 0.999089, 0.999275, 0.999468, 0.999658, 0.999847, 1.000000,
];

#[cfg(test)]
/// Pooled grey CDF of crops, each resized to the chip first (as the plain rock view).
pub(crate) fn pooled_grey_cdf(crops: &[RgbImage]) -> [f32; 256] {
    let mut hist = [0u64; 256];
    for crop in crops {
        let view = super::embed::rock_views(crop).swap_remove(2);
        for px in view.chunks_exact(3) {
            hist[px[0].round().clamp(0.0, 255.0) as usize] += 1;
        }
    }
    let total: u64 = hist.iter().sum::<u64>().max(1);
    let mut cdf = [0.0f32; 256];
    let mut cum = 0u64;
    for (c, h) in cdf.iter_mut().zip(hist) {
        cum += h;
        *c = cum as f32 / total as f32;
    }
    cdf
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn rock_crops() -> Option<Vec<RgbImage>> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/rocks/faces");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        paths.sort();
        Some(
            paths
                .iter()
                .filter_map(|p| image::open(p).ok().map(|i| i.into_rgb8()))
                .collect(),
        )
    }

    #[test]
    #[ignore = "regenerates the constant; run by hand"]
    fn print_rock_grey_cdf() {
        let Some(crops) = rock_crops() else {
            println!("skipped: ../shared/data/rocks/faces is absent");
            return;
        };
        let cdf = pooled_grey_cdf(&crops);
        let body: Vec<String> = cdf.iter().map(|v| format!("{v:.6}")).collect();
        println!(
            "pub(crate) const ROCK_GREY_CDF: [f32; 256] = [{}];",
            body.join(", ")
        );
    }

    #[test]
    fn stored_cdf_matches_the_rock_data() {
        let Some(crops) = rock_crops() else {
            println!("skipped: ../shared/data/rocks/faces is absent");
            return;
        };
        let cdf = pooled_grey_cdf(&crops);
        let worst = cdf
            .iter()
            .zip(ROCK_GREY_CDF.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-3,
            "stored rock CDF differs from the data by {worst}"
        );
    }
}
