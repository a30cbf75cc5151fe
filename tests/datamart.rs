//! The generated 100 000-customer datamart answers the spec's example segments with plausible
//! sizes, and ensemble's answers match plain SQL on it.

mod common;

use common::sql_keys;
use ensemble::datagen::{generate, GenerateConfig};
use ensemble::{Outcome, Session};

#[tokio::test]
async fn the_example_segments_have_plausible_sizes() {
    let dir = tempfile::tempdir().expect("a directory");
    let config = GenerateConfig::default();
    assert_eq!(config.customers, 100_000);
    let summary = generate(dir.path(), config, &mut |_, _| {}).expect("generates");
    let mut session = Session::open(&summary.catalog).await.expect("opens");
    let run = session
        .run_script(include_str!("../examples/loyalty.seg"), "loyalty.seg")
        .await
        .expect("the example script runs");
    let universe = session.evaluate("all").await.expect("all").count() as f64;
    // (segment, smallest plausible share, largest plausible share)
    let expected = [
        ("clients", 0.35, 0.80),
        ("acheteurs_recents", 0.05, 0.35),
        ("vip", 0.01, 0.10),
        ("prospects", 0.08, 0.35),
        ("nouveaux_prospects", 0.01, 0.06),
        ("inactifs", 0.02, 0.40),
        ("endormis", 0.02, 0.35),
        ("champions", 0.05, 0.40),
        ("grands_comptes", 0.25, 0.40),
    ];
    let defined: Vec<&str> = run
        .outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Segment(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    for (segment, low, high) in expected {
        assert!(
            defined.contains(&segment),
            "{segment} is defined by the example"
        );
        let share = session.evaluate(segment).await.expect("evaluates").count() as f64 / universe;
        assert!(
            (low..=high).contains(&share),
            "{segment}: {:.1} %",
            share * 100.0
        );
    }

    // The compound expression against plain SQL.
    let evaluation = session
        .evaluate("clients - acheteurs_recents ∩ vip")
        .await
        .expect("evaluates");
    let sql = "
        WITH p AS (SELECT customer_id, CAST(purchased_at AS DATE) AS d, amount FROM purchases
                   WHERE CAST(purchased_at AS DATE) <= DATE '2026-06-30'),
             clients AS (SELECT DISTINCT customer_id FROM p WHERE d > DATE '2025-06-30'),
             recents AS (SELECT DISTINCT customer_id FROM p WHERE d > DATE '2026-05-31'),
             vip AS (SELECT customer_id FROM p WHERE d > DATE '2025-06-30'
                     GROUP BY customer_id HAVING SUM(amount) >= 1000)
        SELECT customer_id FROM customers
        WHERE signup_date <= DATE '2026-06-30'
          AND customer_id IN (SELECT customer_id FROM clients)
          AND customer_id NOT IN (SELECT customer_id FROM recents INTERSECT SELECT customer_id FROM vip)";
    assert_eq!(
        common::keys(&evaluation.members),
        sql_keys(&session, sql).await
    );

    // The tables describe themselves.
    let description = session.describe("customers").await.expect("describes");
    assert_eq!(description.rows, 100_000);
    let birth = description
        .columns
        .iter()
        .find(|c| c.name == "birth_date")
        .expect("a column");
    assert!(
        birth.null_share > 0.05 && birth.null_share < 0.2,
        "{}",
        birth.null_share
    );
    assert!(birth.min.is_some() && birth.max.is_some());
    assert_eq!(session.tables().len(), 6);

    documented_figures_match(&mut session, &summary.catalog, evaluation.count()).await;
}

/// The figures the README and the docs show come from this datamart: they must be what a run
/// prints (a regenerated datamart or a changed rule shows up here, not in a user's terminal).
async fn documented_figures_match(
    session: &mut Session,
    catalog: &std::path::Path,
    compound: usize,
) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: &str| std::fs::read_to_string(root.join(path)).expect("the doc exists");

    // README.md: the first step tree, the last expression of examples/loyalty.seg run in a
    // fresh session, as `ensemble run -c data/demo/ensemble.toml examples/loyalty.seg` shows it.
    let readme = read("README.md");
    let mut fresh = Session::open(catalog).await.expect("opens");
    let run = fresh
        .run_script(include_str!("../examples/loyalty.seg"), "loyalty.seg")
        .await
        .expect("the example script runs");
    let tree = run.last_evaluation().expect("an evaluation").tree();
    for line in tree.lines() {
        assert!(
            readme.contains(line),
            "README.md lacks the line\n{line}\nof the tree\n{tree}"
        );
    }

    // docs/datamart.md: the table of segment sizes.
    let datamart = read("docs/datamart.md");
    let mut rows = 0;
    for line in datamart.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, name, _, members, _, _] = cells.as_slice() else {
            continue;
        };
        let Ok(documented) = members.replace(' ', "").parse::<usize>() else {
            continue;
        };
        let actual = if name.contains('−') {
            compound
        } else {
            session.evaluate(name).await.expect("a segment").count()
        };
        assert_eq!(documented, actual, "docs/datamart.md, {name}");
        rows += 1;
    }
    assert_eq!(rows, 10, "every size of docs/datamart.md was checked");
    let statut = session.evaluate("statut").await.expect("the partition");
    let tiers = statut.partition().expect("its tiers").table();
    assert!(
        datamart.contains(&tiers),
        "docs/datamart.md shows:\n{tiers}"
    );

    // README.md and docs/repl.md: the step tree and count of a fresh REPL session.
    let mut session = Session::open(catalog).await.expect("opens");
    session.set_as_of(chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date"));
    session
        .run_script(
            "segment vip = [sum(purchases.amount within 12 months) >= 1000];",
            "docs",
        )
        .await
        .expect("defines");
    let evaluation = session
        .evaluate("vip ∩ [city = 'Paris']")
        .await
        .expect("evaluates");
    let count = format!(
        "{} members as of 2026-06-30",
        ensemble::group_thousands(evaluation.count())
    );
    for doc in ["README.md", "docs/repl.md"] {
        let text = read(doc);
        for line in evaluation.tree().lines() {
            assert!(text.contains(line), "{doc} lacks the line\n{line}");
        }
        assert!(text.contains(&count), "{doc} lacks '{count}'");
    }
}
