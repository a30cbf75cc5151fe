//! `ensemble import csv`: the arguments and the report.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::error::CliError;
use crate::stdio::errln;

/// The arguments of `ensemble import csv`.
#[derive(Debug, clap::Args)]
pub struct CsvArgs {
    /// The catalog file (created if missing; its directory must exist).
    #[arg(long, short, default_value = "ensemble.toml")]
    catalog: PathBuf,
    /// The table's name.
    #[arg(long)]
    table: String,
    /// Field delimiter (one character; `\t` for tab).
    #[arg(long, default_value = ",")]
    delimiter: String,
    /// A column's type: COLUMN=int|float|decimal(SCALE)|bool|date|timestamp|string.
    #[arg(long = "type", value_name = "COLUMN=TYPE")]
    types: Vec<String>,
    /// A column's date format (chrono syntax): COLUMN=%d/%m/%Y. Without --type, the column
    /// is a date (a timestamp if the format has time fields); other values are bad rows.
    #[arg(long = "date-format", value_name = "COLUMN=FORMAT")]
    date_formats: Vec<String>,
    /// Numbers use a decimal comma: 12,50 is 12.50.
    #[arg(long)]
    decimal_comma: bool,
    /// The column referencing the universe key (with --universe: the universe's key).
    #[arg(long)]
    key: Option<String>,
    /// The table's time column (a date or timestamp).
    #[arg(long)]
    time: Option<String>,
    /// Import the universe table: the catalog's [universe] names it, with --key.
    #[arg(long, requires = "key", conflicts_with = "time")]
    universe: bool,
    /// The universe's date column telling when each member joined (with --universe).
    #[arg(long, requires = "universe", value_name = "COLUMN")]
    since: Option<String>,
    /// Replace an existing table (crash-safe: the catalog switches to the new file at once).
    #[arg(long)]
    overwrite: bool,
    /// Import the good rows and report the bad ones instead of refusing.
    #[arg(long)]
    skip_bad_rows: bool,
    /// The CSV file, with a header line.
    file: PathBuf,
}

/// Runs the import and reports the table written on standard error.
pub fn run(args: CsvArgs) -> Result<(), CliError> {
    let usage = |message: String| CliError::Language(format!("Error: {message}\n"));
    let delimiter = match args.delimiter.as_str() {
        "\\t" | "tab" => b'\t',
        d if d.len() == 1 => d.as_bytes()[0],
        d => {
            return Err(usage(format!(
                "--delimiter must be one character, not '{d}'"
            )))
        }
    };
    let mut types = BTreeMap::new();
    for item in args.types {
        let (column, ty) = item
            .split_once('=')
            .ok_or_else(|| usage(format!("--type {item}: expected COLUMN=TYPE")))?;
        let ty = ty
            .parse()
            .map_err(|e| usage(format!("--type {item}: {e}")))?;
        types.insert(column.to_string(), ty);
    }
    let mut date_formats = BTreeMap::new();
    for item in args.date_formats {
        let (column, format) = item
            .split_once('=')
            .ok_or_else(|| usage(format!("--date-format {item}: expected COLUMN=FORMAT")))?;
        date_formats.insert(column.to_string(), format.to_string());
    }
    let options = ensemble::import::ImportOptions {
        catalog: args.catalog,
        table: args.table,
        csv: args.file,
        delimiter,
        types,
        date_formats,
        decimal_comma: args.decimal_comma,
        key: args.key,
        time: args.time,
        universe: args.universe,
        since: args.since,
        overwrite: args.overwrite,
        skip_bad_rows: args.skip_bad_rows,
    };
    let report = ensemble::import::import_csv(&options)
        .map_err(|e| CliError::Data(format!("Error: {e}\n")))?;
    errln!(
        "imported {} rows into {}",
        ensemble::group_thousands(report.rows as usize),
        report.path.display()
    );
    for (column, ty) in &report.columns {
        errln!("  {column:<24} {ty}");
    }
    for hint in &report.hints {
        errln!("hint: {hint}");
    }
    if report.bad_row_count > 0 {
        errln!("left out {} bad row(s):", report.bad_row_count);
        for row in &report.bad_rows {
            errln!("  line {}: {}", row.line, row.problem);
        }
    }
    Ok(())
}
