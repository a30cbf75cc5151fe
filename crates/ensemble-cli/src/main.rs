//! The `ensemble` command line.

mod datamart;
mod import;
mod output;
mod repl;
mod signals;
mod stdio;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ensemble::{EngineError, Session, SessionOptions};
use stdio::{err, errln, out};

/// The largest script read from a file or standard input.
const MAX_SCRIPT_BYTES: u64 = ensemble::fs::DEFAULT_READ_LIMIT;

/// Customer segmentation with set theory over Parquet loyalty data.
#[derive(Debug, Parser)]
#[command(
    name = "ensemble",
    version,
    about = "Customer segmentation with set theory over Parquet loyalty data",
    long_about = None,
    after_help = "Without a command, `ensemble` opens the REPL.\n\nExit codes: 0 success, 1 an error in the script (syntax, names, types), 2 a data, catalog or I/O error.\nColours only on a terminal, never when NO_COLOR is set."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Memory the query operators may hold at once (for example 512M or 4G); past it they
    /// spill to disk or the statement fails. Default: ENSEMBLE_MEMORY_LIMIT, else 60 % of the
    /// machine's memory.
    #[arg(long, global = true, value_parser = ensemble::parse_size)]
    memory_limit: Option<usize>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a segment script and print the members of its last expression.
    #[command(
        after_help = "Examples:\n  ensemble run --catalog data/ensemble.toml examples/loyalty.seg\n  ensemble run --catalog data/ensemble.toml --as-of 2026-06-30 -e 'all - [has purchases]' --format csv"
    )]
    Run {
        #[command(flatten)]
        input: Input,
        /// Output format of the members.
        #[arg(long, value_enum, default_value_t = output::Format::Table)]
        format: output::Format,
        /// Write the members to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Explore segments interactively (the default command): define, evaluate, inspect steps.
    #[command(
        after_help = "Examples:\n  ensemble repl --catalog data/demo/ensemble.toml\n  ensemble repl -c data/demo/ensemble.toml < script.seg"
    )]
    Repl {
        /// The catalog file (TOML); by default ./ensemble.toml, else the demo's.
        #[arg(long, short)]
        catalog: Option<PathBuf>,
        /// Evaluation date (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// Parse and check a script without running it; every error is listed.
    #[command(
        after_help = "Examples:\n  ensemble check --catalog data/demo/ensemble.toml examples/loyalty.seg\n  ensemble check -c data/demo/ensemble.toml -e 'segment vip = [sum(purchases.amount) >= 1000]; vip'"
    )]
    Check {
        #[command(flatten)]
        input: Input,
    },
    /// Write the members of a script's last expression, with the universe's columns, to a
    /// .csv, .json or .parquet file.
    #[command(
        after_help = "Examples:\n  ensemble export --catalog data/demo/ensemble.toml -e 'segment vip = [sum(purchases.amount) >= 1000]; vip' --output vip.parquet\n  ensemble export -c data/demo/ensemble.toml --as-of 2026-01-01 examples/loyalty.seg -o members.csv"
    )]
    Export {
        #[command(flatten)]
        input: Input,
        /// The file to write (.csv, .json or .parquet); written atomically.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Generate a realistic loyalty datamart (Parquet tables and their catalog).
    #[command(
        after_help = "Examples:\n  ensemble generate --customers 1000000 --seed 7 --out data/1m\n  ensemble generate --customers 2000 --as-of 2025-12-31 --out /tmp/small"
    )]
    Generate {
        /// Number of customers.
        #[arg(long, default_value_t = 100_000)]
        customers: u64,
        /// Seed: the same seed gives the same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The history ends on this date (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date, default_value = "2026-06-30")]
        as_of: chrono::NaiveDate,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Replace the datamart already in the output directory.
        #[arg(long)]
        overwrite: bool,
    },
    /// Import data into the catalog.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Run the demo: a 100 000-customer datamart (generated on first run in data/demo) and
    /// examples/loyalty.seg.
    #[command(
        after_help = "Examples:\n  ensemble demo\n  ensemble repl            (afterwards: explore the demo datamart)"
    )]
    Demo,
    /// List the catalog's tables.
    #[command(
        after_help = "Examples:\n  ensemble tables --catalog data/demo/ensemble.toml\n  ensemble tables            (./ensemble.toml)"
    )]
    Tables {
        /// The catalog file (TOML).
        #[arg(long, short, default_value = "ensemble.toml")]
        catalog: PathBuf,
    },
    /// Describe a table: columns, types, row count, null share, ranges.
    #[command(
        after_help = "Examples:\n  ensemble describe --catalog data/demo/ensemble.toml customers\n  ensemble describe -c data/demo/ensemble.toml purchases"
    )]
    Describe {
        /// The catalog file (TOML).
        #[arg(long, short, default_value = "ensemble.toml")]
        catalog: PathBuf,
        /// The table.
        table: String,
    },
    /// Show how the last expression of a script is read and the plan of each step, without
    /// running it.
    #[command(
        after_help = "Examples:\n  ensemble explain --catalog data/demo/ensemble.toml examples/loyalty.seg\n  ensemble explain -c data/demo/ensemble.toml -e 'all - [has purchases within 12 months]'"
    )]
    Explain {
        #[command(flatten)]
        input: Input,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Turn a CSV export into a Parquet table of the catalog.
    #[command(
        after_help = "Examples:\n  ensemble import csv -c data/ensemble.toml --table purchases --key customer_id --time purchased_at purchases.csv\n  ensemble import csv -c data/ensemble.toml --table stores --delimiter ';' --type code=string --date-format opened=%d/%m/%Y stores.csv\n  ensemble import csv -c data/ensemble.toml --table customers --universe --key customer_id --since signup_date customers.csv"
    )]
    Csv(import::CsvArgs),
}

