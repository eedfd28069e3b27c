"""Placebo onset: the placebo/vehicle response builds over weeks, not at once (issue 19)."""

from __future__ import annotations

import pytest
import sympy as sp
from core_checks import assert_core_equations_unchanged, core_point

from dermatwin.model.skin import build
from dermatwin.params import load_parameter_set
from dermatwin.params.parameter_set import FittedValue
from dermatwin.trials.run import run_trial
from dermatwin.trials.spec import TrialSpec

WEEKS = (1, 4, 8, 16)
INCLUSION = {"AD": {"EASI": {"min": 16}, "IGA": {"min": 3}}, "psoriasis": {"PASI": {"min": 12}}}
SCORE = {"AD": "EASI", "psoriasis": "PASI"}


def _placebo_course(disease: str, **onset_days: float) -> dict[int, float]:
    """Mean % change of the score of a 30-patient placebo arm at ``WEEKS`` (shipped set,
    onset time constants replaced by ``onset_days``)."""
    pset = load_parameter_set("default")
    for name, days in onset_days.items():
        pset = pset.with_value(
            FittedValue(
                target=f"model.{name}",
                value=days,
                unit="day",
                bounds=(0.0, 365.0),
                fitted_to=["test"],
                trial="test",
            )
        )
    score = SCORE[disease]
    spec = TrialSpec.model_validate(
        {
            "name": "placebo course",
            "disease": disease,
            "seed": 3,
            "duration": "16 weeks",
            "population": {"inclusion": INCLUSION[disease]},
            "background": [{"drug": "placebo"}],
            "arms": {"placebo": {"n": 30}},
            "endpoints": [f"mean_pct_change:{score}@{w}w" for w in WEEKS],
            "parameter_set": pset,
        }
    )
    arm = run_trial(spec).summary["arms"]["placebo"]
    return {w: -arm[f"mean_pct_change:{score}@{w}w"]["estimate"] for w in WEEKS}


@pytest.fixture(scope="module")
def ad():
    return _placebo_course("AD"), _placebo_course("AD", placebo_onset_days=0.0)


def test_ad_placebo_response_builds_over_weeks(ad):
    course, _ = ad
    assert course[1] > 0  # it does start in week 1
    assert course[1] < 0.4 * course[8]  # mostly after the first week
    assert course[4] > 0.4 * course[16]  # about half by week 4
    assert course[16] - course[8] < 0.25 * course[16]  # most by week 8


def test_ad_onset_knocked_out_acts_at_once_with_the_same_endpoint_size(ad):
    course, instant = ad
    assert instant[1] > 0.55 * instant[8]  # the published core's instant vehicle term
    assert course[1] < instant[1] - 10  # points of EASI % change
    # the calibration endpoints (weeks 12-16) keep about their size
    assert course[16] == pytest.approx(instant[16], abs=3.0)


def test_psoriasis_placebo_response_builds_over_weeks():
    course = _placebo_course("psoriasis")
    instant = _placebo_course("psoriasis", placebo_onset_days_pso=0.0)
    assert course[8] > 5  # the shipped set has a psoriasis placebo response
    assert course[1] < 0.4 * course[8] < instant[1]
    assert course[16] == pytest.approx(instant[16], abs=2.0)


def test_onset_of_zero_is_the_published_instant_switch():
    """With the AD time constant 0 and the vehicle on, the cores' equations are Miyano's
    and Shmarov's with PLAC = 1; with the shipped time constant a vehicle just switched
    on (onset state 0) leaves them as without it."""
    model, core = build(), build(modules=())
    for seed in range(2):
        knocked = core_point(model, seed, PLAC=1.0, placebo_onset_days=0.0)
        assert_core_equations_unchanged(model, knocked)
        fresh = core_point(model, seed, PLAC=1.0)
        off = {**fresh, sp.Symbol("PLAC", real=True): 0.0}
        for k, name in enumerate(core.state_names):
            ref = float(core.rhs[k].xreplace(off))
            got = float(model.rhs[model.state_index(name)].xreplace(fresh))
            assert got == pytest.approx(ref, rel=1e-12, abs=1e-12), name
        # and the onset state heads for the switch at 1 / time constant
        rate = model.rhs[model.state_index("placebo_onset_ad")].xreplace(fresh)
        assert float(rate) == pytest.approx(1.0 / model.parameter("placebo_onset_days").value)


def test_onset_parameters_have_units_and_sources():
    model = build()
    for name in ("placebo_onset_days", "placebo_onset_days_pso"):
        par = model.parameter(name)
        assert par.unit == "day"
        assert par.source.startswith("assumed: ") and len(par.source) > 60
        assert par.value > 0 and par.lower == 0
