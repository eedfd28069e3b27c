import json
import shutil

import pytest
from typer.testing import CliRunner

from dermatwin.calibration.targets import EXAMPLE_TRIALS, observed
from dermatwin.calibration.validate import (
    markdown_table,
    reference_trials,
    summary,
    validate,
    write_validation_doc,
)
from dermatwin.cli import app
from dermatwin.trials.spec import TrialError, load_trial

TRIAL = "phoenix1_ustekinumab_psoriasis.yaml"


def test_every_reference_row_of_the_examples_exists_and_is_numeric():
    specs = reference_trials()
    assert len(specs) >= 8
    rows = [r for s in specs.values() for r in s.reference_rows]
    assert len(rows) == len(set(rows)), "a row is expressed by one trial only"
    for row in rows:
        observed(row)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trials")
    shutil.copy(EXAMPLE_TRIALS / TRIAL, folder / TRIAL)
    text = (folder / TRIAL).read_text().replace("n: 200", "n: 30")
    (folder / TRIAL).write_text(text)
    pset, rows = validate("default", folder)
    return folder, pset, rows


def test_validation_rows_have_intervals_and_fitted_flags(small, tmp_path):
    _, pset, rows = small
    result = summary(pset, rows)
    expected = set(load_trial(EXAMPLE_TRIALS / TRIAL).reference_rows)
    assert {r["row"] for r in result["rows"]} == expected
    for r in result["rows"]:
        lo, hi = r["interval"]
        assert lo <= r["predicted"] <= hi
        assert r["inside"] == (lo <= r["observed"] <= hi)
        assert r["fitted"] == (r["row"] in pset.fitted_rows())
    counted = result["fitted"]["n"] + result["not_fitted"]["n"]
    assert counted == len(result["rows"])
    doc = write_validation_doc(pset, result, tmp_path / "validation.md")
    text = doc.read_text()
    assert "PSO_UST_PHX1_90_PASI75" in text and (tmp_path / "img" / "validation.png").exists()
    assert markdown_table(result).count("\n") == len(result["rows"]) + 1


def test_validate_cli_json_and_unknown_trial():
    res = CliRunner().invoke(app, ["validate", "--json", "--trial", TRIAL])
    assert res.exit_code == 0, res.stderr
    result = json.loads(res.stdout)
    assert {r["row"] for r in result["rows"]} == set(
        load_trial(EXAMPLE_TRIALS / TRIAL).reference_rows
    )
    assert result["fitted"]["n"] == sum(r["fitted"] for r in result["rows"]) > 0
    res = CliRunner().invoke(app, ["validate", "--trial", "nothing.yaml"])
    assert res.exit_code == 2
    assert "not an example trial" in res.stderr and res.stderr.count("\n") == 1


def test_reference_rows_must_name_an_arm_and_an_endpoint(tmp_path):
    text = (
        (EXAMPLE_TRIALS / TRIAL)
        .read_text()
        .replace("{arm: placebo, endpoint: PASI-75@12w", "{arm: nobody, endpoint: PASI-75@12w")
    )
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(TrialError, match="reference_rows.PSO_UST_PHX1_0_PASI75.arm"):
        load_trial(tmp_path / "bad.yaml")


def test_calibrate_rejects_an_unknown_target():
    res = CliRunner().invoke(app, ["calibrate", "--only", "model.nothing"])
    assert res.exit_code == 2
    assert "unknown target" in res.stderr and res.stderr.count("\n") == 1


KIM = "kim2017_hucbmsc_ad.yaml"


@pytest.fixture(scope="module")
def small_msc(tmp_path_factory):
    folder = tmp_path_factory.mktemp("msc")
    text = (EXAMPLE_TRIALS / KIM).read_text().replace("n: 100", "n: 20")
    (folder / KIM).write_text(text)
    return folder, *validate("default", folder)


def test_msc_rows_report_the_paired_effect_on_the_same_patients(small_msc, small, tmp_path):
    from dermatwin.trials import paired_effect

    folder, pset, rows = small_msc
    result = summary(pset, rows)
    spec = load_trial(folder / KIM).model_copy(update={"parameter_set": pset})
    for r in result["rows"]:
        effect = r["paired_effect"]
        ref = spec.reference_rows[r["row"]]
        direct = paired_effect(spec, ref.arm, "placebo", ref.endpoint)
        assert effect["pairs"] == 20 and effect["reference"] == "placebo"
        assert effect["estimate"] == ref.scale * direct["difference"]
        assert effect["ci"] == sorted(ref.scale * v for v in direct["ci"])
    table = markdown_table(result)
    assert "paired effect vs placebo (95 % CI)" in table.splitlines()[0]
    text = write_validation_doc(pset, result, tmp_path / "validation.md").read_text()
    assert "- `AD_MSC_KIM2017_HD_EASI50` (EASI-50@12w): " in text
    # rows of drug trials have none
    _, pset2, plain = small
    assert all(r["paired_effect"] is None for r in summary(pset2, plain)["rows"])
    assert markdown_table(summary(pset2, plain)).splitlines()[2].endswith("|  |")
