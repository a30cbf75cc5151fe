//! `ensemble generate`: a realistic loyalty datamart, with a progress bar.

use std::path::Path;
use std::time::Instant;

use ensemble::datagen::{generate, GenerateConfig};
use ensemble::group_thousands;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::CliError;
use crate::stdio::errln;

/// `ensemble generate`.
pub fn run(
    customers: u64,
    seed: u64,
    as_of: chrono::NaiveDate,
    out: &Path,
    overwrite: bool,
) -> Result<(), CliError> {
    let config = GenerateConfig {
        customers,
        seed,
        as_of,
        overwrite,
        ..Default::default()
    };
    generate_with_progress(out, config)
        .map(|_| ())
        .map_err(CliError::data)
}

/// Generates a datamart with a progress bar on a terminal's stderr.
pub fn generate_with_progress(
    dir: &Path,
    config: GenerateConfig,
) -> Result<ensemble::datagen::Summary, String> {
    let bar = ProgressBar::with_draw_target(Some(config.customers), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} generating {pos}/{len} customers [{bar:30}] {elapsed_precise} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let started = Instant::now();
    let summary =
        generate(dir, config, &mut |done, _| bar.set_position(done)).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    errln!(
        "wrote {} customers to {} in {:.1?}",
        group_thousands(config.customers as usize),
        dir.display(),
        started.elapsed()
    );
    for (table, rows) in &summary.tables {
        errln!("  {table:<15} {:>15} rows", group_thousands(*rows as usize));
    }
    Ok(summary)
}
