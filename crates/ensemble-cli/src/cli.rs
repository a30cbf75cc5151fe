//! The command line's arguments (clap): commands, their options and help.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use ensemble::{Session, SessionOptions};

use crate::error::{stderr_color, CliError};

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
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Memory the query operators may hold at once (for example 512M or 4G); past it they
    /// spill to disk or the statement fails. Default: ENSEMBLE_MEMORY_LIMIT, else 60 % of the
    /// machine's memory.
    #[arg(long, global = true, value_parser = ensemble::parse_size)]
    pub memory_limit: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a segment script and print the members of its last expression.
    #[command(
        after_help = "Examples:\n  ensemble run --catalog data/ensemble.toml examples/loyalty.seg\n  ensemble run --catalog data/ensemble.toml --as-of 2026-06-30 -e 'all - [has purchases]' --format csv"
    )]
    Run {
        #[command(flatten)]
        input: Input,
        /// Output format of the members.
        #[arg(long, value_enum, default_value_t = crate::output::Format::Table)]
        format: crate::output::Format,
        /// Write the members to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Run a script's reports (overlap, kpi, transition, trend, snapshot, diff): print each as
    /// a table; export the last one's tables and draw its chart.
    #[command(
        after_help = "Examples:\n  ensemble report -c data/demo/ensemble.toml examples/loyalty.seg -r 'kpi statut' --chart kpi.png\n  ensemble report -c data/demo/ensemble.toml examples/loyalty.seg -r 'overlap clients, vip, champions' --output overlap.csv"
    )]
    Report {
        #[command(flatten)]
        input: Input,
        /// A report to run after the script's statements (the script then only defines).
        #[arg(long = "report", short = 'r')]
        report: Option<String>,
        /// Write the last report's tables to this .csv, .json or .parquet file (several tables:
        /// NAME-TABLE.EXT beside it).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Draw the last report's chart to this .svg or .png file (repeat for both).
        #[arg(long)]
        chart: Vec<PathBuf>,
    },
    /// Write an audience for activation: one row per member of a set with chosen values, a
    /// true/false column per segment and the tier of each partition (.parquet with the
    /// definitions in its metadata, or .csv with a .meta.json sidecar).
    #[command(
        after_help = "Examples:\n  ensemble audience -c data/demo/ensemble.toml examples/loyalty.seg --set vip --value email --value city --value ca_12m --value rfm.score -o vip.parquet\n  ensemble audience -c data/demo/ensemble.toml examples/loyalty.seg --set 'statut.bons ∩ [city = \"Paris\"]' -o bons_paris.csv"
    )]
    Audience {
        #[command(flatten)]
        input: Input,
        /// The set whose members are the rows.
        #[arg(long)]
        set: String,
        /// A value per member (a universe column, a field, rfm.score…); repeat for several.
        #[arg(long = "value")]
        values: Vec<String>,
        /// The file to write (.parquet or .csv).
        #[arg(long, short)]
        output: PathBuf,
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
    /// Serve the catalog, the script's segments, tiers and scores, and reports to BI tools
    /// and notebooks over the Postgres wire protocol and Arrow Flight SQL (read-only).
    #[command(
        after_help = "Examples:\n  ENSEMBLE_SERVE_PASSWORD=secret ensemble serve -c data/demo/ensemble.toml -s examples/loyalty.seg --pg 127.0.0.1:5433 --flight 127.0.0.1:50051\n  ensemble serve -c data/demo/ensemble.toml -s examples/loyalty.seg --insecure-loopback\n\nThen: psql \"host=127.0.0.1 port=5433 user=ensemble\" -c 'SELECT count(*) FROM vip'"
    )]
    Serve(ServeArgs),
    /// Whether sets (segments, tiers, expressions) are disjoint and cover the universe:
    /// each overlap and the members in none, with counts and a few keys.
    #[command(
        after_help = "Examples:\n  ensemble exclusive -c data/demo/ensemble.toml examples/loyalty.seg --sets vip,endormis,inactifs,prospects\n  ensemble exclusive -c data/demo/ensemble.toml -e 'segment a = [points > 10]' --sets 'a,all - a'"
    )]
    Exclusive {
        #[command(flatten)]
        input: Input,
        /// The sets, separated by commas (the script defines them; nothing else is
        /// evaluated).
        #[arg(long, value_delimiter = ',', required = true, num_args = 1..)]
        sets: Vec<String>,
    },
    /// For one member: the values the leaves of the script's last expression read, and
    /// whether the member is in or out at every step.
    #[command(
        after_help = "Examples:\n  ensemble why --catalog data/demo/ensemble.toml --member 1042 examples/loyalty.seg\n  ensemble why -c data/demo/ensemble.toml --member 1042 -e 'segment vip = [sum(purchases.amount) >= 1000]; vip'"
    )]
    Why {
        #[command(flatten)]
        input: Input,
        /// The member's key (compared as text with the universe key).
        #[arg(long, short)]
        member: String,
    },
}