#[derive(Debug, clap::Args)]
struct Input {
    /// The catalog file (TOML).
    #[arg(long, short, default_value = "ensemble.toml")]
    catalog: PathBuf,
    /// Evaluation date (YYYY-MM-DD); wins over `as of` statements in the script.
    #[arg(long, value_parser = parse_date)]
    as_of: Option<chrono::NaiveDate>,
    /// The script text, instead of a file.
    /// (A script may start with a `--` comment: `-e '-- vip\nvip'` is a script, not a flag.)
    #[arg(
        short = 'e',
        long = "expr",
        conflicts_with = "script",
        allow_hyphen_values = true
    )]
    text: Option<String>,
    /// The script file (`-` for standard input).
    #[arg(required_unless_present = "text")]
    script: Option<PathBuf>,
}

fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("'{text}' is not a date (YYYY-MM-DD)"))
}

/// How a command failed: the exit code tells a script's error (1) from a data error (2).
enum Failure {
    Language(String),
    Data(String),
}

impl Failure {
    fn from_engine(error: &EngineError, color: bool) -> Failure {
        let text = error.render(color);
        if error.is_language_error() {
            Failure::Language(text)
        } else {
            Failure::Data(text)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    let repl = matches!(cli.command, None | Some(Command::Repl { .. }));
    if let Err(error) = signals::install(&runtime, !repl) {
        errln!("Error: cannot listen for signals: {error}");
        return ExitCode::from(2);
    }
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Language(text)) => {
            err!("{text}");
            ExitCode::from(1)
        }
        Err(Failure::Data(text)) => {
            err!("{text}");
            ExitCode::from(2)
        }
    }
}

