"""Running virtual trials: determinism across chunking, failures, outputs, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from conftest import small_ad_trial
from typer.testing import CliRunner

from dermatwin.cli import app
from dermatwin.trials.run import run_trial
from dermatwin.trials.spec import TrialSpec

SPEC = small_ad_trial(8)


@pytest.fixture(scope="module")
def result():
    return run_trial(TrialSpec.model_validate(SPEC))


def test_drug_beats_background_placebo(result):
    arms = result.summary["arms"]
    assert arms["dupilumab"]["EASI-50@8w"]["n"] == 12
    assert (
        arms["dupilumab"]["mean_pct_change:EASI@8w"]["estimate"]
        < arms["placebo"]["mean_pct_change:EASI@8w"]["estimate"] - 10
    )
    json.dumps(result.summary, allow_nan=False)


def test_results_do_not_depend_on_chunk_size(result):
    other = run_trial(TrialSpec.model_validate({**SPEC, "chunk_size": 5}))
    assert other.summary == result.summary
    np.testing.assert_array_equal(
        other.trajectories["value"].to_numpy(), result.trajectories["value"].to_numpy()
    )


def test_seed_changes_the_draws(result):
    other = run_trial(TrialSpec.model_validate(SPEC), seed=5)
    assert other.summary != result.summary


def test_cli_json_is_bit_identical_and_output_complete(tmp_path):
    path = tmp_path / "trial.yaml"
    path.write_text(yaml.safe_dump({**SPEC, "arms": {"placebo": {"n": 4}, "b": {"n": 4}}}))
    runner = CliRunner()
    outs = []
    for k in range(2):
        res = runner.invoke(app, ["trial", "run", str(path), "--json", "--out", f"{tmp_path}/o{k}"])
        assert res.exit_code == 0, res.output
        outs.append(res.stdout)
    assert outs[0] == outs[1]
    parsed = json.loads(outs[0])
    assert set(parsed["arms"]) == {"placebo", "b"}
    files = {p.name for p in (tmp_path / "o0").iterdir()}
    assert {"report.html", "summary.json", "manifest.json", "trajectories.parquet"} <= files


def test_cli_bad_trial_leaves_no_output(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**SPEC, "arms": {"a": {"n": 2, "regimen": [{"drug": "x"}]}}}))
    res = CliRunner().invoke(app, ["trial", "run", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "unknown drug 'x'" in res.stderr and res.stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_relapse_times_by_hand():
    from dermatwin.trials.run import relapse_times

    times = np.array([0.0, 10.0, 20.0, 30.0, 40.0])
    primary = np.array(
        [
            [20.0, 10.0, 12.0, 16.0, 18.0],  # improved by 10; limit 15 crossed at day 30
            [20.0, 10.0, 11.0, 12.0, 13.0],  # never back above 15: censored at day 40
            [20.0, 22.0, 25.0, 25.0, 25.0],  # never improved: nothing to measure
        ]
    )
    t, event = relapse_times(primary, times, start=10.0, fraction=0.5)
    assert t[:2].tolist() == [20.0, 30.0] and event[:2].tolist() == [1.0, 0.0]
    assert np.isnan(t[2]) and np.isnan(event[2])
