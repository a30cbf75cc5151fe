//! Criterion benches: parse + check + plan of a five-leaf expression; a full evaluation with
//! nothing reused and with everything reused; the warm edit (a new threshold over values the
//! session has); one set operation on two large steps; the overlap matrix of ten sets.
//!
//! `cargo bench --bench evaluate` runs on a demo datamart of `ENSEMBLE_BENCH_CUSTOMERS`
//! customers (default 20 000) made in a temporary directory, or on the datamart of
//! `ENSEMBLE_BENCH_DIR` when it has a catalog (`ensemble generate --customers 1000000 --out
//! DIR` for the 1 M figures of `docs/performance.md`).

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use ensemble::demo::{write_demo_datamart, DemoConfig};
use ensemble::{Session, StepKind};

mod common;
use common::{BIG_SETS, TEN_SETS};

const DEFINITIONS: &str = "
field ca_12m = sum(purchases.amount within 12 months);
segment clients = [has purchases within 12 months];
segment acheteurs_recents = [has purchases within 30 days];
segment vip = [ca_12m >= 1000];
segment visiteurs = [last(visits.visited_at) within 90 days];
segment parisiens = [city = 'Paris'];
";

/// Five criterion leaves over two related tables and the universe.
const FIVE_LEAVES: &str = "(clients - acheteurs_recents ∩ vip) ∪ (visiteurs ∩ parisiens)";

/// The datamart's catalog: `ENSEMBLE_BENCH_DIR`'s, or a demo one in `scratch`.
fn catalog(scratch: &tempfile::TempDir) -> PathBuf {
    if let Ok(dir) = std::env::var("ENSEMBLE_BENCH_DIR") {
        let catalog = PathBuf::from(dir).join("ensemble.toml");
        if catalog.exists() {
            return catalog;
        }
    }
    let customers = std::env::var("ENSEMBLE_BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let config = DemoConfig {
        customers,
        ..DemoConfig::default()
    };
    write_demo_datamart(scratch.path(), config).expect("the demo datamart")
}

fn benchmarks(c: &mut Criterion) {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let catalog = catalog(&scratch);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut session = runtime.block_on(async {
        let mut session = Session::open(&catalog).await.expect("opens");
        session
            .run_script(&format!("{DEFINITIONS}{BIG_SETS}"), "bench")
            .await
            .expect("definitions");
        session
    });
    let customers = runtime
        .block_on(session.evaluate("all"))
        .expect("the universe")
        .count();

    c.bench_function("parse + check + plan (5 leaves)", |b| {
        b.iter(|| session.explain(FIVE_LEAVES).expect("explains"))
    });

    let mut group = c.benchmark_group(format!("{customers} customers"));
    group.sample_size(10);
    group.bench_function("5 leaves, nothing reused", |b| {
        b.iter(|| {
            session.clear_cache();
            runtime
                .block_on(session.evaluate(FIVE_LEAVES))
                .expect("evaluates")
        })
    });
    group.bench_function("5 leaves, all reused", |b| {
        b.iter(|| {
            runtime
                .block_on(session.evaluate(FIVE_LEAVES))
                .expect("evaluates")
        })
    });
    // Each edit is a threshold not seen before, over the known ca_12m.
    let mut threshold = 100;
    group.bench_function("warm edit: a new vip threshold and the compound", |b| {
        b.iter(|| {
            threshold += 1;
            let script = format!(
                "segment vip = [ca_12m >= {threshold}]; clients - acheteurs_recents ∩ vip;"
            );
            runtime
                .block_on(session.run_script(&script, "edit"))
                .expect("the edit runs")
        })
    });
    // The set step alone: its leaves are recomputed first, outside the measure.
    group.bench_function("set operation: presque_tous ∩ sans_avis", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                session.clear_cache();
                let evaluation = runtime
                    .block_on(session.evaluate("presque_tous ∩ sans_avis"))
                    .expect("evaluates");
                let set = evaluation
                    .steps
                    .iter()
                    .rev()
                    .find(|s| matches!(s.kind, StepKind::Set { .. }));
                total += set.map(|s| s.elapsed).unwrap_or_default();
            }
            total
        })
    });
    let sets: Vec<String> = TEN_SETS.map(String::from).to_vec();
    group.bench_function("overlap matrix of 10 sets (counting)", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let overlaps = runtime.block_on(session.overlaps(&sets)).expect("counts");
                total += overlaps.counting;
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
