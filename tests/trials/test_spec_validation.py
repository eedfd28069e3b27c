"""Every bad trial field is a one-line TrialError naming the field, raised by load_trial
before any patient is screened (issue 12: items 6, 8, 9, 10)."""

from __future__ import annotations

import copy

import pytest
import yaml
from pydantic import ValidationError

from dermatwin.errors import DermatwinError
from dermatwin.trials.spec import TrialError, TrialSpec, load_trial


def base() -> dict:
    """A valid trial with a drug arm, an MSC arm and a placebo arm."""
    return {
        "name": "probe",
        "disease": "AD",
        "seed": 4,
        "duration": "16 weeks",
        "population": {"inclusion": {"EASI": {"min": 16}}},
        "background": [{"drug": "placebo"}],
        "arms": {
            "dupilumab": {"n": 4, "regimen": [{"drug": "dupilumab"}]},
            "msc": {
                "n": 4,
                "regimen": [{"msc": {"source": "umbilical_cord", "amount": 5e7, "times": [0, 14]}}],
            },
            "placebo": {"n": 4},
        },
        "endpoints": ["EASI-50@16w", "mean_pct_change:EASI@16w"],
        "noise": {"EASI": 0.1},
    }


def _set(data: dict, path: str, value) -> dict:
    data = copy.deepcopy(data)
    *parents, last = path.split("/")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if isinstance(node, list):
        node[int(last) :] = [value]
    else:
        node[last] = value
    return data


MSC = "arms/msc/regimen/0/msc"
# (path, value, words the one-line message must contain)
CASES = [
    (f"{MSC}/times", "14", ["times", "list"]),
    (f"{MSC}/times", [], ["times"]),
    (f"{MSC}/times", ["x"], ["times"]),
    (f"{MSC}/times", [200], ["arms.msc.regimen[0]", "outside the trial"]),
    (f"{MSC}/amount", 1e30, ["amount", "allowed"]),
    (f"{MSC}/amount", float("nan"), ["amount"]),
    (f"{MSC}/colour", "red", ["unknown field", "allowed"]),
    ("arms/dupilumab/regimen/0/start", 300, ["outside the trial"]),
    ("arms/dupilumab/regimen/0/stop", 500, ["outside the trial"]),
    ("arms/dupilumab/regimen/0/start", -3, ["start"]),
    ("arms/dupilumab/regimen/0/amount", 1e30, ["amount", "allowed"]),
    ("arms/dupilumab/regimen/0/every", 0, ["every"]),
    ("arms/dupilumab/regimen/0/drug", "aspirin", ["drug", "aspirin"]),
    ("arms/dupilumab/regimen/1", {"drug": "dupilumab", "start": 28, "stop": 14}, ["stop"]),
    ("arms/dupilumab/regimen/1", 5, ["regimen", "drug"]),
    ("arms/dupilumab/regimen", 5, ["regimen", "list"]),
    ("arms/dupilumab/n", True, ["n", "whole number"]),
    ("arms/dupilumab/n", 4.5, ["n", "whole number"]),
    ("arms/dupilumab/n", 10**12, ["n", "10000000"]),
    ("arms/dupilumab/nn", 4, ["unknown field 'nn'", "allowed: n, allocation, regimen"]),
    ("arms/" + "a" * 300, {"n": 4}, ["arm name", "40"]),
    ("arms/$\\frac", {"n": 4}, ["arm name"]),
    ("arms/two\nlines", {"n": 4}, ["arm name"]),
    ("population/demographics/weight_range", [160, 10], ["weight_range"]),
    ("population/demographics/weight_range", [-10, 10], ["weight_range"]),
    ("population/demographics/age_range", [80, 18], ["age_range"]),
    ("population/demographics/age_mean", float("inf"), ["age_mean"]),
    ("population/inclusion/EASI/min", float("nan"), ["population.inclusion.EASI.min"]),
    ("population/inclusion/EASI/min", 100, ["inclusion.EASI"]),
    ("population/max_draws_per_patient", True, ["max_draws_per_patient"]),
    ("noise/EASI", float("nan"), ["noise.EASI"]),
    ("noise/EASI", -1, ["noise.EASI"]),
    ("endpoints", ["EASI-200@16w"], ["EASI-200", "100"]),
    ("endpoints", ["EASI-50@40w"], ["EASI-50@40w", "within the trial"]),
    ("endpoints", ["EASI-50@16w", "IGA01@16w", "EASI-50@16w"], ["endpoints", "twice"]),
    ("visit_every", 0, ["visit_every"]),
    ("visit_every", -7, ["visit_every"]),
    ("visits", [-5], ["visits", "-5"]),
    ("visits", [200], ["visits"]),
    ("duration", 1e308, ["duration", "728"]),
    ("duration", 1e12, ["duration"]),
    ("duration", "1e12 days", ["duration"]),
    ("duration", float("inf"), ["duration"]),
    ("seed", -1, ["seed"]),
    ("seed", 2**40, ["seed"]),
    ("seed", True, ["seed"]),
    ("flare_fraction", float("inf"), ["flare_fraction"]),
    ("chunk_size", 0, ["chunk_size"]),
    ("withdrawal", {"at": 500}, ["withdrawal"]),
    ("relapse/fraction", float("nan"), ["relapse.fraction"]),
    ("treatments", 5, ["unknown field 'treatments'", "allowed"]),
    ("disease", "eczema", ["disease", "AD"]),
]


