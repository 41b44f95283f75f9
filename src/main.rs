use clap::Parser;

#[derive(Parser)]
#[command(name = "rockstar", version, about = "RockStar: a social network in which nobody shows a face")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// The rock gallery: import, generate, calibrate.
    #[command(subcommand)]
    Rocks(rockstar::rocks::cli::RocksCommand),
    /// Quality figures.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Speed figures.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(clap::Subcommand)]
enum EvalCommand {
    /// Rank of each person's own rock over the whole gallery (grouped cross-validation).
    Pairs(rockstar::eval::pairs::PairsArgs),
    /// How distinct people spread over the gallery.
    Spread(rockstar::eval::spread::SpreadArgs),
}

#[derive(clap::Subcommand)]
enum BenchCommand {
    /// Exact top-1 over a million random rocks on one core.
    Search(rockstar::bench::search::SearchArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_writer(std::io::stderr).init();
    match Cli::parse().command {
        Command::Rocks(c) => rockstar::rocks::cli::run(c).await,
        Command::Eval(EvalCommand::Pairs(a)) => rockstar::eval::pairs::run(a).await,
        Command::Eval(EvalCommand::Spread(a)) => rockstar::eval::spread::run(a).await,
        Command::Bench(BenchCommand::Search(a)) => rockstar::bench::search::run(a),
    }
}
