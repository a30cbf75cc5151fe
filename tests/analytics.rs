//! Partitions, scores and `why` on the demo datamart, each checked against plain SQL over the
//! same files (window functions for the bucket rule).

mod common;

use std::collections::BTreeSet;

use common::{demo_session, members, sql_keys};
use ensemble::Session;

/// The universe at 2026-06-30 and each member's purchases in the 12 months before.
const BASE: &str =
    "WITH u AS (SELECT customer_id FROM customers WHERE signup_date <= DATE '2026-06-30'),
  p AS (SELECT customer_id, SUM(amount) AS ca, COUNT(*) AS n FROM purchases
        WHERE CAST(purchased_at AS DATE) > DATE '2025-06-30'
          AND CAST(purchased_at AS DATE) <= DATE '2026-06-30'
        GROUP BY customer_id),
  l AS (SELECT customer_id, MAX(CAST(purchased_at AS DATE)) AS last_date FROM purchases
        WHERE CAST(purchased_at AS DATE) <= DATE '2026-06-30' GROUP BY customer_id),
  m AS (SELECT u.customer_id, COALESCE(p.ca, 0) AS ca, COALESCE(p.n, 0) AS n, l.last_date
        FROM u LEFT JOIN p ON u.customer_id = p.customer_id
               LEFT JOIN l ON u.customer_id = l.customer_id)";

const STATUT: &str = "field ca_12m = sum(purchases.amount within 12 months);
partition statut {
  vip = [ca_12m >= 1000];
  tres_bons = [ca_12m >= 500];
  bons = [ca_12m >= 200];
  occasionnels = [has purchases within 12 months];
  else opportunistes;
}";

const TIERS: [(&str, &str); 5] = [
    ("vip", "ca >= 1000"),
    ("tres_bons", "ca >= 500 AND ca < 1000"),
    ("bons", "ca >= 200 AND ca < 500"),
    ("occasionnels", "ca < 200 AND n > 0"),
    ("opportunistes", "n = 0"),
];

async fn define(session: &mut Session, script: &str) {
    if let Err(error) = session.run_script(script, "test").await {
        panic!("{script}\n{}", error.render(false));
    }
}

#[tokio::test]
async fn partition_tiers_are_exclusive_complete_and_first_match() {
    let (_dir, mut session) = demo_session().await;
    define(&mut session, STATUT).await;
    let all = members(&mut session, "all").await;
    let mut union = BTreeSet::new();
    for (tier, condition) in TIERS {
        let ours = members(&mut session, &format!("statut.{tier}")).await;
        let sql = format!("{BASE} SELECT customer_id FROM m WHERE {condition}");
        assert_eq!(ours, sql_keys(&session, &sql).await, "tier {tier}");
        assert!(!ours.is_empty(), "tier {tier} is empty on the demo data");
        assert!(
            union.is_disjoint(&ours),
            "tier {tier} overlaps an earlier tier"
        );
        union.extend(ours);
    }
    assert_eq!(union, all);

    // The partition by itself: every tier a step with its count, summing to the universe.
    let evaluation = session.evaluate("statut").await.expect("statut");
    let counts = evaluation.partition().expect("the partition's counts");
    assert_eq!(counts.tiers.len(), 5);
    assert_eq!(counts.total(), all.len());
    assert_eq!(evaluation.count(), all.len());
    for (tier, id, count) in &counts.tiers {
        assert_eq!(evaluation.steps[id - 1].count, *count);
        assert!(evaluation.steps[id - 1]
            .names
            .contains(&format!("statut.{tier}")));
    }
    // Tier names are tables for SQL.
    let vip = sql_keys(&session, "SELECT customer_id FROM \"statut.vip\"").await;
    assert_eq!(vip, members(&mut session, "statut.vip").await);
}

