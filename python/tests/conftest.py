"""A generated datamart shared by the package's tests, and fresh sessions on it."""

from pathlib import Path

import pytest

import ensemble
from support import CUSTOMERS, SCRIPT


@pytest.fixture(scope="session")
def datamart(tmp_path_factory):
    """The catalog of a 3 000-customer datamart and the loyalty team's script beside it."""
    out = tmp_path_factory.mktemp("mart")
    catalog = ensemble.generate(out, customers=CUSTOMERS, seed=7)
    script = out / "loyalty.seg"
    script.write_text(SCRIPT)
    return Path(catalog), script


@pytest.fixture
def session(datamart):
    """A fresh session with the loyalty script's definitions."""
    catalog, _ = datamart
    s = ensemble.open(catalog)
    s.define(SCRIPT)
    return s
