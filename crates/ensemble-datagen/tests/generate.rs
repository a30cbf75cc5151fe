//! The generated datamart: deterministic, well-typed, consistent, plausible.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Date32Type, Int64Type, TimeUnit, TimestampMicrosecondType};
use arrow::record_batch::RecordBatch;
use ensemble_datagen::{generate, GenerateConfig, TABLES};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn read(path: &Path) -> Vec<RecordBatch> {
    let file = File::open(path).expect("the table exists");
    ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("valid Parquet")
        .build()
        .expect("a reader")
        .map(|b| b.expect("a batch"))
        .collect()
}

fn config(customers: u64) -> GenerateConfig {
    GenerateConfig {
        customers,
        chunk: 7_000,
        ..GenerateConfig::default()
    }
}

#[test]
fn same_seed_same_bytes_whatever_the_chunking() {
    let a = tempfile::tempdir().expect("a directory");
    let b = tempfile::tempdir().expect("a directory");
    generate(a.path(), config(20_000), &mut |_, _| {}).expect("generates");
    generate(
        b.path(),
        GenerateConfig {
            chunk: 20_000,
            ..config(20_000)
        },
        &mut |_, _| {},
    )
    .expect("generates");
    for table in TABLES {
        let name = format!("{table}.parquet");
        let (x, y) = (read(&a.path().join(&name)), read(&b.path().join(&name)));
        assert_eq!(
            x.iter().map(|b| b.num_rows()).sum::<usize>(),
            y.iter().map(|b| b.num_rows()).sum::<usize>(),
            "{table}"
        );
        let concat = |batches: &[RecordBatch]| {
            arrow::compute::concat_batches(&batches[0].schema(), batches).expect("concat")
        };
        assert_eq!(concat(&x), concat(&y), "{table}");
    }
    // Same chunking: same bytes.
    let c = tempfile::tempdir().expect("a directory");
    generate(c.path(), config(20_000), &mut |_, _| {}).expect("generates");
    for table in TABLES {
        let name = format!("{table}.parquet");
        assert_eq!(
            std::fs::read(a.path().join(&name)).expect("read"),
            std::fs::read(c.path().join(&name)).expect("read"),
            "{table}"
        );
    }
    assert!(a.path().join("ensemble.toml").exists());
    let other_seed = tempfile::tempdir().expect("a directory");
    generate(
        other_seed.path(),
        GenerateConfig {
            seed: 2,
            ..config(2_000)
        },
        &mut |_, _| {},
    )
    .expect("generates");
    assert_ne!(
        read(&other_seed.path().join("purchases.parquet")),
        read(&a.path().join("purchases.parquet"))
    );
}

#[test]
fn schema_integrity_and_time_consistency() {
    let dir = tempfile::tempdir().expect("a directory");
    let mut calls = 0;
    let summary = generate(dir.path(), config(30_000), &mut |done, total| {
        calls += 1;
        assert!(done <= total);
    })
    .expect("generates");
    assert_eq!(calls, 5, "progress after every chunk");
    assert_eq!(summary.tables.len(), 6);

    let customers = read(&dir.path().join("customers.parquet"));
    let schema = customers[0].schema();
    assert_eq!(
        schema
            .field_with_name("signup_date")
            .expect("column")
            .data_type(),
        &DataType::Date32
    );
    assert_eq!(
        schema
            .field_with_name("customer_id")
            .expect("column")
            .data_type(),
        &DataType::Int64
    );
    let mut signup: HashMap<i64, i32> = HashMap::new();
    let mut null_births = 0;
    for batch in &customers {
        let ids = batch
            .column_by_name("customer_id")
            .expect("id")
            .as_primitive::<Int64Type>();
        let dates = batch
            .column_by_name("signup_date")
            .expect("signup")
            .as_primitive::<Date32Type>();
        null_births += batch
            .column_by_name("birth_date")
            .expect("birth")
            .null_count();
        for i in 0..batch.num_rows() {
            assert!(
                signup.insert(ids.value(i), dates.value(i)).is_none(),
                "duplicate customer"
            );
        }
    }
    assert_eq!(signup.len(), 30_000);
    assert!(
        null_births > 1_000 && null_births < 6_000,
        "a share of missing birth dates: {null_births}"
    );

    let as_of_day = 20_634; // 2026-06-30
    for (table, time) in [
        ("purchases", "purchased_at"),
        ("visits", "visited_at"),
        ("reviews", "reviewed_at"),
        ("messages", "sent_at"),
        ("loyalty_events", "event_at"),
    ] {
        let batches = read(&dir.path().join(format!("{table}.parquet")));
        let field = batches[0]
            .schema()
            .field_with_name(time)
            .expect("time column")
            .clone();
        assert_eq!(
            field.data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, None),
            "{table}"
        );
        let mut rows = 0;
        for batch in &batches {
            let ids = batch
                .column_by_name("customer_id")
                .expect("key")
                .as_primitive::<Int64Type>();
            let times = batch
                .column_by_name(time)
                .expect("time")
                .as_primitive::<TimestampMicrosecondType>();
            for i in 0..batch.num_rows() {
                let day = times.value(i).div_euclid(86_400_000_000) as i32;
                let joined = signup
                    .get(&ids.value(i))
                    .unwrap_or_else(|| panic!("{table}: unknown customer {}", ids.value(i)));
                assert!(
                    day >= *joined,
                    "{table}: an event before the customer's signup"
                );
                assert!(
                    day <= as_of_day + 14,
                    "{table}: an event long after the as-of date"
                );
                rows += 1;
            }
        }
        assert!(rows > 0, "{table} is empty");
    }
}

