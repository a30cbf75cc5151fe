//! Bad input: every kind of error has a clear message with the source line and a caret,
//! nothing panics, and a failed statement loses nothing.

mod common;

use common::{demo_session, members};
use ensemble::Session;

async fn error_text(session: &mut Session, script: &str) -> String {
    match session.run_script(script, "input.seg").await {
        Ok(_) => panic!("{script} should fail"),
        Err(error) => error.render(false),
    }
}

#[tokio::test]
async fn check_error_messages() {
    let (_dir, mut session) = demo_session().await;
    session
        .run_script(
            "segment vip = [sum(purchases.amount) >= 1000]; field ca = sum(purchases.amount);
             partition statut { vip = vip; bons = [ca >= 200]; else autres; }
             score rfm = rfm(recency: last(purchases.purchased_at), frequency: count(purchases), monetary: ca, buckets: 5);",
            "setup",
        )
        .await
        .expect("setup");
    let cases = [
        "vipp;",
        "[sum(purchases.amout) >= 1000];",
        "[sum(purchase.amount) >= 1000];",
        "[citty = 'Paris'];",
        "[signup_date = \"abc\"];",
        "[city > 3];",
        "[city];",
        "[points and true];",
        "[sum(purchases.category) > 3];",
        "[purchases.amount > 3];",
        "[sum(purchases) > 3];",
        "[has customers];",
        "[days_since(city) > 3];",
        "[days_sinc(signup_date) > 3];",
        "[min(points, 3) > 1];",
        "[greatest(city, points) > 1];",
        "[ca];",
        "ca;",
        "[vip > 1];",
        "[has purchases where city = 'Paris'];",
        "segment a = [points > 1]; segment b = a ∪ [points < 0]; segment a = b ∩ all;",
        "field f = g + 1; ",
        "field f1 = points; field f2 = f1 + 1; field f1 = f2 * 2;",
        "segment customers = all;",
        "segment step_3 = all;",
        "field city = 1;",
        "statut.vipp;",
        "statu.vip;",
        "vip.x;",
        "partition p { a = [points > 1]; a = [points > 2]; }",
        "partition p { else x; }",
        "partition p { else x; y = all; }",
        "partition p { a = [pointz > 1]; }",
        "segment a = [points > 1]; partition q { x = a; }; segment a = q.x ∪ [points < 0];",
        "score s = rfm(recency: last(purchases.purchased_at), frequency: count(purchases), monetary: ca, buckets: 0);",
        "score s = rfm(recency: city, frequency: count(purchases), monetary: ca, buckets: 5);",
        "score s = rfm(recency: last(purchases.purchased_at), frequency: count(purchases), buckets: 5);",
        "score s = rfn(recency: ca, frequency: ca, monetary: ca, buckets: 5);",
        "score s = rfm(recency: ca, frequency: ca, monetary: ca, bucket: 5);",
        "score customers = rfm(recency: ca, frequency: ca, monetary: ca, buckets: 5);",
        "[rfmm.r > 3];",
        "[rfm.x > 3];",
        "[ntile(city, 3) > 1];",
        "[ntile(points, 0) > 1];",
        "[has purchases where ntile(amount, 3) = 1];",
        "[signup_date within 30 days and email contains 3];",
    ];
    let mut out = String::new();
    for case in cases {
        out.push_str(&format!(
            "--- {case}\n{}\n",
            error_text(&mut session, case).await
        ));
    }
    insta::assert_snapshot!(out);
}

