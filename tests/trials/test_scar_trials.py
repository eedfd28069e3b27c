"""Mature-scar trials: spec checks (one line per bad field), paired arms, knock-out, CLI."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from dermatwin.trials.scars import (
    ScarTrialError,
    ScarTrialSpec,
    is_scar_trial,
    load_scar_trial,
    run_scar_trial,
)
from dermatwin.trials.wounds import is_wound_trial

FOLDER = Path(__file__).resolve().parents[2] / "examples/trials/wounds"
NULL = FOLDER / "fat_vs_saline_within_patient_scars.yaml"


def small(path=NULL, n=40):
    data = yaml.safe_load(path.read_text())
    for arm in data["arms"].values():
        arm["n"] = n
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"condition": "scar"}, "condition: 'scar'; allowed: mature_scar"),
        ({"endpoints": ["mean:EASI@4w"]}, "'mean:EASI@4w' is not a mature_scar endpoint"),
        ({"endpoints": ["closure@4w"]}, "'closure@4w' is not a mature_scar endpoint"),
        ({"reference_arm": "placebo"}, "reference_arm: 'placebo'; allowed: fat_graft, saline"),
        ({"population": {"adhesion": {"mean": 1.5}}}, "population.adhesion.mean"),
        ({"population": {"excess_median": 0}}, "population.excess_median"),
        ({"arms": {"fat_graft": {"n": 5, "graft": {"ml_per_cm2": 1}}}}, "graft.product"),
        (
            {
                "arms": {
                    "a": {
                        "n": 5,
                        "graft": {
                            "product": {"source": "adipose", "origin": "autologous"},
                            "ml_per_cm2": 0,
                        },
                    }
                }
            },
            "ml_per_cm2",
        ),
        ({"arms": {"a": {"n": 5, "procedure": "sometimes"}}}, "procedure"),
    ],
)
def test_a_bad_field_is_one_line_naming_it(tmp_path, change, message):
    data = small() | change
    if "arms" in change or "reference_arm" in change:
        data.pop("reference_rows")
    if "arms" in change:
        data.pop("reference_arm")
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ScarTrialError, match="t.yaml") as err:
        load_scar_trial(tmp_path / "t.yaml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_reference_rows_are_checked():
    data = small()
    row = data["reference_rows"]["SCAR_RCT_SALINE_NULL"]
    for field, value, message in (
        ("versus", "placebo", "SCAR_RCT_SALINE_NULL.versus: 'placebo'; allowed: fat_graft"),
        ("versus", "fat_graft", "versus: the row's own arm"),
        ("arm", "sham", "SCAR_RCT_SALINE_NULL.arm: 'sham'"),
        ("endpoint", "mean:posas_observer@13w", "endpoint: 'mean:posas_observer@13w'"),
    ):
        with pytest.raises(ValueError, match=message):
            ScarTrialSpec.model_validate(
                data | {"reference_rows": {"SCAR_RCT_SALINE_NULL": row | {field: value}}}
            )


def test_arms_hold_the_same_scars_and_the_knock_out_is_the_saline_side():
    spec = ScarTrialSpec.model_validate(small())
    result = run_scar_trial(spec)
    e = result.endpoints
    for col in ("excess0", "adhesion0"):
        np.testing.assert_array_equal(e[e.arm == "fat_graft"][col], e[e.arm == "saline"][col])
    assert result.summary["paired"] is True
    # knock-out: the graft's anti-fibrotic action off = the same arm without fat, exactly
    knocked = run_scar_trial(spec, {"msc_antifibrotic_max": 0.0}, statistics=False).endpoints
    data = small()
    data["arms"]["fat_graft"].pop("graft")
    no_fat = run_scar_trial(ScarTrialSpec.model_validate(data), statistics=False).endpoints
    arm = knocked.arm == "fat_graft"
    np.testing.assert_array_equal(
        knocked[arm].drop(columns="arm").to_numpy(), no_fat[arm].drop(columns="arm").to_numpy()
    )
    # seeded: the same result again, and the first patients whatever n
    again = run_scar_trial(spec, statistics=False).endpoints
    assert again.equals(e)
    more = run_scar_trial(ScarTrialSpec.model_validate(small(n=60)), statistics=False).endpoints
    first = more[more.patient < 40].reset_index(drop=True)
    assert first.equals(e)


def test_scar_files_are_told_from_wound_files():
    assert is_scar_trial(NULL) and is_wound_trial(NULL)  # both name a condition
    assert not is_scar_trial(FOLDER / "moon2019_alloasc_sheet_dfu.yaml")


def test_trial_run_of_a_scar_trial(tmp_path, capsys, monkeypatch):
    from dermatwin.cli import main

    (tmp_path / "t.yaml").write_text(yaml.safe_dump(small(n=10)))
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "dermatwin",
            "trial",
            "run",
            str(tmp_path / "t.yaml"),
            "--out",
            str(tmp_path / "out"),
            "--json",
        ],
    )
    with pytest.raises(SystemExit) as code:
        main()
    assert code.value.code in (0, None)
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["arms"]) == {"fat_graft", "saline"}
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"summary.json", "endpoints.csv"}
