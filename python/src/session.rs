//! `ensemble.Session`: a session over one catalog. Every call that reads data runs with the
//! GIL released and stops on the notebook's interrupt (`KeyboardInterrupt`), leaving the
//! session as it was before the call.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::NaiveDate;
use ensemble::{EngineError, SessionOptions};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::blocking::{detached, runtime, Runner, Stopper};
use crate::errors::{engine_error, EnsembleError};
use crate::evaluation::{Evaluation, Why};
use crate::report::{Report, Run};
use crate::table::{Batches, Table};

/// Where a script given as text comes from, in error messages.
const PYTHON_ORIGIN: &str = "<python>";

/// A session over one catalog: definitions made so far, the evaluation date, and the steps
/// already computed (reused while their definitions, date and data are unchanged).
#[pyclass(frozen, module = "ensemble", name = "Session")]
pub struct Session {
    inner: Mutex<ensemble::Session>,
    stopper: Stopper,
    catalog: PathBuf,
}

impl Session {
    /// Reads something the session holds (no data read, nothing to interrupt): on the
    /// Python thread, without the round trip of [`Session::call`].
    fn peek<T>(&self, read: impl FnOnce(&ensemble::Session) -> T) -> PyResult<T> {
        Ok(read(&*self.lock()?))
    }

    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, ensemble::Session>> {
        self.inner.try_lock().map_err(|_| {
            EnsembleError::new_err(
                "this session is busy with a call from another thread; wait for it or open \
                 another session",
            )
        })
    }

    /// Runs `work` on the engine session, off the Python thread (see `blocking`); its
    /// futures run with the [`Runner`], which stops them on an interrupt.
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        work: impl FnOnce(&mut ensemble::Session, &Runner) -> Result<T, EngineError> + Send,
    ) -> PyResult<T> {
        let mut guard = self.lock()?;
        let session: &mut ensemble::Session = &mut guard;
        let runner = self.stopper.arm(runtime()?);
        let stop = || self.stopper.stop();
        detached(py, Some(&stop), move || work(session, &runner))?.map_err(|e| engine_error(py, e))
    }

    /// Opens a session on the catalog at `path`.
    pub(crate) fn open(
        py: Python<'_>,
        path: PathBuf,
        memory_limit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Session> {
        let options = SessionOptions {
            memory_limit: memory_limit.map(size).transpose()?,
        };
        let runtime = runtime()?;
        let opened = detached(py, None, || {
            runtime.block_on(ensemble::Session::open_with(&path, &options))
        })?;
        let session = opened.map_err(|e| engine_error(py, e))?;
        Ok(Session {
            stopper: Stopper::new(session.interrupter()),
            inner: Mutex::new(session),
            catalog: path,
        })
    }
}

/// A byte count: an integer, or text such as `"512M"` or `"8G"`.
fn size(value: &Bound<'_, PyAny>) -> PyResult<usize> {
    if let Ok(bytes) = value.extract::<usize>() {
        return Ok(bytes);
    }
    let text: String = value
        .extract()
        .map_err(|_| PyTypeError::new_err("memory_limit: an integer or text such as '8G'"))?;
    ensemble::parse_size(&text).map_err(|e| PyValueError::new_err(format!("memory_limit: {e}")))
}

/// A date: a `datetime.date` or ISO text (`"2026-03-31"`).
pub(crate) fn date(value: &Bound<'_, PyAny>) -> PyResult<NaiveDate> {
    if let Ok(date) = value.extract::<NaiveDate>() {
        return Ok(date);
    }
    let text: String = value
        .extract()
        .map_err(|_| PyTypeError::new_err("as_of: a datetime.date or text such as '2026-03-31'"))?;
    ensemble::parse_date(&text).map_err(|e| PyValueError::new_err(format!("as_of: {e}")))
}

/// A member key given as an integer or text (compared as text).
fn member_key(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(text) = value.extract::<String>() {
        return Ok(text);
    }
    Ok(value.str()?.to_string())
}

#[pymethods]
impl Session {
    /// Runs every statement of `script` in order (definitions, `as of`, bare expressions,
    /// reports). A failing statement changes nothing; those before it stay applied.
    #[pyo3(signature = (script, *, origin=None))]
    fn run(&self, py: Python<'_>, script: &str, origin: Option<String>) -> PyResult<Run> {
        let origin = origin.unwrap_or_else(|| PYTHON_ORIGIN.into());
        let run = self.call(py, |s, r| r.block_on(s.run_script(script, &origin)))?;
        Run::new(py, run)
    }

    /// Runs the script file at `path` (as `run` does; errors name the file). The file is
    /// read as the command line reads scripts: UTF-8, at most 16 MiB, incrementally (so
    /// `/dev/zero` or an endless pipe fail at the limit).
    fn run_file(&self, py: Python<'_>, path: PathBuf) -> PyResult<Run> {
        // `-` names a file here, not standard input.
        let file = if path.as_os_str() == "-" {
            Path::new(".").join(&path)
        } else {
            path.clone()
        };
        let script = py
            .detach(|| ensemble::fs::read_text_limited(&file, ensemble::fs::DEFAULT_READ_LIMIT))
            .map_err(|error| engine_error(py, EngineError::Write(error)))?;
        self.run(py, &script, Some(path.display().to_string()))
    }

