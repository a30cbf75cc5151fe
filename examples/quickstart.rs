//! Quickstart: writes the small demo datamart to `data/quickstart/`, runs `examples/loyalty.seg`
//! on it and prints the step tree; then checks the answer against plain SQL over the same
//! Parquet files.
//!
//! Run it with `cargo run --example quickstart`.

use ensemble::demo::{write_demo_datamart, DemoConfig};
use ensemble::Session;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/quickstart");
    let catalog = write_demo_datamart(&dir, DemoConfig::default())?;
    let script = include_str!("loyalty.seg");

    let mut session = Session::open(&catalog).await?;
    let run = match session.run_script(script, "examples/loyalty.seg").await {
        Ok(run) => run,
        Err(error) => {
            eprint!("{}", error.render(false));
            return Err("the example script failed".into());
        }
    };
    let evaluation = run
        .last_evaluation()
        .ok_or("the script evaluates an expression")?;
    println!("as of {}:\n{}", evaluation.as_of, evaluation.tree());

    // The same question in plain SQL over the same files.
    let sql = "
        WITH p AS (SELECT customer_id, CAST(purchased_at AS DATE) AS d, amount FROM purchases
                   WHERE CAST(purchased_at AS DATE) <= DATE '2026-06-30'),
             u AS (SELECT customer_id FROM customers WHERE signup_date <= DATE '2026-06-30'),
             clients AS (SELECT DISTINCT customer_id FROM p WHERE d > DATE '2025-06-30'),
             recents AS (SELECT DISTINCT customer_id FROM p WHERE d > DATE '2026-05-31'),
             vip AS (SELECT customer_id FROM p WHERE d > DATE '2025-06-30'
                     GROUP BY customer_id HAVING SUM(amount) >= 1000)
        SELECT COUNT(*) AS n FROM u
        WHERE customer_id IN (SELECT customer_id FROM clients)
          AND customer_id NOT IN (SELECT customer_id FROM recents
                                  WHERE customer_id IN (SELECT customer_id FROM vip))";
    let batches = session.sql(sql).await?;
    let expected = batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<ensemble::arrow::array::Int64Array>()
        .ok_or("COUNT(*) is an Int64")?
        .value(0) as usize;
    assert_eq!(
        evaluation.count(),
        expected,
        "ensemble and plain SQL disagree"
    );
    assert!(
        evaluation.steps.iter().all(|s| s.count > 0),
        "every example segment is non-empty"
    );
    println!("checked against plain SQL: {expected} members");
    Ok(())
}
