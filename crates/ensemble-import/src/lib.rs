//! Imports a CSV export into a Parquet table of an ensemble catalog.
//!
//! Two passes over the file: the first infers each column's type (integers, exact decimals,
//! floats, booleans, dates, timestamps, text) unless the user gave it; the second converts
//! every row. A row that does not convert is reported with its line number — the import is
//! refused, or with `skip_bad_rows` the row is left out and still reported. Inference keeps
//! codes with leading zeros (`06511`) as text, reads `12,50` as a decimal with
//! `decimal_comma`, and makes a column with a date format a date (or a timestamp when the
//! format has time fields); see the `types` module.
//!
//! Nothing is ever half-written, and `overwrite` is crash-consistent: the new table goes to a
//! fresh file name (`TABLE.parquet`, else `TABLE.v2.parquet`, `TABLE.v3.parquet`…, never an
//! existing file), then the catalog naming it is published atomically — the one commit point —
//! and only then is the previous data file removed, if this importer wrote it (a bare
//! `TABLE.parquet` or `TABLE.vN.parquet` beside the catalog). Killed at any moment, an import
//! leaves the old catalog and table, or the new ones. [`prepare_import`] stops before the
//! commit point; [`PreparedImport::commit`] passes it.
#![warn(missing_docs)]

mod catalog;
mod convert;
mod suggest;
mod types;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use ensemble_fs::AtomicFile;
use thiserror::Error;

use types::Reading;
pub use types::{ColumnType, DateFormat};

/// What to import, and how.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The catalog to add the table to (created if it does not exist; its directory must).
    pub catalog: PathBuf,
    /// The table's name.
    pub table: String,
    /// The CSV file (with a header line).
    pub csv: PathBuf,
    /// Field delimiter (`b','` for the usual CSV).
    pub delimiter: u8,
    /// Column types given by the user (the others are inferred).
    pub types: BTreeMap<String, ColumnType>,
    /// Date or timestamp formats (chrono's `%d/%m/%Y`…) by column. A column with a format and
    /// no type is a date, or a timestamp when the format has time fields.
    pub date_formats: BTreeMap<String, String>,
    /// Numbers are written with a decimal comma (`12,50`).
    pub decimal_comma: bool,
    /// Column referencing the universe key (for the universe table: its key).
    pub key: Option<String>,
    /// Time column, written to the catalog.
    pub time: Option<String>,
    /// Import the universe table: the catalog's `[universe]` names it, with `key`.
    pub universe: bool,
    /// The universe's `since` column (when each member joined); needs `universe`.
    pub since: Option<String>,
    /// Replace an existing table of that name.
    pub overwrite: bool,
    /// Import the good rows and report the bad ones, instead of refusing.
    pub skip_bad_rows: bool,
}

/// A row that could not be imported.
#[derive(Debug, Clone, PartialEq)]
pub struct BadRow {
    /// Its line in the CSV file (1-based; the header is line 1).
    pub line: u64,
    /// What is wrong with it.
    pub problem: String,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    /// Rows written.
    pub rows: u64,
    /// Columns and their types.
    pub columns: Vec<(String, ColumnType)>,
    /// Rows left out (only with `skip_bad_rows`).
    pub bad_rows: Vec<BadRow>,
    /// Number of bad rows (all of them, even past the listed ones).
    pub bad_row_count: u64,
    /// Advice on the columns (a text column that looks like decimal-comma numbers…).
    pub hints: Vec<String>,
    /// The Parquet file written.
    pub path: PathBuf,
}

