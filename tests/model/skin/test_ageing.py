"""Ageing module: dermal thinning ~6 %/decade (SCA-03), collagen content ~1 %/year."""

from __future__ import annotations

import numpy as np
import pytest
from core_checks import assert_core_equations_unchanged, core_point

from dermatwin.engine.events import set_parameter
from dermatwin.engine.simulate import equilibrate, simulate
from dermatwin.model.skin import build

YEAR = 365.25


@pytest.fixture(scope="module")
def model():
    return build()


@pytest.fixture(scope="module")
def decades(model):
    """Patients aged 30 and 50 at time 0, equilibrated with the age frozen, then ageing
    for 40 years (ageing clock switched on at time 0)."""
    params = np.vstack([model.parameter_vector({"age_years": a}) for a in (30.0, 50.0)])
    y0, status = equilibrate(model, params)
    assert np.all(status == 0)
    times = np.arange(0.0, 41.0, 10.0) * YEAR
    ev = [set_parameter(0.0, "ageing_clock", 1.0)]
    return simulate(model, times, params, y0=y0, events=ev)


def test_default_age_leaves_core_equations_unchanged(model):
    assert_core_equations_unchanged(model, core_point(model, seed=4))
    values = core_point(model, seed=5, age_years=70.0, ageing_clock=1.0)
    assert_core_equations_unchanged(model, values)


def test_dermal_thickness_falls_six_percent_per_decade(decades):
    assert np.all(decades["status"].values == 0)
    th = decades["dermal_thickness"].values[0]  # ages 30, 40, ..., 70
    assert th[0] == pytest.approx(1.0, abs=1e-9)
    per_decade = (th[0] - th[-1]) / th[0] / 4.0
    assert per_decade == pytest.approx(0.06, abs=0.015)  # SCA-03
    assert np.all(np.diff(th) < 0)
    # a 50-year-old starts where the 30-year-old is 20 years later
    assert decades["dermal_thickness"].values[1, 0] == pytest.approx(th[2], rel=1e-6)


def test_collagen_content_falls_about_one_percent_per_year(decades):
    col = decades["collagen_total"].values[0]  # relative to the same person at 30
    per_year = (1.0 - col[-1]) / 40.0
    assert 0.005 < per_year < 0.015  # SCA-23 (~1 %/year)


def test_elasticity_falls_with_age(decades):
    el = decades["elasticity"].values[0]
    assert np.all(np.diff(el) < 0)
    assert el[-1] < 0.8


def test_frozen_age_is_a_steady_state(model):
    """With the clock stopped (default) an older patient's dermis is constant in time."""
    params = model.parameter_vector({"age_years": 70.0})
    ds = simulate(model, [0.0, 10 * YEAR], params, steady_state=True)
    th = ds["dermal_thickness"].values[0]
    assert th[0] == pytest.approx(1.0 - 0.6 * 0.01 * 40.0, rel=1e-9)
    assert th[1] == pytest.approx(th[0], rel=1e-9)


def test_dermal_collagen_share_falls_with_age_as_histology_shows():
    """AGE_COLLAGEN_25_34 (73.28 %) and AGE_COLLAGEN_65_74 (55.3 %): the model's percent
    collagen score at the middle of each age band, within 10 % of each row (the young
    value is the anchor; the old one is a prediction: 58.1 %)."""
    import numpy as np

    from dermatwin.calibration.targets import observed
    from dermatwin.engine.simulate import simulate
    from dermatwin.model.skin import build

    model = build()
    params = np.vstack([model.parameter_vector({"age_years": a}) for a in (29.5, 69.5)])
    ds = simulate(model, [0.0], params, steady_state=True)
    young, old = ds["dermal_collagen_percent"].values[:, 0]
    assert abs(young - observed("AGE_COLLAGEN_25_34")) <= 0.1 * observed("AGE_COLLAGEN_25_34")
    assert abs(old - observed("AGE_COLLAGEN_65_74")) <= 0.1 * observed("AGE_COLLAGEN_65_74")
    assert old < young
