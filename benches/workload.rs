//! The canonical workload, side by side with the same work written as plain DataFusion SQL
//! (one `CREATE TABLE` per step), in one run: medians and their ratio, then the warm edit
//! (a new threshold on known values), a set operation on two steps of nearly every member and
//! the overlap matrix of ten sets.
//!
//! `cargo bench --bench workload` — on `ENSEMBLE_BENCH_DIR` (default `data/bench`), generated
//! first with `ENSEMBLE_BENCH_CUSTOMERS` customers (default 1 000 000) when the directory has
//! no catalog; `ENSEMBLE_BENCH_RUNS` runs per side (default 5), alternating, after one untimed
//! run of each. Both sides must find the same members, or the bench stops.
//!
//! `ENSEMBLE_BENCH_ONLY=sql` (or `ensemble`) runs that side once and exits, so that whole
//! processes can be timed side by side: `/usr/bin/time target/release/deps/workload-*` with
//! it, against `/usr/bin/time ensemble run …` on the same script.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use datafusion::prelude::{ParquetReadOptions, SessionContext};
use ensemble::Session;

mod common;
use common::{BIG_SETS, TEN_SETS};

/// The seed's seven segments and the compound expression, each evaluated.
const SCRIPT: &str = "
as of 2026-06-30;
field ca_12m = sum(purchases.amount within 12 months);
segment clients = [has purchases within 12 months];
segment acheteurs_recents = [has purchases within 30 days];
segment vip = [ca_12m >= 1000];
segment endormis = [has purchases within 24 months] - clients;
segment inactifs = [has purchases] - [has purchases within 24 months];
segment prospects = [no purchases and (has visits within 12 months or signup_date within 12 months)];
segment nouveaux_prospects = prospects ∩ [signup_date within 30 days];
clients; acheteurs_recents; vip; endormis; inactifs; prospects; nouveaux_prospects;
clients - acheteurs_recents ∩ vip;
";

