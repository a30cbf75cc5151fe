//! Writing members: a table, CSV (a header with the key's name, then one key per line) or
//! JSON (an array of objects).

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use ensemble::arrow::util::pretty::pretty_format_batches;
use ensemble::Evaluation;

use crate::stdio::Stdout;

/// Output formats of `ensemble run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A text table (and the step tree on standard error).
    Table,
    /// CSV with a header line.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// Writes the evaluation's members to `path` (see `ensemble_fs`: atomically for a regular
/// file, in place for a device or FIFO, `-` for standard output) or to standard output.
pub fn write_members(
    evaluation: &Evaluation,
    format: Format,
    path: Option<&Path>,
) -> Result<(), String> {
    match path.filter(|p| p.as_os_str() != "-") {
        None => {
            let mut out = BufWriter::new(Stdout);
            write_to(evaluation, format, &mut out)?;
            out.flush().map_err(|e| format!("standard output: {e}"))
        }
        Some(path) => {
            let mut output = ensemble::fs::create(path).map_err(|e| e.to_string())?;
            write_to(evaluation, format, &mut output)?;
            output.finish().map_err(|e| e.to_string())
        }
    }
}

fn write_to(evaluation: &Evaluation, format: Format, out: &mut dyn Write) -> Result<(), String> {
    let batches = &evaluation.members;
    match format {
        Format::Table => {
            let table = pretty_format_batches(batches).map_err(|e| e.to_string())?;
            writeln!(out, "{table}").map_err(|e| e.to_string())
        }
        Format::Csv => {
            if batches.is_empty() {
                return writeln!(out, "{}", evaluation.key).map_err(|e| e.to_string());
            }
            let mut writer = ensemble::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
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
    }
}

/// Renders record batches as a table, CSV, JSON or a Markdown table, at most `max_rows` rows.
pub fn render_batches(
    batches: &[ensemble::arrow::record_batch::RecordBatch],
    format: &str,
    max_rows: usize,
) -> Result<String, String> {
    use ensemble::arrow::util::display::array_value_to_string;
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
    match format {
        "csv" => {
            let mut writer = ensemble::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut out);
            for batch in &kept {
                writer.write(batch).map_err(|e| e.to_string())?;
            }
        }
        "json" => {
            let mut writer = ensemble::arrow::json::ArrayWriter::new(&mut out);
            for batch in &kept {
                writer.write(batch).map_err(|e| e.to_string())?;
            }
            writer.finish().map_err(|e| e.to_string())?;
            out.push(b'\n');
        }
        "markdown" => {
            let mut table = comfy_table::Table::new();
            table.load_preset(comfy_table::presets::ASCII_MARKDOWN);
            if let Some(first) = kept.first() {
                table.set_header(
                    first
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| f.name().clone())
                        .collect::<Vec<_>>(),
                );
            }
            for batch in &kept {
                for row in 0..batch.num_rows() {
                    let cells: Vec<String> = batch
                        .columns()
                        .iter()
                        .map(|c| array_value_to_string(c, row).unwrap_or_default())
                        .collect();
                    table.add_row(cells);
                }
            }
            out.extend_from_slice(format!("{table}\n").as_bytes());
        }
        _ => {
            let table = pretty_format_batches(&kept).map_err(|e| e.to_string())?;
            out.extend_from_slice(format!("{table}\n").as_bytes());
        }
    }
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
pub fn write_batches(
    batches: &[ensemble::arrow::record_batch::RecordBatch],
    path: &Path,
) -> Result<(), String> {
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
    match extension.as_str() {
        "csv" => {
            let mut writer = ensemble::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut output);
            for batch in batches {
                writer.write(batch).map_err(|e| failed(&e))?;
            }
        }
        "json" => {
            let mut writer = ensemble::arrow::json::ArrayWriter::new(&mut output);
            for batch in batches {
                writer.write(batch).map_err(|e| failed(&e))?;
            }
            writer.finish().map_err(|e| failed(&e))?;
        }
        _ => {
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
