//! Errors of the server: what stops it from starting, or a reload from taking effect.

use thiserror::Error;

/// Everything that can stop a server from starting, or a reload from being served.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The catalog or the script could not be loaded (a language error renders with its
    /// caret through [`ServeError::render`]).
    #[error(transparent)]
    Engine(#[from] ensemble::EngineError),
    /// A listener could not be bound, or a file read.
    #[error("{what}: {source}")]
    Io {
        /// What was being done (`binding 127.0.0.1:5433`).
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The settings are inconsistent (credentials missing off loopback, for example).
    #[error("{0}")]
    Config(String),
    /// The certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(String),
    /// Registering the served tables failed.
    #[error("publishing the served tables: {0}")]
    Publish(#[from] datafusion::error::DataFusionError),
}

impl ServeError {
    /// The error as a terminal shows it: language errors with their source line and caret.
    pub fn render(&self) -> String {
        match self {
            ServeError::Engine(e) => e.render(false),
            other => format!("Error: {other}\n"),
        }
    }
}
