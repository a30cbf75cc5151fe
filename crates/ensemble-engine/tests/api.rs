//! The engine's public API, through `ensemble_engine` only: a session on a datamart the
//! demo generator writes; an evaluation and each step's members; SQL over the catalog and
//! the steps; `explain`; `why`; a language error.

use std::collections::BTreeSet;

use arrow::array::{Array, Int64Array};
use arrow::record_batch::RecordBatch;
use ensemble_datagen::demo::{write_demo_datamart, DemoConfig};
use ensemble_engine::{EngineError, Session, StepKind};

const DEFINITIONS: &str = "
field ca_12m = sum(purchases.amount within 12 months);
segment clients = [has purchases within 12 months];
segment acheteurs_recents = [has purchases within 30 days];
segment vip = [ca_12m >= 1000];
";

const COMPOUND: &str = "clients - acheteurs_recents ∩ vip";

/// A session as of 2026-06-30 on a 600-customer demo datamart, with the definitions.
async fn session() -> (tempfile::TempDir, Session) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let config = DemoConfig {
        customers: 600,
        ..DemoConfig::default()
    };
    let catalog = write_demo_datamart(dir.path(), config).expect("the demo datamart");
    let mut session = Session::open(&catalog).await.expect("a session");
    assert_eq!(session.as_of().to_string(), "2026-06-30");
    session
        .define_script(DEFINITIONS, "definitions.seg")
        .expect("the definitions check");
    (dir, session)
}

/// The integer keys of the first column of `batches`.
fn keys(batches: &[RecordBatch]) -> BTreeSet<i64> {
    let mut keys = BTreeSet::new();
    for batch in batches {
        let column = batch.column(0);
        let column = column
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("integer keys");
        keys.extend(column.iter().map(|k| k.expect("no null key")));
    }
    keys
}

#[tokio::test]
async fn every_step_holds_what_its_operation_makes() {
    let (_dir, mut session) = session().await;
    let evaluation = session.evaluate(COMPOUND).await.expect("evaluates");
    assert_eq!(evaluation.steps.len(), 5, "{}", evaluation.tree());
    let members: Vec<BTreeSet<i64>> = evaluation
        .steps
        .iter()
        .map(|step| keys(&evaluation.step_members(step.id).expect("a step")))
        .collect();
    assert!(evaluation.step_members(6).is_none());
    for step in &evaluation.steps {
        let own = &members[step.id - 1];
        assert_eq!(own.len(), step.count, "#{} {}", step.id, step.text);
        if let StepKind::Set { op, operands } = &step.kind {
            // The operands folded left to right, with the standard library's set operations.
            let first = members[operands[0] - 1].clone();
            let expected = operands[1..].iter().fold(first, |a, id| {
                let b = &members[id - 1];
                match op.symbol() {
                    "∪" => a.union(b).copied().collect(),
                    "∩" => a.intersection(b).copied().collect(),
                    "−" => a.difference(b).copied().collect(),
                    "Δ" => a.symmetric_difference(b).copied().collect(),
                    other => panic!("an operation this test does not know: {other}"),
                }
            });
            assert_eq!(own, &expected, "#{} {}", step.id, step.text);
        } else {
            assert!(!own.is_empty(), "#{} {} has members", step.id, step.text);
        }
    }
    let root = &members[evaluation.root];
    assert_eq!(&keys(&evaluation.members), root);
    assert_eq!(evaluation.count(), root.len());
    assert!(!root.is_empty());
    let tree = evaluation.tree();
    assert!(
        tree.contains("clients − (acheteurs_recents ∩ vip)"),
        "{tree}"
    );
}

#[tokio::test]
async fn a_segment_equals_the_same_question_in_sql() {
    let (_dir, mut session) = session().await;
    let vip = session.evaluate("vip").await.expect("evaluates");
    let sql = "
        SELECT c.customer_id FROM customers c JOIN purchases p ON p.customer_id = c.customer_id
        WHERE c.signup_date <= DATE '2026-06-30'
          AND CAST(p.purchased_at AS DATE) > DATE '2025-06-30'
          AND CAST(p.purchased_at AS DATE) <= DATE '2026-06-30'
        GROUP BY c.customer_id HAVING sum(p.amount) >= 1000";
    let expected = keys(&session.sql(sql).await.expect("the SQL runs"));
    assert!(!expected.is_empty());
    assert_eq!(keys(&vip.members), expected);
    // A segment's steps are tables of keys under its name and its step's.
    let by_name = session
        .sql("SELECT count(*) FROM vip")
        .await
        .expect("vip is a table");
    let counted = by_name[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("a count")
        .value(0);
    assert_eq!(counted as usize, expected.len());
    let table = &vip.steps[vip.root].table;
    let by_step = session
        .sql(&format!("SELECT customer_id FROM {table}"))
        .await
        .expect("the step is a table");
    assert_eq!(keys(&by_step), expected);
    // SQL reads; it does not write.
    let refused = session.sql("DROP TABLE customers").await;
    assert!(refused.is_err(), "{refused:?}");
}

#[tokio::test]
async fn explain_reads_and_plans_without_evaluating() {
    let (_dir, session) = session().await;
    let explanation = session.explain(COMPOUND).expect("explains");
    assert_eq!(
        explanation.parenthesized,
        "clients − (acheteurs_recents ∩ vip)"
    );
    assert_eq!(explanation.steps.len(), 5, "{explanation}");
    let plan = explanation
        .features_plan
        .as_deref()
        .expect("a features pass");
    assert!(plan.contains("purchases"), "{plan}");
    assert!(session.last_evaluation().is_none(), "nothing was evaluated");
}

#[tokio::test]
async fn why_agrees_with_the_members() {
    let (_dir, mut session) = session().await;
    let evaluation = session.evaluate(COMPOUND).await.expect("evaluates");
    let members = keys(&evaluation.members);
    let everyone = keys(&session.evaluate("all").await.expect("all").members);
    let inside = *members.first().expect("a member");
    let outside = *everyone
        .difference(&members)
        .next()
        .expect("someone outside");
    for (key, expected) in [(inside, true), (outside, false)] {
        let why = session
            .why(&key.to_string(), COMPOUND)
            .await
            .expect("explains a member");
        assert!(why.in_universe);
        assert_eq!(why.is_member(), expected, "{why}");
        assert_eq!(why.membership.len(), why.evaluation.steps.len());
        let read = |name: &str| why.values.iter().any(|(what, _)| what.contains(name));
        assert!(read("ca_12m") || read("purchases.amount"), "{why}");
    }
    let stranger = session.why("999999", COMPOUND).await.expect("explains");
    assert!(!stranger.in_universe && !stranger.is_member());
}

#[tokio::test]
async fn a_language_error_says_where_and_changes_nothing() {
    let (_dir, mut session) = session().await;
    let error = session
        .evaluate("vipp ∩ clients")
        .await
        .expect_err("an unknown segment");
    let EngineError::Language { diagnostic, .. } = &error else {
        panic!("a language error: {error:?}");
    };
    assert!(
        diagnostic.message.contains("unknown segment 'vipp'"),
        "{}",
        diagnostic.message
    );
    assert_eq!(diagnostic.span.start, 0);
    let vip = session
        .evaluate("vip")
        .await
        .expect("the session still works");
    assert!(vip.count() > 0);
}