fn stderr_color() -> bool {
    use std::io::IsTerminal as _;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

impl Input {
    fn read(&self) -> Result<(String, String), Failure> {
        if let Some(text) = &self.text {
            return Ok((text.clone(), "<expr>".into()));
        }
        let path = self.script.as_ref().expect("clap requires a script or -e");
        let text =
            ensemble::fs::read_text_limited(path, MAX_SCRIPT_BYTES).map_err(|e| match e {
                ensemble::fs::FsError::NotUtf8 { .. } => Failure::Language(format!("Error: {e}\n")),
                _ => Failure::Data(format!("Error: {e}\n")),
            })?;
        Ok((text, path.display().to_string()))
    }

    async fn session(&self, options: &SessionOptions) -> Result<Session, Failure> {
        let color = stderr_color();
        let mut session = Session::open_with(&self.catalog, options)
            .await
            .map_err(|e| Failure::from_engine(&e, color))?;
        if let Some(date) = self.as_of {
            session.pin_as_of(date);
        }
        Ok(session)
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let color = stderr_color();
    let options = SessionOptions {
        memory_limit: cli.memory_limit,
    };
    let command = cli.command.unwrap_or(Command::Repl {
        catalog: None,
        as_of: None,
    });
    match command {
        Command::Repl { catalog, as_of } => {
            let catalog = match catalog {
                Some(path) => path,
                None => ["ensemble.toml", "data/demo/ensemble.toml"]
                    .iter()
                    .map(PathBuf::from)
                    .find(|p| p.exists())
                    .ok_or_else(|| {
                        Failure::Data(
                            "Error: no catalog: pass --catalog FILE, or run `ensemble demo` once to create the demo datamart\n".into(),
                        )
                    })?,
            };
            let mut session = Session::open_with(&catalog, &options)
                .await
                .map_err(|e| Failure::from_engine(&e, color))?;
            if let Some(date) = as_of {
                session.set_as_of(date);
            }
            if repl::Repl::new(session, color).run().await {
                Ok(())
            } else {
                Err(Failure::Language(String::new()))
            }
        }
        Command::Run {
            input,
            format,
            output,
        } => {
            let (text, origin) = input.read()?;
            let mut session = input.session(&options).await?;
            let run = session
                .run_script(&text, &origin)
                .await
                .map_err(|e| Failure::from_engine(&e, color))?;
            for note in &run.notes {
                err!("{}", note.render(&text, &origin, color));
            }
            let Some(evaluation) = run.last_evaluation() else {
                errln!("nothing to evaluate: the script has no bare expression");
                return Ok(());
            };
            // Every bare expression's size; the members printed are the last one's.
            let evaluations: Vec<_> = run
                .outcomes
                .iter()
                .filter_map(|o| match o {
                    ensemble::Outcome::Evaluated(e) => Some(e),
                    _ => None,
                })
                .collect();
            if evaluations.len() > 1 {
                for each in &evaluations {
                    errln!(
                        "{:>12}  {}",
                        ensemble::group_thousands(each.count()),
                        each.steps[each.root].text
                    );
                }
            }
            if format == output::Format::Table {
                err!("{}", evaluation.tree());
                errln!(
                    "{} members as of {} in {:.1?}",
                    ensemble::group_thousands(evaluation.count()),
                    evaluation.as_of,
                    evaluation.elapsed
                );
            }
            output::write_members(evaluation, format, output.as_deref())
                .map_err(|e| Failure::Data(format!("Error: {e}\n")))
        }
        Command::Generate {
            customers,
            seed,
            as_of,
            out,
            overwrite,
        } => {
            let config = ensemble::datagen::GenerateConfig {
                customers,
                seed,
                as_of,
                overwrite,
                ..Default::default()
            };
            datamart::generate_with_progress(&out, config)
                .map(|_| ())
                .map_err(|e| Failure::Data(format!("Error: {e}\n")))
        }
        Command::Import(ImportCommand::Csv(args)) => import::run(args),
        Command::Demo => {
            let catalog =
                datamart::demo_datamart().map_err(|e| Failure::Data(format!("Error: {e}\n")))?;
            let mut session = Session::open_with(&catalog, &options)
                .await
                .map_err(|e| Failure::from_engine(&e, color))?;
            datamart::run_demo(&mut session)
                .await
                .map_err(|e| Failure::from_engine(&e, color))
        }
        Command::Tables { catalog } => {
            let session = Session::open_with(&catalog, &options)
                .await
                .map_err(|e| Failure::from_engine(&e, color))?;
            datamart::print_tables(&session);
            Ok(())
        }
        Command::Describe { catalog, table } => {
            let session = Session::open_with(&catalog, &options)
                .await
                .map_err(|e| Failure::from_engine(&e, color))?;
            let description = session
                .describe(&table)
                .await
                .map_err(|e| Failure::from_engine(&e, color))?;
            out!("{}", datamart::render_description(description));
            Ok(())
        }
        Command::Check { input } => {
            let (text, origin) = input.read()?;
            let mut session = input.session(&options).await?;
            let check = session
                .check_script(&text, &origin)
                .map_err(|e| Failure::from_engine(&e, color))?;
            for note in &check.notes {
                err!("{}", note.render(&text, &origin, color));
            }
            if check.errors.is_empty() {
                errln!("{origin}: {} statement(s), no error", check.statements);
                return Ok(());
            }
            let mut errors: String = check.errors.iter().map(|e| e.render(color)).collect();
            errors.push_str(&format!("{} error(s)\n", check.errors.len()));
            Err(Failure::Language(errors))
        }
        Command::Export { input, output } => {
            let (text, origin) = input.read()?;
            let mut session = input.session(&options).await?;
            let run = session
                .run_script(&text, &origin)
                .await
                .map_err(|e| Failure::from_engine(&e, color))?;
            let Some(evaluation) = run.last_evaluation() else {
                return Err(Failure::Language(
                    "Error: the script has no expression to export\n".into(),
                ));
            };
            let table = evaluation.steps[evaluation.root].table.clone();
            let batches = session
                .members_with_columns(&table)
                .await
                .map_err(|e| Failure::from_engine(&e, color))?;
            output::write_batches(&batches, &output)
                .map_err(|e| Failure::Data(format!("Error: {e}\n")))?;
            errln!(
                "wrote {} members to {}",
                ensemble::group_thousands(evaluation.count()),
                output.display()
            );
            Ok(())
        }
        Command::Explain { input } => {
            let (text, origin) = input.read()?;
            let mut session = input.session(&options).await?;
            // Definitions run; the last bare expression is explained, not evaluated.
            let parsed = ensemble::syntax::parse_script(&text)
                .map_err(|e| Failure::Language(e.diagnostic().render(&text, &origin, color)))?;
            let last = parsed
                .script
                .statements
                .iter()
                .rposition(|s| matches!(s.kind, ensemble::syntax::StatementKind::Evaluate(_)));
            let Some(last) = last else {
                return Err(Failure::Language(
                    "Error: the script has no expression to explain\n".into(),
                ));
            };
            let statement = &parsed.script.statements[last];
            let definitions = &text[..statement.span.start];
            session
                .run_script(definitions, &origin)
                .await
                .map_err(|e| Failure::from_engine(&e, color))?;
            let expression = &text[statement.span.start..statement.span.end];
            let explanation = session
                .explain(expression)
                .map_err(|e| Failure::from_engine(&e, color))?;
            out!("{explanation}");
            Ok(())
        }
    }
}
