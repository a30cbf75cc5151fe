//! Writing members: a table, CSV (a header with the key's name, then one key per line) or
//! JSON (an array of objects).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use ensemble::arrow::util::pretty::pretty_format_batches;
use ensemble::Evaluation;

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

/// Writes the evaluation's members to `path` (atomically: a temporary file renamed into
/// place) or to standard output.
pub fn write_members(
    evaluation: &Evaluation,
    format: Format,
    path: Option<&Path>,
) -> Result<(), String> {
    match path {
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            write_to(evaluation, format, &mut out)?;
            out.flush().map_err(|e| e.to_string())
        }
        Some(path) => {
            let mut bytes = Vec::new();
            write_to(evaluation, format, &mut bytes)?;
            write_atomically(path, &bytes)
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

/// Writes record batches to `path` as CSV, JSON or Parquet (by extension), atomically.
pub fn write_batches(
    batches: &[ensemble::arrow::record_batch::RecordBatch],
    path: &Path,
) -> Result<(), String> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut bytes = Vec::new();
    match extension.as_str() {
        "csv" => {
            let mut writer = ensemble::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut bytes);
            for batch in batches {
                writer.write(batch).map_err(|e| e.to_string())?;
            }
        }
        "json" => {
            let mut writer = ensemble::arrow::json::ArrayWriter::new(&mut bytes);
            for batch in batches {
                writer.write(batch).map_err(|e| e.to_string())?;
            }
            writer.finish().map_err(|e| e.to_string())?;
        }
        "parquet" => {
            let schema = batches
                .first()
                .map(|b| b.schema())
                .ok_or_else(|| "nothing to write".to_string())?;
            let mut writer = parquet::arrow::ArrowWriter::try_new(&mut bytes, schema, None)
                .map_err(|e| e.to_string())?;
            for batch in batches {
                writer.write(batch).map_err(|e| e.to_string())?;
            }
            writer.close().map_err(|e| e.to_string())?;
        }
        other => {
            return Err(format!(
                "{}: unknown format '.{other}' (csv, json or parquet)",
                path.display()
            ))
        }
    }
    write_atomically(path, &bytes)
}

/// Writes a file through a temporary file renamed into place: a failure never leaves a
/// partial file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let directory = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(format!(".{file_name}.partial"));
    let result = (|| {
        let mut file =
            File::create(&temporary).map_err(|e| format!("{}: {e}", temporary.display()))?;
        file.write_all(bytes).map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        std::fs::rename(&temporary, path).map_err(|e| format!("{}: {e}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
