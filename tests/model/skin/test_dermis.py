"""Dermis module: wound -> scar -> remodelling; MSC lower the scar elevation index (SCA-10)."""

from __future__ import annotations

import numpy as np
import pytest
from core_checks import assert_core_equations_unchanged, core_point

from dermatwin.engine.events import Event, EventKind, bolus
from dermatwin.engine.simulate import equilibrate, simulate
from dermatwin.model.skin import build
from dermatwin.therapy.products import MSCDose, MSCProduct, msc_dose_events, msc_parameters

TIMES = np.array([0.0, 7.0, 14.0, 21.0, 28.0, 35.0, 60.0, 90.0, 180.0, 365.0])
DAY35 = 5
ADSC = MSCProduct(source="adipose", origin="allogeneic")
CELLS = 1e7
INJURY = Event(0.0, EventKind.SET_STATE, "wound", 1.0)


def conditioned_medium(model, time: float, cells: float = CELLS, hours: float = 48.0):
    """Secretome and growth factors that ``cells`` unlicensed MSC release in culture over
    ``hours``, injected at ``time`` without cells (the secreted pools, then lost at their
    own rates): the model's reading of MSC-conditioned medium."""
    p = {n: model.parameter(n).value for n in model.parameter_names}
    days = hours / 24.0
    sec = p["msc_secretome_rate"] * p["msc_unlicensed_fraction"] * cells * days
    gf = p["msc_gf_rate"] * p["msc_gf_unlicensed_fraction"] * cells * days
    return [bolus(time, "msc_secretome_pool", sec), bolus(time, "msc_gf_pool", gf)]


@pytest.fixture(scope="module")
def model():
    return build()


@pytest.fixture(scope="module")
def runs(model):
    """Typical patient at steady state: no wound, wound, wound + ADSC at day 14 (SCA-10
    protocol), wound + conditioned medium at day 14 (SCA-11, not fitted)."""
    params = model.parameter_vector(msc_parameters(ADSC))
    y0, status = equilibrate(model, params)
    assert status[0] == 0
    dose = MSCDose(amount=CELLS, unit="cells", route="intralesional", times=[14.0])
    events = [
        [],
        [INJURY],
        [INJURY, *msc_dose_events(ADSC, dose, weight_kg=70.0)],
        [INJURY, *conditioned_medium(model, 14.0)],
    ]
    n = len(events)
    return simulate(model, TIMES, np.vstack([params] * n), y0=np.vstack([y0[0]] * n), events=events)


def test_no_therapy_leaves_core_equations_unchanged(model):
    for seed in (1, 2):
        assert_core_equations_unchanged(model, core_point(model, seed=seed))
    # a wound alone changes no core equation either
    assert_core_equations_unchanged(model, core_point(model, seed=3, wound=1.0))


def test_unwounded_dermis_stays_normal(runs):
    assert np.all(runs["status"].values == 0)
    for name in ("scar_index", "collagen_total", "elasticity"):
        np.testing.assert_allclose(runs[name].values[0], 1.0, atol=1e-9)
    assert np.all(np.abs(runs["myofibroblasts"].values[0]) < 1e-12)


def test_wound_scars_then_remodels(runs):
    sei = runs["scar_index"].values[1]
    myo = runs["myofibroblasts"].values[1]
    assert 1.8 < sei[DAY35] < 3.0  # hypertrophic scar of the rabbit-ear model
    assert np.argmax(myo) in range(2, 6)  # myofibroblast peak 2-5 weeks after injury
    assert sei.max() > sei[DAY35]  # still rising at day 35
    assert 1.0 < sei[-1] < 0.6 * sei.max()  # partial remodelling within a year
    c1 = runs["collagen_I"].values[1]
    c3 = runs["collagen_III"].values[1]
    ratio = c1 / c3
    assert ratio[2] < 0.7  # early scar rich in type III
    assert ratio[-1] > ratio[DAY35]  # type III replaced by type I later


def test_scar_is_less_elastic(runs):
    el = runs["elasticity"].values[1]
    assert el[DAY35] < 0.75
    assert el[-1] > el[DAY35]


def test_adsc_at_day_14_lower_scar_elevation_by_44_percent(runs):
    sei = runs["scar_index"].values[:, DAY35]
    reduction = 1.0 - sei[2] / sei[1]
    assert reduction == pytest.approx(0.4404, abs=0.10)  # SCA-10
    # the same cells help no earlier than they are given
    np.testing.assert_allclose(runs["scar_index"].values[2, :3], runs["scar_index"].values[1, :3])


def test_conditioned_medium_prediction(runs):
    """Out of sample (SCA-11: 32.5 % for conditioned medium): not fitted, so only the
    ordering is asserted; the predicted reduction is printed for the report."""
    sei = runs["scar_index"].values[:, DAY35]
    cells = 1.0 - sei[2] / sei[1]
    medium = 1.0 - sei[3] / sei[1]
    print(f"SEI day 35 reduction: cells {cells:.3f}, conditioned medium {medium:.3f}")
    assert 0.0 < medium < cells
