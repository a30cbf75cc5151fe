"""Sessions: the same members as `ensemble run`, and as plain SQL in another engine."""

import datetime
import subprocess

import duckdb
import pyarrow as pa
import pytest

import ensemble
from support import BIN, CUSTOMERS

COMPOUND = "clients - acheteurs_recents ∩ vip"


def keys(data):
    table = pa.table(data)
    return set(table.column(0).to_pylist())


def test_members_equal_ensemble_run(datamart):
    catalog, script = datamart
    cli = subprocess.run(
        [BIN, "run", "-c", str(catalog), str(script), "--format", "csv"],
        check=True, capture_output=True, text=True,
    )
    lines = cli.stdout.splitlines()
    assert lines[0] == "customer_id"
    expected = {int(line) for line in lines[1:]}

    session = ensemble.open(catalog)
    run = session.run_file(script)
    evaluation = run.last
    assert evaluation.expression == "clients − (acheteurs_recents ∩ vip)"
    assert keys(evaluation) == expected
    assert evaluation.count == len(expected) > 0
    assert ("segment", "vip") in run.defined
    assert ("as of", "2026-06-30") in run.defined


def test_members_equal_plain_sql_in_duckdb(datamart, session):
    catalog, _ = datamart
    directory = catalog.parent
    evaluation = session.evaluate(COMPOUND)
    purchases = directory / "purchases.parquet"
    customers = directory / "customers.parquet"
    sql = f"""
        WITH p AS (SELECT customer_id, CAST(purchased_at AS DATE) AS d, amount
                   FROM '{purchases}' WHERE CAST(purchased_at AS DATE) <= DATE '2026-06-30'),
             clients AS (SELECT DISTINCT customer_id FROM p WHERE d > DATE '2025-06-30'),
             recents AS (SELECT DISTINCT customer_id FROM p WHERE d > DATE '2026-05-31'),
             vip AS (SELECT customer_id FROM p WHERE d > DATE '2025-06-30'
                     GROUP BY customer_id HAVING SUM(amount) >= 1000)
        SELECT customer_id FROM '{customers}'
        WHERE signup_date <= DATE '2026-06-30'
          AND customer_id IN (SELECT customer_id FROM clients)
          AND customer_id NOT IN (SELECT customer_id FROM recents
                                  INTERSECT SELECT customer_id FROM vip)"""
    expected = {row[0] for row in duckdb.sql(sql).fetchall()}
    assert keys(evaluation) == expected


def test_every_step_is_inspectable(session):
    evaluation = session.evaluate(COMPOUND)
    steps = evaluation.steps
    assert [s.id for s in steps] == [1, 2, 3, 4, 5]
    assert evaluation.root.id == 5
    for step in steps:
        assert len(pa.table(step)) == step.count == len(step)
        assert step.plan
        assert step.elapsed >= 0
    intersection = evaluation.step(4)
    assert intersection.kind == "set"
    assert intersection.operation == ("∩", [2, 3])
    assert keys(intersection) == keys(evaluation.step("acheteurs_recents")) & keys(
        evaluation.step("vip"))
    assert keys(evaluation.step(5)) == keys(evaluation.step("clients")) - keys(intersection)
    vip = evaluation.step("vip")
    assert vip.kind == "criterion" and vip.names == ["vip"]
    assert "Aggregate" in vip.plan or "Projection" in vip.plan
    table = pa.table(evaluation.steps_table())
    assert table.column_names == [
        "id", "step", "label", "kind", "operator", "operands", "expression", "members",
        "elapsed_ms", "reused", "plan"]
    assert table.column("members").to_pylist() == [s.count for s in steps]
    assert table.column("operands").to_pylist() == [None, None, None, [2, 3], [1, 4]]
    with pytest.raises(IndexError):
        evaluation.step(6)
    with pytest.raises(KeyError):
        evaluation.step("nope")


def test_a_union_of_many_segments_is_one_step(session):
    names = [f"u{i}" for i in range(60)]
    for i, name in enumerate(names):
        session.define(f"segment {name} = [customer_id = {i + 1}];")
    evaluation = session.evaluate(" ∪ ".join(names))
    root = evaluation.root
    assert root.operation == ("∪", list(range(1, 61)))
    assert root.count == session.evaluate("[customer_id between 1 and 60]").count > 0


def test_steps_are_reused_and_stay_this_evaluations(session):
    first = session.evaluate(COMPOUND)
    again = session.evaluate(COMPOUND)
    assert all(step.reused for step in again.steps)
    # A later evaluation does not change an earlier one's steps.
    session.evaluate("prospects")
    assert [len(pa.table(s)) for s in first.steps] == [s.count for s in first.steps]


def test_evaluate_at_a_date_keeps_the_session_date(session):
    before = session.as_of
    assert before == datetime.date(2026, 6, 30)
    earlier = session.evaluate("acheteurs_recents", as_of="2026-01-31")
    assert earlier.as_of == datetime.date(2026, 1, 31)
    assert session.as_of == before
    same = session.evaluate("acheteurs_recents", as_of=datetime.date(2026, 1, 31))
    assert keys(same) == keys(earlier)
    session.as_of = "2026-01-31"
    assert keys(session.evaluate("acheteurs_recents")) == keys(earlier)
    with pytest.raises(ValueError, match="not a date"):
        session.evaluate("vip", as_of="yesterday")


def test_partitions_scores_and_definitions(session):
    evaluation = session.evaluate("statut")
    tiers = evaluation.partitions["statut"]
    assert list(tiers) == ["vip", "tres_bons", "bons", "occasionnels", "opportunistes"]
    universe = session.evaluate("all").count
    assert sum(tiers.values()) == universe <= CUSTOMERS
    names = [d["name"] for d in session.definitions]
    assert names[:2] == ["ca_12m", "clients"] and "statut" in names and "rfm" in names
    vip = next(d for d in session.definitions if d["name"] == "vip")
    assert vip["kind"] == "segment" and vip["size"] == tiers["vip"]
    assert "segment vip" in session.script


def test_sql_over_catalog_and_steps(session):
    session.evaluate(COMPOUND)
    table = session.sql("SELECT count(*) AS n FROM vip")
    assert pa.table(table).column("n").to_pylist() == [session.evaluate("vip").count]
    customers = session.sql("SELECT customer_id, city FROM customers ORDER BY customer_id")
    assert customers.num_rows == CUSTOMERS
    assert customers.column_names == ["customer_id", "city"]


def test_why_explains_a_member(session):
    evaluation = session.evaluate("vip")
    member = pa.table(evaluation).column(0)[0].as_py()
    why = session.why(member, "vip")
    assert why.is_member and bool(why) and why.in_universe
    assert why.key == str(member)
    assert "ca_12m" in " ".join(why.values)
    assert why.membership == {1: True}
    assert f"member {member}" in str(why)
    outsider = session.why(member, "all - vip")
    assert not outsider.is_member
    assert "<pre" in why._repr_html_()


def test_explain_and_repr(session):
    text = session.explain("all - vip")
    assert "all − vip" in text or "all - vip" in text
    evaluation = session.evaluate(COMPOUND)
    assert "#5" in repr(evaluation) and "members as of 2026-06-30" in repr(evaluation)
    html = evaluation._repr_html_()
    assert html.startswith("<pre") and "acheteurs_recents ∩ vip" in html
    assert "&lt;" not in evaluation.tree
    assert repr(session).startswith("<ensemble.Session on ")
