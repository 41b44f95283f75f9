//! The `rockstar` command line. Each subcommand calls into one module.
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
    /// Run the server (embedded PostgreSQL and local storage unless configured otherwise).
    Serve(rockstar::cli::ServeArgs),
    /// Apply database migrations and exit.
    Migrate(rockstar::cli::CommonArgs),
    /// The rock gallery: sheet, import, generate, calibrate.
    #[command(subcommand)]
    Rocks(rockstar::rocks::cli::RocksCommand),
    /// The face engine on single images.
    #[command(subcommand)]
    Face(rockstar::face::cli::FaceCommand),
    /// Quality figures.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Speed figures.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Rank of each person's own rock over the whole gallery (grouped cross-validation).
    Pairs(rockstar::eval::pairs::PairsArgs),
    /// How distinct people spread over the gallery.
    Spread(rockstar::eval::spread::SpreadArgs),
    /// LFW face verification, thresholds cross-validated over the folds.
    Lfw(rockstar::eval::lfw::LfwArgs),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Exact top-1 over a million random rocks on one core.
    Search(rockstar::bench::search::SearchArgs),
    /// Face pipeline stages, batch throughput and the compute floor.
    Face(rockstar::bench::face::FaceBenchArgs),
}

fn main() -> anyhow::Result<()> {
    // Before any thread allocates.
    rockstar::cli::return_large_allocations();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    rockstar::telemetry::init("info,sqlx=warn", std::io::stderr);
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => rockstar::cli::serve(args).await,
        Command::Migrate(args) => rockstar::cli::migrate(args).await,
        // A stop signal drops the command, and with it its lease on the embedded cluster.
        Command::Rocks(c) => rockstar::cli::until_stop_signal(rockstar::rocks::cli::run(c))
            .await
            .map(|_| ()),
        Command::Face(c) => rockstar::face::cli::run(c),
        Command::Eval(EvalCommand::Pairs(a)) => rockstar::eval::pairs::run(a).await,
        Command::Eval(EvalCommand::Spread(a)) => rockstar::eval::spread::run(a).await,
        Command::Eval(EvalCommand::Lfw(a)) => rockstar::eval::lfw::run(a),
        Command::Bench(BenchCommand::Search(a)) => rockstar::bench::search::run(a),
        Command::Bench(BenchCommand::Face(a)) => rockstar::bench::face::run(a),
    }
}
