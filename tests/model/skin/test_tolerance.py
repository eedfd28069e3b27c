"""Tolerance module: the host-carried MSC effect, on the same virtual patients with and
without MSC (paired; the shipped set CAL-2, no placebo term, 24 AD patients)."""

from __future__ import annotations

import numpy as np
import pytest

from dermatwin.engine.simulate import simulate
from dermatwin.model.skin import build
from dermatwin.params.parameter_set import load_parameter_set
from dermatwin.patients.population import PopulationSpec, generate
from dermatwin.therapy.regimen import Regimen, msc_course

N = 24
WEEK = 7.0
ADIPOSE_IV = {"source": "adipose", "origin": "autologous", "unit": "cells", "route": "IV"}


@pytest.fixture(scope="module")
def model():
    return build().with_defaults(**load_parameter_set("CAL-2").model_overrides())


@pytest.fixture(scope="module")
def population(model):
    spec = PopulationSpec(disease="AD", inclusion={"EASI": {"min": 16}, "IGA": {"min": 3}})
    return generate(model, spec, N, seed=14)


def _easi(model, pop, times, course=None, **overrides):
    """EASI (patients x times) of the population given ``course`` (or nothing)."""
    params = np.array(pop.parameters, copy=True)
    events = []
    if course is not None:
        plan = Regimen([course], horizon_days=float(times[-1])).plan()
        for name, value in plan.parameters.items():
            params[:, model.parameter_index(name)] = value
        events = plan.events
    for name, value in overrides.items():
        params[:, model.parameter_index(name)] = value
    ds = simulate(model, times, params, y0=pop.y0, events=events, start_status=pop.status)
    assert np.all(ds["status"].values == 0)
    return ds["EASI"].values


def _paired(model, pop, times, course, **overrides):
    """Mean EASI difference (MSC minus none) per time, and the paired EASI-75 difference
    (percentage points) per time."""
    treated = _easi(model, pop, times, course, **overrides)
    control = _easi(model, pop, times)

    def responders(e):
        return 100.0 * np.mean((e - e[:, :1]) / e[:, :1] <= -0.75, axis=0)

    return treated.mean(axis=0) - control.mean(axis=0), responders(treated) - responders(control)


def _iv(amount=1e8, times=(0.0, 28.0)):
    return msc_course(amount=amount, times=times, **ADIPOSE_IV)


def test_iv_effect_builds_over_weeks_and_needs_apoptosis(model, population):
    """Two IV doses of 1e8 adipose MSC 4 weeks apart (the ADSTEM design): the paired mean
    EASI difference grows from week 4 to week 16; with apoptosis blocked
    (MECH_PANG2021_APOPTOSIS, msc_apoptosis_block = 1) it falls by at least half."""
    times = np.array([0.0, 4.0, 16.0]) * WEEK
    diff, _ = _paired(model, population, times, _iv())
    blocked, _ = _paired(model, population, times, _iv(), msc_apoptosis_block=1.0)
    assert diff[2] < diff[1] < 0.0
    assert abs(blocked[2]) <= 0.5 * abs(diff[2])


def test_removing_the_tolerance_path_removes_most_of_the_iv_effect(model, population):
    """Knock-out of the tolerance module's coupling (tol_induction = 0: no tolerogenic
    phagocytes, no induced Tregs): under the ADSTEM design the paired mean EASI
    difference at week 16 shrinks by at least 2/3 (what is left is the acute secretome
    of the living cells)."""
    times = np.array([0.0, 16.0]) * WEEK
    diff, _ = _paired(model, population, times, _iv())
    without, _ = _paired(model, population, times, _iv(), tol_induction=0.0)
    assert diff[1] < 0.0
    assert abs(without[1]) <= abs(diff[1]) / 3.0


def test_iv_dose_response_saturates_above_1e8_cells(model, population):
    """DOSE_KABAT2020_MED: doubling an IV dose above the minimal effective dose (~1e8)
    changes the paired EASI difference at week 16 by less than a third."""
    times = np.array([0.0, 16.0]) * WEEK
    low, _ = _paired(model, population, times, _iv(1e8))
    high, _ = _paired(model, population, times, _iv(2e8))
    assert low[1] < 0.0
    assert abs(high[1] - low[1]) < abs(low[1]) / 3.0


def test_iv_effect_lasts_months_not_days(model, population):
    """Three IV doses (weeks 0, 2, 4): the patients with the larger paired benefit at week
    12 (top half) keep most of it at week 24 and lose most of it over months (CAL-2, 24
    patients: benefit 9.6 EASI points at week 12, 9.7 at week 24, 4.8 at week 52, 0.4 at
    week 104)."""
    times = np.array([0.0, 12.0, 24.0, 52.0, 104.0]) * WEEK
    course = _iv(1e8, (0.0, 14.0, 28.0))
    benefit = _easi(model, population, times) - _easi(model, population, times, course)
    responders = benefit[:, 1] >= np.median(benefit[:, 1])
    mean = benefit[responders].mean(axis=0)
    assert mean[1] > 1.0
    assert mean[2] >= 0.75 * mean[1]
    assert mean[3] <= 0.75 * mean[1]
    assert mean[4] <= 0.25 * mean[1]
