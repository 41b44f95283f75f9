//! The `rockstar` command line. Each subcommand calls into one module.
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "rockstar", version, about = "A social network in which nobody shows a face")]
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    rockstar::telemetry::init("info,sqlx=warn", std::io::stderr);
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => rockstar::cli::serve(args).await,
        Command::Migrate(args) => rockstar::cli::migrate(args).await,
    }
}
