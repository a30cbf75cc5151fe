//! `ensemble exclusive --sets a,b,c`: do hand-written segments behave like tiers?

use ensemble::SessionOptions;

use crate::cli::Input;
use crate::error::CliError;
use crate::stdio::out;

/// Applies the script's definitions (its bare expressions are checked, not evaluated), then
/// reports the overlaps between the sets and the members in none. Exit code 0 either way: the
/// report is the answer.
pub async fn run(
    input: &Input,
    sets: &[String],
    options: &SessionOptions,
    color: bool,
) -> Result<(), CliError> {
    let (text, origin) = input.read()?;
    let mut session = input.session(options).await?;
    let check = session
        .check_script(&text, &origin)
        .map_err(|e| CliError::from_engine(&e, color))?;
    if let Some(error) = check.errors.first() {
        return Err(CliError::from_engine(error, color));
    }
    let report = session
        .check_exclusive(sets)
        .await
        .map_err(|e| CliError::from_engine(&e, color))?;
    out!("{report}");
    Ok(())
}
