//! Reports on the demo datamart, each checked against plain SQL over the same files: overlap
//! counts and combinations, KPIs per tier, the transition matrix between two dates, trend
//! sizes against separate evaluations, snapshot diffs against set differences; and bad input.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Months, NaiveDate};
use common::{demo_session, members, sql_keys};
use ensemble::arrow::array::AsArray;
use ensemble::arrow::datatypes::{Date32Type, Float64Type, Int64Type};
use ensemble::report::{Report, ReportBody};
use ensemble::Session;

const STATUT: &str = "field ca_12m = sum(purchases.amount within 12 months);
segment clients = [has purchases within 12 months];
segment recents = [has purchases within 30 days];
segment vip = [ca_12m >= 1000];
partition statut {
  vip = vip;
  bons = [ca_12m >= 200];
  occasionnels = clients;
  else opportunistes;
}";

/// Per member at `date`: revenue and purchases over the 12 months before, last purchase.
fn base(date: NaiveDate) -> String {
    let year_before = date.checked_sub_months(Months::new(12)).unwrap();
    let month_before = date.checked_sub_days(chrono::Days::new(30)).unwrap();
    format!(
        "WITH u AS (SELECT customer_id FROM customers WHERE signup_date <= DATE '{date}'),
  p AS (SELECT customer_id, SUM(amount) AS ca, COUNT(*) AS n FROM purchases
        WHERE CAST(purchased_at AS DATE) > DATE '{year_before}'
          AND CAST(purchased_at AS DATE) <= DATE '{date}' GROUP BY customer_id),
  r AS (SELECT DISTINCT customer_id FROM purchases
        WHERE CAST(purchased_at AS DATE) > DATE '{month_before}'
          AND CAST(purchased_at AS DATE) <= DATE '{date}'),
  l AS (SELECT customer_id, MAX(CAST(purchased_at AS DATE)) AS last_date FROM purchases
        WHERE CAST(purchased_at AS DATE) <= DATE '{date}' GROUP BY customer_id),
  m AS (SELECT u.customer_id, COALESCE(p.ca, 0) AS ca, COALESCE(p.n, 0) AS n, l.last_date,
               r.customer_id IS NOT NULL AS recent
        FROM u LEFT JOIN p ON u.customer_id = p.customer_id
               LEFT JOIN l ON u.customer_id = l.customer_id
               LEFT JOIN r ON u.customer_id = r.customer_id)"
    )
}

/// The tiers of `statut` in SQL, in order.
const TIERS: [(&str, &str); 4] = [
    ("vip", "ca >= 1000"),
    ("bons", "ca >= 200 AND ca < 1000"),
    ("occasionnels", "ca < 200 AND n > 0"),
    ("opportunistes", "n = 0"),
];

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

async fn run(session: &mut Session, script: &str) -> Vec<Report> {
    match session.run_script(script, "test").await {
        Ok(run) => run
            .outcomes
            .into_iter()
            .filter_map(|o| match o {
                ensemble::Outcome::Report(report) => Some(*report),
                _ => None,
            })
            .collect(),
        Err(error) => panic!("{script}\n{}", error.render(false)),
    }
}

async fn report(session: &mut Session, statement: &str) -> Report {
    match session.report(statement).await {
        Ok(report) => report,
        Err(error) => panic!("{statement}\n{}", error.render(false)),
    }
}

async fn sql_sets(session: &Session, at: NaiveDate) -> BTreeMap<&'static str, BTreeSet<i64>> {
    let mut sets = BTreeMap::new();
    let base = base(at);
    for (name, condition) in TIERS {
        let sql = format!("{base} SELECT customer_id FROM m WHERE {condition}");
        sets.insert(name, sql_keys(session, &sql).await);
    }
    let all = format!("{base} SELECT customer_id FROM m");
    sets.insert("all", sql_keys(session, &all).await);
    let clients = format!("{base} SELECT customer_id FROM m WHERE n > 0");
    sets.insert("clients", sql_keys(session, &clients).await);
    let recents = format!("{base} SELECT customer_id FROM m WHERE recent");
    sets.insert("recents", sql_keys(session, &recents).await);
    sets
}