#[tokio::test]
async fn a_failed_statement_loses_nothing() {
    let (_dir, mut session) = demo_session().await;
    session
        .run_script(
            "segment vip = [sum(purchases.amount) >= 1000]; field ca = sum(purchases.amount);
             partition statut { vip = vip; bons = [ca >= 200]; else autres; }
             score rfm = rfm(recency: last(purchases.purchased_at), frequency: count(purchases), monetary: ca, buckets: 5);",
            "setup",
        )
        .await
        .expect("setup");
    let before = members(&mut session, "vip").await;
    let steps_before = session
        .last_evaluation()
        .expect("an evaluation")
        .steps
        .len();

    // A redefinition that fails keeps the old definition.
    assert!(session
        .run_script("segment vip = [sum(purchases.amout) >= 5];", "bad")
        .await
        .is_err());
    // A script failing half-way keeps what ran before the failure.
    assert!(session
        .run_script("segment ok = [points > 10]; segment bad = nope;", "bad")
        .await
        .is_err());
    // A syntax error changes nothing.
    assert!(session
        .run_script("segment ok2 = [points > ;", "bad")
        .await
        .is_err());
    // An evaluation that fails keeps the last evaluation's steps.
    assert!(session.evaluate("vip ∩ unknown").await.is_err());
    assert_eq!(
        session.last_evaluation().expect("kept").steps.len(),
        steps_before
    );
    assert!(session.sql("SELECT * FROM vip").await.is_ok());

    assert_eq!(members(&mut session, "vip").await, before);
    assert!(session.definitions().segments.contains_key("ok"));
    assert!(!session.definitions().segments.contains_key("bad"));
    assert!(!session.definitions().segments.contains_key("ok2"));
    assert!(session.definitions().fields.contains_key("ca"));

    // Failed partitions and scores keep the earlier ones.
    let tiers_before = members(&mut session, "statut.bons").await;
    let r_before = members(&mut session, "[rfm.r = 5]").await;
    for bad in [
        "partition statut { vip = vip; vip = all; }",
        "partition statut { vip = vipp; else autres; }",
        "score rfm = rfm(recency: city, frequency: ca, monetary: ca, buckets: 5);",
        "score rfm = rfm(recency: ca, frequency: ca, monetary: ca, buckets: 0);",
    ] {
        assert!(session.run_script(bad, "bad").await.is_err(), "{bad}");
    }
    assert_eq!(members(&mut session, "statut.bons").await, tiers_before);
    assert_eq!(members(&mut session, "[rfm.r = 5]").await, r_before);
}

#[tokio::test]
async fn deep_and_odd_input_is_an_error_not_a_crash() {
    let (_dir, mut session) = demo_session().await;
    let deep_sets = format!("{}all{};", "(".repeat(10_000), ")".repeat(10_000));
    let deep_criterion = format!("[{}points{} > 1];", "(".repeat(10_000), ")".repeat(10_000));
    // A chain of differences nests, one level per operator (a chain of ∩ is one flat step).
    let long_chain = format!("{};", vec!["all"; 10_000].join(" - "));
    let binary = String::from_utf8_lossy(&(0u8..=255).collect::<Vec<_>>()).into_owned();
    for script in [
        deep_sets,
        deep_criterion,
        long_chain,
        binary,
        "\u{0}".into(),
        "[".into(),
        "segment".into(),
    ] {
        let error = session
            .run_script(&script, "odd")
            .await
            .expect_err("an error");
        assert!(error.is_language_error());
        let text = error.render(false);
        assert!(text.contains("(line "), "{text}");
    }
    // Within the limits, deep input is checked, planned and run.
    let limit = ensemble::syntax::MAX_TREE_DEPTH;
    let chain = format!("{};", vec!["[points > 1]"; limit / 2].join(" ∩ "));
    assert!(session.run_script(&chain, "chain").await.is_ok());
    let nested = format!(
        "[{}points{} > 1];",
        "(".repeat(limit - 4),
        ")".repeat(limit - 4)
    );
    assert!(session.run_script(&nested, "nested").await.is_ok());
    let sum = format!("[{} > 1];", vec!["points"; limit - 4].join(" + "));
    if let Err(error) = session.run_script(&sum, "sum").await {
        panic!("{}", error.render(false));
    }
}