/// Why an import failed. The catalog and its tables are as they were.
#[derive(Debug, Error)]
pub enum ImportError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The CSV file is malformed beyond single rows (no header, invalid UTF-8 header…).
    #[error("{path}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The table exists and `overwrite` was not asked for.
    #[error("table '{table}' already exists in {catalog} (use --overwrite to replace it)")]
    Exists {
        /// The table.
        table: String,
        /// The catalog.
        catalog: PathBuf,
    },
    /// An option names a column the file does not have.
    #[error("{option}: the file has no column '{column}'{}", suggestion.as_ref().map(|s| format!(" — did you mean '{s}'?")).unwrap_or_default())]
    UnknownColumn {
        /// The option (`--type`, `--key`…).
        option: &'static str,
        /// The column.
        column: String,
        /// A close column name.
        suggestion: Option<String>,
    },
    /// Rows that do not convert.
    #[error("{count} bad row(s), nothing imported:\n{}{}", listed.iter().map(|r| format!("  line {}: {}\n", r.line, r.problem)).collect::<String>(), if *count as usize > listed.len() { "  …\n" } else { "" })]
    BadRows {
        /// Number of bad rows.
        count: u64,
        /// The first ones.
        listed: Vec<BadRow>,
    },
    /// Parquet or Arrow refused the data.
    #[error("writing {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The options do not go together.
    #[error("{0}")]
    Options(String),
    /// The time (or since) column is not a date or timestamp.
    #[error("{option} {column}: the column is {ty}, not a date or timestamp (give its type and format: --type {column}=date --date-format {column}=%d/%m/%Y)")]
    NotATime {
        /// `--time` or `--since`.
        option: &'static str,
        /// The column.
        column: String,
        /// Its type.
        ty: ColumnType,
    },
    /// The table or the catalog could not be published (missing directory…).
    #[error(transparent)]
    Fs(#[from] ensemble_fs::FsError),
    /// The catalog file is not valid TOML.
    #[error("catalog {path}: {message}")]
    Catalog {
        /// The catalog.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Imports `options.csv` as `options.table`: writes a fresh data file beside the catalog and
/// adds the table to the catalog (see the crate docs for the publishing rule).
pub fn import_csv(options: &ImportOptions) -> Result<ImportReport, ImportError> {
    prepare_import(options)?.commit()
}

/// An import whose data file is written but not yet named by the catalog: nothing has changed
/// for readers of the catalog. [`PreparedImport::commit`] publishes it; dropping it removes
/// the data file.
#[derive(Debug)]
pub struct PreparedImport {
    report: ImportReport,
    catalog_path: PathBuf,
    catalog_text: String,
    previous: Option<PathBuf>,
    /// The new data file, while it is not committed.
    pending: Option<PathBuf>,
}

impl PreparedImport {
    /// What the import will have done.
    pub fn report(&self) -> &ImportReport {
        &self.report
    }

    /// Publishes the catalog naming the new data file (atomically: the commit point), then
    /// removes the previous data file if this importer wrote it.
    pub fn commit(mut self) -> Result<ImportReport, ImportError> {
        ensemble_fs::write_file(&self.catalog_path, self.catalog_text.as_bytes())?;
        self.pending = None;
        if let Some(previous) = self.previous.take() {
            if previous != self.report.path {
                // Best effort: an unreferenced file left behind is harmless.
                let _ = std::fs::remove_file(previous);
            }
        }
        Ok(std::mem::take(&mut self.report))
    }
}

impl Drop for PreparedImport {
    fn drop(&mut self) {
        if let Some(path) = self.pending.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Everything of an import up to the commit point: checks the options, infers the types,
/// converts the rows into a fresh data file. The catalog is not touched.
pub fn prepare_import(options: &ImportOptions) -> Result<PreparedImport, ImportError> {
    check_table_name(&options.table)?;
    // Fails early, naming the missing directory, before reading the CSV file.
    ensemble_fs::resolve(&options.catalog)?;
    let dir = options
        .catalog
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut catalog = catalog::read(&options.catalog)?;
    let exists = catalog.has_table(&options.table)
        || std::fs::symlink_metadata(dir.join(format!("{}.parquet", options.table))).is_ok();
    if exists && !options.overwrite {
        return Err(ImportError::Exists {
            table: options.table.clone(),
            catalog: options.catalog.clone(),
        });
    }
    let headers = convert::read_headers(options)?;
    check_options(options, &headers)?;
    let readings: Vec<Reading> = headers
        .iter()
        .map(|h| Reading {
            date: DateFormat(options.date_formats.get(h).cloned()),
            decimal_comma: options.decimal_comma,
        })
        .collect();
    let (columns, hints) = column_types(options, &headers, &readings)?;
    check_time_columns(options, &columns)?;
    let schema: SchemaRef = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, ty)| Field::new(name, ty.arrow(), true))
            .collect::<Vec<_>>(),
    ));

    let file_name = catalog::fresh_name(&catalog, dir, &options.table);
    let path = dir.join(&file_name);
    let file = AtomicFile::create(&path)?;
    let ((rows, bad_rows, bad_row_count), file) =
        convert::convert(options, &columns, &readings, schema, file)?;
    if bad_row_count > 0 && !options.skip_bad_rows {
        return Err(ImportError::BadRows {
            count: bad_row_count,
            listed: bad_rows,
        });
    }
    file.commit()?;
    let previous = catalog::own_previous_file(&catalog, dir, &options.table);
    catalog::add_table(&mut catalog, options, &file_name);
    Ok(PreparedImport {
        report: ImportReport {
            rows,
            columns,
            bad_rows,
            bad_row_count,
            hints,
            path: path.clone(),
        },
        catalog_path: options.catalog.clone(),
        catalog_text: catalog.text().map_err(|e| ImportError::Catalog {
            path: options.catalog.clone(),
            message: e.to_string(),
        })?,
        previous,
        pending: Some(path),
    })
}

