"""The exported SBML, simulated by libRoadRunner, agrees with dermatwin's engine (rtol 1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.engine.events import intervention
from dermatwin.engine.simulate import SolverOptions, equilibrate, simulate
from dermatwin.io.sbml import to_sbml
from dermatwin.model.reference import miyano2021, shmarov2022

roadrunner = pytest.importorskip("roadrunner")

# Output times never coincide with event times (engines differ only in which side of an
# event they report there).
TIGHT = SolverOptions(rtol=1e-9, atol_factor=1e-11)


def roadrunner_run(model, events, y0, times):
    rr = roadrunner.RoadRunner(to_sbml(model, initial_state=y0, events=events))
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-12
    names = [*model.state_names, *model.output_names]
    rr.timeCourseSelections = ["time", *names]
    res = rr.simulate(times=np.concatenate([[0.0], times]))
    return {name: res[1:, k + 1] for k, name in enumerate(names)}


def assert_agree(model, ds, ref, names):
    for name in names:
        np.testing.assert_allclose(
            ds[name].values[0], ref[name], rtol=1e-5, atol=1e-9, err_msg=name
        )


@pytest.mark.parametrize("drug", ["dupilumab", "tralokinumab", "rIFNg"])
def test_miyano_typical_patient_under_treatment(drug):
    model = miyano2021.build()
    y0, status = equilibrate(model)
    assert status[0] == 0
    events = intervention(model, drug, 1.0, stop=60.0)
    times = np.array([0.5, 3.3, 10.1, 28.7, 59.5, 60.5, 84.2, 112.3])
    ds = simulate(model, times, y0=y0[0], events=events, options=TIGHT)
    ref = roadrunner_run(model, events, y0[0], times)
    assert_agree(model, ds, ref, [*model.state_names, "EASI"])


def test_shmarov_plaque_onset_and_uvb():
    model = shmarov2022.build()
    events = shmarov2022.dc_stimulus(10.0, 2.0) + shmarov2022.uvb_course(100.0)
    times = np.array([5.5, 11.5, 40.5, 99.5, 101.5, 130.5, 170.5, 240.5])
    ds = simulate(model, times, events=events, options=TIGHT)
    ref = roadrunner_run(model, events, model.default_initial_state(), times)
    assert_agree(model, ds, ref, [*model.state_names, "totC", "turnover"])
    # the scenario really moves the model: plaque after the stimulus, UVB lowers it
    assert float(ds["PASI_index"][0, 3]) > 0.9
