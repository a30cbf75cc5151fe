//! `ensemble audience`: one row per member of a set, for activation tools.

use std::path::Path;

use ensemble::{AudienceSpec, SessionOptions};

use crate::cli::Input;
use crate::error::CliError;
use crate::stdio::errln;

/// Applies the script's definitions (its expressions and reports run too), then writes the
/// audience of `spec` to `output` (.parquet, or .csv with a .meta.json sidecar).
pub async fn run(
    input: &Input,
    spec: &AudienceSpec,
    output: &Path,
    options: &SessionOptions,
    color: bool,
) -> Result<(), CliError> {
    let mut session = input.session(options).await?;
    super::run::run_in(&mut session, input, color).await?;
    let audience = session
        .audience(spec)
        .await
        .map_err(|e| CliError::from_engine(&e, color))?;
    session
        .write_audience(&audience, output)
        .map_err(|e| CliError::from_engine(&e, color))?;
    let columns = audience.batches.first().map_or(0, |b| b.num_columns());
    let destination = if output.as_os_str() == "-" {
        "standard output".into()
    } else {
        output.display().to_string()
    };
    errln!(
        "wrote {} members ({columns} columns) to {destination}",
        ensemble::group_thousands(audience.members),
    );
    Ok(())
}
