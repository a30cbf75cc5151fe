//! Set operations run on member numbers (`ensemble::members`): whatever the type and
//! spread of the universe's keys, every set operation finds the members plain SQL finds,
//! and the members of an evaluation come out in key order.

use std::sync::Arc;

use ensemble::arrow::array::{
    Array, ArrayRef, Date32Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use ensemble::arrow::util::display::array_value_to_string;
use ensemble::Session;

mod common;

use common::write_parquet;

/// Twelve customers keyed by `keys` (any type, in no order), with points 0..11; purchases
/// by every third one.
fn datamart(keys: ArrayRef) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let n = keys.len();
    write_parquet(
        &dir.path().join("customers.parquet"),
        vec![
            ("customer_id", keys.clone()),
            (
                "points",
                Arc::new(Int64Array::from_iter_values(0..n as i64)) as ArrayRef,
            ),
        ],
    );
    let buyers: Vec<u32> = (0..n as u32).filter(|i| i % 3 == 0).collect();
    let buyer_keys = ensemble::arrow::compute::take(
        keys.as_ref(),
        &ensemble::arrow::array::UInt32Array::from(buyers.clone()),
        None,
    )
    .unwrap();
    write_parquet(
        &dir.path().join("purchases.parquet"),
        vec![
            ("customer_id", buyer_keys),
            (
                "purchased_at",
                Arc::new(Date32Array::from(vec![20_000; buyers.len()])) as ArrayRef,
            ),
        ],
    );
    std::fs::write(
        dir.path().join("ensemble.toml"),
        "[tables.customers]\npath = \"customers.parquet\"\n\n[tables.purchases]\npath = \"purchases.parquet\"\nkey = \"customer_id\"\ntime = \"purchased_at\"\n",
    )
    .unwrap();
    dir
}

fn texts(batches: &[RecordBatch]) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let column = b.column(0).clone();
            (0..column.len()).map(move |i| array_value_to_string(&column, i).unwrap())
        })
        .collect()
}

/// Each operation against SQL over the files, and the members sorted like SQL sorts them.
async fn check(keys: ArrayRef) {
    let dir = datamart(keys);
    let mut session = Session::open(dir.path().join("ensemble.toml"))
        .await
        .unwrap();
    session.set_as_of(chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
    let rich = "customer_id IN (SELECT customer_id FROM customers WHERE points >= 5)";
    let buyer = "customer_id IN (SELECT customer_id FROM purchases)";
    let cases = [
        (
            "[points >= 5] ∪ [has purchases]",
            format!("{rich} OR {buyer}"),
        ),
        (
            "[points >= 5] ∩ [has purchases]",
            format!("{rich} AND {buyer}"),
        ),
        (
            "[points >= 5] - [has purchases]",
            format!("{rich} AND NOT {buyer}"),
        ),
        (
            "[has purchases] - [points >= 5]",
            format!("{buyer} AND NOT {rich}"),
        ),
        (
            "[points >= 5] Δ [has purchases]",
            format!("({rich}) <> ({buyer})"),
        ),
        ("all - all", "false".to_string()),
    ];
    for (expression, condition) in cases {
        let evaluation = session.evaluate(expression).await.unwrap();
        let sql =
            format!("SELECT customer_id FROM customers WHERE {condition} ORDER BY customer_id");
        let expected = session.sql(&sql).await.unwrap();
        assert_eq!(texts(&evaluation.members), texts(&expected), "{expression}");
        assert_eq!(evaluation.count(), texts(&expected).len(), "{expression}");
    }
}

#[tokio::test]
async fn text_keys_are_numbered_by_rank() {
    let keys = [
        "zoé", "adam", "Émile", "bob", "", "claire", "a b", "Zed", "42", "éa", "yann", "x",
    ];
    check(Arc::new(StringArray::from(keys.to_vec()))).await;
}

#[tokio::test]
async fn integer_keys_of_any_spread_are_numbered() {
    // Close together: numbered by offset.
    check(Arc::new(Int32Array::from(vec![
        7, -3, 12, 0, 1, 99, 5, 6, -8, 40, 41, 2,
    ])))
    .await;
    // Wider than 2³² apart: numbered by rank.
    check(Arc::new(Int64Array::from(vec![
        i64::MAX,
        i64::MIN,
        0,
        -1,
        1 << 40,
        -(1 << 40),
        3,
        17,
        1 << 33,
        5,
        6,
        7,
    ])))
    .await;
}

#[tokio::test]
async fn overlaps_count_what_sql_counts() {
    let (_dir, mut session) = common::demo_session().await;
    let sets: Vec<String> = [
        "[has purchases within 12 months]",
        "[sum(purchases.amount within 12 months) >= 500]",
        "[has visits within 90 days]",
        "[city = 'Paris']",
    ]
    .map(String::from)
    .to_vec();
    let overlaps = session.overlaps(&sets).await.unwrap();
    let mut members = Vec::new();
    for set in &sets {
        members.push(common::members(&mut session, set).await);
    }
    for (i, a) in members.iter().enumerate() {
        for (j, b) in members.iter().enumerate() {
            assert_eq!(
                overlaps.shared[i][j],
                a.intersection(b).count(),
                "{} ∩ {}",
                sets[i],
                sets[j]
            );
        }
    }
    // And one pair against plain SQL over the files.
    let sql = common::sql_keys(
        &session,
        "SELECT customer_id FROM customers WHERE city = 'Paris' AND signup_date <= DATE '2026-06-30'
           AND customer_id IN (SELECT customer_id FROM visits
             WHERE visited_at >= TIMESTAMP '2026-04-02' AND visited_at < TIMESTAMP '2026-07-01')",
    )
    .await;
    assert_eq!(overlaps.shared[2][3], sql.len());
    assert!(overlaps.to_string().lines().count() == sets.len() + 1);
}

#[tokio::test]
async fn repeated_or_missing_keys_of_any_type_are_refused() {
    let cases: [ArrayRef; 3] = [
        Arc::new(StringArray::from(vec!["b", "a", "b"])),
        Arc::new(StringArray::from(vec![Some("a"), None, Some("c")])),
        Arc::new(Int64Array::from(vec![i64::MIN, 4, i64::MIN])),
    ];
    for keys in cases {
        let dir = datamart(keys.clone());
        let mut session = Session::open(dir.path().join("ensemble.toml"))
            .await
            .unwrap();
        let error = session.evaluate("all").await.unwrap_err().render(false);
        assert!(
            error.contains("each member must be exactly one row with a key"),
            "{keys:?}: {error}"
        );
    }
}