/// The same answers as a data team would write them: `(table, statement)` in order.
const SQL: &[(&str, &str)] = &[
    ("u", "SELECT customer_id, signup_date FROM customers WHERE signup_date IS NULL OR signup_date <= DATE '2026-06-30'"),
    ("p", "SELECT customer_id,
              SUM(CASE WHEN purchased_at >= TIMESTAMP '2025-07-01' THEN amount END) AS ca_12m,
              COUNT(CASE WHEN purchased_at >= TIMESTAMP '2025-07-01' THEN 1 END) AS n_12m,
              COUNT(CASE WHEN purchased_at >= TIMESTAMP '2026-06-01' THEN 1 END) AS n_30d,
              COUNT(CASE WHEN purchased_at >= TIMESTAMP '2024-07-01' THEN 1 END) AS n_24m,
              COUNT(*) AS n
           FROM purchases WHERE purchased_at < TIMESTAMP '2026-07-01' GROUP BY customer_id"),
    ("v", "SELECT customer_id, COUNT(*) AS n_12m FROM visits
           WHERE visited_at >= TIMESTAMP '2025-07-01' AND visited_at < TIMESTAMP '2026-07-01'
           GROUP BY customer_id"),
    ("clients", "SELECT customer_id FROM u JOIN p USING (customer_id) WHERE n_12m > 0"),
    ("acheteurs_recents", "SELECT customer_id FROM u JOIN p USING (customer_id) WHERE n_30d > 0"),
    ("vip", "SELECT customer_id FROM u JOIN p USING (customer_id) WHERE ca_12m >= 1000"),
    ("endormis", "SELECT customer_id FROM u JOIN p USING (customer_id) WHERE n_24m > 0 AND n_12m = 0"),
    ("inactifs", "SELECT customer_id FROM u JOIN p USING (customer_id) WHERE n > 0 AND n_24m = 0"),
    ("prospects", "SELECT u.customer_id FROM u LEFT JOIN p ON u.customer_id = p.customer_id
                   LEFT JOIN v ON u.customer_id = v.customer_id
                   WHERE COALESCE(p.n, 0) = 0 AND (COALESCE(v.n_12m, 0) > 0
                     OR (u.signup_date > DATE '2025-06-30' AND u.signup_date <= DATE '2026-06-30'))"),
    ("nouveaux_prospects", "SELECT customer_id FROM prospects JOIN u USING (customer_id)
                            WHERE signup_date > DATE '2026-05-31'"),
    ("both", "SELECT customer_id FROM acheteurs_recents JOIN vip USING (customer_id)"),
    ("result", "SELECT c.customer_id FROM clients c LEFT JOIN both b ON c.customer_id = b.customer_id
                WHERE b.customer_id IS NULL"),
];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn datamart() -> PathBuf {
    let dir = PathBuf::from(env_or("ENSEMBLE_BENCH_DIR", "data/bench".to_string()));
    let catalog = dir.join("ensemble.toml");
    if !catalog.exists() {
        let customers = env_or("ENSEMBLE_BENCH_CUSTOMERS", 1_000_000u64);
        eprintln!("generating {customers} customers in {}", dir.display());
        let config = ensemble::datagen::GenerateConfig {
            customers,
            ..Default::default()
        };
        ensemble::datagen::generate(&dir, config, &mut |_, _| {}).expect("generates");
    }
    catalog
}

/// Runs the script; the sizes of its evaluations, in order.
async fn ensemble_side(catalog: &Path) -> Vec<usize> {
    let mut session = Session::open(catalog).await.expect("opens");
    let run = session.run_script(SCRIPT, "bench").await.expect("runs");
    run.outcomes
        .iter()
        .filter_map(|o| match o {
            ensemble::Outcome::Evaluated(e) => Some(e.count()),
            _ => None,
        })
        .collect()
}

/// Creates one table per step; the sizes of the segments and of the result, in order.
async fn sql_side(dir: &Path) -> Vec<usize> {
    let ctx = SessionContext::new();
    for table in ["customers", "purchases", "visits"] {
        let path = dir.join(format!("{table}.parquet"));
        ctx.register_parquet(
            table,
            path.to_str().expect("a path"),
            ParquetReadOptions::default(),
        )
        .await
        .expect("registers");
    }
    let mut sizes = Vec::new();
    for (name, query) in SQL {
        // DDL runs when it is planned: the step is materialised here.
        ctx.sql(&format!("CREATE TABLE {name} AS {query}"))
            .await
            .expect("creates the step");
        let count = ctx
            .sql(&format!("SELECT count(*) AS n FROM {name}"))
            .await
            .expect("counts")
            .collect()
            .await
            .expect("runs");
        let n = count[0]
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Int64Array>()
            .expect("a count")
            .value(0);
        if !matches!(*name, "u" | "p" | "v" | "both") {
            sizes.push(n as usize);
        }
    }
    sizes
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Both sides' medians over `runs` alternating runs, after one untimed run of each (which
/// brings the files into the page cache for both): `(ours, our sizes, sql, sql sizes)`.
async fn alternating(
    runs: usize,
    catalog: &Path,
    dir: &Path,
) -> (Duration, Vec<usize>, Duration, Vec<usize>) {
    ensemble_side(catalog).await;
    sql_side(dir).await;
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let (mut our_sizes, mut sql_sizes) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let started = Instant::now();
        our_sizes = ensemble_side(catalog).await;
        ours.push(started.elapsed());
        let started = Instant::now();
        sql_sizes = sql_side(dir).await;
        theirs.push(started.elapsed());
    }
    (median(ours), our_sizes, median(theirs), sql_sizes)
}

/// What the REPL would see after the workload: the warm edit and its slowest set operation,
/// a set operation on two steps of nearly every member, the overlap matrix of ten sets.
struct Interactive {
    edit: Duration,
    edit_set_op: Duration,
    big_set_op: Duration,
    big_sizes: (usize, usize),
    overlaps: Duration,
}

async fn interactive(catalog: &Path) -> Interactive {
    let mut session = Session::open(catalog).await.expect("opens");
    session
        .run_script(SCRIPT, "bench")
        .await
        .expect("the workload runs");
    let started = Instant::now();
    let edited = session
        .run_script(
            "segment vip = [ca_12m >= 500]; clients - acheteurs_recents ∩ vip;",
            "edit",
        )
        .await
        .expect("the edit runs");
    let edit = started.elapsed();
    let slowest_set_op = |evaluation: &ensemble::Evaluation| {
        evaluation
            .steps
            .iter()
            .filter(|s| matches!(s.kind, ensemble::StepKind::Set { .. }) && !s.reused)
            .map(|s| s.elapsed)
            .max()
            .unwrap_or_default()
    };
    let edit_set_op = slowest_set_op(edited.last_evaluation().expect("an evaluation"));
    let big = session
        .run_script(
            &format!("{BIG_SETS} presque_tous; sans_avis; presque_tous ∩ sans_avis;"),
            "big",
        )
        .await
        .expect("the big sets run");
    let sizes: Vec<usize> = big
        .outcomes
        .iter()
        .filter_map(|o| match o {
            ensemble::Outcome::Evaluated(e) => Some(e.count()),
            _ => None,
        })
        .collect();
    let big_set_op = slowest_set_op(big.last_evaluation().expect("an evaluation"));
    let sets: Vec<String> = TEN_SETS.map(String::from).to_vec();
    let overlaps = session.overlaps(&sets).await.expect("counts").counting;
    Interactive {
        edit,
        edit_set_op,
        big_set_op,
        big_sizes: (sizes[0], sizes[1]),
        overlaps,
    }
}

fn main() {
    // As the CLI: both sides run in this process, with the same allocator settings.
    ensemble::process::tune_allocator();
    let catalog = datamart();
    let dir = catalog.parent().expect("a directory").to_path_buf();
    let runs = env_or("ENSEMBLE_BENCH_RUNS", 5usize);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    if let Ok(side) = std::env::var("ENSEMBLE_BENCH_ONLY") {
        // One side once, for timing whole processes (`/usr/bin/time`, hyperfine).
        let started = Instant::now();
        let sizes = match side.as_str() {
            "sql" => runtime.block_on(sql_side(&dir)),
            "ensemble" => runtime.block_on(ensemble_side(&catalog)),
            other => panic!("ENSEMBLE_BENCH_ONLY is sql or ensemble, not {other}"),
        };
        println!("{side}: {sizes:?} in {:.1?}", started.elapsed());
        return;
    }
    runtime.block_on(async {
        let (ours, our_sizes, sql, sql_sizes) = alternating(runs, &catalog, &dir).await;
        assert_eq!(our_sizes, sql_sizes, "both sides find the same members");
        let after = interactive(&catalog).await;
        println!(
            "datamart: {} ({runs} alternating runs per side after one untimed, medians)",
            dir.display()
        );
        println!("segment sizes: {our_sizes:?}");
        let line = |what: &str, time: Duration| println!("{what:<52} {time:>10.1?}");
        line("ensemble: the canonical workload", ours);
        line("plain DataFusion SQL: the same work", sql);
        println!(
            "{:<52} {:>10.2}",
            "ratio ensemble / SQL",
            ours.as_secs_f64() / sql.as_secs_f64()
        );
        line("warm edit: vip ≥ 500 and the compound", after.edit);
        line("slowest set operation of the edit", after.edit_set_op);
        line(
            &format!(
                "set operation on {} and {} members",
                after.big_sizes.0, after.big_sizes.1
            ),
            after.big_set_op,
        );
        line("overlap matrix of 10 sets (counting)", after.overlaps);
    });
}
