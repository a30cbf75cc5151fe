//! `ensemble report`: a script's reports printed as tables, the last one exported (CSV, JSON,
//! Parquet) and drawn (SVG, PNG).

use std::path::{Path, PathBuf};

use ensemble::report::Report;
use ensemble::{Outcome, SessionOptions};

use crate::cli::Input;
use crate::error::CliError;
use crate::output;
use crate::stdio::{errln, out};

/// Where the last report goes besides standard output.
pub struct Files<'a> {
    /// Its tables (.csv, .json, .parquet).
    pub output: Option<&'a Path>,
    /// Its chart, once per file (.svg, .png).
    pub charts: &'a [PathBuf],
}

/// Runs the script (then `extra`, when given, in place of the script's own reports), prints
/// every report, writes the last report's tables and chart.
pub async fn run(
    input: &Input,
    extra: Option<&str>,
    files: Files<'_>,
    options: &SessionOptions,
    color: bool,
) -> Result<(), CliError> {
    let mut session = input.session(options).await?;
    let bar = progress_bar(&mut session);
    let run = super::run::run_in(&mut session, input, color).await?;
    let mut reports: Vec<Report> = run
        .outcomes
        .into_iter()
        .filter_map(|o| match o {
            Outcome::Report(report) => Some(*report),
            _ => None,
        })
        .collect();
    if let Some(extra) = extra {
        let report = session
            .report(extra)
            .await
            .map_err(|e| CliError::from_engine(&e, color))?;
        reports = vec![report];
    }
    bar.finish_and_clear();
    let Some(last) = reports.last() else {
        return Err(CliError::language(
            "the script has no report (overlap, kpi, transition, trend, snapshot, diff)",
        ));
    };
    for report in &reports {
        out!("{report}");
        errln!("{} in {:.1?}", report.kind(), report.elapsed);
    }
    if let Some(path) = files.output {
        for written in export_report(last, path).map_err(CliError::data)? {
            errln!("wrote {}", written.display());
        }
    }
    for path in files.charts {
        ensemble::charts::write_chart(last, path).map_err(CliError::data)?;
        errln!("wrote {}", path.display());
    }
    Ok(())
}

/// A bar on standard error (drawn only on a terminal) that follows reports over several
/// dates.
fn progress_bar(session: &mut ensemble::Session) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} dates")
    {
        bar.set_style(style);
    }
    let follow = bar.clone();
    session.on_progress(Some(std::sync::Arc::new(move |done, total, what| {
        follow.set_length(total as u64);
        follow.set_position(done as u64);
        follow.set_message(what.to_string());
    })));
    bar
}

/// Writes the report's tables to `path` (.csv, .json or .parquet): one table to `path`, several
/// to `NAME-TABLE.EXT` beside it. Returns the files written.
pub fn export_report(report: &Report, path: &Path) -> Result<Vec<PathBuf>, String> {
    let batches = report.batches().map_err(|e| e.to_string())?;
    let mut written = Vec::new();
    for (name, batch) in &batches {
        let target = if batches.len() == 1 {
            path.to_path_buf()
        } else {
            table_path(path, name)
        };
        output::write_batches(std::slice::from_ref(batch), &target)?;
        written.push(target);
    }
    Ok(written)
}

/// `overlap.csv` and `pairs` give `overlap-pairs.csv`.
fn table_path(path: &Path, table: &str) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(extension) => format!("{stem}-{table}.{}", extension.to_string_lossy()),
        None => format!("{stem}-{table}"),
    };
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_of_a_report_get_their_own_files() {
        assert_eq!(
            table_path(Path::new("out/overlap.csv"), "pairs"),
            PathBuf::from("out/overlap-pairs.csv")
        );
        assert_eq!(table_path(Path::new("k"), "kpi"), PathBuf::from("k-kpi"));
    }
}
