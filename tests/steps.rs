//! Steps: materialised, registered for SQL, previewed, shared, reused while unchanged; one
//! scan per related table; explain.

mod common;

use common::{demo_session, keys, members, sql_keys};
use ensemble::StepKind;

const SPEC_SCRIPT: &str = "
field ca_12m = sum(purchases.amount within 12 months);
segment clients = [has purchases within 12 months];
segment acheteurs_recents = [has purchases within 30 days];
segment vip = [ca_12m >= 1000];
clients - acheteurs_recents ∩ vip;
";

#[tokio::test]
async fn the_spec_step_tree() {
    let (_dir, mut session) = demo_session().await;
    let run = session
        .run_script(SPEC_SCRIPT, "spec")
        .await
        .expect("the spec's script runs");
    let evaluation = run.last_evaluation().expect("an evaluation");
    insta::assert_snapshot!(evaluation.tree());
    assert_eq!(evaluation.steps.len(), 5);
    let kinds: Vec<_> = evaluation.steps.iter().map(|s| s.kind.clone()).collect();
    assert_eq!(
        kinds[3],
        StepKind::Set {
            op: ensemble::syntax::SetOp::Intersect,
            operands: vec![2, 3],
        }
    );
    assert_eq!(
        kinds[4],
        StepKind::Set {
            op: ensemble::syntax::SetOp::Difference,
            operands: vec![1, 4],
        }
    );
    assert_eq!(run.notes.len(), 1, "mixing − and ∩ earns a note");
    for step in &evaluation.steps {
        // Leaves record their DataFusion plan; set operations work on member numbers.
        let expected = match step.kind {
            StepKind::Set { .. } => "MemberBitmap",
            _ => "Projection",
        };
        assert!(
            step.plan.contains(expected),
            "each step records its plan: {}",
            step.plan
        );
    }
}

#[tokio::test]
async fn steps_are_tables_for_sql_and_previews() {
    let (_dir, mut session) = demo_session().await;
    let run = session.run_script(SPEC_SCRIPT, "spec").await.expect("runs");
    let evaluation = run.last_evaluation().expect("an evaluation").clone();
    for step in &evaluation.steps {
        let by_step = sql_keys(&session, &format!("SELECT customer_id FROM {}", step.table)).await;
        assert_eq!(by_step.len(), step.count, "{}", step.table);
        for name in &step.names {
            assert_eq!(
                sql_keys(&session, &format!("SELECT customer_id FROM {name}")).await,
                by_step
            );
        }
    }
    let root = &evaluation.steps[evaluation.root];
    assert_eq!(
        sql_keys(&session, &format!("SELECT * FROM {}", root.table)).await,
        keys(&evaluation.members)
    );

    let preview = session.preview("vip", 5).await.expect("preview");
    let rows: usize = preview.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 5);
    let schema = preview[0].schema();
    let columns: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert!(
        columns.contains(&"city") && columns.contains(&"signup_date"),
        "{columns:?}"
    );
    assert!(session.preview("#3", 1).await.is_ok());
    let error = session.preview("vipp", 5).await.expect_err("unknown");
    assert!(error.to_string().contains("did you mean 'vip'"), "{error}");
}

#[tokio::test]
async fn identical_sub_expressions_share_one_step() {
    let (_dir, mut session) = demo_session().await;
    session
        .run_script("segment a = [points > 2500]; segment b = [city = 'Paris']; segment c = [points > 2500];", "t")
        .await
        .expect("definitions");
    let evaluation = session
        .evaluate("(a ∩ b) ∪ (b ∩ c)")
        .await
        .expect("evaluates");
    // a and c are the same criterion; a ∩ b and b ∩ c the same intersection.
    assert_eq!(evaluation.steps.len(), 4, "{}", evaluation.tree());
    let shared = &evaluation.steps[0];
    assert_eq!(shared.names, vec!["a".to_string(), "c".to_string()]);
}