def _ids(case) -> str:
    return f"{case[0]}={str(case[1])[:20]}"


@pytest.mark.parametrize(("path", "value", "words"), CASES, ids=[_ids(c) for c in CASES])
def test_bad_field_is_one_line_naming_it(tmp_path, path, value, words):
    file = tmp_path / "trial.yaml"
    file.write_text(yaml.safe_dump(_set(base(), path, value), sort_keys=False))
    with pytest.raises(TrialError) as info:
        load_trial(file)
    message = str(info.value)
    assert "\n" not in message
    assert len(message) < 400
    assert message.startswith(str(file))
    for word in words:
        assert word in message, message
    for jargon in ("function-after", "function-before", "union_tag", "literal_error", "[type="):
        assert jargon not in message


def test_base_trial_is_valid(tmp_path):
    file = tmp_path / "trial.yaml"
    file.write_text(yaml.safe_dump(base()))
    assert load_trial(file).arm_sizes() == {"dupilumab": 4, "msc": 4, "placebo": 4}


def test_duplicate_key_in_trial_file(tmp_path):
    file = tmp_path / "trial.yaml"
    text = yaml.safe_dump(base(), sort_keys=False).replace("  placebo:\n    n: 4\n", "")
    file.write_text(text + "  placebo:\n    n: 4\n    n: 400000\n")
    with pytest.raises(TrialError, match=r"line \d+: duplicate key 'n'"):
        load_trial(file)


@pytest.mark.parametrize(
    "arms",
    [
        {"n_total": 10**12, "arms": {"a": {"allocation": 1}, "b": {"allocation": 1}}},
        {"arms": {"a": {"n": 6_000_000}, "b": {"n": 6_000_000}}},
    ],
)
def test_patient_totals_are_capped(arms):
    with pytest.raises(ValidationError, match="n_total|in all"):
        TrialSpec.model_validate({**base(), **arms})


@pytest.mark.parametrize("seed", [-1, 2**32, True, 1.5])
def test_seed_override_is_checked(seed):
    spec = TrialSpec.model_validate(base())
    with pytest.raises(TrialError, match="seed"):
        spec.with_seed(seed)
    assert spec.with_seed(7).seed == 7


def test_errors_are_dermatwin_errors():
    assert issubclass(TrialError, DermatwinError)


def test_a_parameter_set_target_the_model_lacks_is_one_line(tmp_path):
    """``model.nothing`` in a parameter set: one line naming the target, not the model's
    294 parameter names (the fuzz probe's last unnamed error)."""
    from dermatwin.params.parameter_set import SETS_DIR
    from dermatwin.trials.run import trial_model

    pset = yaml.safe_load((SETS_DIR / "CAL-2.yaml").read_text())
    pset["values"][0]["target"] = "model.nothing"
    (tmp_path / "ps.yaml").write_text(yaml.safe_dump(pset))
    spec = TrialSpec.model_validate(
        {
            "name": "t",
            "disease": "AD",
            "duration": "4 weeks",
            "parameter_set": str(tmp_path / "ps.yaml"),
            "arms": {"a": {"n": 2}},
            "endpoints": ["EASI-50@4w"],
        }
    )
    with pytest.raises(DermatwinError) as err:
        trial_model(spec)
    message = str(err.value)
    assert "target" in message and "'nothing'" in message, message
    assert "\n" not in message and len(message) < 200, message
