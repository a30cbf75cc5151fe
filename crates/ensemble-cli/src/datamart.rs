//! `generate`, `demo`, `tables` and `describe`: making and looking at datamarts.

use std::path::{Path, PathBuf};
use std::time::Instant;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use ensemble::datagen::{generate, GenerateConfig};
use ensemble::{group_thousands, Outcome, Session, TableDescription};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::stdio::{errln, out, outln};

/// The script the demo runs.
pub const LOYALTY_SCRIPT: &str = include_str!("../../../examples/loyalty.seg");
/// Where the demo keeps its datamart, relative to the working directory.
pub const DEMO_DIR: &str = "data/demo";
/// Customers in the demo datamart.
pub const DEMO_CUSTOMERS: u64 = 100_000;

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

/// The marker that says which datamart a directory holds.
fn marker(config: &GenerateConfig) -> String {
    format!(
        "ensemble-datagen {} customers={} seed={} as_of={}\n",
        env!("CARGO_PKG_VERSION"),
        config.customers,
        config.seed,
        config.as_of
    )
}

/// The demo's datamart: generated on first use, reused after.
pub fn demo_datamart() -> Result<PathBuf, String> {
    let dir = PathBuf::from(DEMO_DIR);
    let config = GenerateConfig {
        customers: DEMO_CUSTOMERS,
        // Stale or partial demo data is regenerated.
        overwrite: true,
        ..GenerateConfig::default()
    };
    let marker_path = dir.join(".generated");
    let catalog = dir.join("ensemble.toml");
    let fresh =
        std::fs::read_to_string(&marker_path).ok().as_deref() == Some(marker(&config).as_str());
    if fresh && catalog.exists() {
        errln!("using the demo datamart in {}", dir.display());
    } else {
        errln!(
            "first run: generating the demo datamart in {}",
            dir.display()
        );
        generate_with_progress(&dir, config)?;
        ensemble::fs::write_file(&marker_path, marker(&config).as_bytes())
            .map_err(|e| e.to_string())?;
    }
    Ok(catalog)
}

/// Runs the loyalty script: the size of every segment, then the step tree of the last
/// expression.
pub async fn run_demo(session: &mut Session) -> Result<(), ensemble::EngineError> {
    let run = session
        .run_script(LOYALTY_SCRIPT, "examples/loyalty.seg")
        .await?;
    let segments: Vec<String> = run
        .outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Segment(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    let last = run.last_evaluation().cloned();
    let universe = session.evaluate("all").await?.count();
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec!["segment", "members", "share", "definition"]);
    for name in &segments {
        let evaluation = session.evaluate(name).await?;
        let count = evaluation.count();
        let definition = evaluation.steps[evaluation.root].text.clone();
        table.add_row(vec![
            Cell::new(name),
            Cell::new(group_thousands(count)).set_alignment(CellAlignment::Right),
            Cell::new(format!(
                "{:.1} %",
                100.0 * count as f64 / universe.max(1) as f64
            ))
            .set_alignment(CellAlignment::Right),
            Cell::new(definition),
        ]);
    }
    let as_of = session.as_of();
    outln!(
        "Segments as of {as_of} (universe: {} members)\n{table}\n",
        group_thousands(universe)
    );
    if let Some(evaluation) = last {
        outln!("{}", evaluation.steps[evaluation.root].text);
        out!("{}", evaluation.tree());
        outln!(
            "{} members in {:.1?}",
            group_thousands(evaluation.count()),
            evaluation.elapsed
        );
    }
    Ok(())
}

/// `ensemble tables`.
pub fn print_tables(session: &Session) {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec!["table", "role", "columns", "location"]);
    for info in session.tables() {
        table.add_row(vec![
            info.name,
            info.role.to_string(),
            info.columns.to_string(),
            info.location,
        ]);
    }
    outln!("{table}");
}

/// `ensemble describe TABLE` and `\d TABLE`: the row count and a table of the columns.
pub fn render_description(description: TableDescription) -> String {
    let mut text = format!(
        "{}: {} rows\n",
        description.name,
        group_thousands(description.rows as usize)
    );
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(vec!["column", "type", "nulls", "min", "max"]);
    for column in description.columns {
        table.add_row(vec![
            Cell::new(column.name),
            Cell::new(column.data_type),
            Cell::new(format!("{:.1} %", column.null_share * 100.0))
                .set_alignment(CellAlignment::Right),
            Cell::new(column.min.unwrap_or_default()),
            Cell::new(column.max.unwrap_or_default()),
        ]);
    }
    text.push_str(&format!("{table}\n"));
    text
}
