//! Reports (`overlap`, `kpi`, `transition`, `trend`, `snapshot`, `diff`) and script runs, as
//! Python objects: tables as Arrow data, charts as SVG inline in Jupyter.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use ensemble::report::Report as EngineReport;
use ensemble::Outcome;
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};

use crate::errors::{data_error, engine_error};
use crate::evaluation::Evaluation;
use crate::html;
use crate::table::{Batches, Table};

/// What a report found: its tables (Arrow data) and its chart (SVG or PNG).
/// `pyarrow.table(report)` reads its first table.
#[pyclass(frozen, module = "ensemble", name = "Report")]
pub struct Report {
    inner: Arc<EngineReport>,
    tables: Vec<(String, Batches)>,
}

impl Report {
    /// Wraps an engine report, with its tables as Arrow batches.
    pub(crate) fn new(py: Python<'_>, inner: EngineReport) -> PyResult<Report> {
        let tables = inner
            .batches()
            .map_err(|e| engine_error(py, e))?
            .into_iter()
            .map(|(name, batch)| (name, Batches::new(batch.schema(), vec![batch])))
            .collect();
        Ok(Report {
            inner: Arc::new(inner),
            tables,
        })
    }

    fn first(&self) -> PyResult<&Batches> {
        self.tables.first().map(|(_, t)| t).ok_or_else(|| {
            PyKeyError::new_err(format!("the {} report has no table", self.inner.kind()))
        })
    }
}

#[pymethods]
impl Report {
    /// The report's kind: `overlap`, `kpi`, `transition`, `trend`, `snapshot` or `diff`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }

    /// The statement, in canonical form.
    #[getter]
    fn statement(&self) -> String {
        self.inner.statement.clone()
    }

    /// The evaluation date (the last date, for reports over time).
    #[getter]
    fn as_of(&self) -> NaiveDate {
        self.inner.as_of
    }

    /// Total wall time in seconds, evaluations included.
    #[getter]
    fn elapsed(&self) -> f64 {
        self.inner.elapsed.as_secs_f64()
    }

    /// The one-line heading: the statement and its date.
    #[getter]
    fn heading(&self) -> String {
        self.inner.heading()
    }

    /// What the tables alone do not say.
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.inner.notes()
    }

    /// The report's tables by name, in the order they print.
    #[getter]
    fn tables<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let tables = PyDict::new(py);
        for (name, data) in &self.tables {
            tables.set_item(name, Table::new(data.clone()))?;
        }
        Ok(tables)
    }

    /// One table by name; the first when no name is given.
    #[pyo3(signature = (name=None))]
    fn table(&self, name: Option<&str>) -> PyResult<Table> {
        let Some(name) = name else {
            return Ok(Table::new(self.first()?.clone()));
        };
        self.tables
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, data)| Table::new(data.clone()))
            .ok_or_else(|| {
                let names: Vec<&str> = self.tables.iter().map(|(n, _)| n.as_str()).collect();
                PyKeyError::new_err(format!(
                    "the {} report has no table '{name}' (it has: {})",
                    self.inner.kind(),
                    names.join(", ")
                ))
            })
    }

    /// Whether the report has a chart (`snapshot` and `diff` have none).
    #[getter]
    fn has_chart(&self) -> bool {
        ensemble::charts::has_chart(&self.inner)
    }

    /// The chart as an SVG document, or None for a report without one.
    fn svg(&self) -> PyResult<Option<String>> {
        if !ensemble::charts::has_chart(&self.inner) {
            return Ok(None);
        }
        ensemble::charts::svg(&self.inner)
            .map(Some)
            .map_err(data_error)
    }

    /// The chart as PNG bytes, or None for a report without one.
    fn png(&self) -> PyResult<Option<Vec<u8>>> {
        if !ensemble::charts::has_chart(&self.inner) {
            return Ok(None);
        }
        ensemble::charts::png(&self.inner)
            .map(Some)
            .map_err(data_error)
    }

    /// Writes the chart to `path` (`.png` or `.svg`), atomically.
    fn save_chart(&self, path: PathBuf) -> PyResult<()> {
        ensemble::charts::write_chart(&self.inner, &path).map_err(data_error)
    }

    /// The first table's Arrow C stream (Arrow PyCapsule interface).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        self.first()?.stream(py, requested_schema)
    }

    /// The first table's Arrow C schema (Arrow PyCapsule interface).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        self.first()?.schema_capsule(py)
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self) -> String {
        self.inner.to_string()
    }

    pub(crate) fn _repr_html_(&self) -> String {
        let mut out = html::caption(&self.inner.heading());
        if let Ok(Some(svg)) = self.svg() {
            out.push_str(&format!(
                "<div style=\"max-width:900px\">{}</div>",
                strip_prolog(&svg)
            ));
        }
        for (name, data) in &self.tables {
            out.push_str(&html::caption(name));
            out.push_str(&data.preview_html());
        }
        for note in self.inner.notes() {
            out.push_str(&format!(
                "<div style=\"color:#666\">{}</div>",
                html::escape(&note)
            ));
        }
        out
    }
}