#[test]
fn spend_is_heavy_tailed_and_december_peaks() {
    let dir = tempfile::tempdir().expect("a directory");
    generate(dir.path(), config(20_000), &mut |_, _| {}).expect("generates");
    let mut spend: HashMap<i64, i128> = HashMap::new();
    let mut by_month = [0u64; 12];
    for batch in read(&dir.path().join("purchases.parquet")) {
        let ids = batch
            .column_by_name("customer_id")
            .expect("key")
            .as_primitive::<Int64Type>();
        let amounts = batch
            .column_by_name("amount")
            .expect("amount")
            .as_primitive::<arrow::datatypes::Decimal128Type>();
        let times = batch
            .column_by_name("purchased_at")
            .expect("time")
            .as_primitive::<TimestampMicrosecondType>();
        for i in 0..batch.num_rows() {
            *spend.entry(ids.value(i)).or_default() += amounts.value(i);
            let date = chrono::DateTime::from_timestamp_micros(times.value(i))
                .expect("a time")
                .date_naive();
            by_month[chrono::Datelike::month0(&date) as usize] += 1;
        }
    }
    let mut totals: Vec<i128> = spend.values().copied().collect();
    totals.sort_unstable_by(|a, b| b.cmp(a));
    let all: i128 = totals.iter().sum();
    let top: i128 = totals[..totals.len() / 20].iter().sum();
    let share = top as f64 / all as f64;
    assert!(
        share > 0.25,
        "the top 5% of buyers make a large share of revenue: {share:.2}"
    );
    let december = by_month[11] as f64;
    let october = by_month[9] as f64;
    assert!(december > 1.5 * october, "December peaks: {by_month:?}");
    let buyers = spend.len() as f64 / 20_000.0;
    assert!(
        (0.6..0.95).contains(&buyers),
        "some members never buy: {buyers:.2}"
    );
}

#[test]
fn an_existing_datamart_is_replaced_only_with_overwrite() {
    let dir = tempfile::tempdir().expect("a directory");
    generate(dir.path(), config(500), &mut |_, _| {}).expect("generates");
    let error = generate(dir.path(), config(500), &mut |_, _| {}).expect_err("refuses");
    assert_eq!(
        error.to_string(),
        format!(
            "{} already exists (use --overwrite to replace the datamart)",
            dir.path().join("ensemble.toml").display()
        )
    );
    // A table file alone is enough to refuse.
    let other = tempfile::tempdir().expect("a directory");
    std::fs::write(other.path().join("visits.parquet"), "mine").expect("writes");
    let error = generate(other.path(), config(500), &mut |_, _| {}).expect_err("refuses");
    assert!(error.to_string().contains("visits.parquet"), "{error}");
    let replaced = GenerateConfig {
        overwrite: true,
        ..config(500)
    };
    generate(other.path(), replaced, &mut |_, _| {}).expect("replaces");
    let leftovers: Vec<_> = std::fs::read_dir(other.path())
        .expect("a directory")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty());
}
