"""SQL over stored trial results with DuckDB (views ``trajectories`` and ``endpoints``).

The user's SQL runs in a sandbox, because a results folder may be queried by someone
who should not read or write anything else (a shared service tomorrow):

* one ``SELECT`` (or ``EXPLAIN``) statement only: no ``COPY``, ``ATTACH``, ``INSTALL``,
  ``LOAD``, ``SET``, ``CREATE`` or ``PRAGMA``;
* DuckDB's file access is limited to the run's own Parquet files
  (``allowed_directories``/``allowed_paths``, then ``enable_external_access = false``),
  extensions are never loaded, and ``lock_configuration`` freezes all of this;
* the views read an explicit list of the run's files (glob characters in the folder's
  name are escaped), so a folder named ``r*`` never reads its sibling ``run``;
* memory is capped (:data:`MEMORY_LIMIT`) and at most ``limit`` rows
  (:data:`ROW_LIMIT` by default) are fetched, streamed in batches, so
  ``SELECT * FROM range(100000000)`` costs milliseconds and says it was cut;
* time is capped: a query still running after :data:`QUERY_TIMEOUT_S` seconds (wall
  clock) is interrupted, a one-line error.

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

import threading
from pathlib import Path

import pandas as pd

from dermatwin.execution.base import ExecutionError

VIEWS = ("trajectories", "endpoints")
#: rows returned at most unless ``limit`` says otherwise (``--limit``)
ROW_LIMIT = 10_000
#: the largest ``limit`` accepted (rows are held in memory to be printed)
MAX_ROW_LIMIT = 1_000_000
#: DuckDB's memory budget for one query
MEMORY_LIMIT = "1GB"
#: seconds (wall clock) a query may run before it is interrupted
QUERY_TIMEOUT_S = 60.0
#: characters DuckDB expands in a file name (``[c]`` matches ``c`` literally)
_GLOB_CHARS = "*?["
#: statement kinds that only read
_READ_ONLY = ("SELECT", "EXPLAIN")


def _short(value: object, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _source(folder: Path, name: str) -> list[Path]:
    """The Parquet files of one table: the chunk dataset (``NAME/*/*.parquet``), else the
    single file ``NAME.parquet``, else none. Listed here (the folder's own name is taken
    literally), so DuckDB is given files, not a pattern."""
    chunked = sorted((folder / name).glob("*/*.parquet"))
    if chunked:
        return chunked
    single = folder / f"{name}.parquet"
    return [single] if single.is_file() else []


def _escaped(path: Path | str) -> str:
    """``path`` as a DuckDB file pattern that matches that one file: DuckDB expands
    ``*``, ``?`` and ``[`` in any file name, so each is put in brackets."""
    return "".join(f"[{c}]" if c in _GLOB_CHARS else c for c in str(path))


def _literal(path: Path) -> str:
    """``path`` as a DuckDB string literal (:func:`_escaped`, quoted)."""
    return "'" + _escaped(path).replace("'", "''") + "'"


def connect(folder: Path, memory_limit: str = MEMORY_LIMIT):
    """A sandboxed DuckDB connection with the result tables of ``folder`` as views: it can
    read those files and nothing else, and its settings are locked."""
    import duckdb

    folder = Path(folder)
    if not folder.is_dir():
        raise ExecutionError(f"FOLDER: {_short(folder)} is not a results folder")
    folder = folder.resolve()
    sources = {name: files for name in VIEWS if (files := _source(folder, name))}
    if not sources:
        raise ExecutionError(
            f"FOLDER: {_short(folder)} has no trial results (trajectories/ or endpoints/ "
            "Parquet files)"
        )
    con = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
        }
    )
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        # DuckDB checks the name it was given (escaped) and each file it opens
        allowed = {str(p) for files in sources.values() for p in files}
        allowed |= {_escaped(p) for p in allowed}
        con.execute("SET allowed_paths = ?", [sorted(allowed)])
        for name, files in sources.items():
            listed = ", ".join(_literal(p) for p in files)
            # the arm is a column of every file, so the arm=... folders are not parsed
            con.execute(
                f"CREATE VIEW {name} AS SELECT * FROM "
                f"read_parquet([{listed}], hive_partitioning = false, union_by_name = true)"
            )
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def _statement(con, sql: str):
    """The one read-only statement in ``sql`` (else a one-line error)."""
    if not isinstance(sql, str) or not sql.strip():
        raise ExecutionError("SQL: empty query; give one SELECT statement")
    statements = con.extract_statements(sql)
    if not statements:
        raise ExecutionError("SQL: empty query; give one SELECT statement")
    if len(statements) > 1:
        raise ExecutionError(f"SQL: {len(statements)} statements; give one SELECT statement")
    kind = statements[0].type.name
    if kind not in _READ_ONLY:
        raise ExecutionError(
            f"SQL: {kind} statements are not allowed; only SELECT (or EXPLAIN) queries "
            "over the views endpoints and trajectories"
        )
    return statements[0]


def query_results(folder: Path, sql: str, limit: int = ROW_LIMIT) -> pd.DataFrame:
    """Run ``sql`` over the results in ``folder``: at most ``limit`` rows, and
    ``frame.attrs["truncated"]`` is True when the query had more. A bad query or folder
    is a one-line error."""
    import duckdb

    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_ROW_LIMIT:
        raise ExecutionError(
            f"limit: {_short(limit)}; allowed: 1 to {MAX_ROW_LIMIT:,} rows", parameter="limit"
        )
    con = None
    try:
        con = connect(folder)  # creating the views reads the files: a corrupt one fails here
        _statement(con, sql)
        timer = threading.Timer(QUERY_TIMEOUT_S, con.interrupt)
        timer.daemon = True
        timer.start()
        try:
            # a limit on the relation lets DuckDB stop early (streaming, or a top-n sort),
            # keeps the query's order and converts types as an unlimited .df() would
            frame = con.sql(sql).limit(limit + 1).df()
        finally:
            timer.cancel()
        truncated = len(frame) > limit
        frame = frame.iloc[:limit]
        frame.attrs["truncated"] = truncated
        return frame
    except duckdb.InterruptException:
        raise ExecutionError(
            f"SQL: the query ran longer than {QUERY_TIMEOUT_S:g} s (the limit) and was "
            "stopped; narrow it (WHERE, fewer rows or columns)"
        ) from None
    except duckdb.PermissionException as err:
        raise ExecutionError(
            f"SQL: only the views endpoints and trajectories can be read ({_first_line(err)})"
        ) from None
    except duckdb.Error as err:
        raise ExecutionError(f"SQL: {_first_line(err)}") from None
    finally:
        if con is not None:
            con.close()


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return _short(text.splitlines()[0] if text else type(err).__name__, 300)
