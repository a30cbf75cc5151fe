//! The language's semantics on a hand-made datamart where every edge case is one customer:
//! as-of cut, window edges, exact decimals, month clamping, empty aggregates and nulls.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use common::members;
use ensemble::arrow::array::{
    ArrayRef, Date32Array, Decimal128Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use ensemble::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use ensemble::arrow::record_batch::RecordBatch;
use ensemble::demo::write_parquet;
use ensemble::Session;

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a test date")
}

fn days(text: &str) -> i32 {
    ensemble::compiler::criteria::days_from_epoch(date(text))
}

fn micros(text: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .expect("a test timestamp")
        .and_utc()
        .timestamp_micros()
}

/// Customers 1–11, each one edge case (see the expectations in the tests).
async fn edge_session(as_of: &str) -> (tempfile::TempDir, Session) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let signups: Vec<Option<i32>> = vec![
        Some(days("2025-01-01")), // 1: bought exactly 30 days before the as-of date
        Some(days("2025-01-01")), // 2: bought 29 days before
        Some(days("2025-01-01")), // 3: bought on the as-of date, and the day after
        Some(days("2026-07-01")), // 4: signs up after the as-of date
        None,                     // 5: no signup date: a member
        Some(days("2025-01-01")), // 6: no purchase, no city
        Some(days("2025-01-01")), // 7: spent exactly 1000.00
        Some(days("2025-01-01")), // 8: spent 999.99
        Some(days("2025-01-01")), // 9: bought only after the as-of date
        Some(days("2026-02-28")), // 10: signed up on the clamped "3 months ago" of 2026-05-31
        Some(days("2026-03-01")), // 11: the day after
    ];
    let cities: Vec<Option<&str>> = (1..=11)
        .map(|i| {
            if i == 6 {
                None
            } else if i % 2 == 0 {
                Some("Paris")
            } else {
                Some("Lyon")
            }
        })
        .collect();
    let customers = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Int64, false),
            Field::new("signup_date", DataType::Date32, true),
            Field::new("city", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(Int64Array::from_iter_values(1..=11)) as ArrayRef,
            Arc::new(Date32Array::from(signups)),
            Arc::new(StringArray::from(cities)),
        ],
    )
    .expect("customers");
    let purchases: Vec<(i64, &str, i128)> = vec![
        (1, "2026-05-31 23:59:59", 1_000),
        (2, "2026-06-01 00:00:00", 1_000),
        (3, "2026-06-30 23:59:59", 1_000),
        (3, "2026-07-01 00:00:00", 1_000),
        (7, "2025-03-01 10:00:00", 33_333),
        (7, "2025-04-01 10:00:00", 33_333),
        (7, "2025-05-01 10:00:00", 33_334),
        (8, "2025-03-01 10:00:00", 99_999),
        (9, "2026-07-02 08:00:00", 5_000),
    ];
    let purchases = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("customer_id", DataType::Int64, false),
            Field::new(
                "purchased_at",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                false,
            ),
            Field::new("amount", DataType::Decimal128(10, 2), false),
        ])),
        vec![
            Arc::new(Int64Array::from_iter_values(purchases.iter().map(|p| p.0))) as ArrayRef,
            Arc::new(TimestampMicrosecondArray::from_iter_values(
                purchases.iter().map(|p| micros(p.1)),
            )),
            Arc::new(
                Decimal128Array::from_iter_values(purchases.iter().map(|p| p.2))
                    .with_precision_and_scale(10, 2)
                    .expect("decimal"),
            ),
        ],
    )
    .expect("purchases");
    write_parquet(&dir.path().join("customers.parquet"), &customers).expect("write");
    std::fs::create_dir_all(dir.path().join("purchases")).expect("a directory");
    write_parquet(&dir.path().join("purchases/part-0.parquet"), &purchases).expect("write");
    let catalog = dir.path().join("ensemble.toml");
    std::fs::write(
        &catalog,
        r#"
[universe]
table = "customers"
key = "customer_id"
since = "signup_date"
[tables.customers]
path = "customers.parquet"
[tables.purchases]
path = "purchases"
key = "customer_id"
time = "purchased_at"
"#,
    )
    .expect("catalog");
    let mut session = Session::open(&catalog).await.expect("catalog opens");
    session.set_as_of(date(as_of));
    (dir, session)
}

fn set(keys: &[i64]) -> BTreeSet<i64> {
    keys.iter().copied().collect()
}

