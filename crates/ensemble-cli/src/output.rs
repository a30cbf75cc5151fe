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
                let file = File::create(&temporary)
                    .map_err(|e| format!("{}: {e}", temporary.display()))?;
                let mut out = BufWriter::new(file);
                write_to(evaluation, format, &mut out)?;
                out.into_inner()
                    .map_err(|e| e.to_string())?
                    .sync_all()
                    .map_err(|e| e.to_string())?;
                std::fs::rename(&temporary, path).map_err(|e| format!("{}: {e}", path.display()))
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&temporary);
            }
            result
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
