"""The guide (docs/python.md) and the README's Python example run as written: their outputs
are what the code prints."""

import doctest
import shutil

import pytest

from support import ROOT

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("page", ["docs/python.md", "README.md"])
def test_the_page_runs_as_written(page, tmp_path, monkeypatch):
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "loyalty.seg", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(str(ROOT / page), module_relative=False, optionflags=FLAGS,
                              encoding="utf-8")
    assert result.failed == 0
    assert result.attempted >= 5
