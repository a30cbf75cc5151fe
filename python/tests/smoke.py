"""Run by tests/python/run.sh in a fresh virtual environment holding only the built wheel:
the package imports and works end to end without pyarrow, polars or pandas installed."""

import sys
import tempfile
from pathlib import Path

import ensemble

for reader in ("pyarrow", "polars", "pandas"):
    assert reader not in sys.modules, f"{reader} was imported by ensemble"

with tempfile.TemporaryDirectory() as directory:
    catalog = ensemble.generate(Path(directory) / "mart", customers=500)
    session = ensemble.open(catalog)
    session.define("segment clients = [has purchases within 12 months];")
    evaluation = session.evaluate("all - clients")
    assert 0 < evaluation.count < 500, evaluation.count
    assert hasattr(evaluation, "__arrow_c_stream__")
    try:
        session.evaluate("clients -")
    except ensemble.ScriptError as error:
        assert error.line == 1
    else:
        raise AssertionError("a ScriptError was expected")
print(f"ensemble {ensemble.__version__} from {Path(ensemble.__file__).parent}: "
      f"{evaluation.count} members of all - clients")
