//! One module per subcommand; [`run`] dispatches.

pub mod audience;
pub mod demo;
pub mod exclusive;
pub mod explain;
pub mod generate;
pub mod import;
pub mod repl;
pub mod report;
pub mod run;
pub mod serve;
pub mod tables;
pub mod why;

use ensemble::SessionOptions;

use crate::cli::{Cli, Command, ImportCommand};
use crate::error::{stderr_color, CliError};

/// Runs the command line's command (the REPL without one).
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let color = stderr_color();
    let options = SessionOptions {
        memory_limit: cli.memory_limit,
    };
    let command = cli.command.unwrap_or(Command::Repl {
        catalog: None,
        as_of: None,
    });
    match command {
        Command::Repl { catalog, as_of } => repl::run(catalog, as_of, &options, color).await,
        Command::Run {
            input,
            format,
            output,
        } => run::run(&input, format, output.as_deref(), &options, color).await,
        Command::Report {
            input,
            report,
            output,
            chart,
        } => {
            let files = report::Files {
                output: output.as_deref(),
                charts: &chart,
            };
            report::run(&input, report.as_deref(), files, &options, color).await
        }
        Command::Audience {
            input,
            set,
            values,
            output,
        } => {
            let spec = ensemble::AudienceSpec { set, values };
            audience::run(&input, &spec, &output, &options, color).await
        }
        Command::Check { input } => run::check(&input, &options, color).await,
        Command::Export { input, output } => run::export(&input, &output, &options, color).await,
        Command::Explain { input } => explain::run(&input, &options, color).await,
        Command::Exclusive { input, sets } => exclusive::run(&input, &sets, &options, color).await,
        Command::Why { input, member } => why::run(&input, &member, &options, color).await,
        Command::Generate {
            customers,
            seed,
            as_of,
            out,
            overwrite,
        } => generate::run(customers, seed, as_of, &out, overwrite),
        Command::Import(ImportCommand::Csv(args)) => import::run(args),
        Command::Demo => demo::run(&options, color).await,
        Command::Serve(args) => serve::run(args, &options).await,
        Command::Tables { catalog } => tables::tables(&catalog, &options, color).await,
        Command::Describe { catalog, table } => {
            tables::describe(&catalog, &table, &options, color).await
        }
    }
}