#[tokio::test]
async fn unchanged_named_segments_are_reused() {
    let (dir, mut session) = demo_session().await;
    session.run_script(SPEC_SCRIPT, "spec").await.expect("runs");
    let second = session
        .evaluate("vip ∪ acheteurs_recents")
        .await
        .expect("evaluates");
    let reused: Vec<_> = second
        .steps
        .iter()
        .filter(|s| s.reused)
        .map(|s| s.label())
        .collect();
    assert_eq!(
        reused,
        vec!["vip", "acheteurs_recents"],
        "{}",
        second.tree()
    );

    // Redefining a segment invalidates it, and only it.
    session
        .run_script("segment vip = [ca_12m >= 2000];", "redefine")
        .await
        .expect("redefines");
    let third = session
        .evaluate("vip ∪ acheteurs_recents")
        .await
        .expect("evaluates");
    let vip = third
        .steps
        .iter()
        .find(|s| s.names.contains(&"vip".to_string()))
        .expect("vip");
    assert!(!vip.reused);
    assert!(
        vip.count
            < second
                .steps
                .iter()
                .find(|s| s.label() == "vip")
                .expect("vip")
                .count
    );
    let recent = third
        .steps
        .iter()
        .find(|s| s.label() == "acheteurs_recents")
        .expect("a step");
    assert!(recent.reused);

    // A new as-of date recomputes.
    session.set_as_of(chrono::NaiveDate::from_ymd_opt(2026, 3, 31).expect("a date"));
    let fourth = session
        .evaluate("vip ∪ acheteurs_recents")
        .await
        .expect("evaluates");
    assert!(fourth.steps.iter().all(|s| !s.reused));

    // Changed data files recompute.
    session.set_as_of(chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("a date"));
    let before = members(&mut session, "acheteurs_recents").await;
    std::thread::sleep(std::time::Duration::from_millis(20));
    let config = ensemble::demo::DemoConfig {
        seed: 7,
        ..Default::default()
    };
    ensemble::demo::write_demo_datamart(dir.path(), config).expect("new data");
    let after = session
        .evaluate("acheteurs_recents")
        .await
        .expect("evaluates");
    assert!(!after.steps[0].reused, "new files, new answer");
    assert_ne!(keys(&after.members), before);
}

#[tokio::test]
async fn one_scan_per_related_table() {
    let (_dir, mut session) = demo_session().await;
    let evaluation = session
        .evaluate(
            "[sum(purchases.amount within 12 months) >= 1000] ∩ [count(purchases within 30 days) > 0] \
             ∩ [has purchases where channel = 'web'] ∩ [last(visits.visited_at) within 90 days] ∩ [no visits within 7 days]",
        )
        .await
        .expect("evaluates");
    let features = evaluation
        .features
        .as_ref()
        .expect("an aggregates pass ran");
    assert_eq!(
        features.tables,
        vec!["purchases".to_string(), "visits".to_string()]
    );
    assert_eq!(
        features.plan.matches("TableScan: purchases").count(),
        1,
        "{}",
        features.plan
    );
    assert_eq!(
        features.plan.matches("TableScan: visits").count(),
        1,
        "{}",
        features.plan
    );
    assert_eq!(
        features.plan.matches("TableScan: customers").count(),
        1,
        "{}",
        features.plan
    );
}

#[tokio::test]
async fn explain_shows_the_reading_and_the_plans() {
    let (_dir, mut session) = demo_session().await;
    session
        .run_script(
            SPEC_SCRIPT
                .trim_end()
                .trim_end_matches("clients - acheteurs_recents ∩ vip;"),
            "spec",
        )
        .await
        .expect("definitions");
    let explanation = session
        .explain("clients - acheteurs_recents ∩ vip")
        .expect("explains");
    assert_eq!(
        explanation.parenthesized,
        "clients − (acheteurs_recents ∩ vip)"
    );
    assert_eq!(explanation.steps.len(), 5);
    insta::assert_snapshot!(explanation.to_string());
}

