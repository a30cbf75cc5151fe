"""Reports: tables as Arrow data, charts as SVG/PNG, Jupyter HTML with the chart inline."""

import pyarrow as pa

import ensemble


def test_overlap_report_tables_and_chart(session, tmp_path):
    report = session.report("overlap vip, clients, acheteurs_recents")
    assert isinstance(report, ensemble.Report)
    assert report.kind == "overlap"
    assert report.statement == "overlap vip, clients, acheteurs_recents"
    assert list(report.tables) == [t for t in report.tables]
    first_name = next(iter(report.tables))
    assert pa.table(report.table()).equals(pa.table(report.table(first_name)))
    svg = report.svg()
    assert svg.lstrip().startswith("<") and "<svg" in svg
    png = report.png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    html = report._repr_html_()
    assert "<svg" in html and "<table>" in html and "<?xml" not in html
    report.save_chart(tmp_path / "overlap.png")
    assert (tmp_path / "overlap.png").read_bytes()[:4] == b"\x89PNG"
    assert report.heading in str(report)


def test_kpi_and_transition_reports(session):
    kpi = session.report("kpi statut")
    table = pa.table(kpi)
    assert table.num_rows == 5 + 1 or table.num_rows == 5
    transition = session.report("transition statut from 2025-06-30 to 2026-06-30")
    assert transition.kind == "transition"
    assert transition.has_chart and "<svg" in transition.svg()


def test_reports_in_a_script_run(session):
    run = session.run("kpi vip, clients;\nvip;")
    assert [r.kind for r in run.reports] == ["kpi"]
    assert run.last.root.names == ["vip"]
    html = run._repr_html_()
    assert "<svg" in html and "<pre" in html


def test_unknown_table_name_lists_the_tables(session):
    report = session.report("kpi vip")
    try:
        report.table("nope")
    except KeyError as error:
        assert "it has:" in str(error)
    else:
        raise AssertionError("KeyError expected")
