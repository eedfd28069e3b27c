"""Vasculature module: VEGF, vessel density (2.8x in plaques), regression, erythema, MSC VEGF."""

from __future__ import annotations

import numpy as np
import pytest
from core_checks import assert_core_equations_unchanged, core_point

from dermatwin.engine.events import Event, EventKind
from dermatwin.engine.simulate import simulate
from dermatwin.model.reference.shmarov2022 import dc_stimulus, uvb_course
from dermatwin.model.skin import build
from dermatwin.therapy.products import MSCDose, MSCProduct, msc_dose_events

UVB_START = 1000.0


@pytest.fixture(scope="module")
def model():
    return build()


def test_healthy_and_plaque_vessels(model):
    ds = simulate(model, [0.0, 149.0, 1000.0], events=dc_stimulus(150.0, 2.0))
    vegf = ds["VEGF"].values[0]
    ves = ds["vessel_density"].values[0]
    ery = ds["erythema"].values[0]
    assert vegf[1] == pytest.approx(1.0, abs=1e-3)
    assert ves[1] == pytest.approx(1.0, abs=1e-3)
    assert ery[1] == pytest.approx(0.0, abs=1e-2)
    assert 25.0 <= vegf[2] <= 29.0  # ANG-12 (29x), ANG-13 (25x)
    assert ves[2] == pytest.approx(2.8, rel=0.10)  # ANG-10
    assert ery[2] == pytest.approx(3.0, abs=0.1)  # calibrated map: marked redness


def test_vessels_regress_after_uvb_clears_plaque(model):
    times = np.arange(UVB_START - 1.0, UVB_START + 200.0, 1.0)
    events = dc_stimulus(150.0, 2.0) + uvb_course(UVB_START)
    ds = simulate(model, times, {"uv_eff": 0.08}, events=events)

    def at(name, day):
        return float(ds[name].values[0, np.searchsorted(times, UVB_START + day)])

    assert at("vessel_density", -1) == pytest.approx(2.8, rel=0.10)
    assert at("PASI_index", 60) < 0.1  # the plaque has cleared by 2 months
    # VEGF follows IL-17/TNF within days; the vessels lag by weeks, then normalise
    assert at("VEGF", 60) < 1.5
    assert at("vessel_density", 60) > 1.5
    assert at("vessel_density", 100) < 1.25
    assert at("vessel_density", 190) == pytest.approx(1.0, abs=0.03)
    assert at("erythema", 190) < 0.2


def test_msc_growth_factors_raise_vegf_and_vessels_transiently(model):
    """Wounded healthy skin given 1e8 UC-MSC SC, against the same dose without MSC VEGF."""
    product = MSCProduct(source="umbilical_cord", origin="allogeneic")
    dose = MSCDose(amount=1e8, unit="cells", route="SC", times=[1.0])
    events = [Event(1.0, EventKind.SET_STATE, "wound", 1.0), *msc_dose_events(product, dose)]
    params = np.vstack([model.parameter_vector(), model.parameter_vector({"vegf_per_gf": 0.0})])
    times = np.arange(0.0, 240.0, 0.25)
    ds = simulate(model, times, params, events=events)
    vegf = ds["VEGF"].values
    ves = ds["vessel_density"].values
    assert vegf[0].max() > 1.5  # MSC VEGF (x5 in the hypoxic wound, ANG-05)
    assert vegf[0].max() > vegf[1].max() + 0.5
    assert ves[0].max() > 1.03
    assert ves[0].max() > ves[1].max() + 0.03
    # transient: the growth factors are gone within weeks; the excess vessels carry in
    # more T cells (vessel_influx_exp), which slows their own regression through the
    # core's IL-17/TNF, so the excess fades over months
    assert abs(ves[0, -1] - ves[1, -1]) < 0.2 * (ves[0].max() - ves[1].max())


def test_no_therapy_leaves_core_equations_unchanged(model):
    assert_core_equations_unchanged(model, core_point(model, seed=5))
    assert_core_equations_unchanged(model, core_point(model, seed=6, VEGF=27.0, wound=1.0))
