"""Barrier module: TEWL/hydration read-outs, FLG loss, emollient, MSC growth factors."""

from __future__ import annotations

import numpy as np
import pytest
from core_checks import assert_core_equations_unchanged, core_point

from dermatwin.engine.events import bolus
from dermatwin.engine.simulate import equilibrate, simulate
from dermatwin.model.skin import barrier, cores

#: the dupilumab parameter set (Miyano 2021): the typical patient's cleared skin
CLEARED = {"PLAC": 1.0, "e_IL4": 0.99, "e_IL13": 0.99}


def _with_growth_factor_feed():
    """The cores plus the barrier module, fed by a test parameter ``test_gf``.

    Built by hand (not registered) so the test feed never joins the global registry."""
    b = cores.merged_cores()
    barrier.add(b)
    level = b.parameter("test_gf", 0.0, unit="au", source="assumed: test input", description="t")
    b.add_signal("msc_growth_factors", level)
    return b.build()


@pytest.fixture(scope="module")
def model():
    return _with_growth_factor_feed()


@pytest.fixture(scope="module")
def typical(model):
    """Steady states: typical patient (lesional), cleared by dupilumab, FLG carrier."""
    params = np.vstack(
        [
            model.parameter_vector(),
            model.parameter_vector(CLEARED),
            model.parameter_vector({"flg_loss": 1.0}),
        ]
    )
    return simulate(model, [0.0], params, steady_state=True)


def test_tewl_healthy_nonlesional_lesional(model, typical):
    y0 = model.default_initial_state()
    y0[model.state_index("s")] = 1.0
    healthy = simulate(model, [0.0], y0=y0)
    assert float(healthy["TEWL"][0, 0]) == pytest.approx(11.6, rel=0.10)  # BAR-30
    assert float(healthy["SC_hydration"][0, 0]) == pytest.approx(50.73, rel=0.10)  # BAR-33
    tewl = typical["TEWL"].values[:, 0]
    sch = typical["SC_hydration"].values[:, 0]
    assert tewl[0] == pytest.approx(28.68, rel=0.10)  # lesional, BAR-32
    assert sch[0] == pytest.approx(25.2, rel=0.10)  # BAR-35
    # non-lesional is not a calibration anchor: a prediction from the cleared state
    assert tewl[1] == pytest.approx(13.15, rel=0.10)  # BAR-31
    assert sch[1] == pytest.approx(40.95, rel=0.15)  # BAR-34 (over-predicted by ~12 %)


def test_flg_loss_raises_tewl_and_easi(typical):
    assert typical["TEWL"].values[2, 0] > 1.2 * typical["TEWL"].values[0, 0]
    assert typical["EASI"].values[2, 0] > typical["EASI"].values[0, 0] + 3.0


def test_emollient_lowers_tewl(model):
    twice_daily = [bolus(d + h, "emollient", 1.0) for d in range(28) for h in (0.0, 0.5)]
    ds = simulate(model, [0.0, 27.9], events=[[], twice_daily], steady_state=True)
    tewl = ds["TEWL"].values[:, -1]
    assert tewl[0] == pytest.approx(28.68, rel=0.10)
    assert tewl[1] < 0.8 * tewl[0]
    assert ds["EASI"].values[1, -1] < ds["EASI"].values[0, -1]


def test_growth_factors_speed_barrier_recovery(model):
    y_ss, _ = equilibrate(model)
    s_index = model.state_index("s")
    s_before = y_ss[0, s_index]
    injured = y_ss[0].copy()
    injured[s_index] = 0.2 * s_before  # acute barrier injury (e.g. tape stripping)
    levels = [0.0, 0.3, 1.0, 3.0]
    params = np.vstack([model.parameter_vector({"test_gf": g}) for g in levels])
    times = np.arange(0.0, 200.0, 0.25)
    s = simulate(model, times, params, y0=injured)["s"].values
    recovery = np.array([times[np.argmax(row >= 0.9 * s_before)] for row in s])
    assert np.all(s[:, -1] >= 0.9 * s_before)
    assert np.all(np.diff(recovery) < 0)
    assert recovery[2] < 0.8 * recovery[0]


def test_no_flg_emollient_or_signal_leaves_core_equations_unchanged(model):
    assert_core_equations_unchanged(model, core_point(model, seed=2))
