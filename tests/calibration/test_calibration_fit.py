"""Calibration machinery on a small placebo-only trial (the shipped set is fitted on the
full example trials by ``dermatwin calibrate``; that takes minutes and is not a test)."""

import json

import pytest
import yaml

from dermatwin.calibration.fit import STEPS, Step, fit_step, selected_steps, starting_set
from dermatwin.calibration.parameter_set import ParameterSet
from dermatwin.calibration.targets import observed, row_predictions
from dermatwin.params.parameter_set import CalibrationError, load_parameter_set
from dermatwin.trials.run import run_trial
from dermatwin.trials.spec import load_trial

ROW = "AD_DUPI_SOLO1_PBO_EASI75"  # 15 % EASI-75 on placebo


def _trial(tmp_path):
    spec = {
        "name": "small placebo",
        "disease": "AD",
        "seed": 5,
        "duration": "8 weeks",
        "population": {"inclusion": {"EASI": {"min": 16}}},
        "arms": {"placebo": {"n": 40, "regimen": [{"drug": "placebo"}]}},
        "endpoints": ["EASI-75@8w"],
        "reference_rows": {ROW: {"arm": "placebo", "endpoint": "EASI-75@8w", "n": 40}},
    }
    path = tmp_path / "placebo.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_fit_moves_the_prediction_to_the_row_and_is_reproducible(tmp_path):
    path = _trial(tmp_path)
    spec = load_trial(path)
    base = ParameterSet(name="t", version=1)
    prior = row_predictions(spec, run_trial(spec.model_copy(update={"parameter_set": base})), "x")
    step = Step(
        ("model.placebo_response",),
        ((0.01, 1.0),),
        ("dimensionless",),
        (ROW,),
        str(path),
        (True,),
        "test",
    )
    lines = []
    fitted = fit_step(step, base, log=lines.append)
    again = fit_step(step, base, log=lambda _: None)
    assert fitted == again
    value = fitted.values[0]
    assert value.fitted_to == (ROW,) and 0.01 <= value.value <= 1.0
    error_prior = abs(prior[0].predicted - observed(ROW))
    error_fit = abs(value.simulated[ROW] - observed(ROW))
    assert error_fit < error_prior
    assert error_fit <= 100 / 40 + 1e-9, "within one patient of the row"
    assert ROW in lines[0]


def test_trial_uses_its_parameter_set(tmp_path):
    spec = load_trial(_trial(tmp_path))
    none = run_trial(spec.model_copy(update={"parameter_set": "none"}))
    shipped = run_trial(spec)
    assert json.dumps(none.summary) != json.dumps(shipped.summary)
    assert none.manifest["model_hash"] != shipped.manifest["model_hash"]


def test_only_selects_steps_by_any_of_their_targets():
    """calibrate and calibrate_posterior share the selection: a step is chosen by any
    one of its targets, in the steps' order, with its index (its seed stream)."""
    assert selected_steps(STEPS, None) == list(enumerate(STEPS))
    assert selected_steps(STEPS, []) == list(enumerate(STEPS))
    chosen = selected_steps(STEPS, ["drug.abrocitinib.hill", "model.placebo_response"])
    assert chosen == [(0, STEPS[0]), (3, STEPS[3])]
    with pytest.raises(CalibrationError, match="only: unknown target 'model.nothing'; allowed"):
        selected_steps(STEPS, ["model.placebo_response", "model.nothing"])
    base = ParameterSet(name="mine", version=1)
    assert starting_set(base, ["model.placebo_response"], "d") is base
    assert starting_set(None, None, "from the priors").values == ()
    shipped = load_parameter_set("default")
    assert starting_set(None, ["model.placebo_response"], "d") == shipped
