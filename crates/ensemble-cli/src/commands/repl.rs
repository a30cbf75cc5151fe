//! `ensemble repl` (and `ensemble` alone): the interactive session.

use std::path::PathBuf;

use ensemble::{Session, SessionOptions};

use crate::error::CliError;

/// Opens the catalog (`--catalog`, else `./ensemble.toml`, else the demo's) and runs the REPL.
pub async fn run(
    catalog: Option<PathBuf>,
    as_of: Option<chrono::NaiveDate>,
    options: &SessionOptions,
    color: bool,
) -> Result<(), CliError> {
    let catalog = match catalog {
        Some(path) => path,
        None => ["ensemble.toml", "data/demo/ensemble.toml"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .ok_or_else(|| {
                CliError::data(
                    "no catalog: pass --catalog FILE, or run `ensemble demo` once to create the demo datamart",
                )
            })?,
    };
    let mut session = Session::open_with(&catalog, options)
        .await
        .map_err(|e| CliError::from_engine(&e, color))?;
    if let Some(date) = as_of {
        session.set_as_of(date);
    }
    if crate::repl::Repl::new(session, color).run().await {
        Ok(())
    } else {
        // Piped input stopped on an error, already reported.
        Err(CliError::Language(String::new()))
    }
}
