"""Evaluations, steps, SQL results and report tables are Arrow data that pyarrow, polars,
pandas and duckdb read through the Arrow PyCapsule interface, without copies."""

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa

COMPOUND = "clients - acheteurs_recents ∩ vip"


def test_pyarrow_reads_members_without_a_copy(session):
    evaluation = session.evaluate(COMPOUND)
    first = pa.table(evaluation)
    second = pa.table(evaluation)
    assert first.num_rows == evaluation.count
    assert first.schema.names == [evaluation.key]
    assert first.column(0).to_pylist() == sorted(first.column(0).to_pylist())
    # Both reads point at the evaluation's own buffers: nothing was copied.
    address = lambda t: t.column(0).chunks[0].buffers()[1].address
    assert address(first) == address(second)
    assert pa.RecordBatchReader.from_stream(evaluation).read_all().equals(first)


def test_polars_pandas_and_duckdb_read_an_evaluation(session):
    evaluation = session.evaluate(COMPOUND)
    expected = set(pa.table(evaluation).column(0).to_pylist())

    frame = pl.DataFrame(evaluation)
    assert frame.columns == ["customer_id"]
    assert set(frame["customer_id"].to_list()) == expected

    pandas = pa.table(evaluation).to_pandas()
    assert isinstance(pandas, pd.DataFrame)
    assert set(pandas["customer_id"]) == expected
    assert set(evaluation.members.to_pandas()["customer_id"]) == expected

    ev = evaluation  # noqa: F841  (read by name by duckdb's replacement scan)
    assert duckdb.sql("SELECT count(*) FROM ev").fetchone()[0] == len(expected)
    assert duckdb.from_arrow(evaluation).count("*").fetchone()[0] == len(expected)


def test_steps_sql_and_report_tables_are_arrow_too(session):
    evaluation = session.evaluate(COMPOUND)
    step = evaluation.step("vip")
    assert pl.DataFrame(step).height == step.count
    assert evaluation.members.to_polars().height == evaluation.count

    counts = session.sql("SELECT city, count(*) AS n FROM customers GROUP BY city ORDER BY city")
    table = pa.table(counts)
    assert table.column_names == ["city", "n"]
    assert sum(table.column("n").to_pylist()) == pa.table(session.sql(
        "SELECT count(*) AS n FROM customers")).column("n")[0].as_py()

    report = session.report("overlap vip, clients, acheteurs_recents")
    combos = pa.table(report)
    assert combos.num_rows > 0
    for name, t in report.tables.items():
        assert pa.table(t).num_rows == t.num_rows, name


def test_requested_schema_casts_when_it_can(session):
    evaluation = session.evaluate("vip")
    wanted = pa.schema([("customer_id", pa.int32())])
    # pyarrow passes the requested schema to __arrow_c_stream__.
    reader = pa.RecordBatchReader.from_stream(evaluation, schema=wanted)
    table = reader.read_all()
    assert table.schema.field(0).type == pa.int32()
    assert table.num_rows == evaluation.count


def test_an_empty_result_still_has_its_schema(session):
    evaluation = session.evaluate("vip - vip")
    table = pa.table(evaluation)
    assert evaluation.count == 0 and table.num_rows == 0
    assert table.schema.names == ["customer_id"]
    assert pl.DataFrame(evaluation).columns == ["customer_id"]
