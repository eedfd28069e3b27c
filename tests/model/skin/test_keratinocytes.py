"""Keratinocyte module: basal cycle time, epidermal thickness, wound closure, MSC repair."""

from __future__ import annotations

import numpy as np
import pytest
from core_checks import assert_core_equations_unchanged, core_point

from dermatwin.engine.events import Event, EventKind
from dermatwin.engine.simulate import REFERENCE_OPTIONS, equilibrate, simulate
from dermatwin.model.reference.shmarov2022 import dc_stimulus
from dermatwin.model.skin import build
from dermatwin.therapy.products import MSCDose, MSCProduct, msc_dose_events

#: injury and dose time (days); outputs at exactly this time are taken before the event
INJURY_DAY = 1.0
#: 1e8 umbilical-cord MSC, subcutaneous, given at the injury
UC_PRODUCT = MSCProduct(source="umbilical_cord", origin="allogeneic")
UC_DOSE = MSCDose(amount=1e8, unit="cells", route="SC", times=[INJURY_DAY])


@pytest.fixture(scope="module")
def model():
    return build()


@pytest.fixture(scope="module")
def healthy_and_plaque(model):
    """Healthy skin (day 149) and the psoriatic plaque a DC pulse starts (day 1000)."""
    return simulate(model, [0.0, 149.0, 1000.0], events=dc_stimulus(150.0, 2.0))


def _time_to(times, values, reached):
    """First time after the injury at which ``reached(values)`` holds (days after injury)."""
    after = times > INJURY_DAY
    hit = reached(values[after])
    assert hit.any(), "never reached"
    return float(times[after][np.argmax(hit)] - INJURY_DAY)


def test_cycle_time_healthy_vs_plaque(healthy_and_plaque):
    cycle = healthy_and_plaque["basal_cycle_time"].values[0]
    healthy, plaque = cycle[1], cycle[2]
    assert healthy == pytest.approx(311.0, rel=0.02)  # BAR-01
    assert plaque == pytest.approx(36.0, rel=0.05)  # BAR-02
    assert healthy / plaque == pytest.approx(311.0 / 36.0, rel=0.15)
    # the mechanistic part: the core's division rate per SC + TA cell is ~3x faster
    rate = healthy_and_plaque["kc_division_rate"].values[0]
    assert rate[2] / rate[1] == pytest.approx(3.07, rel=0.02)
    assert 24.0 / rate[1] == pytest.approx(283.0, rel=0.02)  # unmapped: 283 h vs 311 h


def test_epidermal_thickness_plaque_vs_healthy(healthy_and_plaque):
    thick = healthy_and_plaque["epidermal_thickness"].values[0]
    assert thick[1] == pytest.approx(1.0, abs=1e-3)
    assert thick[2] == pytest.approx(3.0, rel=0.25)  # ANG-16 (model gives 3.34)


def test_growth_factors_speed_wound_closure(model):
    injury = [Event(INJURY_DAY, EventKind.SET_STATE, "wound", 1.0)]
    msc = msc_dose_events(UC_PRODUCT, UC_DOSE)
    times = np.arange(0.0, 40.0, 0.05)
    ds = simulate(model, times, events=[injury, injury + msc])
    wound = ds["wound_open"].values
    closed = [_time_to(times, w, lambda x: x <= 0.03) for w in wound]
    assert closed[0] == pytest.approx(14.0, abs=0.2)  # 97 % closed at 2 weeks (SCA-10)
    assert closed[1] < 0.85 * closed[0]
    assert np.all(wound[:, -1] < 0.01)


def test_growth_factors_speed_barrier_restoration(model):
    """Tape-stripping-like injury of the AD barrier in the typical patient (steady state)."""
    y_ss, _ = equilibrate(model)
    s_before = y_ss[0, model.state_index("s")]
    injury = [Event(INJURY_DAY, EventKind.SET_STATE, "s", 0.2 * s_before)]
    msc = msc_dose_events(UC_PRODUCT, UC_DOSE)
    times = np.arange(0.0, 60.0, 0.05)
    ds = simulate(model, times, y0=y_ss[0], events=[injury, injury + msc])
    s = ds["s"].values
    t90 = [_time_to(times, row, lambda x: x >= 0.9 * s_before) for row in s]
    assert t90[1] < 0.75 * t90[0]


def test_no_therapy_leaves_core_equations_unchanged(model):
    assert_core_equations_unchanged(model, core_point(model, seed=3))
    # an open wound without therapy does not touch the cores either
    assert_core_equations_unchanged(model, core_point(model, seed=4, wound=1.0))


def test_no_therapy_reproduces_core_trajectories(model):
    core = build(modules=())
    times = [0.0, 149.0, 400.0]
    ev = dc_stimulus(150.0, 2.0)
    wound = [Event(200.0, EventKind.SET_STATE, "wound", 1.0)]
    a = simulate(model, times, events=ev + wound, options=REFERENCE_OPTIONS)
    c = simulate(core, times, events=ev, options=REFERENCE_OPTIONS)
    for name in core.state_names:
        np.testing.assert_allclose(a[name].values, c[name].values, rtol=1e-7, atol=1e-9)
