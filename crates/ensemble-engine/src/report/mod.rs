//! Reports: what `overlap`, `kpi`, `transition`, `trend`, `snapshot` and `diff` found, as
//! typed values (for charts), as tables (Arrow record batches for the library and the
//! exports) and as text for the terminal. The session computes them (`session::reports`).

mod amount;
mod kinds;
mod table;

use std::time::Duration;

use chrono::NaiveDate;

pub use amount::{average_scale, Amount, AVERAGE_EXTRA_SCALE, MAX_DIGITS};
pub use kinds::{
    Combination, DiffReport, DiffRow, KpiReport, KpiRow, OverlapReport, SnapshotReport,
    TransitionReport, TrendReport,
};
pub use table::{Column, ReportTable, Values};

pub(crate) use kinds::percent;

use crate::error::EngineError;

/// One report: the statement that asked for it, when, and what it found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The statement, in canonical form (`overlap vip, clients`).
    pub statement: String,
    /// The evaluation date (the last date, for reports over time).
    pub as_of: NaiveDate,
    /// Total wall time, evaluations included.
    pub elapsed: Duration,
    /// What it found.
    pub body: ReportBody,
}

/// What a report found, by kind.
#[derive(Debug, Clone)]
pub enum ReportBody {
    /// `overlap a, b, c`.
    Overlap(OverlapReport),
    /// `kpi …`.
    Kpi(KpiReport),
    /// `transition P from D1 to D2`.
    Transition(TransitionReport),
    /// `trend … from D1 to D2 every …`.
    Trend(TrendReport),
    /// `snapshot NAME`.
    Snapshot(SnapshotReport),
    /// `diff NAME from D1 to D2`.
    Diff(DiffReport),
}

impl Report {
    /// The report's kind, as its statement starts (`overlap`, `kpi`…).
    pub fn kind(&self) -> &'static str {
        match self.body {
            ReportBody::Overlap(_) => "overlap",
            ReportBody::Kpi(_) => "kpi",
            ReportBody::Transition(_) => "transition",
            ReportBody::Trend(_) => "trend",
            ReportBody::Snapshot(_) => "snapshot",
            ReportBody::Diff(_) => "diff",
        }
    }

    /// The report's tables, in the order they print.
    pub fn tables(&self) -> Vec<ReportTable> {
        match &self.body {
            ReportBody::Overlap(r) => r.tables(),
            ReportBody::Kpi(r) => r.tables(),
            ReportBody::Transition(r) => r.tables(),
            ReportBody::Trend(r) => r.tables(),
            ReportBody::Snapshot(r) => r.tables(),
            ReportBody::Diff(r) => r.tables(),
        }
    }

    /// The report's tables as Arrow record batches, with their names.
    pub fn batches(
        &self,
    ) -> Result<Vec<(String, datafusion::arrow::record_batch::RecordBatch)>, EngineError> {
        self.tables()
            .into_iter()
            .map(|t| Ok((t.name.clone(), t.batch()?)))
            .collect()
    }

    /// A one-line heading: the statement and its date.
    pub fn heading(&self) -> String {
        match &self.body {
            ReportBody::Transition(_) | ReportBody::Trend(_) | ReportBody::Diff(_) => {
                self.statement.clone()
            }
            _ => format!("{} (as of {})", self.statement, self.as_of),
        }
    }
}

impl std::fmt::Display for Report {
    /// The heading, then every table, then the report's notes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.heading())?;
        for table in self.tables() {
            writeln!(f, "\n{}:\n{}", table.name, table.render())?;
        }
        for note in self.notes() {
            writeln!(f, "\n{note}")?;
        }
        Ok(())
    }
}

impl Report {
    /// What the tables alone do not say.
    pub fn notes(&self) -> Vec<String> {
        match &self.body {
            ReportBody::Overlap(r) => vec![format!(
                "Every combination is a set expression: evaluate it to inspect its members as \
                 steps. {} member(s) of the universe ({}) are in none of the sets.",
                crate::group_thousands(r.outside as usize),
                crate::group_thousands(r.universe as usize)
            )],
            ReportBody::Kpi(r) => r.notes(),
            ReportBody::Snapshot(r) => vec![format!("written to {}", r.path.display())],
            ReportBody::Diff(r) => r.notes(),
            _ => Vec::new(),
        }
    }
}