#[tokio::test]
async fn a_new_threshold_on_known_values_reuses_the_features_table() {
    let (_dir, mut session) = demo_session().await;
    let first = session
        .evaluate("[sum(purchases.amount within 12 months) >= 1000]")
        .await
        .expect("evaluates");
    assert!(!first.features.as_ref().expect("a pass").reused);
    let edited = session
        .evaluate("[sum(purchases.amount within 12 months) >= 500]")
        .await
        .expect("evaluates");
    let pass = edited.features.as_ref().expect("a pass");
    assert!(pass.reused && pass.tables.is_empty(), "{pass:?}");
    let (_other, mut fresh) = demo_session().await;
    let expected = fresh
        .evaluate("[sum(purchases.amount within 12 months) >= 500]")
        .await
        .expect("evaluates");
    assert_eq!(keys(&edited.members), keys(&expected.members));
    // A new aggregate pays for its own table only, joined onto the known values.
    let both = "[count(visits) > 3] ∩ [sum(purchases.amount within 12 months) >= 200]";
    let added = session.evaluate(both).await.expect("evaluates");
    let pass = added.features.as_ref().expect("a pass");
    assert!(!pass.reused);
    assert_eq!(pass.tables, ["visits"], "{}", pass.plan);
    let expected = fresh.evaluate(both).await.expect("evaluates");
    assert_eq!(keys(&added.members), keys(&expected.members));
    // A new universe column and a new bucket over a known value.
    let wider = "[ntile(sum(purchases.amount within 12 months), 4) = 4 and city = 'Paris']";
    let extended = session.evaluate(wider).await.expect("evaluates");
    let expected = fresh.evaluate(wider).await.expect("evaluates");
    assert_eq!(keys(&extended.members), keys(&expected.members));
    let bucket = "[ntile(count(visits), 3) = 1]";
    let extended = session.evaluate(bucket).await.expect("evaluates");
    let pass = extended.features.as_ref().expect("a pass");
    assert!(
        pass.tables.is_empty(),
        "a bucket over known values scans nothing"
    );
    let expected = fresh.evaluate(bucket).await.expect("evaluates");
    assert_eq!(keys(&extended.members), keys(&expected.members));
    let back = session
        .evaluate("[sum(purchases.amount within 12 months) >= 700]")
        .await
        .expect("evaluates");
    assert!(back.features.as_ref().expect("a pass").reused);
    // Another date is another state: no reuse.
    session.set_as_of(chrono::NaiveDate::from_ymd_opt(2026, 1, 31).expect("a date"));
    let other_date = session
        .evaluate("[sum(purchases.amount within 12 months) >= 700]")
        .await
        .expect("evaluates");
    assert!(!other_date.features.as_ref().expect("a pass").reused);
}

