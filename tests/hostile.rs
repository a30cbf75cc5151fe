//! Hostile and careless input: nothing hangs, aborts or answers silently wrong. Each test
//! pins one rule of docs/hardening.md (the file-writing rules are pinned by the CLI's
//! `hostile_writes` tests).

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use common::{demo_session, members, sql_keys, write_parquet};
use ensemble::arrow::array::{ArrayRef, Date32Array, Int64Array, StringArray};
use ensemble::{EngineError, Session, SessionOptions};

fn error_text(result: Result<impl std::fmt::Debug, EngineError>) -> String {
    match result {
        Ok(value) => panic!("should fail, gave {value:?}"),
        Err(error) => error.render(false),
    }
}

// --- Checking is linear in the script's size -------------------------------------------

#[tokio::test]
async fn a_segment_used_three_times_per_line_is_checked_once() {
    let (_dir, mut session) = demo_session().await;
    let mut script = String::from("segment s0 = [points > 100];\n");
    for i in 1..=40 {
        let p = i - 1;
        writeln!(script, "segment s{i} = s{p} ∩ s{p} ∪ s{p};").unwrap();
    }
    session
        .run_script(&script, "deep.seg")
        .await
        .expect("checks");
    let expected = members(&mut session, "[points > 100]").await;
    assert_eq!(members(&mut session, "s40").await, expected);
    let evaluation = session.evaluate("s40").await.expect("evaluates");
    // One criterion, then an intersection and a union per line.
    assert_eq!(evaluation.steps.len(), 1 + 2 * 40);
    assert!(evaluation.steps.iter().all(|s| s.count == expected.len()));
}

#[tokio::test]
async fn a_long_chain_of_definitions_checks_and_evaluates() {
    let (_dir, mut session) = demo_session().await;
    let mut script = String::from("segment c0 = [points > 100];\nfield f0 = points;\n");
    for i in 1..=3000 {
        let p = i - 1;
        writeln!(script, "segment c{i} = c{p} ∩ all;\nfield f{i} = f{p} + 1;").unwrap();
    }
    session
        .run_script(&script, "chain.seg")
        .await
        .expect("checks");
    assert_eq!(
        members(&mut session, "c300").await,
        members(&mut session, "[points > 100]").await
    );
    assert_eq!(
        members(&mut session, "[f100 > 200]").await,
        members(&mut session, "[points > 100]").await
    );
    // Written out, f3000 nests 3000 levels deep: refused, not a stack overflow.
    let text = error_text(session.evaluate("[f3000 > 3100]").await);
    assert!(text.contains("nests more than 128 levels"), "{text}");
}

#[tokio::test]
async fn a_field_that_doubles_at_each_step_is_refused_at_its_use() {
    let (_dir, mut session) = demo_session().await;
    let mut script = String::from("field f0 = points;\n");
    for i in 1..=40 {
        writeln!(script, "field f{i} = f{} + f{};", i - 1, i - 1).unwrap();
    }
    session
        .run_script(&script, "double.seg")
        .await
        .expect("checks");
    assert_eq!(
        members(&mut session, "[f10 > 102400]").await,
        members(&mut session, "[points > 100]").await
    );
    let text = error_text(session.evaluate("[f40 > 0]").await);
    assert!(
        text.contains("expands to more than 50000 operations"),
        "{text}"
    );
    assert!(text.contains("double.seg"), "{text}");
}

#[tokio::test]
async fn an_interrupt_stops_checking_and_keeps_the_session() {
    let (_dir, mut session) = demo_session().await;
    session
        .run_script("segment kept = [points > 100];", "setup")
        .await
        .expect("setup");
    let mut script = String::new();
    for i in 0..50_000 {
        writeln!(script, "segment x{i} = kept ∩ [points > {i}];").unwrap();
    }
    // Ctrl-C pressed again and again until the statement stops (a press that came before
    // the statement started would be forgotten, as the REPL forgets one between entries).
    let interrupter = session.interrupter();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pressing = done.clone();
    let pressed = std::thread::spawn(move || {
        while !pressing.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(10));
            interrupter.interrupt();
        }
    });
    let result = session.run_script(&script, "long.seg").await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    pressed.join().unwrap();
    assert!(matches!(result, Err(EngineError::Cancelled)), "{result:?}");
    assert!(!members(&mut session, "kept").await.is_empty());
}

