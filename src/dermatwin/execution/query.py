"""SQL over stored trial results with DuckDB (views ``trajectories`` and ``endpoints``).

A results folder is what ``dermatwin trial run`` writes (e.g. ``results/kim2017``); here a
stand-in with one small ``endpoints.parquet``:

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     rows = pd.DataFrame({"arm": ["MSC", "MSC", "placebo"], "value": [1.0, 2.0, 3.0]})
...     rows.to_parquet(Path(tmp) / "endpoints.parquet")
...     sql = "SELECT arm, count(*) AS n FROM endpoints GROUP BY arm ORDER BY arm"
...     print(query_results(tmp, sql).to_string(index=False))
    arm  n
    MSC  2
placebo  1
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dermatwin.execution.base import ExecutionError

VIEWS = ("trajectories", "endpoints")


def _source(folder: Path, name: str) -> str | None:
    """The Parquet files of one table: the chunk dataset, else the single file."""
    if any((folder / name).glob("*/*.parquet")):
        return str(folder / name / "*" / "*.parquet")
    if (folder / f"{name}.parquet").exists():
        return str(folder / f"{name}.parquet")
    return None


def connect(folder: Path, memory_limit: str = "1GB"):
    """A DuckDB connection with the result tables of ``folder`` registered as views."""
    import duckdb

    folder = Path(folder)
    if not folder.is_dir():
        raise ExecutionError(f"DIR: {folder} is not a results folder")
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    found = []
    for name in VIEWS:
        src = _source(folder, name)
        if src is not None:
            quoted = src.replace("'", "''")
            # the arm is a column of every file, so the arm=... folders are not parsed
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM "
                f"read_parquet('{quoted}', hive_partitioning = false, union_by_name = true)"
            )
            found.append(name)
    if not found:
        raise ExecutionError(
            f"DIR: {folder} has no trial results (trajectories/ or endpoints/ Parquet files)"
        )
    return con


def query_results(folder: Path, sql: str) -> pd.DataFrame:
    """Run ``sql`` over the results in ``folder``; a bad query is a one-line error."""
    import duckdb

    con = None
    try:
        con = connect(folder)  # creating the views reads the files: a corrupt one fails here
        return con.execute(sql).df()
    except duckdb.Error as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ExecutionError(f"SQL: {first}") from None
    finally:
        if con is not None:
            con.close()