#[tokio::test]
async fn as_of_hides_later_rows_and_later_members() {
    let (_dir, mut session) = edge_session("2026-06-30").await;
    assert_eq!(
        members(&mut session, "all").await,
        set(&[1, 2, 3, 5, 6, 7, 8, 9, 10, 11])
    );
    assert_eq!(
        members(&mut session, "[count(purchases) = 1]").await,
        set(&[1, 2, 3, 8])
    );
    assert_eq!(
        members(&mut session, "[has purchases]").await,
        set(&[1, 2, 3, 7, 8])
    );
    assert_eq!(
        members(&mut session, "[no purchases]").await,
        set(&[5, 6, 9, 10, 11])
    );

    // The next day, customer 4 exists and the rows of July 1st are visible.
    session.set_as_of(date("2026-07-01"));
    assert_eq!(
        members(&mut session, "all").await,
        set(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    );
    assert_eq!(
        members(&mut session, "[count(purchases) = 2]").await,
        set(&[3])
    );
}

#[tokio::test]
async fn window_edges_are_whole_calendar_days() {
    let (_dir, mut session) = edge_session("2026-06-30").await;
    // Exactly 30 days ago is outside `within 30 days`; 29 days ago and today are inside.
    assert_eq!(
        members(&mut session, "[has purchases within 30 days]").await,
        set(&[2, 3])
    );
    assert_eq!(
        members(
            &mut session,
            "[last(purchases.purchased_at) within 30 days]"
        )
        .await,
        set(&[2, 3])
    );
    assert_eq!(
        members(&mut session, "[has purchases within 31 days]").await,
        set(&[1, 2, 3])
    );
    assert_eq!(
        members(&mut session, "[last(purchases.purchased_at) = today]").await,
        set(&[3])
    );
    assert_eq!(
        members(
            &mut session,
            "[last(purchases.purchased_at) after 30 days ago]"
        )
        .await,
        set(&[2, 3])
    );
    assert_eq!(
        members(
            &mut session,
            "[last(purchases.purchased_at) before 30 days ago]"
        )
        .await,
        set(&[7, 8])
    );
}

#[tokio::test]
async fn months_ago_clamps_to_the_end_of_the_month() {
    let (_dir, mut session) = edge_session("2026-05-31").await;
    // 3 months before 2026-05-31 is 2026-02-28.
    assert_eq!(
        members(&mut session, "[signup_date > 3 months ago]").await,
        set(&[11])
    );
    assert_eq!(
        members(&mut session, "[signup_date >= 3 months ago]").await,
        set(&[10, 11])
    );
    assert_eq!(
        members(&mut session, "[months_since(signup_date) >= 3]").await,
        members(&mut session, "[signup_date <= 3 months ago]").await
    );
}

#[tokio::test]
async fn decimals_are_exact() {
    let (_dir, mut session) = edge_session("2026-06-30").await;
    assert_eq!(
        members(&mut session, "[sum(purchases.amount) >= 1000]").await,
        set(&[7])
    );
    assert_eq!(
        members(&mut session, "[sum(purchases.amount) = 1000.00]").await,
        set(&[7])
    );
    assert_eq!(
        members(&mut session, "[sum(purchases.amount) >= 999.99]").await,
        set(&[7, 8])
    );
    assert_eq!(
        members(
            &mut session,
            "[sum(purchases.amount) between 999.99 and 999.99]"
        )
        .await,
        set(&[8])
    );
}

#[tokio::test]
async fn empty_aggregates_and_nulls() {
    let (_dir, mut session) = edge_session("2026-06-30").await;
    let nobody_bought = set(&[5, 6, 9, 10, 11]);
    assert_eq!(
        members(&mut session, "[count(purchases) = 0]").await,
        nobody_bought
    );
    assert_eq!(
        members(&mut session, "[sum(purchases.amount) = 0]").await,
        nobody_bought
    );
    assert_eq!(
        members(&mut session, "[count_distinct(purchases.amount) = 0]").await,
        nobody_bought
    );
    for null_when_empty in ["avg", "min", "max", "first", "last"] {
        let column = if matches!(null_when_empty, "first" | "last") {
            "purchased_at"
        } else {
            "amount"
        };
        let criterion = format!("[{null_when_empty}(purchases.{column}) is null]");
        assert_eq!(
            members(&mut session, &criterion).await,
            nobody_bought,
            "{criterion}"
        );
    }
    // Three-valued logic: a null criterion selects nobody.
    assert_eq!(
        members(
            &mut session,
            "[max(purchases.amount) > 0 or max(purchases.amount) <= 0]"
        )
        .await,
        set(&[1, 2, 3, 7, 8])
    );
    assert!(
        !members(&mut session, "[city = 'Paris' or city != 'Paris']")
            .await
            .contains(&6)
    );
    assert!(!members(&mut session, "[not (city = 'Paris')]")
        .await
        .contains(&6));
    // greatest/least skip nulls.
    assert_eq!(
        members(
            &mut session,
            "[greatest(signup_date, last(purchases.purchased_at)) = 2025-01-01]"
        )
        .await,
        set(&[6, 9])
    );
}
