import pytest
import yaml

from dermatwin.calibration.parameter_set import (
    DEFAULT_SET,
    CalibrationError,
    FittedValue,
    ParameterSet,
    load_parameter_set,
    read_parameter_set,
    write_parameter_set,
)
from dermatwin.calibration.targets import clinical_rows
from dermatwin.therapy.drugs import drug_parameters


def _value(target="model.placebo_response", value=0.5, rows=("AD_DUPI_SOLO1_PBO_EASI75",)):
    return FittedValue(
        target=target,
        value=value,
        unit="dimensionless",
        bounds=(0, 1),
        fitted_to=rows,
        trial="solo1_dupilumab_ad.yaml",
    )


def test_shipped_set_names_real_rows_and_known_targets():
    pset = load_parameter_set("default")
    assert pset.name == DEFAULT_SET
    assert pset.values, "the shipped set holds fitted values"
    rows = clinical_rows()
    for v in pset.values:
        assert set(v.fitted_to) <= set(rows), v.target
        low, high = v.bounds
        assert low <= v.value <= high, v.target


def test_default_is_cal5_and_earlier_sets_stay_loadable():
    # CAL-5 carries posterior draws (issue 18); CAL-4 and CAL-3 (its predecessors), CAL-2
    # (the paired MSC refit of issue 14) and CAL-1 are kept by name
    default = load_parameter_set("default")
    assert default.name == "CAL-5" and default.n_draws == 64
    assert load_parameter_set("CAL-4").n_draws == 64
    assert load_parameter_set("CAL-3").n_draws == 64
    assert all(v.posterior.rhat < 1.1 for v in default.values)
    cal1 = load_parameter_set("CAL-1")
    assert cal1.name == "CAL-1" and cal1.msc_potency_scale() == pytest.approx(5.477)
    cal2 = load_parameter_set("CAL-2")
    assert {"model.itreg_induction", "model.tol_skin_weight"} <= cal2.targets()
    # fitted to noise between arms holding different patients: not in CAL-2
    assert not {"msc.potency_scale", "model.treg_turnover"} & cal2.targets()
    # every non-MSC value is CAL-1's, unchanged
    msc = {"msc.potency_scale", "model.treg_turnover"} | cal2.targets() - cal1.targets()
    assert {v.target: v.value for v in cal1.values if v.target not in msc} == {
        v.target: v.value for v in cal2.values if v.target not in msc
    }


def test_none_is_the_uncalibrated_prior():
    pset = load_parameter_set("none")
    assert pset.values == ()
    assert pset.model_overrides() == {} and pset.msc_potency_scale() == 1.0


def test_unknown_target_and_unknown_set_are_one_line_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown target"):
        _value(target="drug.dupilumab.colour")
    with pytest.raises(CalibrationError, match="allowed: default, none"):
        load_parameter_set("CAL-999")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nversion: 0\n")
    with pytest.raises(CalibrationError) as err:
        read_parameter_set(bad)
    assert "version" in str(err.value) and "\n" not in str(err.value)


def test_with_value_replaces_and_round_trips(tmp_path):
    pset = ParameterSet(name="t", version=1).with_value(_value(value=0.5))
    pset = pset.with_value(_value(value=0.25))
    assert pset.model_overrides() == {"placebo_response": 0.25}
    path = write_parameter_set(pset, tmp_path / "t.yaml")
    assert load_parameter_set(path) == pset


def test_drug_fields_reach_the_model_parameters():
    prior = drug_parameters("dupilumab")
    pset = ParameterSet(name="t", version=1).with_value(
        _value(target="drug.dupilumab.emax", value=0.6, rows=("AD_DUPI_SOLO1_q2w_EASI75",))
    )
    fitted = drug_parameters("dupilumab", pset)
    assert fitted["il4r_emax"] == 0.6 and prior["il4r_emax"] != 0.6
    assert fitted["il4r_ec50"] == prior["il4r_ec50"]


def test_a_trial_naming_an_unknown_set_fails_in_one_line():
    from dermatwin.trials.run import trial_model
    from dermatwin.trials.spec import TrialError, TrialSpec

    spec = TrialSpec.model_validate(
        {
            "name": "x",
            "disease": "AD",
            "duration": 28,
            "parameter_set": "CAL-0",
            "arms": {"placebo": {"n": 2}},
            "endpoints": ["EASI-50@4w"],
        }
    )
    with pytest.raises(TrialError, match="parameter_set: unknown set 'CAL-0'"):
        trial_model(spec)


