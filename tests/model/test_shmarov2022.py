"""Shmarov 2022 reproduced: healthy and plaque steady states, turnover, bistability."""

from __future__ import annotations

import numpy as np
import pytest
from support import assert_published

from dermatwin.engine.simulate import REFERENCE_OPTIONS, simulate
from dermatwin.model.reference import shmarov2022


@pytest.fixture(scope="module")
def model():
    return shmarov2022.build()


def after_stimulus(model, days, end=2000.0):
    return simulate(
        model,
        [0.0, 149.0, end],
        events=shmarov2022.dc_stimulus(150.0, days),
        options=REFERENCE_OPTIONS,
    )


def test_healthy_state_is_steady(model):
    ds = simulate(model, [0.0, 1000.0], options=REFERENCE_OPTIONS)
    for k, name in enumerate(model.state_names):
        np.testing.assert_allclose(ds[name][0, 1], model.states[k].initial, rtol=1e-3)
    assert_published(float(ds["totC"][0, 0]), "79828")
    assert abs(float(ds["PASI_index"][0, 0])) < 1e-3
    assert_published(float(ds["turnover"][0, 0]), "41.3")


def test_plaque_state_after_two_day_stimulus(model):
    ds = after_stimulus(model, 2.0)
    published = shmarov2022.PUBLISHED_PLAQUE
    for name, text in published.items():
        assert_published(float(ds[name][0, -1]), text)


@pytest.mark.parametrize(("days", "plaque"), [(1.0, False), (1.5, True), (2.0, True), (3.0, True)])
def test_bistability(model, days, plaque):
    ds = after_stimulus(model, days)
    pasi = float(ds["PASI_index"][0, -1])
    assert pasi == pytest.approx(1.0 if plaque else 0.0, abs=1e-3)
    assert float(ds["PASI_index"][0, 1]) == pytest.approx(0.0, abs=1e-3)


def test_uvb_course_clears_plaque(model):
    """The published UVB ladder (uv_eff 0.08) takes a plaque back towards healthy skin."""
    params = {"uv_eff": 0.08}
    events = shmarov2022.dc_stimulus(150.0, 2.0) + shmarov2022.uvb_course(300.0)
    ds = simulate(model, [0.0, 299.0, 380.0], params, events=events, options=REFERENCE_OPTIONS)
    before, after = float(ds["PASI_index"][0, 1]), float(ds["PASI_index"][0, 2])
    assert before == pytest.approx(1.0, abs=1e-2)
    assert after < 0.5 * before
