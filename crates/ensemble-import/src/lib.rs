//! Imports a CSV export into a Parquet table of an ensemble catalog.
//!
//! Two passes over the file: the first infers each column's type (integers, exact decimals,
//! floats, booleans, dates, timestamps, text) unless the user gave it; the second converts
//! every row. A row that does not convert is reported with its line number — the import is
//! refused, or with `skip_bad_rows` the row is left out and still reported. Nothing is ever
//! half-written: the Parquet file and the catalog are written to temporary files and renamed.
#![warn(missing_docs)]

mod types;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder,
    Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use thiserror::Error;

pub use types::{ColumnType, DateFormat};

/// Rows converted per record batch.
const BATCH_ROWS: usize = 64 * 1024;
/// Bad rows listed in an error (all are counted).
const MAX_LISTED_BAD_ROWS: usize = 20;

/// What to import, and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The catalog to add the table to (created if it does not exist).
    pub catalog: PathBuf,
    /// The table's name.
    pub table: String,
    /// The CSV file (with a header line).
    pub csv: PathBuf,
    /// Field delimiter.
    pub delimiter: u8,
    /// Column types given by the user (the others are inferred).
    pub types: BTreeMap<String, ColumnType>,
    /// Date or timestamp formats (chrono's `%d/%m/%Y`…) by column.
    pub date_formats: BTreeMap<String, String>,
    /// Column referencing the universe key, written to the catalog.
    pub key: Option<String>,
    /// Time column, written to the catalog.
    pub time: Option<String>,
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
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// Rows written.
    pub rows: u64,
    /// Columns and their types.
    pub columns: Vec<(String, ColumnType)>,
    /// Rows left out (only with `skip_bad_rows`).
    pub bad_rows: Vec<BadRow>,
    /// Number of bad rows (all of them, even past the listed ones).
    pub bad_row_count: u64,
    /// The Parquet file written.
    pub path: PathBuf,
}

/// Why an import failed. Nothing was written.
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
    /// The catalog file is not valid TOML.
    #[error("catalog {path}: {message}")]
    Catalog {
        /// The catalog.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// Imports `options.csv` as `options.table`: writes `<catalog dir>/<table>.parquet` and adds
/// the table to the catalog.
pub fn import_csv(options: &ImportOptions) -> Result<ImportReport, ImportError> {
    let catalog_dir = options
        .catalog
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let target = catalog_dir.join(format!("{}.parquet", options.table));
    let mut catalog = read_catalog(&options.catalog)?;
    let exists = catalog
        .get("tables")
        .and_then(|t| t.get(&options.table))
        .is_some()
        || target.exists();
    if exists && !options.overwrite {
        return Err(ImportError::Exists {
            table: options.table.clone(),
            catalog: options.catalog.clone(),
        });
    }

    let headers = read_headers(options)?;
    let formats: Vec<DateFormat> = headers
        .iter()
        .map(|h| DateFormat(options.date_formats.get(h).cloned()))
        .collect();
    for (option, names) in [
        ("--type", options.types.keys().cloned().collect::<Vec<_>>()),
        (
            "--date-format",
            options.date_formats.keys().cloned().collect(),
        ),
        ("--key", options.key.iter().cloned().collect()),
        ("--time", options.time.iter().cloned().collect()),
    ] {
        for name in names {
            if !headers.contains(&name) {
                let suggestion = closest(&name, &headers);
                return Err(ImportError::UnknownColumn {
                    option,
                    column: name,
                    suggestion,
                });
            }
        }
    }

    // Pass 1: infer the types not given.
    let mut inferences = vec![types::Inference::default(); headers.len()];
    let needs_inference = headers.iter().any(|h| !options.types.contains_key(h));
    if needs_inference {
        let mut reader = csv_reader(options)?;
        let mut record = csv::StringRecord::new();
        while read_record(&mut reader, &mut record, &options.csv)? {
            for (i, value) in record.iter().enumerate().take(headers.len()) {
                if !value.is_empty() {
                    inferences[i].observe(value, &formats[i]);
                }
            }
        }
    }
    let columns: Vec<(String, ColumnType)> = headers
        .iter()
        .zip(&inferences)
        .map(|(h, inference)| {
            (
                h.clone(),
                options
                    .types
                    .get(h)
                    .copied()
                    .unwrap_or_else(|| inference.result()),
            )
        })
        .collect();
    let schema: SchemaRef = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, ty)| Field::new(name, ty.arrow(), true))
            .collect::<Vec<_>>(),
    ));

    // Pass 2: convert and write.
    let temporary = catalog_dir.join(format!(".{}.parquet.partial", options.table));
    let result = convert(options, &columns, &formats, schema, &temporary);
    let (rows, bad_rows, bad_row_count) = match result {
        Ok(done) => done,
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            return Err(error);
        }
    };
    if bad_row_count > 0 && !options.skip_bad_rows {
        let _ = std::fs::remove_file(&temporary);
        return Err(ImportError::BadRows {
            count: bad_row_count,
            listed: bad_rows,
        });
    }
    std::fs::rename(&temporary, &target).map_err(|source| ImportError::Io {
        path: target.clone(),
        source,
    })?;
    add_to_catalog(&mut catalog, options);
    write_atomically(&options.catalog, catalog.to_string().as_bytes())?;
    Ok(ImportReport {
        rows,
        columns,
        bad_rows,
        bad_row_count,
        path: target,
    })
}

