"""Ageing module: dermal thinning ~6 %/decade (SCA-03), collagen content ~1 %/year;
inflammation (M1 macrophages) lowering dermal collagen; the wrinkle proxy."""

from __future__ import annotations

import numpy as np
import pytest
from core_checks import assert_core_equations_unchanged, core_point

from dermatwin.engine.events import set_parameter
from dermatwin.engine.simulate import equilibrate, simulate
from dermatwin.model.reference.shmarov2022 import dc_stimulus
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


#: the inflammation coupling switched on (its default is 0: off)
COUPLED = 0.25


@pytest.fixture(scope="module")
def plaque_decades(model):
    """The same patient aged 30, with the inflammation -> collagen coupling on (row 0) or
    knocked out (row 1), ageing for 40 years without and with a psoriatic plaque (a
    dendritic-cell pulse at day 0 starts a plaque that persists): ``(no_plaque, plaque)``."""
    params = np.vstack([model.parameter_vector()] * 2)
    y0, status = equilibrate(model, params)
    assert np.all(status == 0)
    params[0, model.parameter_index("inflammatory_collagen_degradation")] = COUPLED
    times = np.arange(0.0, 41.0, 10.0) * YEAR
    ev = [set_parameter(0.0, "ageing_clock", 1.0)]
    quiet = simulate(model, times, params, y0=y0, events=ev)
    plaque = simulate(model, times, params, y0=y0, events=ev + dc_stimulus(0.0, 2.0))
    return quiet, plaque


READ_OUTS = ("collagen_total", "dermal_thickness", "elasticity", "wrinkle_index")


def test_plaque_inflammation_ages_the_dermis_through_m1_macrophages(plaque_decades):
    """Paired: a chronic plaque raises M1 macrophages, which (coupling on) lower collagen,
    thickness and elasticity and raise the wrinkle proxy at every age from 40 to 70."""
    quiet, plaque = plaque_decades
    assert np.all(quiet["status"].values == 0) and np.all(plaque["status"].values == 0)
    assert np.all(plaque["PASI"].values[:, 1:] > 10.0)  # the plaque persists
    assert np.all(plaque["M1"].values[:, 1:] > quiet["M1"].values[:, 1:])
    for name in ("collagen_total", "dermal_thickness", "elasticity"):
        assert np.all(plaque[name].values[0, 1:] < quiet[name].values[0, 1:] - 0.01), name
    assert np.all(plaque["wrinkle_index"].values[0, 1:] > quiet["wrinkle_index"].values[0, 1:])


def test_knocking_out_the_coupling_removes_the_plaque_effect(plaque_decades, decades):
    """Knocked out, the plaque changes no read-out (to the error that decades of
    integration at rtol 1e-6 accumulate along different step sequences, 1e-5; the effect
    with the coupling on is over 1 %)."""
    quiet, plaque = plaque_decades
    for name in READ_OUTS:
        np.testing.assert_allclose(plaque[name].values[1], quiet[name].values[1], rtol=1e-5)
        # and the patient ages as in the tests above (the same 30-year-old)
        np.testing.assert_allclose(quiet[name].values[1], decades[name].values[0], rtol=1e-5)


def test_wrinkle_proxy_rises_with_age(plaque_decades, decades):
    quiet, plaque = plaque_decades
    for ds in (decades, quiet, plaque):
        wr = ds["wrinkle_index"].values
        assert np.all(np.diff(wr, axis=1) > 0)
    assert decades["wrinkle_index"].values[0, 0] == pytest.approx(0.0, abs=1e-9)
    # a 50-year-old starts where the 30-year-old is 20 years later
    assert decades["wrinkle_index"].values[1, 0] == pytest.approx(
        decades["wrinkle_index"].values[0, 2], rel=1e-6
    )