/// `ensemble serve`'s options.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The catalog file (TOML).
    #[arg(long, short, default_value = "ensemble.toml")]
    pub catalog: PathBuf,
    /// The script whose definitions are served (reloaded when it changes).
    #[arg(long, short)]
    pub script: Option<PathBuf>,
    /// Evaluation date (YYYY-MM-DD); wins over `as of` statements in the script.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Serve the Postgres wire protocol on this address (default 127.0.0.1:5433 when
    /// neither --pg nor --flight is given).
    #[arg(long)]
    pub pg: Option<std::net::SocketAddr>,
    /// Serve Arrow Flight SQL on this address (for example 127.0.0.1:50051).
    #[arg(long)]
    pub flight: Option<std::net::SocketAddr>,
    /// The user name clients give.
    #[arg(long, default_value = "ensemble")]
    pub user: String,
    /// A file holding the password (else ENSEMBLE_SERVE_PASSWORD); Flight SQL also takes it
    /// as a bearer token.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// Accept clients without a password: only on loopback addresses.
    #[arg(long)]
    pub insecure_loopback: bool,
    /// TLS certificate chain (PEM); plaintext clients are then refused.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Longest a query may run, in seconds (segment evaluation included).
    #[arg(long, default_value_t = 300)]
    pub query_timeout: u64,
    /// Memory one query may hold (for example 512M or 2G); sorts and aggregates spill past
    /// it. Default 2G.
    #[arg(long, value_parser = ensemble::parse_size)]
    pub query_memory: Option<usize>,
    /// Smallest segment whose members may be queried; smaller ones answer counts only.
    #[arg(long, default_value_t = 10)]
    pub min_audience: usize,
    /// How often the script and the data files are checked for changes, in seconds.
    #[arg(long, default_value_t = 2)]
    pub poll: u64,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Turn a CSV export into a Parquet table of the catalog.
    #[command(
        after_help = "Examples:\n  ensemble import csv -c data/ensemble.toml --table purchases --key customer_id --time purchased_at purchases.csv\n  ensemble import csv -c data/ensemble.toml --table stores --delimiter ';' --type code=string --date-format opened=%d/%m/%Y stores.csv\n  ensemble import csv -c data/ensemble.toml --table customers --universe --key customer_id --since signup_date customers.csv"
    )]
    Csv(crate::commands::import::CsvArgs),
}

#[derive(Debug, clap::Args)]
pub struct Input {
    /// The catalog file (TOML).
    #[arg(long, short, default_value = "ensemble.toml")]
    pub catalog: PathBuf,
    /// Evaluation date (YYYY-MM-DD); wins over `as of` statements in the script.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// The script text, instead of a file.
    /// (A script may start with a `--` comment: `-e '-- vip\nvip'` is a script, not a flag.)
    #[arg(
        short = 'e',
        long = "expr",
        conflicts_with = "script",
        allow_hyphen_values = true
    )]
    pub text: Option<String>,
    /// The script file (`-` for standard input).
    #[arg(required_unless_present = "text")]
    pub script: Option<PathBuf>,
}

/// A date argument (`--as-of 2026-06-30`), read by the project's one date reader.
pub fn parse_date(text: &str) -> Result<chrono::NaiveDate, String> {
    ensemble::parse_date(text).map_err(|e| e.to_string())
}

impl Input {
    /// The script text and where it came from.
    pub fn read(&self) -> Result<(String, String), CliError> {
        if let Some(text) = &self.text {
            return Ok((text.clone(), "<expr>".into()));
        }
        let path = self.script.as_ref().expect("clap requires a script or -e");
        let text =
            ensemble::fs::read_text_limited(path, MAX_SCRIPT_BYTES).map_err(|e| match e {
                ensemble::fs::FsError::NotUtf8 { .. } => {
                    CliError::Language(format!("Error: {e}\n"))
                }
                _ => CliError::Data(format!("Error: {e}\n")),
            })?;
        Ok((text, path.display().to_string()))
    }

    /// A session on the catalog, the date pinned by `--as-of`.
    pub async fn session(&self, options: &SessionOptions) -> Result<Session, CliError> {
        let color = stderr_color();
        let mut session = Session::open_with(&self.catalog, options)
            .await
            .map_err(|e| CliError::from_engine(&e, color))?;
        if let Some(date) = self.as_of {
            session.pin_as_of(date);
        }
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    /// `--as-of` is read by the project's one date reader, with its one message.
    #[test]
    fn dates_are_read_by_the_one_reader() {
        assert_eq!(
            super::parse_date("2026-06-30"),
            Ok(chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap())
        );
        assert_eq!(
            super::parse_date("2026-6-30"),
            Err("'2026-6-30' is not a date: write dates as 2025-01-01".to_string())
        );
    }
}
