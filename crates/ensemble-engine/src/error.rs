//! Errors of the engine. A *language* error (the text is wrong) renders with the source line
//! and a caret; a *data* error (a file, the catalog, DataFusion) says what failed and why.

use std::path::PathBuf;
use std::sync::Arc;

use ensemble_compiler::PlanError;
use ensemble_syntax::Diagnostic;
use thiserror::Error;

/// Everything that can go wrong in a session.
#[derive(Debug, Error)]
pub enum EngineError {
    /// The script is wrong: a syntax, name or type error, a cycle.
    #[error("{}", diagnostic.message)]
    Language {
        /// What and where.
        diagnostic: Box<Diagnostic>,
        /// The text the diagnostic's span points into.
        source_text: Arc<str>,
        /// Where that text came from (`script.seg`, `<repl>`, `definition of vip`).
        origin: String,
    },
    /// The catalog file is wrong or names something that does not exist.
    #[error("catalog {path}: {message}")]
    Catalog {
        /// The catalog file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A plan could not be built.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Executing a plan failed (an unreadable Parquet file, for example).
    #[error("{context}: {source}")]
    Execution {
        /// What was running.
        context: String,
        /// DataFusion's error.
        #[source]
        source: datafusion::error::DataFusionError,
    },
    /// A SQL statement that would change the catalog or write a file.
    #[error("SQL is read-only here ({message}): to save a query's result, use \\export (SELECT …) TO file.csv")]
    ReadOnly {
        /// DataFusion's refusal.
        message: String,
    },
    /// A setting is wrong (the memory limit, for example).
    #[error("{message}")]
    Config {
        /// What is wrong.
        message: String,
    },
    /// A snapshot could not be written or read; existing snapshots are untouched.
    #[error("{message}")]
    Snapshot {
        /// What went wrong, with the path.
        message: String,
    },
    /// A file could not be written (atomically: nothing was left half written), or an input
    /// could not be read within its limit (`ensemble_fs::read_text_limited`).
    #[error(transparent)]
    Write(#[from] ensemble_fs::FsError),
    /// A sum or an average of a report's measure does not fit a 38-digit decimal.
    #[error("{message}")]
    Overflow {
        /// Which sum or average, of which set.
        message: String,
    },
    /// The statement was interrupted ([`crate::Interrupter`]); nothing changed.
    #[error("cancelled")]
    Cancelled,
    /// The operators needed more memory than the session's limit and could not spill.
    #[error("{context}: out of memory: {message}\nRaise the limit with --memory-limit or ENSEMBLE_MEMORY_LIMIT (for example 8G).")]
    MemoryLimit {
        /// What was running.
        context: String,
        /// DataFusion's account of the largest consumers.
        message: String,
    },
    /// A name given to a command does not exist (`\show vipp`).
    #[error("unknown step or segment '{name}'{}", suggestion.as_ref().map(|s| format!(" — did you mean '{s}'?")).unwrap_or_default())]
    UnknownStep {
        /// The name.
        name: String,
        /// A close existing name.
        suggestion: Option<String>,
    },
}

impl EngineError {
    /// Whether the error is the script's fault (exit code 1) rather than the data's (2).
    pub fn is_language_error(&self) -> bool {
        matches!(
            self,
            EngineError::Language { .. } | EngineError::UnknownStep { .. }
        )
    }

    /// The error as the CLI prints it: language errors with their source line and a caret.
    pub fn render(&self, color: bool) -> String {
        match self {
            EngineError::Language {
                diagnostic,
                source_text,
                origin,
            } => diagnostic.render(source_text, origin, color),
            other => format!(
                "Error: {}\n",
                ensemble_syntax::visible::visible(&other.to_string())
            ),
        }
    }

    pub(crate) fn execution(
        context: impl Into<String>,
        source: datafusion::error::DataFusionError,
    ) -> Self {
        let context = context.into();
        if let Some(message) = resources_exhausted(&source) {
            return EngineError::MemoryLimit { context, message };
        }
        EngineError::Execution { context, source }
    }
}

/// DataFusion's "resources exhausted" message, wherever it is in the chain of causes.
fn resources_exhausted(error: &datafusion::error::DataFusionError) -> Option<String> {
    use datafusion::error::DataFusionError;
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = current {
        match error.downcast_ref::<DataFusionError>() {
            Some(DataFusionError::ResourcesExhausted(message)) => return Some(message.clone()),
            Some(DataFusionError::Shared(inner)) => {
                current = Some(inner.as_ref());
                continue;
            }
            _ => {}
        }
        current = error.source();
    }
    None
}
