"""ensemble: customer segmentation with set theory over Parquet loyalty data.

Open a session on a catalog, define segments in the segment language, evaluate set
expressions; every step (each criterion and each set operation) is kept with its members,
count, time and plan. Members, steps, SQL results and report tables are Arrow data through the
Arrow PyCapsule interface: ``pyarrow.table(ev)``, ``polars.DataFrame(ev)``,
``duckdb.sql("FROM ev")`` read them without a copy through Python objects.

    import ensemble, polars
    session = ensemble.open(ensemble.generate("demo", customers=5_000))
    session.run("segment vip = [sum(purchases.amount within 12 months) >= 1000];")
    ev = session.evaluate("all - vip")
    polars.DataFrame(ev)

See docs/python.md for a walkthrough.
"""

from ._ensemble import (
    CancelledError,
    CatalogError,
    ConfigError,
    DataError,
    EnsembleError,
    Evaluation,
    InternalError,
    MemoryLimitError,
    ReadOnlyError,
    Report,
    Run,
    ScriptError,
    Session,
    Step,
    Table,
    UnknownNameError,
    Why,
    __version__,
    generate,
    open,
)

__all__ = [
    "CancelledError",
    "CatalogError",
    "ConfigError",
    "DataError",
    "EnsembleError",
    "Evaluation",
    "InternalError",
    "MemoryLimitError",
    "ReadOnlyError",
    "Report",
    "Run",
    "ScriptError",
    "Session",
    "Step",
    "Table",
    "UnknownNameError",
    "Why",
    "__version__",
    "generate",
    "open",
]
