//! How a command fails, and the exit code each failure gives (documented in `--help`):
//! 1 for an error in the script (syntax, names, types, usage), 2 for a data, catalog or
//! I/O error.

use std::process::ExitCode;

use ensemble::EngineError;

/// A failed command, with the text to print on standard error.
#[derive(Debug)]
pub enum CliError {
    /// The script or the command line is wrong: exit code 1.
    Language(String),
    /// The data, the catalog or a file is: exit code 2.
    Data(String),
}

impl CliError {
    /// An engine error, rendered (with colours when `color`), classified.
    pub fn from_engine(error: &EngineError, color: bool) -> CliError {
        let text = error.render(color);
        if error.is_language_error() {
            CliError::Language(text)
        } else {
            CliError::Data(text)
        }
    }

    /// A data or I/O error given as a message.
    pub fn data(message: impl std::fmt::Display) -> CliError {
        CliError::Data(format!("Error: {message}\n"))
    }

    /// A script or usage error given as a message.
    pub fn language(message: impl std::fmt::Display) -> CliError {
        CliError::Language(format!("Error: {message}\n"))
    }

    /// The text to print.
    pub fn text(&self) -> &str {
        match self {
            CliError::Language(text) | CliError::Data(text) => text,
        }
    }

    /// The process's exit code.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Language(_) => ExitCode::from(1),
            CliError::Data(_) => ExitCode::from(2),
        }
    }
}

/// Whether standard error gets colours: a terminal, and `NO_COLOR` unset.
pub fn stderr_color() -> bool {
    use std::io::IsTerminal as _;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}
