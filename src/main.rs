use clap::Parser;

#[derive(Parser)]
#[command(
    name = "rockstar",
    version,
    about = "RockStar: a social network in which nobody shows a face"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
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

#[derive(clap::Subcommand)]
enum EvalCommand {
    /// LFW face verification, thresholds cross-validated over the folds.
    Lfw(rockstar::eval::lfw::LfwArgs),
}

#[derive(clap::Subcommand)]
enum BenchCommand {
    /// Face pipeline stages, batch throughput and the compute floor.
    Face(rockstar::bench::face::FaceBenchArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Face(c) => rockstar::face::cli::run(c),
        Command::Eval(EvalCommand::Lfw(a)) => rockstar::eval::lfw::run(a),
        Command::Bench(BenchCommand::Face(a)) => rockstar::bench::face::run(a),
    }
}
