"""Type stubs of ensemble's native module (re-exported by the ``ensemble`` package)."""

from __future__ import annotations

import datetime
import os
import pathlib
from typing import Any, Optional, Union

__version__: str

DateLike = Union[datetime.date, str]
PathLike = Union[str, os.PathLike[str]]

class EnsembleError(Exception):
    """Base class of every error ensemble raises."""

    line: Optional[int]
    column: Optional[int]
    rendered: str

class ScriptError(EnsembleError):
    """The script is wrong: a syntax error, an unknown name, a type, a cycle."""

    line: Optional[int]
    column: Optional[int]
    origin: str
    message: str
    help: Optional[str]
    rendered: str

class UnknownNameError(ScriptError):
    """A step or segment name that does not exist."""

    suggestion: Optional[str]

class CatalogError(EnsembleError):
    """The catalog file is wrong or names something that does not exist."""

class DataError(EnsembleError):
    """Reading or writing data failed: a file, a plan, DataFusion's execution, a chart."""

class MemoryLimitError(DataError):
    """The work needed more memory than the session's limit and could not spill."""

class ReadOnlyError(EnsembleError):
    """A SQL statement that would change the catalog or write a file."""

class ConfigError(EnsembleError):
    """A setting is wrong (a memory limit, for example)."""

class CancelledError(EnsembleError):
    """The call was stopped by ``Session.interrupt()``; nothing changed."""

class InternalError(EnsembleError):
    """A bug of ensemble (a Rust panic, caught): please report it."""

def open(path: PathLike, *, memory_limit: Union[int, str, None] = None) -> Session:
    """Opens a session on the catalog file at ``path`` (``ensemble.toml``).

    ``memory_limit`` bounds the query operators' memory (bytes, or text such as ``"8G"``).
    """

def generate(
    directory: PathLike,
    *,
    customers: int = 10_000,
    seed: int = 1,
    as_of: Optional[DateLike] = None,
    overwrite: bool = False,
) -> pathlib.Path:
    """Generates a realistic loyalty datamart (Parquet + ``ensemble.toml``) into
    ``directory`` and returns the catalog file's path."""

