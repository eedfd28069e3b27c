"""The plaque-level transform of the psoriasis core (dermatwin.model.skin.plaques)."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin._base.errors import ModelError
from dermatwin.engine.simulate import solve
from dermatwin.model.reference import shmarov2022
from dermatwin.model.skin.plaques import FAST_STATES, MAX_PLAQUES, plaque_model, plaque_state

TIMES = [0.0, 7.0, 28.0, 56.0, 84.0, 140.0]


def _plaque_start(model, plaques: int) -> np.ndarray:
    y = model.default_initial_state()
    for name, value in shmarov2022.PUBLISHED_PLAQUE.items():
        for k in range(1, plaques + 1):
            if plaque_state(name, k) in model.state_names:
                y[model.state_index(plaque_state(name, k))] = float(value)
    return y


def _index(model, plaques: int, **values) -> np.ndarray:
    """PASI_index of a plaque under a UVB course from the published plaque."""
    p = model.parameter_vector({"trm_dc_drive": 0.0, **values})
    events = shmarov2022.uvb_course(0.0)
    sol = solve(model, TIMES, p[None, :], y0=_plaque_start(model, plaques), events=events)
    assert sol.status[0] == 0
    return sol.outputs(model)["PASI_index"][0]


@pytest.mark.parametrize("bad", [0, MAX_PLAQUES + 1, 2.5, True, "8"])
def test_a_bad_plaque_count_is_a_one_line_error(bad):
    with pytest.raises(ModelError, match=r"^plaques: .*allowed: a whole number 1-16$"):
        plaque_model(shmarov2022.build(), bad)


def test_one_plaque_follows_the_published_core():
    """Fast states at their quasi-steady state: within 2 % of the full core under UVB."""
    core = shmarov2022.build()
    events = shmarov2022.uvb_course(0.0)
    y0 = core.default_initial_state()
    for name, value in shmarov2022.PUBLISHED_PLAQUE.items():
        if name in core.state_names:
            y0[core.state_index(name)] = float(value)
    full = solve(core, TIMES, core.default_parameters()[None, :], y0=y0, events=events)
    want = full.outputs(core)["PASI_index"][0]
    one = plaque_model(core, 1)
    assert not any(plaque_state(n, 1) in one.state_names for n in FAST_STATES)
    got = _index(one, 1)
    assert want[-1] < 0.5 < want[0]  # the course clears the plaque
    np.testing.assert_allclose(got, want, atol=0.02)


def test_identical_plaques_give_the_one_plaque_patient():
    one = _index(plaque_model(shmarov2022.build(), 1), 1)
    two = _index(plaque_model(shmarov2022.build(), 2), 2)
    np.testing.assert_allclose(two, one, rtol=1e-6)


def test_a_less_sensitive_plaque_clears_first():
    """Plaque factors set a plaque's loop gain: the plaque with lower rates clears, the
    other stays, and the patient's index is their area-weighted mean."""
    model = plaque_model(shmarov2022.build(), 2)
    low = {f"plaque_{r}_p1": 0.85 for r in ("t2", "il232", "il172")}
    high = {f"plaque_{r}_p2": 1.15 for r in ("t2", "il232", "il172")}
    areas = {"plaque_area_p1": 0.25, "plaque_area_p2": 0.75}
    p = model.parameter_vector({"trm_dc_drive": 0.0, **low, **high, **areas})
    sol = solve(model, [0.0, 400.0], p[None, :], y0=_plaque_start(model, 2))
    idx = sol.outputs(model)["PASI_index"][0]
    t1 = sol.state_values[0, -1, model.state_index("T_p1")]
    t2 = sol.state_values[0, -1, model.state_index("T_p2")]
    assert t1 < shmarov2022.PASI_SCALE["T"][0] < shmarov2022.PASI_SCALE["T"][1] < t2
    assert 0.5 < idx[-1] < 2.0
