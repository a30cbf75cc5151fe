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
            other => format!("Error: {other}\n"),
        }
    }

    pub(crate) fn execution(
        context: impl Into<String>,
        source: datafusion::error::DataFusionError,
    ) -> Self {
        EngineError::Execution {
            context: context.into(),
            source,
        }
    }
}
