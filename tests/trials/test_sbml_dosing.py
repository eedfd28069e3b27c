"""A regimen exported by `dermatwin export sbml skin --regimen`: libRoadRunner runs its
doses as SBML events and matches dermatwin's engine within 1e-6 relative."""

from __future__ import annotations

import libsbml
import numpy as np
import pytest
from typer.testing import CliRunner

from dermatwin.cli import app
from dermatwin.engine.simulate import SolverOptions, simulate
from dermatwin.io.sbml import sbml_name_map
from dermatwin.therapy.items import DrugItem, MSCItem
from dermatwin.trials.sbml_dosing import arm_dosing, regimen_dosing
from dermatwin.trials.spec import TrialError, load_trial

roadrunner = pytest.importorskip("roadrunner")

REGIMEN = """\
name: dupilumab and IV MSC for 4 weeks
horizon: 4 weeks
regimen:
  - {drug: dupilumab}
  - msc: {source: umbilical_cord, origin: allogeneic, amount: 2.0e6, unit: cells/kg,
          route: IV, times: [0, 14]}
"""
# output times away from the dose days (0, 14): the engines report opposite sides there
TIMES = np.array([0.5, 2.3, 6.9, 13.5, 14.5, 17.2, 27.5])
TIGHT = SolverOptions(rtol=1e-10, atol_factor=1e-12, method="rodas4")


def test_exported_regimen_matches_the_engine(tmp_path):
    regimen, out = tmp_path / "regimen.yaml", tmp_path / "dosed.xml"
    regimen.write_text(REGIMEN)
    args = ["export", "sbml", "skin", "--regimen", str(regimen), "--weight", "60", "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text()

    # the same regimen through the Python API
    items = [
        DrugItem(drug="dupilumab"),
        MSCItem(
            msc={
                "source": "umbilical_cord",
                "origin": "allogeneic",
                "amount": 2.0e6,
                "unit": "cells/kg",
                "route": "IV",
                "times": [0, 14],
            }
        ),
    ]
    labelled = [(f"regimen[{i}]", item) for i, item in enumerate(items)]
    dosed = regimen_dosing(labelled, horizon_days=28.0, weight_kg=60.0)
    assert {e.target for e in dosed.events} >= {"drug_il4r", "msc_blood"}
    doc = libsbml.readSBMLFromString(text)
    assert doc.getModel().getNumEvents() == len({e.time for e in dosed.events})
    # doses carry units: libSBML's unit check finds only the published Miyano equation
    # of p (tests/io/test_sbml.py), none of them in an event
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_MODELING_PRACTICE, False)
    doc.checkConsistency()
    units = [doc.getError(i) for i in range(doc.getNumErrors())]
    assert [e.getErrorId() for e in units] == [10501, 10501, 10532]
    assert all("variable 'p'" in e.getMessage() or "d8 + " in e.getMessage() for e in units)

    model = dosed.model
    ds = simulate(model, TIMES, dosed.parameters, events=dosed.events, options=TIGHT)
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance = 1e-11
    rr.integrator.absolute_tolerance = 1e-14
    ids = sbml_name_map(model)
    names = [*model.state_names, "EASI", "msc_given"]
    rr.timeCourseSelections = ["time", *(ids[n] for n in names)]
    got = np.asarray(rr.simulate(times=[0.0, *TIMES]))[1:, 1:]
    want = np.column_stack([ds[n].values[0] for n in names])
    # relative 1e-6 of every value above a millionth of its state's typical size; below
    # that (IV cells cleared from blood within hours: 1e8 -> 4e-3 cells in half a day),
    # within 1e-12 of the typical size, since both solvers keep absolute tolerances there
    scale = np.array([*(s.scale for s in model.states), 1.0, 1.0])
    err = np.abs(got - want) / np.maximum(np.abs(want), 1e-6 * scale)
    assert err.max() < 1e-6, (names[int(np.argmax(err.max(axis=0)))], err.max())
    # the doses act: exposure after the first dose, cells given, EASI moves
    k = names.index("drug_il4r")
    assert want[0, k] > 0 and want[-1, names.index("msc_given")] > 0


def test_trial_arm_dosing(examples_dir):
    spec = load_trial(examples_dir / "trials" / "solo1_dupilumab_ad.yaml")
    dosed = arm_dosing(spec, "dupilumab")
    assert dosed.events and all(e.time >= 0 for e in dosed.events)
    assert {e.target for e in dosed.events} == {"drug_il4r", "PLAC"}  # + the vehicle
    with pytest.raises(TrialError, match="arm 'nope' is not an arm .*allowed: dupilumab"):
        arm_dosing(spec, "nope")


def test_skin_export_carries_the_calibrated_set():
    from dermatwin.run import resolve_parameter_set
    from dermatwin.trials.sbml_dosing import calibrated_skin

    overrides = resolve_parameter_set("default").model_overrides()
    assert overrides  # the default set fits model values
    model = calibrated_skin("default")
    assert {k: model.parameter(k).value for k in overrides} == overrides
    uncalibrated = calibrated_skin("none")
    assert any(uncalibrated.parameter(k).value != v for k, v in overrides.items())
