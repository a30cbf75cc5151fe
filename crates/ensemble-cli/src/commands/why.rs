//! `ensemble why --member KEY`: one member, the script's last expression, node by node.

use ensemble::SessionOptions;

use crate::cli::Input;
use crate::error::CliError;
use crate::stdio::out;

/// Applies the script's definitions, then explains the member's membership of its last
/// bare expression (earlier bare expressions are checked, not evaluated).
pub async fn run(
    input: &Input,
    member: &str,
    options: &SessionOptions,
    color: bool,
) -> Result<(), CliError> {
    let (text, origin) = input.read()?;
    let mut session = input.session(options).await?;
    let why = session
        .why_script(member, &text, &origin)
        .await
        .map_err(|e| CliError::from_engine(&e, color))?
        .ok_or_else(|| CliError::language("the script has no expression to explain"))?;
    out!("{why}");
    Ok(())
}
