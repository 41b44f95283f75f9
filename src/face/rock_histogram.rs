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
    0.000025, 0.000388, 0.001176, 0.002328, 0.003593, 0.005039, 0.006507, 0.007989,
    0.009515, 0.010937, 0.012413, 0.013913, 0.015297, 0.016630, 0.017940, 0.019208,
    0.020455, 0.021675, 0.022875, 0.024031, 0.025134, 0.026201, 0.027242, 0.028281,
    0.029301, 0.030314, 0.031312, 0.032296, 0.033268, 0.034204, 0.035146, 0.036072,
    0.036988, 0.037920, 0.038854, 0.039771, 0.040711, 0.041650, 0.042607, 0.043577,
    0.044565, 0.045566, 0.046590, 0.047624, 0.048662, 0.049733, 0.050835, 0.051978,
    0.053140, 0.054331, 0.055567, 0.056825, 0.058112, 0.059426, 0.060786, 0.062199,
    0.063643, 0.065118, 0.066640, 0.068198, 0.069795, 0.071429, 0.073097, 0.074817,
    0.076597, 0.078407, 0.080244, 0.082108, 0.084030, 0.085987, 0.088018, 0.090079,
    0.092206, 0.094381, 0.096636, 0.098924, 0.101282, 0.103735, 0.106247, 0.108808,
    0.111425, 0.114084, 0.116826, 0.119645, 0.122538, 0.125508, 0.128571, 0.131729,
    0.134972, 0.138298, 0.141721, 0.145240, 0.148787, 0.152453, 0.156215, 0.160051,
    0.163944, 0.167941, 0.172049, 0.176226, 0.180497, 0.184877, 0.189349, 0.193886,
    0.198545, 0.203306, 0.208168, 0.213124, 0.218173, 0.223314, 0.228567, 0.233903,
    0.239365, 0.244909, 0.250563, 0.256273, 0.262105, 0.268016, 0.274029, 0.280154,
    0.286379, 0.292722, 0.299169, 0.305685, 0.312267, 0.318959, 0.325755, 0.332552,
    0.339449, 0.346456, 0.353501, 0.360646, 0.367802, 0.374993, 0.382274, 0.389559,
    0.396912, 0.404342, 0.411804, 0.419331, 0.426915, 0.434596, 0.442275, 0.450037,
    0.457866, 0.465750, 0.473701, 0.481684, 0.489781, 0.497894, 0.506048, 0.514254,
    0.522490, 0.530802, 0.539085, 0.547417, 0.555742, 0.564090, 0.572486, 0.580849,
    0.589210, 0.597574, 0.605925, 0.614250, 0.622572, 0.630860, 0.639134, 0.647332,
    0.655530, 0.663668, 0.671779, 0.679860, 0.687891, 0.695886, 0.703799, 0.711660,
    0.719490, 0.727255, 0.734963, 0.742619, 0.750213, 0.757729, 0.765144, 0.772495,
    0.779765, 0.786958, 0.794049, 0.801017, 0.807900, 0.814658, 0.821317, 0.827838,
    0.834280, 0.840565, 0.846748, 0.852810, 0.858764, 0.864588, 0.870284, 0.875825,
    0.881253, 0.886563, 0.891751, 0.896809, 0.901759, 0.906558, 0.911235, 0.915768,
    0.920201, 0.924519, 0.928677, 0.932714, 0.936616, 0.940390, 0.944038, 0.947561,
    0.950968, 0.954236, 0.957371, 0.960395, 0.963306, 0.966073, 0.968725, 0.971267,
    0.973663, 0.975929, 0.978072, 0.980063, 0.981927, 0.983669, 0.985297, 0.986814,
    0.988218, 0.989516, 0.990699, 0.991786, 0.992789, 0.993671, 0.994468, 0.995181,
    0.995792, 0.996326, 0.996808, 0.997228, 0.997599, 0.997943, 0.998296, 0.998551,
    0.998767, 0.998967, 0.999151, 0.999326, 0.999507, 0.999688, 0.999862, 1.000000,
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
