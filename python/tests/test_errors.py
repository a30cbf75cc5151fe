"""Errors are Python exceptions of one hierarchy, with line, column and the caret; a failed
call leaves the session as it was."""

import pytest

import ensemble


def test_a_syntax_error_carries_its_position_and_caret(session):
    script = "segment ok = [has purchases];\nsegment bad = [sum(purchases.amount) >= ];\n"
    with pytest.raises(ensemble.ScriptError) as caught:
        session.run(script)
    error = caught.value
    assert (error.line, error.column) == (2, 41)
    assert "segment bad = [sum(purchases.amount) >= ];" in str(error)
    # A script that does not parse runs no statement at all.
    with pytest.raises(ensemble.ScriptError):
        session.evaluate("ok")


def test_a_failing_statement_keeps_the_ones_before(session):
    script = "segment ok = [has purchases];\nsegment bad = [ca_12m >= 'a lot'];\n"
    with pytest.raises(ensemble.ScriptError) as caught:
        session.run(script)
    error = caught.value
    assert isinstance(error, ensemble.EnsembleError)
    assert error.line == 2
    assert error.column > 1
    assert error.origin == "<python>"
    rendered = str(error)
    assert rendered == error.rendered
    assert "segment bad = [ca_12m >= 'a lot'];" in rendered
    assert "─" in rendered
    assert "\x1b[" not in rendered, "no colours in exception messages"
    # The statement before the error was applied; the session still works.
    assert session.evaluate("ok").count > 0


def test_an_unknown_name_suggests_a_close_one(session):
    with pytest.raises(ensemble.ScriptError) as caught:
        session.evaluate("clients - vipp")
    error = caught.value
    assert error.line == 1 and error.column == 11
    assert "vip" in (error.help or "") + str(error)


def test_a_failed_redefinition_keeps_the_old_one(session):
    before = session.evaluate("vip").count
    with pytest.raises(ensemble.ScriptError):
        session.define("segment vip = [ca_12m >= 'a lot'];")
    assert session.evaluate("vip").count == before


def test_other_errors_have_their_own_classes(datamart, session, tmp_path):
    with pytest.raises(ensemble.ReadOnlyError):
        session.sql("DROP TABLE customers")
    with pytest.raises(ensemble.DataError):
        session.sql("SELECT * FROM no_such_table")
    with pytest.raises(ensemble.DataError, match="missing.toml"):
        ensemble.open(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("[universe]\ntable = 'nope'\n")
    with pytest.raises(ensemble.CatalogError):
        ensemble.open(tmp_path / "bad.toml")
    catalog, _ = datamart
    for limit in ("0", "lots"):
        with pytest.raises(ValueError, match="memory_limit"):
            ensemble.open(catalog, memory_limit=limit)
    # The same mistake in the catalog file is a ConfigError.
    bad_limit = catalog.parent / "bad-limit.toml"
    bad_limit.write_text('memory_limit = "lots"\n' + catalog.read_text())
    with pytest.raises(ensemble.ConfigError, match="lots"):
        ensemble.open(bad_limit)
    with pytest.raises(ensemble.DataError, match="already exists"):
        ensemble.generate(datamart[0].parent, customers=10)
    with pytest.raises(ensemble.ScriptError) as caught:
        session.report("overlap vip")
    assert caught.value.line == 1
    error = ensemble.DataError("x")
    assert isinstance(error, ensemble.EnsembleError)
    assert issubclass(ensemble.MemoryLimitError, ensemble.DataError)
    assert issubclass(ensemble.UnknownNameError, ensemble.ScriptError)


def test_a_memory_limit_too_small_is_a_clear_error(datamart):
    catalog, _ = datamart
    session = ensemble.open(catalog, memory_limit=64 * 1024)
    with pytest.raises(ensemble.EnsembleError) as caught:
        session.run("segment big = [count(purchases) >= 1 and sum(purchases.amount) > 0];\n"
                    "big;")
    assert isinstance(caught.value, (ensemble.MemoryLimitError, ensemble.DataError))
    assert "memory" in str(caught.value).lower()


def test_a_script_file_over_the_limit_is_refused_cleanly(session, tmp_path):
    # 16 MiB and one byte of NUL bytes (a sparse file): read as the command line reads
    # scripts, it fails at the limit before anything is parsed.
    big = tmp_path / "big.seg"
    with open(big, "wb") as out:
        out.truncate(16 * 1024 * 1024 + 1)
    with pytest.raises(ensemble.DataError) as caught:
        session.run_file(big)
    message = str(caught.value)
    assert "big.seg" in message
    assert "larger than the 16 MiB limit" in message, message
    # The session still works.
    assert session.evaluate("vip").count > 0
