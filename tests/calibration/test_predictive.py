import json
import shutil

import pytest
from support import with_draws
from typer.testing import CliRunner

from dermatwin.calibration.predictive import predict_trial
from dermatwin.calibration.targets import EXAMPLE_TRIALS
from dermatwin.cli import app
from dermatwin.params.parameter_set import CalibrationError, load_parameter_set
from dermatwin.trials.spec import load_trial

TRIAL = "phoenix1_ustekinumab_psoriasis.yaml"


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("predict") / TRIAL
    shutil.copy(EXAMPLE_TRIALS / TRIAL, path)
    path.write_text(path.read_text().replace("n: 200", "n: 40"))
    return path, load_trial(path)


def test_prediction_covers_every_arm_and_widens_with_what_we_do_not_know(small):
    _, spec = small
    pset = load_parameter_set("CAL-2")  # a point set
    sampling = predict_trial(spec, pset, placebo_nodes=0)
    full = predict_trial(spec, with_draws(pset, 4), draws=4, placebo_nodes=3)
    assert sampling["interval_includes"] == "sampling" and sampling["runs"] == 1
    assert full["interval_includes"] == "sampling+placebo+posterior" and full["runs"] == 4
    endpoints = [e.text for e in spec.parsed_endpoints()]
    assert len(full["arms"]) == len(endpoints) * len(spec.arms)
    assert len(full["differences"]) == len(endpoints) * (len(spec.arms) - 1)
    for r in full["arms"] + full["differences"]:
        assert r["low"] <= r["mean"] <= r["high"]
    width = {(r["arm"], r["endpoint"]): r["high"] - r["low"] for r in sampling["arms"]}
    placebo = [r for r in full["arms"] if r["arm"] == "placebo"]
    assert all(r["high"] - r["low"] > width[(r["arm"], r["endpoint"])] for r in placebo)
    assert all(d["p_above_zero"] > 0.99 for d in full["differences"])  # 40 a side
    assert {d["reference"] for d in full["differences"]} == {"placebo"}


def test_prediction_rejects_bad_counts_before_any_run(small):
    _, spec = small
    with pytest.raises(CalibrationError, match="draws: 0; allowed"):
        predict_trial(spec, draws=0)


def test_trial_predict_cli(small):
    path, _ = small
    argv = ["trial", "predict", str(path), "--set", "CAL-2", "--placebo-nodes", "2", "--json"]
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["interval_includes"] == "sampling+placebo" and out["runs"] == 2
    res = CliRunner().invoke(app, ["trial", "predict", str(path), "--placebo-nodes", "0"])
    assert res.exit_code == 0 and "P(> 0)" in res.stdout and "not a medical device" in res.stdout


def test_prediction_uses_the_trials_own_set_unless_told(small):
    _, spec = small
    own = spec.model_copy(update={"parameter_set": "CAL-2"})
    assert predict_trial(own, placebo_nodes=0)["parameter_set"] == "CAL-2"
    assert predict_trial(own, "CAL-1", placebo_nodes=0)["parameter_set"] == "CAL-1"