#[tokio::test]
async fn overlap_counts_every_pair_and_every_exact_combination() {
    let (_dir, mut session) = demo_session().await;
    run(&mut session, STATUT).await;
    let sql = sql_sets(&session, date("2026-06-30")).await;
    let report = report(&mut session, "overlap clients, recents, vip").await;
    let ReportBody::Overlap(overlap) = &report.body else {
        panic!("not an overlap")
    };
    let sets = [&sql["clients"], &sql["recents"], &sql["vip"]];
    for i in 0..3 {
        for j in 0..3 {
            let both = sets[i].intersection(sets[j]).count() as u64;
            assert_eq!(overlap.shared[i][j], both, "{i} ∩ {j}");
        }
    }
    let mut expected: BTreeMap<Vec<bool>, u64> = BTreeMap::new();
    for key in &sql["all"] {
        let within: Vec<bool> = sets.iter().map(|s| s.contains(key)).collect();
        if within.iter().any(|w| *w) {
            *expected.entry(within).or_default() += 1;
        }
    }
    let found: BTreeMap<Vec<bool>, u64> = overlap
        .combinations
        .iter()
        .map(|c| (c.within.clone(), c.members))
        .collect();
    assert_eq!(found, expected);
    let outside = sql["all"]
        .iter()
        .filter(|k| sets.iter().all(|s| !s.contains(k)));
    assert_eq!(overlap.outside, outside.count() as u64);
    // A combination is a set expression whose evaluation is its members.
    for combination in &overlap.combinations {
        let evaluated = members(&mut session, &combination.expression).await;
        assert_eq!(
            evaluated.len() as u64,
            combination.members,
            "{}",
            combination.expression
        );
    }
    let jaccard = overlap.jaccard(0, 2).unwrap();
    let union = sets[0].union(sets[2]).count() as f64;
    assert!((jaccard - overlap.shared[0][2] as f64 / union).abs() < 1e-12);
    // A partition stands for its tiers, which share nothing.
    let report = report_body(&mut session, "overlap statut").await;
    let ReportBody::Overlap(tiers) = report else {
        panic!("not an overlap")
    };
    assert_eq!(tiers.sets.len(), 4);
    assert!(tiers
        .combinations
        .iter()
        .all(|c| c.within.iter().filter(|w| **w).count() == 1));
}

async fn report_body(session: &mut Session, statement: &str) -> ReportBody {
    report(session, statement).await.body
}

#[tokio::test]
async fn kpis_per_tier_match_sql_and_revenue_shares_sum_to_100() {
    let (_dir, mut session) = demo_session().await;
    run(&mut session, STATUT).await;
    let at = date("2026-06-30");
    let ReportBody::Kpi(kpi) = report_body(
        &mut session,
        "kpi statut with count(visits within 12 months) as visites",
    )
    .await
    else {
        panic!("not a kpi report")
    };
    assert_eq!(kpi.revenue.as_deref(), Some("purchases.amount"));
    let base = base(at);
    let total: f64 = sql_number(
        &session,
        &format!("{base} SELECT CAST(SUM(ca) AS DOUBLE) FROM m"),
    )
    .await;
    let universe = sql_number(
        &session,
        &format!("{base} SELECT CAST(COUNT(*) AS DOUBLE) FROM m"),
    )
    .await;
    let mut share_sum = 0.0;
    for (row, (tier, condition)) in kpi.rows.iter().zip(TIERS) {
        assert_eq!(row.set, format!("statut.{tier}"));
        let sql =
            |what: &str| format!("{base} SELECT CAST({what} AS DOUBLE) FROM m WHERE {condition}");
        let members = sql_number(&session, &sql("COUNT(*)")).await;
        let revenue = sql_number(&session, &sql("COALESCE(SUM(ca), 0)")).await;
        let purchases = sql_number(&session, &sql("COALESCE(SUM(n), 0)")).await;
        assert_eq!(row.members as f64, members, "{tier}");
        close(row.revenue.unwrap().to_f64(), revenue, tier);
        close(row.share.unwrap(), 100.0 * members / universe, tier);
        close(row.revenue_share.unwrap(), 100.0 * revenue / total, tier);
        close(row.purchases_per_member.unwrap(), purchases / members, tier);
        match row.average_basket {
            Some(basket) => close(basket.to_f64(), revenue / purchases, tier),
            None => assert_eq!(purchases, 0.0),
        }
        let visits = format!(
            "WITH u AS (SELECT customer_id FROM ({base} SELECT customer_id FROM m WHERE {condition})) \
             SELECT CAST(COUNT(*) AS DOUBLE) FROM visits v JOIN u ON v.customer_id = u.customer_id \
             WHERE CAST(v.visited_at AS DATE) > DATE '2025-06-30' AND CAST(v.visited_at AS DATE) <= DATE '2026-06-30'"
        );
        close(
            row.extra[0].0.to_f64(),
            sql_number(&session, &visits).await,
            tier,
        );
        let days = sql_days(
            &session,
            &format!("{base} SELECT last_date FROM m WHERE {condition} AND last_date IS NOT NULL"),
            at,
        )
        .await;
        assert_eq!(row.median_recency, median(days), "{tier}");
        share_sum += row.revenue_share.unwrap();
    }
    close(share_sum, 100.0, "the revenue shares");
    let all = kpi.rows.last().unwrap();
    assert_eq!((all.set.as_str(), all.members as f64), ("all", universe));
}

