//! Writing members: a table, CSV (a header with the key's name, then one key per line) or
//! JSON (an array of objects).

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use ensemble::arrow::record_batch::RecordBatch;
use ensemble::arrow::util::pretty::pretty_format_batches;
use ensemble::Evaluation;

use crate::stdio::Stdout;

/// How members and query results are written, by `run --format` and the REPL's `\format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A text table (and, for `run`, the step tree on standard error).
    Table,
    /// CSV with a header line.
    Csv,
    /// A JSON array of objects.
    Json,
    /// A Markdown table.
    Markdown,
}

impl Format {
    /// The format named `name` (`table`, `csv`, `json`, `markdown`).
    pub fn named(name: &str) -> Option<Format> {
        <Format as clap::ValueEnum>::from_str(name, true).ok()
    }

    /// Its name, as `\format` and `--format` take it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Markdown => "markdown",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Writes the evaluation's members to `path` (see `ensemble_fs`: atomically for a regular
/// file, in place for a device or FIFO, `-` for standard output) or to standard output.
pub fn write_members(
    evaluation: &Evaluation,
    format: Format,
    path: Option<&Path>,
) -> Result<(), String> {
    let batches = &evaluation.members;
    let write = |out: &mut dyn Write| {
        if batches.is_empty() && format == Format::Csv {
            // No rows still gives the header.
            return writeln!(out, "{}", evaluation.key).map_err(|e| e.to_string());
        }
        write_as(batches, format, out)
    };
    match path.filter(|p| p.as_os_str() != "-") {
        None => {
            let mut out = BufWriter::new(Stdout);
            write(&mut out)?;
            out.flush().map_err(|e| format!("standard output: {e}"))
        }
        Some(path) => {
            let mut output = ensemble::fs::create(path).map_err(|e| e.to_string())?;
            write(&mut output)?;
            output.finish().map_err(|e| e.to_string())
        }
    }
}

/// The one writer of record batches in a text format.
pub fn write_as(
    batches: &[RecordBatch],
    format: Format,
    out: &mut dyn Write,
) -> Result<(), String> {
    use ensemble::arrow::util::display::array_value_to_string;
    match format {
        Format::Csv => {
            let mut writer = ensemble::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            if let Some(keys) = integer_keys(batches) {
                // The header as the CSV writer quotes it, then the keys themselves.
                writer
                    .write(&batches[0].slice(0, 0))
                    .map_err(|e| e.to_string())?;
                drop(writer);
                return write_integer_lines(&keys, out).map_err(|e| e.to_string());
            }
            for batch in batches {
                writer.write(batch).map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        Format::Json => {
            let mut writer = ensemble::arrow::json::ArrayWriter::new(&mut *out);
            for batch in batches {
                writer.write(batch).map_err(|e| e.to_string())?;
            }
            writer.finish().map_err(|e| e.to_string())?;
            writeln!(out).map_err(|e| e.to_string())
        }
        Format::Markdown => {
            let mut table = comfy_table::Table::new();
            table.load_preset(comfy_table::presets::ASCII_MARKDOWN);
            if let Some(first) = batches.first() {
                let schema = first.schema();
                let names = schema.fields().iter().map(|f| f.name().clone());
                table.set_header(names.collect::<Vec<_>>());
            }
            for batch in batches {
                for row in 0..batch.num_rows() {
                    let cells: Vec<String> = batch
                        .columns()
                        .iter()
                        .map(|c| array_value_to_string(c, row).unwrap_or_default())
                        .collect();
                    table.add_row(cells);
                }
            }
            writeln!(out, "{table}").map_err(|e| e.to_string())
        }
        Format::Table => {
            let table = pretty_format_batches(batches).map_err(|e| e.to_string())?;
            writeln!(out, "{table}").map_err(|e| e.to_string())
        }
    }
}

/// The values of batches of one integer column without nulls (members' keys), as 64-bit
/// integers: CSV lines that need no quoting, written without the general writer's
/// per-value formatting (610 000 keys: about 4 ms instead of 25).
fn integer_keys(batches: &[RecordBatch]) -> Option<Vec<ensemble::arrow::array::Int64Array>> {
    use ensemble::arrow::array::{Array, AsArray};
    use ensemble::arrow::datatypes::{DataType, Int64Type};
    let first = batches.first()?;
    let field = first.schema().field(0).clone();
    let integer = matches!(
        field.data_type(),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    ) || matches!(
        field.data_type(),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32
    );
    if first.num_columns() != 1 || !integer {
        return None;
    }
    batches
        .iter()
        .map(|batch| {
            let column = batch.column(0);
            if column.null_count() > 0 {
                return None;
            }
            let column = ensemble::arrow::compute::cast(column, &DataType::Int64).ok()?;
            Some(column.as_primitive::<Int64Type>().clone())
        })
        .collect()
}

/// One line per value.
fn write_integer_lines(
    columns: &[ensemble::arrow::array::Int64Array],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut digits = itoa::Buffer::new();
    let mut line = Vec::with_capacity(64 * 1024);
    for column in columns {
        for value in column.values() {
            line.extend_from_slice(digits.format(*value).as_bytes());
            line.push(b'\n');
            if line.len() >= 60 * 1024 {
                out.write_all(&line)?;
                line.clear();
            }
        }
    }
    out.write_all(&line)
}

/// Renders record batches in `format`, at most `max_rows` rows (the REPL's results).
pub fn render_batches(
    batches: &[RecordBatch],
    format: Format,
    max_rows: usize,
) -> Result<String, String> {
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut kept = Vec::new();
    let mut left = max_rows;
    for batch in batches {
        if left == 0 {
            break;
        }
        let take = batch.num_rows().min(left);
        kept.push(batch.slice(0, take));
        left -= take;
    }
    let mut out = Vec::new();
    write_as(&kept, format, &mut out)?;
    let mut text = String::from_utf8_lossy(&out).into_owned();
    if total > max_rows {
        text.push_str(&format!(
            "({max_rows} of {} rows shown; \\maxrows N to see more)\n",
            ensemble::group_thousands(total)
        ));
    }
    Ok(text)
}

/// Writes record batches to `path` as CSV, JSON or Parquet (by extension), atomically for a
/// regular file (see `ensemble_fs`), streaming.
pub fn write_batches(batches: &[RecordBatch], path: &Path) -> Result<(), String> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !matches!(extension.as_str(), "csv" | "json" | "parquet") {
        return Err(format!(
            "{}: unknown format '.{extension}' (csv, json or parquet)",
            path.display()
        ));
    }
    let schema = match batches.first() {
        Some(batch) => batch.schema(),
        None if extension == "parquet" => return Err("nothing to write".to_string()),
        None => Arc::new(ensemble::arrow::datatypes::Schema::empty()),
    };
    let mut output = ensemble::fs::create(path).map_err(|e| e.to_string())?;
    let failed = |e: &dyn std::fmt::Display| format!("{}: cannot write: {e}", path.display());
    match Format::named(&extension) {
        Some(format) => write_as(batches, format, &mut output).map_err(|e| failed(&e))?,
        None => {
            let mut writer = parquet::arrow::ArrowWriter::try_new(&mut output, schema, None)
                .map_err(|e| failed(&e))?;
            for batch in batches {
                writer.write(batch).map_err(|e| failed(&e))?;
            }
            writer.close().map_err(|e| failed(&e))?;
        }
    }
    output.finish().map_err(|e| e.to_string())
}

/// Writes a file atomically (see `ensemble_fs::write_file`): a failure or an interruption
/// never leaves a partial file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    ensemble::fs::write_file(path, bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ensemble::arrow::array::{ArrayRef, Int32Array, Int64Array};
    use ensemble::arrow::datatypes::{Field, Schema};

    /// What the general CSV writer makes of `batches`.
    fn general(batches: &[RecordBatch]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut writer = ensemble::arrow::csv::WriterBuilder::new()
            .with_header(true)
            .build(&mut out);
        for batch in batches {
            writer.write(batch).unwrap();
        }
        drop(writer);
        out
    }

    fn batches(name: &str, columns: Vec<ArrayRef>) -> Vec<RecordBatch> {
        let field = Field::new(name, columns[0].data_type().clone(), true);
        let schema = Arc::new(Schema::new(vec![field]));
        columns
            .into_iter()
            .map(|c| RecordBatch::try_new(schema.clone(), vec![c]).unwrap())
            .collect()
    }

    #[test]
    fn integer_keys_are_written_as_the_general_writer_writes_them() {
        let cases = [
            batches(
                "customer_id",
                vec![
                    Arc::new(Int64Array::from(vec![1, -20, i64::MAX])),
                    Arc::new(Int64Array::from(vec![i64::MIN, 0])),
                ],
            ),
            batches("id, quoted", vec![Arc::new(Int32Array::from(vec![7, 8]))]),
        ];
        for case in cases {
            assert!(integer_keys(&case).is_some());
            let mut out = Vec::new();
            write_as(&case, Format::Csv, &mut out).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(general(&case)).unwrap()
            );
        }
    }

    #[test]
    fn keys_with_nulls_or_of_other_types_take_the_general_writer() {
        let nulls = batches("k", vec![Arc::new(Int64Array::from(vec![Some(1), None]))]);
        assert!(integer_keys(&nulls).is_none());
        let mut out = Vec::new();
        write_as(&nulls, Format::Csv, &mut out).unwrap();
        assert_eq!(out, general(&nulls));
        let text = batches(
            "k",
            vec![Arc::new(ensemble::arrow::array::StringArray::from(vec![
                "a",
            ]))],
        );
        assert!(integer_keys(&text).is_none());
        assert!(integer_keys(&[]).is_none());
    }
}
