"""Trial specifications: validation and one-line errors."""

from __future__ import annotations

import pytest
import yaml

from dermatwin.trials.spec import TrialError, load_trial

BASE = {
    "name": "t",
    "disease": "AD",
    "duration": "12 weeks",
    "arms": {"msc": {"n": 5}, "placebo": {"n": 5}},
    "endpoints": ["EASI-50@12w"],
}


def _write(tmp_path, data):
    path = tmp_path / "trial.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_examples_validate():
    from pathlib import Path

    files = sorted((Path(__file__).resolve().parents[2] / "examples" / "trials").glob("*.yaml"))
    assert len(files) >= 4
    for f in files:
        spec = load_trial(f)
        assert spec.visit_times()[0] == 0.0
        assert spec.visit_times()[-1] == spec.duration


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"arms": {"a": {"n": 0}}}, "arms.a.n"),
        ({"endpoints": ["PASI-75@12w"]}, "PASI is not a AD score"),
        ({"endpoints": ["EASI-50@20w"]}, "within the trial"),
        ({"endpoints": ["nonsense"]}, "not understood"),
        ({"population": {"inclusion": {"PASI": {"min": 12}}}}, "not a AD score"),
        ({"reference_arm": "nobody"}, "reference_arm"),
        ({"disease": "eczema"}, "disease"),
    ],
)
def test_bad_specs_fail_with_one_line(tmp_path, change, message):
    with pytest.raises(TrialError) as err:
        load_trial(_write(tmp_path, {**BASE, **change}))
    text = str(err.value)
    assert "\n" not in text and message in text


def test_allocation_ratio_splits_n_total(tmp_path):
    data = {**BASE, "n_total": 10, "arms": {"a": {"allocation": 2}, "b": {"allocation": 1}}}
    assert load_trial(_write(tmp_path, data)).arm_sizes() == {"a": 7, "b": 3}