/// An SVG document without its XML prolog, scaled to the notebook's width, to embed in HTML.
fn strip_prolog(svg: &str) -> String {
    let svg = match svg.find("<svg") {
        Some(start) => &svg[start..],
        None => svg,
    };
    svg.replacen("<svg ", "<svg style=\"max-width:100%;height:auto\" ", 1)
}

/// What a script did: what it defined, what it evaluated, what it reported.
#[pyclass(frozen, module = "ensemble", name = "Run")]
pub struct Run {
    defined: Vec<(String, String)>,
    evaluations: Vec<Py<Evaluation>>,
    reports: Vec<Py<Report>>,
    notes: Vec<String>,
}

impl Run {
    /// The run of a script, its outcomes converted.
    pub(crate) fn new(py: Python<'_>, run: ensemble::ScriptRun) -> PyResult<Run> {
        let mut out = Run {
            defined: Vec::new(),
            evaluations: Vec::new(),
            reports: Vec::new(),
            notes: run.notes.iter().map(|n| n.message.clone()).collect(),
        };
        for outcome in run.outcomes {
            match outcome {
                Outcome::AsOf(date) => out.defined.push(("as of".into(), date.to_string())),
                Outcome::Field(name) => out.defined.push(("field".into(), name)),
                Outcome::Segment(name) => out.defined.push(("segment".into(), name)),
                Outcome::Partition(name) => out.defined.push(("partition".into(), name)),
                Outcome::Score(name) => out.defined.push(("score".into(), name)),
                Outcome::Evaluated(evaluation) => out
                    .evaluations
                    .push(Py::new(py, Evaluation::new(*evaluation))?),
                Outcome::Report(report) => {
                    out.reports.push(Py::new(py, Report::new(py, *report)?)?)
                }
            }
        }
        Ok(out)
    }
}

#[pymethods]
impl Run {
    /// `(kind, name)` of each definition in order (`("segment", "vip")`), and
    /// `("as of", date)` for an `as of` statement.
    #[getter]
    fn defined(&self) -> Vec<(String, String)> {
        self.defined.clone()
    }

    /// Every bare expression's evaluation, in order.
    #[getter]
    fn evaluations(&self, py: Python<'_>) -> Vec<Py<Evaluation>> {
        self.evaluations.iter().map(|e| e.clone_ref(py)).collect()
    }

    /// Every report, in order.
    #[getter]
    fn reports(&self, py: Python<'_>) -> Vec<Py<Report>> {
        self.reports.iter().map(|r| r.clone_ref(py)).collect()
    }

    /// The last evaluation, or None when the script evaluated nothing.
    #[getter]
    fn last(&self, py: Python<'_>) -> Option<Py<Evaluation>> {
        self.evaluations.last().map(|e| e.clone_ref(py))
    }

    /// Notes about how the script was read.
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn __repr__(&self) -> String {
        let mut lines: Vec<String> = self
            .defined
            .iter()
            .map(|(kind, name)| match kind.as_str() {
                "as of" => format!("as of {name}"),
                _ => format!("{kind} {name} defined"),
            })
            .collect();
        for evaluation in &self.evaluations {
            lines.push(evaluation.get().__repr__());
        }
        for report in &self.reports {
            lines.push(report.get().inner.to_string());
        }
        lines.join("\n")
    }

    fn _repr_html_(&self) -> String {
        let mut out = String::new();
        for (kind, name) in &self.defined {
            out.push_str(&format!(
                "<div>{} {}</div>",
                html::escape(kind),
                html::escape(name)
            ));
        }
        for evaluation in &self.evaluations {
            out.push_str(&evaluation.get()._repr_html_());
        }
        for report in &self.reports {
            out.push_str(&report.get()._repr_html_());
        }
        out
    }
}
