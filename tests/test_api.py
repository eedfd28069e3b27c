"""The Python API (issue 15, item 5): the calibrated set by default, as the CLI uses it;
short reprs and HTML tables; the drug catalogue, MSC products and model parameters as
DataFrames (and ``dermatwin drugs`` / ``products`` as tables or JSON)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import dermatwin
from dermatwin.calibration.parameter_set import CalibrationError, load_parameter_set
from dermatwin.cli import app
from dermatwin.model.registry import get_model
from dermatwin.patients.profile import Patient
from dermatwin.run import run_scenario, scenario_model
from dermatwin.scenario import Scenario
from dermatwin.sensitivity import run_sensitivity
from dermatwin.trials.run import TrialResult
from dermatwin.trials.spec import TrialSpec
from dermatwin.trials.streaming import StreamedTrialResult
from dermatwin.twins.fit import FitSettings, Twin
from dermatwin.twins.prior import Prior, twin_parameters
from dermatwin.twins.visits import Visit, VisitRecord

CAL = load_parameter_set("default")
SHMAROV = Scenario.model_validate({"model": "shmarov2022", "horizon": 10})
SKIN = Scenario.model_validate({"model": "skin", "horizon": 10})
MAX_REPR, MAX_HTML = 200, 5_000


def check_display(obj, *words: str) -> None:
    text, html = repr(obj), obj._repr_html_()
    assert len(text) < MAX_REPR and "\n" not in text, text
    assert len(html) < MAX_HTML and html.startswith("<div>"), len(html)
    for word in words:
        assert word in text and word in html, (word, text)


# -- the calibrated set by default ---------------------------------------------------------
def test_scenario_model_is_calibrated_by_default_and_raw_with_none():
    calibrated, pset = scenario_model(SKIN)
    raw, none = scenario_model(SKIN, "none")
    assert pset.name == CAL.name and none.name == "none"
    for name, value in CAL.model_overrides().items():
        assert calibrated.parameter(name).value == value
        assert raw.parameter(name).value == get_model("skin").parameter(name).value
    assert calibrated.content_hash != raw.content_hash


def test_reference_models_keep_their_published_values():
    model, _ = scenario_model(SHMAROV)
    assert model.content_hash == get_model("shmarov2022").content_hash


def test_run_scenario_records_the_set():
    result = run_scenario(SHMAROV)
    assert result.parameter_set == CAL.name
    assert result.summary()["parameter_set"] == CAL.name
    assert run_scenario(SHMAROV, parameter_set="none").parameter_set == "none"


def test_unknown_set_is_one_line_before_any_work():
    with pytest.raises(CalibrationError, match="parameter_set: unknown set 'nope'"):
        run_scenario(SHMAROV, parameter_set="nope")
    with pytest.raises(CalibrationError, match="unknown set"):
        run_sensitivity(SHMAROV, "totC@10d", method="morris", n=2, parameter_set="nope")


# -- reprs ---------------------------------------------------------------------------------
def test_model_display():
    check_display(get_model("miyano2021"), "miyano2021", "states")


def test_scenario_result_display():
    check_display(run_scenario(SHMAROV), "shmarov2022", CAL.name)


def test_parameter_set_display():
    check_display(CAL, CAL.name)
    assert CAL.values[0].target in CAL._repr_html_()


def _trial_result(cls=TrialResult):
    spec = TrialSpec.model_validate(
        {
            "name": "demo",
            "disease": "AD",
            "duration": "16 weeks",
            "arms": {"placebo": {"n": 40, "regimen": []}, "dupi": {"n": 40, "regimen": []}},
            "endpoints": ["EASI-75@16w"],
        }
    )
    cell = {"estimate": 12.5, "ci": [5.0, 25.0], "n": 40, "excluded": 0}
    summary = {"arms": {"placebo": cell, "dupi": dict(cell, estimate=55.0)}}
    summary["arms"] = {a: {"EASI-75@16w": c} for a, c in summary["arms"].items()}
    big = pd.DataFrame({"value": np.arange(100_000.0)})  # the old repr printed all of it
    return cls(spec, big, big, summary, {"trial": "demo"})


@pytest.mark.parametrize("cls", [TrialResult, StreamedTrialResult])
def test_trial_result_display(cls):
    result = _trial_result(cls)
    check_display(result, "demo", "EASI-75@16w", "placebo", "dupi", "55")
    assert "n=40" in repr(result)


def test_twin_display():
    patient = Patient(id="p7", disease="AD")
    prior = Prior(twin_parameters(get_model("skin"), patient))
    theta = np.tile(prior.mu, (50, 8, 1))
    record = VisitRecord(patient, (Visit(day=0.0, values={"EASI": 25.0}),), ())
    diagnostics = {"converged": False, "max_rhat": 1.119, "min_ess_bulk": 112.0}
    twin = Twin(record, prior.parameters, theta, np.zeros((50, 8)), FitSettings(), diagnostics)
    check_display(twin, "p7", "NOT converged", "1.119")
    assert prior.parameters[0].name in twin._repr_html_()


# -- listing helpers -----------------------------------------------------------------------
def test_drug_catalogue_has_every_drug_with_calibrated_fields():
    drugs = dermatwin.drug_catalogue().set_index("name")
    for col in ("diseases", "slot", "route", "dose", "unit", "schedule", "exposure", "source"):
        assert col in drugs.columns
    assert drugs.loc["dupilumab", "emax"] == CAL.drug_overrides("dupilumab")["emax"]
    assert drugs.loc["dupilumab", "calibrated"] == "emax"
    raw = dermatwin.drug_catalogue("none").set_index("name")
    assert raw.loc["dupilumab", "emax"] != drugs.loc["dupilumab", "emax"]
    assert {"placebo", "secukinumab", "upadacitinib"} <= set(drugs.index)


def test_msc_products_lists_every_source_and_origin():
    from dermatwin.therapy.products import SOURCE_FACTORS

    products = dermatwin.msc_products()
    assert len(products) == 2 * len(SOURCE_FACTORS)
    row = products.set_index(["source", "origin"]).loc[("umbilical_cord", "allogeneic")]
    assert (row["potency"], row["clearance_factor"], row["viability"]) == (2.0, 1.5, 0.9)
    assert "IMM-15" in row["source_ids"]


def test_model_parameters_with_units_sources_and_bounds():
    table = dermatwin.model_parameters("skin").set_index("name")
    assert {"value", "unit", "source", "lower", "upper"} <= set(table.columns)
    for name, value in CAL.model_overrides().items():
        assert table.loc[name, "value"] == value and table.loc[name, "calibrated"]
    with pytest.raises(dermatwin.ModelError, match="unknown model"):
        dermatwin.model_parameters("nope")


@pytest.mark.parametrize("command", ["drugs", "products"])
def test_listing_commands_fit_80_columns_and_json(command):
    runner = CliRunner()
    out = runner.invoke(app, [command], env={"COLUMNS": "80"})
    assert out.exit_code == 0, out.output
    assert max(map(len, out.output.splitlines())) <= 80
    assert "secukinumab" in out.output or "umbilical_cord" in out.output
    data = json.loads(runner.invoke(app, [command, "--json"]).output)
    assert isinstance(data, list) and len(data) >= 12


@pytest.mark.parametrize("command", ["simulate", "sensitivity"])
def test_unknown_set_on_the_command_line_writes_nothing(tmp_path, examples_dir, command):
    out = tmp_path / "out"
    scenario = examples_dir / "scenarios" / "shmarov2022_plaque_uvb.yaml"
    args = [command, str(scenario), "--out", str(out), "--parameter-set", "nope"]
    if command == "sensitivity":
        args += ["--output", "totC@10d"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "parameter_set: unknown set 'nope'" in result.output
    assert not out.exists()