#[tokio::test]
async fn a_partition_without_else_reports_the_members_outside_it() {
    let (_dir, mut session) = demo_session().await;
    define(
        &mut session,
        "partition acheteurs { recents = [has purchases within 30 days]; anciens = [has purchases]; }",
    )
    .await;
    let evaluation = session.evaluate("acheteurs").await.expect("evaluates");
    let counts = evaluation.partition().expect("counts").clone();
    let never = members(&mut session, "[no purchases]").await;
    assert_eq!(counts.outside, Some(never.len()));
    let all = members(&mut session, "all").await;
    assert_eq!(counts.total(), all.len());
    // A tier is a set like any other, and tiers may use other partitions' tiers.
    define(
        &mut session,
        &format!("{STATUT}; partition croise {{ vip_recents = statut.vip ∩ acheteurs.recents; }}"),
    )
    .await;
    let crossed = members(&mut session, "croise.vip_recents").await;
    let expected = members(
        &mut session,
        "[sum(purchases.amount within 12 months) >= 1000] ∩ [has purchases within 30 days]",
    )
    .await;
    assert_eq!(crossed, expected);
}

/// The bucket rule in SQL: rank among the non-null values only.
fn bucket_sql(value: &str, buckets: i64, bucket: i64) -> String {
    format!(
        "{BASE}, v AS (SELECT customer_id, {value} AS v FROM m),
           r AS (SELECT customer_id, CAST(RANK() OVER (ORDER BY v) AS BIGINT) AS rk, COUNT(*) OVER () AS n
                 FROM v WHERE v IS NOT NULL)
         SELECT customer_id FROM r WHERE 1 + ({buckets} * (rk - 1)) / n = {bucket}"
    )
}

#[tokio::test]
async fn rfm_and_ntile_follow_the_bucket_rule_ties_included() {
    let (_dir, mut session) = demo_session().await;
    define(
        &mut session,
        "field ca_12m = sum(purchases.amount within 12 months);
         score rfm = rfm(recency: last(purchases.purchased_at),
                         frequency: count(purchases within 12 months),
                         monetary: ca_12m, buckets: 5);
         field pmg = ntile(ca_12m, 3);",
    )
    .await;
    for (field, value) in [("r", "last_date"), ("f", "n"), ("m", "ca")] {
        let mut seen = BTreeSet::new();
        for bucket in 1..=5 {
            let ours = members(&mut session, &format!("[rfm.{field} = {bucket}]")).await;
            let sql = sql_keys(&session, &bucket_sql(value, 5, bucket)).await;
            assert_eq!(ours, sql, "rfm.{field} = {bucket}");
            seen.extend(ours);
        }
        if field == "r" {
            // Members who never bought have no recency, hence no bucket.
            let no_recency = members(&mut session, "[rfm.r is null]").await;
            assert_eq!(no_recency, members(&mut session, "[no purchases]").await);
        } else {
            // No purchase in the window is a tie at the bottom: bucket 1.
            assert_eq!(seen, members(&mut session, "all").await);
        }
    }
    for bucket in 1..=3 {
        let ours = members(&mut session, &format!("[pmg = {bucket}]")).await;
        assert_eq!(ours, sql_keys(&session, &bucket_sql("ca", 3, bucket)).await);
    }
    let champions = members(&mut session, "[rfm.score = '555']").await;
    let all_fives = members(&mut session, "[rfm.r = 5 and rfm.f = 5 and rfm.m = 5]").await;
    assert_eq!(champions, all_fives);
    assert!(!champions.is_empty());
    // One window per distinct (value, buckets), however many criteria read it.
    let explanation = session
        .explain("[rfm.r >= 4] ∩ [rfm.r <= 4] ∪ [rfm.score = '545']")
        .expect("explains");
    assert_eq!(explanation.buckets.len(), 3, "{:?}", explanation.buckets);
}