// --- Arithmetic: overflow is an error with a position; division by zero is null ---------

#[tokio::test]
async fn integer_overflow_is_an_error_at_the_operation() {
    let (_dir, mut session) = demo_session().await;
    let text = error_text(
        session
            .run_script("\n[points * 9223372036854775807 > 1];", "overflow.seg")
            .await,
    );
    assert!(
        text.contains("integer overflow in points * 9223372036854775807"),
        "{text}"
    );
    assert!(text.contains("line 2, column 2"), "{text}");
    // In a stored definition, the error points into it.
    session
        .run_script("field big = points * 4611686018427387904;", "fields.seg")
        .await
        .expect("defines");
    let text = error_text(session.evaluate("[big > 0]").await);
    assert!(text.contains("in the definition of 'big'"), "{text}");
    assert!(text.contains("fields.seg"), "{text}");
    // Values in range are unchanged.
    assert_eq!(
        members(&mut session, "[points * 2 - 1 > 199]").await,
        members(&mut session, "[points > 100]").await
    );
}

#[tokio::test]
async fn division_by_zero_is_unknown() {
    let (_dir, mut session) = demo_session().await;
    assert!(members(&mut session, "[1 / 0 > 1]").await.is_empty());
    assert!(members(&mut session, "[points / 0 > 1]").await.is_empty());
    assert!(members(&mut session, "[points / (points - points) < 1]")
        .await
        .is_empty());
    assert!(members(&mut session, "[sum(purchases.amount) / 0 > 1]")
        .await
        .is_empty());
    assert_eq!(
        members(&mut session, "[(points / 0) is null]").await,
        members(&mut session, "all").await
    );
    let expected = sql_keys(
        &session,
        "SELECT customer_id FROM customers WHERE signup_date <= DATE '2026-06-30' AND points > 0 AND 100.0 / points < 1",
    )
    .await;
    assert_eq!(members(&mut session, "[100 / points < 1]").await, expected);
}

// --- The catalog refuses what would be read wrongly -------------------------------------

