"""CLI output in an 80-column terminal: no line wider, no name cut with an ellipsis.

Rich reads the width from ``COLUMNS`` when a command creates its Console, so the tests set
it before calling :func:`dermatwin.cli.main`. Small trials (6 patients per arm) keep each
run to seconds once the model's kernel is compiled.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from dermatwin.cli import main
from dermatwin.cli_tables import print_power, print_relapse, print_trial_summary

WIDTH = 80
DEMO = Path(__file__).parent.parent / "examples" / "trials" / "kim2017_hucbmsc_ad.yaml"
LONG_ARMS = {"low_dose": "low_dose_msc", "high_dose": "high_dose_msc", "placebo": "placebo_vehicle"}


def run_cli(args: list[str], capsys, monkeypatch) -> str:
    """stdout of ``dermatwin ARGS`` in an 80-column terminal (exit code 0)."""
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    with pytest.raises(SystemExit) as done:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert done.value.code == 0, err
    return out


def assert_fits(out: str, names) -> None:
    """No line wider than the terminal, no ellipsis, every name whole on one line."""
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= WIDTH, out
    assert "…" not in out and "..." not in out, out
    for name in names:
        assert any(name in line for line in lines), f"{name!r} not whole in:\n{out}"


def demo_spec(n: int, *, rename: dict[str, str] | None = None, weeks: int | None = None):
    """The demo trial (``make demo``) with ``n`` patients per arm, arms renamed, and
    optionally shortened to ``weeks`` (endpoints moved to that week)."""
    spec = yaml.safe_load(DEMO.read_text())
    rename = rename or {}
    spec["arms"] = {rename.get(k, k): {**a, "n": n} for k, a in spec["arms"].items()}
    spec["reference_arm"] = rename.get(spec["reference_arm"], spec["reference_arm"])
    spec.pop("reference_rows", None)
    if weeks is not None:
        spec["duration"] = f"{weeks} weeks"
        spec["endpoints"] = [e.replace("@12w", f"@{weeks}w") for e in spec["endpoints"]]
    return spec


def write(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / "trial.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def long_arm_run(tmp_path_factory):
    """The demo trial with long arm names, 6 per arm, 4 weeks: (spec, stdout, folder)."""
    tmp = tmp_path_factory.mktemp("long_arms")
    spec = demo_spec(6, rename=LONG_ARMS, weeks=4)
    args = ["trial", "run", write(tmp, spec), "--out", tmp / "o"]
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(io.StringIO()) as out:
        mp.setenv("COLUMNS", str(WIDTH))
        with pytest.raises(SystemExit) as done:
            main([str(a) for a in args])
    assert done.value.code == 0
    return spec, out.getvalue(), tmp / "o"


def test_trial_run_with_long_arm_names_fits_80_columns(long_arm_run):
    spec, out, _ = long_arm_run
    assert_fits(out, [*spec["arms"], *spec["endpoints"]])
    # the difference of each arm vs the reference, with its CI and p-value
    assert "difference vs placebo_vehicle" in out and "p = " in out


def test_query_endpoint_columns_in_double_quotes(long_arm_run, capsys, monkeypatch):
    """Endpoint columns keep the trial's names; SQL selects them as "quoted" identifiers
    (docs/scale.md), and a table wider than the terminal folds instead of an ellipsis."""
    spec, _, folder = long_arm_run
    sql = 'SELECT arm, avg("mean_pct_change:EASI@4w") AS pct FROM endpoints GROUP BY arm'
    rows = json.loads(run_cli(["results", "query", folder, sql, "--json"], capsys, monkeypatch))
    summary = json.loads((folder / "summary.json").read_text())
    assert sorted(r["arm"] for r in rows) == sorted(spec["arms"])
    for row in rows:
        expected = summary["arms"][row["arm"]]["mean_pct_change:EASI@4w"]["estimate"]
        assert row["pct"] == pytest.approx(expected)
    columns = ", ".join(f'"{e}"' for e in spec["endpoints"] if e.startswith("mean_pct"))
    wide = f"SELECT arm, patient, {columns} FROM endpoints ORDER BY arm, patient"
    out = run_cli(["results", "query", folder, wide], capsys, monkeypatch)
    assert_fits(out, [])


def test_demo_trial_fits_80_columns(tmp_path, capsys, monkeypatch):
    """`COLUMNS=80 make demo`, with 6 patients per arm instead of 100."""
    spec = demo_spec(6)
    args = ["trial", "run", write(tmp_path, spec), "--out", tmp_path / "o"]
    out = run_cli(args, capsys, monkeypatch)
    assert_fits(out, [*spec["arms"], *spec["endpoints"]])
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    low = summary["arms"]["low_dose"]["EASI-50@12w"]
    assert f"{low['ci'][0]:.1f} to {low['ci'][1]:.1f}" in out


def test_trial_power_prints_a_table(tmp_path, capsys, monkeypatch):
    spec = demo_spec(4, rename=LONG_ARMS, weeks=4)
    args = ["trial", "power", write(tmp_path, spec), "--endpoint", "EASI-50@4w"]
    out = run_cli([*args, "--replicates", "2"], capsys, monkeypatch)
    assert_fits(out, ["EASI-50@4w", *(f"n {arm}" for arm in spec["arms"])])
    assert "{" not in out  # a table, not JSON
    assert "95 % CI" in out and "of 2" in out


def test_simulate_prints_endpoints_as_rows(tmp_path, capsys, monkeypatch):
    scenario = {
        "model": "miyano2021",
        "horizon": "4 weeks",
        "output_every": "1 week",
        "patients": {"n": 5, "seed": 1, "variability": "lognormal"},
        "arms": {
            "placebo_vehicle": {"treatments": [{"intervention": "placebo", "start": 0}]},
            "dupilumab_300mg_q2w": {"treatments": [{"intervention": "dupilumab", "start": 0}]},
        },
        "outputs": ["EASI"],
        "endpoints": ["EASI-50@4w", "EASI-75@4w", "mean_pct_change:EASI@4w"],
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario))
    out = run_cli(["simulate", path, "--out", tmp_path / "o"], capsys, monkeypatch)
    assert_fits(out, [*scenario["arms"], *scenario["endpoints"]])


# ---- the printing functions alone (no simulation) -------------------------------------


def rendered(draw, width: int = WIDTH) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    draw(console)
    return console.export_text()


def synthetic_summary(arms: list[str], endpoints: list[str]) -> dict:
    est = {"estimate": -46.04, "ci": [-65.91, -27.33], "n": 6, "excluded": 0}
    diff = {"difference": -12.2, "ci": [-44.7, 20.2], "p_value": 0.0004}
    return {
        "arms": {a: {e: est for e in endpoints} for a in arms},
        "comparisons": [
            {"endpoint": e, "arm": a, "reference": arms[0], **diff}
            for a in arms[1:]
            for e in endpoints
        ],
    }


def test_many_arms_are_split_into_tables_that_fit():
    arms = ["placebo_vehicle"] + [f"msc_dose_{k}e7_cells" for k in range(1, 7)]
    endpoints = ["EASI-75@16w", "mean_pct_change:pruritus_NRS@16w"]
    summary = synthetic_summary(arms, endpoints)
    out = rendered(lambda c: print_trial_summary(c, summary, endpoints))
    assert_fits(out, [*arms, *endpoints])
    assert out.count("estimate (95 % CI)") > 1  # split into groups of arms
    assert "-46.0" in out and "-65.9 to -27.3" in out and "p < 0.001" in out
    # wide enough, one table each
    wide = rendered(lambda c: print_trial_summary(c, summary, endpoints), width=400)
    assert wide.count("estimate (95 % CI)") == 1


def test_a_name_wider_than_the_terminal_folds_instead_of_an_ellipsis():
    arm = "an_arm_name_much_longer_than_any_terminal_is_wide_" * 2
    summary = synthetic_summary(["placebo", arm], ["EASI-75@16w"])
    out = rendered(lambda c: print_trial_summary(c, summary, ["EASI-75@16w"]))
    assert max(len(line) for line in out.splitlines()) <= WIDTH
    assert "…" not in out
    assert arm in "".join(line.strip() for line in out.splitlines())


def test_power_search_table():
    result = {
        "endpoint": "EASI-75@16w",
        "alpha": 0.05,
        "target": 0.8,
        "n_per_arm": 34,
        "power": 0.82,
        "evaluated": [[2, 0.1], [34, 0.82], [1000, 1.0]],
    }
    out = rendered(lambda c: print_power(c, result))
    assert "smallest n per arm with power >= 0.8: 34 (power 0.82)" in out
    assert_fits(out, ["EASI-75@16w"])


def test_relapse_is_a_readable_table():
    relapse = {
        "last_dose_day": 238.0,
        "responders_at_last_dose": 10,
        "probability_of_relapse": 0.6,
        "median_days_to_relapse": 161.0,
        "follow_up_days": 378.0,
        "failed_draws": 0,
    }
    out = rendered(lambda c: print_relapse(c, relapse))
    assert "{" not in out and "day 238" in out and "60 %" in out and "161 days" in out
    assert "failed draws" not in out
    none = rendered(lambda c: print_relapse(c, {"last_dose_day": None, "failed_draws": 2}))
    assert "no dose" in none and "failed draws" in none