/// The look-ahead: a script's first features pass computes what all its bare expressions
/// read, so later expressions with new aggregates scan nothing, and find what they find
/// when evaluated alone; a statement that would fail is skipped by the look-ahead and stops
/// the run as before.
#[tokio::test]
async fn a_script_scans_each_table_once_for_all_its_expressions() {
    let (_dir, mut session) = demo_session().await;
    let script = "
        [has purchases within 30 days];
        segment gros = [sum(purchases.amount within 12 months) >= 500];
        gros - [count(visits within 90 days) >= 2];
        [avg(purchases.amount) > 40] ∩ [points > 100];";
    let run = session.run_script(script, "look-ahead").await.unwrap();
    let evaluations: Vec<_> = run
        .outcomes
        .iter()
        .filter_map(|o| match o {
            ensemble::Outcome::Evaluated(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(evaluations.len(), 3);
    let first = evaluations[0]
        .features
        .as_ref()
        .expect("the first pass ran");
    assert!(!first.reused);
    assert_eq!(first.tables, vec!["purchases", "visits"], "{}", first.plan);
    for later in &evaluations[1..] {
        let pass = later.features.as_ref().expect("a features table");
        assert!(
            pass.reused,
            "a later expression scanned again: {}",
            pass.plan
        );
    }
    let (_dir, mut alone) = demo_session().await;
    alone
        .run_script(
            "segment gros = [sum(purchases.amount within 12 months) >= 500];",
            "d",
        )
        .await
        .unwrap();
    for (evaluation, expression) in evaluations.iter().zip([
        "[has purchases within 30 days]",
        "gros - [count(visits within 90 days) >= 2]",
        "[avg(purchases.amount) > 40] ∩ [points > 100]",
    ]) {
        assert_eq!(
            keys(&evaluation.members),
            members(&mut alone, expression).await,
            "{expression}"
        );
    }
    // A later error: the look-ahead skips it, the run stops there, earlier work stands.
    let error = session
        .run_script("[points > 1]; [nope > 1]; [points > 2];", "bad")
        .await
        .unwrap_err();
    assert!(
        error.render(false).contains("nope"),
        "{}",
        error.render(false)
    );
}

#[tokio::test]
async fn an_evaluation_keeps_its_steps_members_after_the_next_one() {
    let (_dir, mut session) = demo_session().await;
    session
        .run_script(SPEC_SCRIPT, "spec")
        .await
        .expect("the spec's script runs");
    let evaluation = session
        .evaluate("clients - acheteurs_recents ∩ vip")
        .await
        .expect("evaluates");
    let expected: Vec<_> = evaluation.steps.iter().map(|s| s.count).collect();
    // The next evaluation replaces the session's step_N tables, not this one's steps.
    session.evaluate("vip").await.expect("evaluates");
    for step in &evaluation.steps {
        let batches = evaluation.step_members(step.id).expect("a step's members");
        assert_eq!(keys(&batches).len(), expected[step.id - 1], "#{}", step.id);
    }
    assert_eq!(
        keys(&evaluation.step_members(evaluation.root + 1).unwrap()),
        keys(&evaluation.members),
        "the root step holds the members"
    );
    assert!(evaluation.step_members(0).is_none());
    assert!(evaluation
        .step_members(evaluation.steps.len() + 1)
        .is_none());
    let schema = evaluation.step_schema().expect("a schema");
    assert_eq!(schema.field(0).name(), &evaluation.key);
}

#[tokio::test]
async fn evaluate_at_leaves_the_session_date_alone() {
    let (_dir, mut session) = demo_session().await;
    session
        .run_script(SPEC_SCRIPT, "spec")
        .await
        .expect("the spec's script runs");
    let before = (session.as_of(), session.as_of_origin());
    let earlier = before.0 - chrono::Duration::days(90);
    let at = session
        .evaluate_at("acheteurs_recents", earlier)
        .await
        .expect("evaluates");
    assert_eq!(at.as_of, earlier);
    assert_eq!((session.as_of(), session.as_of_origin()), before);
    // The same as setting the date, evaluating, and setting it back.
    let (_other_dir, mut other) = demo_session().await;
    other.run_script(SPEC_SCRIPT, "spec").await.unwrap();
    other.set_as_of(earlier);
    let direct = other.evaluate("acheteurs_recents").await.unwrap();
    assert_eq!(keys(&at.members), keys(&direct.members));
    // Sizes listed are the session date's: the one at `earlier` is not shown as current.
    let listed = session.listing();
    let recent = listed
        .iter()
        .find(|l| l.name == "acheteurs_recents")
        .unwrap();
    assert_eq!(recent.size, None);
    let why = session
        .why_at("1", "acheteurs_recents", earlier)
        .await
        .expect("explains");
    assert_eq!(why.evaluation.as_of, earlier);
    assert_eq!(session.as_of(), before.0);
}

#[tokio::test]
async fn step_tables_read_their_members_in_key_order() {
    use datafusion::arrow::array::{AsArray, Int64Array};
    use datafusion::arrow::datatypes::Int64Type;
    let (_dir, mut session) = demo_session().await;
    let run = session
        .run_script(SPEC_SCRIPT, "spec")
        .await
        .expect("the spec's script runs");
    let evaluation = run.last_evaluation().expect("an evaluation").clone();
    for step in &evaluation.steps {
        let table = &step.table;
        let batches = evaluation.step_members(step.id).expect("a step's members");
        let ordered: Vec<i64> = batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        assert!(
            ordered.windows(2).all(|w| w[0] < w[1]),
            "#{}: keys ascending, each once",
            step.id
        );
        assert_eq!(ordered.len(), step.count, "#{}", step.id);
        let counted = session
            .sql(&format!("SELECT count(*) FROM {table}"))
            .await
            .expect("counts");
        let counted = counted[0].column(0).as_any().downcast_ref::<Int64Array>();
        assert_eq!(counted.map(|c| c.value(0) as usize), Some(step.count));
        assert_eq!(
            sql_keys(
                &session,
                &format!("SELECT * FROM {table} WHERE customer_id > 0")
            )
            .await,
            keys(&batches),
            "{table} read by SQL"
        );
        // A limit reads the first members in key order.
        let first: std::collections::BTreeSet<i64> = ordered.iter().take(3).copied().collect();
        assert_eq!(
            sql_keys(&session, &format!("SELECT * FROM {table} LIMIT 3")).await,
            first,
            "{table} LIMIT 3"
        );
    }
}
