"""`results query`: the user's SQL reads the run's own tables and nothing else, bounded."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from dermatwin.cli import app
from dermatwin.execution import ExecutionError
from dermatwin.results import query
from dermatwin.results.query import ROW_LIMIT, query_results


@pytest.fixture
def run(tmp_path):
    """A results folder as a streamed run leaves it (chunked endpoints, one trajectory file)."""
    folder = tmp_path / "run"
    for arm, chunk in [("a", 0), ("a", 1), ("b", 0)]:
        part = folder / "endpoints" / f"arm={arm}" / f"chunk-{chunk:05d}.parquet"
        part.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"arm": [arm] * 2, "patient": [2 * chunk, 2 * chunk + 1]}).to_parquet(part)
    traj = pd.DataFrame({"arm": ["a"] * 3, "variable": ["EASI"] * 3, "value": [1.0, 2.0, 4.0]})
    traj.to_parquet(folder / "trajectories.parquet")
    return folder


def one_line_error(folder, sql, *extra):
    res = CliRunner().invoke(app, ["results", "query", str(folder), sql, *extra])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    return res.stderr


def test_the_runs_tables_are_readable(run):
    frame = query_results(run, "SELECT arm, count(*) AS n FROM endpoints GROUP BY arm ORDER BY arm")
    assert frame.to_dict("records") == [{"arm": "a", "n": 4}, {"arm": "b", "n": 2}]
    assert not frame.attrs["truncated"]
    assert query_results(run, "SELECT sum(value) AS v FROM trajectories")["v"].item() == 7.0


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv('{run}/endpoints/../../../../../../etc/passwd')",
        "SELECT * FROM read_parquet('{run}/../other.parquet')",
    ],
)
def test_files_outside_the_run_cannot_be_read(run, sql):
    pd.DataFrame({"secret": [1]}).to_parquet(run.parent / "other.parquet")
    message = one_line_error(run, sql.format(run=run))
    assert "error: SQL: only the views endpoints and trajectories can be read" in message
    assert "root:" not in message and "secret" not in message


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("COPY endpoints TO '{run}/endpoints/arm=a/x.csv'", "COPY"),
        ("COPY (SELECT 1) TO '{run}/../escape.csv'", "COPY"),
        ("ATTACH '{run}/endpoints/x.duckdb' AS x", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),
        ("LOAD httpfs", "LOAD"),
        ("SET enable_external_access = true", "SET"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
        ("EXPORT DATABASE '{run}/endpoints/dump'", "EXPORT"),
    ],
)
def test_statements_that_write_or_reconfigure_are_refused(run, sql, kind):
    before = sorted(p.relative_to(run) for p in run.rglob("*"))
    message = one_line_error(run, sql.format(run=run))
    assert message.startswith(f"error: SQL: {kind} statements are not allowed; only SELECT")
    assert sorted(p.relative_to(run) for p in run.rglob("*")) == before
    assert not (run.parent / "escape.csv").exists()  # nothing written outside the run


@pytest.mark.parametrize("sql", ["", "   ", " ; ", "/* a comment */"])
def test_empty_sql_is_one_line(run, sql):
    assert one_line_error(run, sql) == "error: SQL: empty query; give one SELECT statement\n"


def test_several_statements_are_refused(run):
    assert "2 statements" in one_line_error(run, "SELECT 1; SELECT 2")


def test_huge_results_are_cut_at_the_row_limit(run):
    frame = query_results(run, "SELECT * FROM range(100000000)")
    assert len(frame) == ROW_LIMIT and frame.attrs["truncated"]
    assert frame["range"].iloc[-1] == ROW_LIMIT - 1
    res = CliRunner().invoke(
        app,
        ["results", "query", str(run), "SELECT * FROM range(100000000)", "--json", "--limit", "3"],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [{"range": 0}, {"range": 1}, {"range": 2}]
    assert "showing the first 3 (--limit)" in res.stderr


def test_order_is_kept_under_the_limit(run):
    frame = query_results(run, "SELECT * FROM range(50000) ORDER BY range DESC", limit=5)
    assert frame["range"].tolist() == [49999, 49998, 49997, 49996, 49995]


@pytest.mark.parametrize("limit", ["0", "-1", "1000001"])
def test_bad_limit_is_one_line(run, limit):
    # the library names the parameter, the command line its flag
    assert f"--limit: {limit}; allowed: 1 to 1,000,000 rows" in one_line_error(
        run, "SELECT 1", "--limit", limit
    )


def test_a_folder_without_results_is_one_line(tmp_path, run):
    (tmp_path / "empty").mkdir()
    assert "has no trial results" in one_line_error(tmp_path / "empty", "SELECT 1")
    assert "is not a results folder" in one_line_error(run / "trajectories.parquet", "SELECT 1")
    with pytest.raises(ExecutionError, match="is not a results folder"):
        query_results(tmp_path / "missing", "SELECT 1")


@pytest.mark.parametrize("name", ["r*", "r?n", "[r]un"])
def test_a_folder_name_with_glob_characters_reads_only_its_own_files(run, name):
    """The views list the run's files: a folder named ``r*`` never reads ``run``'s."""
    own = run.parent / name
    part = own / "endpoints" / "arm=z" / "chunk-00000.parquet"
    part.parent.mkdir(parents=True)
    pd.DataFrame({"arm": ["z"], "patient": [0]}).to_parquet(part)
    pd.DataFrame({"arm": ["z"], "value": [5.0]}).to_parquet(own / "trajectories.parquet")
    frame = query_results(own, "SELECT arm, count(*) AS n FROM endpoints GROUP BY arm")
    assert frame.to_dict("records") == [{"arm": "z", "n": 1}]
    assert query_results(own, "SELECT sum(value) AS v FROM trajectories")["v"].item() == 5.0


def test_a_query_running_too_long_is_stopped_in_one_line(run, monkeypatch):
    monkeypatch.setattr(query, "QUERY_TIMEOUT_S", 0.2)
    message = one_line_error(run, "SELECT sum(range * 2) FROM range(1000000000000)")
    assert message.startswith("error: SQL: the query ran longer than 0.2 s (the limit)")
