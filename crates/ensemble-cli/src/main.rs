//! The `ensemble` command line: one module per subcommand (`commands/`), the arguments
//! (`cli.rs`), the error enum and its exit codes (`error.rs`), the REPL (`repl/`), and the
//! one writer of results (`output.rs`).

mod cli;
mod commands;
mod error;
mod output;
mod repl;
mod signals;
mod stdio;

use std::process::ExitCode;

use clap::Parser;
use stdio::{err, errln};

fn main() -> ExitCode {
    ensemble::process::tune_allocator();
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            errln!("Error: cannot start the runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let repl = matches!(cli.command, None | Some(cli::Command::Repl { .. }));
    if let Err(error) = signals::install(&runtime, !repl) {
        errln!("Error: cannot listen for signals: {error}");
        return ExitCode::from(2);
    }
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            err!("{}", error.text());
            error.exit_code()
        }
    }
}
