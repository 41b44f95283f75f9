//! `rockstar bench search`: exact top-1 over N random rocks on one core, against the
//! memory-bandwidth floor measured in the same run.
use crate::rocks::index::RockIndex;
use crate::rocks::Calibration;
use rand::{Rng, SeedableRng};
use std::time::Instant;

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    #[arg(long, default_value_t = 1_000_000, value_parser = super::face::at_least_one)]
    pub rocks: usize,
    /// Vector dimension; default: the calibrated rock-space dimension.
    #[arg(long)]
    pub dim: Option<usize>,
    #[arg(long, default_value = "models/human_reference.bin")]
    pub reference: std::path::PathBuf,
    #[arg(long, default_value_t = 30, value_parser = super::face::at_least_one)]
    pub queries: usize,
}

/// Read bandwidth in bytes/s: a summing pass over a buffer larger than the caches.
fn measure_bandwidth(buf: &[u64]) -> f64 {
    let mut best = f64::MAX;
    let mut sink = 0u64;
    for _ in 0..5 {
        let t = Instant::now();
        // Eight independent sums so the loop is bound by loads, not by one add chain.
        let mut acc = [0u64; 8];
        for chunk in buf.chunks_exact(8) {
            for (a, x) in acc.iter_mut().zip(chunk) {
                *a = a.wrapping_add(*x);
            }
        }
        sink = sink.wrapping_add(acc.iter().fold(0u64, |s, x| s.wrapping_add(*x)));
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(sink);
    (buf.len() * 8) as f64 / best
}

pub fn run(args: SearchArgs) -> anyhow::Result<()> {
    let dim = args.dim.unwrap_or_else(|| {
        Calibration::load(&args.reference)
            .map(|c| c.out_dim())
            .unwrap_or(128)
    });
    let n = args.rocks;
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut index = RockIndex::with_capacity(dim, n);
    let mut codes = vec![0i8; dim];
    for id in 0..n {
        codes
            .iter_mut()
            .for_each(|c| *c = rng.gen_range(-127..=127));
        index.push_quantised(
            id as i64,
            &codes,
            rng.gen_range(0.5e-4..1.5e-4),
            rng.gen_range(0.0..0.05),
        );
    }
    let queries: Vec<Vec<f32>> = (0..args.queries)
        .map(|_| (0..dim).map(|_| rng.gen_range(-1.0f32..1.0)).collect())
        .collect();
    // Warm up (page in, caches, CPU clocks).
    for q in queries.iter().take(3) {
        std::hint::black_box(index.top_k(q, 1));
    }
    let mut times = Vec::with_capacity(queries.len());
    for q in &queries {
        let t = Instant::now();
        std::hint::black_box(index.top_k(q, 1));
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median_ms = times[times.len() / 2];
    let min_ms = times[0];

    let buf: Vec<u64> = (0..(512usize << 20) / 8).map(|i| i as u64).collect();
    let bandwidth = measure_bandwidth(&buf);
    // What the scan reads per rock: the codes, their sum, the gain and the offset (ids are
    // read only for the winner).
    let bytes = n * (dim + 4 + 4 + 4);
    let floor_ms = bytes as f64 / bandwidth * 1e3;
    println!(
        "{}",
        serde_json::json!({
            "rocks": n, "dim": dim, "storage": "i8", "queries": queries.len(),
            "top1_median_ms": median_ms, "top1_min_ms": min_ms,
            "bytes_scanned": bytes, "bandwidth_gb_s": bandwidth / 1e9, "bandwidth_floor_ms": floor_ms,
            "ratio_to_floor": median_ms / floor_ms,
        })
    );
    Ok(())
}