fn close(found: f64, expected: f64, what: &str) {
    assert!(
        (found - expected).abs() <= 1e-6 * expected.abs().max(1.0),
        "{what}: {found} vs {expected}"
    );
}

async fn sql_number(session: &Session, sql: &str) -> f64 {
    let batches = session
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    batches[0].column(0).as_primitive::<Float64Type>().value(0)
}

async fn sql_days(session: &Session, sql: &str, at: NaiveDate) -> Vec<f64> {
    let epoch = date("1970-01-01");
    let batches = session
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut days = Vec::new();
    for batch in batches {
        let column = batch.column(0).as_primitive::<Date32Type>();
        for i in 0..column.len() {
            let day = epoch + chrono::Days::new(column.value(i) as u64);
            days.push((at - day).num_days() as f64);
        }
    }
    days
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

#[tokio::test]
async fn transitions_count_members_moving_between_tiers_at_two_dates() {
    let (_dir, mut session) = demo_session().await;
    run(&mut session, STATUT).await;
    let (from, to) = (date("2025-12-31"), date("2026-06-30"));
    let ReportBody::Transition(transition) = report_body(
        &mut session,
        "transition statut from 2025-12-31 to 2026-06-30",
    )
    .await
    else {
        panic!("not a transition")
    };
    let before = sql_sets(&session, from).await;
    let after = sql_sets(&session, to).await;
    let entered: BTreeSet<i64> = after["all"].difference(&before["all"]).copied().collect();
    assert!(!entered.is_empty(), "the demo universe grows");
    for (i, (row, _)) in TIERS.iter().enumerate() {
        assert_eq!(transition.rows[i], *row);
        for (j, (column, _)) in TIERS.iter().enumerate() {
            let both = before[row].intersection(&after[column]).count() as u64;
            assert_eq!(transition.counts[i][j], both, "{row} → {column}");
            let new = entered.intersection(&after[column]).count() as u64;
            assert_eq!(
                transition.counts[TIERS.len()][j],
                new,
                "(entered) → {column}"
            );
        }
        assert_eq!(
            transition.row_total(i),
            before[row].len() as u64,
            "row {row}"
        );
        assert_eq!(
            transition.column_total(i),
            after[row].len() as u64,
            "column {row}"
        );
    }
    assert_eq!(
        transition.rows.last().map(String::as_str),
        Some("(entered)")
    );
    assert_eq!(
        transition.columns.last().map(String::as_str),
        Some("(left)")
    );
    // The session's own date is untouched.
    assert_eq!(session.as_of(), date("2026-06-30"));
}

#[tokio::test]
async fn trend_sizes_equal_separate_evaluations_at_each_date() {
    let (_dir, mut session) = demo_session().await;
    run(&mut session, STATUT).await;
    let ReportBody::Trend(trend) = report_body(
        &mut session,
        "trend vip, statut from 2025-12-31 to 2026-06-30 every 2 months",
    )
    .await
    else {
        panic!("not a trend")
    };
    let dates: Vec<String> = trend.dates.iter().map(ToString::to_string).collect();
    assert_eq!(
        dates,
        ["2025-12-31", "2026-02-28", "2026-04-30", "2026-06-30"]
    );
    assert_eq!(trend.sets.len(), 1 + TIERS.len());
    for (d, at) in trend.dates.clone().into_iter().enumerate() {
        let mut alone = Session::open(session.catalog().path.clone()).await.unwrap();
        alone.pin_as_of(at);
        run(&mut alone, STATUT).await;
        for (s, set) in trend.sets.iter().enumerate() {
            let size = members(&mut alone, set).await.len() as u64;
            assert_eq!(trend.sizes[d][s], size, "{set} at {at}");
        }
        assert_eq!(
            trend.universe[d],
            members(&mut alone, "all").await.len() as u64
        );
        let revenue = trend
            .revenue
            .as_ref()
            .expect("the demo has purchases.amount");
        let sql = format!(
            "{} SELECT CAST(COALESCE(SUM(ca), 0) AS DOUBLE) FROM m WHERE ca >= 1000",
            base(at)
        );
        close(
            revenue[d][0].to_f64(),
            sql_number(&session, &sql).await,
            "vip's revenue",
        );
    }
}

#[tokio::test]
async fn snapshots_keep_memberships_and_diffs_are_set_differences() {
    let (dir, mut session) = demo_session().await;
    run(&mut session, STATUT).await;
    let reports = run(
        &mut session,
        "as of 2026-03-31; snapshot vip; snapshot statut;
         as of 2026-06-30; snapshot vip; snapshot statut;
         diff vip from 2026-03-31 to 2026-06-30; diff statut from 2026-03-31 to 2026-06-30;",
    )
    .await;
    let path = dir
        .path()
        .join("workspace/snapshots/vip/2026-03-31.parquet");
    assert!(path.exists());
    let before = members_at(&mut session, "vip", date("2026-03-31")).await;
    let after = members_at(&mut session, "vip", date("2026-06-30")).await;
    let ReportBody::Diff(diff) = &reports[4].body else {
        panic!("not a diff")
    };
    let row = &diff.rows[0];
    assert_eq!(row.before, before.len() as u64);
    assert_eq!(row.after, after.len() as u64);
    assert_eq!(row.entered, after.difference(&before).count() as u64);
    assert_eq!(row.left, before.difference(&after).count() as u64);
    assert_eq!(row.stayed, before.intersection(&after).count() as u64);
    assert!(diff.changed_definition.is_none());
    let ReportBody::Diff(tiers) = &reports[5].body else {
        panic!("not a diff")
    };
    for row in &tiers.rows[..TIERS.len()] {
        let set = format!("statut.{}", row.set);
        let before = members_at(&mut session, &set, date("2026-03-31")).await;
        let after = members_at(&mut session, &set, date("2026-06-30")).await;
        assert_eq!(
            row.entered,
            after.difference(&before).count() as u64,
            "{set}"
        );
        assert_eq!(row.left, before.difference(&after).count() as u64, "{set}");
    }
    // The file is plain Parquet: keys, and the definition in its metadata.
    let file = std::fs::File::open(&path).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let metadata = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .unwrap()
        .clone();
    assert!(metadata.iter().any(|kv| kv.key == "ensemble.definition"
        && kv.value.as_deref() == Some("segment vip = [ca_12m >= 1000]")));
    let keys: BTreeSet<i64> = reader
        .build()
        .unwrap()
        .flat_map(|b| {
            let b = b.unwrap();
            let keys = b.column(0).as_primitive::<Int64Type>().clone();
            (0..keys.len())
                .map(move |i| keys.value(i))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(keys, before);
    // A new definition is kept apart: the old snapshot is untouched, the diff says so.
    let kept = std::fs::read(&path).unwrap();
    let error = session
        .run_script(
            "as of 2026-03-31; segment vip = [ca_12m >= 1500]; snapshot vip;",
            "test",
        )
        .await
        .unwrap_err()
        .render(false);
    assert!(error.contains("another definition"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), kept);
    let reports = run(
        &mut session,
        "as of 2026-05-31; snapshot vip; diff vip from 2026-03-31 to 2026-05-31;",
    )
    .await;
    let ReportBody::Diff(changed) = &reports[1].body else {
        panic!("not a diff")
    };
    let (old, new) = changed.changed_definition.clone().unwrap();
    assert!(
        old.contains(">= 1000") && new.contains(">= 1500"),
        "{old} / {new}"
    );
}

async fn members_at(session: &mut Session, set: &str, at: NaiveDate) -> BTreeSet<i64> {
    let saved = session.as_of();
    session.set_as_of(at);
    let found = members(session, set).await;
    session.set_as_of(saved);
    found
}

#[tokio::test]
async fn bad_reports_get_clear_errors_and_change_nothing() {
    let (dir, mut session) = demo_session().await;
    run(&mut session, STATUT).await;
    let error = |e: ensemble::EngineError| e.render(false);
    let unknown = error(session.report("overlap vip, clientz").await.unwrap_err());
    assert!(unknown.contains("did you mean 'clients'"), "{unknown}");
    let segment = error(
        session
            .report("transition vip from 2025-06-30 to 2026-06-30")
            .await
            .unwrap_err(),
    );
    assert!(
        segment.contains("'vip' is a segment, not a partition"),
        "{segment}"
    );
    let order = error(
        session
            .report("trend vip from 2026-06-30 to 2025-06-30 every month")
            .await
            .unwrap_err(),
    );
    assert!(order.contains("wrong order"), "{order}");
    let missing = error(
        session
            .report("diff vip from 2026-01-31 to 2026-06-30")
            .await
            .unwrap_err(),
    );
    assert!(
        missing.contains("no snapshot of 'vip' at 2026-01-31"),
        "{missing}"
    );
    let one = error(session.report("overlap vip").await.unwrap_err());
    assert!(one.contains("two sets or more"), "{one}");
    let text = error(
        session
            .report("kpi vip with max(purchases.purchased_at) as d")
            .await
            .unwrap_err(),
    );
    assert!(text.contains("a measure must be a number"), "{text}");
    // A workspace that cannot be written: a file where its directory should be.
    std::fs::write(dir.path().join("workspace"), b"not a directory").unwrap();
    let blocked = error(session.report("snapshot vip").await.unwrap_err());
    assert!(
        blocked.contains("cannot create the snapshot directory"),
        "{blocked}"
    );
    // Definitions survive the failures.
    assert_eq!(
        members(&mut session, "vip").await.len(),
        sql_sets(&session, date("2026-06-30")).await["vip"].len()
    );
}

#[tokio::test]
async fn audiences_hold_the_members_their_values_segments_and_tiers() {
    let (dir, mut session) = demo_session().await;
    run(&mut session, STATUT).await;
    let spec = ensemble::AudienceSpec {
        set: "vip ∪ recents".into(),
        values: vec!["city".into(), "ca_12m".into()],
    };
    let audience = session.audience(&spec).await.unwrap();
    let sql = sql_sets(&session, date("2026-06-30")).await;
    let expected: BTreeSet<i64> = sql["vip"].union(&sql["recents"]).copied().collect();
    assert_eq!(common::keys(&audience.batches), expected);
    // The same rows are the SQL table `audience`, fields included.
    let checked = session
        .sql(&format!(
            "{} SELECT COUNT(*) AS wrong FROM audience a JOIN m ON a.customer_id = m.customer_id
             WHERE ABS(a.ca_12m - m.ca) > 1e-6 OR a.vip <> (m.ca >= 1000)
                OR a.statut <> CASE WHEN m.ca >= 1000 THEN 'vip' WHEN m.ca >= 200 THEN 'bons'
                                    WHEN m.n > 0 THEN 'occasionnels' ELSE 'opportunistes' END",
            base(date("2026-06-30"))
        ))
        .await
        .unwrap();
    assert_eq!(checked[0].column(0).as_primitive::<Int64Type>().value(0), 0);
    // Parquet keeps the definitions; CSV gets a sidecar.
    let parquet = dir.path().join("out/audience.parquet");
    session.write_audience(&audience, &parquet).unwrap();
    let file = std::fs::File::open(&parquet).unwrap();
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let metadata = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .unwrap();
    let definitions = metadata
        .iter()
        .find(|kv| kv.key == "ensemble.definitions")
        .unwrap();
    assert!(definitions
        .value
        .as_deref()
        .unwrap()
        .contains("segment vip = [ca_12m >= 1000]"));
    let csv = dir.path().join("out/audience.csv");
    session.write_audience(&audience, &csv).unwrap();
    let sidecar = std::fs::read_to_string(dir.path().join("out/audience.csv.meta.json")).unwrap();
    assert!(
        sidecar.contains("\"ensemble.as_of\": \"2026-06-30\""),
        "{sidecar}"
    );
    let header = std::fs::read_to_string(&csv).unwrap();
    assert!(
        header.starts_with("customer_id,city,ca_12m,clients,recents,vip,statut\n"),
        "{header}"
    );
}

/// An interrupted report over time (its future dropped, as the REPL's Ctrl-C and the Python
/// package's KeyboardInterrupt do) leaves the session's date and answers as they were.
#[tokio::test]
async fn an_interrupted_trend_leaves_the_session_date_alone() {
    let (_dir, mut session) = common::demo_session().await;
    session
        .run_script(
            "segment vip = [sum(purchases.amount within 12 months) >= 1000];",
            "t",
        )
        .await
        .expect("defines");
    let before = (session.as_of(), session.as_of_origin());
    let vip = session.evaluate("vip").await.expect("evaluates").count();
    // 832 point-in-time evaluations: far from done when the future is dropped.
    let trend = session.report("trend vip from 2010-07-01 to 2026-06-30 every week");
    let dropped = tokio::time::timeout(std::time::Duration::from_millis(300), trend).await;
    assert!(dropped.is_err(), "the trend was still running when dropped");
    assert_eq!((session.as_of(), session.as_of_origin()), before);
    assert_eq!(
        session.evaluate("vip").await.expect("evaluates").count(),
        vip
    );
    let listed = session.listing();
    assert_eq!(listed[0].size, Some(vip), "sizes are the session date's");
}
