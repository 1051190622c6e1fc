//! `kaibiao-load`: the opening hall's load generator (a thin shim over `kaibiao::load`).
//!
//! ```sh
//! kaibiao-load --server http://127.0.0.1:8080 --watchers 10000 --drive amend --server-pid PID
//! kaibiao-load baseline-server --listen 127.0.0.1:9100
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kaibiao::load::{self, RunArgs};

#[derive(Parser)]
#[command(
    name = "kaibiao-load",
    version,
    about = "Load the opening hall with watcher WebSockets and measure event delivery"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the trivial broadcast server the hub is measured against.
    BaselineServer {
        #[arg(long, default_value = "127.0.0.1:9100")]
        listen: SocketAddr,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let soft = load::raise_nofile();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kaibiao-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        match cli.command {
            Some(Command::BaselineServer { listen }) => {
                let listener = tokio::net::TcpListener::bind(listen).await?;
                // The URL last: benches/watchers.sh reads it from there.
                eprintln!(
                    "baseline server (open files: {soft}) on ws://{}/",
                    listener.local_addr()?
                );
                load::baseline::serve(listener).await
            }
            None => {
                eprintln!("open files: {soft}");
                let json = cli.run.json;
                let report = load::run(cli.run).await?;
                if json {
                    println!("{}", serde_json::to_string(&report)?);
                } else {
                    print!("{}", report.text());
                }
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kaibiao-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}
