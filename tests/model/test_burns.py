"""Burns: depth orders the time to re-epithelialisation; scar risk follows DEITCH1983."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from dermatwin._base.errors import ModelError
from dermatwin.model.burns import DEPTHS, area_to_close, hts_risk
from dermatwin.trials.wounds import (
    WoundTrialError,
    WoundTrialSpec,
    load_wound_trial,
    run_wound_trial,
)

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "examples/trials/wounds/burn_deep_partial_asc_sheet.yaml"
)


def test_scar_risk_falls_in_deitch1983_bands():
    """0-6 % of sites healed within 10 days, about a third of those healed in 14-21
    days, 78 % of those healed after 21 days (DEITCH1983)."""
    assert hts_risk(7.0) <= 0.06
    assert 0.15 <= hts_risk(17.5) <= 0.45
    assert hts_risk(28.0) >= 0.7
    assert hts_risk(np.inf) == 1.0 and np.all(np.diff(hts_risk(np.arange(0, 60))) > 0)


def burn_trial(depth, n=150, **arms):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["burn"]["depth"] = depth
    for arm in data["arms"].values():
        arm["n"] = n
    return WoundTrialSpec.model_validate(data)


def test_deeper_burns_heal_later_and_scar_more():
    medians, risks = [], []
    for depth in DEPTHS:
        e = run_wound_trial(burn_trial(depth), statistics=False).endpoints
        care = e[e["arm"] == "standard_care"]
        medians.append(np.median(care["closure_day"]))
        risks.append(care["mean:hts_risk@12w"].mean())
    assert medians == sorted(medians) and risks == sorted(risks)
    assert medians[0] < 10 and 10 <= medians[1] <= 21 and medians[2] > 21  # classic bands
    assert risks[-1] > 0.9  # full thickness: left to heal alone, it scars


def test_the_msc_sheet_shortens_healing_and_lowers_scar_risk_on_the_same_burns():
    result = run_wound_trial(load_wound_trial(EXAMPLE))
    arms = result.summary["arms"]
    assert (
        arms["asc_sheet"]["time_to_closure"]["estimate"]
        < arms["standard_care"]["time_to_closure"]["estimate"]
    )
    assert (
        arms["asc_sheet"]["mean:hts_risk@12w"]["estimate"]
        < arms["standard_care"]["mean:hts_risk@12w"]["estimate"]
    )
    e = result.endpoints
    np.testing.assert_array_equal(
        e[e["arm"] == "asc_sheet"]["area0_cm2"], e[e["arm"] == "standard_care"]["area0_cm2"]
    )


def test_burn_inputs_are_checked():
    with pytest.raises(ModelError, match="depth: 'third_degree'; allowed: superficial"):
        area_to_close("third_degree", np.ones(1), np.zeros(1))
    data = yaml.safe_load(EXAMPLE.read_text())
    with pytest.raises(ValueError, match="a burn trial needs a burn"):
        WoundTrialSpec.model_validate({k: v for k, v in data.items() if k != "burn"})
    with pytest.raises(ValueError, match="depth"):
        WoundTrialSpec.model_validate(data | {"burn": {"depth": "deep"}})
    with pytest.raises(ValueError, match="hts_risk@12w' is not a diabetic_foot_ulcer endpoint"):
        WoundTrialSpec.model_validate(data | {"condition": "diabetic_foot_ulcer", "burn": None})


def test_the_scar_risk_is_read_only_at_the_end_of_the_trial(tmp_path):
    """The risk follows the day a site heals (a whole-trial value): another TIME gave
    the same number silently, so it is a one-line error naming the field."""
    data = yaml.safe_load(EXAMPLE.read_text())
    for text in ("mean:hts_risk@4w", "mean:hts_risk@1d"):
        (tmp_path / "b.yaml").write_text(yaml.safe_dump(data | {"endpoints": [text]}))
        with pytest.raises(WoundTrialError, match=r"endpoints: .*whole-trial.*@84d") as err:
            load_wound_trial(tmp_path / "b.yaml")
        assert "\n" not in str(err.value)
    spec = WoundTrialSpec.model_validate(data | {"endpoints": ["mean:hts_risk@84d"]})
    assert spec.parsed_endpoints()[0].time == spec.duration == 84.0


def test_a_bad_burn_file_is_one_line(tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["burn"]["tbsa_range_percent"] = [30, 10]
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(WoundTrialError, match="tbsa_range_percent") as err:
        load_wound_trial(tmp_path / "b.yaml")
    assert "\n" not in str(err.value)