fn tiny_datamart(customer_keys: Vec<Option<i64>>, time: ArrayRef) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let n = customer_keys.len();
    write_parquet(
        &dir.path().join("customers.parquet"),
        vec![
            ("customer_id", Arc::new(Int64Array::from(customer_keys))),
            (
                "city",
                Arc::new(StringArray::from(vec![Some("Paris"); n])) as ArrayRef,
            ),
            (
                "visits",
                Arc::new(ensemble::arrow::array::UInt64Array::from(vec![3u64; n])) as ArrayRef,
            ),
        ],
    );
    let rows = time.len();
    write_parquet(
        &dir.path().join("purchases.parquet"),
        vec![
            (
                "customer_id",
                Arc::new(Int64Array::from(vec![1i64; rows])) as ArrayRef,
            ),
            ("purchased_at", time),
        ],
    );
    std::fs::write(
        dir.path().join("ensemble.toml"),
        "[tables.customers]\npath = \"customers.parquet\"\n\n[tables.purchases]\npath = \"purchases.parquet\"\nkey = \"customer_id\"\ntime = \"purchased_at\"\n",
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn a_time_column_must_hold_dates() {
    for (time, shown) in [
        (
            Arc::new(Int64Array::from(vec![20_000i64])) as ArrayRef,
            "Int64,",
        ),
        (
            Arc::new(StringArray::from(vec!["30/06/2026"])) as ArrayRef,
            "Utf8",
        ),
    ] {
        let dir = tiny_datamart(vec![Some(1)], time);
        let text = error_text(
            Session::open(dir.path().join("ensemble.toml"))
                .await
                .map(|_| ()),
        );
        assert!(
            text.contains(&format!(
                "the time column 'purchased_at' of table purchases is {shown}"
            )),
            "{text}"
        );
    }
    let dates = Arc::new(Date32Array::from(vec![20_000])) as ArrayRef;
    let dir = tiny_datamart(vec![Some(1)], dates);
    let mut session = Session::open(dir.path().join("ensemble.toml"))
        .await
        .unwrap();
    session.set_as_of(chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap());
    assert_eq!(
        members(&mut session, "[has purchases]").await,
        BTreeSet::from([1])
    );
    // Unsigned whole numbers take part in checked arithmetic too.
    assert_eq!(
        members(&mut session, "[visits * 2 - 1 = 5]").await,
        BTreeSet::from([1])
    );
}

#[tokio::test]
async fn universe_keys_must_be_present_and_unique() {
    let dates = || Arc::new(Date32Array::from(vec![20_000])) as ArrayRef;
    let dir = tiny_datamart(
        vec![Some(1), None, Some(2), Some(2), None, Some(3)],
        dates(),
    );
    let mut session = Session::open(dir.path().join("ensemble.toml"))
        .await
        .unwrap();
    let text = error_text(session.evaluate("all").await);
    assert!(
        text.contains("has 2 row(s) with a null customer_id and 1 repeated customer_id value(s) (for example 2)"),
        "{text}"
    );
    let dir = tiny_datamart(vec![Some(1), Some(2)], dates());
    let mut session = Session::open(dir.path().join("ensemble.toml"))
        .await
        .unwrap();
    assert_eq!(members(&mut session, "all").await, BTreeSet::from([1, 2]));
}

// --- SQL is read-only ---------------------------------------------------------------------

#[tokio::test]
async fn sql_cannot_change_the_catalog_or_write_files() {
    let (dir, mut session) = demo_session().await;
    let target = dir.path().join("copied.csv");
    for statement in [
        "DROP TABLE customers".to_string(),
        "CREATE TABLE t AS SELECT 1".to_string(),
        "INSERT INTO customers SELECT * FROM customers".to_string(),
        format!("COPY (SELECT 1) TO '{}'", target.display()),
        "SET datafusion.execution.batch_size = 1".to_string(),
    ] {
        let text = error_text(session.sql(&statement).await);
        assert!(
            text.contains("SQL is read-only here"),
            "{statement}: {text}"
        );
        assert!(text.contains("\\export"), "{text}");
    }
    assert!(!target.exists());
    let count = session.sql("SELECT count(*) FROM customers").await.unwrap();
    assert_eq!(count[0].num_rows(), 1);
    assert!(!members(&mut session, "all").await.is_empty());
}

#[tokio::test]
async fn a_very_long_sql_expression_fails_cleanly() {
    let (_dir, session) = demo_session().await;
    let query = format!("SELECT {} AS n", vec!["1"; 3_000].join(" + "));
    // Either an answer or an error: never a stack overflow.
    match session.sql(&query).await {
        Ok(batches) => assert_eq!(batches[0].num_rows(), 1),
        Err(error) => assert!(!error.render(false).is_empty()),
    }
    assert_eq!(session.sql("SELECT 1").await.unwrap()[0].num_rows(), 1);
}

// --- Memory is bounded: a statement fails, the process does not abort -------------------

#[tokio::test]
async fn a_memory_limit_fails_the_statement_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = ensemble::demo::write_demo_datamart(dir.path(), Default::default()).unwrap();
    let options = SessionOptions {
        memory_limit: Some(1),
    };
    let mut session = Session::open_with(&catalog, &options).await.unwrap();
    session.set_as_of(ensemble::demo::DemoConfig::default().as_of);
    let text = error_text(
        session
            .evaluate("[count_distinct(purchases.category) > 2]")
            .await
            .map(|e| e.count()),
    );
    assert!(text.contains("out of memory"), "{text}");
    assert!(text.contains("--memory-limit"), "{text}");
    // Nothing was lost: the statement failed, not the process or the session.
    session
        .run_script("segment kept = [points > 100];", "after")
        .await
        .expect("definitions need no memory from the pool");
    assert!(session.explain("kept").is_ok());
    let mut unlimited = Session::open(&catalog).await.unwrap();
    unlimited.set_as_of(ensemble::demo::DemoConfig::default().as_of);
    assert!(
        !members(&mut unlimited, "[count_distinct(purchases.category) > 2]")
            .await
            .is_empty()
    );
}

