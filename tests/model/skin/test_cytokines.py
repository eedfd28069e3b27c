"""Cytokine module: IL-10 half-life (PK-12), TARC as a Th2 biomarker, TGF-beta, IL-17."""

from __future__ import annotations

import numpy as np
import pytest
from core_checks import assert_core_equations_unchanged, core_point

from dermatwin.engine.events import Event, EventKind, intervention
from dermatwin.engine.simulate import equilibrate, simulate
from dermatwin.model.reference.shmarov2022 import dc_stimulus
from dermatwin.model.skin import build

HOUR = 1.0 / 24.0


@pytest.fixture(scope="module")
def model():
    return build()


@pytest.fixture(scope="module")
def lesion(model):
    y0, status = equilibrate(model)
    assert status[0] == 0
    return y0[0]


def test_no_therapy_leaves_core_equations_unchanged(model):
    for seed in (1, 2):
        assert_core_equations_unchanged(model, core_point(model, seed=seed))
    assert_core_equations_unchanged(model, core_point(model, seed=3, IL10=5.0, TGFb=3.0))


def test_il10_half_life_is_about_three_hours(model, lesion):
    times = np.arange(0.0, 13.0) * HOUR
    pulse = Event(0.0, EventKind.SET_STATE, "IL10", 10.0)
    ds = simulate(model, times, y0=lesion, events=[pulse])
    il10 = ds["IL10"].values[0]
    base = il10[0]
    excess = il10[1:] - base  # outputs at an event time show the state before it
    t = times[1:]
    rate = -np.polyfit(t, np.log(excess), 1)[0]
    half_life_h = np.log(2.0) / rate * 24.0
    assert half_life_h == pytest.approx(3.0, abs=0.3)  # PK-12 (PK-01..08: 1.9-4.5 h)


def test_tarc_tracks_th2_cytokines(model, lesion):
    times = [0.0, 112.0]
    ev = [[], intervention(model, "dupilumab", 0.0)]
    ds = simulate(model, times, y0=np.vstack([lesion] * 2), events=ev)
    tarc = ds["TARC"].values
    # typical patient (EASI 25) at the mean of severe AD (NH_TARC_GU2015_SEV)
    assert tarc[0, 0] == pytest.approx(1216.6, rel=0.01)
    assert tarc[0, 1] == pytest.approx(tarc[0, 0], rel=1e-6)
    # dupilumab clears the lesion: TARC falls below the diagnostic cut-off
    assert ds["EASI"].values[1, 1] < 0.5 * ds["EASI"].values[1, 0]
    assert tarc[1, 1] < 510.0  # NH_TARC_CUTOFF_GE6Y
    assert tarc[1, 1] > 160.0 - 1e-6  # not below healthy (NH_TARC_GU2015_HEALTHY)


def test_serum_il17_rises_in_a_psoriatic_plaque(model):
    ds = simulate(model, [149.0, 400.0], events=dc_stimulus(150.0, 2.0))
    il17 = ds["serum_IL17"].values[0]
    assert il17[0] == pytest.approx(5.0, abs=0.5)  # healthy psoriasis core
    assert il17[1] - il17[0] == pytest.approx(28.92, rel=0.05)  # NH_PSO_SERUM_IL17_MD


def test_wound_raises_tgfb(model, lesion):
    injury = Event(0.0, EventKind.SET_STATE, "wound", 1.0)
    ds = simulate(model, [0.0, 3.0], y0=lesion, events=[injury])
    tgfb = ds["TGFb_serum"].values[0]
    assert tgfb[1] > 1.5 * tgfb[0]
