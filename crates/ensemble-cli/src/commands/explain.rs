//! `ensemble explain`: how the script's last expression is read and planned, nothing run.

use ensemble::SessionOptions;

use crate::cli::Input;
use crate::error::CliError;
use crate::stdio::out;

/// Applies the script's definitions and explains its last bare expression (earlier bare
/// expressions are checked, not evaluated).
pub async fn run(input: &Input, options: &SessionOptions, color: bool) -> Result<(), CliError> {
    let (text, origin) = input.read()?;
    let mut session = input.session(options).await?;
    let explanation = session
        .explain_script(&text, &origin)
        .map_err(|e| CliError::from_engine(&e, color))?
        .ok_or_else(|| CliError::language("the script has no expression to explain"))?;
    out!("{explanation}");
    Ok(())
}