/// From a limit far too small to a comfortable one, a grouped, sorted and windowed workload
/// (an RFM score and a distinct count) either finds the same members as without a limit
/// (operators spilled what did not fit) or fails with the limit named, never aborts; the
/// catalog's own `memory_limit` is in force when no option overrides it.
#[tokio::test]
async fn any_memory_limit_spills_or_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = ensemble::demo::write_demo_datamart(dir.path(), Default::default()).unwrap();
    let script = "score rfm = rfm(recency: last(purchases.purchased_at), frequency: count(purchases), monetary: sum(purchases.amount), buckets: 5);
                  [rfm.score = '555' or count_distinct(purchases.category) > 3];";
    let answer = |options: SessionOptions| {
        let catalog = catalog.clone();
        async move {
            let mut session = Session::open_with(&catalog, &options).await?;
            session.set_as_of(ensemble::demo::DemoConfig::default().as_of);
            let run = session.run_script(script, "limits").await?;
            let evaluation = run.last_evaluation().expect("an evaluation");
            Ok::<_, EngineError>(common::keys(&evaluation.members))
        }
    };
    let expected = answer(SessionOptions::default()).await.unwrap();
    assert!(!expected.is_empty());
    let (mut spilled_or_fit, mut refused) = (0, 0);
    for limit in [1 << 10, 1 << 16, 1 << 20, 1 << 22, 1 << 24, 1 << 28] {
        match answer(SessionOptions {
            memory_limit: Some(limit),
        })
        .await
        {
            Ok(members) => {
                assert_eq!(members, expected, "limit {limit}");
                spilled_or_fit += 1;
            }
            Err(error) => {
                let text = error.render(false);
                assert!(text.contains("out of memory"), "limit {limit}: {text}");
                assert!(text.contains("--memory-limit"), "limit {limit}: {text}");
                refused += 1;
            }
        }
    }
    assert!(
        refused >= 1 && spilled_or_fit >= 1,
        "{refused} {spilled_or_fit}"
    );
    // The catalog's setting: a tiny one refuses the same work.
    let text = std::fs::read_to_string(&catalog).unwrap();
    std::fs::write(&catalog, format!("memory_limit = \"1K\"\n{text}")).unwrap();
    let error = answer(SessionOptions::default()).await.unwrap_err();
    assert!(error.render(false).contains("out of memory"));
    std::fs::write(&catalog, format!("memory_limit = \"lots\"\n{text}")).unwrap();
    let error = answer(SessionOptions::default()).await.unwrap_err();
    assert!(
        error
            .render(false)
            .contains("memory_limit in the catalog: 'lots' is not a size"),
        "{}",
        error.render(false)
    );
}

// --- Terminal safety ------------------------------------------------------------------------

#[tokio::test]
async fn control_characters_are_never_echoed_raw() {
    let (_dir, mut session) = demo_session().await;
    for script in [
        "segment a = vip\u{1b}[2J;",
        "[city = 'Paris\u{7}' and nope\u{0} > 1];",
        "segment \u{1b}]0;title\u{7} = all;",
    ] {
        let text = error_text(session.run_script(script, "in\u{1b}put.seg").await);
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{script:?}: {text:?}"
        );
    }
}
