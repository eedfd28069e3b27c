"""Immune module: MSC secretome suppresses effector T cells and induces Tregs."""

from __future__ import annotations

import numpy as np
import pytest
from core_checks import assert_core_equations_unchanged, core_point

from dermatwin.engine.events import set_parameter
from dermatwin.engine.simulate import REFERENCE_OPTIONS, simulate
from dermatwin.model.reference.shmarov2022 import dc_stimulus
from dermatwin.model.skin import build, cores, immune

#: secretome levels (au = MSC per T cell): none, 1:30, 1:5, 1:3, 1:1, 3:1, saturating
LEVELS = [0.0, 1 / 30, 0.2, 1 / 3, 1.0, 3.0, 1e4]


def _with_secretome_feed():
    """The cores plus the immune module, fed by a test parameter ``test_secretome``.

    Built by hand (not registered) so the test feed never joins the global registry."""
    b = cores.merged_cores()
    immune.add(b)
    level = b.parameter(
        "test_secretome", 0.0, unit="au", source="assumed: test input", description="test"
    )
    b.add_signal("msc_secretome", level)
    return b.build()


@pytest.fixture(scope="module")
def model():
    return _with_secretome_feed()


@pytest.fixture(scope="module")
def core():
    return build(modules=())


def test_no_signal_leaves_core_equations_unchanged(model, core):
    values = core_point(model, seed=1)
    assert_core_equations_unchanged(model, values)
    assert float(model.rhs[model.state_index("Treg")].xreplace(values)) == 0.0


def test_no_signal_reproduces_core_trajectories(model, core):
    times = [0.0, 150.0, 300.0, 1000.0]
    ev = dc_stimulus(150.0, 2.0)
    a = simulate(model, times, events=ev, options=REFERENCE_OPTIONS)
    c = simulate(core, times, events=ev, options=REFERENCE_OPTIONS)
    for name in core.state_names:
        np.testing.assert_allclose(a[name].values, c[name].values, rtol=1e-7, atol=1e-9)
    assert np.all(a["Treg"].values == 1.0)
    assert np.all(a["T_suppression"].values == 0.0)


def test_suppression_capped_and_dose_dependent(model):
    params = np.vstack([model.parameter_vector({"test_secretome": x}) for x in LEVELS])
    sup = simulate(model, [0.0], params)["T_suppression"].values[:, 0]
    assert sup[0] == 0.0
    assert np.all(np.diff(sup) > 0)
    assert sup[1] < 0.10  # 1:30 is not effective for adult MSC (IMM-06)
    assert sup[2] > 0.20  # 1:5 is (IMM-05)
    assert 0.65 <= sup[-1] <= 0.70  # 65-75 % maximal suppression (IMM-02..04)


def test_secretome_resolves_psoriatic_plaque(model):
    events = [
        [*dc_stimulus(150.0, 2.0), set_parameter(1000.0, "test_secretome", x)] for x in LEVELS
    ]
    ds = simulate(model, [999.0, 1500.0], events=events)
    il17 = ds["IL17_pso"].values
    ratio = ds["Treg_T_ratio_pso"].values
    # every patient has the published plaque before MSC (IL-17 65.5, SHMAROV2022)
    np.testing.assert_allclose(il17[:, 0], 65.5, rtol=2e-3)
    assert il17[0, 1] == pytest.approx(65.5, rel=2e-3)  # no MSC: plaque persists
    assert np.all(np.diff(il17[:, 1]) < 0)
    assert np.all(np.diff(ratio[:, 1]) > 0)
    assert il17[3, 1] < 0.5 * il17[0, 1]  # MSC:T 1:3 more than halves IL-17
    assert ds["PASI_index"].values[3, 1] < 0.2


def test_secretome_lowers_ad_th17_and_il17(model):
    events = [[set_parameter(0.0, "test_secretome", x)] for x in LEVELS]
    ds = simulate(model, [0.0, 112.0], events=events, steady_state=True)
    il17 = ds["IL17"].values[:, 1]
    ratio = ds["Treg_Th17_ratio"].values[:, 1]
    easi = ds["EASI"].values[:, 1]
    assert easi[0] == pytest.approx(25.22, abs=0.01)  # Miyano typical patient untreated
    assert np.all(np.diff(il17) < 0)
    assert np.all(np.diff(ratio) > 0)
    assert np.all(np.diff(easi) < 0)
    assert il17[3] < 0.6 * il17[0]