fn read_catalog(path: &Path) -> Result<toml_edit::DocumentMut, ImportError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(ImportError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    text.parse::<toml_edit::DocumentMut>()
        .map_err(|e| ImportError::Catalog {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

fn add_to_catalog(catalog: &mut toml_edit::DocumentMut, options: &ImportOptions) {
    let tables = catalog.entry("tables").or_insert_with(|| {
        let mut table = toml_edit::Table::new();
        table.set_implicit(true);
        toml_edit::Item::Table(table)
    });
    let mut table = toml_edit::Table::new();
    table.insert(
        "path",
        toml_edit::value(format!("{}.parquet", options.table)),
    );
    if let Some(key) = &options.key {
        table.insert("key", toml_edit::value(key.as_str()));
    }
    if let Some(time) = &options.time {
        table.insert("time", toml_edit::value(time.as_str()));
    }
    tables[options.table.as_str()] = toml_edit::Item::Table(table);
}

/// Writes a file through a temporary file renamed into place: a crash leaves the old file or
/// the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ImportError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{name}.partial"));
    let io = |source| ImportError::Io {
        path: temporary.clone(),
        source,
    };
    let write = || -> std::io::Result<()> {
        use std::io::Write as _;
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    write().map_err(io)?;
    std::fs::rename(&temporary, path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn csv_reader(options: &ImportOptions) -> Result<csv::Reader<File>, ImportError> {
    let file = File::open(&options.csv).map_err(|source| ImportError::Io {
        path: options.csv.clone(),
        source,
    })?;
    Ok(csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(file))
}

fn read_headers(options: &ImportOptions) -> Result<Vec<String>, ImportError> {
    let mut reader = csv_reader(options)?;
    let headers = reader.headers().map_err(|e| ImportError::Csv {
        path: options.csv.clone(),
        message: format!("cannot read the header line: {e}"),
    })?;
    let headers: Vec<String> = headers.iter().map(|h| h.trim().to_string()).collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        return Err(ImportError::Csv {
            path: options.csv.clone(),
            message: "the file has no header line".into(),
        });
    }
    Ok(headers)
}

/// Reads the next record; invalid UTF-8 in a row is reported as a bad row by the caller, so
/// only I/O failures are errors here.
fn read_record(
    reader: &mut csv::Reader<File>,
    record: &mut csv::StringRecord,
    path: &Path,
) -> Result<bool, ImportError> {
    loop {
        match reader.read_record(record) {
            Ok(more) => return Ok(more),
            Err(error) if matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) => continue,
            Err(error) => {
                return Err(ImportError::Csv {
                    path: path.to_path_buf(),
                    message: error.to_string(),
                })
            }
        }
    }
}

type Converted = (u64, Vec<BadRow>, u64);

fn convert(
    options: &ImportOptions,
    columns: &[(String, ColumnType)],
    formats: &[DateFormat],
    schema: SchemaRef,
    temporary: &Path,
) -> Result<Converted, ImportError> {
    let write_error = |e: &dyn std::fmt::Display| ImportError::Write {
        path: temporary.to_path_buf(),
        message: e.to_string(),
    };
    let file = File::create(temporary).map_err(|source| ImportError::Io {
        path: temporary.to_path_buf(),
        source,
    })?;
    let mut writer =
        ArrowWriter::try_new(file, schema.clone(), None).map_err(|e| write_error(&e))?;
    let mut builders: Vec<Box<dyn ArrayBuilder>> =
        columns.iter().map(|(_, ty)| builder(*ty)).collect();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(File::open(&options.csv).map_err(|source| ImportError::Io {
            path: options.csv.clone(),
            source,
        })?);
    let mut record = csv::ByteRecord::new();
    let (mut rows, mut pending) = (0u64, 0usize);
    let mut bad = Vec::new();
    let mut bad_count = 0u64;
    let mut values: Vec<Value> = Vec::with_capacity(columns.len());
    loop {
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| ImportError::Csv {
                path: options.csv.clone(),
                message: e.to_string(),
            })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line());
        match parse_row(&record, columns, formats, &mut values) {
            Ok(()) => {
                for (builder, value) in builders.iter_mut().zip(values.drain(..)) {
                    append(builder.as_mut(), value);
                }
                rows += 1;
                pending += 1;
            }
            Err(problem) => {
                bad_count += 1;
                if bad.len() < MAX_LISTED_BAD_ROWS {
                    bad.push(BadRow { line, problem });
                }
            }
        }
        if pending == BATCH_ROWS {
            flush(&mut builders, &schema, &mut writer).map_err(|e| write_error(&e))?;
            pending = 0;
        }
    }
    if pending > 0 {
        flush(&mut builders, &schema, &mut writer).map_err(|e| write_error(&e))?;
    }
    writer.close().map_err(|e| write_error(&e))?;
    Ok((rows, bad, bad_count))
}

/// A converted field.
enum Value {
    Null,
    Int(i64),
    Decimal(i128),
    Float(f64),
    Bool(bool),
    Date(i32),
    Timestamp(i64),
    Text(String),
}

fn parse_row(
    record: &csv::ByteRecord,
    columns: &[(String, ColumnType)],
    formats: &[DateFormat],
    values: &mut Vec<Value>,
) -> Result<(), String> {
    values.clear();
    if record.len() != columns.len() {
        return Err(format!(
            "{} field(s), the header has {}",
            record.len(),
            columns.len()
        ));
    }
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    for (((name, ty), format), field) in columns.iter().zip(formats).zip(record.iter()) {
        let text =
            std::str::from_utf8(field).map_err(|_| format!("column {name}: invalid UTF-8"))?;
        if text.is_empty() {
            values.push(Value::Null);
            continue;
        }
        let trimmed = text.trim();
        let value = match ty {
            ColumnType::Integer => trimmed.parse().ok().map(Value::Int),
            ColumnType::Decimal(scale) => types::parse_decimal(trimmed, *scale).map(Value::Decimal),
            ColumnType::Float => trimmed.parse().ok().map(Value::Float),
            ColumnType::Boolean => types::parse_bool(trimmed).map(Value::Bool),
            ColumnType::Date => types::parse_date(trimmed, format)
                .map(|d| Value::Date((d - epoch).num_days() as i32)),
            ColumnType::Timestamp => types::parse_timestamp(trimmed, format)
                .map(|t| Value::Timestamp(t.and_utc().timestamp_micros())),
            ColumnType::String => Some(Value::Text(text.to_string())),
        };
        match value {
            Some(value) => values.push(value),
            None => return Err(format!("column {name}: '{text}' is not a {ty}")),
        }
    }
    Ok(())
}

fn builder(ty: ColumnType) -> Box<dyn ArrayBuilder> {
    match ty {
        ColumnType::Integer => Box::new(Int64Builder::new()),
        ColumnType::Decimal(scale) => Box::new(
            Decimal128Builder::new()
                .with_precision_and_scale(38, scale as i8)
                .expect("a scale of at most 18 fits precision 38"),
        ),
        ColumnType::Float => Box::new(Float64Builder::new()),
        ColumnType::Boolean => Box::new(BooleanBuilder::new()),
        ColumnType::Date => Box::new(Date32Builder::new()),
        ColumnType::Timestamp => Box::new(TimestampMicrosecondBuilder::new()),
        ColumnType::String => Box::new(StringBuilder::new()),
    }
}

fn append(builder: &mut dyn ArrayBuilder, value: Value) {
    let any = builder.as_any_mut();
    macro_rules! put {
        ($t:ty, $v:expr) => {
            if let Some(b) = any.downcast_mut::<$t>() {
                match $v {
                    Some(v) => b.append_value(v),
                    None => b.append_null(),
                }
                return;
            }
        };
    }
    match value {
        Value::Int(v) => put!(Int64Builder, Some(v)),
        Value::Decimal(v) => put!(Decimal128Builder, Some(v)),
        Value::Float(v) => put!(Float64Builder, Some(v)),
        Value::Bool(v) => put!(BooleanBuilder, Some(v)),
        Value::Date(v) => put!(Date32Builder, Some(v)),
        Value::Timestamp(v) => put!(TimestampMicrosecondBuilder, Some(v)),
        Value::Text(v) => put!(StringBuilder, Some(v)),
        Value::Null => {
            put!(Int64Builder, None::<i64>);
            put!(Decimal128Builder, None::<i128>);
            put!(Float64Builder, None::<f64>);
            put!(BooleanBuilder, None::<bool>);
            put!(Date32Builder, None::<i32>);
            put!(TimestampMicrosecondBuilder, None::<i64>);
            put!(StringBuilder, None::<String>);
        }
    }
    unreachable!("each column's builder matches its values");
}

fn flush(
    builders: &mut [Box<dyn ArrayBuilder>],
    schema: &SchemaRef,
    writer: &mut ArrowWriter<File>,
) -> Result<(), Box<dyn std::error::Error>> {
    let arrays: Vec<ArrayRef> = builders.iter_mut().map(|b| b.finish()).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    writer.write(&batch)?;
    Ok(())
}

fn closest(name: &str, candidates: &[String]) -> Option<String> {
    candidates
        .iter()
        .filter(|c| {
            let (a, b) = (c.to_lowercase(), name.to_lowercase());
            a.contains(&b) || b.contains(&a) || levenshtein(&a, &b) <= 2
        })
        .min_by_key(|c| levenshtein(&c.to_lowercase(), &name.to_lowercase()))
        .cloned()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}
