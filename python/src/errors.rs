//! The exception hierarchy: every engine error becomes an `ensemble.EnsembleError` subclass;
//! a script error carries its line, column and the message rendered with the source line and a
//! caret. No Rust panic reaches Python: one becomes `ensemble.InternalError`.

use ensemble::EngineError;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::{create_exception, PyErr};

create_exception!(
    ensemble,
    EnsembleError,
    PyException,
    "Base class of every error ensemble raises."
);
create_exception!(
    ensemble,
    ScriptError,
    EnsembleError,
    "The script is wrong (syntax, an unknown name, a type, a cycle): `line`, `column`, \
     `origin`, `message`, `help` and `rendered` (the source line with a caret)."
);
create_exception!(
    ensemble,
    UnknownNameError,
    ScriptError,
    "A step or segment name that does not exist; `suggestion` is a close existing name."
);
create_exception!(
    ensemble,
    CatalogError,
    EnsembleError,
    "The catalog file is wrong or names something that does not exist."
);
create_exception!(
    ensemble,
    DataError,
    EnsembleError,
    "Reading or writing data failed: a file, a plan, DataFusion's execution, a chart."
);
create_exception!(
    ensemble,
    MemoryLimitError,
    DataError,
    "The work needed more memory than the session's limit and could not spill."
);
create_exception!(
    ensemble,
    ReadOnlyError,
    EnsembleError,
    "A SQL statement that would change the catalog or write a file."
);
create_exception!(
    ensemble,
    ConfigError,
    EnsembleError,
    "A setting is wrong (a memory limit, for example)."
);
create_exception!(
    ensemble,
    CancelledError,
    EnsembleError,
    "The statement was stopped by `Session.interrupt()`; nothing changed."
);
create_exception!(
    ensemble,
    InternalError,
    EnsembleError,
    "A bug of ensemble (a Rust panic, caught): please report it with the message."
);

/// The exception classes, as the module exports them.
pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("EnsembleError", py.get_type::<EnsembleError>())?;
    module.add("ScriptError", py.get_type::<ScriptError>())?;
    module.add("UnknownNameError", py.get_type::<UnknownNameError>())?;
    module.add("CatalogError", py.get_type::<CatalogError>())?;
    module.add("DataError", py.get_type::<DataError>())?;
    module.add("MemoryLimitError", py.get_type::<MemoryLimitError>())?;
    module.add("ReadOnlyError", py.get_type::<ReadOnlyError>())?;
    module.add("ConfigError", py.get_type::<ConfigError>())?;
    module.add("CancelledError", py.get_type::<CancelledError>())?;
    module.add("InternalError", py.get_type::<InternalError>())?;
    Ok(())
}

/// The Python exception for an engine error.
pub(crate) fn engine_error(py: Python<'_>, error: EngineError) -> PyErr {
    let err = match &error {
        EngineError::Language {
            diagnostic,
            source_text,
            origin,
        } => {
            let (line, column) = diagnostic.line_col(source_text);
            let err = ScriptError::new_err(diagnostic.render(source_text, origin, false));
            let value = err.value(py);
            // Setting attributes on a fresh exception instance cannot fail.
            let _ = value.setattr("line", line);
            let _ = value.setattr("column", column);
            let _ = value.setattr("origin", origin.as_str());
            let _ = value.setattr("message", diagnostic.message.as_str());
            let _ = value.setattr("help", diagnostic.help.as_deref());
            let _ = value.setattr("rendered", diagnostic.render(source_text, origin, false));
            return err;
        }
        EngineError::UnknownStep { suggestion, .. } => {
            let err = UnknownNameError::new_err(error.to_string());
            let _ = err.value(py).setattr("suggestion", suggestion.as_deref());
            err
        }
        EngineError::Catalog { .. } => CatalogError::new_err(error.to_string()),
        EngineError::MemoryLimit { .. } => MemoryLimitError::new_err(error.to_string()),
        EngineError::ReadOnly { .. } => ReadOnlyError::new_err(error.to_string()),
        EngineError::Config { .. } => ConfigError::new_err(error.to_string()),
        EngineError::Cancelled => CancelledError::new_err(error.to_string()),
        EngineError::Io { .. }
        | EngineError::Plan(_)
        | EngineError::Execution { .. }
        | EngineError::Snapshot { .. }
        | EngineError::Overflow { .. }
        | EngineError::Write(_) => DataError::new_err(error.to_string()),
    };
    // Errors without a source position answer `line` and `column` too, with None.
    let value = err.value(py);
    let _ = value.setattr("line", py.None());
    let _ = value.setattr("column", py.None());
    let _ = value.setattr("rendered", error.render(false));
    err
}

/// A `DataError` for a failure outside the engine (generation, a chart).
pub(crate) fn data_error(error: impl std::fmt::Display) -> PyErr {
    DataError::new_err(error.to_string())
}
