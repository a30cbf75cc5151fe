"""`ensemble serve` from Python: psycopg over the Postgres protocol, ADBC over Flight SQL;
member lists equal `ensemble run` on the same script."""

import threading

import adbc_driver_flightsql.dbapi as flightsql
import psycopg
import pyarrow
import pytest

from conftest import PASSWORD, run_members


def pg(server):
    return psycopg.connect(
        host="127.0.0.1", port=server["pg"], user="ensemble", password=PASSWORD,
        dbname="ensemble", sslmode="disable", autocommit=True,
    )


def flight(server):
    return flightsql.connect(
        f"grpc://127.0.0.1:{server['flight']}",
        db_kwargs={"username": "ensemble", "password": PASSWORD},
        autocommit=True,
    )


@pytest.mark.parametrize("sql, expression", [
    ("SELECT customer_id FROM vip", "vip"),
    ('SELECT customer_id FROM "statut.tres_bons"', "statut.tres_bons"),
    ("SELECT customer_id FROM segment('clients - acheteurs_recents ∩ vip')",
     "clients - acheteurs_recents ∩ vip"),
])
def test_members_equal_ensemble_run(server, sql, expression):
    expected = run_members(server["catalog"], server["script"], expression)
    assert expected
    with pg(server) as conn:
        over_pg = {row[0] for row in conn.execute(sql)}
    assert over_pg == expected
    with flight(server) as conn, conn.cursor() as cur:
        cur.execute(sql)
        table = cur.fetch_arrow_table()
    assert set(table.column(0).to_pylist()) == expected


def test_strings_are_plain_text_and_tiers_are_columns(server):
    with pg(server) as conn:
        cur = conn.execute("SELECT city, statut FROM members WHERE statut IS NOT NULL LIMIT 5")
        assert [d.type_code for d in cur.description] == [25, 25]  # text, not a view type
        assert all(isinstance(city, str) for city, _ in cur.fetchall())


def test_flight_strings_are_plain_utf8(server):
    with flight(server) as conn, conn.cursor() as cur:
        cur.execute("SELECT city, email FROM vip")
        table = cur.fetch_arrow_table()
    assert {str(field.type) for field in table.schema} == {"string"}


def test_arrow_clients_read_a_report(server):
    with flight(server) as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM kpi('statut')")
        table = cur.fetch_arrow_table()
        assert isinstance(table, pyarrow.Table)
        assert "statut.vip" in table.column("set").to_pylist()
        objects = conn.adbc_get_objects().read_all().to_pylist()
        tables = {
            t["table_name"]
            for catalog in objects
            for schema in catalog["catalog_db_schemas"]
            for t in schema["db_schema_tables"] or []
        }
        assert {"customers", "vip", "members"} <= tables


def test_errors_keep_the_caret_and_the_server_keeps_serving(server):
    with pg(server) as conn:
        with pytest.raises(psycopg.Error) as error:
            conn.execute("SELECT * FROM segment('vipp')")
        assert "vipp" in str(error.value) and "vip" in str(error.value)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=server["pg"], user="ensemble",
                        password="wrong", dbname="ensemble", sslmode="disable")
    with pg(server) as conn:
        with pytest.raises(psycopg.Error) as error:
            conn.execute("DROP TABLE vip")
        assert "read-only" in str(error.value)
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_fifty_concurrent_clients(server):
    expected = run_members(server["catalog"], server["script"], "vip ∩ clients")
    results, failures = [], []

    def client():
        try:
            with pg(server) as conn:
                rows = conn.execute("SELECT customer_id FROM segment('vip ∩ clients')")
                results.append({row[0] for row in rows})
        except Exception as e:  # noqa: BLE001 — collected and reported below
            failures.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not failures, failures[:3]
    assert len(results) == 50 and all(r == expected for r in results)
