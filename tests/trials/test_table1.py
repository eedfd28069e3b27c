"""Baseline-matched trials: Table 1 in the summary, report and terminal; same whatever the
split; trials without ``population.baseline`` unchanged."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from rich.console import Console
from support import small_ad_trial

from dermatwin.cli_tables import print_baseline
from dermatwin.trials.run import run_trial
from dermatwin.trials.spec import TrialError, TrialSpec, load_trial
from dermatwin.trials.streaming import run_trial_to

BASELINE = {"EASI": {"mean": 26.0, "sd": 8.0}, "IGA": {"shares": {3: 0.3, 4: 0.7}}}


def spec(**population) -> TrialSpec:
    data = small_ad_trial(4, name="matched", seed=5, chunk_size=5)
    data["population"] = {**data["population"], **population}
    for arm in data["arms"].values():
        arm["n"] = 8
    return TrialSpec.model_validate(data)


@pytest.fixture(scope="module")
def matched():
    return run_trial(spec(baseline=BASELINE, baseline_pilot=300))


def test_summary_has_table_1_with_the_targets(matched):
    table = matched.summary["baseline"]
    assert table["targets"]["EASI"] == {"mean": 26.0, "sd": 8.0}
    easi = table["arms"]["placebo"]["EASI"]
    rows = matched.endpoints[matched.endpoints["arm"] == "placebo"]["baseline_EASI"]
    assert easi["n"] == 8 and easi["mean"] == pytest.approx(rows.mean())
    assert sum(table["arms"]["dupilumab"]["IGA"]["shares"].values()) == pytest.approx(1)
    # Table 1 is the first visit's observed scores: the trajectories at time 0
    traj = matched.trajectories
    first = traj[(traj["time"] == 0) & (traj["variable"] == "EASI") & (traj["arm"] == "placebo")]
    assert sorted(first["value"]) == pytest.approx(sorted(rows))


def test_streamed_run_equals_the_in_memory_run(matched, tmp_path):
    result = run_trial_to(spec(baseline=BASELINE, baseline_pilot=300), tmp_path / "out")
    pd.testing.assert_frame_equal(result.endpoints, matched.endpoints)
    assert json.dumps(result.summary, allow_nan=False) == json.dumps(matched.summary)
    report = (tmp_path / "out" / "report.html").read_text()
    assert "target (population.baseline)" in report and "26 \u00b1 8" in report


def test_terminal_prints_table_1(matched):
    out = io.StringIO()
    table = json.loads(json.dumps(matched.summary["baseline"]))  # as summary.json holds it
    print_baseline(Console(file=out, width=120), table)
    text = out.getvalue()
    assert "baseline (Table 1" in text and "26 \u00b1 8" in text and "3: 30 %, 4: 70 %" in text


def test_trial_without_baseline_has_no_table_1_columns():
    result = run_trial(spec())
    assert "baseline" not in result.summary
    assert not [c for c in result.endpoints.columns if c.startswith("baseline_")]


def test_bad_baseline_is_one_line_naming_the_field(tmp_path):
    path = tmp_path / "t.yaml"
    data = json.loads(spec().model_dump_json())
    data["population"]["baseline"] = {"EASI": {"mean": 30}}
    path.write_text(json.dumps(data))
    with pytest.raises(TrialError, match=r"population\.baseline\.EASI") as err:
        load_trial(path)
    assert "\n" not in str(err.value)
