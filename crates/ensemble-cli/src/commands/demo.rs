//! `ensemble demo`: the demo datamart (generated on first run) and examples/loyalty.seg.

use std::path::PathBuf;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use ensemble::datagen::GenerateConfig;
use ensemble::{group_thousands, Outcome, Session, SessionOptions};

use super::generate::generate_with_progress;
use crate::error::CliError;
use crate::stdio::{errln, out, outln};

/// The script the demo runs.
pub const LOYALTY_SCRIPT: &str = include_str!("../../../../examples/loyalty.seg");
/// Where the demo keeps its datamart, relative to the working directory.
pub const DEMO_DIR: &str = "data/demo";
/// Customers in the demo datamart.
pub const DEMO_CUSTOMERS: u64 = 100_000;

/// `ensemble demo`.
pub async fn run(options: &SessionOptions, color: bool) -> Result<(), CliError> {
    let catalog = demo_datamart().map_err(CliError::data)?;
    let mut session = Session::open_with(&catalog, options)
        .await
        .map_err(|e| CliError::from_engine(&e, color))?;
    run_demo(&mut session)
        .await
        .map_err(|e| CliError::from_engine(&e, color))?;
    let charts = PathBuf::from(DEMO_DIR).join("charts");
    analytics_tour(&mut session, &charts)
        .await
        .map_err(|e| CliError::from_engine(&e, color))
}

/// The reports the demo ends with: the status tiers' KPIs, the overlap of three segments (and
/// its chart), the movements between tiers over the last 12 months.
pub const TOUR: [&str; 3] = [
    "kpi statut",
    "overlap clients, acheteurs_recents, vip",
    "transition statut from 2025-06-30 to 2026-06-30",
];

/// Runs [`TOUR`] over the loyalty script's definitions, each chart drawn under `charts`.
pub async fn analytics_tour(
    session: &mut Session,
    charts: &std::path::Path,
) -> Result<(), ensemble::EngineError> {
    outln!("Analytics tour (docs/analytics.md has every report)\n");
    for statement in TOUR {
        let report = session.report(statement).await?;
        outln!("{statement};");
        out!("{report}");
        let file = charts.join(format!("{}.svg", report.kind()));
        let drawn = std::fs::create_dir_all(charts)
            .map_err(|e| e.to_string())
            .and_then(|_| ensemble::charts::write_chart(&report, &file).map_err(|e| e.to_string()));
        match drawn {
            Ok(()) => {
                outln!("chart: {}\n", file.display());
                errln!("{} in {:.1?}", report.kind(), report.elapsed);
            }
            Err(error) => errln!("chart not drawn: {error}\n"),
        }
    }
    Ok(())
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
    let partitions: Vec<String> = run
        .outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Partition(name) => Some(name.clone()),
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
    for name in &partitions {
        let evaluation = session.evaluate(name).await?;
        if let Some(partition) = evaluation.partition() {
            outln!("Partition {name} (the first matching tier wins)");
            outln!("{}", partition.table());
        }
    }
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