#[tokio::test]
async fn why_agrees_with_the_step_tables() {
    let (_dir, mut session) = demo_session().await;
    define(
        &mut session,
        &format!(
            "{STATUT}; score rfm = rfm(recency: last(purchases.purchased_at), frequency: count(purchases within 12 months), monetary: ca_12m, buckets: 5);"
        ),
    )
    .await;
    let expression = "statut.vip ∪ [rfm.r = 5] - [city = 'Paris']";
    let keys: Vec<i64> = members(&mut session, "all")
        .await
        .into_iter()
        .take(40)
        .collect();
    for key in keys {
        let why = session
            .why(&key.to_string(), expression)
            .await
            .expect("why");
        assert!(why.in_universe);
        for (step, inside) in why.evaluation.steps.iter().zip(&why.membership) {
            let table =
                sql_keys(&session, &format!("SELECT customer_id FROM {}", step.table)).await;
            assert_eq!(
                table.contains(&key),
                *inside,
                "member {key}, step #{}",
                step.id
            );
        }
        let ca = why
            .values
            .iter()
            .find(|(what, _)| what == "ca_12m (field)")
            .expect("the field's value");
        let sql = format!("{BASE} SELECT customer_id FROM m WHERE customer_id = {key} AND CAST(ca AS VARCHAR) = '{}'", ca.1);
        assert_eq!(
            sql_keys(&session, &sql).await.len(),
            1,
            "ca_12m of {key}: {}",
            ca.1
        );
        assert!(why.values.iter().any(|(what, _)| what == "rfm.r"));
    }
    let stranger = session.why("999999999", expression).await.expect("why");
    assert!(!stranger.in_universe);
    assert!(stranger.membership.iter().all(|inside| !inside));
    assert!(stranger.to_string().contains("not in the universe"));
}

#[tokio::test]
async fn explain_shows_tiers_and_bucket_passes() {
    let (_dir, mut session) = demo_session().await;
    define(
        &mut session,
        &format!("{STATUT}; score rfm = rfm(recency: last(purchases.purchased_at), frequency: count(purchases within 12 months), monetary: ca_12m, buckets: 5);"),
    )
    .await;
    let explanation = session
        .explain("statut.tres_bons ∩ [rfm.r >= 4]")
        .expect("explains");
    insta::assert_snapshot!(explanation.to_string());
}

#[tokio::test]
async fn exclusivity_reports_overlaps_and_the_gap() {
    let (_dir, mut session) = demo_session().await;
    define(&mut session, STATUT).await;
    let tiers: Vec<String> = TIERS.iter().map(|(t, _)| format!("statut.{t}")).collect();
    let report = session.check_exclusive(&tiers).await.expect("checks");
    assert!(report.is_exclusive() && report.is_complete(), "{report}");

    define(
        &mut session,
        "segment recents = [has purchases within 30 days]; segment gros = [ca_12m >= 500];",
    )
    .await;
    let sets = [
        "recents".to_string(),
        "gros".to_string(),
        "statut.vip".to_string(),
    ];
    let report = session.check_exclusive(&sets).await.expect("checks");
    let both = members(&mut session, "recents ∩ gros").await;
    let overlap = report
        .overlaps
        .iter()
        .find(|o| o.expression == "recents ∩ gros")
        .expect("recent big spenders exist");
    assert_eq!(overlap.count, both.len());
    let first: Vec<String> = both.iter().take(5).map(i64::to_string).collect();
    assert_eq!(overlap.examples, first);
    let none = members(&mut session, "all - (recents ∪ gros ∪ statut.vip)").await;
    assert_eq!(report.gap.count, none.len());
    assert!(!report.is_exclusive() && !report.is_complete());
}

#[tokio::test]
async fn a_score_with_more_than_nine_buckets_separates_them_in_its_text() {
    let (_dir, mut session) = demo_session().await;
    define(
        &mut session,
        "score d = rfm(recency: last(purchases.purchased_at), frequency: count(purchases), monetary: sum(purchases.amount), buckets: 10);",
    )
    .await;
    let tops = members(&mut session, "[d.score = '10-10-10']").await;
    let all_tens = members(&mut session, "[d.r = 10 and d.f = 10 and d.m = 10]").await;
    assert_eq!(tops, all_tens);
    assert!(!tops.is_empty());
}
