//! Aggregates folded by member number (`ensemble_compiler::member_rows`, the engine's
//! `fold.rs`) against plain SQL over the same files: every fold and value type, filters that
//! are null, rows after the as-of date, rows of keys outside the universe (in a gap of the
//! keys, beyond them, null), members without rows, a related table split over two files (two
//! partitions folded apart and merged), and passes that do not fold beside those that do.

use std::collections::BTreeMap;
use std::sync::Arc;

use ensemble::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array,
    Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use ensemble::arrow::util::display::array_value_to_string;
use ensemble::{AudienceSpec, Session};

mod common;

use common::write_parquet;

/// Customers keyed 10, 11, 13, 14, 17 and 20..=29 (gaps at 12, 15, 16, 18, 19).
fn customer_keys() -> Vec<i64> {
    let mut keys = vec![10, 11, 13, 14, 17];
    keys.extend(20..=29);
    keys
}

/// One file of events: `rows` rows from `seed`, keys among the customers, a gap (12), beyond
/// them (5, 99) and null.
fn events(rows: usize, seed: u64) -> Vec<(&'static str, ArrayRef)> {
    let pool: Vec<Option<i32>> = [10, 11, 12, 13, 14, 17, 20, 21, 22, 23, 5, 99]
        .into_iter()
        .map(Some)
        .chain([None])
        .collect();
    let mut state = seed;
    let mut next = move |m: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % m
    };
    let mut key = Vec::new();
    let mut at = Vec::new();
    let mut qty = Vec::new();
    let mut price = Vec::new();
    let mut amount = Vec::new();
    let mut day = Vec::new();
    let mut flag = Vec::new();
    let mut channel = Vec::new();
    // 2025-01-01T00:00 in microseconds, and days from the epoch.
    let start = 1_735_689_600_000_000i64;
    for _ in 0..rows {
        key.push(pool[next(pool.len() as u64) as usize]);
        // Up to 560 days after the start: some after the as-of date (2026-06-30).
        at.push(Some(start + next(560 * 86_400) as i64 * 1_000_000));
        qty.push((next(5) > 0).then(|| next(9) as i64 - 2));
        price.push(Some(next(10_000) as f64 / 100.0));
        amount.push((next(4) > 0).then(|| next(100_000) as i128));
        day.push(Some(20_000 + next(500) as i32));
        flag.push(match next(3) {
            0 => None,
            1 => Some(false),
            _ => Some(true),
        });
        channel.push(Some(["web", "store"][next(2) as usize]));
    }
    vec![
        ("customer_id", Arc::new(Int32Array::from(key)) as ArrayRef),
        ("at", Arc::new(TimestampMicrosecondArray::from(at))),
        ("qty", Arc::new(Int64Array::from(qty))),
        ("price", Arc::new(Float64Array::from(price))),
        (
            "amount",
            Arc::new(
                Decimal128Array::from(amount)
                    .with_precision_and_scale(10, 2)
                    .unwrap(),
            ),
        ),
        ("day", Arc::new(Date32Array::from(day))),
        ("flag", Arc::new(BooleanArray::from(flag))),
        ("channel", Arc::new(StringArray::from(channel))),
    ]
}

fn datamart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let keys = customer_keys();
    let n = keys.len();
    write_parquet(
        &dir.path().join("customers.parquet"),
        vec![
            ("customer_id", Arc::new(Int64Array::from(keys)) as ArrayRef),
            (
                "signup_date",
                Arc::new(Date32Array::from(vec![19_000; n])) as ArrayRef,
            ),
        ],
    );
    let events_dir = dir.path().join("events");
    std::fs::create_dir(&events_dir).unwrap();
    write_parquet(&events_dir.join("part-0.parquet"), events(400, 1));
    write_parquet(&events_dir.join("part-1.parquet"), events(300, 2));
    std::fs::write(
        dir.path().join("ensemble.toml"),
        "[tables.customers]\npath = \"customers.parquet\"\n\n\
         [tables.events]\npath = \"events\"\nkey = \"customer_id\"\ntime = \"at\"\n",
    )
    .unwrap();
    dir
}

