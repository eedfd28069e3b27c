"""Wound trials (diabetic foot ulcers): spec, endpoints, pairing, reproducibility."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from dermatwin.trials.spec import TrialError, TrialSpec
from dermatwin.trials.wounds import (
    WoundTrialError,
    WoundTrialSpec,
    load_wound_trial,
    run_wound_trial,
)

EXAMPLE = (
    Path(__file__).resolve().parents[2] / "examples/trials/wounds/moon2019_alloasc_sheet_dfu.yaml"
)


def small(n=40, **change):
    data = yaml.safe_load(EXAMPLE.read_text())
    for arm in data["arms"].values():
        arm["n"] = n
    data.update(change)
    return WoundTrialSpec.model_validate(data)


def test_the_example_runs_with_closure_km_and_area_endpoints():
    result = run_wound_trial(small())
    arms = result.summary["arms"]
    for arm in ("asc_sheet", "film"):
        assert 0 <= arms[arm]["closure@8w"]["estimate"] <= arms[arm]["closure@12w"]["estimate"]
        assert arms[arm]["mean_pct_change:wound_area@4w"]["estimate"] < 0  # the ulcers shrink
    # the same patients in both arms; the sheet only ever speeds closure
    ep = result.endpoints
    sheet, film = (ep[ep["arm"] == a].reset_index(drop=True) for a in ("asc_sheet", "film"))
    np.testing.assert_array_equal(sheet["area0_cm2"], film["area0_cm2"])
    assert np.all(sheet["closure_day"] <= film["closure_day"])
    assert (sheet["closure_day"] < film["closure_day"]).mean() > 0.5
    # time to closure: censored at the last visit exactly when not closed by then
    open_ = ~np.isfinite(film["closure_day"]) | (film["closure_day"] > 84)
    np.testing.assert_array_equal(film["time_to_closure_event"] == 0, open_)
    assert set(result.trajectories["time"]) == {7.0 * k for k in range(13)}


def test_same_seed_same_result_other_seed_other_patients():
    one, two = run_wound_trial(small()), run_wound_trial(small())
    assert one.endpoints.equals(two.endpoints) and one.summary == two.summary
    other = run_wound_trial(small(seed=1))
    assert not np.array_equal(one.endpoints["area0_cm2"], other.endpoints["area0_cm2"])


def test_first_patients_do_not_depend_on_the_arm_size():
    a = run_wound_trial(small(20)).endpoints
    b = run_wound_trial(small(40)).endpoints
    for arm in ("asc_sheet", "film"):
        np.testing.assert_array_equal(
            a[a["arm"] == arm]["closure_day"], b[b["arm"] == arm]["closure_day"].to_numpy()[:20]
        )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"endpoints": ["EASI-75@12w"]}, "not a diabetic_foot_ulcer endpoint"),
        ({"endpoints": ["time_to:wound_area<=0"]}, "not a diabetic_foot_ulcer endpoint"),
        ({"endpoints": ["mean_pct_change:wound_area@4w/3d"]}, "not a diabetic_foot_ulcer"),
        ({"endpoints": ["closure@20w"]}, "after the trial's duration"),
        ({"endpoints": ["mean_pct_change:wound_area@10d"]}, "not at a visit; allowed: a whole"),
        ({"condition": "burn"}, "condition"),
        ({"reference_arm": "saline"}, "reference_arm: 'saline'; allowed: asc_sheet, film"),
    ],
)
def test_bad_specs_are_one_line_errors(tmp_path, change, message):
    data = yaml.safe_load(EXAMPLE.read_text()) | change
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(WoundTrialError, match=message) as err:
        load_wound_trial(path)
    assert "\n" not in str(err.value)


def test_bad_msc_route_names_the_field(tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["arms"]["asc_sheet"]["msc"]["route"] = "IV"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(WoundTrialError, match="route"):
        load_wound_trial(path)


def test_wound_endpoints_are_not_skin_trial_scores():
    with pytest.raises((TrialError, ValueError), match="wound_area is not a AD score"):
        TrialSpec.model_validate(
            {
                "name": "x",
                "disease": "AD",
                "duration": "12 weeks",
                "arms": {"a": {"n": 2}},
                "endpoints": ["closure@12w"],
            }
        )


def test_trial_run_runs_a_wound_trial_and_writes_its_tables(tmp_path):
    import json

    from typer.testing import CliRunner

    from dermatwin.cli import app

    data = yaml.safe_load(EXAMPLE.read_text())
    for arm in data["arms"].values():
        arm["n"] = 20
    path = tmp_path / "dfu.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["trial", "run", str(path), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["arms"]["film"]["closure@12w"]["n"] == 20
    assert {p.name for p in out.iterdir()} >= {"summary.json", "endpoints.csv", "trajectories.csv"}
    assert "Research use only" in (out / "summary.json").read_text()
    data["endpoints"] = ["PASI-75@12w"]
    path.write_text(yaml.safe_dump(data))
    bad = CliRunner().invoke(app, ["trial", "run", str(path), "--out", str(tmp_path / "o2")])
    assert bad.exit_code != 0 and "not a diabetic_foot_ulcer endpoint" in bad.output
    assert "Traceback" not in bad.output
