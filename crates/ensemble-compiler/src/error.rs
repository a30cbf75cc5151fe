//! Errors of the compiler: names that do not resolve, types that do not fit, cycles, and
//! plans DataFusion refuses.

use ensemble_syntax::{Diagnostic, Span};
use thiserror::Error;

/// What kind of check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckErrorKind {
    /// A segment, field or column name that does not exist.
    UnknownName,
    /// A table the catalog does not have.
    UnknownTable,
    /// A column the table does not have.
    UnknownColumn,
    /// A value of the wrong type.
    Type,
    /// A definition that refers to itself.
    Cycle,
    /// An aggregate over a table that does not reference the universe.
    NotRelated,
    /// `within` on a table without a time column.
    NoTimeColumn,
    /// A function called with the wrong number of arguments, or an unknown function.
    Function,
    /// A construct the engine does not run yet.
    Unsupported,
    /// A definition whose name is already taken by something else.
    NameClash,
    /// A definition that expands beyond what can be evaluated (see `MAX_EXPANDED_NODES`).
    TooLarge,
    /// Checking was interrupted (Ctrl-C).
    Cancelled,
}

/// A check that failed, with where and, when possible, how to fix it.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{message}")]
pub struct CheckError {
    /// What kind of problem.
    pub kind: CheckErrorKind,
    /// The headline.
    pub message: String,
    /// Where in the source.
    pub span: Span,
    /// A suggested fix.
    pub help: Option<String>,
    /// The stored definition the span belongs to, when the problem is inside an earlier
    /// definition rather than in the text being checked.
    pub definition: Option<String>,
}

impl CheckError {
    /// A new error.
    pub fn new(kind: CheckErrorKind, message: impl Into<String>, span: Span) -> Self {
        CheckError {
            kind,
            message: message.into(),
            span,
            help: None,
            definition: None,
        }
    }

    /// Adds a suggested fix.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds `did you mean '…'?` when there is a close candidate.
    pub fn with_suggestion(self, suggestion: Option<String>) -> Self {
        match suggestion {
            Some(candidate) => self.with_help(format!("did you mean '{candidate}'?")),
            None => self,
        }
    }

    /// The error as a diagnostic to render.
    pub fn diagnostic(&self) -> Diagnostic {
        let mut diagnostic = Diagnostic::error(self.message.clone(), self.span);
        if let Some(help) = &self.help {
            diagnostic = diagnostic.with_help(help.clone());
        }
        diagnostic
    }
}

/// DataFusion refused to build a plan (a bug of ours or an unsupported type combination).
#[derive(Debug, Error)]
pub enum PlanError {
    /// The DataFusion error.
    #[error("cannot plan {what}: {source}")]
    DataFusion {
        /// What was being planned.
        what: String,
        /// DataFusion's error.
        #[source]
        source: datafusion::error::DataFusionError,
    },
}

/// Attaches what was being planned to a DataFusion result.
pub(crate) trait PlanContext<T> {
    fn planning(self, what: impl Into<String>) -> Result<T, PlanError>;
}

impl<T> PlanContext<T> for datafusion::error::Result<T> {
    fn planning(self, what: impl Into<String>) -> Result<T, PlanError> {
        self.map_err(|source| PlanError::DataFusion {
            what: what.into(),
            source,
        })
    }
}