class Table:
    """Arrow data (a SQL result, a step's members, a report's table).

    ``pyarrow.table(t)``, ``polars.DataFrame(t)`` and ``duckdb.sql("FROM t")`` read it
    through ``__arrow_c_stream__``.
    """

    @property
    def num_rows(self) -> int: ...
    @property
    def column_names(self) -> list[str]: ...
    def to_pyarrow(self) -> Any:
        """A ``pyarrow.Table`` (pyarrow must be installed)."""
    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame``, through pyarrow."""
    def to_polars(self) -> Any:
        """A ``polars.DataFrame``."""
    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...
    def __arrow_c_schema__(self) -> object: ...
    def __len__(self) -> int: ...
    def _repr_html_(self) -> str: ...

class Step:
    """One materialised step: ``all``, a criterion leaf, or a set operation."""

    @property
    def id(self) -> int:
        """1-based id (``3`` for ``#3``), children before parents."""
    @property
    def label(self) -> str: ...
    @property
    def names(self) -> list[str]:
        """Segment (or tier) names that denote the step."""
    @property
    def table(self) -> str:
        """The SQL table of the step (``step_3``) while its evaluation is the last."""
    @property
    def kind(self) -> str:
        """``"all"``, ``"criterion"`` or ``"set"``."""
    @property
    def operation(self) -> Optional[tuple[str, list[int]]]:
        """For a set operation: ``(symbol, operand ids)``, every operand of a union,
        intersection or symmetric difference listed."""
    @property
    def expression(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def elapsed(self) -> float:
        """Seconds spent computing it (zero when reused)."""
    @property
    def reused(self) -> bool: ...
    @property
    def plan(self) -> str:
        """The DataFusion logical plan that computed it."""
    @property
    def members(self) -> Table: ...
    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...
    def __arrow_c_schema__(self) -> object: ...
    def __len__(self) -> int: ...

class Evaluation:
    """The members of a set expression and every step that computed them.

    ``pyarrow.table(ev)`` and ``polars.DataFrame(ev)`` read the members.
    """

    @property
    def count(self) -> int: ...
    @property
    def as_of(self) -> datetime.date: ...
    @property
    def expression(self) -> str: ...
    @property
    def key(self) -> str:
        """The universe key column."""
    @property
    def elapsed(self) -> float:
        """Total wall time in seconds."""
    @property
    def members(self) -> Table: ...
    @property
    def steps(self) -> list[Step]: ...
    @property
    def root(self) -> Step: ...
    def step(self, which: Union[int, str]) -> Step:
        """A step by id (``3``) or by a name that denotes it (``"vip"``)."""
    def steps_table(self) -> Table:
        """One row per step: id, step, label, kind, operator, operands, expression, members,
        elapsed_ms, reused, plan (the steps table the server's ``steps`` shows too)."""
    @property
    def tree(self) -> str:
        """The step tree with counts."""
    @property
    def notes(self) -> list[str]: ...
    @property
    def partitions(self) -> dict[str, dict[str, int]]:
        """``{partition: {tier: members}}`` for the partitions computed."""
    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...
    def __arrow_c_schema__(self) -> object: ...
    def __len__(self) -> int: ...
    def _repr_html_(self) -> str: ...

class Why:
    """Why a member is in or out of an expression."""

    @property
    def key(self) -> str: ...
    @property
    def expression(self) -> str: ...
    @property
    def is_member(self) -> bool: ...
    @property
    def in_universe(self) -> bool: ...
    @property
    def values(self) -> dict[str, str]:
        """Every value the leaves read for this member, as text."""
    @property
    def membership(self) -> dict[int, bool]:
        """``{step id: in}``."""
    @property
    def evaluation(self) -> Evaluation: ...
    def __bool__(self) -> bool: ...
    def _repr_html_(self) -> str: ...

class Report:
    """What a report statement found: tables (Arrow data) and a chart."""

    @property
    def kind(self) -> str: ...
    @property
    def statement(self) -> str: ...
    @property
    def as_of(self) -> datetime.date: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def heading(self) -> str: ...
    @property
    def notes(self) -> list[str]: ...
    @property
    def tables(self) -> dict[str, Table]: ...
    def table(self, name: Optional[str] = None) -> Table:
        """One table by name; the first without a name."""
    @property
    def has_chart(self) -> bool: ...
    def svg(self) -> Optional[str]:
        """The chart as an SVG document (None for snapshot and diff)."""
    def png(self) -> Optional[bytes]:
        """The chart as PNG bytes (None for snapshot and diff)."""
    def save_chart(self, path: PathLike) -> None:
        """Writes the chart (``.png`` or ``.svg``), atomically."""
    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...
    def __arrow_c_schema__(self) -> object: ...
    def _repr_html_(self) -> str: ...

class Run:
    """What a script did."""

    @property
    def defined(self) -> list[tuple[str, str]]:
        """``(kind, name)`` of each definition, ``("as of", date)`` for ``as of``."""
    @property
    def evaluations(self) -> list[Evaluation]: ...
    @property
    def reports(self) -> list[Report]: ...
    @property
    def last(self) -> Optional[Evaluation]: ...
    @property
    def notes(self) -> list[str]: ...
    def _repr_html_(self) -> str: ...

class Session:
    """A session over one catalog: definitions, the evaluation date, computed steps."""

    def run(self, script: str, *, origin: Optional[str] = None) -> Run:
        """Runs every statement of ``script`` in order; a failing one changes nothing."""
    def run_file(self, path: PathLike) -> Run: ...
    def define(self, script: str, *, origin: Optional[str] = None) -> None:
        """Applies definitions without evaluating anything."""
    def evaluate(self, expression: str, *, as_of: Optional[DateLike] = None) -> Evaluation:
        """Evaluates a set expression (at ``as_of`` when given, the session's date kept)."""
    def why(
        self, key: Union[int, str], expression: str, *, as_of: Optional[DateLike] = None
    ) -> Why: ...
    def report(self, statement: str) -> Report:
        """Runs a report statement: ``overlap``, ``kpi``, ``transition``, ``trend``…"""
    def sql(self, query: str) -> Table:
        """A read-only SQL query over the catalog's tables and the last evaluation's steps."""
    def explain(self, expression: str) -> str: ...
    @property
    def as_of(self) -> datetime.date: ...
    @as_of.setter
    def as_of(self, value: DateLike) -> None: ...
    @property
    def definitions(self) -> list[dict[str, Any]]: ...
    @property
    def script(self) -> str: ...
    @property
    def last(self) -> Optional[Evaluation]: ...
    @property
    def catalog(self) -> pathlib.Path: ...
    def reload(self) -> None: ...
    def interrupt(self) -> None:
        """Stops this session's running call from another thread (``CancelledError``)."""
