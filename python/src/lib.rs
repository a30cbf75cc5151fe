//! The `ensemble` Python package's native module (`ensemble._ensemble`): sessions over a
//! catalog of Parquet tables, evaluations whose steps and members are Arrow data (through the
//! Arrow PyCapsule interface), reports with their charts, and the demo data generator.
//!
//! The Python package (`python/ensemble/`) re-exports it; `docs/python.md` is its guide.

use std::path::PathBuf;

use pyo3::prelude::*;

mod blocking;
mod errors;
mod evaluation;
mod html;
mod report;
mod session;
mod table;

/// Opens a session on the catalog file at `path` (`ensemble.toml`). `memory_limit` bounds the
/// memory of query operators (bytes, or text such as `"8G"`); operators that can spill do.
#[pyfunction]
#[pyo3(signature = (path, *, memory_limit=None))]
fn open(
    py: Python<'_>,
    path: PathBuf,
    memory_limit: Option<&Bound<'_, PyAny>>,
) -> PyResult<session::Session> {
    session::Session::open(py, path, memory_limit)
}

/// Generates a realistic loyalty datamart (customers, purchases, visits, reviews… as Parquet,
/// with its `ensemble.toml`) into `directory`; returns the catalog file's path. The same seed
/// gives the same data. An existing datamart is only replaced with `overwrite=True`.
#[pyfunction]
#[pyo3(signature = (directory, *, customers=10_000, seed=1, as_of=None, overwrite=false))]
fn generate(
    py: Python<'_>,
    directory: PathBuf,
    customers: u64,
    seed: u64,
    as_of: Option<&Bound<'_, PyAny>>,
    overwrite: bool,
) -> PyResult<PathBuf> {
    let defaults = ensemble::datagen::GenerateConfig::default();
    let config = ensemble::datagen::GenerateConfig {
        customers,
        seed,
        as_of: as_of
            .map(session::date)
            .transpose()?
            .unwrap_or(defaults.as_of),
        overwrite,
        ..defaults
    };
    let summary = blocking::detached(py, None, || {
        ensemble::datagen::generate(&directory, config, &mut |_, _| {})
    })?
    .map_err(errors::data_error)?;
    Ok(summary.catalog)
}

/// The native module.
#[pymodule]
fn _ensemble(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_function(wrap_pyfunction!(open, module)?)?;
    module.add_function(wrap_pyfunction!(generate, module)?)?;
    module.add_class::<session::Session>()?;
    module.add_class::<evaluation::Evaluation>()?;
    module.add_class::<evaluation::Step>()?;
    module.add_class::<evaluation::Why>()?;
    module.add_class::<report::Report>()?;
    module.add_class::<report::Run>()?;
    module.add_class::<table::Table>()?;
    errors::register(module)?;
    Ok(())
}