/// `(value as ensemble writes it, the same per member in SQL over `events`)`; the SQL sees the
/// rows up to the as-of date only (the view `e`).
const CASES: &[(&str, &str)] = &[
    ("count(events)", "COALESCE(COUNT(*), 0)"),
    ("count(events.qty)", "COALESCE(COUNT(qty), 0)"),
    (
        "count(events where flag)",
        "COALESCE(COUNT(*) FILTER (WHERE flag), 0)",
    ),
    ("sum(events.qty)", "COALESCE(SUM(qty), 0)"),
    ("sum(events.price)", "COALESCE(SUM(price), 0)"),
    ("sum(events.amount)", "COALESCE(SUM(amount), 0)"),
    ("avg(events.qty)", "AVG(qty)"),
    (
        "avg(events.price where channel = 'web')",
        "AVG(price) FILTER (WHERE channel = 'web')",
    ),
    ("min(events.qty)", "MIN(qty)"),
    (
        "max(events.amount where not flag)",
        "MAX(amount) FILTER (WHERE NOT flag)",
    ),
    ("min(events.day)", "MIN(day)"),
    ("max(events.at)", "CAST(MAX(at) AS DATE)"),
    ("first(events.at)", "CAST(MIN(at) AS DATE)"),
    (
        "last(events.at where qty > 2)",
        "CAST(MAX(at) FILTER (WHERE qty > 2) AS DATE)",
    ),
    (
        "sum(events.qty within 90 days)",
        "COALESCE(SUM(qty) FILTER (WHERE at >= TIMESTAMP '2026-04-02'), 0)",
    ),
    (
        "count(events where qty > 2 within 12 months)",
        "COALESCE(COUNT(*) FILTER (WHERE qty > 2 AND at >= TIMESTAMP '2025-07-01'), 0)",
    ),
];

/// Each member's values as text, by key.
fn rows(batches: &[RecordBatch]) -> BTreeMap<i64, Vec<String>> {
    let mut out = BTreeMap::new();
    for batch in batches {
        let keys = batch
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("Int64 keys");
        for i in 0..batch.num_rows() {
            let values = (1..batch.num_columns())
                .map(|c| array_value_to_string(batch.column(c), i).unwrap())
                .collect();
            out.insert(keys.value(i), values);
        }
    }
    out
}

/// The same value: equal texts, or floats equal but for the order of their additions.
fn same(ours: &str, sql: &str) -> bool {
    match (ours.parse::<f64>(), sql.parse::<f64>()) {
        (Ok(a), Ok(b)) if ours.contains('.') || sql.contains('.') => {
            (a - b).abs() <= 1e-9 * a.abs().max(1.0)
        }
        _ => ours == sql,
    }
}

async fn session(dir: &tempfile::TempDir) -> Session {
    let mut session = Session::open(dir.path().join("ensemble.toml"))
        .await
        .unwrap();
    session.set_as_of(chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
    session
}

/// The oracle: every member of the universe with `outputs` over its rows up to the as-of date.
async fn oracle(session: &Session, outputs: &[&str]) -> BTreeMap<i64, Vec<String>> {
    let columns: Vec<String> = outputs
        .iter()
        .enumerate()
        .map(|(i, sql)| format!("{sql} AS v{i}"))
        .collect();
    let sql = format!(
        "SELECT c.customer_id, {} FROM customers c LEFT JOIN \
         (SELECT * FROM events WHERE at < TIMESTAMP '2026-07-01') e \
         ON c.customer_id = e.customer_id GROUP BY c.customer_id ORDER BY c.customer_id",
        columns.join(", ")
    );
    // COUNT over a LEFT JOIN counts the null row of a member without events: count a
    // column of the events instead.
    let sql = sql
        .replace("COUNT(*)", "COUNT(e.customer_id)")
        .replace("COUNT(qty)", "COUNT(e.qty)");
    rows(
        &session
            .sql(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}")),
    )
}

async fn audience(session: &mut Session, values: &[&str]) -> BTreeMap<i64, Vec<String>> {
    let spec = AudienceSpec {
        set: "all".into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    };
    let audience = session
        .audience(&spec)
        .await
        .unwrap_or_else(|e| panic!("{values:?}: {}", e.render(false)));
    rows(&audience.batches)
}

#[tokio::test]
async fn every_fold_finds_what_sql_finds() {
    let dir = datamart();
    let mut session = session(&dir).await;
    let values: Vec<&str> = CASES.iter().map(|(v, _)| *v).collect();
    let sql: Vec<&str> = CASES.iter().map(|(_, s)| *s).collect();
    let ours = audience(&mut session, &values).await;
    let expected = oracle(&session, &sql).await;
    assert_eq!(ours.len(), customer_keys().len());
    for (key, row) in &expected {
        for (i, value) in values.iter().enumerate() {
            assert!(
                same(&ours[key][i], &row[i]),
                "{value} for member {key}: {} (SQL {}: {})",
                ours[key][i],
                sql[i],
                row[i]
            );
        }
    }
    // The features pass folded the events by member number (a new value: the audience's are
    // known and would be reused).
    let evaluation = session
        .evaluate("[count(events within 7 days) >= 1] ∪ [avg(events.qty) > 1]")
        .await
        .unwrap();
    let plan = &evaluation.features.as_ref().expect("a features pass").plan;
    assert!(plan.contains("MemberFold"), "{plan}");
}

#[tokio::test]
async fn passes_that_do_not_fold_join_the_folded_ones() {
    let dir = datamart();
    let mut session = session(&dir).await;
    // A distinct count has a pass of its own beside the folded one.
    assert_agrees(
        &mut session,
        &[
            ("count(events)", "COALESCE(COUNT(*), 0)"),
            (
                "count_distinct(events.channel)",
                "COALESCE(COUNT(DISTINCT channel), 0)",
            ),
        ],
    )
    .await;
    // Then a new value extends the session's features table: a float minimum does not fold.
    assert_agrees(&mut session, &[("min(events.price)", "MIN(price)")]).await;
    // And one that folds, onto the extended table.
    assert_agrees(
        &mut session,
        &[("max(events.qty where flag)", "MAX(qty) FILTER (WHERE flag)")],
    )
    .await;
}

/// Each `(value, SQL)` case: the audience's values are the oracle's.
async fn assert_agrees(session: &mut Session, cases: &[(&str, &str)]) {
    let values: Vec<&str> = cases.iter().map(|(v, _)| *v).collect();
    let sql: Vec<&str> = cases.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        audience(session, &values).await,
        oracle(session, &sql).await
    );
}

