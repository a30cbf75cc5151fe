//! Every chart kind renders to SVG and PNG from a report built by hand, accents included.

use std::time::Duration;

use chrono::NaiveDate;
use ensemble_engine::report::{
    Amount, Combination, KpiReport, KpiRow, OverlapReport, Report, ReportBody, TransitionReport,
    TrendReport,
};

use super::*;

fn report(body: ReportBody) -> Report {
    Report {
        statement: "rapport des fidèles".into(),
        as_of: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
        elapsed: Duration::ZERO,
        body,
    }
}

fn overlap(sets: usize) -> OverlapReport {
    let names: Vec<String> = (0..sets).map(|i| format!("fidèles_{i}")).collect();
    let shared = (0..sets)
        .map(|i| (0..sets).map(|j| if i == j { 100 } else { 10 }).collect())
        .collect();
    let combinations = (0..sets)
        .map(|i| Combination {
            within: (0..sets).map(|j| j == i).collect(),
            members: 90 - i as u64,
            expression: names[i].clone(),
        })
        .collect();
    OverlapReport {
        sets: names,
        shared,
        combinations,
        universe: 1000,
        outside: 500,
    }
}

fn kpi() -> KpiReport {
    let row = |set: &str, share| KpiRow {
        set: set.into(),
        members: 10,
        share: Some(share),
        revenue: Some(Amount::Exact {
            units: 100,
            scale: 2,
        }),
        revenue_share: Some(100.0 - share),
        average_basket: None,
        purchases_per_member: None,
        median_recency: None,
        extra: Vec::new(),
    };
    KpiReport {
        rows: vec![
            row("statut.très_bons", 20.0),
            row("statut.élite", 5.0),
            row("all", 100.0),
        ],
        revenue: Some("achats.montant".into()),
        measures: Vec::new(),
    }
}

fn bodies() -> Vec<ReportBody> {
    let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
    vec![
        ReportBody::Overlap(overlap(2)),
        ReportBody::Overlap(overlap(3)),
        ReportBody::Overlap(overlap(5)),
        ReportBody::Kpi(kpi()),
        ReportBody::Transition(TransitionReport {
            partition: "statut".into(),
            from: day(1),
            to: day(31),
            rows: vec!["élite".into(), "(entered)".into()],
            columns: vec!["élite".into(), "(left)".into()],
            counts: vec![vec![5, 1], vec![3, 0]],
        }),
        ReportBody::Trend(TrendReport {
            sets: vec!["fidèles".into()],
            dates: vec![day(1), day(15), day(31)],
            sizes: vec![vec![1], vec![3], vec![2]],
            universe: vec![10, 10, 10],
            revenue: None,
        }),
    ]
}

#[test]
fn every_chart_renders_as_svg_and_png() {
    for body in bodies() {
        let report = report(body);
        let svg = svg(&report).unwrap();
        assert!(svg.starts_with("<svg"), "{}", report.kind());
        assert!(
            svg.contains("fidèles") || svg.contains("élite"),
            "{}",
            report.kind()
        );
        let png = png(&report).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}

#[test]
fn tables_only_reports_have_no_chart() {
    let snapshot = report(ReportBody::Snapshot(
        ensemble_engine::report::SnapshotReport {
            name: "vip".into(),
            path: "x.parquet".into(),
            tiers: vec![("vip".into(), 3)],
        },
    ));
    assert!(!has_chart(&snapshot));
    assert!(matches!(
        svg(&snapshot),
        Err(ChartError::NoChart("snapshot"))
    ));
    let path = std::path::Path::new("chart.jpeg");
    assert!(matches!(
        ChartFormat::of_path(path),
        Err(ChartError::Format(_))
    ));
}

/// Every chart is written as a PNG file: to `ENSEMBLE_CHART_DIR` when set, to look at them,
/// else to a temporary directory.
#[test]
fn charts_are_written_as_files() {
    let temporary = tempfile::tempdir().unwrap();
    let dir = std::env::var("ENSEMBLE_CHART_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| temporary.path().to_path_buf());
    for (i, body) in bodies().into_iter().enumerate() {
        let path = dir.join(format!("chart-{i}.png"));
        write_chart(&report(body), &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG", "{}", path.display());
    }
}
