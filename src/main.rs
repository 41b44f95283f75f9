//! The `rockstar` command line.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "rockstar",
    version,
    about = "A social network in which nobody shows a face."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The rock gallery.
    Rocks {
        #[command(subcommand)]
        command: RocksCommand,
    },
}

#[derive(Subcommand)]
enum RocksCommand {
    /// Render a contact sheet of generated rocks to a PNG file.
    Sheet {
        /// Output PNG path.
        out: PathBuf,
        /// Number of rocks.
        #[arg(long, default_value_t = 48)]
        count: u32,
        /// Gallery seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Tile side in pixels.
        #[arg(long, default_value_t = 192)]
        tile: u32,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Rocks { command } => match command {
            RocksCommand::Sheet {
                out,
                count,
                seed,
                tile,
            } => rocks_sheet(&out, count, seed, tile),
        },
    }
}

fn rocks_sheet(out: &std::path::Path, count: u32, seed: u64, tile: u32) -> anyhow::Result<()> {
    if !(1..=10_000).contains(&count) {
        bail!("--count must be between 1 and 10000, got {count}");
    }
    if !(16..=2048).contains(&tile) {
        bail!("--tile must be between 16 and 2048 pixels, got {tile}");
    }
    let start = Instant::now();
    let sheet = rockstar::rocks::generate::contact_sheet(seed, count, tile);
    let elapsed = start.elapsed();
    sheet
        .save(out)
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {} ({} rocks, {tile} px tiles) in {:.1} ms, {:.2} ms per rock",
        out.display(),
        count,
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_secs_f64() * 1e3 / f64::from(count)
    );
    Ok(())
}