    /// Applies the definitions of `script` (fields, segments, partitions, scores, `as of`)
    /// without evaluating anything: bare expressions are checked, reports skipped.
    #[pyo3(signature = (script, *, origin=None))]
    fn define(&self, py: Python<'_>, script: &str, origin: Option<String>) -> PyResult<()> {
        let origin = origin.unwrap_or_else(|| PYTHON_ORIGIN.into());
        self.call(py, |s, _| s.define_script(script, &origin))
    }

    /// Evaluates a set expression (`"clients - vip"`), at `as_of` when given (the session's
    /// date is left as it was).
    #[pyo3(signature = (expression, *, as_of=None))]
    fn evaluate(
        &self,
        py: Python<'_>,
        expression: &str,
        as_of: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Evaluation> {
        let as_of = as_of.map(date).transpose()?;
        let evaluation = self.call(py, |s, r| {
            r.block_on(async {
                match as_of {
                    Some(date) => s.evaluate_at(expression, date).await,
                    None => s.evaluate(expression).await,
                }
            })
        })?;
        Ok(Evaluation::new(evaluation))
    }

    /// Why the member whose key is `key` is in or out of `expression`: the values its leaves
    /// read and, at every step, whether it is in.
    #[pyo3(signature = (key, expression, *, as_of=None))]
    fn why(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        expression: &str,
        as_of: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Why> {
        let key = member_key(key)?;
        let as_of = as_of.map(date).transpose()?;
        let why = self.call(py, |s, r| {
            r.block_on(async {
                match as_of {
                    Some(date) => s.why_at(&key, expression, date).await,
                    None => s.why(&key, expression).await,
                }
            })
        })?;
        Ok(Why::new(why))
    }

    /// Runs a report statement (`"overlap vip, clients"`, `"kpi …"`, `"transition …"`…).
    fn report(&self, py: Python<'_>, statement: &str) -> PyResult<Report> {
        let report = self.call(py, |s, r| r.block_on(s.report(statement)))?;
        Report::new(py, report)
    }

    /// A read-only SQL query over the catalog's tables and the last evaluation's steps
    /// (`step_3`, and the segment names), as an Arrow table.
    fn sql(&self, py: Python<'_>, query: &str) -> PyResult<Table> {
        let batches = self.call(py, |s, r| r.block_on(s.sql(query)))?;
        let schema = match batches.first() {
            Some(batch) => batch.schema(),
            None => std::sync::Arc::new(arrow::datatypes::Schema::empty()),
        };
        Ok(Table::new(Batches::new(schema, batches)))
    }

    /// How an expression is read and the plans of its steps, without evaluating it.
    fn explain(&self, py: Python<'_>, expression: &str) -> PyResult<String> {
        self.call(py, |s, _| s.explain(expression).map(|e| e.to_string()))
    }

    /// The evaluation date: the one set, else the catalog's, else today. Assign a
    /// `datetime.date` or ISO text to change it.
    #[getter]
    fn get_as_of(&self) -> PyResult<NaiveDate> {
        self.peek(|s| s.as_of())
    }

    #[setter]
    fn set_as_of(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let value = date(value)?;
        self.call(py, |s, _| {
            s.set_as_of(value);
            Ok(())
        })
    }

    /// Every definition in order: `{name, kind, statement, size}` (size: members at the last
    /// evaluation at the current date, or None).
    #[getter]
    fn definitions<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let listing = self.peek(|s| s.listing())?;
        listing
            .into_iter()
            .map(|listed| {
                let row = PyDict::new(py);
                row.set_item("name", listed.name)?;
                row.set_item("kind", listed.kind.to_string())?;
                row.set_item("statement", listed.statement)?;
                row.set_item("size", listed.size)?;
                Ok(row)
            })
            .collect()
    }

    /// The definitions as a script that recreates them.
    #[getter]
    fn script(&self) -> PyResult<String> {
        self.peek(|s| s.definitions_script())
    }

    /// The last evaluation, or None.
    #[getter]
    fn last(&self) -> PyResult<Option<Evaluation>> {
        let last = self.peek(|s| s.last_evaluation().cloned())?;
        Ok(last.map(Evaluation::new))
    }

    /// The catalog file.
    #[getter]
    fn catalog(&self) -> PathBuf {
        self.catalog.clone()
    }

    /// Reads the catalog and its tables' schemas again; definitions are kept.
    fn reload(&self, py: Python<'_>) -> PyResult<()> {
        self.call(py, |s, r| r.block_on(s.reload_catalog()))
    }

    /// Stops the running call of this session from another thread: it raises
    /// `CancelledError` and changes nothing.
    fn interrupt(&self) {
        self.stopper.stop();
    }

    fn __repr__(&self) -> String {
        format!("<ensemble.Session on {}>", self.catalog.display())
    }
}