#[tokio::test]
async fn data_errors_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().expect("a directory");
    let catalog =
        ensemble::demo::write_demo_datamart(dir.path(), Default::default()).expect("data");

    // A catalog column that does not exist.
    let text = std::fs::read_to_string(&catalog)
        .expect("catalog")
        .replace("time = \"purchased_at\"", "time = \"purchased_on\"");
    let bad = dir.path().join("bad-column.toml");
    std::fs::write(&bad, text).expect("write");
    let error = Session::open(&bad).await.err().expect("an error");
    assert!(!error.is_language_error());
    let message = error.to_string();
    assert!(
        message.contains("purchased_on") && message.contains("did you mean 'purchased_at'"),
        "{message}"
    );

    // A missing Parquet file.
    let text = std::fs::read_to_string(&catalog)
        .expect("catalog")
        .replace("visits.parquet", "nowhere.parquet");
    let missing = dir.path().join("missing.toml");
    std::fs::write(&missing, text).expect("write");
    let message = Session::open(&missing)
        .await
        .err()
        .expect("an error")
        .to_string();
    assert!(message.contains("nowhere.parquet"), "{message}");

    // A file that is not Parquet.
    std::fs::write(dir.path().join("garbage.parquet"), b"this is not parquet").expect("write");
    let text = std::fs::read_to_string(&catalog)
        .expect("catalog")
        .replace("visits.parquet", "garbage.parquet");
    let garbage = dir.path().join("garbage.toml");
    std::fs::write(&garbage, text).expect("write");
    let message = Session::open(&garbage)
        .await
        .err()
        .expect("an error")
        .to_string();
    assert!(message.contains("garbage.parquet"), "{message}");

    // A malformed catalog, and a missing one.
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[universe\ntable = 1").expect("write");
    assert!(Session::open(&broken).await.is_err());
    assert!(Session::open(dir.path().join("absent.toml")).await.is_err());

    // A file that becomes unreadable after the catalog was opened.
    let mut session = Session::open(&catalog).await.expect("opens");
    std::fs::write(dir.path().join("purchases.parquet"), b"truncated").expect("write");
    let error = session
        .evaluate("[has purchases]")
        .await
        .expect_err("unreadable data");
    assert!(!error.is_language_error(), "{error}");
}

/// A data file rewritten in place under an open session — truncated to 0 bytes, or with a
/// footer length larger than the file — is an error naming it: never an empty table (every
/// count 0) nor a panic in Parquet's decoder, at open as afterwards.
#[tokio::test]
async fn a_data_file_truncated_or_corrupted_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("a directory");
    let catalog =
        ensemble::demo::write_demo_datamart(dir.path(), Default::default()).expect("data");
    let mut session = Session::open(&catalog).await.expect("the demo opens");
    let before = session
        .evaluate("[has purchases]")
        .await
        .expect("an evaluation")
        .count();
    assert!(before > 0);

    let purchases = dir.path().join("purchases.parquet");
    let original = std::fs::read(&purchases).expect("the purchases file");
    std::fs::write(&purchases, b"").expect("truncate in place");
    let error = session
        .evaluate("[has purchases within 30 days]")
        .await
        .expect_err("an error, not an empty table");
    let message = error.to_string();
    assert!(
        message.contains("purchases.parquet") && message.contains("0 bytes"),
        "{message}"
    );
    assert!(Session::open(&catalog).await.is_err(), "open says so too");

    // The footer's length field (the 4 bytes before the closing PAR1) past the file's size.
    let mut corrupted = original.clone();
    let at = corrupted.len() - 8;
    corrupted[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&purchases, &corrupted).expect("corrupt the footer");
    let message = Session::open(&catalog)
        .await
        .err()
        .expect("an error, not a panic")
        .to_string();
    assert!(
        message.contains("purchases.parquet") && message.contains("footer"),
        "{message}"
    );

    // Written back whole, the session answers as before.
    std::fs::write(&purchases, &original).expect("restore");
    let after = session
        .evaluate("[has purchases]")
        .await
        .expect("an evaluation")
        .count();
    assert_eq!(after, before);
}