#[tokio::test]
async fn criteria_over_folded_values_match_sql() {
    let dir = datamart();
    let mut session = session(&dir).await;
    let members = common::members(
        &mut session,
        "[sum(events.amount) >= 500 and count(events within 12 months) >= 3] - [ntile(sum(events.qty), 3) = 1]",
    )
    .await;
    let expected = common::sql_keys(
        &session,
        "WITH e AS (SELECT * FROM events WHERE at < TIMESTAMP '2026-07-01'),
         f AS (SELECT c.customer_id,
                 COALESCE(SUM(e.amount), 0) AS amount,
                 COUNT(e.customer_id) FILTER (WHERE e.at >= TIMESTAMP '2025-07-01') AS n12,
                 COALESCE(SUM(e.qty), 0) AS qty
               FROM customers c LEFT JOIN e ON c.customer_id = e.customer_id
               GROUP BY c.customer_id)
         SELECT customer_id FROM f WHERE amount >= 500 AND n12 >= 3",
    )
    .await;
    // The bucket rule is the engine's own (docs/language.md): compare the difference with
    // the members of the bucket as ensemble finds them.
    let bottom = common::members(&mut session, "[ntile(sum(events.qty), 3) = 1]").await;
    let expected: std::collections::BTreeSet<i64> = expected.difference(&bottom).copied().collect();
    assert_eq!(members, expected);
    assert!(!members.is_empty());
}

/// Under any memory limit the features pass finds the unlimited members (folded, or planned
/// as a grouped aggregate that spills when the pool cannot hold the arrays) or fails with the
/// memory-limit error, never an abort.
#[tokio::test]
async fn under_a_memory_limit_the_pass_folds_spills_or_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = ensemble::demo::write_demo_datamart(dir.path(), Default::default()).unwrap();
    let expression = "[sum(purchases.amount within 12 months) >= 300 and count(visits) > 2]";
    let run = |limit: Option<usize>| {
        let catalog = catalog.clone();
        async move {
            let options = ensemble::SessionOptions {
                memory_limit: limit,
            };
            let mut session = Session::open_with(&catalog, &options).await?;
            session.set_as_of(ensemble::demo::DemoConfig::default().as_of);
            let evaluation = session.evaluate(expression).await?;
            let plan = evaluation.features.as_ref().expect("a pass").plan.clone();
            Ok::<_, ensemble::EngineError>((common::keys(&evaluation.members), plan))
        }
    };
    let (expected, plan) = run(None).await.unwrap();
    assert!(plan.contains("MemberFold"), "{plan}");
    let mut answered = 0;
    for shift in 10..=22 {
        let limit = 1usize << shift;
        match run(Some(limit)).await {
            Ok((members, _)) => {
                assert_eq!(members, expected, "limit {limit}");
                answered += 1;
            }
            Err(error) => {
                let text = error.render(false);
                assert!(text.contains("out of memory"), "limit {limit}: {text}");
            }
        }
    }
    assert!(answered >= 1, "no limit up to 4 MiB answered");
}
