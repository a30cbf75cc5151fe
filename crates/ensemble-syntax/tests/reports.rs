//! Report statements: every form parses, prints back to text that parses to the same tree, and
//! bad reports get located errors. Their words stay usable as names.

use ensemble_syntax::{parse_script, Report, StatementKind};

fn report(source: &str) -> Report {
    let parsed = parse_script(source).unwrap_or_else(|e| panic!("{source}: {e:?}"));
    match parsed.script.statements.into_iter().next().map(|s| s.kind) {
        Some(StatementKind::Report(report)) => report,
        other => panic!("{source}: not a report: {other:?}"),
    }
}

fn error(source: &str) -> String {
    let error = parse_script(source).expect_err(source);
    error.diagnostic().render(source, "<test>", false)
}

#[test]
fn every_report_form_round_trips() {
    let forms = [
        "overlap clients, acheteurs_recents, vip",
        "overlap statut.vip, [city = 'Paris'] - vip",
        "kpi statut",
        "kpi vip, clients with sum(purchases.amount within 12 months) as ca_12m, count(visits) as visites",
        "transition statut from 2025-06-30 to 2026-06-30",
        "trend vip, clients from 2024-06-30 to 2026-06-30 every 1 month",
        "trend vip from 2024-06-30 to 2026-06-30 every 2 weeks",
        "snapshot vip",
        "diff vip from 2026-05-31 to 2026-06-30",
    ];
    for form in forms {
        let parsed = report(form);
        let printed = parsed.to_string();
        assert_eq!(report(&printed), parsed, "{form} printed as {printed}");
    }
    assert_eq!(
        report("TREND vip FROM 2024-06-30 TO 2024-12-31 EVERY month").to_string(),
        "trend vip from 2024-06-30 to 2024-12-31 every month"
    );
}

#[test]
fn report_words_are_not_reserved() {
    let parsed = parse_script("segment trend = all; overlap - trend; kpi;").unwrap();
    let kinds: Vec<_> = parsed.script.statements.iter().map(|s| &s.kind).collect();
    assert!(matches!(kinds[0], StatementKind::Segment { .. }));
    assert!(matches!(kinds[1], StatementKind::Evaluate(_)));
    assert!(matches!(kinds[2], StatementKind::Evaluate(_)));
}

#[test]
fn bad_reports_are_located() {
    insta::assert_snapshot!(
        "dates_in_the_wrong_order",
        error("transition statut from 2026-06-30 to 2025-06-30;")
    );
    insta::assert_snapshot!(
        "a_trend_of_zero_steps",
        error("trend vip from 2024-06-30 to 2026-06-30 every 0 months;")
    );
    insta::assert_snapshot!(
        "a_measure_named_twice",
        error("kpi vip with count(purchases) as n, sum(purchases.amount) as n;")
    );
    insta::assert_snapshot!("an_overlap_without_sets", error("overlap vip,;"));
}
