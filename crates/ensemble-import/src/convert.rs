//! Reading the CSV file and converting its rows into Parquet record batches.

use std::fs::File;
use std::path::Path;

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder,
    Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use ensemble_fs::AtomicFile;
use parquet::arrow::ArrowWriter;

use crate::types::{self, ColumnType, Reading};
use crate::{BadRow, ImportError, ImportOptions};

/// Rows converted per record batch.
const BATCH_ROWS: usize = 64 * 1024;
/// Bad rows listed in an error (all are counted).
const MAX_LISTED_BAD_ROWS: usize = 20;

pub(crate) fn csv_reader(options: &ImportOptions) -> Result<csv::Reader<File>, ImportError> {
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

pub(crate) fn read_headers(options: &ImportOptions) -> Result<Vec<String>, ImportError> {
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
pub(crate) fn read_record(
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

/// Rows written, the listed bad rows, and the count of all bad rows.
pub(crate) type Converted = (u64, Vec<BadRow>, u64);

/// Converts every row of the CSV file into `file` (not yet published); returns the rows
/// written and the bad rows.
pub(crate) fn convert(
    options: &ImportOptions,
    columns: &[(String, ColumnType)],
    readings: &[Reading],
    schema: SchemaRef,
    file: AtomicFile,
) -> Result<(Converted, AtomicFile), ImportError> {
    let path = file.target().to_path_buf();
    let write_error = |e: &dyn std::fmt::Display| ImportError::Write {
        path: path.clone(),
        message: e.to_string(),
    };
    let mut writer =
        ArrowWriter::try_new(file, schema.clone(), None).map_err(|e| write_error(&e))?;
    let mut builders: Vec<Box<dyn ArrayBuilder>> =
        columns.iter().map(|(_, ty)| builder(*ty)).collect();
    let mut reader = csv_reader(options)?;
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
        match parse_row(&record, columns, readings, &mut values) {
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
    let file = writer.into_inner().map_err(|e| write_error(&e))?;
    Ok(((rows, bad, bad_count), file))
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
    readings: &[Reading],
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
    for (((name, ty), reading), field) in columns.iter().zip(readings).zip(record.iter()) {
        let text =
            std::str::from_utf8(field).map_err(|_| format!("column {name}: invalid UTF-8"))?;
        if text.is_empty() {
            values.push(Value::Null);
            continue;
        }
        let trimmed = text.trim();
        let format = &reading.date;
        let number = reading.numeric(trimmed);
        let value = match ty {
            ColumnType::Integer => number.parse().ok().map(Value::Int),
            ColumnType::Decimal(scale) => types::parse_decimal(&number, *scale).map(Value::Decimal),
            ColumnType::Float => number.parse().ok().map(Value::Float),
            ColumnType::Boolean => types::parse_bool(trimmed).map(Value::Bool),
            ColumnType::Date => types::parse_date(trimmed, format)
                .map(|d| Value::Date((d - epoch).num_days() as i32)),
            ColumnType::Timestamp => types::parse_timestamp(trimmed, format)
                .map(|t| Value::Timestamp(t.and_utc().timestamp_micros())),
            ColumnType::String => Some(Value::Text(text.to_string())),
        };
        match value {
            Some(value) => values.push(value),
            None => {
                let hint = if ty.is_numeric() && types::looks_like_decimal_comma(trimmed) {
                    " (a decimal comma? pass --decimal-comma)"
                } else {
                    ""
                };
                return Err(format!("column {name}: '{text}' is not a {ty}{hint}"));
            }
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
    writer: &mut ArrowWriter<AtomicFile>,
) -> Result<(), Box<dyn std::error::Error>> {
    let arrays: Vec<ArrayRef> = builders.iter_mut().map(|b| b.finish()).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    writer.write(&batch)?;
    Ok(())
}