def test_packaged_rows_match_the_shared_reference():
    from importlib import resources
    from pathlib import Path

    shared = Path(__file__).resolve().parents[3] / "shared/reference/clinical_outcomes.csv"
    if not shared.exists():
        pytest.skip("no shared/ folder beside this checkout")
    packaged = resources.files("dermatwin.calibration").joinpath("clinical_outcomes.csv")
    assert packaged.read_bytes() == shared.read_bytes()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"target": "drug.dupilumab.occupancy", "value": 0.0, "bounds": [0.0, 1.0]}, "0 < occ"),
        ({"target": "drug.dupilumb.emax", "value": 0.5, "bounds": [0.0, 1.0]}, "unknown drug"),
        ({"target": "model.treg_turnover", "value": 2.0, "bounds": [0.0, 1.0]}, "outside"),
    ],
)
def test_values_out_of_range_or_for_unknown_drugs_are_rejected(value, message):
    from pydantic import ValidationError

    from dermatwin.calibration.parameter_set import FittedValue

    base = {"unit": "1", "fitted_to": ["X"], "trial": "t.yaml"}
    with pytest.raises(ValidationError, match=message):
        FittedValue.model_validate(base | value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: X\nversion: 1\nversion: 2\n", "line 3: duplicate key 'version'"),
        ("name: X\nversion: true\n", "version: expected a whole number"),
        ("name: X\nversion: 1\nseed: -1\n", "seed"),
        ("name: X\nversion: 1\nextra: 1\n", "unknown field 'extra'; allowed: name, version"),
        (
            "name: X\nversion: 1\nvalues:\n- {target: model.k3, value: .nan, unit: u, "
            "bounds: [0, 1], fitted_to: [R], trial: t}\n",
            "values.0.value: Input should be a finite number",
        ),
    ],
)
def test_bad_parameter_set_files_are_one_line(tmp_path, text, message):
    path = tmp_path / "set.yaml"
    path.write_text(text)
    with pytest.raises(CalibrationError) as info:
        read_parameter_set(path)
    assert message in str(info.value) and "\n" not in str(info.value)


# -- posterior draws (issue 18, build 4) -------------------------------------------------
def test_shipped_sets_without_draws_write_as_before(tmp_path):
    for name in ("CAL-1", "CAL-2"):
        pset = load_parameter_set(name)
        assert pset.n_draws == 0 and pset.provenance is None
        text = write_parameter_set(pset, tmp_path / f"{name}.yaml").read_text()
        for key in ("draws", "posterior", "provenance"):
            assert f"{key}:" not in text
        assert read_parameter_set(tmp_path / f"{name}.yaml") == pset
        assert "draws" not in pset.model_dump_json()  # trial spec hashes unchanged
    with pytest.raises(CalibrationError, match="carries no draws"):
        load_parameter_set("CAL-2").draw(0)


def test_draws_must_agree_in_number_and_lie_within_bounds(tmp_path):
    a = _value().model_copy(update={"draws": (0.4, 0.6)})
    b = _value("model.itreg_induction").model_copy(update={"draws": (0.1, 0.2, 0.3)})
    values = [v.model_dump(mode="json") for v in (a, b)]
    path = tmp_path / "x.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "version": 1, "values": values}))
    with pytest.raises(CalibrationError, match=r"same number of draws; found \[2, 3\]"):
        read_parameter_set(path)
    data = _value().model_dump(mode="json") | {"draws": [0.5, 1.5]}
    with pytest.raises(ValueError, match=r"draw 1.5 outside its bounds \[0, 1\]"):
        FittedValue.model_validate(data)


def test_draw_k_is_a_point_set():
    a = _value().model_copy(update={"draws": (0.4, 0.6)})
    b = _value("model.itreg_induction", 0.3)
    pset = ParameterSet(name="x", version=1, values=[a, b])
    one = pset.draw(1)
    assert [v.value for v in one.values] == [0.6, 0.3] and one.name == "x#1"
    with pytest.raises(CalibrationError, match=r"draw: 2; allowed: 0 to 1"):
        pset.draw(2)
