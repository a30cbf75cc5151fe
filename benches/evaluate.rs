//! The project's benchmark: parse + check + plan of the spec's script, and a full evaluation
//! of a five-leaf expression (no step reused) on the demo datamart.
//!
//! `cargo bench --bench evaluate`; the size of the datamart is `ENSEMBLE_BENCH_CUSTOMERS`
//! (default 20 000).

use criterion::{criterion_group, criterion_main, Criterion};
use ensemble::demo::{write_demo_datamart, DemoConfig};
use ensemble::Session;

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

fn benchmarks(c: &mut Criterion) {
    let customers = std::env::var("ENSEMBLE_BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = DemoConfig {
        customers,
        ..DemoConfig::default()
    };
    let catalog = write_demo_datamart(dir.path(), config).expect("the demo datamart");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut session = runtime.block_on(async {
        let mut session = Session::open(&catalog).await.expect("opens");
        session.set_as_of(config.as_of);
        session
            .run_script(DEFINITIONS, "bench")
            .await
            .expect("definitions");
        session
    });

    c.bench_function("parse + check + plan (5 leaves)", |b| {
        b.iter(|| session.explain(FIVE_LEAVES).expect("explains"))
    });

    let mut group = c.benchmark_group("evaluate");
    group.sample_size(20);
    group.bench_function(
        format!("5 leaves, {customers} customers, nothing reused"),
        |b| {
            b.iter(|| {
                session.clear_cache();
                runtime
                    .block_on(session.evaluate(FIVE_LEAVES))
                    .expect("evaluates")
            })
        },
    );
    group.bench_function(
        format!("5 leaves, {customers} customers, all reused"),
        |b| {
            b.iter(|| {
                runtime
                    .block_on(session.evaluate(FIVE_LEAVES))
                    .expect("evaluates")
            })
        },
    );
    group.finish();
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