/// A table's name becomes a file name and a SQL name: it must be an identifier (a letter or
/// `_`, then letters, digits or `_`), never a path (`../x`) or a glob (`b[x]`, `e*`).
fn check_table_name(name: &str) -> Result<(), ImportError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_alphanumeric() || c == '_') {
        return Ok(());
    }
    Err(ImportError::Options(format!(
        "--table '{name}': a table name is a letter or _ followed by letters, digits or _ \
         (for example purchases_2026), never a path or a pattern"
    )))
}

/// Checks that the options go together and name columns of the file.
fn check_options(options: &ImportOptions, headers: &[String]) -> Result<(), ImportError> {
    if options.universe && options.key.is_none() {
        return Err(ImportError::Options(
            "--universe needs --key (the column identifying each member)".into(),
        ));
    }
    if options.since.is_some() && !options.universe {
        return Err(ImportError::Options(
            "--since is for the universe table: add --universe".into(),
        ));
    }
    if options.universe && options.time.is_some() {
        return Err(ImportError::Options(
            "the universe table has no --time column (use --since for when members joined)".into(),
        ));
    }
    for (option, names) in [
        ("--type", options.types.keys().cloned().collect::<Vec<_>>()),
        (
            "--date-format",
            options.date_formats.keys().cloned().collect(),
        ),
        ("--key", options.key.iter().cloned().collect()),
        ("--time", options.time.iter().cloned().collect()),
        ("--since", options.since.iter().cloned().collect()),
    ] {
        for name in names {
            if !headers.contains(&name) {
                let suggestion = suggest::closest(&name, headers);
                return Err(ImportError::UnknownColumn {
                    option,
                    column: name,
                    suggestion,
                });
            }
        }
    }
    Ok(())
}

/// The columns of the table and their types.
type Columns = Vec<(String, ColumnType)>;

/// Each column's type: given, or from its date format, or inferred (pass 1 over the file);
/// with hints about text columns that look like decimal-comma numbers.
fn column_types(
    options: &ImportOptions,
    headers: &[String],
    readings: &[Reading],
) -> Result<(Columns, Vec<String>), ImportError> {
    let mut inferences = vec![types::Inference::default(); headers.len()];
    let needs_inference = headers
        .iter()
        .any(|h| !options.types.contains_key(h) && !options.date_formats.contains_key(h));
    if needs_inference {
        let mut reader = convert::csv_reader(options)?;
        let mut record = csv::StringRecord::new();
        while convert::read_record(&mut reader, &mut record, &options.csv)? {
            for (i, value) in record.iter().enumerate().take(headers.len()) {
                if !value.is_empty() {
                    inferences[i].observe(value.trim(), &readings[i]);
                }
            }
        }
    }
    let mut hints = Vec::new();
    let columns = headers
        .iter()
        .zip(&inferences)
        .map(|(h, inference)| {
            let ty = match (options.types.get(h), options.date_formats.get(h)) {
                (Some(ty), _) => *ty,
                (None, Some(format)) => types::format_type(format),
                (None, None) => {
                    if inference.needs_decimal_comma() {
                        hints.push(format!(
                            "column {h} looks like numbers with a decimal comma (12,50): pass --decimal-comma to read them as decimals"
                        ));
                    }
                    inference.result()
                }
            };
            (h.clone(), ty)
        })
        .collect();
    Ok((columns, hints))
}

/// `--time` and `--since` must name a date or timestamp column.
fn check_time_columns(
    options: &ImportOptions,
    columns: &[(String, ColumnType)],
) -> Result<(), ImportError> {
    for (option, column) in [("--time", &options.time), ("--since", &options.since)] {
        let Some(column) = column else { continue };
        let ty = columns
            .iter()
            .find(|(name, _)| name == column)
            .map(|(_, ty)| *ty);
        if let Some(ty) = ty.filter(|ty| !matches!(ty, ColumnType::Date | ColumnType::Timestamp)) {
            return Err(ImportError::NotATime {
                option,
                column: column.clone(),
                ty,
            });
        }
    }
    Ok(())
}
